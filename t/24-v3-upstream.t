# API 3.0: every call of a batch is a full upstream call of its own.  The
# image goes out exactly when the client body is in a temp file, chunked or
# over HTTP/2; TLS is verified with SNI; upstream{} keepalive pools the calls'
# connections; qocr_next_upstream retries a call with the same bytes; a client
# that goes away closes the calls in flight and leaks nothing; a reload picks
# up a rotated token without dropping the calls in flight and never logs it;
# qocr_parallel makes a batch as fast as its rounds.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha512);
use File::Path qw(make_path);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use QocrTest;

my $t = QocrTest->new;
my $dir = $t->dir;
my $slow = QocrTest::slow();
my ($id, $key) = ($QocrTest::SECRET_ID, $QocrTest::SECRET_KEY);

# the fakes: one per case, so that records and connections are the case's

my $body_fake = $t->fake(v3 => 1, name => 'body');
my $speed_fake = $t->fake(v3 => 1, name => 'speed');
my $abort_fake = $t->fake(v3 => 1, name => 'abort');

my %certs = $t->make_certs('v3');
my $tls_fake = $t->fake(v3 => 1, name => 'tls',
                        tls => "$certs{cert}:$certs{key}");
# the failing TLS location talks to a server of its own: a session resumed
# from a verified connection would not be verified again
my $tls2_fake = $t->fake(v3 => 1, name => 'tls2',
                         tls => "$certs{cert}:$certs{key}");

my $ka_fake = $t->fake(v3 => 1, name => 'ka');

my $bad_fake = $t->fake(v3 => 1, name => 'bad', always => 'fault=http503');
my $limited_fake = $t->fake(v3 => 1, name => 'limited',
                            always => 'error=RequestLimitExceeded');
my $good_fake = $t->fake(v3 => 1, name => 'good');

# temporary credentials: the token rotates, the id and key stay

my ($tid, $tkey) = ('AKIDtemporarySecretId000000000001',
                    'temporarySecretKey000000000000001');
my $token1 = 'tokenOne' . ('1' x 40);
my $token2 = 'tokenTwo' . ('2' x 40);
my $tok_fake = $t->fake(v3 => 1, name => 'tok',
                        secrets => [ "$tid:$tkey:$token1" ]);
my $tok_fake_pid = $t->{pids}[-1];

sub credentials {
    my ($token) = @_;
    open my $fh, '>', "$dir/conf/tok.secret.new" or die $!;
    print $fh "# temporary credentials\nsecret_id $tid\n"
              . "secret_key = $tkey\ntoken: $token\n";
    close $fh;
    chmod 0600, "$dir/conf/tok.secret.new";
    rename "$dir/conf/tok.secret.new", "$dir/conf/tok.secret" or die $!;
}

credentials($token1);

sub loc {
    my ($path, $pass, @extra) = @_;
    return "        location = $path {\n"
           . "            qocr namecard;\n"
           . "            qocr_pass $pass;\n"
           . join('', map { "            $_;\n" } @extra)
           . "        }\n";
}

my $body_loc = loc('/body', "http://127.0.0.1:$body_fake",
                   'client_body_buffer_size 1k');

$t->start(<<"EOF"
    qocr_api v3;
    qocr_secret_id $id;
    qocr_secret_key $key;
    client_max_body_size 10m;

    upstream speed_pool {
        server 127.0.0.1:$speed_fake;
        keepalive 4;
    }

    upstream ka_pool {
        server 127.0.0.1:$ka_fake;
        keepalive 4;
    }

    upstream nu_5xx {
        server 127.0.0.1:$bad_fake max_fails=0;
        server 127.0.0.1:$good_fake backup;
    }

    upstream nu_429 {
        server 127.0.0.1:$limited_fake max_fails=0;
        server 127.0.0.1:$good_fake backup;
    }

EOF
    . $t->server($body_loc
        . loc('/speed', 'http://speed_pool', 'qocr_parallel 4')
        . loc('/abort', "http://127.0.0.1:$abort_fake", 'qocr_parallel 2',
              'client_body_buffer_size 1k')
        . loc('/tls', "https://127.0.0.1:$tls_fake", 'qocr_ssl_name ocr.test',
              "qocr_ssl_trusted_certificate $certs{ca}")
        . loc('/tls-system', "https://127.0.0.1:$tls2_fake",
              'qocr_ssl_name ocr.test')
        . loc('/ka1', 'http://ka_pool', 'qocr_parallel 1')
        . loc('/ka4', 'http://ka_pool', 'qocr_parallel 4')
        . loc('/noka', "http://127.0.0.1:$ka_fake", 'qocr_parallel 1')
        . loc('/nu-5xx', 'http://nu_5xx',
              'qocr_next_upstream error timeout http_5xx')
        . loc('/nu-off', 'http://nu_5xx', 'qocr_next_upstream off')
        . loc('/nu-429', 'http://nu_429', 'qocr_next_upstream error http_429')
        . loc('/nu-429-no', 'http://nu_429')
        . loc('/rotate', "http://127.0.0.1:$tok_fake",
              'qocr_credentials tok.secret'))
    . "    server {\n        listen 127.0.0.1:%%PORT2%% http2;\n"
    . "        server_name localhost;\n$body_loc    }\n");

my $master = $t->{nginx_pid};
my $worker = $t->worker_pid;
ok($worker, "the worker: $worker");

# helpers

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

sub names {
    my ($r) = @_;
    return [ map { $_->{ok} ? $_->{fields}{name}{value}
                            : 'error:' . ($_->{error}{code} // '?') }
             @{ $r->{json}{results} // [] } ];
}

sub calls {
    my ($name) = @_;
    return map { QocrTest::parse_recorded($_) } $t->records($name);
}

sub distinct { my %h = map { $_ => 1 } @_; return scalar keys %h }

sub b64_body { return '{"ImageBase64":"' . encode_base64($_[0], '') . '"}' }

# bytes that look like nothing in particular (and now and then like a
# multipart boundary), the same every run

sub noise {
    my ($n, $seed) = @_;
    my $out = '';
    my $i = 0;

    while (length $out < $n) {
        $out .= sha512("$seed:" . $i++);
        $out .= "\r\n--" if $i % 97 == 0;
    }

    return substr($out, 0, $n);
}

sub image {
    my ($size, %m) = @_;
    my $head = jpeg(%m);
    return $head . noise($size - length $head, join ',', %m);
}

sub wait_for {
    my ($cond, $seconds) = @_;
    my $deadline = time + ($seconds // 5) * $slow;

    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.05;
    }

    return $cond->() ? 1 : 0;
}

# a request sent on a connection of its own; its answer read later

sub send_request {
    my ($path, $type, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die "connect: $!";
    binmode $s;

    my $req = "POST $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
              . "Content-Type: $type\r\nContent-Length: " . length($body)
              . "\r\n\r\n$body";
    my $off = 0;

    while ($off < length $req) {
        my $n = syswrite($s, $req, 65536, $off);
        die "write: $!" unless defined $n;
        $off += $n;
    }

    return $s;
}

sub read_response {
    my ($s, $seconds) = @_;
    my $sel = IO::Select->new($s);
    my $deadline = time + $seconds * $slow;
    my $resp = '';

    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($s, $resp, 65536, length $resp);
        last unless $n;
    }

    close $s;

    return QocrTest::parse_response($resp);
}

# the worker's open files; its client body temp files (unlinked as soon as
# made: seen among its open files, and on disk if one were left behind)

sub fds {
    opendir my $d, "/proc/$worker/fd" or return -1;
    return scalar grep { !/^\./ } readdir $d;
}

sub temp_files {
    my @open = grep { (readlink($_) // '') =~ m{/client_body_temp/} }
               glob("/proc/$worker/fd/*");
    my @disk = grep { -f } glob("$dir/client_body_temp/*");
    return @open + @disk;
}

sub settle {
    my ($want) = @_;
    return wait_for(sub { fds() == $want && temp_files() == 0 }, 5);
}

# TCP connections to a port still established (nginx's side of its calls)

sub established_to {
    my ($port) = @_;
    my $n = 0;

    open my $fh, '<', '/proc/net/tcp' or return -1;

    while (<$fh>) {
        my (undef, undef, $rem, $st) = split ' ';
        next unless defined $st && $rem =~ /:([0-9A-F]{4})$/;
        $n++ if hex($1) == $port && $st eq '01';
    }

    return $n;
}

# a socket listening on a port (the fake's children keep its listening
# socket until they are gone)

sub listening_on {
    my ($port) = @_;

    open my $fh, '<', '/proc/net/tcp' or return 0;

    while (<$fh>) {
        my (undef, $local, undef, $st) = split ' ';
        return 1 if defined $st && $st eq '0A' && $local =~ /:([0-9A-F]{4})$/
                    && hex($1) == $port;
    }

    return 0;
}

sub count_in_log {
    my ($re, $from) = @_;
    my @m = substr($t->error_log, $from // 0) =~ /$re/g;
    return scalar @m;
}


###############################################################################
# 1. where the client body is: a temp file, chunked, HTTP/2

{
    my @imgs = map { image(40_000, name => "T$_") } 1 .. 3;
    my ($type, $body) = multipart(map { ['file', "t$_.jpg", $imgs[$_ - 1]] }
                                  1 .. 3);

    my $spilled = qr/a client request body is buffered to a temporary file/;
    my $spills = count_in_log($spilled);

    my $check = sub {
        my ($what, $want) = @_;
        my @c = calls('body');

        is(count_in_log($spilled) - $spills, 1,
           "$what: the body went to a temp file");
        $spills = count_in_log($spilled);

        is(scalar @c, scalar @$want, "$what: one call per image, nothing else");
        is_deeply([ sort map { $_->{body} } @c ],
                  [ sort map { b64_body($_) } @$want ],
                  "$what: each call carries exactly the image's base64");
        is_deeply([ map { $_->{headers}{'content-length'} } @c ],
                  [ map { length $_->{body} } @c ],
                  "$what: Content-Length is exact");
        is_deeply([ map { $_->{headers}{authorization} } @c ],
                  [ map { scalar QocrTest::tc3_sign(
                              timestamp => $_->{headers}{'x-tc-timestamp'},
                              host => "127.0.0.1:$body_fake",
                              body => $_->{body}) } @c ],
                  "$what: each signed over its own body");
    };

    $t->clear_records('body');
    my $r = $t->request(path => '/body', type => $type, body => $body);
    is($r->{status}, 200, 'three images of 40 kB, body in a temp file: 200')
        or diag($r->{raw});
    is_deeply(names($r), [qw(T1 T2 T3)], '... results in input order');
    $check->('temp file', \@imgs);

    $t->clear_records('body');
    $r = $t->request(path => '/body', type => $type, body => $body,
                     chunked => 1);
    is($r->{status}, 200, 'the same body chunked: 200') or diag($r->{raw});
    is_deeply(names($r), [qw(T1 T2 T3)], '... results in input order');
    $check->('chunked', \@imgs);

    my $raw = image(200_000, name => 'Raw');
    $t->clear_records('body');
    $r = $t->request(path => '/body', type => 'image/jpeg', body => $raw);
    is($r->{status}, 200, 'a raw 200 kB JPEG body: 200') or diag($r->{raw});
    is_deeply(names($r), ['Raw'], '... its result');
    ok(exists $r->{json}{results}[0]{source}
       && !defined $r->{json}{results}[0]{source}, '... source null');
    $check->('raw body', [$raw]);

    $t->clear_records('body');
    $r = $t->request(path => '/body', type => 'image/jpeg', body => $raw,
                     chunked => 1);
    is($r->{status}, 200, 'the raw body chunked: 200');
    $check->('raw body chunked', [$raw]);

  SKIP: {
        skip 'curl is not installed', 8
            if system('curl --version >/dev/null 2>&1');

        my @f;

        for my $i (1 .. 3) {
            my $f = "$dir/upload$i.jpg";
            open my $fh, '>', $f or die $!;
            binmode $fh;
            print $fh $imgs[$i - 1];
            close $fh;
            push @f, "-F 'p$i=\@$f;filename=h$i.jpg'";
        }

        $t->clear_records('body');
        my $out = `curl -s --http2-prior-knowledge -w '\\n%{http_version} %{http_code}' -F 'note=x' @f http://127.0.0.1:${\ $t->port2 }/body`;
        my ($json, $ver) = $out =~ /\A(.*)\n(\S+ \d+)\z/s;
        is($ver, '2 200', 'three images over HTTP/2: 200 over HTTP/2')
            or diag($out);
        my $j = eval { JSON::PP->new->utf8->decode($json) } || {};
        is_deeply(names({ json => $j }), [qw(T1 T2 T3)],
                  '... results in input order');
        is_deeply([ map { $_->{source} } @{ $j->{results} // [] } ],
                  [qw(h1.jpg h2.jpg h3.jpg)], '... curl\'s filenames');
        $check->('HTTP/2', \@imgs);
    }
}


###############################################################################
# 7. qocr_parallel 4: twenty calls of 0.2 s take five rounds (over a
# keepalive pool, filled first: the time is the calls', not the fake's
# start of a process per connection)

{
    my $r = post('/speed', map { ["w$_.jpg", jpeg(name => "W$_", delay => 0.1)] }
                               1 .. 4);
    is($r->{status}, 200, 'twenty images: the pool filled first');

    $t->clear_records('speed');
    my $start = time;
    $r = post('/speed', map { ["s$_.jpg", jpeg(name => "S$_", delay => 0.2)] }
                               1 .. 20);
    my $took = time - $start;

    is($r->{status}, 200, 'twenty images, 0.2 s each, 4 at a time: 200');
    is_deeply(names($r), [ map { "S$_" } 1 .. 20 ], '... in input order');
    is(scalar $t->records('speed'), 20, '... twenty calls');
    is($t->accepts('speed'), 0, '... on pooled connections');
    is($t->max_inflight('speed'), 4, '... 4 in flight at most');
    ok($took >= 0.9 && $took <= 2.5 * $slow,
       sprintf('... in five rounds: %.2f s (0.9 to %.1f s)', $took,
               2.5 * $slow));
}


###############################################################################
# 5. a client that goes away mid-batch (its body in a temp file)

{
    my $delay = 2 * ($ENV{QOCR_VALGRIND} ? 3 : 1);

    my $r = post('/abort', ['w.jpg', image(3000, name => 'Warm')]);
    is($r->{status}, 200, 'abort: warm-up 200');
    sleep 0.3;
    my $base = fds();
    ok($base > 0, "abort: the worker's open files: $base");

    $t->clear_records('abort');
    my $logged = length $t->error_log;
    my ($type, $body) = multipart(map { ['file', "a$_.jpg",
                                         image(4000, name => "A$_",
                                               delay => $delay)] } 1 .. 6);

    my $start = time;
    my $s = send_request('/abort', $type, $body);

    ok(wait_for(sub { $t->records('abort') >= 2 }, 5),
       'abort: two calls reached the service');
    is(temp_files(), 1, 'abort: the body is in a temp file while they run');
    is(established_to($abort_fake), 2, 'abort: two connections to it');

    sleep 0.5 - (time - $start) if time - $start < 0.5;
    close $s;
    my $closed = time;

    ok(wait_for(sub { established_to($abort_fake) == 0 }, 1),
       'abort: the calls in flight are closed at once');
    ok(time - $closed < $delay - 0.3,
       sprintf('... %.2f s after the client, before they could end',
               time - $closed));
    ok(settle($base), 'abort: file descriptors back, no temp file left')
        or diag('fds: ' . fds() . ", temp files: " . temp_files());

    my $rest = $closed + $delay + 1 - time;
    sleep $rest if $rest > 0;
    my @seen = $t->records('abort');
    ok(@seen <= 2, 'abort: the service saw at most 2 calls, '
                   . scalar(@seen) . ', none after the abort');
    is(established_to($abort_fake), 0, 'abort: no connection to it since');
    ok(settle($base), 'abort: still no fd and no temp file left');
    is(count_in_log(qr/client prematurely closed connection/, $logged), 1,
       'abort: nginx saw the client go');

    $r = post('/abort', ['n.jpg', image(3000, name => 'Next')]);
    is($r->{status}, 200, 'abort: the next request: 200');
    is_deeply(names($r), ['Next'], '... its own result');
}


###############################################################################
# 2. HTTPS with the test CA

{
    my $sni = sub {
        open my $fh, '<', "$dir/record-tls/sni" or return ();
        chomp(my @l = <$fh>);
        return @l;
    };

    $t->clear_records('tls');
    my $r = post('/tls', map { ["t$_.jpg", jpeg(name => "Tls$_")] } 1 .. 3);
    is($r->{status}, 200, 'https, three images: 200') or diag($r->{raw});
    is_deeply(names($r), [qw(Tls1 Tls2 Tls3)], '... results in input order');

    my @c = calls('tls');
    is(scalar @c, 3, '... three calls over TLS');
    is_deeply([ map { $_->{headers}{host} } @c ],
              [ ("127.0.0.1:$tls_fake") x 3 ], '... Host of qocr_pass');
    is_deeply([ map { $_->{headers}{authorization} } @c ],
              [ map { scalar QocrTest::tc3_sign(
                          timestamp => $_->{headers}{'x-tc-timestamp'},
                          host => "127.0.0.1:$tls_fake",
                          body => $_->{body}) } @c ],
              '... each signed');

    my @lines = $sni->();
    is(scalar @lines, 3, '... three TLS connections');
    is_deeply([ map { (split ' ')[1] } @lines ], [ ('ocr.test') x 3 ],
              '... each with SNI ocr.test (qocr_ssl_name)');

    $r = post('/tls', ['u.jpg', jpeg(name => 'Again')]);
    is_deeply(names($r), ['Again'], 'https, a later call: its result');
    like(($sni->())[-1], qr/ reused=1$/, '... on a resumed TLS session');

    # the system store does not hold the test CA: every call fails

    my $before = count_in_log(qr/\[error\] .*upstream SSL certificate verify error/);

    $r = post('/tls-system', ['a.jpg', jpeg()]);
    is($r->{status}, 502, 'https, no trusted CA, one image: 502')
        or diag($r->{raw});
    is($r->{json}{error}{code}, 'upstream_unavailable',
       '... upstream_unavailable');

    $r = post('/tls-system', map { ["b$_.jpg", jpeg()] } 1 .. 3);
    is($r->{status}, 502, 'https, no trusted CA, three images: 502');
    is($r->{json}{error}{code}, 'upstream_unavailable',
       '... upstream_unavailable');

    is(count_in_log(qr/\[error\] .*upstream SSL certificate verify error/)
       - $before, 4, '... each of the four calls logged the verify error');
    is(scalar $t->records('tls2'), 0, '... and nothing reached the service');
}


###############################################################################
# 4. qocr_next_upstream: each call retried on the next server, same bytes

{
    my $retried = sub {
        my ($what, $first) = @_;
        my @a = sort $t->records($first);
        my @b = sort $t->records('good');

        is(scalar @a, 3, "$what: every call went to the first server");
        is(scalar @b, 3, "$what: every call went to the next server");
        is_deeply(\@b, \@a, "$what: the retries are byte for byte the calls "
                            . '(body, timestamp, Authorization)');
        is_deeply([ sort map { QocrTest::parse_recorded($_)->{body} } @b ],
                  [ sort map { b64_body(jpeg(name => "R$_")) } 1 .. 3 ],
                  "$what: each carrying its image");
    };

    my @imgs = map { ["r$_.jpg", jpeg(name => "R$_")] } 1 .. 3;

    $t->clear_records($_) for qw(bad good);
    my $r = post('/nu-5xx', @imgs);
    is($r->{status}, 200, 'HTTP 503, http_5xx: 200') or diag($r->{raw});
    is_deeply(names($r), [qw(R1 R2 R3)], '... every call succeeded');
    $retried->('http_5xx', 'bad');

    $t->clear_records($_) for qw(bad good);
    $r = post('/nu-off', @imgs);
    is($r->{status}, 502, 'HTTP 503, qocr_next_upstream off: 502')
        or diag($r->{raw});
    is($r->{json}{error}{code}, 'upstream_unavailable',
       '... upstream_unavailable');
    is(scalar $t->records('bad'), 3, '... all three calls were made');
    is(scalar $t->records('good'), 0, '... none went to the next server');

    $r = post('/nu-off', $imgs[0]);
    is($r->{status}, 502, 'HTTP 503, off, one image: 502');
    is($r->{json}{error}{code}, 'upstream_unavailable',
       '... upstream_unavailable');

    my $logged = length $t->error_log;
    $t->clear_records($_) for qw(limited good);
    $r = post('/nu-429', @imgs);
    is($r->{status}, 200, 'RequestLimitExceeded, http_429: 200')
        or diag($r->{raw});
    is_deeply(names($r), [qw(R1 R2 R3)], '... every call succeeded');
    $retried->('http_429', 'limited');
    is(count_in_log(qr/\[warn\] .*qocr: the OCR service is rate limiting, trying the next server/,
                    $logged), 3, '... each retry logged at warn');

    $t->clear_records($_) for qw(limited good);
    $r = post('/nu-429-no', @imgs);
    is($r->{status}, 429, 'RequestLimitExceeded without http_429: 429')
        or diag($r->{raw});
    is($r->{json}{error}{code}, 'rate_limited', '... rate_limited');
    is($r->{headers}{'retry-after'}, '1', '... Retry-After: 1');
    is(scalar $t->records('limited'), 3, '... all three calls were made');
    is(scalar $t->records('good'), 0, '... none went to the next server');
}


###############################################################################
# 3. upstream{} keepalive

{
    my $batch = sub {
        my ($path, $tag, $delay) = @_;
        my $r = post($path, map { ["$tag$_.jpg",
                                   jpeg(name => "$tag$_",
                                        ($delay ? (delay => $delay) : ()))] }
                                1 .. 6);
        is($r->{status}, 200, "$path, six images: 200") or diag($r->{raw});
        is_deeply(names($r), [ map { "$tag$_" } 1 .. 6 ],
                  '... results in input order');
        is(scalar $t->records('ka'), 6, '... six calls');
    };

    $t->clear_records('ka');     # the probe of its start was an accept
    $batch->('/ka1', 'K');
    my @conn = $t->connections('ka');
    is(distinct(@conn), 1, 'keepalive, qocr_parallel 1: one connection '
                           . 'for all six calls');
    is($t->accepts('ka'), 1, '... one accepted by the service');
    ok(!grep({ /\r\nConnection:/i } $t->records('ka')),
       '... HTTP/1.1 keepalive: no "Connection: close" sent');

    $t->clear_records('ka');
    $batch->('/ka4', 'L', 0.3);
    my @conn4 = $t->connections('ka');
    is($t->max_inflight('ka'), 4, 'keepalive, qocr_parallel 4: 4 in flight');
    ok(distinct(@conn4) <= 4, '... at most 4 connections: '
                              . distinct(@conn4));
    ok((grep { $_ == $conn[0] } @conn4),
       '... the pooled connection among them');
    ok($t->accepts('ka') <= 3, '... at most 3 new ones: '
                               . $t->accepts('ka'));

    $t->clear_records('ka');
    $batch->('/ka4', 'M', 0.3);
    ok(distinct($t->connections('ka')) <= 4,
       'keepalive, a second batch: at most 4 connections');
    is($t->accepts('ka'), 0, '... all of them from the pool');

    $t->clear_records('ka');
    $batch->('/noka', 'N');
    is(distinct($t->connections('ka')), 6,
       'no keepalive pool: each call its own connection');
    is($t->accepts('ka'), 6, '... six accepted');
    is(scalar(grep { /\r\nConnection: close\r\n/ } $t->records('ka')), 6,
       '... each with "Connection: close": the service closes first');
}


###############################################################################
# 6. a reload with a rotated token

{
    my $check_call = sub {
        my ($what, $c, $token) = @_;
        $c //= { headers => {}, body => '' };
        $c->{headers}{'x-tc-timestamp'} //= 0;
        is($c->{headers}{'x-tc-token'}, $token, "$what: X-TC-Token");
        is($c->{headers}{authorization},
           scalar QocrTest::tc3_sign(
               timestamp => $c->{headers}{'x-tc-timestamp'},
               host => "127.0.0.1:$tok_fake", body => $c->{body},
               secret_id => $tid, secret_key => $tkey),
           "$what: signed with the temporary key");
    };

    my $r = post('/rotate', ['b.jpg', jpeg(name => 'Before')]);
    is($r->{status}, 200, 'token: before the reload: 200') or diag($r->{raw});
    is_deeply(names($r), ['Before'], '... accepted by the service');
    my @c = calls('tok');
    $check_call->('before the reload', $c[0], $token1);
    is_deeply([ grep { /^X-TC-/ } @{ $c[0]{order} } ],
              [qw(X-TC-Action X-TC-Version X-TC-Timestamp X-TC-Region
                  X-TC-Token)], '... the token after the region');

    # four calls in flight (2 s each) when the token rotates: the file is
    # rewritten and nginx reloaded; they finish with the old token.  Then
    # the service takes only the new one (a new fake on the same port: the
    # old one is stopped once it has no call left, as it stops its
    # children)

    my $delay = 2 * ($ENV{QOCR_VALGRIND} ? 3 : 1);
    my ($type, $body) = multipart(map { ['file', "f$_.jpg", jpeg(name => "F$_",
                                                         delay => $delay)] }
                                  1 .. 4);
    my $s = send_request('/rotate', $type, $body);

    ok(wait_for(sub { $t->records('tok') >= 5 && $t->inflight('tok') == 4 },
                5), 'token: four calls in flight');

    credentials($token2);
    kill 'HUP', $master;

    ok(wait_for(sub { $t->error_log =~ /\b$worker#\d+: gracefully shutting down/ },
                10), 'token: the old worker is shutting down');
    is($t->inflight('tok'), 4, '... with the four calls still in flight');

    $r = read_response($s, 10 + $delay);
    is($r->{status}, 200, 'token: the batch in flight across the reload: 200')
        or diag($r->{raw});
    is_deeply(names($r), [qw(F1 F2 F3 F4)], '... every call succeeded');

    @c = calls('tok');
    is(scalar @c, 5, '... the old service saw them all');
    $check_call->("call $_ before the reload", $c[$_], $token1) for 1 .. 4;

    ok(wait_for(sub { !kill 0, $worker }, 10),
       '... and the old worker exited once its request was done');

    kill 'TERM', $tok_fake_pid;
    waitpid($tok_fake_pid, 0);
    @{ $t->{pids} } = grep { $_ != $tok_fake_pid } @{ $t->{pids} };
    wait_for(sub { !listening_on($tok_fake) }, 5)
        or die 'the old fake still listens';

    make_path("$dir/record-tok2");
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        exec $^X, "$QocrTest::TOP/t/lib/fake-tc3.pl", '--port', $tok_fake,
             '--record', "$dir/record-tok2", '--secret', "$tid:$tkey:$token2";
        die "exec: $!";
    }

    push @{ $t->{pids} }, $pid;
    QocrTest::wait_port($tok_fake, $pid) or die 'the new fake did not start';

    $t->clear_records('tok2');
    $r = post('/rotate', map { ["a$_.jpg", jpeg(name => "After$_")] } 1 .. 3);
    is($r->{status}, 200, 'token: after the reload: 200') or diag($r->{raw});
    is_deeply(names($r), [qw(After1 After2 After3)],
              '... the service took the new token');
    @c = calls('tok2');
    is(scalar @c, 3, '... three calls');
    $check_call->("call $_ after the reload", $c[$_ - 1], $token2) for 1 .. 3;

    my $log = $t->error_log;
    like($log, qr/\[debug\]/, 'the error log is at debug level');
    for my $secret (['the first token', $token1], ['the second token', $token2],
                    ['the temporary key', $tkey], ['the secret key', $key])
    {
        unlike($log, qr/\Q$secret->[1]\E/,
               "$secret->[0] is nowhere in the error log");
    }
}

$t->done;
