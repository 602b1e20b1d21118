# Requests nginx itself refuses before it chooses a location (both
# Content-Length and Transfer-Encoding, two Content-Lengths, an unknown
# Transfer-Encoding, TRACE) never reach the module: without more they get
# nginx's HTML page; the server-level error_page of README.md ("Requests
# nginx refuses itself") turns them into the module's JSON error schema.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake;

my $qocr = $t->qocr_location;

$t->start(<<'EOF' . $t->server($qocr, <<'EOF2') . <<"EOF3");
    map $status $qocr_refused {
        405      method_not_allowed;
        413      image_too_large;
        default  bad_request;
    }
EOF
        error_page 400 405 411 413 414 494 501 /qocr-refused;

        location = /qocr-refused {
            internal;
            default_type application/json;
            return 200 '{"kind":null,"error":{"code":"$qocr_refused","message":"nginx refused the request","upstream_code":null}}';
        }
EOF2
    server {
        listen 127.0.0.1:%%PORT2%%;
        server_name plain;
$qocr
    }
EOF3

my $img = jpeg(name => 'A');
my $n = length $img;

my %cases = (
    'Content-Length and Transfer-Encoding' =>
        [ "Content-Length: $n\r\nTransfer-Encoding: chunked\r\n", 400,
          'bad_request' ],
    'two Content-Lengths' =>
        [ "Content-Length: $n\r\nContent-Length: $n\r\n", 400,
          'bad_request' ],
    'Transfer-Encoding: gzip, chunked' =>
        [ "Transfer-Encoding: gzip, chunked\r\n", 501, 'bad_request' ],
);

for my $port ($t->port, $t->port2) {
    my $fixed = $port == $t->port;

    for my $name (sort keys %cases) {
        my ($headers, $status, $code) = @{ $cases{$name} };
        my $r = raw($port, "POST /ocr/namecard HTTP/1.1\r\nHost: localhost\r\n"
                           . "Content-Type: image/jpeg\r\n$headers"
                           . "Connection: close\r\n\r\n$img");

        is($r->{status}, $status, "$name: $status"
                                  . ($fixed ? ', with error_page' : ''));

        if ($fixed) {
            is($r->{headers}{'content-type'}, 'application/json', '... JSON');
            is($r->{json}{error}{code}, $code, "... $code");

        } else {
            like($r->{body}, qr/<html>/, '... nginx\'s HTML page without it');
        }
    }

    my $r = raw($port, "TRACE /ocr/namecard HTTP/1.1\r\nHost: localhost\r\n"
                       . "Connection: close\r\n\r\n");
    is($r->{status}, 405, 'TRACE: 405' . ($fixed ? ', with error_page' : ''));

    if ($fixed) {
        is($r->{json}{error}{code}, 'method_not_allowed',
           '... method_not_allowed');
    }
}

is(scalar $t->records, 0, 'none of them reached the OCR service');

$t->done;


sub raw {
    my ($port, $data) = @_;
    local $t->{port} = $port;
    return $t->raw($data);
}
