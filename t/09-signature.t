# The signature the OCR service receives: it verifies with the secret key,
# e - t is qocr_sign_ttl, t is now, r is fresh for every request.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location(
    extra => '            qocr_sign_ttl 2m;')));

my (@plain, %f, @r);

for (1 .. 3) {
    my $r = $t->post_images(['a.jpg', jpeg(name => "S$_")]);
    is($r->{json}{results}[0]{fields}{name}{value}, "S$_",
       "request $_ accepted by the service's own check");
}

my @rec = map { QocrTest::parse_recorded($_) } $t->records;
is(scalar @rec, 3, 'three upstream requests');

for my $u (@rec) {
    my ($ok, $plain, %f) = QocrTest::check_signature(
        $u->{headers}{authorization}, $QocrTest::SECRET_KEY);

    ok($ok, 'the HMAC-SHA1 verifies');
    like($plain, qr/^a=\d+&b=[^&]+&k=[^&]+&e=\d+&t=\d+&r=\d+&u=0&f=$/,
         'the plain text has the contract\'s fields, in order');
    is($f{a}, $QocrTest::APPID, 'a is the AppID');
    is($f{b}, $QocrTest::BUCKET, 'b is the bucket');
    is($f{k}, $QocrTest::SECRET_ID, 'k is the SecretId');
    is($f{e} - $f{t}, 120, 'e - t is qocr_sign_ttl');
    cmp_ok(abs($f{t} - time), '<=', 5, 't is now');
    like($f{r}, qr/^\d{1,10}$/, 'r is a decimal of at most 10 digits');
    push @r, $f{r};
}

my %seen = map { $_ => 1 } @r;
is(scalar keys %seen, 3, 'r differs between requests');

# a wrong key is refused by the service (code 5), an expired one (code 9)

my $bad = QocrTest->new;
$bad->start($bad->server($bad->qocr_location(extra => '')
    =~ s/\Q$QocrTest::SECRET_KEY\E/wrongKeyExample000000000000000/r));
my $r = $bad->post_images(['a.jpg', jpeg()]);
is($r->{json}{error}{code}, 'upstream_auth_failed', 'a wrong key: auth failed');
is($r->{json}{error}{upstream_code}, 5, '... code 5 from the service');
$bad->stop;

$t->done;
