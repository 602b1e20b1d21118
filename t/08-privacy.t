# Nothing of the client's but its images reaches the OCR service; no secret
# reaches any log, the debug log included.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
$t->start($t->server($t->qocr_location));

my ($type, $body) = multipart(['file', 'a.jpg', jpeg(name => 'P')]);
my $r = $t->request(type => $type, body => $body, headers => {
    Cookie => 'session=COOKIEVALUE',
    Authorization => 'Bearer CLIENTTOKEN',
    'X-Forwarded-For' => '10.1.2.3',
    'User-Agent' => 'TestAgent/1.0',
    Referer => 'http://example.com/REFERER',
});
is($r->{status}, 200, 'a request with the client\'s headers: 200');

my ($raw) = $t->records;
my $u = QocrTest::parse_recorded($raw);

is_deeply([ sort keys %{ $u->{headers} } ],
          [qw(authorization connection content-length content-type host)],
          'only the module\'s headers go upstream');
unlike($raw, qr/COOKIEVALUE|CLIENTTOKEN|10\.1\.2\.3|TestAgent|REFERER/,
       'no client header value anywhere in the upstream request');

my $log = $t->error_log . $t->access_log;
like($t->error_log, qr/\[debug\]/, 'the debug log is on');
unlike($log, qr/\Q$QocrTest::SECRET_KEY\E/, 'the secret key is in no log');
unlike($log, qr/\Q$u->{headers}{authorization}\E/,
       'the signature is in no log');

# the credentials file: the same, and nginx -T shows only its name

my $dir = $t->dir;
open my $fh, '>', "$dir/qocr.secret" or die $!;
print $fh "secret_id $QocrTest::SECRET_ID\nsecret_key $QocrTest::SECRET_KEY\n";
close $fh;

my ($ok, $out) = $t->nginx_test($t->server(<<"EOF2"));
        location /ocr {
            qocr namecard;
            qocr_pass http://127.0.0.1:1;
            qocr_appid $QocrTest::APPID;
            qocr_bucket $QocrTest::BUCKET;
            qocr_credentials $dir/qocr.secret;
        }
EOF2
ok($ok, 'a credentials file config') or diag($out);
my $dump = `${\ QocrTest::nginx_bin()} -T -p $dir -c $dir/conf/nginx.conf -e $dir/logs/error.log 2>&1`;
like($dump, qr/qocr_credentials \Q$dir\E\/qocr.secret;/, 'nginx -T names the file');
unlike($dump, qr/\Q$QocrTest::SECRET_KEY\E/, '... and not its secret');

$t->done;
