# $qocr_kind, $qocr_images, $qocr_upstream_code and $qocr_error in an
# access log, with nginx's $upstream_* variables filled as for proxy: a
# success, an item failure, a request-level failure, a request the module
# refused, and one the OCR service could not be reached for.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake;
my $dead = QocrTest::dead_port();
my $dir = $t->dir;

my $log_format = <<'EOF';
    log_format qocr '$request_uri kind=$qocr_kind images=$qocr_images '
                    'code=$qocr_upstream_code error=$qocr_error '
                    'status=$status ustatus=$upstream_status '
                    'uaddr=$upstream_addr utime=$upstream_response_time';
EOF

$t->start($log_format . $t->server(
    $t->qocr_location
    . $t->qocr_location(path => '/down', pass => "http://127.0.0.1:$dead")
    . "        location = /plain { return 200 'plain'; }\n",
    "        access_log $dir/logs/qocr.log qocr;"));

$t->post_images(['a.jpg', jpeg(name => 'A')], ['b.jpg', jpeg(name => 'B')]);
$t->post_images(['a.jpg', jpeg()], ['b.jpg', jpeg(code => -1404)],
                ['c.jpg', jpeg(code => -1102)]);
$t->post_images(['a.jpg', jpeg(rcode => 5)]);
$t->post_images(['a.txt', "not an image at all"]);
$t->request(method => 'GET');
$t->request(path => '/down', type => 'image/jpeg', body => jpeg());
$t->request(method => 'GET', path => '/plain');

sleep 1;

open my $fh, '<', "$dir/logs/qocr.log" or die $!;
my @lines = <$fh>;
chomp @lines;

is(scalar @lines, 7, 'seven log lines') or diag(join "\n", @lines);

like($lines[0], qr{^/ocr/namecard kind=namecard images=2 code=0 error=- status=200 ustatus=200 uaddr=127\.0\.0\.1:$fake utime=\d+\.\d{3}$},
     'success: kind, 2 images, code 0, no error, upstream variables');

like($lines[1], qr{ images=3 code=-1404 error=not_recognized status=200 },
     'an item failure: the first failing code and its error');

like($lines[2], qr{ images=1 code=5 error=upstream_auth_failed status=502 ustatus=200 },
     'a request-level failure: the code and its error');

like($lines[3], qr{ kind=namecard images=0 code=- error=unsupported_media_type status=415 ustatus=- uaddr=- },
     'refused by the module: no image sent, no upstream');

like($lines[4], qr{ images=0 code=- error=method_not_allowed status=405 },
     'a GET: method_not_allowed');

like($lines[5], qr{^/down kind=namecard images=1 code=- error=upstream_unavailable status=502 ustatus=502 uaddr=127\.0\.0\.1:$dead },
     'OCR service down: upstream_unavailable, the address tried');

like($lines[6], qr{^/plain kind=- images=- code=- error=- status=200 },
     'a location without qocr: every variable empty');

$t->done;
