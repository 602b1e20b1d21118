# nginx -s reload with 50 OCR calls in flight: every one is answered, each
# with its own result; new credentials in the qocr_credentials file take
# effect for the requests after the reload.

use strict;
use warnings;

use lib 't/lib';
use IO::Select;
use IO::Socket::INET;
use Test::More;
use QocrTest;
use Time::HiRes qw(sleep time);

my $t = QocrTest->new;
my $dir = $t->dir;

my ($new_id, $new_key) = ('AKIDrotatedSecretId11111111111111', 'rotatedKey22222');
my $fake = $t->fake(secrets => [ "$new_id:$new_key" ]);

sub credentials {
    my ($id, $key) = @_;
    open my $fh, '>', "$dir/conf/qocr.secret" or die $!;
    print $fh "secret_id $id\nsecret_key $key\n";
    close $fh;
    chmod 0600, "$dir/conf/qocr.secret";
}

credentials($QocrTest::SECRET_ID, $QocrTest::SECRET_KEY);

my $loc = $t->qocr_location(extra => '            qocr_credentials qocr.secret;');
$loc =~ s/^\s*qocr_secret_(id|key) .*\n//mg;

$t->start($t->server($loc));
my $master = $t->{nginx_pid};
my $old_worker = $t->worker_pid;

# 50 calls, each taking the service 1.5 s

my @socks;

for my $i (1 .. 50) {
    my ($type, $body) = multipart(['file', "r$i.jpg",
                                   jpeg(name => "R$i", delay => 1.5)]);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die "connect: $!";
    binmode $s;
    syswrite($s, "POST /ocr/namecard HTTP/1.1\r\nHost: x\r\n"
                 . "Connection: close\r\nContent-Type: $type\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body");
    push @socks, [$i, $s, ''];
}

# wait until all 50 reached the service, then rotate the key and reload

my $deadline = time + 10 * QocrTest::slow();
sleep 0.05 while $t->records < 50 && time < $deadline;
is(scalar $t->records, 50, '50 calls in flight');

credentials($new_id, $new_key);
kill 'HUP', $master;

my $sel = IO::Select->new(map { $_->[1] } @socks);
my %by_sock = map { ($_->[1] => $_) } @socks;
$deadline = time + 20 * QocrTest::slow();

while ($sel->count && time < $deadline) {
    for my $s ($sel->can_read(1)) {
        my $n = sysread($s, $by_sock{$s}[2], 65536, length $by_sock{$s}[2]);
        next if $n;
        $sel->remove($s);
        close $s;
    }
}

my $ok = 0;

for my $c (@socks) {
    my ($i, undef, $raw) = @$c;
    my $r = QocrTest::parse_response($raw);

    if (($r->{status} // 0) == 200
        && ($r->{json}{results}[0]{fields}{name}{value} // '') eq "R$i")
    {
        $ok++;

    } else {
        diag("request $i: " . substr($raw, 0, 300));
    }
}

is($ok, 50, 'all 50 answered 200 with their own results across the reload');

# the new worker signs with the new credentials

$deadline = time + 30 * QocrTest::slow();
sleep 0.1 while kill(0, $old_worker) && time < $deadline;
ok(!kill(0, $old_worker), 'the old worker exited once its requests were done');

$t->clear_records;
my $r = $t->post_images(['n.jpg', jpeg(name => 'New')]);
is($r->{status}, 200, 'after the reload: 200') or diag($r->{raw});

my $u = QocrTest::parse_recorded(($t->records)[-1]);
my ($valid, $plain, %f) =
    QocrTest::check_signature($u->{headers}{authorization}, $new_key);
ok($valid, 'after the reload: signed with the new key');
is($f{k}, $new_id, 'after the reload: the new SecretId');

unlike($t->error_log, qr/\Q$new_key\E|\Q$QocrTest::SECRET_KEY\E/,
       'no key in the error log');

$t->done;
