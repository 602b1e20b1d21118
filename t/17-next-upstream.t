# qocr_next_upstream and qocr_next_upstream_tries over upstream{} blocks: a
# refused server is skipped with the body intact (in memory and in a temp
# file); all servers down is a 502 after the given number of tries; rate
# limiting (code 15) is retried only with http_429; HTTP 5xx only with
# http_5xx; time-outs only with timeout; "off" never retries.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $good = $t->fake;
my $limited = $t->fake(name => 'limited', always => 'rcode=15');
my $failing = $t->fake(name => 'failing', always => 'fault=http500');
my $slow = $t->fake(name => 'slow', always => 'delay=3');
my @dead = map { QocrTest::dead_port() } 1 .. 3;

# the first server is the failing one; the good one is a backup, tried
# only when the first failed

sub backend {
    my ($name, $first) = @_;
    return "    upstream $name {\n"
           . "        server 127.0.0.1:$first max_fails=0;\n"
           . "        server 127.0.0.1:$good backup;\n    }\n";
}

sub loc {
    my ($path, $backend, @extra) = @_;
    return $t->qocr_location(path => $path, pass => "http://$backend",
                             extra => join '', map { "            $_;\n" }
                                                   'qocr_max_image_size 300k',
                                                   @extra);
}

$t->start(backend('refusing', $dead[0])
    . backend('limited', $limited) . backend('failing', $failing)
    . backend('slow', $slow)
    . "    upstream all_down {\n"
    . join("", map { "        server 127.0.0.1:$_ max_fails=0;\n" } @dead)
    . "    }\n"
    . $t->server(
        loc('/refused', 'refusing')
        . loc('/refused-off', 'refusing', 'qocr_next_upstream off')
        . loc('/down2', 'all_down')
        . loc('/down3', 'all_down', 'qocr_next_upstream_tries 3')
        . loc('/429', 'limited')
        . loc('/429-retry', 'limited', 'qocr_next_upstream error http_429')
        . loc('/5xx', 'failing')
        . loc('/5xx-retry', 'failing', 'qocr_next_upstream error http_5xx')
        . loc('/timeout', 'slow', 'qocr_read_timeout 1s')
        . loc('/timeout-retry', 'slow', 'qocr_read_timeout 1s',
              'qocr_next_upstream error timeout'),
        '        client_body_buffer_size 4k;'));

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

# a refused server: the next one gets the request, its images intact

for my $case (['in memory', [ map { ["s$_.jpg", jpeg(name => "S$_")] } 1 .. 2 ]],
              ['in a temp file',
               [ map { ["l$_.jpg", jpeg(name => "L$_") . ("\xab" x 100000)] }
                 1 .. 2 ]])
{
    my ($name, $images) = @$case;

    $t->clear_records;
    my $r = post('/refused', @$images);
    is($r->{status}, 200, "refused, $name: 200 through the next server")
        or diag($r->{raw});

    my ($rec) = $t->records;
    my $body = QocrTest::parse_recorded($rec)->{body};
    ok((index($body, "\r\n\r\n$images->[0][1]\r\n--") >= 0
        && index($body, "\r\n\r\n$images->[1][1]\r\n--") >= 0),
       "refused, $name: both images reach the next server byte for byte");
}

my $r = post('/refused-off', ['a.jpg', jpeg()]);
is($r->{status}, 502, 'qocr_next_upstream off: 502');
is($r->{json}{error}{code}, 'upstream_unavailable',
   'qocr_next_upstream off: upstream_unavailable');

# all down: as many tries as configured

for my $case (['/down2', 2], ['/down3', 3]) {
    my ($path, $tries) = @$case;
    my $before = () = $t->error_log =~ /connect\(\) failed/g;

    $r = post($path, ['a.jpg', jpeg()]);
    is($r->{status}, 502, "all down, $tries tries: 502");
    is($r->{json}{error}{code}, 'upstream_unavailable',
       "all down, $tries tries: upstream_unavailable");

    my $after = () = $t->error_log =~ /connect\(\) failed/g;
    is($after - $before, $tries, "all down: $tries servers tried");
}

# rate limiting

$t->clear_records;
$t->clear_records('limited');

$r = post('/429', ['a.jpg', jpeg(name => 'R')]);
is($r->{status}, 429, 'code 15 without http_429: 429');
is($r->{json}{error}{code}, 'rate_limited', '... rate_limited');
is(scalar $t->records, 0, '... the next server was not tried');

$r = post('/429-retry', ['a.jpg', jpeg(name => 'R')]);
is($r->{status}, 200, 'code 15 with http_429: 200 from the next server')
    or diag($r->{raw});
is($r->{json}{results}[0]{fields}{name}{value}, 'R', '... its result');
is(scalar $t->records('limited'), 2, '... the limited server was asked');
like($t->error_log, qr/\[warn\] .*qocr: the OCR service is rate limiting/,
     '... and the retry is logged');

# HTTP 5xx

$r = post('/5xx', ['a.jpg', jpeg()]);
is($r->{status}, 502, 'HTTP 500 without http_5xx: 502');
is($r->{json}{error}{code}, 'upstream_error', '... upstream_error');

$r = post('/5xx-retry', ['a.jpg', jpeg(name => 'F')]);
is($r->{status}, 200, 'HTTP 500 with http_5xx: 200 from the next server');
is($r->{json}{results}[0]{fields}{name}{value}, 'F', '... its result');

# time-outs

$r = post('/timeout', ['a.jpg', jpeg()]);
is($r->{status}, 504, 'a time-out without "timeout": 504');
is($r->{json}{error}{code}, 'upstream_timeout', '... upstream_timeout');

$r = post('/timeout-retry', ['a.jpg', jpeg(name => 'T')]);
is($r->{status}, 200, 'a time-out with "timeout": 200 from the next server');
is($r->{json}{results}[0]{fields}{name}{value}, 'T', '... its result');

$t->done;
