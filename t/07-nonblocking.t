# One worker, one slow OCR call in flight: other requests to the same
# worker are answered at once.  Shown by the order of the answers.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location));

sub send_req {
    my ($img) = @_;
    my ($type, $body) = multipart(['file', 'a.jpg', $img]);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die $!;
    print $s "POST /ocr/namecard HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             . "Content-Type: $type\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    return $s;
}

my $start = time;
my $slow = send_req(jpeg(name => 'Slow', delay => 2));
select(undef, undef, undef, 0.2);
my @fast = map { send_req(jpeg(name => "Fast$_")) } 1 .. 3;

my %done;
my %buf;
my $sel = IO::Select->new($slow, @fast);
my @order;

while ($sel->count && time - $start < 10) {
    for my $s ($sel->can_read(10)) {
        my $n = sysread($s, $buf{$s}, 65536, length($buf{$s} // ''));
        next if $n;
        $sel->remove($s);
        push @order, $s == $slow ? 'slow' : 'fast';
        $done{$s} = time - $start;
    }
}

is_deeply(\@order, [qw(fast fast fast slow)],
          'the fast requests finish while the slow one waits');
cmp_ok($done{$_}, '<', 1.5, 'a fast request took under 1.5 s') for @fast;
cmp_ok($done{$slow}, '>=', 2, 'the slow one took its 2 s');
like($buf{$slow}, qr/"value":"Slow"/, 'the slow one is answered in full');
like($buf{$_}, qr/"value":"Fast\d"/, 'a fast one is answered in full')
    for @fast;

$t->done;
