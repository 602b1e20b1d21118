# URL input (contract 3.3): {"url": ...} or {"urls": [...]} become the
# namecard's url_list, made with cJSON so that no client string breaks out
# of the JSON; URLs are checked before any upstream call; qocr_url_input
# off refuses them.  qocr_return_image on: ret_image=1 upstream and the
# base64 image in each result, for files and URLs.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use JSON::PP;
use MIME::Base64;
use Test::More;
use QocrTest;

my $t = QocrTest->new;
my $json = JSON::PP->new->utf8->canonical;

my $bank = $t->qocr_location(path => '/bank',
                             extra => "            qocr bankcard;\n"
                                      . '            qocr_return_image on;')
           =~ s/qocr namecard;\n//r;

$t->start($t->server(
    $t->qocr_location
    . $t->qocr_location(path => '/ret',
                        extra => '            qocr_return_image on;')
    . $t->qocr_location(path => '/nourl',
                        extra => '            qocr_url_input off;')
    . $bank));

sub urls {
    my ($body, %o) = @_;
    return $t->request(type => 'application/json',
                       body => ref $body ? $json->encode($body) : $body, %o);
}

sub upstream_json {
    my $u = QocrTest::parse_recorded(($t->records)[-1]);
    return ($u, eval { $json->decode($u->{body}) });
}

# three URLs, the second failing

my @u = ('http://img.example.com/a.jpg',
         'https://img.example.com/b.jpg?QOCR{code=-1308}',
         'http://img.example.com:8080/c.png');

my $r = urls({ urls => \@u });
is($r->{status}, 200, '3 URLs: 200') or diag($r->{raw});
is_deeply($r->{json}, {
    kind => 'namecard',
    results => [
        result(index => 0, source => $u[0], ok => JSON::PP::true,
               fields => nc_fields(
                   name => { value => $u[0], confidence => 0.9 },
                   phone => { value => '13800138000', confidence => 0.87 })),
        result(index => 1, source => $u[1], ok => JSON::PP::false,
               error => { code => 'url_fetch_failed',
                          message => $r->{json}{results}[1]{error}{message},
                          upstream_code => -1308 }),
        result(index => 2, source => $u[2], ok => JSON::PP::true,
               fields => nc_fields(
                   name => { value => $u[2], confidence => 0.9 },
                   phone => { value => '13800138000', confidence => 0.87 })),
    ],
}, '3 URLs: results in input order, the failing one an item error');

my ($up, $sent) = upstream_json();
is($up->{headers}{'content-type'}, 'application/json',
   'upstream: application/json');
is($up->{body}, '{"appid":"1250000000","bucket":"test","ret_image":0,'
                . '"url_list":' . $json->encode(\@u) . '}',
   'upstream: {"appid","bucket","ret_image","url_list"}, exactly');
is($up->{headers}{'content-length'}, length $up->{body},
   'upstream: Content-Length matches');

# one URL as "url"

$r = urls({ url => $u[0] });
is($r->{status}, 200, '"url": 200');
is($r->{json}{results}[0]{source}, $u[0], '"url": source');
(undef, $sent) = upstream_json();
is_deeply($sent->{url_list}, [ $u[0] ], '"url": url_list of one');

# hostile strings stay strings

my $evil = "http://img.example.com/\"quote\"\\back\\slash\nnew\tline"
           . "\",\"appid\":\"1\"}/张三.jpg";
$r = urls({ urls => [ $evil ] });
is($r->{status}, 200, 'quotes, backslashes, newlines: 200')
    or diag($r->{raw});
($up, $sent) = upstream_json();
ok($sent, 'upstream: valid JSON');
is_deeply($sent->{url_list}, [ $evil ], 'upstream: the URL intact');
is($sent->{appid}, $QocrTest::APPID, 'upstream: appid not overridden');
is($r->{json}{results}[0]{source}, $evil, 'the source is the URL, intact');

# refused before upstream

sub refused {
    my ($r, $status, $code, $name) = @_;
    is($r->{status}, $status, "$name: $status") or diag($r->{raw});
    is($r->{json}{error}{code}, $code, "$name: $code");
    ok(exists $r->{json}{error}{upstream_code}
       && !defined $r->{json}{error}{upstream_code},
       "$name: upstream_code null");
    is(scalar $t->records, 0, "$name: the OCR service saw nothing");
}

$t->clear_records;

refused(urls({ urls => [ map { "http://img.example.com/$_.jpg" } 1 .. 21 ] }),
        413, 'too_many_images', '21 URLs');
refused(urls({ url => 'ftp://img.example.com/a.jpg' }), 400, 'bad_request',
        'ftp://');
refused(urls({ url => '/images/a.jpg' }), 400, 'bad_request', 'relative');
refused(urls({ url => 'http:///a.jpg' }), 400, 'bad_request', 'no host');
refused(urls({ url => 'http://img.example.com/' . ('a' x 10240) }), 400,
        'bad_request', '10 kB URL');
refused(urls({ urls => [ $u[0], 42 ] }), 400, 'bad_request',
        'a URL that is a number');
refused(urls({ url => $u[0], urls => [ $u[1] ] }), 400, 'bad_request',
        '"url" and "urls" both');
refused(urls({ urls => $u[0] }), 400, 'bad_request', '"urls" not a list');
refused(urls({ urls => [] }), 400, 'no_image', 'an empty list');
refused(urls({ other => 1 }), 400, 'no_image', 'no URL at all');
refused(urls('{"urls": ["http://a.example/1.jpg"'), 400, 'bad_request',
        'truncated JSON');
refused(urls('["http://a.example/1.jpg"]'), 400, 'bad_request',
        'a JSON array');
refused(urls(''), 400, 'bad_request', 'an empty body');
refused(urls(qq({"url": "http://img.example.com/\xff\xfe.jpg"})), 400,
        'bad_request', 'a URL that is not UTF-8');
refused(urls({ url => 'http://img.example.com/a.jpg',
               pad => 'x' x 70000 }), 400, 'bad_request',
        'a JSON body over 64 kB');
refused(urls({ url => $u[0] }, path => '/nourl'), 415,
        'unsupported_media_type', 'qocr_url_input off');
like($t->request(path => '/nourl', type => 'application/json',
                 body => $json->encode({ url => $u[0] }))->{json}{error}
     {message}, qr/URL input is off/, 'qocr_url_input off: says why');

# qocr_return_image on: files and URLs

my $img = jpeg(name => 'Ret');
my ($type, $body) = multipart(['file', 'r.jpg', $img]);
$r = $t->request(path => '/ret', type => $type, body => $body);
is($r->{status}, 200, 'return image, file: 200') or diag($r->{raw});
is($r->{json}{results}[0]{image}, encode_base64($img, ''),
   'return image, file: the base64 image in the result');
like(QocrTest::parse_recorded(($t->records)[-1])->{body},
     qr/name="ret_image"\r\n\r\n1\r\n/, 'return image, file: ret_image=1');

$r = urls({ urls => [ $u[0], $u[2] ] }, path => '/ret');
is($r->{status}, 200, 'return image, URLs: 200');
is_deeply([ map { $_->{image} } @{ $r->{json}{results} } ],
          [ map { encode_base64($_, '') } $u[0], $u[2] ],
          'return image, URLs: each result has its image');
(undef, $sent) = upstream_json();
is($sent->{ret_image}, 1, 'return image, URLs: ret_image 1 upstream');

$r = $t->request(type => $type, body => $body);
ok(!exists $r->{json}{results}[0]{image}, 'return image off: no image');

# the default qocr_max_response_size makes room for the images that come
# back: a 900 kB image is a reply of over 1.2 MB

$img = jpeg(name => 'Big', _size => 900 * 1024);
($type, $body) = multipart(['file', 'big.jpg', $img]);
$r = $t->request(path => '/ret', type => $type, body => $body);
is($r->{status}, 200, 'return image, 900 kB: 200 with the default limit')
    or diag(substr($r->{raw}, 0, 500));
ok(($r->{json}{results}[0]{image} // '') eq encode_base64($img, ''),
   'return image, 900 kB: the image comes back whole');

# bank cards have no ret_image: the flag is not sent

$r = urls({ url => $u[0] }, path => '/bank');
is($r->{status}, 200, 'bank card URL with qocr_return_image on: 200')
    or diag($r->{raw});
is(QocrTest::parse_recorded(($t->records)[-1])->{body},
   '{"appid":"1250000000","bucket":"test","url":"' . $u[0] . '"}',
   'bank card: no ret_image upstream');

$t->done;
