
/*
 * Fuzzes the OCR service's reply: the HTTP/1.x status line and headers, the
 * body (Content-Length, chunked, or ended by closing), read in pieces as
 * from a socket into a buffer of nginx's upstream buffer size, then the
 * JSON normalized for a request of 1 to 20 images or URLs, namecard or
 * bank card.  The output must be valid JSON with one result per input.
 *
 * Input: one byte (the number of images and the piece size), one byte
 * (bit 0: bank card; bit 1: URL input), the reply.
 */


#include "fuzz.h"

#include <cjson/cJSON.h>


#define QOCR_FUZZ_BUFFER  4096
#define QOCR_FUZZ_MAX     (64 * 1024)


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();
    return 0;
}


static void
qocr_fuzz_normalize(ngx_pool_t *pool, ngx_qocr_reply_t *reply,
    ngx_uint_t nimages, ngx_uint_t mode)
{
    cJSON             *json;
    ngx_str_t          out;
    ngx_uint_t         i, status;
    ngx_qocr_ctx_t     ctx;
    ngx_qocr_image_t  *img;

    ngx_memzero(&ctx, sizeof(ngx_qocr_ctx_t));

    ctx.kind = (mode & 1) ? NGX_QOCR_BANKCARD : NGX_QOCR_NAMECARD;
    ctx.url_input = (mode & 2) ? 1 : 0;
    ctx.upstream_code = NGX_QOCR_NO_CODE;
    ctx.reply = *reply;

    if (ctx.kind == NGX_QOCR_BANKCARD) {
        nimages = 1;
    }

    ctx.images = ngx_array_create(pool, nimages, sizeof(ngx_qocr_image_t));
    if (ctx.images == NULL) {
        return;
    }

    for (i = 0; i < nimages; i++) {
        img = ngx_array_push(ctx.images);
        if (img == NULL) {
            return;
        }

        ngx_memzero(img, sizeof(ngx_qocr_image_t));

        if (ctx.url_input) {
            /* the fake service's URLs: a.example/0 .. a.example/19 */
            img->source.data = ngx_pnalloc(pool, 32);
            if (img->source.data == NULL) {
                return;
            }

            img->source.len = ngx_sprintf(img->source.data,
                                          "http://a.example/%ui%Z", i)
                              - img->source.data - 1;
            img->has_source = 1;

        } else if (i % 2) {
            ngx_str_set(&img->source, "card.jpg");
            img->has_source = 1;
        }
    }

    status = 0;

    if (ngx_qocr_normalize(pool, &qocr_fuzz_log, &ctx, &out, &status)
        != NGX_OK)
    {
        return;
    }

    if (out.len == 0) {
        /* a request-level error: it must be one of the table */
        if (ctx.err == NGX_QOCR_OK || ctx.err >= NGX_QOCR_ERR_LAST) {
            abort();
        }

        return;
    }

    json = cJSON_ParseWithLength((char *) out.data, out.len);

    if (json == NULL || status != NGX_HTTP_OK) {
        abort();
    }

    if (cJSON_GetArraySize(cJSON_GetObjectItem(json, "results"))
        != (int) nimages)
    {
        abort();
    }

    cJSON_Delete(json);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               piece, n;
    ngx_buf_t            b, in;
    ngx_int_t            rc;
    ngx_uint_t           nimages, mode;
    const char          *error;
    ngx_pool_t          *pool;
    ngx_qocr_reply_t     reply;
    ngx_http_request_t  *r;

    if (size < 2) {
        return 0;
    }

    nimages = (data[0] % 20) + 1;
    piece = (data[0] >> 3) * 37 + 1;
    mode = data[1];
    data += 2;
    size -= 2;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    r = qocr_fuzz_request(pool);
    if (r == NULL) {
        goto done;
    }

    ngx_qocr_reply_init(&reply);

    /* the upstream buffer, filled piece by piece as recv() would */

    ngx_memzero(&b, sizeof(ngx_buf_t));
    b.start = ngx_palloc(pool, QOCR_FUZZ_BUFFER);
    if (b.start == NULL) {
        goto done;
    }

    b.pos = b.start;
    b.last = b.start;
    b.end = b.start + QOCR_FUZZ_BUFFER;

    rc = NGX_AGAIN;

    while (size && rc == NGX_AGAIN) {
        n = ngx_min(ngx_min(piece, size), (size_t) (b.end - b.last));

        if (n == 0) {
            /* "upstream sent too big header" */
            goto done;
        }

        ngx_memcpy(b.last, data, n);
        b.last += n;
        data += n;
        size -= n;

        rc = ngx_qocr_reply_parse_header(r, &reply, &b, QOCR_FUZZ_MAX,
                                         &error);
    }

    if (rc != NGX_OK) {
        goto done;
    }

    /* the body: what is left in the buffer, then the rest in pieces */

    rc = ngx_qocr_reply_parse_body(r, &reply, &b, QOCR_FUZZ_MAX, &error);

    while (size && rc == NGX_AGAIN) {
        n = ngx_min(ngx_min(piece, size), QOCR_FUZZ_BUFFER);

        ngx_memzero(&in, sizeof(ngx_buf_t));
        in.start = b.start;
        in.pos = b.start;
        in.last = ngx_cpymem(b.start, data, n);
        in.end = b.end;

        data += n;
        size -= n;

        rc = ngx_qocr_reply_parse_body(r, &reply, &in, QOCR_FUZZ_MAX,
                                       &error);

        if (in.pos > in.last) {
            abort();
        }
    }

    if (reply.len > QOCR_FUZZ_MAX || reply.len > reply.size) {
        abort();
    }

    /* complete: all of it, or closed by the server when its length is open */

    if (rc == NGX_DONE
        || (rc == NGX_AGAIN && !reply.is_chunked && reply.remaining == -1))
    {
        reply.complete = 1;
        qocr_fuzz_normalize(pool, &reply, nimages, mode);
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
