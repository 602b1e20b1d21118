
/*
 * ngx_qocr: the error table of contract section 5, JSON output, and the
 * filter that makes every reply of a qocr location the contract's JSON.
 *
 * The filter works as nginx's xslt filter does: for a request with our
 * context, the header is kept from the client and the body swallowed until
 * its last buffer; then the final JSON is made and the header and that body
 * go on down the chain.  This covers the upstream reply (whose bytes the
 * input filter has collected), the module's own refusals, and nginx's own
 * error pages for the same request (an unreachable OCR service, a time-out,
 * a bad client body): the client always gets JSON.
 */


#include "ngx_qocr.h"


typedef struct {
    const char   *name;
    ngx_uint_t    status;       /* 0: an item error only */
    const char   *text;
} ngx_qocr_err_t;


static ngx_qocr_err_t  ngx_qocr_errors[] = {
    { "", NGX_HTTP_OK, "" },
    { "bad_request", NGX_HTTP_BAD_REQUEST, "the request is malformed" },
    { "method_not_allowed", NGX_HTTP_NOT_ALLOWED,
      "only POST is allowed here" },
    { "no_image", NGX_HTTP_BAD_REQUEST, "there is nothing to recognize" },
    { "image_empty", NGX_HTTP_BAD_REQUEST, "an image is empty" },
    { "too_many_images", NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
      "too many images in one request" },
    { "image_too_large", NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
      "an image is larger than allowed" },
    { "unsupported_media_type", NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
      "not an image of a supported type" },
    { "image_decode_failed", NGX_HTTP_BAD_GATEWAY,
      "the image could not be decoded" },
    { "not_recognized", NGX_HTTP_BAD_GATEWAY,
      "nothing could be recognized in the image" },
    { "url_fetch_failed", NGX_HTTP_BAD_GATEWAY,
      "the image could not be fetched from its URL" },
    { "image_rejected", NGX_HTTP_BAD_GATEWAY,
      "the image was rejected by the OCR service" },
    { "rate_limited", NGX_HTTP_TOO_MANY_REQUESTS,
      "too many requests to the OCR service; retry later" },
    { "upstream_auth_failed", NGX_HTTP_BAD_GATEWAY,
      "the OCR service refused this server's credentials" },
    { "upstream_error", NGX_HTTP_BAD_GATEWAY,
      "the OCR service failed" },
    { "upstream_timeout", NGX_HTTP_GATEWAY_TIME_OUT,
      "the OCR service did not answer in time" },
    { "upstream_unavailable", NGX_HTTP_BAD_GATEWAY,
      "the OCR service cannot be reached" },
    { "internal_error", NGX_HTTP_INTERNAL_SERVER_ERROR,
      "internal error" },
};


static ngx_qocr_ctx_t *ngx_qocr_early_ctx(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_qocr_send_final(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static ngx_qocr_err_e ngx_qocr_status_error(ngx_uint_t status);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_qocr_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_qocr_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_qocr_body_filter;

    return NGX_OK;
}


const char *
ngx_qocr_kind_name(ngx_uint_t kind)
{
    return (kind == NGX_QOCR_BANKCARD) ? "bankcard" : "namecard";
}


const char *
ngx_qocr_err_name(ngx_qocr_err_e err)
{
    return ngx_qocr_errors[err].name;
}


const char *
ngx_qocr_err_text(ngx_qocr_err_e err)
{
    return ngx_qocr_errors[err].text;
}


ngx_uint_t
ngx_qocr_err_status(ngx_qocr_err_e err)
{
    return ngx_qocr_errors[err].status;
}


void
ngx_qocr_set_error(ngx_qocr_ctx_t *ctx, ngx_qocr_err_e err,
    const char *message, ngx_int_t upstream_code)
{
    ctx->err = err;
    ctx->err_text = message;
    ctx->upstream_code = upstream_code ? upstream_code : NGX_QOCR_NO_CODE;
}


/* the OCR service's code, either sign, to a normalized error */

ngx_qocr_err_e
ngx_qocr_map_code(ngx_int_t code)
{
    switch (code) {

    case 3: case 21: case -1301: case -1505:
        return NGX_QOCR_BAD_REQUEST;

    case 17: case 18:
        return NGX_QOCR_NO_IMAGE;

    case -1300:
        return NGX_QOCR_IMAGE_EMPTY;

    case 19:
        return NGX_QOCR_TOO_MANY_IMAGES;

    case 20: case -1304:
        return NGX_QOCR_IMAGE_TOO_LARGE;

    case -1400:
        return NGX_QOCR_UNSUPPORTED_MEDIA_TYPE;

    case -1102:
        return NGX_QOCR_IMAGE_DECODE_FAILED;

    case -1404: case -5103: case -9010: case -9011:
        return NGX_QOCR_NOT_RECOGNIZED;

    case -1308: case -1403: case -1506: case -1507:
        return NGX_QOCR_URL_FETCH_FAILED;

    case -5062:
        return NGX_QOCR_IMAGE_REJECTED;

    case 15:
        return NGX_QOCR_RATE_LIMITED;

    case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
    case 12: case 13: case 14: case 16:
        return NGX_QOCR_UPSTREAM_AUTH_FAILED;

    case 203:
        return NGX_QOCR_UPSTREAM_TIMEOUT;

    default: /* 200, 201, 202, -5208 and codes not in the seeds */
        return NGX_QOCR_UPSTREAM_ERROR;
    }
}


/* an nginx status for this request to the error it stands for */

static ngx_qocr_err_e
ngx_qocr_status_error(ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_NOT_ALLOWED:
        return NGX_QOCR_METHOD_NOT_ALLOWED;

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return NGX_QOCR_IMAGE_TOO_LARGE;

    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return NGX_QOCR_UNSUPPORTED_MEDIA_TYPE;

    case NGX_HTTP_BAD_GATEWAY:
        return NGX_QOCR_UPSTREAM_UNAVAILABLE;

    case NGX_HTTP_GATEWAY_TIME_OUT:
        return NGX_QOCR_UPSTREAM_TIMEOUT;

    default:
        if (status >= 400 && status < 500) {
            return NGX_QOCR_BAD_REQUEST;
        }

        return NGX_QOCR_INTERNAL_ERROR;
    }
}


/*
 * The JSON writer.  Keys are the module's own; strings are escaped with
 * nginx's ngx_escape_json(), bytes of 0x80 and above pass as they are
 * (UTF-8).  Numbers: integers exactly, other values to six decimals
 * without trailing zeros (a JSON library's sprintf("%1.15g") and sscanf()
 * round trip costs thousands of instructions a number).
 */

static u_char *ngx_qocr_json_reserve(ngx_qocr_json_t *j, size_t n);
static void ngx_qocr_json_key(ngx_qocr_json_t *j, const char *key);


void
ngx_qocr_json_init(ngx_qocr_json_t *j, ngx_pool_t *pool, size_t size)
{
    ngx_memzero(j, sizeof(ngx_qocr_json_t));

    j->pool = pool;

    j->start = ngx_pnalloc(pool, size);
    if (j->start == NULL) {
        j->failed = 1;
        return;
    }

    j->pos = j->start;
    j->end = j->start + size;
}


static u_char *
ngx_qocr_json_reserve(ngx_qocr_json_t *j, size_t n)
{
    size_t   size;
    u_char  *p;

    if (j->failed) {
        return NULL;
    }

    if ((size_t) (j->end - j->pos) >= n) {
        return j->pos;
    }

    size = ngx_max((size_t) (j->end - j->start) * 2,
                   (size_t) (j->pos - j->start) + n);

    p = ngx_pnalloc(j->pool, size);
    if (p == NULL) {
        j->failed = 1;
        return NULL;
    }

    j->pos = ngx_cpymem(p, j->start, j->pos - j->start);
    ngx_pfree(j->pool, j->start);

    j->start = p;
    j->end = p + size;

    return j->pos;
}


/* the comma before a value, and its key inside an object */

static void
ngx_qocr_json_key(ngx_qocr_json_t *j, const char *key)
{
    size_t   len;
    u_char  *p;

    len = key ? ngx_strlen(key) : 0;

    p = ngx_qocr_json_reserve(j, len + 4);
    if (p == NULL) {
        return;
    }

    if (j->more & ((uint64_t) 1 << j->depth)) {
        *p++ = ',';
    }

    j->more |= (uint64_t) 1 << j->depth;

    if (key) {
        *p++ = '"';
        p = ngx_cpymem(p, key, len);
        *p++ = '"';
        *p++ = ':';
    }

    j->pos = p;
}


void
ngx_qocr_json_open(ngx_qocr_json_t *j, const char *key, u_char c)
{
    if (j->depth > 0 || j->more) {
        ngx_qocr_json_key(j, key);
    }

    if (ngx_qocr_json_reserve(j, 1) == NULL || j->depth == 62) {
        j->failed = 1;
        return;
    }

    *j->pos++ = c;

    j->depth++;
    j->more &= ~((uint64_t) 1 << j->depth);
}


void
ngx_qocr_json_close(ngx_qocr_json_t *j, u_char c)
{
    if (ngx_qocr_json_reserve(j, 1) == NULL) {
        return;
    }

    *j->pos++ = c;
    j->depth--;
}


void
ngx_qocr_json_string(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len)
{
    u_char  *p;
    size_t   n;

    ngx_qocr_json_key(j, key);

    n = len + ngx_escape_json(NULL, s, len);

    p = ngx_qocr_json_reserve(j, n + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';

    if (n == len) {
        p = ngx_cpymem(p, s, len);

    } else {
        p = (u_char *) ngx_escape_json(p, s, len);
    }

    *p++ = '"';

    j->pos = p;
}


void
ngx_qocr_json_literal(ngx_qocr_json_t *j, const char *key,
    const char *literal)
{
    size_t   len;
    u_char  *p;

    ngx_qocr_json_key(j, key);

    len = ngx_strlen(literal);

    p = ngx_qocr_json_reserve(j, len);
    if (p == NULL) {
        return;
    }

    j->pos = ngx_cpymem(p, literal, len);
}


void
ngx_qocr_json_number(ngx_qocr_json_t *j, const char *key, double d)
{
    u_char   *p, *start;
    int64_t   n, frac;

    if (d != d || d > 1e15 || d < -1e15) {
        /* NaN, infinities and the very large: null */
        ngx_qocr_json_literal(j, key, "null");
        return;
    }

    ngx_qocr_json_key(j, key);

    p = ngx_qocr_json_reserve(j, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return;
    }

    start = p;

    if (d < 0) {
        *p++ = '-';
        d = -d;
    }

    n = (int64_t) d;
    frac = (int64_t) ((d - (double) n) * 1e6 + 0.5);

    if (frac >= 1000000) {
        n++;
        frac -= 1000000;
    }

    if (n == 0 && frac == 0) {
        p = start;      /* no "-0" */
    }

    p = ngx_sprintf(p, "%L", n);

    if (frac) {
        p = ngx_sprintf(p, ".%06L", frac);

        while (p[-1] == '0') {
            p--;
        }
    }

    j->pos = p;
}


ngx_int_t
ngx_qocr_json_done(ngx_qocr_json_t *j, ngx_str_t *out)
{
    if (j->failed || j->depth != 0) {
        return NGX_ERROR;
    }

    out->data = j->start;
    out->len = j->pos - j->start;

    return NGX_OK;
}


ngx_int_t
ngx_qocr_error_json(ngx_pool_t *pool, ngx_uint_t kind, ngx_qocr_err_e err,
    const char *message, ngx_int_t upstream_code, ngx_str_t *out)
{
    const char       *name, *text;
    ngx_qocr_json_t   j;

    name = ngx_qocr_kind_name(kind);
    text = message ? message : ngx_qocr_err_text(err);

    ngx_qocr_json_init(&j, pool, 256);

    ngx_qocr_json_open(&j, NULL, '{');
    ngx_qocr_json_string(&j, "kind", (u_char *) name, ngx_strlen(name));
    ngx_qocr_json_open(&j, "error", '{');
    ngx_qocr_json_string(&j, "code", (u_char *) ngx_qocr_err_name(err),
                         ngx_strlen(ngx_qocr_err_name(err)));
    ngx_qocr_json_string(&j, "message", (u_char *) text, ngx_strlen(text));

    if (upstream_code == NGX_QOCR_NO_CODE) {
        ngx_qocr_json_literal(&j, "upstream_code", "null");

    } else {
        ngx_qocr_json_number(&j, "upstream_code", (double) upstream_code);
    }

    ngx_qocr_json_close(&j, '}');
    ngx_qocr_json_close(&j, '}');

    return ngx_qocr_json_done(&j, out);
}


/*
 * nginx refuses a request body over client_max_body_size, or a malformed
 * one, before the content handler has run: the reply of a qocr location is
 * JSON all the same.  Other statuses without our context (an access module's
 * 403, say) stay the operator's.
 */

static ngx_qocr_ctx_t *
ngx_qocr_early_ctx(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    if (r != r->main
        || (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
            && r->headers_out.status != NGX_HTTP_BAD_REQUEST))
    {
        return NULL;
    }

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    if (qlcf == NULL || qlcf->kind == 0) {
        return NULL;
    }

    ctx = ngx_qocr_create_ctx(r, qlcf->kind);
    if (ctx == NULL) {
        return NULL;
    }

    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        ngx_qocr_set_error(ctx, NGX_QOCR_IMAGE_TOO_LARGE,
                           "the request body is larger than "
                           "client_max_body_size", 0);
    }

    return ctx;
}


static ngx_int_t
ngx_qocr_header_filter(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL) {
        ctx = ngx_qocr_early_ctx(r);

        if (ctx == NULL) {
            return ngx_http_next_header_filter(r);
        }
    }

    if (ctx->sent) {
        return ngx_http_next_header_filter(r);
    }

    /*
     * Kept until the body filter knows the final JSON.  An error status
     * that is not the OCR service's own is nginx's or ours: it says what
     * went wrong unless the module said so already.
     */

    if (ctx->err == NGX_QOCR_OK && r->headers_out.status >= 400
        && !ctx->reply.header_done)
    {
        ctx->err = ngx_qocr_status_error(r->headers_out.status);
    }

    ctx->held = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t       last;
    ngx_chain_t     *cl;
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL || (!ctx->held && !ctx->sent)) {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }

        /* the bytes are swallowed: upstream's were collected already */

        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->sent) {
        /* what follows our reply is dropped, but it is still flushed */
        return ngx_http_next_body_filter(r, NULL);
    }

    if (!last) {
        return NGX_OK;
    }

    return ngx_qocr_send_final(r, ctx);
}


static ngx_int_t
ngx_qocr_send_final(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_buf_t        *b;
    ngx_str_t         body;
    ngx_int_t         rc;
    ngx_uint_t        status;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    ctx->sent = 1;

    status = 0;
    body.len = 0;

    if (ctx->err == NGX_QOCR_OK && r->upstream && ctx->reply.complete) {
        if (ngx_qocr_normalize(r->pool, r->connection->log, ctx, &body,
                               &status)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ctx->err == NGX_QOCR_OK && body.len == 0) {
        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is incomplete", 0);
    }

    if (ctx->err != NGX_QOCR_OK) {
        status = ngx_qocr_err_status(ctx->err);

        if (ngx_qocr_error_json(r->pool, ctx->kind, ctx->err,
                                ctx->err_text, ctx->upstream_code, &body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.status_line.len = 0;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.last_modified_time = -1;

    if (r->headers_out.last_modified) {
        r->headers_out.last_modified->hash = 0;
        r->headers_out.last_modified = NULL;
    }

    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }

    ngx_http_clear_accept_ranges(r);

    if (status == NGX_HTTP_NOT_ALLOWED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");
    }

    if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Retry-After");

        if (ctx->reply.retry_after.len) {
            h->value = ctx->reply.retry_after;

        } else {
            ngx_str_set(&h->value, "1");
        }
    }

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
