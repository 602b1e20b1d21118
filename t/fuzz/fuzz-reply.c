
/*
 * Fuzzes the OCR service's reply and the answer made of it, for both APIs.
 *
 * The reply: the HTTP/1.x status line and headers, the body
 * (Content-Length, chunked, or ended by closing), read in pieces as from a
 * socket into a buffer of nginx's upstream buffer size, by a small driver
 * over ngx_qocr_reply_parse_header() and ngx_qocr_reply_parse_body() (the
 * module's own, ngx_qocr_process_header(), needs a real upstream): the
 * header is kept in the buffer until it is whole; once it is, the buffer
 * is emptied after each piece, as process_header and the input filter do.
 * A reply that is refused, too large, or cut short fails the call as
 * ngx_qocr_upstream.c and its finalize handler do (upstream_error).
 *
 * Then the API's parse_reply and ngx_qocr_answer(), driven as the module
 * drives them:
 *
 *   - legacy: one call for every image, 1 to 20 images (namecard) or one
 *     (bank card), as ngx_qocr_send_final();
 *   - API 3.0: a request of one image, its one call, as
 *     ngx_qocr_call_result() and ngx_qocr_batch_answer().
 *
 * Checked: the parsers' failure convention; the answer is strict UTF-8
 * JSON with "kind", and either "error" (with the status of its code) or
 * "results" (HTTP 200) with exactly one result per image, in order, each with
 * "index", "ok", "warnings" (an array), "request_id", and when ok all the
 * kind's field keys (23 of a namecard, 5 of a bank card), else an "error".
 *
 * Input: one byte (images: 1 + byte % 20; piece size: (byte >> 3) * 37 +
 * 1), one byte (bit 0: bank card; bit 1: URL input; bit 2: API 3.0; bit
 * 3: qocr_return_image; bits 4-7: n, the largest reply allowed is n * 64
 * bytes, 0: 64 kB), the reply.
 */


#include "fuzz.h"

#include <cjson/cJSON.h>


#define QOCR_FUZZ_BUFFER  4096
#define QOCR_FUZZ_MAX     (64 * 1024)


static const char  *qocr_fuzz_keys[][NGX_QOCR_NC_FIELDS] = {
    { "name", "name_en", "company", "company_en", "title", "title_en",
      "department", "department_en", "phone", "tel", "fax", "email",
      "website", "address", "address_en", "postcode", "qq", "wechat",
      "weibo", "msn", "social", "company_account", "other" },
    { "card_number", "card_type", "card_name", "bank", "valid_thru" }
};


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();
    return 0;
}


/* the reply into ctx->reply; a failed call: ctx->err */

static ngx_int_t
qocr_fuzz_read(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx, const uint8_t *data,
    size_t size, size_t piece, size_t max)
{
    size_t             n;
    ngx_buf_t          b;
    ngx_int_t          rc;
    const char        *error;
    ngx_qocr_reply_t  *reply;

    reply = &ctx->reply;
    error = NULL;

    ngx_memzero(&b, sizeof(ngx_buf_t));

    b.start = ngx_palloc(r->pool, QOCR_FUZZ_BUFFER);
    if (b.start == NULL) {
        return NGX_ERROR;
    }

    b.pos = b.start;
    b.last = b.start;
    b.end = b.start + QOCR_FUZZ_BUFFER;

    rc = NGX_AGAIN;

    while (size && rc == NGX_AGAIN) {

        if (reply->header_done) {
            b.pos = b.start;
            b.last = b.start;
        }

        n = ngx_min(ngx_min(piece, size), (size_t) (b.end - b.last));

        if (n == 0) {
            break;      /* "upstream sent too big header" */
        }

        b.last = ngx_cpymem(b.last, data, n);
        data += n;
        size -= n;

        if (!reply->header_done) {
            rc = ngx_qocr_reply_parse_header(r, reply, &b, max, &error);

            if (rc != NGX_OK) {
                continue;
            }
        }

        rc = ngx_qocr_reply_parse_body(r, reply, &b, max, &error);

        if (b.pos > b.last) {
            abort();
        }
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED && error == NULL) {
        abort();
    }

    if (reply->len > max || reply->len > reply->size
        || (reply->too_large && rc != NGX_DECLINED)
        || (rc == NGX_DONE && !reply->header_done))
    {
        abort();
    }

    /* complete: all of it, or closed by the server when its length is open */

    if (rc == NGX_DONE
        || (rc == NGX_AGAIN && size == 0 && reply->header_done
            && !reply->is_chunked && reply->remaining == -1))
    {
        reply->complete = 1;

        (void) ctx->conf->api->rate_limited(ctx);

        return NGX_OK;
    }

    ngx_qocr_set_error(ctx, reply->got_bytes ? NGX_QOCR_UPSTREAM_ERROR
                                             : NGX_QOCR_UPSTREAM_UNAVAILABLE,
                       "the OCR service's reply is invalid or incomplete",
                       NULL);

    return NGX_OK;
}


/* as ngx_qocr_send_final() */

static ngx_int_t
qocr_fuzz_legacy(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->err == NGX_QOCR_OK && ctx->reply.complete) {
        rc = ctx->conf->api->parse_reply(pool, &qocr_fuzz_log, ctx);

        if (rc != NGX_OK) {
            if (rc != NGX_ERROR) {
                abort();
            }

            return NGX_ERROR;
        }

        if (ctx->results_ready
            && (ctx->results == NULL || ctx->err != NGX_QOCR_OK))
        {
            abort();
        }
    }

    if (ctx->err == NGX_QOCR_OK && !ctx->results_ready) {
        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is incomplete", NULL);
    }

    return NGX_OK;
}


/*
 * A request of one image: its call, as ngx_qocr_call_result(), then the
 * answer as ngx_qocr_batch_answer().
 */

static ngx_int_t
qocr_fuzz_v3(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx, ngx_qocr_ctx_t *call)
{
    ngx_int_t           rc;
    ngx_qocr_result_t  *res;

    ctx->results = ngx_pcalloc(pool, sizeof(ngx_qocr_result_t));
    if (ctx->results == NULL) {
        return NGX_ERROR;
    }

    call->results = ctx->results;
    res = call->results;

    if (call->err == NGX_QOCR_OK && call->reply.complete) {
        rc = call->conf->api->parse_reply(pool, &qocr_fuzz_log, call);

        if (rc != NGX_OK) {
            if (rc != NGX_ERROR) {
                abort();
            }

            call->err = NGX_QOCR_INTERNAL_ERROR;
        }

    } else if (call->err == NGX_QOCR_OK) {
        ngx_qocr_set_error(call, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is incomplete", NULL);
    }

    if (call->err != NGX_QOCR_OK) {
        res->err = call->err;
        res->message = call->err_text;
        res->code = call->upstream_code;
    }

    if (res->err >= NGX_QOCR_ERR_LAST) {
        abort();
    }

    /* the batch's answer */

    if (res->err == NGX_QOCR_UPSTREAM_AUTH_FAILED
        || res->err == NGX_QOCR_UPSTREAM_BILLING)
    {
        ctx->fatal = 0;
    }

    if (ctx->fatal != -1 || ngx_qocr_err_request_level(res->err)) {
        ngx_qocr_set_error(ctx, res->err, res->message, &res->code);
        return NGX_OK;
    }

    ctx->results_ready = 1;

    if (ngx_qocr_first_failure(ctx)) {
        ctx->upstream_code = res->code;
    }

    return NGX_OK;
}


static void
qocr_fuzz_check(ngx_qocr_ctx_t *ctx, ngx_str_t *out, ngx_uint_t status)
{
    cJSON              *json, *kind, *results, *res, *v, *fields;
    ngx_uint_t          i, k, nkeys, bank;
    ngx_qocr_image_t   *img;

    bank = (ctx->kind == NGX_QOCR_BANKCARD);

    /* every answer is strict UTF-8, whatever the service sent */

    if (!qocr_fuzz_utf8(out->data, out->len)) {
        abort();
    }

    json = cJSON_ParseWithLength((char *) out->data, out->len);
    kind = cJSON_GetObjectItemCaseSensitive(json, "kind");

    if (!cJSON_IsObject(json) || !cJSON_IsString(kind)
        || ngx_strcmp(kind->valuestring, bank ? "bankcard" : "namecard") != 0)
    {
        abort();
    }

    if (ctx->err != NGX_QOCR_OK) {
        if (ctx->err >= NGX_QOCR_ERR_LAST
            || status != ngx_qocr_err_status(ctx->err) || status < 400
            || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(json,
                                                                "error"))
            || cJSON_GetObjectItemCaseSensitive(json, "results") != NULL)
        {
            abort();
        }

        cJSON_Delete(json);
        return;
    }

    results = cJSON_GetObjectItemCaseSensitive(json, "results");

    if (status != NGX_HTTP_OK || !cJSON_IsArray(results)
        || cJSON_GetArraySize(results) != (int) ctx->images->nelts
        || cJSON_GetObjectItemCaseSensitive(json, "error") != NULL)
    {
        abort();
    }

    img = ctx->images->elts;
    nkeys = bank ? NGX_QOCR_BC_FIELDS : NGX_QOCR_NC_FIELDS;

    for (i = 0; i < ctx->images->nelts; i++) {
        res = cJSON_GetArrayItem(results, i);

        v = cJSON_GetObjectItemCaseSensitive(res, "index");
        if (!cJSON_IsNumber(v) || v->valuedouble != (double) i) {
            abort();
        }

        v = cJSON_GetObjectItemCaseSensitive(res, "source");
        if (img[i].has_source
            ? !cJSON_IsString(v)
              || ngx_strcmp(v->valuestring, img[i].source.data) != 0
            : !cJSON_IsNull(v))
        {
            abort();
        }

        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "warnings"))
            || !cJSON_HasObjectItem(res, "request_id"))
        {
            abort();
        }

        v = cJSON_GetObjectItemCaseSensitive(res, "ok");

        if (cJSON_IsFalse(v)) {
            if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(res,
                                                                 "error")))
            {
                abort();
            }

            continue;
        }

        fields = cJSON_GetObjectItemCaseSensitive(res, "fields");

        if (!cJSON_IsTrue(v) || !cJSON_IsObject(fields)
            || cJSON_GetArraySize(fields) != (int) nkeys)
        {
            abort();
        }

        for (k = 0; k < nkeys; k++) {
            if (!cJSON_HasObjectItem(fields, qocr_fuzz_keys[bank][k])) {
                abort();
            }
        }
    }

    cJSON_Delete(json);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *p;
    size_t                piece, max, len;
    ngx_str_t             out;
    ngx_uint_t            i, nimages, mode, status;
    ngx_pool_t           *pool;
    ngx_chain_t          *chain, *cl;
    ngx_qocr_ctx_t       *ctx, *call;
    ngx_qocr_image_t     *img;
    ngx_http_request_t   *r;
    ngx_qocr_loc_conf_t  *qlcf;

    if (size < 2) {
        return 0;
    }

    nimages = (data[0] % 20) + 1;
    piece = (data[0] >> 3) * 37 + 1;
    mode = data[1];
    max = (mode >> 4) ? (mode >> 4) * 64 : QOCR_FUZZ_MAX;
    data += 2;
    size -= 2;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    qlcf = qocr_fuzz_conf(mode & 4,
                          (mode & 1) ? NGX_QOCR_BANKCARD : NGX_QOCR_NAMECARD,
                          mode & 8);
    r = qocr_fuzz_request(pool);
    ctx = ngx_pcalloc(pool, sizeof(ngx_qocr_ctx_t));

    if (qlcf == NULL || r == NULL || ctx == NULL) {
        goto done;
    }

    if (qlcf->kind == NGX_QOCR_BANKCARD || qlcf->api->per_image) {
        nimages = 1;
    }

    /* the request, as ngx_qocr_create_ctx() and the body parser leave it */

    ctx->kind = qlcf->kind;
    ctx->conf = qlcf;
    ctx->fatal = -1;
    ctx->url_input = (mode & 2) ? 1 : 0;
    ngx_qocr_reply_init(&ctx->reply);

    ctx->images = ngx_array_create(pool, nimages, sizeof(ngx_qocr_image_t));
    if (ctx->images == NULL) {
        goto done;
    }

    for (i = 0; i < nimages; i++) {
        img = ngx_array_push(ctx->images);
        if (img == NULL) {
            goto done;
        }

        ngx_memzero(img, sizeof(ngx_qocr_image_t));

        if (ctx->url_input) {
            /* the fake service's URLs: a.example/0 .. a.example/19 */
            img->source.data = ngx_pnalloc(pool, 32);
            if (img->source.data == NULL) {
                goto done;
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

    ctx->count = nimages;

    if (!qlcf->api->per_image) {
        if (qocr_fuzz_read(r, ctx, data, size, piece, max) != NGX_OK
            || qocr_fuzz_legacy(pool, ctx) != NGX_OK)
        {
            goto done;
        }

    } else {
        /* a call, as ngx_qocr_batch_launch() makes it */

        call = ngx_pcalloc(pool, sizeof(ngx_qocr_ctx_t));
        if (call == NULL) {
            goto done;
        }

        call->kind = ctx->kind;
        call->conf = ctx->conf;
        call->images = ctx->images;
        call->first = 0;
        call->count = 1;
        call->url_input = ctx->url_input;
        call->main = ctx;
        call->fatal = -1;
        ngx_qocr_reply_init(&call->reply);

        if (qocr_fuzz_read(r, call, data, size, piece, max) != NGX_OK
            || qocr_fuzz_v3(pool, ctx, call) != NGX_OK)
        {
            goto done;
        }
    }

    status = 0;

    if (ngx_qocr_answer(pool, ctx, &chain, &len, &status) != NGX_OK) {
        goto done;
    }

    /* the chain, its buffers referring to the reply's long strings, as one */

    out.data = ngx_pnalloc(pool, len + 1);
    if (out.data == NULL) {
        goto done;
    }

    p = out.data;

    for (cl = chain; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    out.len = p - out.data;

    if (out.len != len) {
        abort();
    }

    qocr_fuzz_check(ctx, &out, status);

done:

    ngx_destroy_pool(pool);

    return 0;
}
