
/*
 * ngx_qocr: the legacy image OCR API of the seed documents (contract
 * sections 4 and 5): the request, its signature, and the reply turned into
 * the normalized results.
 *
 *   POST /ocr/namecard HTTP/1.1
 *   Host: <host of qocr_pass>
 *   Authorization: <signature>
 *   Content-Type: multipart/form-data; boundary=qocr<32 hex digits>
 *   Content-Length: <n>
 *
 *   parts "appid", "bucket", "ret_image" (namecard), then one part per
 *   image: "image[00]".."image[19]" (namecard; the service sorts results by
 *   part name as strings) or "image" (bank card), each with a filename made
 *   here, never the client's.  URL input sends JSON instead.
 *
 * Only these headers go upstream.  Image bytes are not copied: the chain
 * points into the client body's buffers or temp file.  One call carries
 * every image of the request.
 *
 * The sign of the service's code sets the level: a positive code fails the
 * request, a negative one the image it belongs to.  Any HTTP status is
 * accepted as long as the body is the service's JSON, as the official SDKs
 * do.
 */


#include "ngx_qocr.h"
#include "ngx_qocr_body.h"
#include "ngx_qocr_result.h"
#include "ngx_qocr_sign.h"

#include <openssl/rand.h>
#include <cjson/cJSON.h>


#define NGX_QOCR_RATE_LIMITED_CODE  15
#define NGX_QOCR_NO_CODE            NGX_MAX_INT_T_VALUE


static ngx_int_t ngx_qocr_legacy_init_conf(ngx_conf_t *cf,
    ngx_qocr_loc_conf_t *qlcf);
static const char *ngx_qocr_legacy_refuse_type(ngx_uint_t kind,
    ngx_str_t *ext);
static ngx_int_t ngx_qocr_legacy_create_request(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_int_t ngx_qocr_legacy_reinit_request(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_uint_t ngx_qocr_legacy_rate_limited(ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_legacy_parse_reply(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx);

static ngx_int_t ngx_qocr_sign_request(ngx_pool_t *pool,
    ngx_qocr_loc_conf_t *qlcf, time_t now, uint32_t rnd, ngx_str_t *out);
static size_t ngx_qocr_head_len(ngx_qocr_loc_conf_t *qlcf,
    ngx_qocr_ctx_t *ctx);
static u_char *ngx_qocr_head(u_char *p, ngx_qocr_loc_conf_t *qlcf,
    ngx_qocr_ctx_t *ctx, off_t body_len);
static ngx_int_t ngx_qocr_build_chain(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf, ngx_uint_t in_memory);
static ngx_int_t ngx_qocr_build_url_chain(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_int_t ngx_qocr_url_json(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *out);
static ngx_int_t ngx_qocr_json_out(ngx_pool_t *pool, cJSON *root,
    ngx_str_t *out);
static u_char *ngx_qocr_part_header(u_char *p, ngx_str_t *boundary,
    ngx_qocr_ctx_t *ctx, ngx_uint_t i);
static size_t ngx_qocr_part_header_len(ngx_str_t *boundary,
    ngx_qocr_ctx_t *ctx, ngx_uint_t i);

static ngx_int_t ngx_qocr_namecard(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, cJSON *reply, ngx_int_t top_code);
static ngx_int_t ngx_qocr_bankcard(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, cJSON *reply, ngx_int_t code);
static void ngx_qocr_bank_field(ngx_qocr_ctx_t *ctx, ngx_qocr_field_t *f,
    ngx_uint_t key, cJSON *item);
static void ngx_qocr_namecard_field(ngx_qocr_ctx_t *ctx,
    ngx_qocr_field_t *f, cJSON *data, const char *key, const char *conf_key);
static ngx_int_t ngx_qocr_item_error(ngx_pool_t *pool, ngx_qocr_result_t *res,
    ngx_int_t code);
static ngx_int_t ngx_qocr_no_results(ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    const char *what);
static ngx_int_t ngx_qocr_code(cJSON *obj, ngx_int_t *code);
static ngx_int_t ngx_qocr_result_index(cJSON *res, ngx_uint_t n);
static ngx_int_t ngx_qocr_result_url_index(cJSON *res, ngx_qocr_ctx_t *ctx,
    cJSON **by_index);
static ngx_int_t ngx_qocr_request_error(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, ngx_int_t code);
static ngx_qocr_err_e ngx_qocr_map_code(ngx_int_t code);


ngx_qocr_api_t  ngx_qocr_legacy_api = {
    0,
    ngx_qocr_legacy_init_conf,
    ngx_qocr_legacy_refuse_type,
    ngx_qocr_legacy_create_request,
    ngx_qocr_legacy_reinit_request,
    ngx_qocr_legacy_rate_limited,
    ngx_qocr_legacy_parse_reply
};


static ngx_int_t
ngx_qocr_legacy_init_conf(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf)
{
    ngx_pool_cleanup_t  *cln;

    if (qlcf->appid.len == 0 || qlcf->bucket.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is missing for the qocr location \"%V\" "
                           "(the legacy API needs it; new Tencent accounts "
                           "use \"qocr_api v3\", which does not)",
                           qlcf->appid.len ? "qocr_bucket" : "qocr_appid",
                           &qlcf->location);
        return NGX_ERROR;
    }

    if (qlcf->token.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a \"token\" in the credentials file needs "
                           "\"qocr_api v3\" in the qocr location \"%V\"",
                           &qlcf->location);
        return NGX_ERROR;
    }

    /* keyed once: see ngx_qocr_sign.c */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    qlcf->hmac = ngx_qocr_hmac_create(&qlcf->secret_key, "SHA1");

    if (qlcf->hmac == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "qocr: HMAC-SHA1 is not available from OpenSSL");
        return NGX_ERROR;
    }

    cln->handler = ngx_qocr_hmac_free;
    cln->data = qlcf->hmac;

    if (qlcf->uri.len == 0) {
        if (qlcf->kind == NGX_QOCR_BANKCARD) {
            ngx_str_set(&qlcf->uri, "/ocr/bankcard");

        } else {
            ngx_str_set(&qlcf->uri, "/ocr/namecard");
        }
    }

    if (qlcf->max_image_size == NGX_CONF_UNSET) {
        qlcf->max_image_size = (qlcf->kind == NGX_QOCR_BANKCARD)
                               ? 6 * 1024 * 1024 : 1024 * 1024;
    }

    if (qlcf->kind == NGX_QOCR_BANKCARD) {
        qlcf->return_image = 0;     /* the bank card API has no ret_image */
    }

    return NGX_OK;
}


static const char *
ngx_qocr_legacy_refuse_type(ngx_uint_t kind, ngx_str_t *ext)
{
    if (kind == NGX_QOCR_BANKCARD && ext->len == 3
        && ngx_strncmp(ext->data, "gif", 3) == 0)
    {
        return "GIF images are not accepted for bank cards";
    }

    return NULL;
}


static ngx_int_t
ngx_qocr_legacy_create_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    u_char    *p, rnd[16 + sizeof(uint32_t)];
    uint32_t   r32;

    /*
     * One draw for a random boundary (128 bits make a collision with image
     * bytes moot) and the signature's random number.
     */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: RAND_bytes() failed");
        return NGX_ERROR;
    }

    ctx->boundary.len = sizeof("qocr") - 1 + 32;
    ctx->boundary.data = ngx_pnalloc(r->pool, ctx->boundary.len);
    if (ctx->boundary.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(ctx->boundary.data, "qocr", 4);
    ngx_hex_dump(p, rnd, 16);
    ngx_memcpy(&r32, rnd + 16, sizeof(uint32_t));

    if (ngx_qocr_sign_request(r->pool, qlcf, ngx_time(), r32, &ctx->auth)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: signing failed");
        return NGX_ERROR;
    }

    return ngx_qocr_build_chain(r, ctx, qlcf, 0);
}


/*
 * A retry to another server.  ngx_http_upstream_reinit() then rewinds the
 * request chain assuming at most one file in it, laid out from offset 0: true
 * of proxy's chain, not of ours, whose file parts are the images inside the
 * client temp file.  So the chain is built anew, byte for byte as before
 * (the same boundary and signature), with the temp file parts read into
 * memory.
 */

static ngx_int_t
ngx_qocr_legacy_reinit_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    return ngx_qocr_build_chain(r, ctx, qlcf, 1);
}


/* the plain text, signed; rnd: a fresh random number from a CSPRNG */

static ngx_int_t
ngx_qocr_sign_request(ngx_pool_t *pool, ngx_qocr_loc_conf_t *qlcf,
    time_t now, uint32_t rnd, ngx_str_t *out)
{
    u_char     buf[NGX_QOCR_SIGN_PLAIN_MAX], *p;
    ngx_str_t  plain;

    if (qlcf->appid.len + qlcf->bucket.len + qlcf->secret_id.len
        + sizeof("a=&b=&k=&e=&t=&r=&u=0&f=") + 3 * NGX_TIME_T_LEN
        > NGX_QOCR_SIGN_PLAIN_MAX)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "a=%V&b=%V&k=%V&e=%T&t=%T&r=%uD&u=0&f=",
                    &qlcf->appid, &qlcf->bucket, &qlcf->secret_id,
                    now + qlcf->sign_ttl, now, rnd);

    plain.data = buf;
    plain.len = p - buf;

    out->data = ngx_pnalloc(pool,
                            ngx_base64_encoded_length(NGX_QOCR_SHA1_LEN
                                                      + plain.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_qocr_sign_legacy(qlcf->hmac, &plain, out);
}


#define ngx_qocr_field_len(boundary, name, value)                            \
    (2 + (boundary)->len + 2                                                 \
     + sizeof("Content-Disposition: form-data; name=\"\"" CRLF CRLF) - 1     \
     + sizeof(name) - 1 + (value)->len + 2)


static u_char *
ngx_qocr_field(u_char *p, ngx_str_t *boundary, char *name, ngx_str_t *value)
{
    return ngx_sprintf(p, "--%V" CRLF
                       "Content-Disposition: form-data; name=\"%s\""
                       CRLF CRLF "%V" CRLF,
                       boundary, name, value);
}


/*
 * The request line and headers, of a multipart body or of URL JSON;
 * "Connection: close" unless the connection may go back to a keepalive
 * pool.
 */

static size_t
ngx_qocr_head_len(ngx_qocr_loc_conf_t *qlcf, ngx_qocr_ctx_t *ctx)
{
    return sizeof("POST  HTTP/1.1" CRLF) - 1 + qlcf->uri.len
           + sizeof("Host: " CRLF) - 1 + qlcf->host.len
           + qlcf->connection.len
           + sizeof("Authorization: " CRLF) - 1 + ctx->auth.len
           + sizeof("Content-Type: multipart/form-data; boundary=" CRLF) - 1
           + ctx->boundary.len
           + sizeof("Content-Length: " CRLF CRLF) - 1 + NGX_OFF_T_LEN;
}


static u_char *
ngx_qocr_head(u_char *p, ngx_qocr_loc_conf_t *qlcf, ngx_qocr_ctx_t *ctx,
    off_t body_len)
{
    p = ngx_sprintf(p, "POST %V HTTP/1.1" CRLF "Host: %V" CRLF "%V"
                       "Authorization: %V" CRLF,
                    &qlcf->uri, &qlcf->host, &qlcf->connection, &ctx->auth);

    if (ctx->url_input) {
        p = ngx_cpymem(p, "Content-Type: application/json" CRLF,
                       sizeof("Content-Type: application/json" CRLF) - 1);

    } else {
        p = ngx_sprintf(p, "Content-Type: multipart/form-data; boundary=%V"
                           CRLF, &ctx->boundary);
    }

    return ngx_sprintf(p, "Content-Length: %O" CRLF CRLF, body_len);
}


static ngx_int_t
ngx_qocr_build_chain(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_uint_t in_memory)
{
    u_char             *p;
    off_t               body_len;
    size_t              len;
    ngx_buf_t          *b;
    ngx_str_t           boundary, ret;
    ngx_uint_t          i;
    ngx_chain_t        *cl, **ll;
    ngx_qocr_image_t   *img;

    if (ctx->url_input) {
        return ngx_qocr_build_url_chain(r, ctx, qlcf);
    }

    boundary = ctx->boundary;

    ngx_str_set(&ret, "0");

    if (qlcf->return_image) {
        ngx_str_set(&ret, "1");
    }

    img = ctx->images->elts;

    /* the multipart body: fields, then images with their part headers */

    body_len = ngx_qocr_field_len(&boundary, "appid", &qlcf->appid)
               + ngx_qocr_field_len(&boundary, "bucket", &qlcf->bucket);

    if (ctx->kind == NGX_QOCR_NAMECARD) {
        body_len += ngx_qocr_field_len(&boundary, "ret_image", &ret);
    }

    for (i = 0; i < ctx->images->nelts; i++) {
        body_len += ngx_qocr_part_header_len(&boundary, ctx, i)
                    + img[i].size + 2;
    }

    body_len += 2 + boundary.len + 2 + 2;

    /* the request line, headers and every part before the first image */

    len = ngx_qocr_head_len(qlcf, ctx)
          + ngx_qocr_field_len(&boundary, "appid", &qlcf->appid)
          + ngx_qocr_field_len(&boundary, "bucket", &qlcf->bucket)
          + ngx_qocr_field_len(&boundary, "ret_image", &ret)
          + ngx_qocr_part_header_len(&boundary, ctx, 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    p = ngx_qocr_head(p, qlcf, ctx, body_len);

    p = ngx_qocr_field(p, &boundary, "appid", &qlcf->appid);
    p = ngx_qocr_field(p, &boundary, "bucket", &qlcf->bucket);

    if (ctx->kind == NGX_QOCR_NAMECARD) {
        p = ngx_qocr_field(p, &boundary, "ret_image", &ret);
    }

    p = ngx_qocr_part_header(p, &boundary, ctx, 0);

    b->last = p;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    ctx->request_bufs = cl;
    ll = &cl->next;

    for (i = 0; i < ctx->images->nelts; i++) {

        if (i > 0) {
            b = ngx_create_temp_buf(r->pool,
                                    2 + ngx_qocr_part_header_len(&boundary,
                                                                 ctx, i));
            if (b == NULL) {
                return NGX_ERROR;
            }

            *b->last++ = CR; *b->last++ = LF;
            b->last = ngx_qocr_part_header(b->last, &boundary, ctx, i);

            cl = ngx_alloc_chain_link(r->pool);
            if (cl == NULL) {
                return NGX_ERROR;
            }

            cl->buf = b;
            *ll = cl;
            ll = &cl->next;
        }

        if (ngx_qocr_body_slice(r->pool, r->request_body->bufs, img[i].start,
                                img[i].size, &ll, in_memory,
                                r->connection->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    b = ngx_create_temp_buf(r->pool, 2 + 2 + boundary.len + 2 + 2);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, CRLF "--%V--" CRLF, &boundary);
    b->flush = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    *ll = cl;

    return NGX_OK;
}


/*
 * URL input: application/json, made with cJSON so that no client string can
 * break out of it.  Namecard {"appid", "bucket", "ret_image", "url_list"},
 * bank card {"appid", "bucket", "url"}.
 */

static ngx_int_t
ngx_qocr_build_url_chain(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (ctx->url_body.len == 0
        && ngx_qocr_url_json(r->pool, ctx, qlcf, &ctx->url_body) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = ngx_qocr_head_len(qlcf, ctx) + ctx->url_body.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_qocr_head(b->last, qlcf, ctx, ctx->url_body.len);
    b->last = ngx_cpymem(b->last, ctx->url_body.data, ctx->url_body.len);
    b->flush = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    ctx->request_bufs = cl;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_url_json(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *out)
{
    u_char            *appid, *bucket;
    cJSON             *root, *list, *s;
    ngx_uint_t         i;
    ngx_qocr_image_t  *img;

    appid = ngx_pnalloc(pool, qlcf->appid.len + 1);
    bucket = ngx_pnalloc(pool, qlcf->bucket.len + 1);

    if (appid == NULL || bucket == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(appid, qlcf->appid.data, qlcf->appid.len + 1);
    ngx_cpystrn(bucket, qlcf->bucket.data, qlcf->bucket.len + 1);

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NGX_ERROR;
    }

    img = ctx->images->elts;

    if (cJSON_AddStringToObject(root, "appid", (char *) appid) == NULL
        || cJSON_AddStringToObject(root, "bucket", (char *) bucket) == NULL)
    {
        goto failed;
    }

    if (ctx->kind == NGX_QOCR_BANKCARD) {
        if (cJSON_AddStringToObject(root, "url", (char *) img[0].source.data)
            == NULL)
        {
            goto failed;
        }

    } else {
        if (cJSON_AddNumberToObject(root, "ret_image",
                                    qlcf->return_image ? 1 : 0)
            == NULL)
        {
            goto failed;
        }

        list = cJSON_AddArrayToObject(root, "url_list");
        if (list == NULL) {
            goto failed;
        }

        for (i = 0; i < ctx->images->nelts; i++) {
            s = cJSON_CreateString((char *) img[i].source.data);
            if (s == NULL) {
                goto failed;
            }

            cJSON_AddItemToArray(list, s);
        }
    }

    return ngx_qocr_json_out(pool, root, out);

failed:

    cJSON_Delete(root);

    return NGX_ERROR;
}


/*
 * Prints a JSON tree into the pool, unformatted, and frees the tree (on
 * failure too).
 */

static ngx_int_t
ngx_qocr_json_out(ngx_pool_t *pool, cJSON *root, ngx_str_t *out)
{
    char  *json;

    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (json == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(json);
    out->data = ngx_pnalloc(pool, out->len);

    if (out->data != NULL) {
        ngx_memcpy(out->data, json, out->len);
    }

    cJSON_free(json);

    return (out->data != NULL) ? NGX_OK : NGX_ERROR;
}


static size_t
ngx_qocr_part_header_len(ngx_str_t *boundary, ngx_qocr_ctx_t *ctx,
    ngx_uint_t i)
{
    size_t             len;
    ngx_qocr_image_t  *img;

    img = ctx->images->elts;

    if (ctx->kind == NGX_QOCR_NAMECARD) {
        len = sizeof("Content-Disposition: form-data; name=\"image[00]\"; "
                     "filename=\"image00.\"" CRLF) - 1;

    } else {
        len = sizeof("Content-Disposition: form-data; name=\"image\"; "
                     "filename=\"image.\"" CRLF) - 1;
    }

    return 2 + boundary->len + 2 + len + img[i].ext.len
           + sizeof("Content-Type: " CRLF CRLF) - 1 + img[i].type.len;
}


static u_char *
ngx_qocr_part_header(u_char *p, ngx_str_t *boundary, ngx_qocr_ctx_t *ctx,
    ngx_uint_t i)
{
    ngx_qocr_image_t  *img;

    img = ctx->images->elts;

    if (ctx->kind == NGX_QOCR_NAMECARD) {
        return ngx_sprintf(p, "--%V" CRLF
                           "Content-Disposition: form-data; "
                           "name=\"image[%02ui]\"; filename=\"image%02ui.%V\""
                           CRLF "Content-Type: %V" CRLF CRLF,
                           boundary, i, i, &img[i].ext, &img[i].type);
    }

    return ngx_sprintf(p, "--%V" CRLF
                       "Content-Disposition: form-data; "
                       "name=\"image\"; filename=\"image.%V\""
                       CRLF "Content-Type: %V" CRLF CRLF,
                       boundary, &img[i].ext, &img[i].type);
}


static ngx_uint_t
ngx_qocr_legacy_rate_limited(ngx_qocr_ctx_t *ctx)
{
    cJSON      *json;
    ngx_int_t   code;
    ngx_uint_t  limited;

    json = cJSON_ParseWithLength((char *) ctx->reply.data, ctx->reply.len);

    limited = (ngx_qocr_code(json, &code) == NGX_OK
               && code == NGX_QOCR_RATE_LIMITED_CODE);

    cJSON_Delete(json);

    return limited;
}


/*
 * The service's JSON into ctx->results, one a image, or a request-level
 * error.  NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_qocr_legacy_parse_reply(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx)
{
    cJSON      *reply;
    ngx_int_t   code, rc;

    reply = ngx_qocr_parse_json(pool, ctx);

    if (reply == NULL || !cJSON_IsObject(reply)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service's reply is not JSON "
                      "(HTTP status %ui, %uz bytes)",
                      ctx->reply.status.code, ctx->reply.len);

        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is not JSON", NULL);
        return NGX_OK;
    }

    if (ngx_qocr_code(reply, &code) != NGX_OK) {
        code = 0;
    }

    if (code == NGX_QOCR_NO_CODE) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service's reply has a \"code\" that "
                      "is not an integer");

        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service sent an invalid reply", NULL);
        return NGX_OK;
    }

    if (code > 0) {
        return ngx_qocr_request_error(pool, log, ctx, code);
    }

    ctx->results = ngx_pcalloc(pool, ctx->images->nelts
                                     * sizeof(ngx_qocr_result_t));
    if (ctx->results == NULL) {
        return NGX_ERROR;
    }

    if (ctx->kind == NGX_QOCR_BANKCARD) {
        rc = ngx_qocr_bankcard(pool, log, ctx, reply, code);

    } else {
        rc = ngx_qocr_namecard(pool, log, ctx, reply, code);
    }

    if (rc != NGX_OK) {
        /* NGX_DECLINED: a request-level error was set */
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ctx->results_ready = 1;

    if (ngx_qocr_first_failure(ctx) == NULL) {
        /* $qocr_upstream_code: the service's own code of a success */
        return ngx_qocr_code_number(pool, &ctx->upstream_code, 0);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_request_error(ngx_pool_t *pool, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    ngx_int_t code)
{
    ngx_qocr_err_e   err;
    ngx_qocr_code_t  c;

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

    if (ngx_qocr_code_number(pool, &c, code) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_qocr_set_error(ctx, err, NULL, &c);

    return NGX_OK;
}


/* an image's error: its code, or no result at all (NGX_QOCR_NO_CODE) */

static ngx_int_t
ngx_qocr_item_error(ngx_pool_t *pool, ngx_qocr_result_t *res, ngx_int_t code)
{
    if (code == NGX_QOCR_NO_CODE) {
        res->err = NGX_QOCR_UPSTREAM_ERROR;
        res->message = "the OCR service returned no result for this image";
        return NGX_OK;
    }

    res->err = ngx_qocr_map_code(code);

    return ngx_qocr_code_number(pool, &res->code, code);
}


static ngx_int_t
ngx_qocr_namecard(ngx_pool_t *pool, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    cJSON *reply, ngx_int_t top_code)
{
    cJSON              *list, *res, *data;
    cJSON             **by_index;
    ngx_int_t           code, idx;
    ngx_uint_t          i, n, pos;
    ngx_qocr_result_t  *r;

    n = ctx->images->nelts;

    list = cJSON_GetObjectItemCaseSensitive(reply, "result_list");

    if (top_code == 0 && !cJSON_IsArray(list)) {
        return ngx_qocr_no_results(log, ctx, "no result_list");
    }

    by_index = ngx_pcalloc(pool, n * sizeof(cJSON *));
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

    for (i = 0; i < n; i++) {
        res = by_index[i];
        r = &ctx->results[i];

        if (top_code) {
            code = top_code;

        } else if (res == NULL || ngx_qocr_code(res, &code) != NGX_OK) {
            code = NGX_QOCR_NO_CODE;
        }

        if (code > 0 && code != NGX_QOCR_NO_CODE) {
            /* a positive code fails the whole request */
            if (ngx_qocr_request_error(pool, log, ctx, code) != NGX_OK) {
                return NGX_ERROR;
            }

            return NGX_DECLINED;
        }

        if (code != 0) {
            if (ngx_qocr_item_error(pool, r, code) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_qocr_result_fields(pool, r, NGX_QOCR_NAMECARD) != NGX_OK) {
            return NGX_ERROR;
        }

        data = cJSON_GetObjectItemCaseSensitive(res, "data");

        ngx_qocr_namecard_field(ctx, &r->fields[NGX_QOCR_NC_NAME], data,
                                "name", "name_confidence");
        ngx_qocr_namecard_field(ctx, &r->fields[NGX_QOCR_NC_PHONE], data,
                                "phone", "phone_confidence");
        ngx_qocr_namecard_field(ctx, &r->fields[NGX_QOCR_NC_QQ], data,
                                "uin", "uin_confidence");

        ngx_qocr_json_str(ctx, cJSON_GetObjectItemCaseSensitive(data, "image"),
                          &r->image);
    }

    return NGX_OK;
}


/*
 * A field the service did not recognize (confidence -1, no value) stays
 * null.
 */

static void
ngx_qocr_namecard_field(ngx_qocr_ctx_t *ctx, ngx_qocr_field_t *f,
    cJSON *data, const char *key, const char *conf_key)
{
    cJSON  *conf;

    conf = cJSON_GetObjectItemCaseSensitive(data, conf_key);

    if (cJSON_IsNumber(conf) && conf->valuedouble < 0) {
        return;
    }

    ngx_qocr_json_str(ctx, cJSON_GetObjectItemCaseSensitive(data, key),
                      &f->value);

    if (cJSON_IsNumber(conf)) {
        f->confidence = conf->valuedouble;
        f->has_confidence = 1;
    }
}


/*
 * The bank card reply: {"code", "message", "data": {"session_id", "items":
 * [{"item", "itemstring", "itemconf", "itemcoord"}]}}, one image.  The item
 * names, in UTF-8: 卡号, 卡类型, 卡名字, 银行信息, 有效期, in the order of
 * the fields.
 */

static const char  *ngx_qocr_bank_items[] = {
    "\xe5\x8d\xa1\xe5\x8f\xb7",
    "\xe5\x8d\xa1\xe7\xb1\xbb\xe5\x9e\x8b",
    "\xe5\x8d\xa1\xe5\x90\x8d\xe5\xad\x97",
    "\xe9\x93\xb6\xe8\xa1\x8c\xe4\xbf\xa1\xe6\x81\xaf",
    "\xe6\x9c\x89\xe6\x95\x88\xe6\x9c\x9f"
};


static ngx_int_t
ngx_qocr_bankcard(ngx_pool_t *pool, ngx_log_t *log, ngx_qocr_ctx_t *ctx,
    cJSON *reply, ngx_int_t code)
{
    cJSON              *data, *items, *it, *name;
    ngx_uint_t          k;
    ngx_qocr_result_t  *r;

    data = cJSON_GetObjectItemCaseSensitive(reply, "data");
    items = cJSON_GetObjectItemCaseSensitive(data, "items");

    if (code == 0 && !cJSON_HasObjectItem(reply, "code")
        && !cJSON_IsArray(items))
    {
        return ngx_qocr_no_results(log, ctx, "no code and no items");
    }

    r = &ctx->results[0];

    ngx_qocr_json_str(ctx, cJSON_GetObjectItemCaseSensitive(data,
                                                            "session_id"),
                      &r->request_id);

    if (code != 0) {
        return ngx_qocr_item_error(pool, r, code);
    }

    if (ngx_qocr_result_fields(pool, r, NGX_QOCR_BANKCARD) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the first item of each known name; others are ignored */

    for (k = 0; k < NGX_QOCR_BC_FIELDS; k++) {

        cJSON_ArrayForEach(it, items) {
            name = cJSON_GetObjectItemCaseSensitive(it, "item");

            if (cJSON_IsString(name)
                && ngx_strcmp(name->valuestring, ngx_qocr_bank_items[k]) == 0)
            {
                ngx_qocr_bank_field(ctx, &r->fields[k], k, it);
                break;
            }
        }
    }

    return NGX_OK;
}


/*
 * The card number keeps its digits only; the bank's name and the code in
 * parentheses after it ("中国银行(01040000)") are split.
 */

static void
ngx_qocr_bank_field(ngx_qocr_ctx_t *ctx, ngx_qocr_field_t *f, ngx_uint_t key,
    cJSON *item)
{
    cJSON       *conf, *coord, *v;
    ngx_uint_t   i;

    static const char  *box_keys[] = { "x", "y", "width", "height" };

    ngx_qocr_json_str(ctx, cJSON_GetObjectItemCaseSensitive(item,
                                                            "itemstring"),
                      &f->value);

    if (key == NGX_QOCR_BC_CARD_NUMBER) {
        ngx_qocr_card_digits(&f->value);

    } else if (key == NGX_QOCR_BC_BANK && f->value.data) {
        (void) ngx_qocr_bank_code(&f->value, &f->code);
    }

    if (f->value.data == NULL) {
        return;
    }

    conf = cJSON_GetObjectItemCaseSensitive(item, "itemconf");

    if (cJSON_IsNumber(conf)) {
        f->confidence = conf->valuedouble;
        f->has_confidence = 1;
    }

    coord = cJSON_GetObjectItemCaseSensitive(item, "itemcoord");

    for (i = 0; i < 4; i++) {
        v = cJSON_GetObjectItemCaseSensitive(coord, box_keys[i]);

        if (!cJSON_IsNumber(v)) {
            return;
        }

        f->box[i] = v->valuedouble;
    }

    f->has_box = 1;
}


/* a reply of the service's shape but without results: upstream_error */

static ngx_int_t
ngx_qocr_no_results(ngx_log_t *log, ngx_qocr_ctx_t *ctx, const char *what)
{
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "qocr: the OCR service's reply has %s (HTTP status %ui)",
                  what, ctx->reply.status.code);

    ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                       "the OCR service's reply has no results", NULL);

    return NGX_DECLINED;
}


/* the OCR service's code, either sign, to a normalized error */

static ngx_qocr_err_e
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


/*
 * "code": NGX_DECLINED when there is none; a JSON integer, else
 * NGX_QOCR_NO_CODE (0.5, "7", 1e300 are not the service's codes).
 */

static ngx_int_t
ngx_qocr_code(cJSON *obj, ngx_int_t *code)
{
    cJSON   *c;
    double   d;

    c = cJSON_GetObjectItemCaseSensitive(obj, "code");

    if (c == NULL) {
        return NGX_DECLINED;
    }

    d = cJSON_IsNumber(c) ? c->valuedouble : 0.5;

    if (d != d || d > 1e9 || d < -1e9 || d != (double) (ngx_int_t) d) {
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
