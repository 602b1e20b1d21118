# The API 3.0 fake (t/lib/fake-tc3.pl) and the harness's TC3 signer, without
# nginx: tc3_sign against the known answers, then the fake's answers, its
# refusals (each Error.Code exact), markers, faults, records and its count of
# calls in flight.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw(strftime);
use Test::More;
use Time::HiRes qw(time sleep);
use QocrTest;

# tc3_sign, byte-exact against every row of the vectors but V4 (other signed
# headers); the payload and canonical columns escape "\" as \\ and a newline
# as \n

open my $fh, '<:raw', 't/data/tc3-vectors.tsv' or die $!;
my @cols = split /\t/, scalar(<$fh>) =~ s/\r?\n\z//r;
my @steps = qw(hashed_payload canonical_request hashed_canonical_request
               string_to_sign secret_date secret_service secret_signing
               signature);
my $rows = 0;

while (my $line = <$fh>) {
    $line =~ s/\r?\n\z//;
    next unless length $line;

    my %v;
    @v{@cols} = map { s/\\(.)/$1 eq 'n' ? "\n" : $1/ger } split /\t/, $line, -1;
    next if $v{id} =~ /^V4/;
    $rows++;

    my ($auth, $p) = QocrTest::tc3_sign(
        secret_id => $v{secret_id}, secret_key => $v{secret_key},
        service => $v{service}, host => $v{host}, timestamp => $v{timestamp},
        content_type => $v{content_type}, body => $v{payload},
        unsigned_payload => $v{unsigned_payload});

    is($p->{date}, $v{date}, "$v{id}: the date of the timestamp");
    is($p->{$_}, $v{$_}, "$v{id}: $_") for @steps;
    is($auth, $v{authorization}, "$v{id}: Authorization");
    is(scalar QocrTest::tc3_sign(
           secret_id => $v{secret_id}, secret_key => $v{secret_key},
           service => $v{service}, host => $v{host},
           timestamp => $v{timestamp}, content_type => $v{content_type},
           body => $v{payload}, unsigned_payload => $v{unsigned_payload}),
       $v{authorization}, "$v{id}: scalar context");
}

close $fh;
is($rows, 8, 'eight rows checked (V0-V7 but V4, and V1b)');

# the fake's own signer, against the same rows

my $out = `$^X t/lib/fake-tc3.pl --vectors t/data/tc3-vectors.tsv`;
is($?, 0, "the fake's signer passes the vectors") or diag($out);
is(scalar(() = $out =~ /^ok \d+ - V/mg), 8, "the fake's signer: 8 rows");

# the fake

my ($TMP_ID, $TMP_KEY, $TMP_TOKEN) =
    ('AKIDtempExample0000', 'tempKeyExample0000', 'tempTokenExample0000');

my $t = QocrTest->new;
my $port = $t->fake(v3 => 1, secrets => ["$TMP_ID:$TMP_KEY:$TMP_TOKEN"]);
my $host = "127.0.0.1:$port";

# an ordered JSON body: (key, value, ...)

sub jbody {
    my (@kv) = @_;
    my $j = JSON::PP->new->utf8->allow_nonref;
    my @pairs;
    push @pairs, $j->encode(shift @kv) . ':' . $j->encode(shift @kv) while @kv;
    return '{' . join(',', @pairs) . '}';
}

sub b64 { encode_base64($_[0], '') }

# one reply read from a socket: by Content-Length, chunks, or to the end

sub read_reply {
    my ($s, $to_eof) = @_;
    my $resp = '';

    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 20;

    eval {
        while (1) {
            my $n = sysread($s, $resp, 65536, length $resp);
            last unless $n;
            next if $to_eof;

            my $i = index($resp, "\r\n\r\n");
            next if $i < 0;
            my $head = substr($resp, 0, $i);

            if ($head =~ /^Content-Length:\s*(\d+)/mi) {
                last if length($resp) >= $i + 4 + $1;
            } elsif ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
                last if $resp =~ /\r\n0\r\n\r\n\z/;
            }
        }
    };

    alarm 0;

    return $resp;
}

sub connect_to {
    my ($p, %o) = @_;

    if ($o{tls}) {
        require IO::Socket::SSL;
        my $s = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$p",
                                     SSL_hostname => 'ocr.test',
                                     SSL_ca_file => $o{tls})
            or die "TLS connect: " . IO::Socket::SSL::errstr();
        return $s;
    }

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p", Timeout => 5)
        or die "connect: $!";
    return $s;
}

sub send_raw {
    my ($data, %o) = @_;
    my $s = connect_to($o{port} // $port, %o);
    binmode $s;
    print $s $data;
    shutdown($s, 1) if $o{eof};
    my $resp = read_reply($s, $o{eof});
    close $s;
    return QocrTest::parse_response($resp);
}

# a signed call: tc3_request's arguments, and port/tls/eof

sub call {
    my (%o) = @_;
    my $h = $o{port} ? "127.0.0.1:$o{port}" : $host;
    $h = 'ocr.test' if $o{tls};
    return send_raw(QocrTest::tc3_request(host => $h, %o), %o);
}

sub code_of {
    my ($r) = @_;
    return $r->{json} ? $r->{json}{Response}{Error}{Code} // '(no error)'
                      : "(HTTP $r->{status}, not JSON)";
}

sub refused {
    my ($code, $name, %o) = @_;
    my $r = call(%o);
    is($r->{status}, 200, "$name: HTTP 200");
    is(code_of($r), $code, "$name: $code") or diag($r->{raw});
    like($r->{json}{Response}{RequestId} // '', qr/^[0-9a-f-]{36}$/,
         "$name: a RequestId");
    return $r;
}

my $RID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8000-[0-9a-f]{12}$/;

# a good BusinessCardOCR call

my $img = jpeg(name => '李四', company => '测试公司');
my $biz = jbody(ImageBase64 => b64($img));
my $r = call(action => 'BusinessCardOCR', body => $biz,
             region => 'ap-guangzhou');

is($r->{status}, 200, 'namecard: 200') or diag($r->{raw});
is($r->{headers}{'content-type'}, 'application/json',
   'namecard: Content-Type application/json');
is($r->{headers}{'content-length'}, length $r->{body},
   'namecard: Content-Length');
is_deeply($r->{json}{Response}{BusinessCardInfos}, [
    { Name => '姓名', Value => '李四',
      ItemCoord => { X => 26, Y => 42, Width => 80, Height => 24 } },
    { Name => '手机', Value => '13800138000',
      ItemCoord => { X => 26, Y => 120, Width => 150, Height => 18 } },
    { Name => '邮箱', Value => 'zhangsan@example.com',
      ItemCoord => { X => 26, Y => 142, Width => 210, Height => 18 } },
    { Name => '公司', Value => '测试公司',
      ItemCoord => { X => 26, Y => 10, Width => 240, Height => 20 } },
], 'namecard: BusinessCardInfos, markers applied');
is($r->{json}{Response}{RetImageBase64}, '', 'namecard: no RetImageBase64');
is($r->{json}{Response}{Angle}, 0, 'namecard: Angle');
like($r->{json}{Response}{RequestId}, $RID, 'namecard: RequestId');
like($r->{body}, qr/^\{"Response":\{"BusinessCardInfos":\[\{"Name":"[^"]+",
                    "Value":.*"RequestId":"[^"]+"\}\}$/x,
     'namecard: the documented order, RequestId last');
ok(!exists $r->{json}{Response}{Error}, 'namecard: no Error');

my ($rec) = $t->records;
is($rec, QocrTest::tc3_request(host => $host, action => 'BusinessCardOCR',
                               body => $biz, region => 'ap-guangzhou',
                               timestamp => (QocrTest::parse_recorded($rec)
                                             ->{headers}{'x-tc-timestamp'})),
   'the request recorded raw, byte for byte');

# Config PROPROCESS returns the image

$r = call(action => 'BusinessCardOCR',
          body => jbody(ImageBase64 => b64($img),
                        Config => '{"RetImageType":"PROPROCESS"}'));
is(code_of($r), '(no error)', 'PROPROCESS: success') or diag($r->{raw});
is($r->{json}{Response}{RetImageBase64}, b64($img),
   'PROPROCESS: RetImageBase64 is the image');

$r = call(action => 'BusinessCardOCR',
          body => jbody(ImageBase64 => b64($img), Config => '{}'));
is($r->{json}{Response}{RetImageBase64}, '', 'Config {}: no image');

refused('InvalidParameterValue', 'Config not JSON', action => 'BusinessCardOCR',
        body => jbody(ImageBase64 => b64($img), Config => 'PROPROCESS'));
refused('InvalidParameterValue', 'RetImageType other',
        action => 'BusinessCardOCR',
        body => jbody(ImageBase64 => b64($img),
                      Config => '{"RetImageType":"RAW"}'));
refused('InvalidParameter', 'Config an object', action => 'BusinessCardOCR',
        body => '{"ImageBase64":"' . b64($img)
                . '","Config":{"RetImageType":"PROPROCESS"}}');

# cards= replaces the list; ImageUrl: the name is the URL

$r = call(action => 'BusinessCardOCR',
          body => jbody(ImageBase64 => b64(jpeg(cards => '职位:经理|QQ:'))));
is_deeply([ map { [ $_->{Name}, $_->{Value} ] }
            @{ $r->{json}{Response}{BusinessCardInfos} } ],
          [ ['职位', '经理'], ['QQ', ''] ], 'cards=: the whole list');

$r = call(action => 'BusinessCardOCR',
          body => jbody(ImageUrl => 'https://example.com/a.jpg'));
is($r->{json}{Response}{BusinessCardInfos}[0]{Value},
   'https://example.com/a.jpg', 'ImageUrl: the name is the URL');

$r = call(action => 'BusinessCardOCR',
          body => jbody(ImageUrl => 'https://example.com/QOCR{phone=1}.jpg',
                        Config => '{"RetImageType":"PROPROCESS"}'));
is($r->{json}{Response}{BusinessCardInfos}[1]{Value}, '1',
   'ImageUrl: markers in the URL');
is($r->{json}{Response}{RetImageBase64},
   b64('https://example.com/QOCR{phone=1}.jpg'),
   'ImageUrl: the "image" is the URL text');

# good BankCardOCR calls

my $card = jpeg(card => 1);
$r = call(action => 'BankCardOCR', body => jbody(ImageBase64 => b64($card)));
is($r->{status}, 200, 'bank card: 200') or diag($r->{raw});
my $resp = $r->{json}{Response};
like(delete $resp->{RequestId}, $RID, 'bank card: RequestId');
is_deeply($resp, {
    CardNo => '6225 8888 8888 8888', BankInfo => '招商银行(03080000)',
    ValidDate => '08/2028', CardType => '借记卡',
    CardName => '一卡通(银联卡)', BorderCutImage => undef,
    CardNoImage => undef, WarningCode => [], QualityValue => 100,
}, 'bank card: the default fields');
like($r->{body}, qr/^\{"Response":\{"CardNo":.*"RequestId":"[^"]+"\}\}$/,
     'bank card: the documented order');

$card = jpeg(number => '6222 0000 1111 2222', bank => '中国银行(01040000)',
             valid => '12/2030', type => '贷记卡', cardname => '长城卡',
             warn => '-9110,-9112');
$r = call(action => 'BankCardOCR', region => 'ap-shanghai',
          body => jbody(ImageBase64 => b64($card),
                        RetBorderCutImage => JSON::PP::true,
                        EnableCopyCheck => JSON::PP::true,
                        EnableReshootCheck => JSON::PP::false,
                        EnableBorderCheck => JSON::PP::true));
$resp = $r->{json}{Response};
delete $resp->{RequestId};
is_deeply($resp, {
    CardNo => '6222 0000 1111 2222', BankInfo => '中国银行(01040000)',
    ValidDate => '12/2030', CardType => '贷记卡', CardName => '长城卡',
    BorderCutImage => b64($card), CardNoImage => undef,
    WarningCode => [-9110, -9112], QualityValue => 100,
}, 'bank card: markers, flags, BorderCutImage the image, WarningCode')
    or diag($r->{raw});

$r = call(action => 'BankCardOCR',
          body => jbody(ImageBase64 => b64(jpeg(warn => 'null'))));
ok(exists $r->{json}{Response}{WarningCode}
   && !defined $r->{json}{Response}{WarningCode}, 'warn=null: null');

$r = call(action => 'BankCardOCR',
          body => jbody(ImageBase64 => b64(jpeg(warn => 'omit'))));
ok(!exists $r->{json}{Response}{WarningCode}, 'warn=omit: absent');

$r = call(action => 'BankCardOCR',
          body => jbody(ImageUrl => 'https://example.com/QOCR{number=1}',
                        RetBorderCutImage => JSON::PP::false));
is($r->{json}{Response}{CardNo}, '1', 'bank card ImageUrl: markers');
is($r->{json}{Response}{BorderCutImage}, undef,
   'RetBorderCutImage false: null');

# temporary credentials

$r = call(action => 'BankCardOCR', body => jbody(ImageBase64 => b64($card)),
          secret_id => $TMP_ID, secret_key => $TMP_KEY, token => $TMP_TOKEN);
is(code_of($r), '(no error)', 'token: the right one') or diag($r->{raw});

$r = refused('AuthFailure.TokenFailure', 'token: mismatch',
             action => 'BankCardOCR', body => jbody(ImageBase64 => b64($card)),
             secret_id => $TMP_ID, secret_key => $TMP_KEY,
             token => 'otherToken');
unlike($r->{body}, qr/\Q$TMP_TOKEN\E|\Q$TMP_KEY\E|otherToken/,
       'token: never echoed');
refused('AuthFailure.TokenFailure', 'token: missing',
        action => 'BankCardOCR', body => jbody(ImageBase64 => b64($card)),
        secret_id => $TMP_ID, secret_key => $TMP_KEY);
refused('AuthFailure.TokenFailure', 'token: sent for permanent credentials',
        action => 'BankCardOCR', body => jbody(ImageBase64 => b64($card)),
        token => $TMP_TOKEN);

# refusals: the headers, in the order checked

my $good = jbody(ImageBase64 => b64($img));
my %biz = (action => 'BusinessCardOCR', body => $good);

$r = send_raw("GET / HTTP/1.1\r\nHost: $host\r\n\r\n");
is($r->{status}, 404, 'GET: 404');
is($r->{headers}{'content-type'}, 'text/html', 'GET: HTML');
is(call(%biz, path => '/ocr/namecard')->{status}, 404, 'another path: 404');
is(call(%biz, path => '/?Action=BusinessCardOCR')->{status}, 404,
   'a query: 404');

refused('InvalidParameter', 'Content-Type with charset, signed as sent',
        %biz, content_type => 'application/json; charset=utf-8');
refused('InvalidParameter', 'Content-Type text/plain',
        %biz, content_type => 'text/plain');
refused('InvalidParameter', 'Content-Type twice', %biz,
        headers => [['Content-Type', 'application/json']]);
like(call(%biz, content_type => 'application/json; charset=utf-8')
         ->{json}{Response}{Error}{Message},
     qr/exactly application\/json/, 'Content-Type: the message says so');

refused('InvalidAction', 'an unknown action', %biz,
        action => 'GeneralBasicOCR');
refused('NoSuchVersion', 'another version', %biz, version => '2019-01-01');

my $now = int time;
refused('AuthFailure.SignatureExpire', 'a timestamp 301 s old', %biz,
        timestamp => $now - 301);
refused('AuthFailure.SignatureExpire', 'a timestamp 310 s ahead', %biz,
        timestamp => $now + 310);
is(code_of(call(%biz, timestamp => $now - 290)), '(no error)',
   'a timestamp 290 s old: accepted');
refused('AuthFailure.SignatureExpire', 'a timestamp not an integer', %biz,
        timestamp => "$now.5");

refused('UnsupportedRegion', 'an unknown region', %biz,
        region => 'eu-frankfurt');
for my $region (qw(ap-guangzhou ap-shanghai ap-beijing ap-hongkong
                   ap-singapore na-toronto))
{
    is(code_of(call(%biz, region => $region)), '(no error)',
       "region $region: accepted");
}

# the signature

my $ts = int time;
my $auth = QocrTest::tc3_sign(timestamp => $ts, host => $host, body => $good);

refused('AuthFailure.SignatureFailure', 'no Authorization', %biz,
        omit => ['Authorization']);
refused('AuthFailure.SignatureFailure', 'an empty Authorization', %biz,
        authorization => '');
refused('InvalidAction', 'no X-TC-Action', %biz, omit => ['X-TC-Action']);
refused('NoSuchVersion', 'no X-TC-Version', %biz, omit => ['X-TC-Version']);
refused('AuthFailure.SignatureExpire', 'no X-TC-Timestamp', %biz,
        omit => ['X-TC-Timestamp']);
refused('InvalidParameter', 'no Content-Type', %biz,
        omit => ['Content-Type']);
is(call(%biz, omit => ['Host'])->{status}, 400, 'no Host: 400');
refused('AuthFailure.SignatureFailure', 'Authorization in upper-case hex',
        %biz, timestamp => $ts,
        authorization => $auth =~ s/Signature=(\w+)/'Signature=' . uc $1/er);
refused('AuthFailure.SignatureFailure', 'other signed headers', %biz,
        timestamp => $ts,
        authorization =>
            $auth =~ s/host, /host;x-tc-action, /r);
refused('AuthFailure.SignatureFailure', 'another service in the scope',
        %biz, timestamp => $ts, authorization => scalar QocrTest::tc3_sign(
            timestamp => $ts, host => $host, body => $good,
            service => 'cvm'));
refused('AuthFailure.SignatureFailure', 'a wrong signature', %biz,
        timestamp => $ts,
        authorization =>
            $auth =~ s/Signature=(.)/'Signature=' . ($1 eq 'a' ? 'b' : 'a')/er);
refused('AuthFailure.SignatureFailure', 'signed with a wrong key', %biz,
        secret_key => 'wrongKey');
refused('AuthFailure.SignatureFailure', 'another host signed', %biz,
        timestamp => $ts, authorization => scalar QocrTest::tc3_sign(
            timestamp => $ts, host => 'ocr.tencentcloudapi.com',
            body => $good));
refused('AuthFailure.SignatureFailure', 'another body signed', %biz,
        timestamp => $ts, authorization => scalar QocrTest::tc3_sign(
            timestamp => $ts, host => $host, body => "$good "));
refused('AuthFailure.SecretIdNotFound', 'an unknown SecretId', %biz,
        secret_id => 'AKIDunknown0000');
refused('AuthFailure.SignatureFailure', "another day's date in the scope",
        %biz, date => strftime('%Y-%m-%d', gmtime($now - 86400)));

# the body

refused('InvalidParameter', 'two images', action => 'BusinessCardOCR',
        body => jbody(ImageBase64 => b64($img),
                      ImageUrl => 'https://example.com/a.jpg'));
refused('InvalidParameter', 'no image', action => 'BankCardOCR',
        body => jbody(RetBorderCutImage => JSON::PP::true));
refused('InvalidParameter', 'an unknown key', action => 'BusinessCardOCR',
        body => jbody(ImageBase64 => b64($img), Foo => 'bar'));
refused('InvalidParameter', "the bank card's key to BusinessCardOCR",
        action => 'BusinessCardOCR',
        body => jbody(ImageBase64 => b64($img),
                      RetBorderCutImage => JSON::PP::true));
refused('InvalidParameter', 'RetCardNoImage (not sent by the module)',
        action => 'BankCardOCR',
        body => jbody(ImageBase64 => b64($img),
                      RetCardNoImage => JSON::PP::true));
refused('InvalidParameter', 'a flag as a string', action => 'BankCardOCR',
        body => jbody(ImageBase64 => b64($img), EnableCopyCheck => 'true'));
refused('InvalidParameter', 'a flag as a number', action => 'BankCardOCR',
        body => '{"ImageBase64":"' . b64($img) . '","EnableCopyCheck":1}');
refused('InvalidParameter', 'ImageBase64 null', action => 'BankCardOCR',
        body => '{"ImageBase64":null}');
refused('InvalidParameter', 'a repeated key', action => 'BusinessCardOCR',
        body => '{"ImageBase64":"' . b64($img) . '","ImageBase64":"'
                . b64($img) . '"}');
refused('InvalidParameter', 'a newline after the object', %biz,
        body => "$good\n");
refused('InvalidParameter', 'bytes after the object', %biz,
        body => "$good$good");
refused('InvalidParameter', 'an array', %biz, body => "[$good]");
refused('InvalidParameter', 'not JSON', %biz, body => 'image=abc');
refused('InvalidParameter', 'an empty body', %biz, body => '');
is(code_of(call(%biz, body => '{ "ImageBase64" : "' . b64($img) . '" }')),
   '(no error)', 'whitespace inside the object: accepted');

refused('FailedOperation.EmptyImageError', 'an empty image', %biz,
        body => jbody(ImageBase64 => ''));
refused('InvalidParameterValue', 'an empty ImageUrl', %biz,
        body => jbody(ImageUrl => ''));
refused('InvalidParameterValue', 'base64 with a newline', %biz,
        body => jbody(ImageBase64 => encode_base64($img x 10)));
refused('InvalidParameterValue', 'base64 unpadded', %biz,
        body => jbody(ImageBase64 => b64('ab') =~ s/=+$//r));
refused('InvalidParameterValue', 'base64url', %biz,
        body => jbody(ImageBase64 => b64("\xfb\xff\xbf") =~ tr{+/}{-_}r));

my $limit = 7 * 1024 * 1024;
is(code_of(call(%biz, body => jbody(ImageBase64 =>
                                    b64(jpeg(_size => $limit / 4 * 3))))),
   '(no error)', 'namecard: 7 MB of base64 accepted');
refused('LimitExceeded.TooLargeFileError', 'namecard: over 7 MB of base64',
        %biz, body => jbody(ImageBase64 => 'AAAA' x ($limit / 4 + 1)));
is(code_of(call(action => 'BankCardOCR',
                body => jbody(ImageBase64 => 'AAAA' x ($limit / 4 + 1)))),
   '(no error)', 'bank card: over 7 MB accepted');
refused('LimitExceeded.TooLargeFileError', 'bank card: over 10 MB of base64',
        action => 'BankCardOCR',
        body => jbody(ImageBase64 => 'AAAA' x (10 * 1024 * 1024 / 4 + 1)));

# markers: an error, faults

refused('FailedOperation.ImageNoBusinessCard', 'error marker', %biz,
        body => jbody(ImageBase64 => b64(
            jpeg(error => 'FailedOperation.ImageNoBusinessCard'))));
refused('RequestLimitExceeded', 'error marker, bank card',
        action => 'BankCardOCR',
        body => jbody(ImageBase64 =>
                      b64(jpeg(error => 'RequestLimitExceeded'))));

sub faulty {
    my ($f, %o) = @_;
    return call(%biz, body => jbody(ImageBase64 => b64(jpeg(fault => $f))),
                %o);
}

for ([http500 => 500], [http503 => 503], [http429 => 429]) {
    my ($f, $status) = @$_;
    $r = faulty($f);
    is($r->{status}, $status, "fault=$f: $status");
    is($r->{headers}{'content-type'}, 'text/html', "fault=$f: HTML");
}

$r = faulty('http500json');
is($r->{status}, 500, 'fault=http500json: 500');
is(code_of($r), 'InternalError', 'fault=http500json: a service error');

$r = faulty('nonjson');
is($r->{status}, 200, 'fault=nonjson: 200');
ok(!$r->{json} && $r->{body} =~ /^<html>/, 'fault=nonjson: HTML');

$r = faulty('chunked');
is($r->{headers}{'transfer-encoding'}, 'chunked', 'fault=chunked: chunked');
is($r->{json}{Response}{BusinessCardInfos}[0]{Value}, '张三',
   'fault=chunked: the reply');

$r = faulty('close');
ok(!defined $r->{headers}{'content-length'} && $r->{json},
   'fault=close: the reply ended by closing');

$r = faulty('truncate');
ok($r->{headers}{'content-length'} > length $r->{body},
   'fault=truncate: shorter than its Content-Length');

$r = faulty('badstatus');
like($r->{raw}, qr{^HTTP/1\.1 xyz OK\r\n\r\n\z}, 'fault=badstatus');

$r = faulty('reset');
is($r->{raw}, '', 'fault=reset: nothing');

$r = faulty('huge');
ok(length($r->{body}) > 2 * 1024 * 1024 && $r->{json},
   'fault=huge: over 2 MB of JSON');

$r = faulty('connclose');
is($r->{headers}{connection}, 'close', 'fault=connclose: Connection: close');

$r = call(%biz, body => jbody(ImageBase64 => b64(jpeg(fault => 'trailing'))),
          eof => 1);
like($r->{raw}, qr/\}\}JUNK\z/, 'fault=trailing: junk after the reply');

$r = call(%biz, eof => 1, body => jbody(ImageBase64 => b64(
    jpeg(error => 'InternalError', fault => 'chunked'))));
is(code_of($r), 'InternalError', 'an error marker with a fault');

my $t0 = time;
$r = call(%biz, body => jbody(ImageBase64 => b64(jpeg(delay => 0.5))));
ok(time - $t0 >= 0.5, 'delay=0.5: waited');
is(code_of($r), '(no error)', 'delay: then the reply');

# records, accepts, keepalive

$t->clear_records;
is(scalar($t->records), 0, 'clear_records: no records');
is($t->accepts, 0, 'clear_records: no accepts');

my $one = QocrTest::tc3_request(host => $host, %biz);
my $two = QocrTest::tc3_request(host => $host, action => 'BankCardOCR',
                                body => jbody(ImageBase64 => b64($card)));
$r = send_raw($one . $two, eof => 1);
my @ids = $r->{raw} =~ /"RequestId":"([^"]+)"/g;
is(scalar @ids, 2, 'keepalive: two replies on one connection');
isnt($ids[0], $ids[1], 'keepalive: two RequestIds');
is_deeply([ $t->records ], [ $one, $two ], 'records: both, raw');
my @conns = $t->connections;
is(scalar(@conns), 2, 'connections: two requests');
is($conns[0], $conns[1], 'connections: on the same connection');
is($t->accepts, 1, 'accepts: one');

# calls in flight

$t->clear_records;
is($t->max_inflight, 0, 'max_inflight: 0 after clear_records');

my @socks;
$t0 = time;

for my $i (1 .. 3) {
    my $s = connect_to($port);
    binmode $s;
    print $s QocrTest::tc3_request(host => $host, action => 'BankCardOCR',
        body => jbody(ImageBase64 => b64(jpeg(delay => 1, n => $i))));
    push @socks, $s;
}

my @codes = map { code_of(QocrTest::parse_response(read_reply($_))) } @socks;
close $_ for @socks;

is_deeply(\@codes, [ ('(no error)') x 3 ], 'three delayed calls answered');
ok(time - $t0 < 2.5, 'three delayed calls: at once');
is($t->max_inflight, 3, 'max_inflight: 3 with 3 concurrent delayed calls');

ok(-e $t->dir . '/record/inflight', 'in flight: counted in DIR/inflight');
for (1 .. 40) { last if $t->inflight == 0; sleep 0.05 }
is($t->inflight, 0, 'in flight: back to 0');

$t->clear_records;
call(%biz) for 1 .. 2;
is($t->max_inflight, 1, 'max_inflight: 1 for calls one after another');
is($t->max_inflight('nosuch'), 0, 'max_inflight: 0 without a file');

# --always: for every call; the image's own markers win

my $ap = $t->fake(v3 => 1, name => 'always',
                  always => 'error=RequestLimitExceeded;delay=0.1');
$r = call(%biz, port => $ap);
is(code_of($r), 'RequestLimitExceeded', '--always: every call');
$r = call(%biz, port => $ap,
          body => jbody(ImageBase64 => b64(jpeg(error => 'InternalError'))));
is(code_of($r), 'InternalError', "--always: the image's marker wins");
refused('AuthFailure.SecretIdNotFound', '--always: after the checks', %biz,
        port => $ap, secret_id => 'AKIDunknown0000');
is(scalar($t->records('always')), 3, "records of the named fake");
is($t->accepts('always'), 4,
   "accepts of the named fake: 3 and the harness's probe at start");
is($t->max_inflight('always'), 1, 'max_inflight of the named fake');

# --reset: recorded, then reset

my $rp = $t->fake(v3 => 1, name => 'reset', reset => 1);
$r = call(%biz, port => $rp);
is($r->{raw}, '', '--reset: nothing back');
is(scalar($t->records('reset')), 1, '--reset: recorded');

# --tls

SKIP: {
    skip 'no openssl or IO::Socket::SSL', 3
        unless `openssl version 2>/dev/null`
               && eval { require IO::Socket::SSL };

    my %c = $t->make_certs('tc3');
    my $tp = $t->fake(v3 => 1, name => 'tls', tls => "$c{cert}:$c{key}");
    $r = call(%biz, port => $tp, tls => $c{ca});
    is(code_of($r), '(no error)', '--tls: a call over TLS') or diag($r->{raw});
    is(scalar($t->records('tls')), 1, '--tls: recorded');

    open my $sni, '<', $t->dir . '/record-tls/sni';
    like(scalar(<$sni> // ''), qr/^\d+ ocr\.test reused=0$/, '--tls: SNI');
}

done_testing();
