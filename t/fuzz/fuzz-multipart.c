
/*
 * Fuzzes the client body.  First the multipart/form-data parser on its
 * own: the Content-Type's boundary, the body fed in pieces of varying
 * size, the file parts and their image types.  Then ngx_qocr_parse_body(),
 * the module's entry point for every form of body (multipart, a raw image,
 * URL JSON), with the body in memory buffers of that piece size, for each
 * API and kind.
 *
 * Checked: the failure convention (NGX_DECLINED with mp->error or ctx->err
 * set, NGX_DONE for a type that is not multipart; NGX_ERROR only without
 * memory, so never here); file parts inside the body, in order, at most
 * max_parts kept; a body accepted has 1 to qocr_max_images images, inside
 * the body, none empty or over the size limit, each of a type the API
 * takes, every filename or URL valid UTF-8 (README: bytes of a filename
 * that are not UTF-8 become "?"; a URL must be valid UTF-8).
 *
 * The images of a body accepted then go into the API's upstream request
 * (create_request; URLs are fuzz-urls' business), which must give them
 * back byte for byte: legacy, one multipart request of every image that
 * the module's own parser splits into exactly those bytes, each named
 * "imageNN.ext" ("image.ext" for a bank card), its Content-Length exact,
 * and reinit_request (a retry) the same bytes again; API 3.0, one call an
 * image, {"ImageBase64"} and the options, its Content-Length exact, the
 * base64 the image's bytes.
 *
 * Input: a Content-Type line, "\n", the body.  The first byte of the body
 * also sets the piece size.
 */


#include "fuzz.h"

#include <cjson/cJSON.h>


/* as ngx_qocr_parse_multipart(): qocr_max_images + 1 */
#define QOCR_FUZZ_MAX_PARTS  (NGX_QOCR_NAMECARD_MAX + 1)


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();
    return 0;
}


/* a copy of its own: quoted parameters are unescaped in place */

static u_char *
qocr_fuzz_copy(ngx_pool_t *pool, u_char *p, size_t n)
{
    u_char  *copy;

    copy = ngx_pnalloc(pool, n ? n : 1);
    if (copy == NULL) {
        return NULL;
    }

    ngx_memcpy(copy, p, n);

    return copy;
}


static void
qocr_fuzz_multipart(ngx_pool_t *pool, ngx_str_t *ctype, u_char *body,
    size_t blen, size_t piece)
{
    u_char                *p, *last;
    off_t                  prev;
    size_t                 n;
    ngx_int_t              rc;
    ngx_str_t              type, boundary, mime, ext;
    ngx_uint_t             i;
    ngx_qocr_part_t       *part;
    ngx_qocr_multipart_t   mp;

    type.len = ctype->len;
    type.data = qocr_fuzz_copy(pool, ctype->data, ctype->len);
    if (type.data == NULL) {
        return;
    }

    rc = ngx_qocr_multipart_boundary(&type, &boundary);

    if (rc == NGX_DONE || rc == NGX_DECLINED) {
        return;
    }

    if (rc != NGX_OK
        || boundary.len == 0 || boundary.len > 70
        || boundary.data < type.data
        || boundary.data + boundary.len > type.data + type.len
        || boundary.data[boundary.len - 1] == ' ')
    {
        abort();
    }

    if (ngx_qocr_multipart_init(&mp, pool, &boundary, QOCR_FUZZ_MAX_PARTS)
        != NGX_OK)
    {
        abort();
    }

    rc = NGX_OK;

    for (p = body, last = body + blen; p < last && rc == NGX_OK; p += n) {
        n = ngx_min(piece, (size_t) (last - p));
        rc = ngx_qocr_multipart_feed(&mp, p, n);
    }

    if (rc == NGX_OK) {
        rc = ngx_qocr_multipart_finish(&mp);
    }

    if (rc == NGX_DECLINED) {
        if (mp.error == NULL) {
            abort();
        }

        return;
    }

    if (rc != NGX_OK || mp.error != NULL || !mp.done
        || mp.parts->nelts > QOCR_FUZZ_MAX_PARTS
        || mp.nfiles < mp.parts->nelts)
    {
        abort();
    }

    part = mp.parts->elts;
    prev = 0;

    for (i = 0; i < mp.parts->nelts; i++) {

        if (part[i].start < prev || part[i].start > part[i].end
            || part[i].end > (off_t) blen)
        {
            abort();
        }

        prev = part[i].end;

        n = (size_t) ngx_min(part[i].end - part[i].start,
                             NGX_QOCR_MAGIC_LEN);

        (void) ngx_qocr_image_type(body + part[i].start, n, &mime, &ext);
    }
}


/* a request's bytes in one piece; every buffer of ours is in memory */

static u_char *
qocr_fuzz_flatten(ngx_pool_t *pool, ngx_chain_t *in, size_t *len)
{
    u_char       *p, *q;
    size_t        n;
    ngx_chain_t  *cl;

    n = 0;

    for (cl = in; cl; cl = cl->next) {
        if (!ngx_buf_in_memory(cl->buf) || cl->buf->pos > cl->buf->last) {
            abort();
        }

        n += cl->buf->last - cl->buf->pos;
    }

    p = ngx_pnalloc(pool, n ? n : 1);
    if (p == NULL) {
        return NULL;
    }

    for (q = p, cl = in; cl; cl = cl->next) {
        q = ngx_cpymem(q, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    *len = n;

    return p;
}


static void
qocr_fuzz_legacy_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    u_char *body)
{
    u_char                *req, *again, *p, *last, *name;
    size_t                 len, alen;
    ngx_str_t             *fn;
    ngx_uint_t             i;
    ngx_qocr_part_t       *part;
    ngx_qocr_image_t      *img;
    ngx_qocr_multipart_t   mp;

    if (ctx->conf->api->create_request(r, ctx, ctx->conf) != NGX_OK) {
        return;     /* out of memory */
    }

    req = qocr_fuzz_flatten(r->pool, ctx->request_bufs, &len);
    if (req == NULL) {
        return;
    }

    /* a retry: the same bytes */

    if (ctx->conf->api->reinit_request(r, ctx, ctx->conf) != NGX_OK) {
        return;
    }

    again = qocr_fuzz_flatten(r->pool, ctx->request_bufs, &alen);
    if (again == NULL) {
        return;
    }

    if (alen != len || ngx_memcmp(again, req, len) != 0) {
        abort();
    }

    /* the header, then the multipart body of exactly Content-Length */

    last = req + len;

    for (p = req; p + 4 <= last; p++) {
        if (ngx_memcmp(p, "\r\n\r\n", 4) == 0) {
            break;
        }
    }

    if (p + 4 > last
        || qocr_fuzz_content_length(req, p + 2) != last - (p + 4))
    {
        abort();
    }

    p += 4;

    if (ngx_qocr_multipart_init(&mp, r->pool, &ctx->boundary,
                                QOCR_FUZZ_MAX_PARTS)
        != NGX_OK
        || ngx_qocr_multipart_feed(&mp, p, last - p) != NGX_OK
        || ngx_qocr_multipart_finish(&mp) != NGX_OK
        || mp.nfiles != ctx->images->nelts
        || mp.parts->nelts != ctx->images->nelts)
    {
        abort();
    }

    part = mp.parts->elts;
    img = ctx->images->elts;

    for (i = 0; i < ctx->images->nelts; i++) {

        if (part[i].end - part[i].start != img[i].size
            || ngx_memcmp(p + part[i].start, body + img[i].start,
                          (size_t) img[i].size)
               != 0)
        {
            abort();
        }

        fn = &part[i].filename;

        name = ngx_pnalloc(r->pool, sizeof("image00.") + img[i].ext.len);
        if (name == NULL) {
            return;
        }

        if (ctx->kind == NGX_QOCR_NAMECARD) {
            last = ngx_sprintf(name, "image%02ui.%V", i, &img[i].ext);

        } else {
            last = ngx_sprintf(name, "image.%V", &img[i].ext);
        }

        if (fn->len != (size_t) (last - name)
            || ngx_memcmp(fn->data, name, fn->len) != 0)
        {
            abort();
        }
    }
}


static void
qocr_fuzz_v3_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    u_char *body, ngx_uint_t i)
{
    cJSON             *json, *b64;
    ngx_str_t          src, dst;
    ngx_buf_t         *hb, *b;
    ngx_qocr_ctx_t    *call;
    ngx_qocr_image_t  *img;

    call = ngx_pcalloc(r->pool, sizeof(ngx_qocr_ctx_t));
    if (call == NULL) {
        return;
    }

    /* a call of the batch, as ngx_qocr_batch_launch() makes it */

    call->kind = ctx->kind;
    call->conf = ctx->conf;
    call->images = ctx->images;
    call->first = i;
    call->count = 1;
    call->url_input = ctx->url_input;
    call->main = ctx;
    call->fatal = -1;
    ngx_qocr_reply_init(&call->reply);

    if (call->conf->api->create_request(r, call, call->conf) != NGX_OK) {
        return;     /* out of memory */
    }

    hb = call->request_bufs->buf;
    b = call->request_bufs->next ? call->request_bufs->next->buf : NULL;

    if (b == NULL || call->request_bufs->next->next != NULL
        || hb->last > hb->end || b->pos != call->body
        || qocr_fuzz_content_length(hb->pos, hb->last) != b->last - b->pos)
    {
        abort();
    }

    json = cJSON_ParseWithLength((char *) b->pos, b->last - b->pos);
    b64 = cJSON_GetObjectItemCaseSensitive(json, "ImageBase64");

    if (!cJSON_IsString(b64)
        || cJSON_GetArraySize(json) != 1 + (call->conf->options.len != 0))
    {
        abort();
    }

    img = (ngx_qocr_image_t *) ctx->images->elts + i;

    src.data = (u_char *) b64->valuestring;
    src.len = ngx_strlen(b64->valuestring);

    dst.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(src.len) + 1);
    if (dst.data == NULL) {
        cJSON_Delete(json);
        return;
    }

    if (ngx_decode_base64(&dst, &src) != NGX_OK
        || dst.len != (size_t) img->size
        || ngx_memcmp(dst.data, body + img->start, dst.len) != 0)
    {
        abort();
    }

    cJSON_Delete(json);
}


static void
qocr_fuzz_body(ngx_pool_t *pool, ngx_str_t *ctype, u_char *body,
    size_t blen, size_t piece, ngx_qocr_loc_conf_t *qlcf)
{
    u_char               *p, *last, *s;
    size_t                n;
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_uint_t            i;
    ngx_chain_t          *cl, **ll;
    ngx_qocr_ctx_t       *ctx;
    ngx_table_elt_t      *h;
    ngx_qocr_image_t     *img;
    ngx_http_request_t   *r;

    r = qocr_fuzz_request(pool);
    h = ngx_pcalloc(pool, sizeof(ngx_table_elt_t));
    ctx = ngx_pcalloc(pool, sizeof(ngx_qocr_ctx_t));

    if (r == NULL || h == NULL || ctx == NULL) {
        return;
    }

    h->value.len = ctype->len;
    h->value.data = qocr_fuzz_copy(pool, ctype->data, ctype->len);
    if (h->value.data == NULL) {
        return;
    }

    r->headers_in.content_type = h;

    r->request_body = ngx_pcalloc(pool, sizeof(ngx_http_request_body_t));
    if (r->request_body == NULL) {
        return;
    }

    /* the body as nginx may have read it: buffers of the piece size */

    ll = &r->request_body->bufs;

    for (p = body, last = body + blen; p < last; p += n) {
        n = ngx_min(piece, (size_t) (last - p));

        b = ngx_create_temp_buf(pool, n);
        cl = ngx_alloc_chain_link(pool);

        if (b == NULL || cl == NULL) {
            return;
        }

        b->last = ngx_cpymem(b->pos, p, n);
        cl->buf = b;
        cl->next = NULL;
        *ll = cl;
        ll = &cl->next;
    }

    ctx->kind = qlcf->kind;
    ctx->conf = qlcf;
    ctx->fatal = -1;
    ngx_qocr_reply_init(&ctx->reply);

    rc = ngx_qocr_parse_body(r, ctx, qlcf);

    if (rc == NGX_DECLINED) {
        if (ctx->err == NGX_QOCR_OK || ctx->err >= NGX_QOCR_ERR_LAST
            || ngx_qocr_err_status(ctx->err) < 400)
        {
            abort();
        }

        return;
    }

    if (rc != NGX_OK || ctx->err != NGX_QOCR_OK || ctx->images == NULL
        || ctx->images->nelts == 0 || ctx->images->nelts > qlcf->max_images)
    {
        abort();
    }

    img = ctx->images->elts;

    for (i = 0; i < ctx->images->nelts; i++) {

        if (ctx->url_input) {
            s = img[i].source.data;

            if (!img[i].has_source
                || img[i].source.len > NGX_QOCR_URL_MAX
                || (ngx_strncasecmp(s, (u_char *) "http://", 7) != 0
                    && ngx_strncasecmp(s, (u_char *) "https://", 8) != 0)
                || !qocr_fuzz_utf8(s, img[i].source.len))
            {
                abort();
            }

            continue;
        }

        if (img[i].start < 0 || img[i].size <= 0
            || img[i].start + img[i].size > (off_t) blen
            || img[i].size > qlcf->max_image_size
            || img[i].type.len == 0 || img[i].ext.len == 0
            || qlcf->api->refuse_type(qlcf->kind, &img[i].ext) != NULL)
        {
            abort();
        }

        if (!img[i].has_source) {
            continue;
        }

        /* the filename, as the answer's "source" */

        for (s = img[i].source.data;
             s < img[i].source.data + img[i].source.len;
             s++)
        {
            if (*s < 0x20) {
                abort();
            }
        }

        if (!qocr_fuzz_utf8(img[i].source.data, img[i].source.len)) {
            abort();
        }
    }

    if (ctx->url_input) {
        return;
    }

    if (!qlcf->api->per_image) {
        qocr_fuzz_legacy_request(r, ctx, body);
        return;
    }

    for (i = 0; i < ctx->images->nelts; i++) {
        qocr_fuzz_v3_request(r, ctx, body, i);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *copy, *body, *nl;
    size_t                blen, piece;
    ngx_str_t             ctype;
    ngx_uint_t            v3, bank;
    ngx_pool_t           *pool;
    ngx_qocr_loc_conf_t  *qlcf;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    /* a copy of its own, so ASan sees reads past the end */

    copy = qocr_fuzz_copy(pool, (u_char *) data, size);
    if (copy == NULL) {
        goto done;
    }

    nl = memchr(copy, '\n', size);
    if (nl == NULL) {
        goto done;
    }

    ctype.data = copy;
    ctype.len = nl - copy;
    body = nl + 1;
    blen = size - ctype.len - 1;

    piece = blen ? (size_t) (body[0] % 97) + 1 : 1;

    qocr_fuzz_multipart(pool, &ctype, body, blen, piece);

    for (v3 = 0; v3 < 2; v3++) {
        for (bank = 0; bank < 2; bank++) {
            qlcf = qocr_fuzz_conf(v3, bank ? NGX_QOCR_BANKCARD
                                           : NGX_QOCR_NAMECARD, 0);
            if (qlcf == NULL) {
                goto done;
            }

            qocr_fuzz_body(pool, &ctype, body, blen, piece, qlcf);
        }
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
