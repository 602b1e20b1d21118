# The benchmarks, run tiny so that they cannot rot: every part of
# bench/bench runs (wrk against A and B, the slow upstream, callgrind) and
# reports numbers with no error.  Not a measurement: nothing here asserts
# on speed.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

plan skip_all => 'the benchmarks run against Debian\'s nginx only'
    if $ENV{QOCR_SANITIZED} || $ENV{QOCR_VALGRIND} || $ENV{QOCR_NGINX};

my $out = `perl $QocrTest::TOP/bench/bench --smoke 2>&1`;
is($?, 0, 'bench/bench --smoke exits 0') or diag($out);

like($out, qr/^\| 10k \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 0\/0 \|$/m,
     'part 1: requests/s and latencies of A and B, no errors');
like($out, qr/^\| 20 \| A \| \d+ \| 13 \| [\d.]+% \| 0 \| \d+ \| \d+ \| -?[\d.]+ \|$/m,
     'part 2: the slow upstream through A, no errors');
like($out, qr/^\| 20 \| B \| \d+ \| 13 \| [\d.]+% \| 0 \| \d+ \| \d+ \| -?[\d.]+ \|$/m,
     'part 2: the slow upstream through B, no errors');
like($out, qr/^\| 10k \| \d+ \| \d+ \| [\d.]+ \|$/m,
     'part 3: instructions per request of A and B');

done_testing();
