# upstream{} with nginx's keepalive: a connection goes back to the pool only
# after a complete, well-formed reply; never after a broken or partial one,
# bytes after the reply, an oversized reply or "Connection: close".

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $fake = $t->fake;

$t->start("    upstream ocr_backend {\n"
          . "        server 127.0.0.1:$fake;\n"
          . "        keepalive 4;\n    }\n"
          . $t->server($t->qocr_location(
                pass => 'http://ocr_backend',
                extra => '            qocr_max_response_size 64k;')));

for my $i (1 .. 20) {
    my $r = $t->post_images(["k$i.jpg", jpeg(name => "K$i")]);
    die "request $i: $r->{raw}" unless ($r->{status} // 0) == 200
        && $r->{json}{results}[0]{fields}{name}{value} eq "K$i";
}

pass('20 sequential requests answered');
ok(!grep({ /\r\nConnection:/i } $t->records),
   'with a keepalive pool: no "Connection: close", HTTP/1.1 keepalive');
my @conn = $t->connections;
is(scalar @conn, 20, '20 requests reached the service');
is(scalar(keys %{{ map { $_ => 1 } @conn }}), 1,
   '20 sequential requests: one upstream connection');

# a well-formed error reply keeps the connection too

my $r = $t->post_images(['e.jpg', jpeg(rcode => 5)]);
is($r->{status}, 502, 'a code 5 reply: 502');
$r = $t->post_images(['f.jpg', jpeg()]);
is($r->{status}, 200, 'then: 200');
@conn = $t->connections;
is($conn[-1], $conn[0], 'a well-formed error reply: the connection is reused');

# each fault: the reply is not trusted, and the next request goes out on a
# new connection and gets its own result

for my $case (['truncate', 502, 'a truncated reply'],
              ['trailing', 200, 'bytes after the reply'],
              ['connclose', 200, '"Connection: close"'],
              ['huge', 502, 'a reply over qocr_max_response_size'],
              ['chunked', 200, 'a chunked reply (well-formed: kept)'])
{
    my ($fault, $status, $name) = @$case;

    $r = $t->post_images(['x.jpg', jpeg(fault => $fault)]);
    is($r->{status}, $status, "$name: $status") or diag($r->{raw});
    my $fault_conn = ($t->connections)[-1];

    $r = $t->post_images(['y.jpg', jpeg(name => 'After')]);
    is($r->{status}, 200, "$name: the next request: 200");
    is($r->{json}{results}[0]{fields}{name}{value}, 'After',
       "$name: the next request: its own result");

    my $next_conn = ($t->connections)[-1];

    if ($fault eq 'chunked') {
        is($next_conn, $fault_conn, "$name: the connection is reused");

    } else {
        isnt($next_conn, $fault_conn, "$name: the connection is not reused");
    }
}

# a reply cut off on a pooled connection is tried once more on a fresh one
# (nginx's rule for keepalive connections the server may have closed)

my @truncated = grep { /fault=truncate/ } $t->records;
is(scalar @truncated, 2, 'the truncated call was tried again, once');

$t->done;
