# A misbehaving or absent OCR service: the client always gets the JSON of
# contract section 5, with the status of the error table, and the worker
# lives on.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;
use Time::HiRes qw(time);

my $t = QocrTest->new;
my $dead = QocrTest::dead_port();

$t->start($t->server(
    $t->qocr_location(extra => "            qocr_read_timeout 1s;\n"
                               . "            qocr_max_response_size 64k;")
    . $t->qocr_location(path => '/down',
                        pass => "http://127.0.0.1:$dead")));

sub error_is {
    my ($r, $status, $code, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'content-type'}, 'application/json', "$name: JSON");
    is($r->{json}{error}{code}, $code, "$name: $code")
        or diag($r->{raw});
}

my $r = $t->request(path => '/down', type => 'image/jpeg', body => jpeg());
error_is($r, 502, 'upstream_unavailable', 'the service is down');
like($t->error_log, qr/connect\(\) failed \(111: Connection refused\)/,
     '... nginx logs why');

my $t0 = time;
$r = $t->post_images(['slow.jpg', jpeg(delay => 3)]);
error_is($r, 504, 'upstream_timeout', 'slower than qocr_read_timeout');
cmp_ok(time - $t0, '<', 2.5, '... answered at the time-out, not after');

error_is($t->post_images(['a.jpg', jpeg(fault => 'nonjson')]), 502,
         'upstream_error', 'a reply that is not JSON');
like($t->error_log, qr/\[error\].*the OCR service's reply is not JSON/,
     '... logged');

error_is($t->post_images(['a.jpg', jpeg(fault => 'truncate')]), 502,
         'upstream_error', 'a truncated reply');

error_is($t->post_images(['a.jpg', jpeg(fault => 'huge')]), 502,
         'upstream_error', 'a reply over qocr_max_response_size');
like($t->error_log, qr/larger than qocr_max_response_size 65536/,
     '... logged with the limit');

error_is($t->post_images(['a.jpg', jpeg(fault => 'http500')]), 502,
         'upstream_error', 'HTTP 500 with an HTML page');

$r = $t->post_images(['a.jpg', jpeg(fault => 'http500json')]);
error_is($r, 502, 'upstream_error', 'HTTP 500 with the service\'s JSON');
is($r->{json}{error}{upstream_code}, 202, '... its code is read');

error_is($t->post_images(['a.jpg', jpeg(fault => 'reset')]), 502,
         'upstream_unavailable', 'the connection reset');

error_is($t->post_images(['a.jpg', jpeg(fault => 'badstatus')]), 502,
         'upstream_error', 'an invalid status line');

# replies that are fine in other framings

$r = $t->post_images(['a.jpg', jpeg(name => 'Chunky', fault => 'chunked')]);
is($r->{status}, 200, 'a chunked reply: 200');
is($r->{json}{results}[0]{fields}{name}{value}, 'Chunky', '... read whole');

$r = $t->post_images(['a.jpg', jpeg(name => 'Closer', fault => 'close')]);
is($r->{status}, 200, 'a reply ended by closing: 200');
is($r->{json}{results}[0]{fields}{name}{value}, 'Closer', '... read whole');

# and the worker still answers

$r = $t->post_images(['a.jpg', jpeg(name => 'Alive')]);
is($r->{json}{results}[0]{fields}{name}{value}, 'Alive',
   'the worker still answers');

$t->done;
