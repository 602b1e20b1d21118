# A server of an upstream{} that fails after the request was sent: the
# request goes to the next server with byte-identical bytes, for bodies in
# memory and in a client temp file (nginx's ngx_http_upstream_reinit()
# alone would rewind temp-file images to the wrong offsets).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $bad = $t->fake(name => 'bad', reset => 1);
my $good = $t->fake;

$t->start("    upstream ocr_backend {\n"
          . "        server 127.0.0.1:$bad max_fails=0;\n"
          . "        server 127.0.0.1:$good;\n    }\n"
          . $t->server($t->qocr_location(pass => 'http://ocr_backend',
                           extra => '            qocr_max_image_size 300k;'),
                       '        client_body_buffer_size 4k;'));

my @small = map { ["s$_.jpg", jpeg(name => "S$_")] } 1 .. 3;
my @large = map { ["l$_.jpg", jpeg(name => "L$_") . ("\r\n--y" x 40000)] }
            1 .. 3;

for my $case (['in memory', \@small, [qw(S1 S2 S3)]],
              ['in a temp file', \@large, [qw(L1 L2 L3)]])
{
    my ($name, $images, $names) = @$case;

    $t->clear_records;
    unlink glob($t->dir . '/record-bad/c*.req');

    # round robin: the bad server comes first every other request
    my ($r, @sent, @retried);

    for (1 .. 2) {
        $r = $t->post_images(@$images);
        is($r->{status}, 200, "$name: 200 through the second server")
            or diag($r->{raw});
        is_deeply([ map { $_->{fields}{name}{value} }
                    @{ $r->{json}{results} } ], $names, "$name: results");
    }

    @sent = $t->records('bad');
    @retried = $t->records;

    ok(@sent >= 1, "$name: the first server received the request");
    ok((grep { $_ eq $sent[0] } @retried),
       "$name: the retried request is byte-identical");
}

like($t->error_log, qr/\[error\].*upstream prematurely closed connection|recv\(\) failed \(104/,
     'the failure is logged');

$t->done;
