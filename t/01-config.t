# nginx -t: a qocr location missing what it needs, or with bad values,
# fails with a message naming the directive; secrets are never echoed.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use QocrTest;

my $t = QocrTest->new;
my $fake = 'http://127.0.0.1:' . QocrTest::free_port();

sub conf {
    my (%o) = @_;
    my %d = (
        qocr => 'namecard',
        qocr_pass => $fake,
        qocr_appid => $QocrTest::APPID,
        qocr_bucket => $QocrTest::BUCKET,
        qocr_secret_id => $QocrTest::SECRET_ID,
        qocr_secret_key => $QocrTest::SECRET_KEY,
        %o,
    );
    my $lines = join '', map { defined $d{$_} ? "            $_ $d{$_};\n" : '' }
                sort keys %d;
    return $t->server("        location /ocr {\n$lines        }\n");
}

sub fails_with {
    my ($conf, $re, $name) = @_;
    my ($ok, $out) = $t->nginx_test($conf);
    ok(!$ok, "$name: nginx -t fails");
    like($out, $re, "$name: the message says why");
    unlike($out, qr/\Q$QocrTest::SECRET_KEY\E/, "$name: no secret echoed");
    return $out;
}

my ($ok, $out) = $t->nginx_test(conf());
ok($ok, 'a complete location passes nginx -t') or diag($out);

fails_with(conf(qocr_pass => undef), qr/"qocr_pass" is missing/,
           'no qocr_pass');
fails_with(conf(qocr_appid => undef), qr/"qocr_appid" is missing/,
           'no AppID');
fails_with(conf(qocr_bucket => undef), qr/"qocr_bucket" is missing/,
           'no bucket');
fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef),
           qr/credentials are missing/, 'no credentials');
fails_with(conf(qocr_secret_key => undef), qr/credentials are missing/,
           'a SecretId without its key');

fails_with(conf(qocr => 'passport'), qr/invalid value "passport" in "qocr"/,
           'unknown kind');
($ok, $out) = $t->nginx_test(conf(qocr_pass => 'https://127.0.0.1:1',
                                   qocr_ssl_name => 'ocr.test',
                                   qocr_next_upstream => 'error timeout '
                                                         . 'http_429 http_5xx',
                                   qocr_next_upstream_tries => 3));
ok($ok, 'https://, qocr_ssl_name and the retry directives pass nginx -t')
    or diag($out);
fails_with(conf(qocr_pass => 'https://127.0.0.1:1',
                qocr_ssl_trusted_certificate => '/nonexistent/ca.pem'),
           qr/SSL_CTX_load_verify_locations\("\/nonexistent\/ca.pem"\) failed|cannot load certificate "\/nonexistent\/ca.pem"/,
           'a trusted certificate file that is not there');
fails_with(conf(qocr_next_upstream => 'http_404'),
           qr/invalid value "http_404"/, 'an unknown next-upstream case');
fails_with(conf(qocr_next_upstream_tries => 0),
           qr/"qocr_next_upstream_tries" must be at least 1/, 'zero tries');
fails_with(conf(qocr_pass => 'ftp://127.0.0.1:1'),
           qr/invalid URL "ftp:\/\/127.0.0.1:1" in "qocr_pass": http\(s\):\/\//, 'ftp URL');
fails_with(conf(qocr_max_images => 0), qr/"qocr_max_images" must be 1 to 20/,
           'zero images');
fails_with(conf(qocr_max_images => 21), qr/"qocr_max_images" must be 1 to 20/,
           'more images than the service takes');
fails_with(conf(qocr_max_images => 'many'), qr/invalid number/,
           'a word for a number');
fails_with(conf(qocr_sign_ttl => '0s'), qr/"qocr_sign_ttl" must be positive/,
           'zero signature lifetime');
fails_with(conf(qocr_max_image_size => 'huge'), qr/invalid value/,
           'a bad size');
fails_with(conf(qocr_read_timeout => 'soon'), qr/invalid value/,
           'a bad time');
fails_with(conf(qocr_max_response_size => '100'),
           qr/"qocr_max_response_size" must be at least 1k/,
           'a tiny response limit');
fails_with(conf(qocr_appid => '"12&b=x"'), qr/invalid character at position 3/,
           'an AppID that would break the signature text');
fails_with(conf(qocr_secret_key => '"abc def"'),
           qr/invalid character at position 4/, 'a key with a space');

# qocr is for locations only
($ok, $out) = $t->nginx_test($t->server('', '        qocr namecard;'));
ok(!$ok, 'qocr at server level fails');
like($out, qr/"qocr" directive is not allowed here/, '... and says so');

# settings inherited from http and server levels
($ok, $out) = $t->nginx_test(<<"EOF");
    qocr_pass $fake;
    qocr_appid $QocrTest::APPID;
    server {
        listen 127.0.0.1:%%PORT%%;
        qocr_bucket $QocrTest::BUCKET;
        qocr_secret_id $QocrTest::SECRET_ID;
        qocr_secret_key $QocrTest::SECRET_KEY;
        location /a { qocr namecard; }
        location /b { qocr namecard; qocr_max_images 3; }
    }
EOF
ok($ok, 'directives are inherited from http and server') or diag($out);

# the credentials file
my $dir = $t->dir;

sub cred_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die $!;
    print $fh $text;
    close $fh;
    chmod 0600, "$dir/$name";
    return "$dir/$name";
}

my $good = cred_file('good.secret', "# test credentials\nsecret_id = "
                     . "$QocrTest::SECRET_ID\n\nsecret_key: "
                     . "$QocrTest::SECRET_KEY\n");

($ok, $out) = $t->nginx_test(conf(qocr_secret_id => undef,
                                  qocr_secret_key => undef,
                                  qocr_credentials => $good));
ok($ok, 'a credentials file') or diag($out);

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => "$dir/missing.secret"),
           qr/open\(\) ".*missing.secret" failed/, 'a missing credentials file');

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => cred_file('half.secret',
                                     "secret_id $QocrTest::SECRET_ID\n")),
           qr/must hold both secret_id and secret_key/, 'a key missing');

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => cred_file('raw.secret',
                                      "$QocrTest::SECRET_KEY\n")),
           qr/unknown line 1 in credentials file/, 'a bare secret in the file');

fails_with(conf(qocr_credentials => $good),
           qr/cannot be used with "qocr_(secret_id|credentials)"/,
           'a file and inline credentials at one level');

# a FIFO is refused at once, not waited on

system("mkfifo $dir/fifo.secret") == 0 or die "mkfifo";
my $start = time;
fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => "$dir/fifo.secret"),
           qr/credentials file ".*fifo.secret" is not a regular file/,
           'a FIFO as the credentials file');
ok(time - $start < 5, '... at once');

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => cred_file('extra.secret',
                    "secret_id = $QocrTest::SECRET_ID extra\n"
                    . "secret_key $QocrTest::SECRET_KEY\n")),
           qr/more than one value on line 1 of credentials file/,
           'a second value on a line');

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => cred_file('crlf.secret',
                    "secret_id\r\nsecret_key $QocrTest::SECRET_KEY\r\n")),
           qr/no value on line 1 of credentials file/,
           'a name without a value, CRLF line ends');

($ok, $out) = $t->nginx_test(conf(qocr_secret_id => undef,
                                  qocr_secret_key => undef,
                                  qocr_credentials => cred_file('crlf2.secret',
                    "secret_id $QocrTest::SECRET_ID\r\n"
                    . "secret_key $QocrTest::SECRET_KEY  # ours\r\n")));
ok($ok, 'CRLF line ends and a comment after a value') or diag($out);

fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                qocr_credentials => cred_file('bad.secret',
                    "secret_id $QocrTest::SECRET_ID\n"
                    . "secret_key ab\x01cd\n")),
           qr/secret_key in credentials file ".*bad\.secret" has an invalid character at position 3/,
           'a bad character in the file: the name and the file said');
fails_with(conf(qocr_bucket => '"a b"'),
           qr/"qocr_bucket" has an invalid character at position 2/,
           'a bad character: the directive said');
fails_with(conf(qocr_max_image_size => 0),
           qr/"qocr_max_image_size" must be positive/, 'a zero image size');

# API 3.0: no AppID or bucket needed; its own directives checked

fails_with(conf(qocr_appid => undef),
           qr/"qocr_appid" is missing .*"qocr_api v3"/,
           'a legacy location without an AppID names qocr_api v3');

my %v3 = (qocr_api => 'v3', qocr_appid => undef, qocr_bucket => undef);

($ok, $out) = $t->nginx_test(conf(%v3));
ok($ok, 'a v3 location without AppID or bucket passes nginx -t')
    or diag($out);

($ok, $out) = $t->nginx_test(conf(%v3, qocr => 'bankcard',
                                  qocr_region => 'ap-shanghai',
                                  qocr_parallel => 20,
                                  qocr_return_image => 'on',
                                  qocr_bankcard_checks => 'copy reshoot border',
                                  qocr_pass => 'https://127.0.0.1:1'));
ok($ok, 'every v3 directive passes nginx -t') or diag($out);

($ok, $out) = $t->nginx_test(conf(%v3, qocr_region => 'off',
                                  qocr_bankcard_checks => 'off'));
ok($ok, 'qocr_region off, qocr_bankcard_checks off') or diag($out);

fails_with(conf(%v3, qocr_api => 'v2'), qr/invalid value "v2"/,
           'an unknown API');
fails_with(conf(%v3, qocr_parallel => 0),
           qr/"qocr_parallel" must be 1 to 20/, 'qocr_parallel 0');
fails_with(conf(%v3, qocr_parallel => 21),
           qr/"qocr_parallel" must be 1 to 20/, 'qocr_parallel 21');
fails_with(conf(%v3, qocr_region => 'Ap_Guangzhou'),
           qr/"qocr_region" .*must be a region such as ap-guangzhou, or off/,
           'a region that is not one');
fails_with(conf(%v3, qocr_bankcard_checks => 'glare'),
           qr/invalid value "glare"/, 'an unknown bank card check');
fails_with(conf(%v3, qocr_secret_key => undef), qr/credentials are missing/,
           'v3 needs credentials');

my $tok = cred_file('token.secret', "secret_id $QocrTest::SECRET_ID\n"
                    . "secret_key $QocrTest::SECRET_KEY\n"
                    . "token tmpToken-0123456789abcdef\n");

($ok, $out) = $t->nginx_test(conf(%v3, qocr_secret_id => undef,
                                  qocr_secret_key => undef,
                                  qocr_credentials => $tok));
ok($ok, 'v3: a credentials file with a token') or diag($out);

$out = fails_with(conf(qocr_secret_id => undef, qocr_secret_key => undef,
                       qocr_credentials => $tok),
                  qr/a "token" in the credentials file needs "qocr_api v3"/,
                  'a token for the legacy API');
unlike($out, qr/tmpToken/, '... the token is not echoed');

$out = fails_with(conf(%v3, qocr_secret_id => undef, qocr_secret_key => undef,
                       qocr_credentials => cred_file('badtok.secret',
                           "secret_id $QocrTest::SECRET_ID\n"
                           . "secret_key $QocrTest::SECRET_KEY\n"
                           . "token SeCrEt\x01Token\n")),
                  qr/a qocr token has an invalid character at position 7/,
                  'a token with a control character');
unlike($out, qr/SeCrEt/, '... the token is not echoed');

$t->done;
