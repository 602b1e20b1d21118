#!/usr/bin/perl
#
# The fake OCR service of the tests for Tencent Cloud API 3.0 (contract
# Part II): actions BusinessCardOCR and BankCardOCR, version 2018-11-19,
# signature TC3-HMAC-SHA256, emulated strictly.
#
#   fake-tc3.pl --port N --record DIR --secret ID:KEY[:TOKEN] [--secret ...]
#               [--reset] [--always MARKERS] [--tls CERT:KEY] [--spares N]
#   fake-tc3.pl --vectors FILE      (checks its own signer, prints TAP)
#
# --reset, --always and --tls as in fake-ocr.pl.  A secret given with a
# TOKEN is a temporary one: requests signed with its ID must carry
# X-TC-Token equal to TOKEN; requests signed with an ID given without one
# must carry no X-TC-Token.  A later --secret for the same ID wins.
#
# Every reply of the service proper is HTTP 200, JSON; a failure is
#   {"Response":{"Error":{"Code":"...","Message":"..."},"RequestId":"..."}}
# The checks, in order (the first failing one answers):
#   POST, path "/", HTTP/1.1            else 404, HTML (not the service)
#   Host present                        else 400 (as any HTTP/1.1 server)
#   Content-Type exactly application/json        InvalidParameter
#   X-TC-Action BusinessCardOCR | BankCardOCR    InvalidAction
#   X-TC-Version 2018-11-19                      NoSuchVersion
#   X-TC-Timestamp an integer, |now - ts| <= 300 AuthFailure.SignatureExpire
#   X-TC-Region, if present, a known region      UnsupportedRegion
#   Authorization exactly "TC3-HMAC-SHA256 Credential=ID/DATE/ocr/tc3_request,
#     SignedHeaders=content-type;host, Signature=<64 lowercase hex>"
#                                                AuthFailure.SignatureFailure
#   ID known                                     AuthFailure.SecretIdNotFound
#   DATE the UTC date of the timestamp, and the signature, recomputed here
#                                                AuthFailure.SignatureFailure
#   X-TC-Token as the ID requires                AuthFailure.TokenFailure
#   the body one flat JSON object, nothing around it, no repeated key, only
#     the action's keys, each of its type, exactly one of ImageBase64 and
#     ImageUrl                                   InvalidParameter
#   the image over 7 MB (namecard) / 10 MB (bank card) of base64
#                                                LimitExceeded.TooLargeFileError
#   ImageBase64 standard base64, padded, canonical; ImageUrl not empty;
#     Config JSON of {"RetImageType":"PROPROCESS"} InvalidParameterValue
#   the image not empty                          FailedOperation.EmptyImageError
#
# Answers are chosen by the image's content (the decoded bytes, or the text
# of ImageUrl), which may carry a marker QOCR{k=v;k=v}:
#   error=CODE        answer that Error.Code
#   delay=SECONDS     wait before answering
#   fault=F           http500 http503 http429 (HTML with that status),
#                     http500json (a service error with status 500), nonjson,
#                     truncate, reset, chunked, close, huge (a 2 MB reply),
#                     badstatus, trailing, connclose, interim, http10: as
#                     in fake-ocr.pl
#   trickle=SECONDS   the body in eight pieces over that time
#   badutf8=1 nul=1   "Alice" sent as invalid UTF-8 "Al\xc3\xc3ce", or as
#                     "Al\u0000ice"
#   slashes=1         every "/" of the reply sent as "\/"
#   name= phone= email= company=     namecard values (ImageUrl: the name
#                     defaults to the URL, so that results can be told apart)
#   cards=NAME:VALUE|NAME:VALUE      the whole BusinessCardInfos list
#   number= bank= valid= type= cardname=   bank card values
#   warn=-9110,-9112  bank card WarningCode (warn=null: null; warn=omit: the
#                     key left out; default [])
# --always markers apply to every request that passed the checks; the
# image's own override them.
#
# Every request is recorded, raw, as DIR/cNNNN-rNNN.req; every accepted
# connection adds a line to DIR/accepts.  A connection is served by a child
# forked beforehand (--spares, 24, wait in accept()), so that bursts of up
# to that many connections are taken at once.  Calls in flight (a whole
# request read, its reply not yet written) are counted across all
# connections in DIR/inflight, under flock; DIR/inflight-max holds the most
# seen.
#
# RequestId: <start time>-<port>-4<request>-8000-<connection>, in hex.

use strict;
use warnings;
use utf8;

use Digest::SHA qw(hmac_sha256 hmac_sha256_hex sha256_hex);
use Fcntl qw(:flock O_RDWR O_CREAT);
use Getopt::Long;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw(:sys_wait_h strftime);
use Time::HiRes qw(sleep);

use FindBin;
use lib $FindBin::Bin;
use FakeHttp;

my ($port, $record, @secrets, $reset_all, $always, $tls, $vectors);
my $spares = 24;

GetOptions('port=i' => \$port, 'record=s' => \$record,
           'secret=s' => \@secrets, 'reset' => \$reset_all,
           'always=s' => \$always, 'tls=s' => \$tls,
           'vectors=s' => \$vectors, 'spares=i' => \$spares)
    or die "usage\n";

exit check_vectors($vectors) if defined $vectors;

my %always = parse_markers($always // '');

my %keys;
my %tokens;

for (@secrets) {
    my ($id, $key, $token) = split /:/, $_, 3;
    $keys{$id} = $key;
    $tokens{$id} = $token;
}

my %actions = (
    BusinessCardOCR => { ImageBase64 => 'string', ImageUrl => 'string',
                         Config => 'string' },
    BankCardOCR => { ImageBase64 => 'string', ImageUrl => 'string',
                     RetBorderCutImage => 'bool', EnableCopyCheck => 'bool',
                     EnableReshootCheck => 'bool',
                     EnableBorderCheck => 'bool' },
);

my %max_base64 = (BusinessCardOCR => 7 * 1024 * 1024,
                  BankCardOCR => 10 * 1024 * 1024);

my %regions = map { $_ => 1 }
    qw(ap-guangzhou ap-shanghai ap-beijing ap-hongkong ap-singapore
       na-toronto);

my $json = JSON::PP->new->utf8->canonical->allow_nonref;

my $tls_ctx;

if ($tls) {
    require IO::Socket::SSL;
    my ($cert, $key) = split /:/, $tls, 2;

    $tls_ctx = IO::Socket::SSL::SSL_Context->new(
        SSL_server => 1, SSL_cert_file => $cert, SSL_key_file => $key)
        or die "fake-tc3: TLS: " . IO::Socket::SSL::errstr() . "\n";
}

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Listen => 1024,
                                   ReuseAddr => 1, Proto => 'tcp')
    or die "fake-tc3: cannot listen on $port: $!\n";

# One child per connection, forked ahead of time: the parent keeps $spares
# children waiting in accept() and forks another whenever one takes a
# connection (it says so on a pipe), so that a burst of connections is
# taken at once, not at the pace of fork().  A child serves its connection
# and exits.  Connections are numbered in DIR/conn-count, under flock.

my $parent = $$;
my %spare;
my ($from_children, $to_parent);

pipe($from_children, $to_parent) or die "fake-tc3: pipe: $!\n";

$SIG{CHLD} = sub {
    while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
        delete $spare{$pid};
    }
};

$SIG{TERM} = sub { kill 'TERM', keys %spare; exit 0 };

my $conn = 0;
my $req_n = 0;
my $in_flight = 0;

while (1) {
    spare() while keys %spare < $spares;

    # a 4-byte pid, or an interruption by SIGCHLD
    my $n = sysread($from_children, my $pid, 4);
    delete $spare{ unpack 'N', $pid } if $n && $n == 4;
}


sub spare {
    my $pid = fork;

    unless (defined $pid) {
        warn "fake-tc3: fork: $!\n";
        sleep 0.1;
        return;
    }

    if ($pid) {
        $spare{$pid} = 1;
        return;
    }

    close $from_children;
    %spare = ();
    $SIG{PIPE} = 'IGNORE';
    $SIG{TERM} = sub { inflight(-1) if $in_flight; exit 0 };
    $SIG{CHLD} = 'DEFAULT';
    $SIG{ALRM} = sub { };

    my $c;

    # the alarm looks for a parent gone without a word (SIGKILL)

    until ($c) {
        exit 0 if getppid() != $parent;
        alarm 1;
        $c = $listen->accept;
        alarm 0;
    }

    syswrite($to_parent, pack('N', $$));
    $listen->close;

    $conn = next_connection();
    $c = start_tls($c, $conn) or exit 0 if $tls;
    serve($c, $conn);
    exit 0;
}


sub next_connection {
    my $n = 0;

    sysopen(my $fh, "$record/conn-count", O_RDWR | O_CREAT) or return 0;
    flock($fh, LOCK_EX) or return 0;

    $n = <$fh> // 0;
    chomp $n;
    $n = ($n =~ /^\d+$/ ? $n : 0) + 1;

    seek($fh, 0, 0);
    truncate($fh, 0);
    print $fh "$n\n";

    if (open my $acc, '>>', "$record/accepts") {
        print $acc "$n\n";
        close $acc;
    }

    close $fh;

    return $n;
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
    my $buf = '';

    binmode $c;

    while (1) {
        my $r = read_request($c, \$buf) or return;
        $req_n++;

        if (open my $fh, '>', sprintf("%s/c%04d-r%03d.req", $record, $n,
                                      $req_n))
        {
            binmode $fh;
            print $fh $r->{raw};
            close $fh;
        }

        $in_flight = 1;
        inflight(+1);

        my $keep = $reset_all ? reply($c, '', '', fault => 'reset')
                              : eval { handle($c, $r) };

        warn "fake-tc3: $@" if $@;

        call_answered();

        return unless $keep;
    }
}


# the count of calls in flight across the forked children, and its maximum

sub inflight {
    my ($d) = @_;

    sysopen(my $fh, "$record/inflight", O_RDWR | O_CREAT) or return;
    flock($fh, LOCK_EX) or return;

    my $n = <$fh> // 0;
    chomp $n;
    $n = ($n =~ /^\d+$/ ? $n : 0) + $d;
    $n = 0 if $n < 0;

    seek($fh, 0, 0);
    truncate($fh, 0);
    print $fh "$n\n";

    if ($d > 0) {
        my $max = 0;

        if (open my $m, '<', "$record/inflight-max") {
            $max = <$m> // 0;
            chomp $max;
            $max = 0 unless $max =~ /^\d+$/;
        }

        if ($n > $max && open my $w, '>', "$record/inflight-max.$$") {
            print $w "$n\n";
            close $w;
            rename "$record/inflight-max.$$", "$record/inflight-max";
        }
    }

    close $fh;
}


sub request_id {
    return sprintf('%08x-%04x-4%03x-8000-%012x', $^T & 0xffffffff,
                   $port & 0xffff, $req_n & 0xfff, $conn);
}


# JSON in the order given: objects are ordered_obj(k => v, ...)

sub ordered_obj { return bless [@_], 'FakeTC3::Obj' }

sub encode {
    my ($v) = @_;

    if (ref $v eq 'FakeTC3::Obj') {
        my @kv = @$v;
        my @out;
        push @out, $json->encode(shift @kv) . ':' . encode(shift @kv)
            while @kv;
        return '{' . join(',', @out) . '}';
    }

    return '[' . join(',', map { encode($_) } @$v) . ']' if ref $v eq 'ARRAY';

    return $json->encode($v);
}


sub reply {
    my ($c, $status, $data, %o) = @_;
    return send_reply($c, $status, ref $data ? encode($data) : $data, %o,
                      on_send => \&call_answered);
}


# the call is no longer in flight once its reply starts

sub call_answered {
    return unless $in_flight;
    inflight(-1);
    $in_flight = 0;
}


sub error_data {
    my ($code, $msg) = @_;

    return ordered_obj(Response => ordered_obj(
        Error => ordered_obj(Code => $code, Message => $msg),
        RequestId => request_id()));
}


# a refusal of the checks: no marker applies

sub refuse {
    my ($c, $code, $msg) = @_;
    return reply($c, '200 OK', error_data($code, $msg));
}


# an answer the markers chose: faults that replace the body, then reply()

sub answer {
    my ($c, $data, $m) = @_;
    my %o = (delay => $m->{delay}, fault => $m->{fault},
             trickle => $m->{trickle}, badutf8 => $m->{badutf8},
             nul => $m->{nul}, slashes => $m->{slashes});
    my $fault = $m->{fault} // '';
    my $status = '200 OK';

    my %html = (http500 => '500 Internal Server Error',
                http503 => '503 Service Unavailable',
                http429 => '429 Too Many Requests');

    if ($html{$fault}) {
        $status = $html{$fault};
        $data = "<html><body>$status</body></html>";
        $o{type} = 'text/html';

    } elsif ($fault eq 'http500json') {
        $status = '500 Internal Server Error';
        $data = error_data('InternalError', 'internal error');

    } elsif ($fault eq 'nonjson') {
        $data = "<html><body>Service Unavailable</body></html>";
    }

    return reply($c, $status, $data, %o);
}


sub one_header {
    my ($h, $name) = @_;
    my $v = $h->{$name};
    return undef unless $v && @$v == 1;
    return $v->[0];
}


sub shorten {
    my ($s) = @_;
    $s //= '(none)';
    $s = substr($s, 0, 64) . '...' if length $s > 64;
    $s =~ s/[^\x20-\x7e]/?/g;
    return $s;
}


sub handle {
    my ($c, $r) = @_;
    my $h = $r->{headers};

    my ($method, $path, $proto) =
        $r->{line} =~ m{^(\S+) (\S+) (HTTP/\d\.\d)$};

    if (($method // '') ne 'POST' || ($path // '') ne '/'
        || ($proto // '') ne 'HTTP/1.1')
    {
        return reply($c, '404 Not Found', "<html>no such API</html>",
                     type => 'text/html');
    }

    my $host = one_header($h, 'host');
    return bad_request($c) // 0 unless defined $host;

    my $ct = one_header($h, 'content-type');

    return refuse($c, 'InvalidParameter',
                  'Content-Type '
                  . shorten(join ', ', @{ $h->{'content-type'} // [] })
                  . ' is not supported: it must be exactly application/json')
        unless defined $ct && $ct eq 'application/json';

    my $action = one_header($h, 'x-tc-action');

    return refuse($c, 'InvalidAction',
                  'The action ' . shorten($action) . ' is not supported.')
        unless defined $action && $actions{$action};

    my $version = one_header($h, 'x-tc-version');

    return refuse($c, 'NoSuchVersion',
                  'The API version ' . shorten($version)
                  . ' does not exist.')
        unless defined $version && $version eq '2018-11-19';

    my $ts = one_header($h, 'x-tc-timestamp');
    my $now = time;

    return refuse($c, 'AuthFailure.SignatureExpire',
                  'Signature expired. Timestamp is ' . shorten($ts)
                  . ", server time is $now.")
        unless defined $ts && $ts =~ /^(0|[1-9][0-9]{0,11})$/
               && abs($now - $ts) <= 300;

    if ($h->{'x-tc-region'}) {
        my $region = one_header($h, 'x-tc-region');

        return refuse($c, 'UnsupportedRegion',
                      'The region ' . shorten($region)
                      . ' is not supported.')
            unless defined $region && $regions{$region};
    }

    # the signature

    my $fail = 'The provided credentials could not be validated. '
               . 'Please check your signature is correct';
    my $auth = one_header($h, 'authorization');

    return refuse($c, 'AuthFailure.SignatureFailure',
                  "$fail (Authorization missing or malformed).")
        unless defined $auth
               && $auth =~ m{^TC3-HMAC-SHA256[ ]Credential=([^/\s,]+)
                             /([0-9]{4}-[0-9]{2}-[0-9]{2})/ocr/tc3_request,
                             [ ]SignedHeaders=content-type;host,
                             [ ]Signature=([0-9a-f]{64})$}x;

    my ($id, $date, $sig) = ($1, $2, $3);

    return refuse($c, 'AuthFailure.SecretIdNotFound',
                  'The SecretId is not found, please ensure that your '
                  . 'SecretId is correct.')
        unless defined $keys{$id};

    return refuse($c, 'AuthFailure.SignatureFailure',
                  "$fail (the credential date is not the timestamp's).")
        unless $date eq strftime('%Y-%m-%d', gmtime $ts);

    my ($expected) = tc3_signature(key => $keys{$id}, date => $date,
                                   timestamp => $ts, content_type => $ct,
                                   host => $host, path => $path,
                                   body => $r->{body});

    return refuse($c, 'AuthFailure.SignatureFailure', "$fail.")
        unless $expected eq $sig;

    my $token = $h->{'x-tc-token'};
    my $want = $tokens{$id};

    return refuse($c, 'AuthFailure.TokenFailure',
                  'Token verification failed.')
        if defined $want ? !($token && @$token == 1 && $token->[0] eq $want)
                         : defined $token;

    # the body

    my ($p, $why) = parse_object($r->{body});
    return refuse($c, 'InvalidParameter', "The body is not valid: $why.")
        unless $p;

    my $allowed = $actions{$action};

    for my $k (sort keys %$p) {
        my $type = $allowed->{$k};

        return refuse($c, 'InvalidParameter',
                      'The parameter ' . shorten($k) . ' is not recognized.')
            unless $type;

        return refuse($c, 'InvalidParameter',
                      "The parameter $k must be a $type.")
            unless $type eq 'bool' ? JSON::PP::is_bool($p->{$k})
                                   : ref $p->{$k} eq 'FakeTC3::Str';
    }

    return refuse($c, 'InvalidParameter',
                  'Exactly one of ImageBase64 and ImageUrl is required.')
        unless defined($p->{ImageBase64}) xor defined($p->{ImageUrl});

    my $b64 = defined $p->{ImageBase64} ? ${ $p->{ImageBase64} } : undef;
    my $url = defined $p->{ImageUrl} ? ${ $p->{ImageUrl} } : undef;

    return refuse($c, 'LimitExceeded.TooLargeFileError',
                  'The file is too large.')
        if defined $b64 && length($b64) > $max_base64{$action};

    my $image;

    if (defined $b64) {
        return refuse($c, 'InvalidParameterValue',
                      'ImageBase64 is not standard padded base64.')
            unless length($b64) % 4 == 0 && $b64 =~ m{^[A-Za-z0-9+/]*={0,2}$}
                   && encode_base64(($image = decode_base64($b64)), '')
                      eq $b64;

        return refuse($c, 'FailedOperation.EmptyImageError',
                      'The image is empty.')
            if length($image) == 0;

    } else {
        return refuse($c, 'InvalidParameterValue', 'ImageUrl is empty.')
            if $url eq '';

        $image = $url;
        utf8::encode($image);
    }

    my $preprocess = 0;

    if (defined $p->{Config}) {
        my $cfg = eval { JSON::PP->new->utf8(0)->decode(${ $p->{Config} }) };

        return refuse($c, 'InvalidParameterValue',
                      'Config must be a JSON object of RetImageType.')
            unless ref $cfg eq 'HASH'
                   && !grep { $_ ne 'RetImageType' } keys %$cfg;

        if (exists $cfg->{RetImageType}) {
            return refuse($c, 'InvalidParameterValue',
                          'RetImageType must be PROPROCESS.')
                unless ($cfg->{RetImageType} // '') eq 'PROPROCESS'
                       && !ref $cfg->{RetImageType};
            $preprocess = 1;
        }
    }

    # what the image asks for

    my $m = { %always, markers($image) };

    # fault=huge makes the first value (or the error's message) 2 MB

    if (defined $m->{error}) {
        my $msg = ($m->{fault} // '') eq 'huge' ? 'x' x (2 * 1024 * 1024)
                                                : "fake-tc3: error $m->{error}";
        return answer($c, error_data($m->{error}, $msg), $m);
    }

    my $data = $action eq 'BusinessCardOCR'
        ? namecard($image, $url, $m, $preprocess)
        : bankcard($image, $m, $p->{RetBorderCutImage});

    return answer($c, $data, $m);
}


sub namecard {
    my ($image, $url, $m, $preprocess) = @_;

    my @cards = (
        ['姓名', $m->{name} // $url // '张三', 26, 42, 80, 24],
        ['手机', $m->{phone} // '13800138000', 26, 120, 150, 18],
        ['邮箱', $m->{email} // 'zhangsan@example.com', 26, 142, 210, 18],
        ['公司', $m->{company} // '示例科技有限公司', 26, 10, 240, 20],
    );

    if (defined $m->{cards}) {
        my $i = 0;
        @cards = map { my ($n, $v) = split /:/, $_, 2;
                       [$n, $v // '', 10, 10 + 30 * $i++, 100, 20] }
                 split /\|/, $m->{cards};
    }

    $cards[0][1] = 'x' x (2 * 1024 * 1024)
        if @cards && ($m->{fault} // '') eq 'huge';

    return ordered_obj(Response => ordered_obj(
        BusinessCardInfos => [ map {
            ordered_obj(Name => $_->[0], Value => $_->[1],
                        ItemCoord => ordered_obj(X => $_->[2], Y => $_->[3],
                                                 Width => $_->[4],
                                                 Height => $_->[5]))
        } @cards ],
        RetImageBase64 => $preprocess ? encode_base64($image, '') : '',
        Angle => 0,
        RequestId => request_id()));
}


sub bankcard {
    my ($image, $m, $cut) = @_;

    my @warn;
    my $warn = $m->{warn} // '';

    my @body = (
        CardNo => ($m->{fault} // '') eq 'huge' ? 'x' x (2 * 1024 * 1024)
                  : $m->{number} // '6225 8888 8888 8888',
        BankInfo => $m->{bank} // '招商银行(03080000)',
        ValidDate => $m->{valid} // '08/2028',
        CardType => $m->{type} // '借记卡',
        CardName => $m->{cardname} // '一卡通(银联卡)',
        BorderCutImage => $cut ? encode_base64($image, '') : undef,
        CardNoImage => undef,
    );

    if ($warn eq 'null') {
        push @body, WarningCode => undef;
    } elsif ($warn ne 'omit') {
        push @body, WarningCode => [ map { $_ + 0 } grep { length }
                                     split /,/, $warn ];
    }

    push @body, QualityValue => 100, RequestId => request_id();

    return ordered_obj(Response => ordered_obj(@body));
}


sub parse_markers {
    my ($s) = @_;
    my %m;

    for (split /;/, $s) {
        my ($k, $v) = split /=/, $_, 2;
        utf8::decode($v) if defined $v;
        $m{$k} = $v;
    }

    return %m;
}


sub markers {
    my ($data) = @_;
    return $data =~ /QOCR\{([^}]*)\}/ ? parse_markers($1) : ();
}


# The body: one flat JSON object, nothing before or after it, no key twice.
# Strings come back as FakeTC3::Str refs (to tell them from numbers),
# booleans as JSON::PP::Boolean, null as undef.  Returns (hash) or
# (undef, why).  Nested values are refused: no parameter takes one.

sub parse_object {
    my ($b) = @_;
    my %o;
    my $ws = qr/[ \t\r\n]*/;

    return (undef, 'not a JSON object') unless $b =~ /\G\{/gc;

    $b =~ /\G$ws/gc;

    if ($b !~ /\G\}/gc) {
        while (1) {
            my $k = json_string(\$b) // return (undef, 'a bad key');
            return (undef, 'a repeated key') if exists $o{$$k};

            $b =~ /\G$ws:$ws/gc or return (undef, 'no colon');

            my $v;

            if (defined(my $s = json_string(\$b))) {
                $v = $s;
            } elsif ($b =~ /\Gtrue/gc) {
                $v = JSON::PP::true;
            } elsif ($b =~ /\Gfalse/gc) {
                $v = JSON::PP::false;
            } elsif ($b =~ /\Gnull/gc) {
                $v = undef;
            } elsif ($b =~ /\G(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?
                              (?:[eE][+-]?[0-9]+)?)/gcx) {
                $v = $1 + 0;
            } else {
                return (undef, 'a bad or nested value');
            }

            $o{$$k} = $v;

            $b =~ /\G$ws/gc;
            next if $b =~ /\G,$ws/gc;
            last if $b =~ /\G\}/gc;
            return (undef, 'no comma or closing brace');
        }
    }

    return (undef, 'bytes after the object') unless pos($b) == length $b;

    return \%o;
}


sub json_string {
    my ($b) = @_;

    $$b =~ /\G"((?:[^"\\\x00-\x1f]++|\\(?:["\\\/bfnrt]|u[0-9a-fA-F]{4}))*+)"/gc
        or return undef;

    my $raw = $1;
    my $s;

    if ($raw =~ /\\/) {
        $s = eval { JSON::PP->new->utf8->allow_nonref->decode(qq{"$raw"}) };
        return undef unless defined $s;
    } else {
        $s = $raw;
        utf8::decode($s) or return undef;
    }

    return bless \$s, 'FakeTC3::Str';
}


# TC3-HMAC-SHA256, our own code (QocrTest::tc3_sign is the tests'):
# returns (signature, { intermediate values })

sub tc3_signature {
    my (%a) = @_;
    my $service = $a{service} // 'ocr';

    my $hashed = sha256_hex($a{unsigned} ? 'UNSIGNED-PAYLOAD' : $a{body});
    my $canonical = "POST\n" . ($a{path} // '/') . "\n\n"
                    . "content-type:$a{content_type}\nhost:$a{host}\n\n"
                    . "content-type;host\n$hashed";
    my $scope = "$a{date}/$service/tc3_request";
    my $to_sign = "TC3-HMAC-SHA256\n$a{timestamp}\n$scope\n"
                  . sha256_hex($canonical);

    my $k_date = hmac_sha256($a{date}, "TC3$a{key}");
    my $k_service = hmac_sha256($service, $k_date);
    my $k_signing = hmac_sha256('tc3_request', $k_service);

    return (hmac_sha256_hex($to_sign, $k_signing), {
        hashed_payload => $hashed, canonical_request => $canonical,
        hashed_canonical_request => sha256_hex($canonical),
        string_to_sign => $to_sign, secret_date => unpack('H*', $k_date),
        secret_service => unpack('H*', $k_service),
        secret_signing => unpack('H*', $k_signing) });
}


# --vectors FILE: this file's signer against the known answers (rows with
# other signed headers skipped), as TAP

sub check_vectors {
    my ($file) = @_;

    open my $fh, '<', $file or die "fake-tc3: $file: $!\n";
    my @cols = split /\t/, scalar(<$fh>) =~ s/\r?\n\z//r;
    my ($n, $bad) = (0, 0);

    while (my $line = <$fh>) {
        $line =~ s/\r?\n\z//;
        next unless length $line;

        my %v;
        @v{@cols} = map { s/\\(.)/$1 eq 'n' ? "\n" : $1/ger }
                    split /\t/, $line, -1;

        if ($v{signed_headers} ne 'content-type;host') {
            print "ok " . ++$n . " # skip $v{id}: other signed headers\n";
            next;
        }

        my ($sig, $p) = tc3_signature(
            key => $v{secret_key}, date => $v{date},
            timestamp => $v{timestamp}, content_type => $v{content_type},
            host => $v{host}, body => $v{payload}, service => $v{service},
            unsigned => $v{unsigned_payload});

        my @wrong = grep { $p->{$_} ne $v{$_} } sort keys %$p;
        push @wrong, 'signature' if $sig ne $v{signature};

        my $ok = !@wrong;
        $bad++ unless $ok;
        print(($ok ? 'ok ' : 'not ok ') . ++$n . " - $v{id}"
              . ($ok ? '' : ': ' . join(' ', @wrong)) . "\n");
    }

    print "1..$n\n";

    return $bad ? 1 : 0;
}
