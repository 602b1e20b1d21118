# What a hostile client and a misbehaving OCR service must not break, both
# APIs: strict UTF-8 in every answer and upstream request, a read timeout
# between reads (not for the whole reply), the client's Content-Type left
# as it came, HTTP/1.0 replies not kept alive, interim 1xx replies skipped,
# only integer codes, NUL and empty hosts refused.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use JSON::PP;
use MIME::Base64 ();
use Time::HiRes qw(time sleep);
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake;
my $fake3 = $t->fake(v3 => 1, name => 'v3');
my $old = $t->fake(name => 'old', always => 'fault=http10');
my $old3 = $t->fake(v3 => 1, name => 'old3', always => 'fault=http10');
my $dir = $t->dir;
my ($appid, $bucket) = ($QocrTest::APPID, $QocrTest::BUCKET);
my ($id, $key) = ($QocrTest::SECRET_ID, $QocrTest::SECRET_KEY);

$t->start(<<"EOF" . $t->server(<<"EOF2", "        access_log $dir/logs/ct.log ct;"));
    log_format ct escape=none '\$content_type|\$http_content_type';

    upstream old {
        server 127.0.0.1:$old;
        keepalive 4;
    }

    upstream old3 {
        server 127.0.0.1:$old3;
        keepalive 4;
    }

    server {
        listen unix:$dir/ocr.sock;

        location / {
            proxy_pass http://127.0.0.1:$fake;
            proxy_set_header Host \$http_host;
            proxy_http_version 1.1;
        }
    }
EOF
        qocr_secret_id $id;
        qocr_secret_key $key;
        qocr_appid $appid;
        qocr_bucket $bucket;
        qocr_read_timeout 2s;

        location = /legacy {
            qocr namecard;
            qocr_pass http://127.0.0.1:$fake/ocr/namecard;
        }

        location = /v3 {
            qocr namecard;
            qocr_api v3;
            qocr_pass http://127.0.0.1:$fake3;
        }

        location = /legacy-old {
            qocr namecard;
            qocr_pass http://old/ocr/namecard;
        }

        location = /legacy-image {
            qocr namecard;
            qocr_return_image on;
            qocr_pass http://127.0.0.1:$fake/ocr/namecard;
        }

        location = /v3-image {
            qocr namecard;
            qocr_api v3;
            qocr_return_image on;
            qocr_pass http://127.0.0.1:$fake3;
        }

        location = /unix {
            qocr namecard;
            qocr_pass http://unix:$dir/ocr.sock:/ocr/namecard;
        }

        location = /v3-old {
            qocr namecard;
            qocr_api v3;
            qocr_pass http://old3;
        }
EOF2

my $json = JSON::PP->new->utf8->canonical;

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

sub strict_utf8 {
    my ($bytes) = @_;
    my $copy = $bytes;
    return utf8::decode($copy) && $copy !~ /[\x{d800}-\x{dfff}]/;
}

# 1. strict UTF-8: filenames, URLs, the service's strings

for my $path ('/legacy', '/v3') {
    for my $bad ("\xc3\xc3", "\xc3\xc0", "\xe4\xff\xff", "\xed\xa0\x80",
                 "\xc0\xaf", "\xf4\x90\x80\x80")
    {
        my $r = post($path, ["a${bad}b.jpg", jpeg(name => 'A')]);
        my $hex = unpack('H*', $bad);
        is($r->{status}, 200, "$path: filename with $hex: 200");
        ok(strict_utf8($r->{body}), "$path: ... the answer is strict UTF-8");
        like($r->{json}{results}[0]{source} // '', qr/^a\?+b\.jpg$/,
             "$path: ... the bad bytes are \"?\"");
    }

    $t->clear_records;
    $t->clear_records('v3');

    for my $bad ("\xc3\xc3", "\xed\xa0\x80", "\xe4\xff\xff") {
        my $r = $t->request(path => $path, type => 'application/json',
                            body => '{"url":"https://a.example/' . $bad
                                    . '.jpg"}');
        is($r->{status}, 400, "$path: a URL with " . unpack('H*', $bad)
                              . ': 400');
        is($r->{json}{error}{code}, 'bad_request', '... bad_request');
    }

    for my $u ('http://a.example/b\\u0000evil', 'http://@/x',
               'https://user@/x', 'http://:80/x')
    {
        my $r = $t->request(path => $path, type => 'application/json',
                            body => qq({"url":"$u"}));
        is($r->{status}, 400, "$path: URL $u: 400");
    }

    is(scalar($t->records) + scalar($t->records('v3')), 0,
       "$path: none of them went upstream");

    my $r = post($path, ['a.jpg', jpeg(name => 'Alice', badutf8 => 1)]);
    ok(strict_utf8($r->{body}), "$path: a reply that is not UTF-8: the "
                                . 'answer is strict UTF-8');
    is($r->{status}, 502, "$path: ... 502");
    is($r->{json}{error}{code}, 'upstream_error', '... upstream_error');

    $r = post($path, ['a.jpg', jpeg(name => 'Alice', nul => 1)]);
    is($r->{json}{error}{code}, 'upstream_error',
       "$path: a NUL in the service's string: upstream_error, not cut");
}

# 2. qocr_read_timeout 2s between reads: a body trickling in over 3 s

for my $path ('/legacy', '/v3') {
    for my $framing ('length', 'chunked') {
        my $start = time;
        my $r = post($path, ['a.jpg', jpeg(name => 'T', trickle => 3,
                                            $framing eq 'chunked'
                                            ? (fault => 'chunked') : ())]);
        is($r->{status}, 200, "$path: a reply over 3 s, $framing: 200")
            or diag($r->{body});
        is($r->{json}{results}[0]{fields}{name}{value}, 'T', '... read');
        ok(time - $start >= 2.5, '... it did take that long');
    }

    my $r = post($path, ['a.jpg', jpeg(delay => 2.5)]);
    is($r->{status}, 504, "$path: nothing for 2.5 s: 504");
}

# 3. the client's Content-Type is left as it came

my $img = jpeg(name => 'Q');
my $b = 'a\\bc';      # the quoted pair \b stands for b: boundary abc
my $body = "--abc\r\nContent-Disposition: form-data; name=\"f\"; "
           . "filename=\"q.jpg\"\r\n\r\n$img\r\n--abc--\r\n";
my $r = $t->request(path => '/legacy',
                    type => qq(multipart/form-data; boundary="$b"),
                    body => $body);
is($r->{status}, 200, 'a quoted boundary with a quoted pair: 200');
sleep 0.2;
my ($line) = grep { /boundary="a/ } split /\n/, do {
    local $/; open my $fh, '<', "$dir/logs/ct.log" or die $!; <$fh> };
is($line, qq(multipart/form-data; boundary="$b"|)
          . qq(multipart/form-data; boundary="$b"),
   '$content_type and $http_content_type unchanged');

# 4. HTTP/1.0 replies are not kept alive

for my $c (['/legacy-old', 'old'], ['/v3-old', 'old3']) {
    my ($path, $name) = @$c;
    $t->clear_records($name);
    post($path, ['a.jpg', jpeg()]) for 1 .. 5;
    my %conns = map { $_ => 1 } $t->connections($name);
    is(scalar keys %conns, 5, "$path: five HTTP/1.0 replies, five "
                              . 'connections');
}

# 5. interim 1xx replies are skipped

for my $path ('/legacy', '/v3') {
    $r = post($path, ['a.jpg', jpeg(name => 'I', fault => 'interim')]);
    is($r->{status}, 200, "$path: 100 and 103 before the reply: 200");
    is($r->{json}{results}[0]{fields}{name}{value}, 'I', '... read');
}

# 6. the service's code must be a JSON integer

for my $code ('0.5', '" 7abc"', '"0"', 'true', '1e300') {
    $r = post('/legacy', ['a.jpg', jpeg(name => 'C', rawcode => $code)]);
    is($r->{status}, 502, "legacy: \"code\":$code: 502");
    is($r->{json}{error}{code}, 'upstream_error', '... upstream_error');
}

$r = post('/legacy', ['a.jpg', jpeg(name => 'C', rawcode => '0')]);
is($r->{status}, 200, 'legacy: "code":0: 200');

# long strings (returned images) go through uncopied, "\/" undone

for my $c (['/legacy-image', 'image'], ['/v3-image', 'image']) {
    my ($path, $key) = @$c;

    for my $slashes (0, 1) {
        my $big = jpeg(name => 'Big', _size => 300 * 1024,
                       ($slashes ? (slashes => 1) : ()));
        $big .= join '', map { chr(($_ * 7 + 3) % 256) } 1 .. 4096;
        $r = post($path, ['big.jpg', $big]);
        is($r->{status}, 200, "$path: a 300 kB image returned"
                              . ($slashes ? ', "/" sent as "\\/"' : ''));
        is($r->{json}{results}[0]{image}, MIME::Base64::encode_base64($big, ''),
           '... byte for byte');
        is($r->{json}{results}[0]{fields}{name}{value}, 'Big',
           '... beside the fields');
        is($r->{headers}{'content-length'}, length $r->{body},
           '... Content-Length exact');
    }
}

# a unix socket has no host name: Host: localhost, as proxy_pass sends

$t->clear_records;
$r = post('/unix', ['a.jpg', jpeg(name => 'U')]);
is($r->{status}, 200, 'qocr_pass http://unix:...: 200');
is(QocrTest::parse_recorded(($t->records)[0])->{headers}{host}, 'localhost',
   '... Host: localhost');

$t->done;
