# Bank cards (seed 002): one image by multipart, raw body or URL; the
# seed's limits checked before any upstream call; the reply's items turned
# into the five normalized fields; every code of the seed's table mapped.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location(path => '/ocr/bankcard',
                                       extra => '            qocr bankcard;')
                     =~ s/qocr namecard;\n//r,
                     '        client_max_body_size 8m;'));

sub bank {
    my (%o) = @_;
    return $t->request(path => '/ocr/bankcard', %o);
}

sub bank_images {
    my (@images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return bank(type => $type, body => $body);
}

my %expected = (
    card_number => { value => '6225888888888888', confidence => 0.954,
                     box => { x => 28, y => 101, width => 244, height => 22 } },
    card_type => { value => '贷记卡', confidence => 0.93,
                   box => { x => 10, y => 10, width => 10, height => 10 } },
    card_name => { value => 'Great Wall Card', confidence => 0.92,
                   box => { x => 10, y => 30, width => 10, height => 10 } },
    bank => { value => '中国银行', code => '01040000', confidence => 0.91,
              box => { x => 10, y => 50, width => 10, height => 10 } },
    valid_thru => { value => '08/2028', confidence => 0.928,
                    box => { x => 117, y => 137, width => 55, height => 14 } },
);

# multipart, with the exact bytes sent upstream

my $img = jpeg(card => 1);
my $r = bank_images(['card.jpg', $img]);
is($r->{status}, 200, 'multipart: 200') or diag($r->{raw});
is_deeply($r->{json}, {
    kind => 'bankcard',
    results => [ result(index => 0, source => 'card.jpg',
                        ok => JSON::PP::true, fields => \%expected,
                        request_id => '10000011579925413') ],
}, 'multipart: all five fields, boxes and confidences; bank code split; '
   . 'card number digits only; unknown items ignored');

my $u = QocrTest::parse_recorded(($t->records)[-1]);
my ($bd) = $u->{headers}{'content-type'} =~ /boundary=(qocr[0-9a-f]{32})$/;
is($u->{line}, 'POST /ocr/bankcard HTTP/1.1', 'the bank card path');
is($u->{body},
   "--$bd\r\nContent-Disposition: form-data; name=\"appid\"\r\n\r\n"
   . "$QocrTest::APPID\r\n"
   . "--$bd\r\nContent-Disposition: form-data; name=\"bucket\"\r\n\r\n"
   . "$QocrTest::BUCKET\r\n"
   . "--$bd\r\nContent-Disposition: form-data; name=\"image\"; "
   . "filename=\"image.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
   . "$img\r\n--$bd--\r\n",
   'parts appid, bucket, image, exactly');

# raw body and URL

$r = bank(type => 'image/png', body => png());
is_deeply($r->{json}{results}[0]{fields}, \%expected, 'raw body: the fields');
ok(!defined $r->{json}{results}[0]{source}, 'raw body: source null');

$r = bank(type => 'application/json',
          body => '{"url": "https://img.example.com/card.jpg"}');
is($r->{status}, 200, 'URL: 200') or diag($r->{raw});
is_deeply($r->{json}{results}[0]{fields}, \%expected, 'URL: the fields');
is($r->{json}{results}[0]{source}, 'https://img.example.com/card.jpg',
   'URL: source is the URL');
$u = QocrTest::parse_recorded(($t->records)[-1]);
is($u->{body}, '{"appid":"1250000000","bucket":"test",'
               . '"url":"https://img.example.com/card.jpg"}',
   'URL: {"appid", "bucket", "url"} upstream');

# items missing, other spellings

$r = bank_images(['c.jpg', jpeg(items => '0,3', number => '6225-1234 5678',
                                bank => '招商银行（03080000）')]);
is_deeply($r->{json}{results}[0]{fields}{card_type}, undef,
          'a missing item is null');
is($r->{json}{results}[0]{fields}{valid_thru}, undef, '... every one');
is($r->{json}{results}[0]{fields}{card_number}{value}, '622512345678',
   'dashes and spaces leave the card number');
is_deeply([ @{ $r->{json}{results}[0]{fields}{bank} }{qw(value code)} ],
          ['招商银行', '03080000'], 'full-width parentheses split too');

$r = bank_images(['c.jpg', jpeg(bank => 'Some Bank')]);
is_deeply([ @{ $r->{json}{results}[0]{fields}{bank} }{qw(value code)} ],
          ['Some Bank', undef], 'no code in the name: code null');

$r = bank_images(['c.jpg', jpeg(bank => 'Bank (VISA)')]);
is($r->{json}{results}[0]{fields}{bank}{value}, 'Bank (VISA)',
   'parentheses that hold no number stay in the name');

# refused before upstream

sub refused {
    my ($r, $status, $code, $name) = @_;
    is($r->{status}, $status, "$name: $status");
    is($r->{json}{error}{code}, $code, "$name: $code");
    is($r->{json}{kind}, 'bankcard', "$name: kind");
    is(scalar $t->records, 0, "$name: the OCR service saw nothing");
}

$t->clear_records;
refused(bank_images(['anim.gif', "GIF89a" . ("\0" x 100)]), 415,
        'unsupported_media_type', 'a GIF');
refused(bank(type => 'image/gif', body => "GIF87a" . ("\0" x 100)), 415,
        'unsupported_media_type', 'a raw GIF');
refused(bank_images(['a.jpg', jpeg()], ['b.jpg', jpeg()]), 413,
        'too_many_images', 'a second image');
refused(bank(type => 'application/json',
             body => '{"urls": ["http://a.example/1.jpg", "http://a.example/2.jpg"]}'),
        413, 'too_many_images', 'a second URL');
refused(bank(type => 'image/jpeg', body => jpeg(_size => 6 * 1024 * 1024 + 1)),
        413, 'image_too_large', 'a body of 6 MB + 1');

$r = bank(type => 'image/jpeg', body => jpeg(_size => 6 * 1024 * 1024));
is($r->{status}, 200, 'exactly 6 MB: accepted');

# every code of the seed's table

my %request = (3 => [400, 'bad_request'], 4 => [502, 'upstream_auth_failed'],
    5 => [502, 'upstream_auth_failed'], 6 => [502, 'upstream_auth_failed'],
    7 => [502, 'upstream_auth_failed'], 8 => [502, 'upstream_auth_failed'],
    9 => [502, 'upstream_auth_failed'], 10 => [502, 'upstream_auth_failed'],
    11 => [502, 'upstream_auth_failed'], 12 => [502, 'upstream_auth_failed'],
    13 => [502, 'upstream_auth_failed'], 14 => [502, 'upstream_auth_failed'],
    15 => [429, 'rate_limited'], 16 => [502, 'upstream_auth_failed'],
    17 => [400, 'no_image'], 18 => [400, 'no_image'],
    19 => [413, 'too_many_images'], 20 => [413, 'image_too_large'],
    21 => [400, 'bad_request'], 200 => [502, 'upstream_error'],
    201 => [502, 'upstream_error'], 202 => [502, 'upstream_error'],
    203 => [504, 'upstream_timeout']);

for my $code (sort { $a <=> $b } keys %request) {
    $r = bank_images(['c.jpg', jpeg(rcode => $code)]);
    is($r->{status}, $request{$code}[0], "code $code: $request{$code}[0]");
    is_deeply($r->{json}{error}{code}, $request{$code}[1],
              "code $code: $request{$code}[1]");
    is($r->{json}{error}{upstream_code}, $code, "code $code: upstream_code");
}

my %item = (-1102 => 'image_decode_failed', -1300 => 'image_empty',
            -1301 => 'bad_request', -1304 => 'image_too_large',
            -5208 => 'upstream_error', -9010 => 'not_recognized',
            -9011 => 'not_recognized', -4444 => 'upstream_error');

for my $code (sort { $a <=> $b } keys %item) {
    $r = bank_images(['c.jpg', jpeg(code => $code)]);
    is($r->{status}, 200, "code $code: 200");
    is_deeply($r->{json}{results}[0], result(
        index => 0, source => 'c.jpg', ok => JSON::PP::false,
        error => { code => $item{$code},
                   message => $r->{json}{results}[0]{error}{message},
                   upstream_code => $code },
    ), "code $code: an item error $item{$code}");
}

$t->done;
