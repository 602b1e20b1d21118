# The benchmarks, run tiny so that they cannot rot: every part of
# bench/bench runs (wrk against A, A3 and B, the slow upstream, callgrind,
# API 3.0's cost per byte against OpenSSL's, a batch) and reports numbers
# with no error.  Not a measurement: nothing here asserts on speed.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

plan skip_all => 'the benchmarks run against Debian\'s nginx only'
    if $ENV{QOCR_SANITIZED} || $ENV{QOCR_VALGRIND} || $ENV{QOCR_NGINX};

my $out = `perl $QocrTest::TOP/bench/bench --smoke 2>&1`;
is($?, 0, 'bench/bench --smoke exits 0') or diag($out);

like($out, qr/^\| 10k(?: \| [\d.]+){13} \| 0\/0\/0 \|$/m,
     'part 1: requests/s and latencies of A, A3 and B, no errors');
like($out, qr/^\| 20 \| A \| \d+ \| 13 \| [\d.]+% \| 0 \| \d+ \| \d+ \| -?[\d.]+ \|$/m,
     'part 2: the slow upstream through A, no errors');
like($out, qr/^\| 20 \| B \| \d+ \| 13 \| [\d.]+% \| 0 \| \d+ \| \d+ \| -?[\d.]+ \|$/m,
     'part 2: the slow upstream through B, no errors');
like($out, qr/^\| 10k(?: \| [\d.]+){5} \|$/m,
     'part 3: instructions per request of A, A3 and B');
like($out, qr/^\| reference: base64 \+ SHA-256 of 4\/3 bytes \| [\d.]+ \|$/m,
     'part 4: OpenSSL\'s cost per byte');
like($out, qr/^\| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$/m,
     'part 5: a batch through A3');

done_testing();
