
/*
 * Fuzzes URL input: the client's JSON body ({"url"} or {"urls"}) and the
 * JSON built from it for the OCR service.  An accepted body must give 1 to
 * max URLs, each an absolute http(s) URL; the upstream JSON must parse,
 * keep our appid and bucket, and carry exactly those URLs in order.  A
 * refused body must say why with an error of the table.
 *
 * Input: one byte (bit 0: bank card; bits 1-5: qocr_max_images - 1), the
 * body.
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
qocr_fuzz_check_upstream(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx)
{
    cJSON                *json, *list, *u;
    ngx_str_t             out;
    ngx_uint_t            i;
    ngx_qocr_image_t     *img;
    ngx_qocr_loc_conf_t   qlcf;

    ngx_memzero(&qlcf, sizeof(ngx_qocr_loc_conf_t));
    ngx_str_set(&qlcf.appid, "1250000000");
    ngx_str_set(&qlcf.bucket, "test");
    qlcf.return_image = 1;

    if (ngx_qocr_url_json(pool, ctx, &qlcf, &out) != NGX_OK) {
        return;     /* out of memory */
    }

    json = cJSON_ParseWithLength((char *) out.data, out.len);
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


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *copy;
    ngx_uint_t         i, max;
    ngx_pool_t        *pool;
    ngx_qocr_ctx_t     ctx;
    ngx_qocr_image_t  *img;

    if (size < 1) {
        return 0;
    }

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    ngx_memzero(&ctx, sizeof(ngx_qocr_ctx_t));
    ctx.kind = (data[0] & 1) ? NGX_QOCR_BANKCARD : NGX_QOCR_NAMECARD;
    ctx.upstream_code = NGX_QOCR_NO_CODE;
    max = (ctx.kind == NGX_QOCR_BANKCARD) ? 1 : ((data[0] >> 1) % 20) + 1;

    /* a copy of its own, so ASan sees reads past the end */

    copy = ngx_pnalloc(pool, size);
    if (copy == NULL) {
        goto done;
    }

    ngx_memcpy(copy, data + 1, size - 1);

    if (ngx_qocr_parse_url_json(pool, copy, size - 1, max, &ctx) != NGX_OK) {
        if (ctx.err != NGX_QOCR_OK
            && (ctx.err >= NGX_QOCR_ERR_LAST
                || ngx_qocr_err_status(ctx.err) < 400))
        {
            abort();
        }

        goto done;
    }

    if (!ctx.url_input || ctx.images == NULL || ctx.images->nelts == 0
        || ctx.images->nelts > max)
    {
        abort();
    }

    img = ctx.images->elts;

    for (i = 0; i < ctx.images->nelts; i++) {
        if (img[i].source.len > NGX_QOCR_URL_MAX
            || (ngx_strncasecmp(img[i].source.data, (u_char *) "http://", 7)
                != 0
                && ngx_strncasecmp(img[i].source.data,
                                   (u_char *) "https://", 8) != 0))
        {
            abort();
        }
    }

    qocr_fuzz_check_upstream(pool, &ctx);

done:

    ngx_destroy_pool(pool);

    return 0;
}
