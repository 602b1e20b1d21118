package QocrTest;

# The test harness: writes an nginx.conf per test, starts nginx with the
# built module in a private prefix on free ports, starts the fake OCR
# service, and speaks HTTP, raw when a test needs malformed requests.
#
# Environment:
#   QOCR_NGINX   the nginx binary (default /usr/sbin/nginx)
#   QOCR_MODULE  the dynamic module to load (default build/dyn/...so);
#                empty for an nginx with the module compiled in
#   QOCR_KEEP    keep the test's directory for a look after the run

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(hmac_sha1);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Fcntl ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);

use Exporter 'import';
our @EXPORT = qw(jpeg png multipart nc_fields result);

our $TOP = abs_path(dirname(__FILE__) . '/../..');

our $SECRET_ID = 'AKIDtestSecretIdExample0000000000';
our $SECRET_KEY = 'testSecretKeyExample00000000000';
our $APPID = '1250000000';
our $BUCKET = 'test';

my $JSON = JSON::PP->new->utf8->canonical;


sub new {
    my ($class, %o) = @_;

    my $dir = tempdir('qocr-test-XXXXXX', TMPDIR => 1,
                      CLEANUP => !$ENV{QOCR_KEEP});
    chmod 0755, $dir;
    make_path("$dir/logs", "$dir/conf", "$dir/record");

    diag("test directory: $dir") if $ENV{QOCR_KEEP};

    my $self = bless { dir => $dir, pids => [] }, $class;

    return $self;
}


sub dir { $_[0]{dir} }


sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}


sub wait_port {
    my ($port, $pid, $seconds) = @_;

    for (1 .. 40 * ($seconds // 5)) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Timeout => 1);
        if ($s) {
            close $s;
            return 1;
        }

        return 0 if $pid && waitpid($pid, WNOHANG) == $pid;
        sleep 0.025;
    }

    return 0;
}


# the fake OCR service; returns its port.  v3 => 1: the API 3.0 one,
# fake-tc3.pl, whose secrets may be ID:KEY:TOKEN (a later one for the
# same ID wins, so secrets => ["$SECRET_ID:$SECRET_KEY:TOKEN"] gives the
# default credentials a token)

sub fake {
    my ($self, %o) = @_;
    my $name = $o{name} // 'fake';
    my $script = $o{v3} ? 'fake-tc3.pl' : 'fake-ocr.pl';

    return $self->{"${name}_port"} if $self->{"${name}_port"};

    my $port = free_port();
    my $record = "$self->{dir}/record" . ($o{name} ? "-$o{name}" : '');

    make_path($record);
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        exec $^X, "$TOP/t/lib/$script", '--port', $port,
             '--record', $record, '--secret', "$SECRET_ID:$SECRET_KEY",
             ($o{reset} ? '--reset' : ()),
             ($o{always} ? ('--always', $o{always}) : ()),
             ($o{tls} ? ('--tls', $o{tls}) : ()),
             (map { ('--secret', $_) } @{ $o{secrets} // [] });
        die "exec: $!";
    }

    push @{ $self->{pids} }, $pid;
    wait_port($port, $pid) or die "the fake OCR service did not start";

    $self->{"${name}_port"} = $port;

    return $port;
}


# a port nothing listens on

sub dead_port {
    return free_port();
}


sub nginx_bin {
    return $ENV{QOCR_NGINX} || '/usr/sbin/nginx';
}


sub module_path {
    return $ENV{QOCR_MODULE} if defined $ENV{QOCR_MODULE};
    return "$TOP/build/dyn/ngx_http_qocr_module.so";
}


# the standard qocr location, for the body of a server block

sub qocr_location {
    my ($self, %o) = @_;

    my $path = $o{path} // '/ocr/namecard';
    my $pass = $o{pass} // 'http://127.0.0.1:' . $self->fake;
    my $extra = $o{extra} // '';

    return <<"EOF";
        location = $path {
            qocr namecard;
            qocr_pass $pass;
            qocr_appid $APPID;
            qocr_bucket $BUCKET;
            qocr_secret_id $SECRET_ID;
            qocr_secret_key $SECRET_KEY;
$extra
        }
EOF
}


sub write_conf {
    my ($self, $http) = @_;
    my $dir = $self->{dir};
    my $module = module_path();
    my $load = $module ? "load_module $module;" : '';
    my $user = $> == 0 ? 'user root;' : '';

    $self->{port} //= free_port();
    $self->{port2} //= free_port();
    $http =~ s/%%PORT%%/$self->{port}/g;
    $http =~ s/%%PORT2%%/$self->{port2}/g;

    open my $fh, '>', "$dir/conf/nginx.conf" or die $!;
    print $fh <<"EOF";
$load
$user
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log debug;

events {
    worker_connections 1024;
}

http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

$http
}
EOF
    close $fh;
}


# a server block on the test's port holding the given locations

sub server {
    my ($self, $locations, $server_extra) = @_;
    $server_extra //= '';

    return <<"EOF";
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
$server_extra
$locations
    }
EOF
}


# nginx -t on a config; returns (ok, output)

sub nginx_test {
    my ($self, $http) = @_;

    $self->write_conf($http);

    my $dir = $self->{dir};
    my $bin = nginx_bin();
    my $out = `$bin -t -p $dir -c $dir/conf/nginx.conf -e $dir/logs/error.log 2>&1`;

    return ($? == 0, $out);
}


sub start {
    my ($self, $http) = @_;

    $self->write_conf($http);

    my $dir = $self->{dir};
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDERR, '>>', "$dir/logs/stderr.log";
        exec valgrind_cmd($dir), nginx_bin(), '-p', $dir,
             '-c', "$dir/conf/nginx.conf", '-e', "$dir/logs/error.log";
        die "exec: $!";
    }

    $self->{nginx_pid} = $pid;
    push @{ $self->{pids} }, $pid;

    unless (wait_port($self->{port}, $pid, 20 * slow())) {
        diag($self->error_log);
        die "nginx did not start";
    }

    return $self->{port};
}


# QOCR_VALGRIND=1: nginx under memcheck, one log per process

sub valgrind_cmd {
    my ($dir) = @_;

    return () unless $ENV{QOCR_VALGRIND};

    return ('valgrind', '--tool=memcheck', '--quiet', '--leak-check=full',
            '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
            '--num-callers=30', "--log-file=$dir/logs/valgrind.%p.log",
            "--suppressions=$TOP/t/sanitizers/valgrind.supp");
}


# slower runs (valgrind) stretch the time limits tests assert on

sub slow {
    return $ENV{QOCR_VALGRIND} ? 10 : 1;
}


# the pid of the nginx worker: the master's child that is not ASan's
# llvm-symbolizer (under valgrind the worker keeps valgrind's command line)

sub worker_pid {
    my ($self) = @_;
    my $master = $self->{nginx_pid};

    # the master may still be starting it (valgrind is slow)

    for (1 .. 200 * slow()) {
        for my $pid (split /\s+/, `pgrep -P $master`) {
            open my $fh, '<', "/proc/$pid/cmdline" or next;
            my $cmd = <$fh> // '';
            return $pid unless $cmd =~ /symbolizer/;
        }

        sleep 0.05;
    }

    return undef;
}


sub port { $_[0]{port} }
sub port2 { $_[0]{port2} }


sub error_log {
    my ($self) = @_;
    local $/;
    open my $fh, '<', "$self->{dir}/logs/error.log" or return '';
    my $log = <$fh>;
    return $log;
}


sub access_log {
    my ($self) = @_;
    local $/;
    open my $fh, '<', "$self->{dir}/logs/access.log" or return '';
    return scalar <$fh>;
}


# requests recorded by the fake service, in order, raw

sub records {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    my @files = sort glob("$d/c*.req");

    return map {
        local $/;
        open my $fh, '<', $_ or die $!;
        binmode $fh;
        scalar <$fh>;
    } @files;
}


# the connection (the fake service's count) each recorded request came on

sub connections {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    return map { m{/c(\d+)-r\d+\.req$} ? $1 + 0 : () } sort glob("$d/c*.req");
}


sub accepts {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    open my $fh, '<', "$d/accepts" or return 0;
    my @l = <$fh>;
    return scalar @l;
}


# the most calls the API 3.0 fake had in flight at once (across all its
# connections) since it started or since clear_records

sub max_inflight {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    open my $fh, '<', "$d/inflight-max" or return 0;
    my $n = <$fh> // 0;
    chomp $n;
    return $n =~ /^\d+$/ ? $n + 0 : 0;
}


# the calls the API 3.0 fake has in flight now (read under its lock)

sub inflight {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    open my $fh, '<', "$d/inflight" or return 0;
    flock($fh, Fcntl::LOCK_SH()) or return 0;
    my $n = <$fh> // 0;
    chomp $n;
    return $n =~ /^\d+$/ ? $n + 0 : 0;
}


# (the count of calls in flight, DIR/inflight, stays: calls may still be
# running, and each will take itself off it)

sub clear_records {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/record" . ($name ? "-$name" : '');
    unlink glob("$d/c*.req");
    unlink "$d/accepts";
    unlink "$d/inflight-max";
}


# a test CA and a certificate it signs for "ocr.test" (and 127.0.0.1), made
# with the openssl command: returns the file names
#   (ca => ..., cert => ..., key => ...)

sub make_certs {
    my ($self, $name) = @_;
    my $d = "$self->{dir}/certs-$name";
    make_path($d);

    my $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    my $q = '>/dev/null 2>&1';

    system("openssl req -x509 $ec -keyout $d/ca.key -out $d/ca.pem -days 2"
           . " -subj '/CN=qocr test CA $name' $q") == 0
        or die "openssl: the CA";
    system("openssl req $ec -keyout $d/server.key -out $d/server.csr"
           . " -subj '/CN=ocr.test' $q") == 0
        or die "openssl: the request";

    open my $fh, '>', "$d/ext" or die $!;
    print $fh "subjectAltName=DNS:ocr.test,IP:127.0.0.1\n";
    close $fh;

    system("openssl x509 -req -in $d/server.csr -CA $d/ca.pem"
           . " -CAkey $d/ca.key -CAcreateserial -out $d/server.pem -days 2"
           . " -extfile $d/ext $q") == 0
        or die "openssl: the certificate";

    return (ca => "$d/ca.pem", cert => "$d/server.pem",
            key => "$d/server.key");
}


# sends raw bytes, returns the parsed response

sub raw {
    my ($self, $data, %o) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:" . $self->port,
                                  Timeout => 5)
        or die "connect: $!";
    binmode $s;

    if (ref $data eq 'ARRAY') {
        for my $piece (@$data) {
            syswrite($s, $piece);
            sleep($o{pause} // 0.05);
        }

    } else {
        my $off = 0;

        while ($off < length $data) {
            my $n = syswrite($s, $data, 65536, $off);
            last unless defined $n;
            $off += $n;
        }
    }

    my $resp = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($o{timeout} // 30);

    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($s, $resp, 65536, length $resp);
        last unless $n;
    }

    close $s;

    return parse_response($resp);
}


sub parse_response {
    my ($resp) = @_;
    my %r = (raw => $resp);

    my $i = index($resp, "\r\n\r\n");
    return \%r if $i < 0;

    my ($line, @h) = split /\r\n/, substr($resp, 0, $i);
    ($r{status}) = $line =~ m{^HTTP/\d\.\d (\d+)};

    for (@h) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/;
        $r{headers}{lc $k} = $v;
    }

    my $body = substr($resp, $i + 4);

    if (($r{headers}{'transfer-encoding'} // '') =~ /chunked/) {
        my $out = '';
        while ($body =~ s/^([0-9a-f]+)\r\n//i) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $out;
    }

    $r{body} = $body;
    $r{json} = eval { $JSON->decode($body) };

    return \%r;
}


# a request to the test's nginx

sub request {
    my ($self, %o) = @_;

    my $method = $o{method} // 'POST';
    my $path = $o{path} // '/ocr/namecard';
    my $body = $o{body} // '';
    my $headers = $o{headers} // {};
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
              . "Connection: close\r\n";

    $req .= "Content-Type: $o{type}\r\n" if defined $o{type};

    for my $k (sort keys %$headers) {
        $req .= "$k: $headers->{$k}\r\n";
    }

    if ($o{chunked}) {
        $req .= "Transfer-Encoding: chunked\r\n\r\n";
        my $rest = $body;

        while (length $rest) {
            my $piece = substr($rest, 0, 3000, '');
            $req .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
        }

        $req .= "0\r\n\r\n";

    } else {
        $req .= "Content-Length: " . length($body) . "\r\n\r\n" . $body
            if $method eq 'POST' || length $body;
        $req .= "\r\n" unless $method eq 'POST' || length $body;
    }

    return $self->raw($req, %o);
}


# posts images as multipart/form-data: ([filename, content], ...)

sub post_images {
    my ($self, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $self->request(type => $type, body => $body);
}


sub stop {
    my ($self) = @_;

    if (my $pid = delete $self->{nginx_pid}) {
        kill 'QUIT', $pid;

        for (1 .. 100) {
            last if waitpid($pid, WNOHANG) == $pid;
            sleep 0.05;
        }

        kill 'KILL', $pid if kill 0, $pid;
    }

    for my $pid (@{ $self->{pids} }) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }

    $self->{pids} = [];
}


# the end of a test file: no worker crashed, nothing alarming was logged

sub done {
    my ($self) = @_;

    $self->stop;

    my $log = $self->error_log;
    my @bad = grep { /\[(alert|crit)\]|exited on signal|exited with code [1-9]/ }
              split /\n/, $log;

    ok(!@bad, 'no crash, alert or critical error in the error log')
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

    # nginx sends its stderr to the error log; what came before that is in
    # stderr.log
    my $stderr = '';
    if (open my $fh, '<', "$self->{dir}/logs/stderr.log") {
        local $/;
        $stderr = <$fh>;
    }

    my @san = grep { /AddressSanitizer|LeakSanitizer|runtime error:/ }
              split /\n/, $log . "\n" . $stderr;

    ok(!@san, 'no sanitizer report')
        or diag(join "\n", @san[0 .. ($#san < 9 ? $#san : 9)]);

    if ($ENV{QOCR_VALGRIND}) {
        my @reports;

        for my $f (glob "$self->{dir}/logs/valgrind.*.log") {
            local $/;
            open my $fh, '<', $f or next;
            my $text = <$fh>;
            push @reports, $text if $text =~ /\S/;
        }

        ok(!@reports, 'no memcheck error or leak') or diag(join "\n", @reports);
    }

    done_testing();
}


sub DESTROY {
    my ($self) = @_;
    local $?;
    $self->stop;
}


# the normalized schema (contract section 8): every namecard key, null
# unless given; a field without a box gets "box": null

our @NAMECARD_KEYS = qw(name name_en company company_en title title_en
                        department department_en phone tel fax email website
                        address address_en postcode qq wechat weibo msn social
                        company_account other);

sub nc_fields {
    my (%f) = @_;
    my %all = map { $_ => undef } @NAMECARD_KEYS;

    for my $k (keys %f) {
        die "no namecard key $k" unless exists $all{$k};
        $all{$k} = defined $f{$k} ? { box => undef, %{ $f{$k} } } : undef;
    }

    return \%all;
}


# a result as every API answers it: no warnings and no request id unless
# given

sub result {
    my (%r) = @_;
    return { warnings => [], request_id => undef, %r };
}


# test images: real magic bytes, then a marker the fake service reads

sub jpeg {
    my (%m) = @_;
    my $size = delete $m{_size};
    my $marker = join ';', map { "$_=$m{$_}" } sort keys %m;

    utf8::encode($marker) if utf8::is_utf8($marker);

    my $img = "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
              . (%m ? "QOCR{$marker}" : '');

    $img .= "\x00" x ($size - length $img) if $size && $size > length $img;

    return $img;
}


sub png {
    return "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" . ("\x00" x 64);
}


# a multipart/form-data body: ([kind, ...], ...) where kind is
#   ['file', filename, content, optional part Content-Type]
#   ['field', name, value]

sub multipart {
    my (@parts) = @_;
    my $b = '------------------------qocrtest' . int(rand(1e9));
    my $body = '';

    for my $p (@parts) {
        my ($kind, @a) = @$p;

        utf8::encode($_) for grep { defined && utf8::is_utf8($_) } @a;

        if ($kind eq 'file') {
            my ($fn, $data, $ct) = @a;
            $fn =~ s/(["\\])/\\$1/g;     # as curl escapes them
            $body .= "--$b\r\nContent-Disposition: form-data; name=\"file\";"
                     . " filename=\"$fn\"\r\n";
            $body .= "Content-Type: $ct\r\n" if defined $ct;
            $body .= "\r\n$data\r\n";

        } else {
            my ($name, $value) = @a;
            $body .= "--$b\r\nContent-Disposition: form-data; "
                     . "name=\"$name\"\r\n\r\n$value\r\n";
        }
    }

    $body .= "--$b--\r\n";

    return ("multipart/form-data; boundary=$b", $body);
}


# parses a request the fake service recorded

sub parse_recorded {
    my ($raw) = @_;
    my $i = index($raw, "\r\n\r\n");
    my ($line, @h) = split /\r\n/, substr($raw, 0, $i);
    my (%h, @order);

    for (@h) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/;
        $h{lc $k} = $v;
        push @order, $k;
    }

    return { line => $line, headers => \%h, order => \@order,
             body => substr($raw, $i + 4) };
}


# Authorization: Base64(HMAC-SHA1(key, plain) || plain) -> (ok, %fields)

sub check_signature {
    my ($auth, $key) = @_;
    my $raw = decode_base64($auth);
    my ($mac, $plain) = (substr($raw, 0, 20), substr($raw, 20));
    my %f = map { split /=/, $_, 2 } split /&/, $plain;
    return (hmac_sha1($plain, $key) eq $mac, $plain, %f);
}


# TC3-HMAC-SHA256 (contract section 7): the Authorization value, and in
# list context (authorization, { intermediate values }), their keys those
# of t/data/tc3-vectors.tsv: hashed_payload canonical_request
# hashed_canonical_request string_to_sign secret_date secret_service
# secret_signing (hex) signature date.
#
#   tc3_sign(timestamp => TS, host => HOST, body => BYTES,
#            secret_id => ..., secret_key => ...   (default: the harness's)
#            content_type => 'application/json', service => 'ocr',
#            path => '/', date => (UTC date of TS), unsigned_payload => 0)
#
# date => another day signs consistently with a wrong scope date.

sub tc3_sign {
    my (%a) = @_;

    my $id = $a{secret_id} // $SECRET_ID;
    my $key = $a{secret_key} // $SECRET_KEY;
    my $ts = $a{timestamp} // die 'tc3_sign: no timestamp';
    my $service = $a{service} // 'ocr';
    my $ct = $a{content_type} // 'application/json';
    my $day = ($ts =~ /^(\d+)/)[0] // 0;
    my $date = $a{date} // POSIX::strftime('%Y-%m-%d', gmtime $day);
    my $body = $a{body} // '';

    utf8::encode($body) if utf8::is_utf8($body);

    my %p;

    $p{hashed_payload} = Digest::SHA::sha256_hex(
        $a{unsigned_payload} ? 'UNSIGNED-PAYLOAD' : $body);
    $p{canonical_request} = "POST\n" . ($a{path} // '/') . "\n\n"
                            . "content-type:$ct\nhost:$a{host}\n\n"
                            . "content-type;host\n$p{hashed_payload}";
    $p{hashed_canonical_request} =
        Digest::SHA::sha256_hex($p{canonical_request});
    $p{string_to_sign} = "TC3-HMAC-SHA256\n$ts\n$date/$service/tc3_request\n"
                         . $p{hashed_canonical_request};

    my $k_date = Digest::SHA::hmac_sha256($date, "TC3$key");
    my $k_service = Digest::SHA::hmac_sha256($service, $k_date);
    my $k_signing = Digest::SHA::hmac_sha256('tc3_request', $k_service);

    $p{secret_date} = unpack('H*', $k_date);
    $p{secret_service} = unpack('H*', $k_service);
    $p{secret_signing} = unpack('H*', $k_signing);
    $p{signature} = Digest::SHA::hmac_sha256_hex($p{string_to_sign},
                                                 $k_signing);
    $p{date} = $date;

    my $auth = "TC3-HMAC-SHA256 Credential=$id/$date/$service/tc3_request, "
               . "SignedHeaders=content-type;host, Signature=$p{signature}";

    return wantarray ? ($auth, \%p) : $auth;
}


# an API 3.0 request, raw, in the order and form of contract section 7:
#
#   tc3_request(action => 'BankCardOCR', body => JSON, host => HOST,
#               timestamp => (now, whole seconds), region => undef,
#               token => undef, version => '2018-11-19', path => '/',
#               authorization => (tc3_sign's), headers => [[k, v], ...],
#               omit => [header names], and tc3_sign's arguments)
#
# content_type is both sent and signed; headers are added before
# Authorization; omit leaves headers out (e.g. ['Authorization']).

sub tc3_request {
    my (%a) = @_;

    $a{timestamp} //= int time;
    $a{body} //= '';
    utf8::encode($a{body}) if utf8::is_utf8($a{body});

    my %omit = map { lc($_) => 1 } @{ $a{omit} // [] };

    my @h = (
        ['Host', $a{host}],
        ['Content-Type', $a{content_type} // 'application/json'],
        ['Content-Length', length $a{body}],
        ['X-TC-Action', $a{action} // 'BusinessCardOCR'],
        ['X-TC-Version', $a{version} // '2018-11-19'],
        ['X-TC-Timestamp', $a{timestamp}],
        (defined $a{region} ? ['X-TC-Region', $a{region}] : ()),
        (defined $a{token} ? ['X-TC-Token', $a{token}] : ()),
        @{ $a{headers} // [] },
        ['Authorization', $a{authorization} // scalar tc3_sign(%a)],
    );

    return "POST " . ($a{path} // '/') . " HTTP/1.1\r\n"
           . join('', map { "$_->[0]: $_->[1]\r\n" }
                      grep { !$omit{ lc $_->[0] } } @h)
           . "\r\n$a{body}";
}


1;
