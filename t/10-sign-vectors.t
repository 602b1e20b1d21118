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

done_testing();
