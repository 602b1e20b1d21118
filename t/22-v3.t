# API 3.0 (qocr_api v3): both card kinds by multipart, raw body and URL, the
# exact bytes of a call, batches fanned out as qocr_parallel allows, and the
# answer in the schema both APIs share.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use MIME::Base64;
use JSON::PP;
use Time::HiRes qw(time);
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake(v3 => 1);
my ($id, $key) = ($QocrTest::SECRET_ID, $QocrTest::SECRET_KEY);

$t->start($t->server(<<"EOF"));
        qocr_api v3;
        qocr_pass http://127.0.0.1:$fake;
        qocr_secret_id $id;
        qocr_secret_key $key;

        location = /ocr/namecard {
            qocr namecard;
        }

        location = /p1 {
            qocr namecard;
            qocr_parallel 1;
        }

        location = /p20 {
            qocr namecard;
            qocr_parallel 20;
            qocr_region off;
        }

        location = /image {
            qocr namecard;
            qocr_return_image on;
            qocr_region ap-shanghai;
        }

        location = /ocr/bankcard {
            qocr bankcard;
        }

        location = /bankcard-all {
            qocr bankcard;
            qocr_return_image on;
            qocr_bankcard_checks copy reshoot border;
        }
EOF

my $json = JSON::PP->new->utf8->canonical;

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

sub box { my @v = @_; return { x => $v[0], y => $v[1], width => $v[2],
                                height => $v[3] } }

# one business card: the normalized result

my $img = jpeg(name => 'Alice');
my $r = post('/ocr/namecard', ['alice.jpg', $img]);
is($r->{status}, 200, 'namecard: 200') or diag($r->{raw});
my @rec = $t->records;
is(scalar @rec, 1, 'one call');
my $u = QocrTest::parse_recorded($rec[0]);
my ($rid) = $r->{body} =~ /"request_id":"([^"]+)"/;

is_deeply($r->{json}, {
    kind => 'namecard',
    results => [ result(
        index => 0, source => 'alice.jpg', ok => JSON::PP::true,
        request_id => $rid,
        fields => nc_fields(
            name => { value => 'Alice', confidence => undef,
                      box => box(26, 42, 80, 24) },
            company => { value => '示例科技有限公司', confidence => undef,
                         box => box(26, 10, 240, 20) },
            phone => { value => '13800138000', confidence => undef,
                       box => box(26, 120, 150, 18) },
            email => { value => 'zhangsan@example.com', confidence => undef,
                       box => box(26, 142, 210, 18) },
        ),
    ) ],
}, 'namecard: every key, confidence null, boxes, the RequestId');
ok($rid, '... a request_id');

# the call, byte for byte

my $body = '{"ImageBase64":"' . encode_base64($img, '') . '"}';
my $ts = $u->{headers}{'x-tc-timestamp'};
my $host = "127.0.0.1:$fake";

is($u->{line}, 'POST / HTTP/1.1', 'call: POST /');
is_deeply($u->{order}, [qw(Host Connection Content-Type Content-Length
                           X-TC-Action X-TC-Version X-TC-Timestamp
                           X-TC-Region Authorization)],
          'call: only these headers, in this order');
is($u->{headers}{connection}, 'close',
   'call: Connection: close, without a keepalive pool');
is($u->{headers}{host}, $host, 'call: Host');
is($u->{headers}{'content-type'}, 'application/json', 'call: Content-Type');
is($u->{headers}{'content-length'}, length $body, 'call: Content-Length');
is($u->{headers}{'x-tc-action'}, 'BusinessCardOCR', 'call: X-TC-Action');
is($u->{headers}{'x-tc-version'}, '2018-11-19', 'call: X-TC-Version');
ok(abs($ts - time) < 5, 'call: X-TC-Timestamp is now');
is($u->{headers}{'x-tc-region'}, 'ap-guangzhou', 'call: the default region');
is($u->{headers}{authorization},
   QocrTest::tc3_sign(timestamp => $ts, host => $host, body => $body),
   'call: Authorization, TC3-HMAC-SHA256 as the harness signs it');
is($u->{body}, $body, 'call: {"ImageBase64":"..."}, exactly');

# three images: three calls, results in input order

$t->clear_records;
$r = post('/ocr/namecard', map { ["c$_.jpg", jpeg(name => "N$_")] } 1 .. 3);
is($r->{status}, 200, 'three images: 200');
is_deeply([ map { $_->{fields}{name}{value} } @{ $r->{json}{results} } ],
          [qw(N1 N2 N3)], '... in input order');
is(scalar $t->records, 3, '... three calls');

my %ids = map { $_->{request_id} => 1 } @{ $r->{json}{results} };
is(scalar keys %ids, 3, '... each with its own request_id');

# batches of 1, 3 and 20 with qocr_parallel 1, 4 (the default) and 20:
# the calls in flight never exceed it, and the order stays

for my $case ([1, '/p1'], [3, '/p1'], [20, '/p1'], [1, '/ocr/namecard'],
              [3, '/ocr/namecard'], [20, '/ocr/namecard'], [3, '/p20'],
              [20, '/p20'])
{
    my ($n, $path) = @$case;
    my $parallel = { '/p1' => 1, '/ocr/namecard' => 4, '/p20' => 20 }->{$path};
    my $want = $n < $parallel ? $n : $parallel;

    $t->clear_records;

    # later images answer sooner: the order must come from the module;
    # calls long enough to overlap when they may
    my $base = $parallel > 1 ? 1 : 0.02;
    my @imgs = map { ["i$_.jpg", jpeg(name => "B$_",
                                      delay => $base + 0.01 * ($n - $_))] }
               0 .. $n - 1;

    $r = post($path, @imgs);
    is($r->{status}, 200, "$n images, parallel $parallel: 200");
    is_deeply([ map { $_->{fields}{name}{value} } @{ $r->{json}{results} } ],
              [ map { "B$_" } 0 .. $n - 1 ], '... in input order');
    is_deeply([ map { $_->{index} } @{ $r->{json}{results} } ],
              [ 0 .. $n - 1 ], '... indexes');
    is(scalar $t->records, $n, "... $n calls");
    is($t->max_inflight, $want, "... at most $want in flight");
}

my @p20 = map { QocrTest::parse_recorded($_) } $t->records;
ok(!grep({ exists $_->{headers}{'x-tc-region'} } @p20),
   'qocr_region off: no X-TC-Region');

# 20 calls of 0.3 s with qocr_parallel 4: five rounds

$t->clear_records;
my $start = time;
$r = post('/ocr/namecard', map { ["s$_.jpg", jpeg(name => "S$_",
                                                  delay => 0.3)] } 1 .. 20);
my $took = time - $start;
is($r->{status}, 200, 'twenty slow calls: 200');
ok($took >= 1.4, 'twenty calls of 0.3 s, 4 at a time: five rounds')
    or diag("took $took s");

# a raw body and URL input

$t->clear_records;
$r = $t->request(path => '/ocr/namecard', type => 'image/png', body => png());
is($r->{status}, 200, 'raw PNG body: 200');
ok(!defined $r->{json}{results}[0]{source}, '... source null');
$u = QocrTest::parse_recorded(($t->records)[0]);
is($u->{body}, '{"ImageBase64":"' . encode_base64(png(), '') . '"}',
   '... its base64');

my @urls = map { "https://img.example/$_.jpg?QOCR{name=U$_}" } 1 .. 3;
$t->clear_records;
$r = $t->request(path => '/ocr/namecard', type => 'application/json',
                 body => $json->encode({ urls => \@urls }));
is($r->{status}, 200, 'three URLs: 200');
is_deeply([ map { $_->{source} } @{ $r->{json}{results} } ], \@urls,
          '... sources in order');
is_deeply([ map { $_->{fields}{name}{value} } @{ $r->{json}{results} } ],
          [qw(U1 U2 U3)], '... results in order');
is_deeply([ sort map { QocrTest::parse_recorded($_)->{body} } $t->records ],
          [ sort map { $json->encode({ ImageUrl => $_ }) } @urls ],
          '... each call {"ImageUrl":"..."}, exactly');

my $evil = 'https://x.example/a"}, "ImageBase64": "x\\';
$t->clear_records;
$r = $t->request(path => '/ocr/namecard', type => 'application/json',
                 body => $json->encode({ url => $evil }));
is($r->{status}, 200, 'a URL with quotes and a backslash: 200');
is(decode_json(QocrTest::parse_recorded(($t->records)[0])->{body})->{ImageUrl},
   $evil, '... it stays one string');

# what API 3.0 does not take: refused before any call

$t->clear_records;
$r = post('/ocr/namecard', ['a.gif', "GIF89a" . ("\0" x 20)]);
is($r->{status}, 415, 'GIF business card: 415');
is($r->{json}{error}{code}, 'unsupported_media_type', '... the code');
$r = post('/ocr/namecard', ['a.bmp', "BM" . ("\0" x 30)]);
is($r->{status}, 415, 'BMP business card: 415 (PNG or JPEG only)');
$r = post('/ocr/bankcard', ['a.webp', "RIFF\0\0\0\0WEBP" . ("\0" x 8)]);
is($r->{status}, 415, 'WEBP bank card: 415');
$r = post('/ocr/namecard', ['big.jpg', jpeg(_size => 5 * 1024 * 1024 + 1)]);
is($r->{status}, 413, 'a business card over 5m: 413');
is(scalar $t->records, 0, 'no call for any of them');

# returned images and the region

$t->clear_records;
$img = jpeg(name => 'I');
$r = post('/image', ['i.jpg', $img]);
is($r->{json}{results}[0]{image}, encode_base64($img, ''),
   'qocr_return_image: RetImageBase64 comes back as "image"');
$u = QocrTest::parse_recorded(($t->records)[0]);
is($u->{body}, '{"ImageBase64":"' . encode_base64($img, '')
               . '","Config":"{\"RetImageType\":\"PROPROCESS\"}"}',
   '... Config asks for it, exactly');
is($u->{headers}{'x-tc-region'}, 'ap-shanghai', 'qocr_region ap-shanghai');

$r = post('/ocr/namecard', ['n.jpg', jpeg()]);
ok(!exists $r->{json}{results}[0]{image}, 'no "image" without it');

# several items of one key, unknown names, empty values

$r = post('/ocr/namecard', ['m.jpg', jpeg(cards => '手机:111|手机:222|其他:x|'
                                                   . '星座:y|邮箱:|QQ:42')]);
my $f = $r->{json}{results}[0]{fields};
is($f->{phone}{value}, '111', 'a repeated Name: the first is the value');
is_deeply($f->{phone}{values}, [qw(111 222)], '... "values" holds all');
is_deeply($f->{other}{values}, [qw(x y)],
          '其他 and an unknown Name go to "other"');
is($f->{email}, undef, 'an empty value is null');
is($f->{qq}{value}, '42', 'QQ');
ok(!exists $f->{qq}{values}, '... "values" only when several');

# bank cards

$t->clear_records;
$img = jpeg(card => 1);
$r = post('/ocr/bankcard', ['card.jpg', $img]);
is($r->{status}, 200, 'bank card: 200') or diag($r->{raw});
($rid) = $r->{body} =~ /"request_id":"([^"]+)"/;
is_deeply($r->{json}, {
    kind => 'bankcard',
    results => [ result(
        index => 0, source => 'card.jpg', ok => JSON::PP::true,
        request_id => $rid,
        fields => {
            card_number => { value => '6225888888888888', confidence => undef,
                             box => undef },
            card_type => { value => '借记卡', confidence => undef,
                           box => undef },
            card_name => { value => '一卡通(银联卡)', confidence => undef,
                           box => undef },
            bank => { value => '招商银行', code => '03080000',
                      confidence => undef, box => undef },
            valid_thru => { value => '08/2028', confidence => undef,
                            box => undef },
        },
    ) ],
}, 'bank card: digits only, the bank and its code, null confidences');

$u = QocrTest::parse_recorded(($t->records)[0]);
is($u->{headers}{'x-tc-action'}, 'BankCardOCR', 'bank card: BankCardOCR');
$body = '{"ImageBase64":"' . encode_base64($img, '') . '"}';
is($u->{body}, $body, 'bank card: the body, exactly');
is($u->{headers}{authorization},
   QocrTest::tc3_sign(timestamp => $u->{headers}{'x-tc-timestamp'},
                      host => $host, body => $body),
   'bank card: Authorization');

$t->clear_records;
$r = post('/bankcard-all', ['card.jpg', jpeg(warn => '-9110,-9112,-9113,'
                                                  . '-9114,-9111,-9120')]);
is_deeply($r->{json}{results}[0]{warnings},
          [qw(date_invalid glare photocopy reshoot border_incomplete w-9120)],
          'WarningCode: every name, an unknown one as w<code>');
is($r->{json}{results}[0]{image}, encode_base64(jpeg(warn => '-9110,-9112,'
                                   . '-9113,-9114,-9111,-9120'), ''),
   'BorderCutImage comes back as "image"');
$u = QocrTest::parse_recorded(($t->records)[0]);
like($u->{body}, qr/","RetBorderCutImage":true,"EnableCopyCheck":true,
                    "EnableReshootCheck":true,"EnableBorderCheck":true\}$/x,
     'qocr_return_image and qocr_bankcard_checks: the options, in order');

$r = post('/ocr/bankcard', ['c.bmp', "BM" . ("\0" x 30)]);
is($r->{status}, 200, 'a BMP bank card is taken');

$r = post('/ocr/bankcard', ['a.jpg', jpeg()], ['b.jpg', jpeg()]);
is($r->{status}, 413, 'two bank cards: 413');

$r = $t->request(path => '/ocr/bankcard', type => 'application/json',
                 body => '{"url":"https://b.example/c.jpg"}');
is($r->{status}, 200, 'bank card by URL: 200');
is($r->{json}{results}[0]{source}, 'https://b.example/c.jpg', '... source');

$t->done;
