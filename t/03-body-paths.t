# The client body wherever nginx keeps it: in memory, in a client temp file
# (larger than client_body_buffer_size), sent chunked, or over HTTP/2.  The
# OCR service receives the same bytes every way.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $loc = $t->qocr_location(extra => '            qocr_max_image_size 300k;');

$t->start($t->server($loc, '        client_body_buffer_size 1k;'
                           . "\n        client_max_body_size 10m;")
          . "    server {\n        listen 127.0.0.1:%%PORT2%% http2;\n"
          . "        client_body_buffer_size 1k;\n$loc    }\n");

# images larger than the buffer, with bytes that look like boundaries

my @imgs = map {
    jpeg(name => "Big$_") . ("\r\n--" . ('x' x 30) . "\r\n" . chr($_) x 997)
                            x (60 + $_)
} 1 .. 3;

my ($type, $body) = multipart(map { ['file', "big$_.jpg", $imgs[$_ - 1]] }
                              1 .. 3);
cmp_ok(length $body, '>', 150_000, 'a body of ' . length($body) . ' bytes');

sub upstream_images {
    my @rec = $t->records;
    my $u = QocrTest::parse_recorded($rec[-1]);
    my ($b) = $u->{headers}{'content-type'} =~ /boundary=(\S+)/;
    my @parts = split /\r\n--\Q$b\E(?:--)?\r\n/, "\r\n" . $u->{body};
    return [ map { /\r\n\r\n(.*)\z/s ? $1 : () } grep { /filename=/ } @parts ];
}

my $r = $t->request(type => $type, body => $body);
is($r->{status}, 200, 'a body in a temp file: 200') or diag($r->{body});
is_deeply([ map { $_->{fields}{name}{value} } @{ $r->{json}{results} } ],
          [qw(Big1 Big2 Big3)], '... three results');
like($t->error_log, qr/a client request body is buffered to a temporary file/,
     '... nginx did spill it to a temp file');
ok(upstream_images()->[$_] eq $imgs[$_], "... image $_ reached upstream intact")
    for 0 .. 2;

# chunked

$t->clear_records;
$r = $t->request(type => $type, body => $body, chunked => 1);
is($r->{status}, 200, 'a chunked upload: 200') or diag($r->{body});
is_deeply([ map { $_->{fields}{name}{value} } @{ $r->{json}{results} } ],
          [qw(Big1 Big2 Big3)], '... three results');
ok(upstream_images()->[$_] eq $imgs[$_], "... image $_ intact") for 0 .. 2;

# small and chunked: in memory

$t->clear_records;
($type, my $small) = multipart(['file', 's.jpg', jpeg(name => 'Small')]);
$r = $t->request(type => $type, body => $small, chunked => 1);
is($r->{json}{results}[0]{fields}{name}{value}, 'Small',
   'a small chunked upload');

# HTTP/2, with curl

SKIP: {
    skip 'curl is not installed', 4 if system('curl --version >/dev/null 2>&1');

    my $f = $t->dir . '/upload.jpg';
    open my $fh, '>', $f or die $!;
    binmode $fh;
    print $fh $imgs[0];
    close $fh;

    $t->clear_records;
    my $out = `curl -s --http2-prior-knowledge -w '\\n%{http_version} %{http_code}' -F 'photo=\@$f;filename=h2.jpg' -F 'note=x' http://127.0.0.1:${\ $t->port2 }/ocr/namecard`;
    my ($json, $ver) = $out =~ /\A(.*)\n(\S+ \d+)\z/s;
    is($ver, '2 200', 'an HTTP/2 upload: 200 over HTTP/2');
    my $j = eval { JSON::PP->new->utf8->decode($json) } || {};
    is($j->{results}[0]{fields}{name}{value}, 'Big1', '... recognized');
    is($j->{results}[0]{source}, 'h2.jpg', '... with curl\'s filename');
    ok(upstream_images()->[0] eq $imgs[0], '... intact upstream');
}

$t->done;
