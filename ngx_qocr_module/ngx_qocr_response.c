
/*
 * ngx_qocr: the OCR service's JSON reply turned into the contract's JSON
 * (contract section 5).
 *
 * The sign of the service's code sets the level: a positive code fails the
 * request, a negative one the image it belongs to.  Any HTTP status is
 * accepted as long as the body is the service's JSON, as the official SDKs
 * do.
 */


#include "ngx_qocr.h"

#include <cjson/cJSON.h>


typedef struct {
    const char  *name;      /* ours */
    const char  *item;      /* the service's "item", UTF-8 */
} ngx_qocr_bank_field_t;


static ngx_int_t ngx_qocr_namecard(ngx_qocr_json_t *j, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, cJSON *reply, ngx_int_t top_code);
static ngx_int_t ngx_qocr_bankcard(ngx_qocr_json_t *j, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, cJSON *reply, ngx_int_t code);
static void ngx_qocr_add_bank_field(ngx_qocr_json_t *j, const char *name,
    cJSON *item);
static u_char *ngx_qocr_bank_code(u_char *value, size_t len);
static void ngx_qocr_add_result_head(ngx_qocr_json_t *j, ngx_qocr_ctx_t *ctx,
    ngx_uint_t i);
static void ngx_qocr_add_item_error(ngx_qocr_json_t *j, ngx_int_t code);
static void ngx_qocr_add_field(ngx_qocr_json_t *j, const char *name,
    cJSON *data, const char *key, const char *conf_key);
static void ngx_qocr_add_cstring(ngx_qocr_json_t *j, const char *key,
    const char *value);
static ngx_int_t ngx_qocr_no_results(ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    const char *what);
static ngx_int_t ngx_qocr_code(cJSON *obj, ngx_int_t *code);
static ngx_int_t ngx_qocr_result_index(cJSON *res, ngx_uint_t n);
static ngx_int_t ngx_qocr_result_url_index(cJSON *res, ngx_qocr_ctx_t *ctx,
    cJSON **by_index);
static void ngx_qocr_request_error(ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    ngx_int_t code);


ngx_int_t
ngx_qocr_normalize(ngx_pool_t *pool, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    ngx_str_t *out, ngx_uint_t *status)
{
    cJSON            *reply;
    ngx_int_t         code, rc;
    ngx_qocr_json_t   j;

    out->len = 0;

    reply = cJSON_ParseWithLength((char *) ctx->reply.data, ctx->reply.len);

    if (reply == NULL || !cJSON_IsObject(reply)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service's reply is not JSON "
                      "(HTTP status %ui, %uz bytes)",
                      ctx->reply.status.code, ctx->reply.len);

        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is not JSON", 0);
        cJSON_Delete(reply);
        return NGX_OK;
    }

    if (ngx_qocr_code(reply, &code) != NGX_OK) {
        code = 0;
    }

    if (code > 0) {
        ngx_qocr_request_error(log, ctx, code);
        cJSON_Delete(reply);
        return NGX_OK;
    }

    /* the answer is about the size of the reply, images included */

    ngx_qocr_json_init(&j, pool, ctx->reply.len + 512);

    if (ctx->kind == NGX_QOCR_BANKCARD) {
        rc = ngx_qocr_bankcard(&j, log, ctx, reply, code);

    } else {
        rc = ngx_qocr_namecard(&j, log, ctx, reply, code);
    }

    cJSON_Delete(reply);

    if (rc == NGX_DECLINED) {
        /* a request-level error was set */
        return NGX_OK;
    }

    if (rc != NGX_OK || ngx_qocr_json_done(&j, out) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->item_err == NGX_QOCR_OK) {
        /* $qocr_upstream_code: the service's own code of a success */
        ctx->upstream_code = 0;
    }

    *status = NGX_HTTP_OK;

    return NGX_OK;
}


/*
 * The top-level code of a complete reply, or NGX_QOCR_NO_CODE: for the
 * decision to try the next server, before the reply is normalized.
 */

ngx_int_t
ngx_qocr_reply_code(ngx_qocr_reply_t *reply)
{
    cJSON      *json;
    ngx_int_t   code;

    json = cJSON_ParseWithLength((char *) reply->data, reply->len);

    if (ngx_qocr_code(json, &code) != NGX_OK) {
        code = NGX_QOCR_NO_CODE;
    }

    cJSON_Delete(json);

    return code;
}


static void
ngx_qocr_request_error(ngx_log_t *log, ngx_qocr_ctx_t *ctx, ngx_int_t code)
{
    ngx_qocr_err_e  err;

    err = ngx_qocr_map_code(code);

    if (err == NGX_QOCR_UPSTREAM_AUTH_FAILED) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service refused the request's "
                      "signature or account: code %i; check qocr_appid, "
                      "qocr_bucket and the credentials", code);

    } else if (err == NGX_QOCR_UPSTREAM_ERROR
               || err == NGX_QOCR_BAD_REQUEST)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service failed the request: code %i",
                      code);
    }

    ngx_qocr_set_error(ctx, err, NULL, code);
}


static ngx_int_t
ngx_qocr_namecard(ngx_qocr_json_t *j, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    cJSON *reply, ngx_int_t top_code)
{
    cJSON       *list, *res, *data, *img;
    cJSON      **by_index;
    ngx_int_t    code, idx;
    ngx_uint_t   i, n, pos;

    n = ctx->images->nelts;

    list = cJSON_GetObjectItemCaseSensitive(reply, "result_list");

    if (top_code == 0 && !cJSON_IsArray(list)) {
        return ngx_qocr_no_results(log, ctx, "no result_list");
    }

    by_index = ngx_pcalloc(j->pool, n * sizeof(cJSON *));
    if (by_index == NULL) {
        return NGX_ERROR;
    }

    /*
     * Results come sorted by part name; our filenames say the input index,
     * which is used first; the position is the fallback.
     */

    pos = 0;

    if (top_code) {
        list = NULL;
    }

    cJSON_ArrayForEach(res, list) {
        if (!cJSON_IsObject(res)) {
            continue;
        }

        idx = ctx->url_input ? ngx_qocr_result_url_index(res, ctx, by_index)
                             : ngx_qocr_result_index(res, n);

        if (idx == NGX_ERROR || by_index[idx]) {
            while (pos < n && by_index[pos]) {
                pos++;
            }

            if (pos == n) {
                continue;
            }

            idx = pos;
        }

        by_index[idx] = res;
    }

    ngx_qocr_json_open(j, NULL, '{');
    ngx_qocr_add_cstring(j, "kind", "namecard");
    ngx_qocr_json_open(j, "results", '[');

    for (i = 0; i < n; i++) {
        res = by_index[i];

        if (top_code) {
            code = top_code;

        } else if (res == NULL) {
            code = NGX_QOCR_NO_CODE;

        } else if (ngx_qocr_code(res, &code) != NGX_OK) {
            code = NGX_QOCR_NO_CODE;
        }

        if (code > 0 && code != NGX_QOCR_NO_CODE) {
            /* a positive code fails the whole request */
            ngx_qocr_request_error(log, ctx, code);
            return NGX_DECLINED;
        }

        ngx_qocr_json_open(j, NULL, '{');
        ngx_qocr_add_result_head(j, ctx, i);

        if (code != 0) {
            if (ctx->item_err == NGX_QOCR_OK) {
                ctx->upstream_code = code;
                ctx->item_err = (code == NGX_QOCR_NO_CODE)
                                ? NGX_QOCR_UPSTREAM_ERROR
                                : ngx_qocr_map_code(code);
            }

            ngx_qocr_json_literal(j, "ok", "false");
            ngx_qocr_add_item_error(j, code);
            ngx_qocr_json_close(j, '}');
            continue;
        }

        data = cJSON_GetObjectItemCaseSensitive(res, "data");

        ngx_qocr_json_literal(j, "ok", "true");
        ngx_qocr_json_open(j, "fields", '{');
        ngx_qocr_add_field(j, "name", data, "name", "name_confidence");
        ngx_qocr_add_field(j, "phone", data, "phone", "phone_confidence");
        ngx_qocr_add_field(j, "qq", data, "uin", "uin_confidence");
        ngx_qocr_json_close(j, '}');

        img = cJSON_GetObjectItemCaseSensitive(data, "image");

        if (cJSON_IsString(img) && img->valuestring[0] != '\0') {
            ngx_qocr_add_cstring(j, "image", img->valuestring);
        }

        ngx_qocr_json_close(j, '}');
    }

    ngx_qocr_json_close(j, ']');
    ngx_qocr_json_close(j, '}');

    return NGX_OK;
}


/*
 * The bank card reply: {"code", "message", "data": {"items": [{"item",
 * "itemstring", "itemconf", "itemcoord"}]}}, one image.  The item names,
 * in UTF-8: 卡号, 卡类型, 卡名字, 银行信息, 有效期.
 */

static ngx_qocr_bank_field_t  ngx_qocr_bank_fields[] = {
    { "card_number", "\xe5\x8d\xa1\xe5\x8f\xb7" },
    { "card_type", "\xe5\x8d\xa1\xe7\xb1\xbb\xe5\x9e\x8b" },
    { "card_name", "\xe5\x8d\xa1\xe5\x90\x8d\xe5\xad\x97" },
    { "bank", "\xe9\x93\xb6\xe8\xa1\x8c\xe4\xbf\xa1\xe6\x81\xaf" },
    { "valid_thru", "\xe6\x9c\x89\xe6\x95\x88\xe6\x9c\x9f" },
    { NULL, NULL }
};


static ngx_int_t
ngx_qocr_bankcard(ngx_qocr_json_t *j, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    cJSON *reply, ngx_int_t code)
{
    cJSON                  *data, *items, *it, *name, *found;
    ngx_qocr_bank_field_t  *f;

    data = cJSON_GetObjectItemCaseSensitive(reply, "data");
    items = cJSON_GetObjectItemCaseSensitive(data, "items");

    if (code == 0 && !cJSON_HasObjectItem(reply, "code")
        && !cJSON_IsArray(items))
    {
        return ngx_qocr_no_results(log, ctx, "no code and no items");
    }

    ngx_qocr_json_open(j, NULL, '{');
    ngx_qocr_add_cstring(j, "kind", "bankcard");
    ngx_qocr_json_open(j, "results", '[');
    ngx_qocr_json_open(j, NULL, '{');
    ngx_qocr_add_result_head(j, ctx, 0);

    if (code != 0) {
        ctx->upstream_code = code;
        ctx->item_err = ngx_qocr_map_code(code);

        ngx_qocr_json_literal(j, "ok", "false");
        ngx_qocr_add_item_error(j, code);

    } else {
        ngx_qocr_json_literal(j, "ok", "true");
        ngx_qocr_json_open(j, "fields", '{');

        /* the first item of each known name; others are ignored */

        for (f = ngx_qocr_bank_fields; f->name; f++) {
            found = NULL;

            cJSON_ArrayForEach(it, items) {
                name = cJSON_GetObjectItemCaseSensitive(it, "item");

                if (cJSON_IsString(name)
                    && ngx_strcmp(name->valuestring, f->item) == 0)
                {
                    found = it;
                    break;
                }
            }

            ngx_qocr_add_bank_field(j, f->name, found);
        }

        ngx_qocr_json_close(j, '}');
    }

    ngx_qocr_json_close(j, '}');
    ngx_qocr_json_close(j, ']');
    ngx_qocr_json_close(j, '}');

    return NGX_OK;
}


/*
 * Splits "name(code)", with ASCII or full-width parentheses, in place when
 * the code is a number: returns the code, or NULL.
 */

static u_char *
ngx_qocr_bank_code(u_char *value, size_t len)
{
    u_char  *end, *p, *open, *code;
    size_t   close, olen;

    end = value + len;

    if (len >= 1 && end[-1] == ')') {
        close = 1;

    } else if (len >= 3 && ngx_strncmp(end - 3, "\xef\xbc\x89", 3) == 0) {
        close = 3;

    } else {
        return NULL;
    }

    open = NULL;
    olen = 0;

    for (p = end - close; p > value; p--) {
        if (p[-1] == '(') {
            open = p - 1;
            olen = 1;
            break;
        }

        if (p - value >= 3 && ngx_strncmp(p - 3, "\xef\xbc\x88", 3) == 0) {
            open = p - 3;
            olen = 3;
            break;
        }
    }

    if (open == NULL || open == value || open + olen == end - close) {
        return NULL;
    }

    for (p = open + olen; p < end - close; p++) {
        if (*p < '0' || *p > '9') {
            return NULL;
        }
    }

    code = open + olen;
    end[-(ssize_t) close] = '\0';
    *open = '\0';

    return code;
}


/*
 * {"value", "confidence", "box": {"x", "y", "width", "height"}}, or null.
 * The card number keeps its digits only; the bank's name and the code in
 * parentheses after it ("中国银行(01040000)") are split.
 */

static void
ngx_qocr_add_bank_field(ngx_qocr_json_t *j, const char *name, cJSON *item)
{
    u_char  *value, *p, *q, *code;
    cJSON   *s, *conf, *coord;
    size_t   len;

    static const char  *box_keys[] = { "x", "y", "width", "height", NULL };
    const char        **k;

    s = cJSON_GetObjectItemCaseSensitive(item, "itemstring");

    if (!cJSON_IsString(s) || s->valuestring[0] == '\0') {
        ngx_qocr_json_literal(j, name, "null");
        return;
    }

    /* the parsed reply is ours until it is deleted: edited in place */

    value = (u_char *) s->valuestring;
    len = ngx_strlen(value);
    code = NULL;

    if (ngx_strcmp(name, "card_number") == 0) {
        for (p = value, q = value; *p; p++) {
            if (*p >= '0' && *p <= '9') {
                *q++ = *p;
            }
        }

        *q = '\0';
        len = q - value;

        if (len == 0) {
            ngx_qocr_json_literal(j, name, "null");
            return;
        }

    } else if (ngx_strcmp(name, "bank") == 0) {
        code = ngx_qocr_bank_code(value, len);
        len = ngx_strlen(value);
    }

    ngx_qocr_json_open(j, name, '{');
    ngx_qocr_json_string(j, "value", value, len);

    if (ngx_strcmp(name, "bank") == 0) {
        if (code) {
            ngx_qocr_add_cstring(j, "code", (char *) code);

        } else {
            ngx_qocr_json_literal(j, "code", "null");
        }
    }

    conf = cJSON_GetObjectItemCaseSensitive(item, "itemconf");

    if (cJSON_IsNumber(conf)) {
        ngx_qocr_json_number(j, "confidence", conf->valuedouble);

    } else {
        ngx_qocr_json_literal(j, "confidence", "null");
    }

    coord = cJSON_GetObjectItemCaseSensitive(item, "itemcoord");

    for (k = box_keys; *k; k++) {
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(coord, *k))) {
            break;
        }
    }

    if (*k) {
        ngx_qocr_json_literal(j, "box", "null");

    } else {
        ngx_qocr_json_open(j, "box", '{');

        for (k = box_keys; *k; k++) {
            ngx_qocr_json_number(j, *k,
                cJSON_GetObjectItemCaseSensitive(coord, *k)->valuedouble);
        }

        ngx_qocr_json_close(j, '}');
    }

    ngx_qocr_json_close(j, '}');
}


static void
ngx_qocr_add_result_head(ngx_qocr_json_t *j, ngx_qocr_ctx_t *ctx,
    ngx_uint_t i)
{
    ngx_qocr_image_t  *img;

    img = ctx->images->elts;

    ngx_qocr_json_number(j, "index", (double) i);

    if (img[i].has_source) {
        /* made valid UTF-8 by the body parser */
        ngx_qocr_json_string(j, "source", img[i].source.data,
                             img[i].source.len);

    } else {
        ngx_qocr_json_literal(j, "source", "null");
    }
}


static void
ngx_qocr_add_item_error(ngx_qocr_json_t *j, ngx_int_t code)
{
    ngx_qocr_err_e  err;

    if (code == NGX_QOCR_NO_CODE) {
        err = NGX_QOCR_UPSTREAM_ERROR;

    } else {
        err = ngx_qocr_map_code(code);
    }

    ngx_qocr_json_open(j, "error", '{');
    ngx_qocr_add_cstring(j, "code", ngx_qocr_err_name(err));
    ngx_qocr_add_cstring(j, "message",
                         code == NGX_QOCR_NO_CODE
                         ? "the OCR service returned no result for this "
                           "image"
                         : ngx_qocr_err_text(err));

    if (code == NGX_QOCR_NO_CODE) {
        ngx_qocr_json_literal(j, "upstream_code", "null");

    } else {
        ngx_qocr_json_number(j, "upstream_code", (double) code);
    }

    ngx_qocr_json_close(j, '}');
}


/*
 * A field: {"value": ..., "confidence": ...}, or null when the service did
 * not recognize it (confidence -1, no value).
 */

static void
ngx_qocr_add_field(ngx_qocr_json_t *j, const char *name, cJSON *data,
    const char *key, const char *conf_key)
{
    cJSON  *value, *conf;

    value = cJSON_GetObjectItemCaseSensitive(data, key);
    conf = cJSON_GetObjectItemCaseSensitive(data, conf_key);

    if (!cJSON_IsString(value) || value->valuestring[0] == '\0'
        || (cJSON_IsNumber(conf) && conf->valuedouble < 0))
    {
        ngx_qocr_json_literal(j, name, "null");
        return;
    }

    ngx_qocr_json_open(j, name, '{');
    ngx_qocr_add_cstring(j, "value", value->valuestring);

    if (cJSON_IsNumber(conf)) {
        ngx_qocr_json_number(j, "confidence", conf->valuedouble);

    } else {
        ngx_qocr_json_literal(j, "confidence", "null");
    }

    ngx_qocr_json_close(j, '}');
}


static void
ngx_qocr_add_cstring(ngx_qocr_json_t *j, const char *key, const char *value)
{
    ngx_qocr_json_string(j, key, (u_char *) value, ngx_strlen(value));
}


/* a reply of the service's shape but without results: upstream_error */

static ngx_int_t
ngx_qocr_no_results(ngx_log_t *log, ngx_qocr_ctx_t *ctx, const char *what)
{
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "qocr: the OCR service's reply has %s (HTTP status %ui)",
                  what, ctx->reply.status.code);

    ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                       "the OCR service's reply has no results", 0);

    return NGX_DECLINED;
}


/* "code" as an integer; numbers and numeric strings are accepted */

static ngx_int_t
ngx_qocr_code(cJSON *obj, ngx_int_t *code)
{
    cJSON   *c;
    double   d;

    c = cJSON_GetObjectItemCaseSensitive(obj, "code");

    if (cJSON_IsNumber(c)) {
        d = c->valuedouble;

    } else if (cJSON_IsString(c) && c->valuestring[0] != '\0') {
        d = strtod(c->valuestring, NULL);

    } else {
        return NGX_DECLINED;
    }

    if (d != d || d > 1e9 || d < -1e9) {
        *code = NGX_QOCR_NO_CODE;
        return NGX_OK;
    }

    *code = (ngx_int_t) d;

    return NGX_OK;
}


/* the index our filename "imageNN.ext" names, or NGX_ERROR */

static ngx_int_t
ngx_qocr_result_index(cJSON *res, ngx_uint_t n)
{
    char       *s;
    cJSON      *f;
    ngx_int_t   idx;

    f = cJSON_GetObjectItemCaseSensitive(res, "filename");

    if (!cJSON_IsString(f)) {
        return NGX_ERROR;
    }

    s = f->valuestring;

    if (ngx_strncmp(s, "image", 5) != 0
        || s[5] < '0' || s[5] > '9' || s[6] < '0' || s[6] > '9'
        || s[7] != '.')
    {
        return NGX_ERROR;
    }

    idx = (s[5] - '0') * 10 + (s[6] - '0');

    return (idx < (ngx_int_t) n) ? idx : NGX_ERROR;
}


/*
 * The first input not yet matched whose URL the result names (the service
 * may add white space around it, as its documentation shows), or NGX_ERROR.
 */

static ngx_int_t
ngx_qocr_result_url_index(cJSON *res, ngx_qocr_ctx_t *ctx, cJSON **by_index)
{
    u_char            *p, *last;
    cJSON             *u;
    ngx_uint_t         i;
    ngx_qocr_image_t  *img;

    u = cJSON_GetObjectItemCaseSensitive(res, "url");

    if (!cJSON_IsString(u)) {
        return NGX_ERROR;
    }

    p = (u_char *) u->valuestring;
    last = p + ngx_strlen(p);

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    img = ctx->images->elts;

    for (i = 0; i < ctx->images->nelts; i++) {
        if (by_index[i] == NULL
            && img[i].source.len == (size_t) (last - p)
            && ngx_strncmp(img[i].source.data, p, last - p) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}
