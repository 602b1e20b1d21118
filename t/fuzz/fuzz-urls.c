
/*
 * Fuzzes URL input: the client's JSON body ({"url"} or {"urls"}) and the
 * requests made of it for the OCR service, by each API's create_request.
 *
 * A refused body must say why (NGX_DECLINED, ctx->err one of the table,
 * a 4xx).  An accepted one must give 1 to max URLs, each an absolute
 * http(s) URL of at most 2048 bytes, valid UTF-8 (README, "What a client
 * sends").  Then:
 *
 *   - legacy: one request of every URL, its body JSON that parses, keeps
 *     our appid and bucket and carries exactly those URLs in order
 *     (namecard {"appid", "bucket", "ret_image", "url_list"}, bank card
 *     {"appid", "bucket", "url"}), its Content-Length the body's;
 *   - API 3.0: one call a URL, its body JSON that parses to
 *     {"ImageUrl": the URL} and the location's options, its
 *     Content-Length the body's, its action the kind's.
 *
 * Input: one byte (bit 0: bank card; bits 1-7: qocr_max_images - 1,
 * modulo 20), the body.
 */


#include "fuzz.h"

#include <cjson/cJSON.h>


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();

    return 0;
}


static void
qocr_fuzz_legacy(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    cJSON                *json, *list, *u;
    ngx_buf_t            *b;
    ngx_str_t            *body;
    ngx_uint_t            i;
    ngx_qocr_image_t     *img;
    ngx_qocr_loc_conf_t  *qlcf;

    qlcf = qocr_fuzz_conf(0, ctx->kind, 1);
    if (qlcf == NULL) {
        return;
    }

    ctx->conf = qlcf;

    if (qlcf->api->create_request(r, ctx, qlcf) != NGX_OK) {
        return;     /* out of memory */
    }

    /* one buffer: the header, then the JSON */

    body = &ctx->url_body;
    b = ctx->request_bufs->buf;

    if (ctx->request_bufs->next != NULL
        || b->last > b->end
        || (size_t) (b->last - b->pos) < body->len
        || ngx_memcmp(b->last - body->len, body->data, body->len) != 0
        || qocr_fuzz_content_length(b->pos, b->last - body->len)
           != (off_t) body->len)
    {
        abort();
    }

    json = cJSON_ParseWithLength((char *) body->data, body->len);
    if (json == NULL) {
        abort();
    }

    if (!cJSON_IsString(cJSON_GetObjectItem(json, "appid"))
        || ngx_strcmp(cJSON_GetObjectItem(json, "appid")->valuestring,
                      "1250000000") != 0
        || !cJSON_IsString(cJSON_GetObjectItem(json, "bucket"))
        || ngx_strcmp(cJSON_GetObjectItem(json, "bucket")->valuestring,
                      "test") != 0)
    {
        abort();
    }

    img = ctx->images->elts;

    if (ctx->kind == NGX_QOCR_BANKCARD) {
        u = cJSON_GetObjectItem(json, "url");

        if (ctx->images->nelts != 1 || !cJSON_IsString(u)
            || ngx_strcmp(u->valuestring, img[0].source.data) != 0
            || cJSON_GetArraySize(json) != 3)
        {
            abort();
        }

    } else {
        list = cJSON_GetObjectItem(json, "url_list");

        if (cJSON_GetArraySize(list) != (int) ctx->images->nelts
            || !cJSON_IsNumber(cJSON_GetObjectItem(json, "ret_image"))
            || cJSON_GetArraySize(json) != 4)
        {
            abort();
        }

        for (i = 0; i < ctx->images->nelts; i++) {
            u = cJSON_GetArrayItem(list, i);

            if (!cJSON_IsString(u)
                || ngx_strcmp(u->valuestring, img[i].source.data) != 0)
            {
                abort();
            }
        }
    }

    cJSON_Delete(json);
}


static void
qocr_fuzz_v3(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx, ngx_uint_t i)
{
    cJSON                *json, *u;
    ngx_buf_t            *hb, *b;
    const char           *action;
    ngx_qocr_ctx_t       *call;
    ngx_qocr_image_t     *img;
    ngx_qocr_loc_conf_t  *qlcf;

    qlcf = qocr_fuzz_conf(1, ctx->kind, 1);
    call = ngx_pcalloc(r->pool, sizeof(ngx_qocr_ctx_t));

    if (qlcf == NULL || call == NULL) {
        return;
    }

    /* a call of the batch, as ngx_qocr_batch_launch() makes it */

    call->kind = ctx->kind;
    call->conf = qlcf;
    call->images = ctx->images;
    call->first = i;
    call->count = 1;
    call->url_input = ctx->url_input;
    call->main = ctx;
    call->fatal = -1;
    ngx_qocr_reply_init(&call->reply);

    if (qlcf->api->create_request(r, call, qlcf) != NGX_OK) {
        return;     /* out of memory */
    }

    /* the header, then the body */

    hb = call->request_bufs->buf;
    b = call->request_bufs->next ? call->request_bufs->next->buf : NULL;

    action = (ctx->kind == NGX_QOCR_BANKCARD)
             ? "\r\nX-TC-Action: BankCardOCR\r\n"
             : "\r\nX-TC-Action: BusinessCardOCR\r\n";

    if (b == NULL || call->request_bufs->next->next != NULL
        || hb->last > hb->end
        || b->pos != call->body
        || qocr_fuzz_content_length(hb->pos, hb->last) != b->last - b->pos
        || ngx_strlcasestrn(hb->pos, hb->last, (u_char *) action,
                            ngx_strlen(action) - 1)
           == NULL)
    {
        abort();
    }

    json = cJSON_ParseWithLength((char *) b->pos, b->last - b->pos);
    if (json == NULL) {
        abort();
    }

    img = (ngx_qocr_image_t *) ctx->images->elts + i;
    u = cJSON_GetObjectItem(json, "ImageUrl");

    /* the URL and the options: namecard Config, bank card four flags */

    if (!cJSON_IsString(u)
        || ngx_strcmp(u->valuestring, img->source.data) != 0
        || cJSON_GetArraySize(json)
           != ((ctx->kind == NGX_QOCR_BANKCARD) ? 5 : 2))
    {
        abort();
    }

    cJSON_Delete(json);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *copy;
    ngx_int_t            rc;
    ngx_uint_t           i, max;
    ngx_pool_t          *pool;
    ngx_qocr_ctx_t       ctx;
    ngx_qocr_image_t    *img;
    ngx_http_request_t  *r;

    if (size < 1) {
        return 0;
    }

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    ngx_memzero(&ctx, sizeof(ngx_qocr_ctx_t));
    ctx.kind = (data[0] & 1) ? NGX_QOCR_BANKCARD : NGX_QOCR_NAMECARD;
    ctx.fatal = -1;
    ngx_qocr_reply_init(&ctx.reply);
    max = (ctx.kind == NGX_QOCR_BANKCARD) ? 1 : ((data[0] >> 1) % 20) + 1;

    /* a copy of its own, so ASan sees reads past the end */

    copy = ngx_pnalloc(pool, size);
    if (copy == NULL) {
        goto done;
    }

    ngx_memcpy(copy, data + 1, size - 1);

    rc = ngx_qocr_parse_url_json(pool, copy, size - 1, max, &ctx);

    if (rc == NGX_DECLINED) {
        if (ctx.err == NGX_QOCR_OK || ctx.err >= NGX_QOCR_ERR_LAST
            || ngx_qocr_err_status(ctx.err) < 400)
        {
            abort();
        }

        goto done;
    }

    if (rc != NGX_OK || ctx.err != NGX_QOCR_OK
        || !ctx.url_input || ctx.images == NULL || ctx.images->nelts == 0
        || ctx.images->nelts > max)
    {
        abort();
    }

    img = ctx.images->elts;

    for (i = 0; i < ctx.images->nelts; i++) {
        if (!img[i].has_source
            || img[i].source.len > NGX_QOCR_URL_MAX
            || (ngx_strncasecmp(img[i].source.data, (u_char *) "http://", 7)
                != 0
                && ngx_strncasecmp(img[i].source.data,
                                   (u_char *) "https://", 8) != 0)
            || !qocr_fuzz_utf8(img[i].source.data, img[i].source.len))
        {
            abort();
        }
    }

    r = qocr_fuzz_request(pool);
    if (r == NULL) {
        goto done;
    }

    qocr_fuzz_legacy(r, &ctx);

    for (i = 0; i < ctx.images->nelts; i++) {
        qocr_fuzz_v3(r, &ctx, i);
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
