package FakeHttp;

# The HTTP replies of the fake OCR services (fake-ocr.pl, fake-tc3.pl),
# with the faults and markers they share: see fake-ocr.pl's header.
#
#   send_reply($socket, "200 OK", $body_bytes, %options)
#
#   read_request($socket, \$buffer)
#
# reads one request (head and Content-Length body) from the connection's
# buffer: { line, headers => { name => [values] }, body, raw }, or undef
# (closed, or answered 400).
#
#   bad_request($socket)            a 400 that closes the connection
#
# send_reply's options: delay, fault (reset chunked close truncate
# badstatus trailing connclose interim http10), trickle (seconds),
# badutf8, nul, slashes, type (Content-Type), retry_after, close, on_send
# (called just before the reply is written).  It returns true when the
# connection may serve another request.

use strict;
use warnings;

use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep);

use Exporter 'import';
our @EXPORT = qw(send_reply read_request bad_request);


sub send_reply {
    my ($c, $status, $body, %o) = @_;
    my $fault = $o{fault} // '';
    my $close = $o{close};
    my $head = "HTTP/1.1 $status\r\nContent-Type: "
               . ($o{type} // 'application/json') . "\r\n";

    sleep($o{delay}) if $o{delay};

    # the caller's count of calls in flight goes down before a byte of the
    # reply is sent: the client may start its next call as soon as it reads
    $o{on_send}->() if $o{on_send};

    # "Alice" made invalid UTF-8, or cut by an escaped NUL
    $body =~ s/Alice/Al\xc3\xc3ce/g if $o{badutf8};
    $body =~ s/Alice/Al\\u0000ice/g if $o{nul};
    $body =~ s{/}{\\/}g if $o{slashes};      # as PHP's json_encode() does

    # interim replies first: 100 Continue and 103 Early Hints
    print $c "HTTP/1.1 100 Continue\r\n\r\n"
             . "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        if $fault eq 'interim';

    # an HTTP/1.0 reply without keep-alive, the connection left open
    $head =~ s{^HTTP/1\.1}{HTTP/1.0} if $fault eq 'http10';

    # the body in eight pieces over "trickle" seconds
    if ($o{trickle}) {
        my $chunked = $fault eq 'chunked';
        my $n = 8;
        my $size = int(length($body) / $n) + 1;

        print $c $head . ($chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                                   : "Content-Length: " . length($body)
                                     . "\r\n\r\n");

        for my $i (0 .. $n - 1) {
            my $piece = substr($body, $i * $size, $size);
            sleep($o{trickle} / $n);
            print $c ($chunked ? sprintf("%x\r\n%s\r\n", length $piece, $piece)
                               : $piece) if length $piece;
        }

        print $c "0\r\n\r\n" if $chunked;
        return 1;
    }

    if ($fault eq 'reset') {
        setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        close $c;
        return 0;
    }

    if ($fault eq 'chunked') {
        my $out = $head . "Transfer-Encoding: chunked\r\n\r\n";
        my $rest = $body;

        while (length $rest) {
            my $piece = substr($rest, 0, 7, '');
            $out .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
        }

        print $c $out . "0\r\n\r\n";
        return 1;
    }

    if ($fault eq 'close') {
        print $c $head . "Connection: close\r\n\r\n" . $body;
        close $c;
        return 0;
    }

    if ($fault eq 'truncate') {
        print $c $head . "Content-Length: " . (length($body) + 100)
                 . "\r\n\r\n" . $body;
        close $c;
        return 0;
    }

    if ($fault eq 'badstatus') {
        print $c "HTTP/1.1 xyz OK\r\n\r\n";
        close $c;
        return 0;
    }

    $head .= "Retry-After: 7\r\n" if $o{retry_after};
    $head .= "Connection: close\r\n" if $close || $fault eq 'connclose';

    print $c $head . "Content-Length: " . length($body) . "\r\n\r\n"
             . $body . ($fault eq 'trailing' ? "JUNK" : '');

    return !$close;
}



sub read_request {
    my ($c, $buf) = @_;

    while ($$buf !~ /\r\n\r\n/) {
        my $n = sysread($c, $$buf, 65536, length $$buf);
        return undef unless $n;
    }

    my $end = index($$buf, "\r\n\r\n") + 4;
    my $head = substr($$buf, 0, $end);
    my ($line, @lines) = split /\r\n/, substr($head, 0, -4);
    my %h;

    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or return bad_request($c);
        push @{ $h{lc $k} }, $v;
    }

    my $body = '';
    my $raw_end = $end;

    if (defined $h{'content-length'}) {
        my $len = $h{'content-length'}[0];
        return bad_request($c) unless $len =~ /^\d+$/;

        while (length($$buf) < $end + $len) {
            my $n = sysread($c, $$buf, 65536, length $$buf);
            return undef unless $n;
        }

        $body = substr($$buf, $end, $len);
        $raw_end = $end + $len;

    } elsif (($h{'transfer-encoding'}[0] // '') =~ /chunked/i) {
        # not sent by the module; accepted to report it
        return undef;
    }

    my $raw = substr($$buf, 0, $raw_end);
    substr($$buf, 0, $raw_end) = '';

    return { line => $line, headers => \%h, body => $body, raw => $raw };
}


sub bad_request {
    my ($c) = @_;
    print $c "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
             . "Connection: close\r\n\r\n";
    return undef;
}


1;
