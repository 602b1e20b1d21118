# API 3.0 errors: every row of contract section 8's table at the level it
# names, longest dotted prefixes, the batch rules (auth and billing stop the
# batch, a request-level error every image shares fails the request), and
# what the error log and the log variables say.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake(v3 => 1);
my ($id, $key) = ($QocrTest::SECRET_ID, $QocrTest::SECRET_KEY);

my $dir = $t->dir;

$t->start(<<'EOF0' . $t->server(<<"EOF", "        access_log $dir/logs/qocr.log qocr;"));
    log_format qocr '$qocr_kind $qocr_images "$qocr_upstream_code" '
                    '"$qocr_error" $status uaddr=$upstream_addr';
EOF0
        location = /ocr/namecard {
            qocr namecard;
            qocr_api v3;
            qocr_pass http://127.0.0.1:$fake;
            qocr_secret_id $id;
            qocr_secret_key $key;
        }

        location = /p1 {
            qocr namecard;
            qocr_api v3;
            qocr_parallel 1;
            qocr_pass http://127.0.0.1:$fake;
            qocr_secret_id $id;
            qocr_secret_key $key;
            qocr_read_timeout 1s;
        }

        location = /ocr/bankcard {
            qocr bankcard;
            qocr_api v3;
            qocr_pass http://127.0.0.1:$fake;
            qocr_secret_id $id;
            qocr_secret_key $key;
        }
EOF

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

sub last_log {
    open my $fh, '<', $t->dir . '/logs/qocr.log' or return '';
    my @l = <$fh>;
    chomp(my $l = $l[-1] // '');
    return $l;
}

# every code of the table, and sub-codes found by their dotted prefix:
# code => [normalized, level] (item: HTTP 200 with an item error, in a batch
# beside a good image; request: the whole request fails)

my %codes = (
    'InvalidParameter' => ['bad_request', 'item'],
    'InvalidParameterValue' => ['bad_request', 'item'],
    'InvalidParameterValue.InvalidImageBase64' => ['bad_request', 'item'],
    'FailedOperation.EmptyImageError' => ['image_empty', 'item'],
    'LimitExceeded.TooLargeFileError' => ['image_too_large', 'item'],
    'FailedOperation.ImageSizeTooLarge' => ['image_too_large', 'item'],
    'InvalidParameterValue.InvalidFileContentSize' => ['image_too_large',
                                                       'item'],
    'RequestSizeLimitExceeded' => ['image_too_large', 'item'],
    'FailedOperation.UnKnowFileTypeError' => ['unsupported_media_type',
                                              'item'],
    'FailedOperation.ImageDecodeFailed' => ['image_decode_failed', 'item'],
    'InvalidParameter.EngineImageDecodeFailed' => ['image_decode_failed',
                                                   'item'],
    'FailedOperation.NoBankCardError' => ['not_recognized', 'item'],
    'FailedOperation.ImageNoBusinessCard' => ['not_recognized', 'item'],
    'FailedOperation.ImageNoText' => ['not_recognized', 'item'],
    'FailedOperation.OcrFailed' => ['not_recognized', 'item'],
    'FailedOperation.DetectFailed' => ['not_recognized', 'item'],
    'FailedOperation.DownLoadError' => ['url_fetch_failed', 'item'],
    'ResourceUnavailable.ImageDownloadError' => ['url_fetch_failed', 'item'],
    'FailedOperation.IllegalBankCardError' => ['image_rejected', 'item'],
    'FailedOperation.ImageBlur' => ['image_rejected', 'item'],
    'FailedOperation.MultiCardError' => ['image_rejected', 'item'],
    'RequestLimitExceeded' => ['rate_limited', 'item'],
    'RequestLimitExceeded.UinLimitExceeded' => ['rate_limited', 'item'],
    'FailedOperation.EngineRecognizeTimeout' => ['upstream_timeout', 'item'],
    'ServiceUnavailable' => ['upstream_unavailable', 'item'],
    'ResourceInsufficient' => ['upstream_unavailable', 'item'],
    'ResourceUnavailable' => ['upstream_unavailable', 'item'],
    'ResourceUnavailable.Other' => ['upstream_unavailable', 'item'],
    'InternalError' => ['upstream_error', 'item'],
    'InternalError.Something' => ['upstream_error', 'item'],
    'FailedOperation' => ['upstream_error', 'item'],
    'FailedOperation.UnknownThing' => ['upstream_error', 'item'],
    'NoSuchCode' => ['upstream_error', 'item'],
    'AuthFailure' => ['upstream_auth_failed', 'request'],
    'AuthFailure.SignatureFailure' => ['upstream_auth_failed', 'request'],
    'AuthFailure.SignatureExpire' => ['upstream_auth_failed', 'request'],
    'AuthFailure.SecretIdNotFound' => ['upstream_auth_failed', 'request'],
    'UnauthorizedOperation' => ['upstream_auth_failed', 'request'],
    'UnsupportedRegion' => ['upstream_auth_failed', 'request'],
    'IpInBlacklist' => ['upstream_auth_failed', 'request'],
    'IpNotInWhitelist' => ['upstream_auth_failed', 'request'],
    'ResourceUnavailable.InArrears' => ['upstream_billing', 'request'],
    'ResourceUnavailable.ResourcePackageRunOut' => ['upstream_billing',
                                                    'request'],
    'FailedOperation.ArrearsError' => ['upstream_billing', 'request'],
    'ResourcesSoldOut.ChargeStatusException' => ['upstream_billing',
                                                 'request'],
    'FailedOperation.UnOpenError' => ['upstream_billing', 'request'],
    'FailedOperation.CountLimitError' => ['upstream_billing', 'request'],
    'LimitExceeded' => ['upstream_billing', 'request'],
    'LimitExceeded.Other' => ['upstream_billing', 'request'],
);

for my $code (sort keys %codes) {
    my ($norm, $level) = @{ $codes{$code} };

    my $r = post('/ocr/namecard', ['ok.jpg', jpeg(name => 'Fine')],
                 ['bad.jpg', jpeg(error => $code)]);

    if ($level eq 'item') {
        is($r->{status}, 200, "$code: 200");
        is_deeply($r->{json}{results}[1]{error},
                  { code => $norm, upstream_code => $code,
                    message => $r->{json}{results}[1]{error}{message} },
                  "$code: an item error $norm, the code as a string");
        ok($r->{json}{results}[0]{ok}, "$code: the other image succeeds");
        like($r->{json}{results}[1]{request_id}, qr/^[0-9a-f-]{36}$/,
             "$code: the item carries its RequestId");

    } else {
        is($r->{status}, 502, "$code: 502");
        is_deeply($r->{json}{error},
                  { code => $norm, upstream_code => $code,
                    message => $r->{json}{error}{message} },
                  "$code: the request fails with $norm");
    }
}

# a one-image request answers as under the legacy API: the request-level
# errors take their status

for my $c (['RequestLimitExceeded', 429, 'rate_limited'],
           ['FailedOperation.EngineRecognizeTimeout', 504, 'upstream_timeout'],
           ['ServiceUnavailable', 502, 'upstream_unavailable'],
           ['InternalError', 502, 'upstream_error'])
{
    my ($code, $status, $norm) = @$c;
    my $r = post('/ocr/namecard', ['a.jpg', jpeg(error => $code)]);
    is($r->{status}, $status, "one image, $code: $status");
    is($r->{json}{error}{code}, $norm, "... $norm");
    is($r->{json}{error}{upstream_code}, $code, '... the service\'s code');
}

my $r = post('/ocr/namecard', ['a.jpg', jpeg(error => 'RequestLimitExceeded')]);
is($r->{headers}{'retry-after'}, '1', 'rate_limited: Retry-After: 1');

$r = post('/ocr/namecard', ['a.jpg', jpeg(error => 'FailedOperation.ImageNoText')]);
is($r->{status}, 200, 'one image, an item-only error: 200 with the item');
is($r->{json}{results}[0]{error}{code}, 'not_recognized', '... not_recognized');
sleep 0.2;
like(last_log(), qr/^namecard 1 "FailedOperation\.ImageNoText" "not_recognized" 200 uaddr=127\.0\.0\.1:$fake$/,
   '$qocr_upstream_code holds the string code, $qocr_error the item error, '
   . '$upstream_addr the call\'s');

post('/ocr/namecard', ['a.jpg', jpeg()], ['b.jpg', jpeg()]);
sleep 0.2;
like(last_log(), qr/^namecard 2 "-" "-" 200 uaddr=127\.0\.0\.1:$fake : 127\.0\.0\.1:$fake$/,
     'two calls: $qocr_images 2, no code, $upstream_addr of both');

$r = post('/ocr/namecard', map { ["$_.jpg", jpeg(error => 'RequestLimitExceeded')] }
                               1 .. 3);
is($r->{status}, 429, 'three images all rate limited: 429');

$r = post('/ocr/namecard', ['a.jpg', jpeg(error => 'RequestLimitExceeded')],
          ['b.jpg', jpeg(error => 'InternalError')]);
is($r->{status}, 200, 'two different request-level errors: 200 with items');

# not the service's reply: HTTP statuses, non-JSON

for my $c (['http500', 502, 'upstream_unavailable'],
           ['http503', 502, 'upstream_unavailable'],
           ['http429', 502, 'upstream_error'],
           ['nonjson', 502, 'upstream_error'],
           ['truncate', 502, 'upstream_error'],
           ['reset', 502, 'upstream_unavailable'],
           ['badstatus', 502, 'upstream_error'])
{
    my ($fault, $status, $norm) = @$c;
    $r = post('/ocr/namecard', ['a.jpg', jpeg(fault => $fault)]);
    is($r->{status}, $status, "fault $fault: $status");
    is($r->{json}{error}{code}, $norm, "fault $fault: $norm");

    $r = post('/ocr/namecard', ['a.jpg', jpeg(fault => $fault)],
              ['b.jpg', jpeg(name => 'B')]);
    is($r->{status}, 200, "fault $fault in a batch: 200");
    is($r->{json}{results}[0]{error}{code}, $norm, "... an item $norm");
    is($r->{json}{results}[1]{fields}{name}{value}, 'B', '... B is read');
}

for my $fault (qw(chunked close trailing connclose)) {
    $r = post('/ocr/namecard', ['a.jpg', jpeg(fault => $fault, name => 'F')]);
    is($r->{json}{results}[0]{fields}{name}{value}, 'F',
       "fault $fault: the reply is read");
}

$r = post('/p1', ['a.jpg', jpeg(delay => 3)]);
is($r->{status}, 504, 'a call that times out, one image: 504');
is($r->{json}{error}{code}, 'upstream_timeout', '... upstream_timeout');

# a batch where one image is billed and failed and the rest succeed

$t->clear_records;
$r = post('/p1', ['a.jpg', jpeg(name => 'A')],
          ['b.jpg', jpeg(error => 'FailedOperation.ImageNoBusinessCard')],
          ['c.jpg', jpeg(name => 'C')]);
is($r->{status}, 200, 'one image failed in a batch: 200');
is_deeply([ map { $_->{ok} ? 1 : 0 } @{ $r->{json}{results} } ], [1, 0, 1],
          '... only it failed');
is(scalar $t->records, 3, '... three calls');

# auth failure mid-batch stops the rest

$t->clear_records;
$r = post('/p1', ['a.jpg', jpeg(name => 'A')],
          ['b.jpg', jpeg(error => 'AuthFailure.SignatureFailure')],
          map { ["$_.jpg", jpeg(name => $_)] } qw(c d e));
is($r->{status}, 502, 'auth failure mid-batch: 502');
is($r->{json}{error}{code}, 'upstream_auth_failed', '... upstream_auth_failed');
is($r->{json}{error}{upstream_code}, 'AuthFailure.SignatureFailure',
   '... the code');
is(scalar $t->records, 2, '... and no call after it');

$t->clear_records;
$r = post('/p1', ['a.jpg', jpeg(error => 'ResourceUnavailable.InArrears')],
          ['b.jpg', jpeg(name => 'B')]);
is($r->{status}, 502, 'billing failure: 502');
is($r->{json}{error}{code}, 'upstream_billing', '... upstream_billing');
is(scalar $t->records, 1, '... and no call after it');

# with four in flight, the failing call closes the others

$t->clear_records;
my $logged = length $t->error_log;
my $start = time;
$r = post('/ocr/namecard', ['a.jpg', jpeg(error => 'AuthFailure', delay => 0.3)],
          map { ["$_.jpg", jpeg(name => $_, delay => 3 * QocrTest::slow())] }
              qw(b c d e f));
is($r->{status}, 502, 'auth failure with calls in flight: 502');
ok(time - $start < 2 * QocrTest::slow(),
   '... at once, not after the calls in flight');
is(scalar $t->records, 4, '... no call started after it');
my @closed = substr($t->error_log, $logged) =~ /qocr: call \d+ closed: the batch failed/g;
is(scalar @closed, 3, '... the three in flight were closed');

# the error log: the code and what to check, never a secret

my $log = $t->error_log;
like($log, qr/\[error\].*refused the request's signature or account: AuthFailure\.SignatureExpire.*clock/,
     'SignatureExpire: logged at error with a clock hint');
like($log, qr/\[error\].*refused the account: ResourceUnavailable\.InArrears/,
     'billing: logged at error');
unlike($log, qr/\Q$key\E/, 'the secret key is never logged');

# bank cards

$r = post('/ocr/bankcard', ['c.jpg', jpeg(error => 'FailedOperation.NoBankCardError')]);
is($r->{status}, 200, 'bank card not recognized: 200');
is($r->{json}{results}[0]{error}{code}, 'not_recognized', '... an item error');
$r = post('/ocr/bankcard', ['c.jpg', jpeg(error => 'FailedOperation.ArrearsError')]);
is($r->{status}, 502, 'bank card, arrears: 502');
is($r->{json}{error}{code}, 'upstream_billing', '... upstream_billing');

$t->done;
