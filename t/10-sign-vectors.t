# Known-answer tests of the signature (../shared/vectors/legacy-sign.tsv:
# two of its rows are Tencent's published examples), run through the
# module's own ngx_qocr_sign() by t/unit/sign-kat.c.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $top = $QocrTest::TOP;
my $bin = "$top/build/unit/sign-kat";
my ($vectors) = grep { -f } ("$top/t/data/legacy-sign.tsv",
                             "$top/../shared/vectors/legacy-sign.tsv");

ok(-x $bin, 'the unit program is built (make unit)') or BAIL_OUT('no sign-kat');
ok($vectors, 'the vectors are there');

my $out = `$bin $vectors`;
is($? >> 8, 0, 'every vector matches');

my @ok = $out =~ /^ok \d+/mg;
is(scalar @ok, 3, 'three known answers checked');
like($out, qr/^ok \d+ - a=1252821871&b=tencentyun&.*&f=$/m,
     'Tencent\'s published example');
like($out, qr/^ok \d+ - .*&f=tencentyunSignTest$/m,
     'Tencent\'s published example with a file id');
diag($out) if $?;

# TC3-HMAC-SHA256 (../shared/vectors/tc3-vectors.tsv: V0 is Tencent's own
# CVM example, the others OCR calls), run through the module's own plain
# functions by t/unit/tc3-kat.c: 8 rows of 6 checks each, V4 (it signs
# x-tc-action, which the module never does) skipped, and the V6/V7 midnight
# rollover.

my $tc3 = "$top/build/unit/tc3-kat";
my ($tc3_vectors) = grep { -f } ("$top/t/data/tc3-vectors.tsv",
                                 "$top/../shared/vectors/tc3-vectors.tsv");

ok(-x $tc3, 'the TC3 unit program is built (make unit)');
ok($tc3_vectors, 'the TC3 vectors are there');

my $tc3_out = `$tc3 $tc3_vectors`;
is($? >> 8, 0, 'every TC3 vector matches');

unlike($tc3_out, qr/^not ok/m, 'no TC3 check fails');
like($tc3_out, qr/^# 8 rows checked, 1 skipped$/m, 'eight TC3 rows checked');
like($tc3_out, qr/^1\.\.50$/m, 'fifty TC3 checks planned');
is(scalar(grep { !/ # skip | date rollover / } $tc3_out =~ /^ok .*$/mg), 48,
   'forty-eight TC3 checks pass');

for my $id (qw(V0-official-2019 V1-bank-url V1b-bank-url-ct-plain V2-biz-b64
               V3-bank-region V5-biz-unsigned V6-date-2359 V7-date-0000))
{
    my @ok = $tc3_out =~ /^ok \d+ - \Q$id\E (?!# )(.+)$/mg;
    my %what = map { $_ => 1 } @ok;

    is(scalar @ok, 6, "$id: six checks pass");
    ok($what{'string to sign'} && $what{'signing key'} && $what{'date'}
       && $what{'authorization'}
       && ($what{'payload hash'} || $what{'hash of UNSIGNED-PAYLOAD'}),
       "$id: payload hash, date, key, string to sign, Authorization");
}

like($tc3_out, qr/^ok \d+ - V4-bank-url-xtcaction # skip /m,
     'V4 (x-tc-action signed) skipped');
like($tc3_out, qr/^ok \d+ - V6\/V7 date rollover gives different signing keys$/m,
     'the date rollover changes the key');
diag($tc3_out) if $?;

done_testing();
