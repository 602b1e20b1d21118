# Bad input is refused before any upstream call, with the JSON error of
# contract section 5 and the right status; the OCR service sees nothing.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location(
    extra => "            qocr_max_image_size 64k;\n"
             . "            client_max_body_size 200k;")));

sub refused {
    my ($r, $status, $code, $name, $message) = @_;

    is($r->{status}, $status, "$name: $status");
    is($r->{headers}{'content-type'}, 'application/json', "$name: JSON");
    is_deeply([ sort keys %{ $r->{json} || {} } ], [qw(error kind)],
              "$name: an error object");
    is($r->{json}{kind}, 'namecard', "$name: kind");
    is($r->{json}{error}{code}, $code, "$name: $code");
    like($r->{json}{error}{message}, $message // qr/\w/, "$name: a message");
    ok(exists $r->{json}{error}{upstream_code}
       && !defined $r->{json}{error}{upstream_code},
       "$name: upstream_code null");
    is(scalar $t->records, 0, "$name: the OCR service saw nothing");
    $t->clear_records;
}

my @img = map { ["c$_.jpg", jpeg(name => "N$_")] } 0 .. 20;

refused($t->post_images(@img), 413, 'too_many_images', '21 images');

refused($t->post_images(@img[0 .. 4], ['big.jpg', jpeg(_size => 65537)]),
        413, 'image_too_large', 'an image over qocr_max_image_size');

refused($t->post_images(@img[0 .. 1], ['empty.jpg', '']), 400,
        'image_empty', 'an empty image');

refused($t->post_images(['notes.txt', "hello, world\n" x 10]), 415,
        'unsupported_media_type', 'a text file', qr/not an image/);

refused($t->post_images(['evil.jpg', "<?php system(\$_GET['c']); ?>"]), 415,
        'unsupported_media_type', 'a script named .jpg');

my ($type, $body) = multipart(['field', 'name', 'value']);
refused($t->request(type => $type, body => $body), 400, 'no_image',
        'no file part');

refused($t->request(type => 'multipart/form-data', body => "--x\r\n"), 400,
        'bad_request', 'no boundary', qr/boundary/);

refused($t->request(type => 'multipart/form-data; boundary=', body => ''),
        400, 'bad_request', 'an empty boundary');

refused($t->request(type => 'multipart/form-data; boundary=a{b}',
                    body => ''), 400, 'bad_request',
        'a boundary with characters RFC 2046 does not allow');

($type, $body) = multipart(['file', 'a.jpg', jpeg()]);

refused($t->request(type => $type, body => substr($body, 0, 60)), 400,
        'bad_request', 'a truncated body');

(my $open = $body) =~ s/\r\n--\S+--\r\n\z//;
refused($t->request(type => $type, body => $open), 400, 'bad_request',
        'the boundary never closed', qr/never closed/);

(my $unclosed = $body) =~ s/--\r\n\z/\r\n/;
refused($t->request(type => $type, body => $unclosed), 400, 'bad_request',
        'a last delimiter without "--"', qr/truncated/);

refused($t->request(type => $type, body => "no delimiter at all"), 400,
        'bad_request', 'no delimiter in the body', qr/no boundary found/);

(my $nolf = $body) =~ s/\r\n\r\n/\r\n/;
refused($t->request(type => $type, body => $nolf), 400, 'bad_request',
        'part headers never end');

(my $long = $body) =~ s/filename="a.jpg"/'filename="' . ('a' x 3000) . '"'/e;
refused($t->request(type => $type, body => $long), 400, 'bad_request',
        'a part header line over 2 kB', qr/too long/);

(my $junk = $body) =~ s/(--\S+)\r\n/$1junk\r\n/;
refused($t->request(type => $type, body => $junk), 400, 'bad_request',
        'junk after a boundary');

(my $nocolon = $body) =~ s/Content-Disposition:/Content-Disposition/;
refused($t->request(type => $type, body => $nocolon), 400, 'bad_request',
        'a part header without a colon');

refused($t->request(type => 'application/xml', body => '<a/>'), 415,
        'unsupported_media_type', 'an unknown Content-Type');

refused($t->request(body => jpeg()), 415, 'unsupported_media_type',
        'no Content-Type');

refused($t->request(type => 'image/jpeg', body => ''), 400, 'image_empty',
        'an empty raw body');

refused($t->request(type => 'image/png', body => 'GIF8' x 100), 415,
        'unsupported_media_type', 'a raw body that is no image');

my $r = $t->request(method => 'GET');
refused($r, 405, 'method_not_allowed', 'GET');
is($r->{headers}{allow}, 'POST', 'GET: Allow: POST');

refused($t->request(method => 'PUT', type => 'image/jpeg', body => jpeg()),
        405, 'method_not_allowed', 'PUT with a body');

refused($t->request(method => 'HEAD'), 405, 'method_not_allowed', 'HEAD')
    if 0;   # HEAD answers carry no body: checked below

$r = $t->request(method => 'HEAD');
is($r->{status}, 405, 'HEAD: 405, no body');

# nginx's own refusals of the body become the same JSON

refused($t->request(type => 'image/jpeg', body => jpeg(_size => 300_000)),
        413, 'image_too_large', 'a body over client_max_body_size');

refused($t->raw("POST /ocr/namecard HTTP/1.1\r\nHost: x\r\n"
                . "Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n"
                . "\r\nzz\r\nabc\r\n0\r\n\r\n"),
        400, 'bad_request', 'broken chunked encoding');

# the connection stays usable after a refusal that keeps it alive

my $req = "GET /ocr/namecard HTTP/1.1\r\nHost: x\r\n\r\n"
          . "GET /ocr/namecard HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
my $raw = $t->raw($req)->{raw};
my @answers = $raw =~ /HTTP\/1\.1 405/g;
is(scalar @answers, 2, 'two refusals on one keep-alive connection');

$t->done;
