#!/usr/bin/perl
#
# The fake OCR service of the tests: Tencent's legacy OCR endpoints
# (/ocr/namecard, /ocr/bankcard) emulated strictly, after the seed
# documents.
#
#   fake-ocr.pl --port N --record DIR --secret ID:KEY [--secret ...]
#               [--reset] [--always MARKERS] [--tls CERT:KEY]
#
# With --reset it reads every request, records it, and resets the
# connection: a server that fails after the request was sent.  --always
# applies markers (below) to every request, e.g. "rcode=15" or
# "fault=http500": a server that is rate limiting or failing.  With --tls
# it speaks HTTPS with that certificate and records, one line per
# connection in DIR/sni, the SNI name the client sent and whether the TLS
# session was resumed ("N NAME reused=0|1").
#
# It checks what the real service checks: the signature, recomputed here
# with our own code (missing: code 4, wrong: 5, expired: 9, unknown
# SecretId: 11), the multipart body parsed strictly (malformed: 3, bad
# fields: 21, AppID or bucket not those signed: 6), the limits (no image:
# 18, more than 20: 19, an image over 1 MB: 20).
#
# Results are chosen by the image's content: an image may carry a marker
#   QOCR{name=Alice;phone=123;uin=42;name_conf=-1;code=-1404;rcode=5;
#        delay=1.5;fault=truncate}
# Faults: http500 (HTML), http500json (JSON with status 500), nonjson,
# truncate, reset, chunked, close (body ended by closing), huge (2 MB
# JSON), badstatus, trailing (junk after the reply, connection kept),
# connclose ("Connection: close" sent, connection kept), interim (100 and
# 103 replies before the final one), http10 (an HTTP/1.0 reply, connection
# kept).  trickle=S sends the body in eight pieces over S seconds (with
# fault=chunked, chunked).  rawcode=TEXT puts TEXT as the reply's
# top-level "code" (raw JSON: 0.5, "7").  badutf8=1 sends "Alice" as the
# invalid UTF-8 "Al\xc3\xc3ce", nul=1 as "Al\u0000ice"; slashes=1 escapes
# every "/" of the reply as "\/".  drop=1 leaves the image out of
# the results.
#
# Every request is recorded, raw, as DIR/cNNNN-rNNN.req; every accepted
# connection adds a line to DIR/accepts.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha1);
use Getopt::Long;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep);

use FindBin;
use lib $FindBin::Bin;
use FakeHttp;

my ($port, $record, @secrets, $reset_all, $always, $tls);

GetOptions('port=i' => \$port, 'record=s' => \$record,
           'secret=s' => \@secrets, 'reset' => \$reset_all,
           'always=s' => \$always, 'tls=s' => \$tls)
    or die "usage\n";

my %always = map { split /=/, $_, 2 } split /;/, $always // '';
my $tls_ctx;

if ($tls) {
    require IO::Socket::SSL;
    my ($cert, $key) = split /:/, $tls, 2;

    # one context for every connection, so that its session tickets are
    # good across the forked children
    $tls_ctx = IO::Socket::SSL::SSL_Context->new(
        SSL_server => 1, SSL_cert_file => $cert, SSL_key_file => $key)
        or die "fake-ocr: TLS: " . IO::Socket::SSL::errstr() . "\n";
}

my %keys = map { split /:/, $_, 2 } @secrets;

my $json = JSON::PP->new->utf8->canonical;

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Listen => 1024,
                                   ReuseAddr => 1, Proto => 'tcp')
    or die "fake-ocr: cannot listen on $port: $!\n";

$SIG{CHLD} = sub { 1 while waitpid(-1, WNOHANG) > 0 };
$SIG{TERM} = sub { exit 0 };

my $conn = 0;

while (1) {
    my $c = $listen->accept or next;
    $conn++;

    if (open my $fh, '>>', "$record/accepts") {
        print $fh "$conn\n";
        close $fh;
    }

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        $listen->close;
        $c = start_tls($c, $conn) or exit 0 if $tls;
        serve($c, $conn);
        exit 0;
    }

    $c->close;
}


sub start_tls {
    my ($c, $n) = @_;

    IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                               SSL_reuse_ctx => $tls_ctx)
        or return undef;

    if (open my $fh, '>>', "$record/sni") {
        print $fh "$n " . ($c->get_servername // '-') . " reused="
                  . ($c->get_session_reused ? 1 : 0) . "\n";
        close $fh;
    }

    return $c;
}


sub serve {
    my ($c, $n) = @_;
    my $req = 0;
    my $buf = '';

    binmode $c;

    while (1) {
        my $r = read_request($c, \$buf) or return;
        $req++;

        if (open my $fh, '>', sprintf("%s/c%04d-r%03d.req", $record, $n,
                                      $req))
        {
            binmode $fh;
            print $fh $r->{raw};
            close $fh;
        }

        return reply($c, '', '', fault => 'reset') if $reset_all;

        my $keep = handle($c, $r);
        return unless $keep;
    }
}


sub reply {
    my ($c, $status, $data, %o) = @_;
    return send_reply($c, $status, ref $data ? $json->encode($data) : $data,
                      %o);
}


sub code_reply {
    my ($c, $code, $msg) = @_;
    return reply($c, '200 OK', { code => $code, message => $msg });
}


sub handle {
    my ($c, $r) = @_;
    my $h = $r->{headers};

    my ($method, $path, $proto) = split / /, $r->{line};

    if (($method // '') ne 'POST' || ($proto // '') ne 'HTTP/1.1'
        || ($path // '') !~ m{^/ocr/(namecard|bankcard)$})
    {
        return reply($c, '404 Not Found', "<html>no such API</html>");
    }

    my $kind = $1;

    # the signature

    my $auth = $h->{authorization} ? $h->{authorization}[0] : undef;
    return code_reply($c, 4, 'signature is empty') unless defined $auth;

    my $raw = decode_base64($auth);
    return code_reply($c, 5, 'signature error') if length($raw) < 21;

    my ($mac, $plain) = (substr($raw, 0, 20), substr($raw, 20));
    my %s = map { split /=/, $_, 2 } split /&/, $plain;

    for my $k (qw(a b k e t r u f)) {
        return code_reply($c, 5, 'signature error') unless defined $s{$k};
    }

    my $key = $keys{$s{k}};
    return code_reply($c, 11, 'secretid not exist') unless defined $key;
    return code_reply($c, 5, 'signature error')
        unless hmac_sha1($plain, $key) eq $mac;
    return code_reply($c, 9, 'signature expired') if $s{e} < time;

    # the body

    my $ct = $h->{'content-type'} ? $h->{'content-type'}[0] : '';
    my (%fields, @images, $urls);

    if ($ct =~ m{^multipart/form-data;\s*boundary=([^;\s]+)$}) {
        my $parts = parse_multipart($r->{body}, $1);
        return code_reply($c, 3, 'bad request') unless $parts;

        for my $p (@$parts) {
            if (defined $p->{filename}) {
                return code_reply($c, 21, 'invalid parameter')
                    unless $kind eq 'namecard' ? $p->{name} =~ /^image/
                                               : $p->{name} eq 'image';
                push @images, $p;

            } else {
                $fields{$p->{name}} = $p->{data};
            }
        }

    } elsif ($ct eq 'application/json') {
        my $j = eval { JSON::PP->new->utf8->decode($r->{body}) };
        return code_reply($c, 3, 'bad request') unless ref $j eq 'HASH';

        for my $k (qw(appid bucket)) {
            return code_reply($c, 21, 'invalid parameter')
                if defined $j->{$k} && ref $j->{$k};
            $fields{$k} = $j->{$k} if defined $j->{$k};
        }

        $fields{ret_image} = $j->{ret_image} if defined $j->{ret_image};

        if ($kind eq 'namecard') {
            return code_reply($c, 21, 'invalid parameter')
                unless ref $j->{url_list} eq 'ARRAY';
            $urls = $j->{url_list};

        } else {
            return code_reply($c, 21, 'invalid parameter')
                if ref $j->{url};
            $urls = defined $j->{url} ? [ $j->{url} ] : [];
        }

        return code_reply($c, 17, 'url is empty')
            if grep { !defined || ref || $_ eq '' } @$urls;

        # images the URLs stand for: their text carries the markers
        @images = map { my $u = $_; utf8::encode($u);
                        { name => 'url', url => $_, data => $u } } @$urls;

    } else {
        return code_reply($c, 3, 'bad request');
    }

    for my $f ($kind eq 'namecard' ? qw(appid bucket ret_image)
                                   : qw(appid bucket))
    {
        return code_reply($c, 21, 'invalid parameter')
            unless defined $fields{$f};
    }

    return code_reply($c, 6, 'appid/bucket/url not match')
        if $fields{appid} ne $s{a} || $fields{bucket} ne $s{b};

    my $ret = $fields{ret_image} // '0';
    return code_reply($c, 21, 'invalid parameter') unless $ret =~ /^[01]$/;

    return code_reply($c, 18, 'no image or url') unless @images;
    return code_reply($c, 19, 'too many images')
        if @images > ($kind eq 'namecard' ? 20 : 1);

    for (@images) {
        return code_reply($c, 20, 'image too large')
            if !defined $_->{url}
               && length($_->{data}) > ($kind eq 'namecard' ? 1024 * 1024
                                                            : 6 * 1024 * 1024);
    }

    # what the images ask for

    my (%o, $rcode);

    for (@images) {
        my $m = markers($_->{data});
        $o{delay} = $m->{delay} if $m->{delay};
        $o{fault} = $m->{fault} if $m->{fault};
        $o{trickle} = $m->{trickle} if $m->{trickle};
        $o{badutf8} = $m->{badutf8} if $m->{badutf8};
        $o{nul} = $m->{nul} if $m->{nul};
        $o{slashes} = $m->{slashes} if $m->{slashes};
        $rcode = $m->{rcode} if defined $m->{rcode};
        $o{rawcode} = $m->{rawcode} if defined $m->{rawcode};
    }

    if (defined $o{rawcode}) {
        # "code" as the raw JSON text given, beside good results
        my $r = $json->encode({ result_list => [ map {
                    namecard_result($_, 0) } @images ] });
        $r =~ s/^\{/{"code":$o{rawcode},"message":"m",/;
        return reply($c, '200 OK', $r, %o);
    }

    if (defined $rcode) {
        return reply($c, $rcode == 15 ? '200 OK' : '200 OK',
                     { code => $rcode + 0, message => "code $rcode" }, %o,
                     retry_after => $rcode == 15);
    }

    return bankcard($c, $images[0], %o) if $kind eq 'bankcard';

    # results, sorted by part name as strings, as the service does (URL
    # results keep the list's order)

    my @results;

    for my $img (defined $urls ? @images
                               : sort { $a->{name} cmp $b->{name} } @images)
    {
        next if markers($img->{data})->{drop};
        push @results, namecard_result($img, $ret);
    }

    my $data = { result_list => \@results };
    my $status = '200 OK';
    my $fault = $o{fault} // '';

    if ($fault eq 'http500') {
        $data = "<html><body>500 Internal Server Error</body></html>";
        $status = '500 Internal Server Error';

    } elsif ($fault eq 'http500json') {
        $data = { code => 202, message => 'internal link failed' };
        $status = '500 Internal Server Error';

    } elsif ($fault eq 'nonjson') {
        $data = "<html><body>Service Unavailable</body></html>";

    } elsif ($fault eq 'huge') {
        $results[0]{data}{name} = 'x' x (2 * 1024 * 1024);
    }

    return reply($c, $status, $data, %o);
}


sub namecard_result {
    my ($img, $ret) = @_;
    my $m = markers($img->{data});

    my $r = defined $img->{url} ? { url => " $img->{url}" }
                                : { filename => $img->{filename} };

    if (length($img->{data}) == 0) {
        return { %$r, code => -1300, message => 'image empty' };
    }

    if (defined $m->{code}) {
        return { %$r, code => $m->{code} + 0,
                 message => "code $m->{code}" };
    }

    my $d = {
        name => $m->{name} // "\x{5f20}\x{4e09}",
        phone => $m->{phone} // '13800138000',
        uin => $m->{uin} // '',
        name_confidence => ($m->{name_conf} // 0.9) + 0,
        phone_confidence => ($m->{phone_conf} // 0.87) + 0,
        uin_confidence => (defined $m->{uin} ? 0.8 : -1) + 0,
    };

    $d->{uin_confidence} = $m->{uin_conf} + 0 if defined $m->{uin_conf};
    $d->{image} = encode_base64($img->{data}, '') if $ret;
    $d->{name} = $img->{url} if defined $img->{url} && !defined $m->{name};

    return { %$r, code => 0, message => 'success', data => $d };
}


# the bank card reply of seed 002: one image, items by name

sub bankcard {
    my ($c, $img, %o) = @_;
    my $m = markers($img->{data});

    if (length($img->{data}) == 0) {
        return reply($c, '200 OK', { code => -1300, message => 'image empty' },
                     %o);
    }

    if (defined $m->{code}) {
        return reply($c, '200 OK', { code => $m->{code} + 0,
                                     message => "code $m->{code}" }, %o);
    }

    my @items = (
        ["\x{5361}\x{53f7}", $m->{number} // '6225 8888 8888 8888',
         [28, 101, 244, 22], 0.954],
        ["\x{5361}\x{7c7b}\x{578b}", "\x{8d37}\x{8bb0}\x{5361}",
         [10, 10, 10, 10], 0.93],
        ["\x{5361}\x{540d}\x{5b57}", $m->{card_name} // 'Great Wall Card',
         [10, 30, 10, 10], 0.92],
        ["\x{94f6}\x{884c}\x{4fe1}\x{606f}",
         $m->{bank} // "\x{4e2d}\x{56fd}\x{94f6}\x{884c}(01040000)",
         [10, 50, 10, 10], 0.91],
        ["\x{6709}\x{6548}\x{671f}", '08/2028', [117, 137, 55, 14], 0.928],
        ["\x{5176}\x{4ed6}", 'ignored', [0, 0, 1, 1], 0.5],
    );

    # items=0,2: only those
    if (defined $m->{items}) {
        my %keep = map { $_ => 1 } split /,/, $m->{items};
        @items = @items[ grep { $keep{$_} } 0 .. $#items ];
    }

    my $data = {
        code => 0, message => 'OK',
        data => {
            session_id => '10000011579925413',
            items => [ map { {
                item => $_->[0], itemstring => $_->[1],
                itemcoord => { x => $_->[2][0], y => $_->[2][1],
                               width => $_->[2][2], height => $_->[2][3] },
                itemconf => $_->[3], coords => [], words => [],
                candword => [] } } @items ],
        },
    };

    return reply($c, '200 OK', $data, %o);
}


sub markers {
    my ($data) = @_;
    my %m = %always;

    if ($data =~ /QOCR\{([^}]*)\}/) {
        for (split /;/, $1) {
            my ($k, $v) = split /=/, $_, 2;
            utf8::decode($v) if defined $v;
            $m{$k} = $v;
        }
    }

    return \%m;
}


# strict RFC 7578: CRLF everywhere, the final delimiter present, every part
# with a Content-Disposition of form-data and a name

sub parse_multipart {
    my ($body, $b) = @_;
    my $d = "--$b";

    return undef unless substr($body, 0, length($d) + 2) eq "$d\r\n";

    my $close = "\r\n$d--\r\n";
    return undef unless substr($body, -length $close) eq $close;

    my $inner = substr($body, length($d) + 2, -length $close);
    my @parts;

    for my $p (split /\r\n\Q$d\E\r\n/, $inner, -1) {
        my $i = index($p, "\r\n\r\n");
        return undef if $i < 0;

        my ($head, $data) = (substr($p, 0, $i), substr($p, $i + 4));
        my ($name, $filename);

        for my $l (split /\r\n/, $head) {
            my ($k, $v) = $l =~ /^([^:]+):\s*(.*)$/ or return undef;

            if (lc $k eq 'content-disposition') {
                return undef unless $v =~ /^form-data(;|$)/;
                ($name) = $v =~ /;\s*name="([^"]*)"/;
                ($filename) = $v =~ /;\s*filename="([^"]*)"/;
            }
        }

        return undef unless defined $name;

        push @parts, { name => $name, filename => $filename, data => $data };
    }

    return \@parts;
}
