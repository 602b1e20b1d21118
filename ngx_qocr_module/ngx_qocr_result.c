
/*
 * ngx_qocr: the normalized schema both APIs answer with (contract sections
 * 5 and 8): the error table, the results of a request, and the answer's
 * JSON.  The APIs fill ngx_qocr_result_t; nothing here knows an API.
 */


#include "ngx_qocr_result.h"
#include "ngx_qocr_json.h"

#include <cjson/cJSON.h>


typedef struct {
    const char   *name;
    ngx_uint_t    status;
    ngx_uint_t    request;      /* may fail a whole API 3.0 batch */
    const char   *text;
} ngx_qocr_err_t;


static ngx_qocr_err_t  ngx_qocr_errors[] = {
    { "", NGX_HTTP_OK, 0, "" },
    { "bad_request", NGX_HTTP_BAD_REQUEST, 0, "the request is malformed" },
    { "method_not_allowed", NGX_HTTP_NOT_ALLOWED, 0,
      "only POST is allowed here" },
    { "no_image", NGX_HTTP_BAD_REQUEST, 0, "there is nothing to recognize" },
    { "image_empty", NGX_HTTP_BAD_REQUEST, 0, "an image is empty" },
    { "too_many_images", NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, 0,
      "too many images in one request" },
    { "image_too_large", NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, 0,
      "an image is larger than allowed" },
    { "unsupported_media_type", NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, 0,
      "not an image of a supported type" },
    { "image_decode_failed", NGX_HTTP_BAD_GATEWAY, 0,
      "the image could not be decoded" },
    { "not_recognized", NGX_HTTP_BAD_GATEWAY, 0,
      "nothing could be recognized in the image" },
    { "url_fetch_failed", NGX_HTTP_BAD_GATEWAY, 0,
      "the image could not be fetched from its URL" },
    { "image_rejected", NGX_HTTP_BAD_GATEWAY, 0,
      "the image was rejected by the OCR service" },
    { "rate_limited", NGX_HTTP_TOO_MANY_REQUESTS, 1,
      "too many requests to the OCR service; retry later" },
    { "upstream_auth_failed", NGX_HTTP_BAD_GATEWAY, 1,
      "the OCR service refused this server's credentials" },
    { "upstream_billing", NGX_HTTP_BAD_GATEWAY, 1,
      "the OCR service refused this server's account: it is in arrears, "
      "out of its package or not activated" },
    { "upstream_error", NGX_HTTP_BAD_GATEWAY, 1,
      "the OCR service failed" },
    { "upstream_timeout", NGX_HTTP_GATEWAY_TIME_OUT, 1,
      "the OCR service did not answer in time" },
    { "upstream_unavailable", NGX_HTTP_BAD_GATEWAY, 1,
      "the OCR service cannot be reached" },
    { "internal_error", NGX_HTTP_INTERNAL_SERVER_ERROR, 0,
      "internal error" },
};



static const char  *ngx_qocr_namecard_keys[] = {
    "name", "name_en", "company", "company_en", "title", "title_en",
    "department", "department_en", "phone", "tel", "fax", "email",
    "website", "address", "address_en", "postcode", "qq", "wechat", "weibo",
    "msn", "social", "company_account", "other"
};

static const char  *ngx_qocr_bankcard_keys[] = {
    "card_number", "card_type", "card_name", "bank", "valid_thru"
};


#define NGX_QOCR_JSON_BIG  16384


static ngx_int_t ngx_qocr_json_skeleton(ngx_pool_t *pool,
    ngx_qocr_ctx_t *ctx, ngx_str_t *text);
static void ngx_qocr_json_free(void *data);
static void ngx_qocr_write_result(ngx_qocr_json_t *j, ngx_qocr_ctx_t *ctx,
    ngx_uint_t i);
static void ngx_qocr_write_field(ngx_qocr_json_t *j, const char *key,
    ngx_qocr_field_t *f, ngx_uint_t bank);
static void ngx_qocr_write_error(ngx_qocr_json_t *j, ngx_qocr_err_e err,
    const char *message, ngx_qocr_code_t *code);
static void ngx_qocr_write_code(ngx_qocr_json_t *j, ngx_qocr_code_t *code);
static void ngx_qocr_write_str(ngx_qocr_json_t *j, const char *key,
    ngx_str_t *s);


ngx_qocr_ctx_t *
ngx_qocr_create_ctx(ngx_http_request_t *r, ngx_qocr_loc_conf_t *qlcf)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_qocr_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->images = NULL;
     *     ctx->results = NULL;
     *     ctx->err = NGX_QOCR_OK;
     *     ctx->upstream_code = { { 0, NULL }, 0 };
     *     ctx->main = NULL;
     */

    ctx->kind = qlcf->kind;
    ctx->conf = qlcf;
    ctx->fatal = -1;
    ngx_qocr_reply_init(&ctx->reply);

    ngx_http_set_ctx(r, ctx, ngx_http_qocr_module);

    return ctx;
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


ngx_uint_t
ngx_qocr_err_request_level(ngx_qocr_err_e err)
{
    return ngx_qocr_errors[err].request;
}


/* an nginx status for this request to the error it stands for */

ngx_qocr_err_e
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


/* a request-level error; code NULL: the module's own */

void
ngx_qocr_set_error(ngx_qocr_ctx_t *ctx, ngx_qocr_err_e err,
    const char *message, ngx_qocr_code_t *code)
{
    ctx->err = err;
    ctx->err_text = message;

    if (code) {
        ctx->upstream_code = *code;

    } else {
        ngx_memzero(&ctx->upstream_code, sizeof(ngx_qocr_code_t));
    }
}


/* every field of the kind, null until set */

ngx_int_t
ngx_qocr_result_fields(ngx_pool_t *pool, ngx_qocr_result_t *res,
    ngx_uint_t kind)
{
    res->fields = ngx_pcalloc(pool, sizeof(ngx_qocr_field_t)
                                    * ((kind == NGX_QOCR_BANKCARD)
                                       ? NGX_QOCR_BC_FIELDS
                                       : NGX_QOCR_NC_FIELDS));

    return (res->fields == NULL) ? NGX_ERROR : NGX_OK;
}


/*
 * A value for a field: the first is its value, and when more come, every
 * one of them is also in "values", in the service's order.
 */

ngx_int_t
ngx_qocr_field_add(ngx_pool_t *pool, ngx_qocr_field_t *f, u_char *value,
    size_t len)
{
    ngx_str_t  *v;

    if (f->value.data == NULL) {
        f->value.data = value;
        f->value.len = len;
        return NGX_OK;
    }

    if (f->values == NULL) {
        f->values = ngx_array_create(pool, 2, sizeof(ngx_str_t));
        if (f->values == NULL) {
            return NGX_ERROR;
        }

        v = ngx_array_push(f->values);
        if (v == NULL) {
            return NGX_ERROR;
        }

        *v = f->value;
    }

    v = ngx_array_push(f->values);
    if (v == NULL) {
        return NGX_ERROR;
    }

    v->data = value;
    v->len = len;

    return NGX_OK;
}


/*
 * A reply's JSON, parsed with cJSON; the tree lives as long as the pool,
 * so results may point into it.  Strings of 16 kB and more (a returned
 * image) are not copied into the tree: the text cJSON parses holds
 * "\u0001\u0001<n>" in their place, and ngx_qocr_json_str() finds them in
 * the reply itself.  NULL: not strict UTF-8 JSON, a NUL in a string, or no
 * memory.
 */

cJSON *
ngx_qocr_parse_json(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx)
{
    cJSON               *json;
    ngx_str_t            text;
    ngx_pool_cleanup_t  *cln;

    /* cJSON checks neither: strings would end at a NUL, or not be UTF-8 */

    if (ctx->reply.len == 0
        || ngx_qocr_json_text_valid(ctx->reply.data, ctx->reply.len)
           != NGX_OK)
    {
        return NULL;
    }

    if (ngx_qocr_json_skeleton(pool, ctx, &text) != NGX_OK) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    json = cJSON_ParseWithLength((char *) text.data, text.len);

    if (text.data != ctx->reply.data) {
        ngx_pfree(pool, text.data);
    }

    cln->handler = ngx_qocr_json_free;
    cln->data = json;

    return json;
}


/*
 * The reply's text with its long strings taken out (see above), or the
 * reply as it is when it has none.  A long string's "\/" escapes are
 * undone in place; one with other escapes is left to cJSON, and so is
 * every string of a reply that already holds U+0001.
 */

static ngx_int_t
ngx_qocr_json_skeleton(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    ngx_str_t *text)
{
    u_char      *p, *q, *s, *e, *d, *last, *from, *out;
    ngx_str_t   *big;
    ngx_uint_t   other;

    p = ctx->reply.data;
    last = p + ctx->reply.len;

    text->data = p;
    text->len = ctx->reply.len;

    if (ctx->reply.len < NGX_QOCR_JSON_BIG
        || ngx_strlchr(p, last, '\x01') != NULL
        || ngx_strlcasestrn(p, last, (u_char *) "\\u0001", 6 - 1) != NULL)
    {
        return NGX_OK;
    }

    out = NULL;
    from = p;

    while (p < last) {
        q = ngx_strlchr(p, last, '"');
        if (q == NULL) {
            break;
        }

        /* a string from q: its end, and whether it has escapes */

        other = 0;

        for (e = q + 1; e < last && *e != '"'; e++) {
            if (*e == '\\') {
                other |= (e + 1 < last && e[1] != '/');
                e++;
            }
        }

        if (e >= last) {
            break;
        }

        p = e + 1;
        s = q + 1;

        if (e - s < NGX_QOCR_JSON_BIG || other) {
            continue;
        }

        if (ctx->strings == NULL) {
            ctx->strings = ngx_array_create(pool, 2, sizeof(ngx_str_t));
            out = ngx_pnalloc(pool, ctx->reply.len);

            if (ctx->strings == NULL || out == NULL) {
                return NGX_ERROR;
            }

            text->data = out;
        }

        big = ngx_array_push(ctx->strings);
        if (big == NULL) {
            return NGX_ERROR;
        }

        /* "\/" is "/": undone in place */

        for (d = s, q = s; q < e; q++) {
            if (*q == '\\') {
                q++;
            }

            *d++ = *q;
        }

        big->data = s;
        big->len = d - s;

        out = ngx_cpymem(out, from, (s - 1) - from);
        out = ngx_sprintf(out, "\"\\u0001\\u0001%ui\"",
                          ctx->strings->nelts - 1);
        from = p;
    }

    if (out) {
        out = ngx_cpymem(out, from, last - from);
        text->len = out - text->data;
    }

    return NGX_OK;
}


/* a string of the reply: its text, or { 0, NULL } for anything else */

void
ngx_qocr_json_str(ngx_qocr_ctx_t *ctx, cJSON *v, ngx_str_t *s)
{
    u_char      *p;
    ngx_int_t    n;
    ngx_str_t   *big;

    s->data = NULL;
    s->len = 0;

    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        return;
    }

    p = (u_char *) v->valuestring;

    if (ctx->strings && p[0] == '\x01' && p[1] == '\x01') {
        n = ngx_atoi(p + 2, ngx_strlen(p + 2));

        if (n >= 0 && (ngx_uint_t) n < ctx->strings->nelts) {
            big = ctx->strings->elts;

            if (big[n].len) {
                *s = big[n];
            }

            return;
        }
    }

    s->data = p;
    s->len = ngx_strlen(p);
}


static void
ngx_qocr_json_free(void *data)
{
    cJSON_Delete(data);
}


/* the service's integer code, as text */

ngx_int_t
ngx_qocr_code_number(ngx_pool_t *pool, ngx_qocr_code_t *code, ngx_int_t n)
{
    code->text.data = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (code->text.data == NULL) {
        return NGX_ERROR;
    }

    code->text.len = ngx_sprintf(code->text.data, "%i", n) - code->text.data;
    code->string = 0;

    return NGX_OK;
}


/*
 * "中国银行(01040000)", ASCII or full-width parentheses: the value becomes
 * the name and *code the number, when there is one.  In place, by length.
 */

ngx_int_t
ngx_qocr_bank_code(ngx_str_t *value, ngx_str_t *code)
{
    u_char  *end, *p, *open;
    size_t   close, olen;

    end = value->data + value->len;

    if (value->len >= 1 && end[-1] == ')') {
        close = 1;

    } else if (value->len >= 3
               && ngx_strncmp(end - 3, "\xef\xbc\x89", 3) == 0)
    {
        close = 3;

    } else {
        return NGX_DECLINED;
    }

    open = NULL;
    olen = 0;

    for (p = end - close; p > value->data; p--) {
        if (p[-1] == '(') {
            open = p - 1;
            olen = 1;
            break;
        }

        if (p - value->data >= 3
            && ngx_strncmp(p - 3, "\xef\xbc\x88", 3) == 0)
        {
            open = p - 3;
            olen = 3;
            break;
        }
    }

    if (open == NULL || open == value->data || open + olen == end - close) {
        return NGX_DECLINED;
    }

    for (p = open + olen; p < end - close; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }
    }

    code->data = open + olen;
    code->len = (end - close) - code->data;
    value->len = open - value->data;

    return NGX_OK;
}


/* a card number keeps its digits only, in place; none: a null field */

void
ngx_qocr_card_digits(ngx_str_t *s)
{
    u_char  *p, *q, *last;

    if (s->data == NULL) {
        return;
    }

    last = s->data + s->len;

    for (p = s->data, q = s->data; p < last; p++) {
        if (*p >= '0' && *p <= '9') {
            *q++ = *p;
        }
    }

    s->len = q - s->data;

    if (s->len == 0) {
        s->data = NULL;
    }
}


ngx_qocr_result_t *
ngx_qocr_first_failure(ngx_qocr_ctx_t *ctx)
{
    ngx_uint_t  i;

    if (ctx->results == NULL || !ctx->results_ready) {
        return NULL;
    }

    for (i = 0; i < ctx->images->nelts; i++) {
        if (ctx->results[i].err != NGX_QOCR_OK) {
            return &ctx->results[i];
        }
    }

    return NULL;
}


/*
 * The answer: the request's error, or every image's result in input
 * order, as a chain of buffers (returned images are not copied); sets the
 * HTTP status.
 */

ngx_int_t
ngx_qocr_answer(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx, ngx_chain_t **out,
    size_t *len, ngx_uint_t *status)
{
    const char       *kind;
    ngx_uint_t        i, n;
    ngx_qocr_json_t   j;

    kind = ngx_qocr_kind_name(ctx->kind);

    if (ctx->err != NGX_QOCR_OK) {
        *status = ngx_qocr_err_status(ctx->err);

        ngx_qocr_json_init(&j, pool, 256);
        ngx_qocr_json_open(&j, NULL, '{');
        ngx_qocr_json_cstring(&j, "kind", kind);
        ngx_qocr_write_error(&j, ctx->err, ctx->err_text,
                             &ctx->upstream_code);
        ngx_qocr_json_close(&j, '}');

        return ngx_qocr_json_chain(&j, out, len);
    }

    *status = NGX_HTTP_OK;

    n = ctx->images->nelts;

    /* about 1 kB a result */

    ngx_qocr_json_init(&j, pool, 1024 * n);
    ngx_qocr_json_open(&j, NULL, '{');
    ngx_qocr_json_cstring(&j, "kind", kind);
    ngx_qocr_json_open(&j, "results", '[');

    for (i = 0; i < n; i++) {
        ngx_qocr_write_result(&j, ctx, i);
    }

    ngx_qocr_json_close(&j, ']');
    ngx_qocr_json_close(&j, '}');

    return ngx_qocr_json_chain(&j, out, len);
}


static void
ngx_qocr_write_result(ngx_qocr_json_t *j, ngx_qocr_ctx_t *ctx, ngx_uint_t i)
{
    ngx_str_t          *w;
    ngx_uint_t          k, nkeys, bank;
    const char        **keys;
    ngx_qocr_image_t   *img;
    ngx_qocr_result_t  *res;

    img = ctx->images->elts;
    res = &ctx->results[i];
    bank = (ctx->kind == NGX_QOCR_BANKCARD);

    ngx_qocr_json_open(j, NULL, '{');
    ngx_qocr_json_number(j, "index", (double) i);

    if (img[i].has_source) {
        /* made valid UTF-8 by the body parser */
        ngx_qocr_json_string(j, "source", img[i].source.data,
                             img[i].source.len);

    } else {
        ngx_qocr_json_literal(j, "source", "null");
    }

    if (res->err != NGX_QOCR_OK || res->fields == NULL) {
        ngx_qocr_json_literal(j, "ok", "false");
        ngx_qocr_write_error(j, res->err ? res->err : NGX_QOCR_UPSTREAM_ERROR,
                             res->message, &res->code);

    } else {
        ngx_qocr_json_literal(j, "ok", "true");
        ngx_qocr_json_open(j, "fields", '{');

        keys = bank ? ngx_qocr_bankcard_keys : ngx_qocr_namecard_keys;
        nkeys = bank ? NGX_QOCR_BC_FIELDS : NGX_QOCR_NC_FIELDS;

        for (k = 0; k < nkeys; k++) {
            ngx_qocr_write_field(j, keys[k], &res->fields[k],
                                 bank && k == NGX_QOCR_BC_BANK);
        }

        ngx_qocr_json_close(j, '}');
    }

    ngx_qocr_json_open(j, "warnings", '[');

    if (res->warnings) {
        w = res->warnings->elts;

        for (k = 0; k < res->warnings->nelts; k++) {
            ngx_qocr_json_string(j, NULL, w[k].data, w[k].len);
        }
    }

    ngx_qocr_json_close(j, ']');

    ngx_qocr_write_str(j, "request_id", &res->request_id);

    if (res->image.len) {
        ngx_qocr_json_ref(j, "image", res->image.data, res->image.len);
    }

    ngx_qocr_json_close(j, '}');
}


/*
 * {"value", "confidence", "box": {"x", "y", "width", "height"}}, the bank
 * with its "code", "values" when there were several; or null.
 */

static void
ngx_qocr_write_field(ngx_qocr_json_t *j, const char *key,
    ngx_qocr_field_t *f, ngx_uint_t bank)
{
    ngx_str_t   *v;
    ngx_uint_t   i;

    static const char  *box_keys[] = { "x", "y", "width", "height" };

    if (f->value.data == NULL) {
        ngx_qocr_json_literal(j, key, "null");
        return;
    }

    ngx_qocr_json_open(j, key, '{');
    ngx_qocr_json_string(j, "value", f->value.data, f->value.len);

    if (bank) {
        ngx_qocr_write_str(j, "code", &f->code);
    }

    if (f->has_confidence) {
        ngx_qocr_json_number(j, "confidence", f->confidence);

    } else {
        ngx_qocr_json_literal(j, "confidence", "null");
    }

    if (f->has_box) {
        ngx_qocr_json_open(j, "box", '{');

        for (i = 0; i < 4; i++) {
            ngx_qocr_json_number(j, box_keys[i], f->box[i]);
        }

        ngx_qocr_json_close(j, '}');

    } else {
        ngx_qocr_json_literal(j, "box", "null");
    }

    if (f->values) {
        ngx_qocr_json_open(j, "values", '[');

        v = f->values->elts;

        for (i = 0; i < f->values->nelts; i++) {
            ngx_qocr_json_string(j, NULL, v[i].data, v[i].len);
        }

        ngx_qocr_json_close(j, ']');
    }

    ngx_qocr_json_close(j, '}');
}


static void
ngx_qocr_write_error(ngx_qocr_json_t *j, ngx_qocr_err_e err,
    const char *message, ngx_qocr_code_t *code)
{
    ngx_qocr_json_open(j, "error", '{');
    ngx_qocr_json_cstring(j, "code", ngx_qocr_err_name(err));
    ngx_qocr_json_cstring(j, "message",
                          message ? message : ngx_qocr_err_text(err));
    ngx_qocr_write_code(j, code);
    ngx_qocr_json_close(j, '}');
}


static void
ngx_qocr_write_code(ngx_qocr_json_t *j, ngx_qocr_code_t *code)
{
    if (code->text.len == 0) {
        ngx_qocr_json_literal(j, "upstream_code", "null");

    } else if (code->string) {
        ngx_qocr_json_string(j, "upstream_code", code->text.data,
                             code->text.len);

    } else {
        /* the service's integer, printed by the module */
        ngx_qocr_json_raw(j, "upstream_code", code->text.data,
                          code->text.len);
    }
}


/* a string, or null when there is none */

static void
ngx_qocr_write_str(ngx_qocr_json_t *j, const char *key, ngx_str_t *s)
{
    if (s->data == NULL) {
        ngx_qocr_json_literal(j, key, "null");

    } else {
        ngx_qocr_json_string(j, key, s->data, s->len);
    }
}
