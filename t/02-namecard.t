# Business cards through nginx: multipart uploads as browsers and curl send
# them, a raw body, and the normalized JSON of contract section 5, with the
# exact bytes the OCR service receives.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location));

sub names {
    my ($r) = @_;
    return [ map { $_->{ok} ? $_->{fields}{name}{value} : undef }
             @{ $r->{json}{results} } ];
}

# one image

my $r = $t->post_images(['alice.jpg', jpeg(name => 'Alice', phone => '139',
                                            uin => '12345')]);
is($r->{status}, 200, 'one image: 200');
is($r->{headers}{'content-type'}, 'application/json', '... JSON');
is_deeply($r->{json}, {
    kind => 'namecard',
    results => [ result(
        index => 0, source => 'alice.jpg', ok => JSON::PP::true,
        fields => nc_fields(
            name => { value => 'Alice', confidence => 0.9 },
            phone => { value => '139', confidence => 0.87 },
            qq => { value => '12345', confidence => 0.8 },
        ),
    ) ],
}, '... the normalized result');

# what went upstream, byte for byte but for the random boundary and signature

my @rec = $t->records;
is(scalar @rec, 1, 'one upstream request');

my $u = QocrTest::parse_recorded($rec[0]);
my ($b) = $u->{headers}{'content-type'} =~ /boundary=(qocr[0-9a-f]{32})$/;
ok($b, 'a random 128-bit boundary');
is($u->{line}, 'POST /ocr/namecard HTTP/1.1', 'request line');
is_deeply($u->{order},
          [qw(Host Connection Authorization Content-Type Content-Length)],
          'only the module\'s headers, in order');
is($u->{headers}{connection}, 'close',
   'Connection: close: no keepalive pool, the service closes first');
is($u->{headers}{host}, '127.0.0.1:' . $t->fake, 'Host is the URL\'s host');
is($u->{headers}{'content-length'}, length $u->{body}, 'Content-Length');

my $img = jpeg(name => 'Alice', phone => '139', uin => '12345');
is($u->{body},
   "--$b\r\nContent-Disposition: form-data; name=\"appid\"\r\n\r\n"
   . "$QocrTest::APPID\r\n"
   . "--$b\r\nContent-Disposition: form-data; name=\"bucket\"\r\n\r\n"
   . "$QocrTest::BUCKET\r\n"
   . "--$b\r\nContent-Disposition: form-data; name=\"ret_image\"\r\n\r\n"
   . "0\r\n"
   . "--$b\r\nContent-Disposition: form-data; name=\"image[00]\"; "
   . "filename=\"image00.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
   . "$img\r\n--$b--\r\n",
   'the multipart body, exactly');

# three images, in order, with their sources

$t->clear_records;
$r = $t->post_images(map { ["card$_.jpg", jpeg(name => "N$_")] } 1 .. 3);
is($r->{status}, 200, 'three images: 200');
is_deeply(names($r), [qw(N1 N2 N3)], '... in input order');
is_deeply([ map { $_->{source} } @{ $r->{json}{results} } ],
          [qw(card1.jpg card2.jpg card3.jpg)], '... with their sources');
is_deeply([ map { $_->{index} } @{ $r->{json}{results} } ], [0, 1, 2],
          '... and indexes');

# twenty: the most the service takes

$t->clear_records;
$r = $t->post_images(map { ["c$_.jpg", jpeg(name => "N$_")] } 0 .. 19);
is($r->{status}, 200, 'twenty images: 200');
is_deeply(names($r), [ map { "N$_" } 0 .. 19 ], '... in input order');

@rec = $t->records;
my @parts = $rec[0] =~ /name="(image\[\d+\])"; filename="(image\d+\.jpg)"/g;
is_deeply(\@parts, [ map { (sprintf('image[%02d]', $_),
                            sprintf('image%02d.jpg', $_)) } 0 .. 19 ],
          '... part names and filenames zero-padded, made by the module');

# twelve: "image[10]" sorts before "image[2]" as strings; the service
# returns results in that order, so unpadded names would scramble them

$t->clear_records;
$r = $t->post_images(map { ["c$_.jpg", jpeg(name => "N$_")] } 0 .. 11);
is_deeply(names($r), [ map { "N$_" } 0 .. 11 ],
          'twelve images: the string-sort trap is handled');

# fields not recognized

$r = $t->post_images(['x.jpg', jpeg(name => 'Bob', phone => '', name_conf => -1,
                                     uin_conf => -1, uin => '7')]);
is_deeply($r->{json}{results}[0]{fields},
          nc_fields(),
          'confidence -1 or no value: null, every key present');

# non-ASCII values and a client filename that needs escaping

$r = $t->post_images(['名片 "1".jpg', jpeg(name => '张三')]);
is($r->{json}{results}[0]{fields}{name}{value}, '张三', 'UTF-8 values');
is($r->{json}{results}[0]{source}, '名片 "1".jpg',
   'a UTF-8 filename with quotes comes back intact');

my ($type, $body) = multipart(['file', "bad\xff\x01name.jpg", jpeg()]);
$r = $t->request(type => $type, body => $body);
is($r->{json}{results}[0]{source}, 'bad??name.jpg',
   'bytes that are not UTF-8 in a filename do not break the JSON');

# form fields are ignored; a browser's empty file input is no image

$t->clear_records;
($type, $body) = multipart(['field', 'csrf', 'token-secret'],
                           ['file', 'a.jpg', jpeg(name => 'A')],
                           ['field', 'comment', 'hello'],
                           ['file', '', ''],
                           ['file', 'b.png', png()]);
$r = $t->request(type => $type, body => $body);
is($r->{status}, 200, 'fields and an empty file input around images: 200');
is(scalar @{ $r->{json}{results} }, 2, '... two images');
is_deeply([ map { $_->{source} } @{ $r->{json}{results} } ],
          ['a.jpg', 'b.png'], '... the files only');
@rec = $t->records;
unlike($rec[0], qr/token-secret|hello/, '... fields never go upstream');
like($rec[0], qr/filename="image01.png"\r\nContent-Type: image\/png\r\n/,
     '... types found by magic bytes');

# curl's and browsers' variants of the same form

sub custom {
    my ($ctype, $body, $name) = @_;
    my $r = $t->request(type => $ctype, body => $body);
    is($r->{status}, 200, "$name: 200") or diag($r->{body});
    is($r->{json}{results}[0]{fields}{name}{value}, 'V', "$name: result");
    return $r;
}

my $jv = jpeg(name => 'V');

custom('multipart/form-data; boundary="quoted boundary"',
       "--quoted boundary\r\ncontent-disposition: FORM-DATA; NAME=\"f\"; "
       . "FILENAME=\"v.jpg\"\r\n\r\n$jv\r\n--quoted boundary--\r\n",
       'a quoted boundary and part headers in other cases');

custom('Multipart/Form-Data;boundary=abc',
       "preamble\r\n--abc\r\nContent-Disposition: form-data; name=f; "
       . "filename=v.jpg\r\nContent-Type: application/octet-stream\r\n\r\n"
       . "$jv\r\n--abc--\r\nepilogue",
       'unquoted values, a preamble, an epilogue, a wrong part type');

$r = custom('multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryx7',
       "------WebKitFormBoundaryx7\r\nContent-Disposition: form-data; "
       . "name=\"f\"; filename=\"C:\\\\fakepath\\\\v.jpg\"\r\n"
       . "Content-Type: image/jpeg\r\n\r\n$jv\r\n"
       . "------WebKitFormBoundaryx7--\r\n",
       'a browser form');
is($r->{json}{results}[0]{source}, 'C:\\fakepath\\v.jpg',
   '... escaped backslashes in the filename');

custom('multipart/form-data; boundary=b',
       "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"v.jpg\""
       . "\r\n\r\n$jv\r\n--b--",
       'no CRLF after the closing delimiter');

# a raw image body

$r = $t->request(type => 'image/jpeg', body => jpeg(name => 'Raw'));
is($r->{status}, 200, 'raw body: 200');
is($r->{json}{results}[0]{fields}{name}{value}, 'Raw', '... recognized');
ok(exists $r->{json}{results}[0]{source}
   && !defined $r->{json}{results}[0]{source}, '... source null');

$r = $t->request(type => 'application/octet-stream', body => png());
is($r->{status}, 200, 'octet-stream body: 200');

# numbers: integers exactly, others to six decimals

$r = $t->post_images(['n.jpg', jpeg(name_conf => '0.1234567',
                                    phone_conf => '1')]);
like($r->{body}, qr/"name":\{"value":"[^"]*","confidence":0\.123457,/,
     'a confidence to six decimals');
like($r->{body}, qr/"phone":\{"value":"[^"]*","confidence":1,/,
     'an integral confidence as an integer');
like($r->{body}, qr/"index":0,/, 'the index as an integer');

$t->done;
