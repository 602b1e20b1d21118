# qocr_pass https://: TLS through nginx's SSL layer.  The certificate is
# verified by default (the system's CA store, or
# qocr_ssl_trusted_certificate) against qocr_ssl_name or the qocr_pass
# host; SNI is sent; TLS sessions are reused.  A certificate that fails
# verification is a 502 upstream_unavailable and an error-level log line
# that says why.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my %good = $t->make_certs('good');
my %other = $t->make_certs('other');
my $port = $t->fake(tls => "$good{cert}:$good{key}");
my $url = "https://127.0.0.1:$port";

# the failing cases talk to a server of their own: nginx keeps one TLS
# session per upstream server, and a session resumed from a verified
# connection is not verified again
my $port2 = $t->fake(name => 'unverified', tls => "$good{cert}:$good{key}");
my $url2 = "https://127.0.0.1:$port2";

sub loc {
    my ($path, $extra, $pass) = @_;
    return $t->qocr_location(path => $path, pass => $pass // $url,
                             extra => join '', map { "            $_;\n" }
                                                   @$extra);
}

$t->start($t->server(
    loc('/ok', [ 'qocr_ssl_name ocr.test',
                 "qocr_ssl_trusted_certificate $good{ca}" ])
    . loc('/wrong-ca', [ 'qocr_ssl_name ocr.test',
                         "qocr_ssl_trusted_certificate $other{ca}" ], $url2)
    . loc('/system-store', [ 'qocr_ssl_name ocr.test' ], $url2)
    . loc('/wrong-name', [ 'qocr_ssl_name other.test',
                           "qocr_ssl_trusted_certificate $good{ca}" ], $url2)
    . loc('/no-verify', [ 'qocr_ssl_verify off' ])
    . loc('/no-sni', [ 'qocr_ssl_name ocr.test', 'qocr_ssl_server_name off',
                       "qocr_ssl_trusted_certificate $good{ca}" ])));

sub post {
    my ($path, @images) = @_;
    my ($type, $body) = multipart(map { ['file', @$_] } @images);
    return $t->request(path => $path, type => $type, body => $body);
}

sub sni_lines {
    open my $fh, '<', $t->dir . '/record/sni' or return ();
    chomp(my @l = <$fh>);
    return @l;
}

# verified

my $r = post('/ok', ['a.jpg', jpeg(name => 'Tls')]);
is($r->{status}, 200, 'verified: 200') or diag($r->{raw});
is($r->{json}{results}[0]{fields}{name}{value}, 'Tls', 'verified: the result');

my ($u) = $t->records;
ok(defined $u, 'the fake service received the request over TLS');
like($u, qr{\APOST /ocr/namecard HTTP/1\.1\r\nHost: 127\.0\.0\.1:$port\r\n},
     'the request line and Host header');

my @sni = sni_lines();
like($sni[-1], qr/ ocr\.test reused=0$/, 'SNI: qocr_ssl_name sent');

# a second call resumes the TLS session

$r = post('/ok', ['b.jpg', jpeg(name => 'Again')]);
is($r->{status}, 200, 'second call: 200');
@sni = sni_lines();
like($sni[-1], qr/ reused=1$/, 'second call: the TLS session is reused');

# verification failures

for my $case (['/wrong-ca', qr/upstream SSL certificate verify error: \(\d+:[^)]+\)/,
               'a certificate of another CA'],
              ['/system-store', qr/upstream SSL certificate verify error: \(\d+:[^)]+\)/,
               'the system store, which does not hold the test CA'],
              ['/wrong-name', qr/upstream SSL certificate does not match "other\.test"/,
               'a certificate for another name'])
{
    my ($path, $log, $name) = @$case;

    $r = post($path, ['c.jpg', jpeg()]);
    is($r->{status}, 502, "$name: 502") or diag($r->{raw});
    is($r->{json}{error}{code}, 'upstream_unavailable',
       "$name: upstream_unavailable");
    like($t->error_log, qr/\[error\] .*$log/, "$name: logged at error level");
}

is(scalar $t->records('unverified'), 0,
   'no request reached the service unverified');

# verification off; SNI off

$r = post('/no-verify', ['d.jpg', jpeg(name => 'Unverified')]);
is($r->{status}, 200, 'qocr_ssl_verify off: 200');
is($r->{json}{results}[0]{fields}{name}{value}, 'Unverified',
   'qocr_ssl_verify off: the result');

$r = post('/no-sni', ['e.jpg', jpeg()]);
is($r->{status}, 200, 'qocr_ssl_server_name off: 200');
@sni = sni_lines();
like($sni[-1], qr/^\d+ - reused=/, 'qocr_ssl_server_name off: no SNI');

$t->done;
