# Faults on the client side: a client that aborts mid-upload, or while the
# OCR call is in flight; a slow client hitting client_body_timeout; a body
# over client_max_body_size.  No worker crashes, the upstream connection is
# closed, and nothing leaks: the worker's file descriptors come back to
# where they were and no client temp file is left.

use strict;
use warnings;

use lib 't/lib';
use IO::Socket::INET;
use Test::More;
use QocrTest;
use Time::HiRes qw(sleep time);

my $t = QocrTest->new;
my $dir = $t->dir;

$t->start($t->server($t->qocr_location(
                         extra => '            qocr_max_image_size 300k;'),
                     "        client_body_buffer_size 4k;\n"
                     . "        client_body_timeout 1s;\n"
                     . "        client_max_body_size 400k;"));

my $worker = $t->worker_pid;
ok($worker, "the worker: $worker");

sub fds {
    opendir my $d, "/proc/$worker/fd" or return -1;
    my @f = grep { !/^\./ } readdir $d;
    return scalar @f;
}

# client temp files are unlinked as soon as they are made: they are seen
# as the worker's open files, and on disk if one were left behind

sub temp_files {
    my @open = grep { (readlink($_) // '') =~ m{/client_body_temp/} }
               glob("/proc/$worker/fd/*");
    my @disk = grep { -f } glob("$dir/client_body_temp/*");
    return @open + @disk;
}

sub wait_for {
    my ($cond) = @_;
    for (1 .. 100 * QocrTest::slow()) {
        return 1 if $cond->();
        sleep 0.05;
    }
    return 0;
}

sub settle {
    my ($want) = @_;
    for (1 .. 50 * QocrTest::slow()) {
        return 1 if fds() == $want && temp_files() == 0;
        sleep 0.1;
    }
    return 0;
}

# a warm-up request opens the log files and the like

my $r = $t->post_images(['w.jpg', jpeg()]);
is($r->{status}, 200, 'warm-up: 200');
sleep 0.3;
my $base = fds();
ok($base > 0, "the worker's open files: $base");

sub connect_nginx {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port)
        or die "connect: $!";
    binmode $s;
    return $s;
}

my ($type, $body) = multipart(['file', 'big.jpg',
                               jpeg(name => 'Big', delay => 2)
                               . ("\xab" x 200000)]);

# 1. an abort in the middle of the upload (the body is in a temp file)

$t->clear_records;
my $s = connect_nginx();
syswrite($s, "POST /ocr/namecard HTTP/1.1\r\nHost: x\r\nContent-Type: $type\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n"
             . substr($body, 0, 100000));
ok(wait_for(sub { temp_files() > 0 }),
   'mid-upload: the body is spooling to a temp file');
close $s;

ok(settle($base), 'mid-upload abort: file descriptors back, temp file gone')
    or diag('fds: ' . fds() . ", temp files: " . temp_files());
is(scalar $t->records, 0, 'mid-upload abort: the OCR service saw nothing');

# 2. an abort while the OCR call is in flight (the service takes 2 s)

for my $case (['small', multipart(['file', 's.jpg', jpeg(delay => 2)])],
              ['temp file', $type, $body])
{
    my ($name, $ctype, $data) = @$case;
    my $closed = qr/client prematurely closed connection, so upstream connection is closed too/;
    my $before = () = $t->error_log =~ /$closed/g;
    my $sent = $t->records;

    $s = connect_nginx();
    syswrite($s, "POST /ocr/namecard HTTP/1.1\r\nHost: x\r\n"
                 . "Content-Type: $ctype\r\nContent-Length: "
                 . length($data) . "\r\n\r\n$data");
    ok(wait_for(sub { $t->records > $sent }),
       "$name: the call reached the service");
    close $s;

    ok(settle($base), "$name, abort in flight: file descriptors back, "
                      . 'no temp file left')
        or diag('fds: ' . fds() . ", temp files: " . temp_files());

    my $after;
    wait_for(sub { $after = () = $t->error_log =~ /$closed/g;
                   $after > $before });
    is($after - $before, 1,
       "$name, abort in flight: the upstream connection was closed");
}

# the worker still answers, at once

$r = $t->post_images(['after.jpg', jpeg(name => 'Alive')]);
is($r->{status}, 200, 'after the aborts: 200');
is($r->{json}{results}[0]{fields}{name}{value}, 'Alive',
   'after the aborts: the right result');

# 3. a slow client: client_body_timeout

$t->clear_records;
my $t0 = time;
$r = $t->raw(["POST /ocr/namecard HTTP/1.1\r\nHost: x\r\n"
              . "Content-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n",
              "\xff\xd8\xff", "\xe0"], pause => 0.3, timeout => 10);
my $took = time - $t0;
ok(!defined $r->{status}, 'slow body: the connection is closed, no reply');
ok($took < 5 * QocrTest::slow(), sprintf('slow body: closed after %.1f s', $took));
like($t->access_log, qr{"POST /ocr/namecard HTTP/1\.1" 408 },
     'slow body: 408 in the access log');
is(scalar $t->records, 0, 'slow body: the OCR service saw nothing');
ok(settle($base), 'slow body: file descriptors back');

# 4. a body over client_max_body_size: 413 JSON, by length and chunked

$r = $t->request(type => 'image/jpeg', body => jpeg(_size => 500 * 1024));
is($r->{status}, 413, 'over client_max_body_size: 413');
is($r->{json}{error}{code}, 'image_too_large',
   'over client_max_body_size: image_too_large JSON');

$r = $t->request(type => 'image/jpeg', body => jpeg(_size => 500 * 1024),
                 chunked => 1);
is($r->{status}, 413, 'chunked over client_max_body_size: 413');
is($r->{json}{error}{code}, 'image_too_large',
   'chunked over client_max_body_size: image_too_large JSON');
is(scalar $t->records, 0, 'over the limit: the OCR service saw nothing');
ok(settle($base), 'over the limit: file descriptors back, no temp file');

$t->done;
