# Every code of the business card seed's table mapped per contract section
# 5: positive codes fail the request with the mapped status, negative codes
# fail one image, which becomes an "ok": false result in a 200 reply.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location));

# request level: code => [status, normalized code]

my %request = (
    3   => [400, 'bad_request'],
    4   => [502, 'upstream_auth_failed'],
    5   => [502, 'upstream_auth_failed'],
    6   => [502, 'upstream_auth_failed'],
    7   => [502, 'upstream_auth_failed'],
    8   => [502, 'upstream_auth_failed'],
    9   => [502, 'upstream_auth_failed'],
    10  => [502, 'upstream_auth_failed'],
    11  => [502, 'upstream_auth_failed'],
    12  => [502, 'upstream_auth_failed'],
    13  => [502, 'upstream_auth_failed'],
    14  => [502, 'upstream_auth_failed'],
    15  => [429, 'rate_limited'],
    16  => [502, 'upstream_auth_failed'],
    17  => [400, 'no_image'],
    18  => [400, 'no_image'],
    19  => [413, 'too_many_images'],
    20  => [413, 'image_too_large'],
    21  => [400, 'bad_request'],
    200 => [502, 'upstream_error'],
    201 => [502, 'upstream_error'],
    202 => [502, 'upstream_error'],
    203 => [504, 'upstream_timeout'],
    999 => [502, 'upstream_error'],     # not in the seed
);

for my $code (sort { $a <=> $b } keys %request) {
    my ($status, $name) = @{ $request{$code} };
    my $r = $t->post_images(['a.jpg', jpeg(rcode => $code)],
                            ['b.jpg', jpeg()]);

    is($r->{status}, $status, "code $code: HTTP $status");
    is_deeply($r->{json}, {
        kind => 'namecard',
        error => { code => $name, message => $r->{json}{error}{message},
                   upstream_code => $code },
    }, "code $code: request-level $name");
    like($r->{json}{error}{message} // '', qr/\w/, "code $code: a message");
}

my $r = $t->post_images(['a.jpg', jpeg(rcode => 15)]);
is($r->{headers}{'retry-after'}, '7', 'code 15: the service\'s Retry-After');

like($t->error_log,
     qr/\[error\].*qocr: the OCR service refused the request's signature or account: code 5;/,
     'an auth failure is logged at error with its code');

# image level: code => normalized code

my %item = (
    -1102 => 'image_decode_failed',
    -1300 => 'image_empty',
    -1301 => 'bad_request',
    -1308 => 'url_fetch_failed',
    -1400 => 'unsupported_media_type',
    -1403 => 'url_fetch_failed',
    -1404 => 'not_recognized',
    -1505 => 'bad_request',
    -1506 => 'url_fetch_failed',
    -1507 => 'url_fetch_failed',
    -5062 => 'image_rejected',
    -5103 => 'not_recognized',
    -5208 => 'upstream_error',
    -7777 => 'upstream_error',          # not in the seed
);

for my $code (sort { $a <=> $b } keys %item) {
    my $r = $t->post_images(['ok.jpg', jpeg(name => 'Fine')],
                            ['bad.jpg', jpeg(code => $code)]);

    is($r->{status}, 200, "code $code: HTTP 200");
    is($r->{json}{results}[0]{fields}{name}{value}, 'Fine',
       "code $code: the other image succeeds");
    is_deeply($r->{json}{results}[1], result(
        index => 1, source => 'bad.jpg', ok => JSON::PP::false,
        error => { code => $item{$code},
                   message => $r->{json}{results}[1]{error}{message},
                   upstream_code => $code },
    ), "code $code: item error $item{$code}");
}

# a batch where one image in the middle fails

$r = $t->post_images(['a.jpg', jpeg(name => 'A')],
                     ['blurred.jpg', jpeg(code => -1404)],
                     ['c.jpg', jpeg(name => 'C')]);
is_deeply([ map { $_->{ok} ? 1 : 0 } @{ $r->{json}{results} } ], [1, 0, 1],
          'a batch: only the failing image fails');
is($r->{json}{results}[1]{error}{code}, 'not_recognized', '... not_recognized');

# the service returns fewer results than images sent

$r = $t->post_images(['a.jpg', jpeg(name => 'A')], ['b.jpg', jpeg(drop => 1)],
                     ['c.jpg', jpeg(name => 'C')]);
is($r->{status}, 200, 'a result missing: 200');
is($r->{json}{results}[2]{fields}{name}{value}, 'C',
   '... the others map back by filename');
is_deeply($r->{json}{results}[1]{error},
          { code => 'upstream_error',
            message => 'the OCR service returned no result for this image',
            upstream_code => undef },
          '... the missing one is an upstream_error item');

$t->done;
