
/*
 * ngx_qocr: the request sent to the OCR service (contract section 4).
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
 *   here, never the client's.
 *
 * Only these headers go upstream.  Image bytes are not copied: the chain
 * points into the client body's buffers or temp file.
 */


#include "ngx_qocr.h"

#include <openssl/rand.h>
#include <cjson/cJSON.h>


static ngx_int_t ngx_qocr_build_chain(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf, ngx_uint_t in_memory);
static ngx_int_t ngx_qocr_build_url_chain(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static u_char *ngx_qocr_part_header(u_char *p, ngx_str_t *boundary,
    ngx_qocr_ctx_t *ctx, ngx_uint_t i);
static ngx_int_t ngx_qocr_json_out(ngx_pool_t *pool, cJSON *root,
    ngx_str_t *out);
static size_t ngx_qocr_part_header_len(ngx_str_t *boundary,
    ngx_qocr_ctx_t *ctx, ngx_uint_t i);


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


ngx_int_t
ngx_qocr_create_request(ngx_http_request_t *r)
{
    u_char               *p, rnd[16 + sizeof(uint32_t)];
    uint32_t              r32;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    /*
     * One draw for a random boundary (128 bits make a collision with image
     * bytes moot) and the signature's random number.
     */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: RAND_bytes() failed");
        return NGX_ERROR;
    }

    ctx->boundary.len = NGX_QOCR_BOUNDARY_LEN;
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

    if (ngx_qocr_build_chain(r, ctx, qlcf, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->request_bufs = ctx->request_bufs;

    return NGX_OK;
}


/*
 * A retry to another server.  ngx_http_upstream_reinit() then rewinds the
 * request chain assuming at most one file in it, laid out from offset 0: true
 * of proxy's chain, not of ours, whose file parts are the images inside the
 * client temp file.  So the chain is built anew, every byte as before but
 * the boundary and signature, with the temp file parts read into memory.
 */

ngx_int_t
ngx_qocr_reinit_request(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    if (ctx == NULL) {
        return NGX_OK;
    }

    ngx_qocr_reply_init(&ctx->reply);
    ctx->err = NGX_QOCR_OK;
    ctx->item_err = NGX_QOCR_OK;
    ctx->err_text = NULL;
    ctx->upstream_code = NGX_QOCR_NO_CODE;

    r->state = 0;
    r->upstream->process_header = ngx_qocr_process_header;

    if (ngx_qocr_build_chain(r, ctx, qlcf, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->request_bufs = ctx->request_bufs;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_build_chain(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_uint_t in_memory)
{
    u_char             *p;
    off_t               body_len;
    size_t              len;
    ngx_buf_t          *b;
    ngx_str_t           boundary, auth, ret;
    ngx_uint_t          i;
    ngx_chain_t        *cl, **ll;
    ngx_qocr_image_t   *img;

    if (ctx->url_input) {
        return ngx_qocr_build_url_chain(r, ctx, qlcf);
    }

    boundary = ctx->boundary;
    auth = ctx->auth;

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

    len = sizeof("POST  HTTP/1.1" CRLF) - 1 + qlcf->uri.len
          + sizeof("Host: " CRLF) - 1 + qlcf->host.len
          + sizeof("Authorization: " CRLF) - 1 + auth.len
          + sizeof("Content-Type: multipart/form-data; boundary=" CRLF) - 1
          + boundary.len
          + sizeof("Content-Length: " CRLF) - 1 + NGX_OFF_T_LEN
          + 2
          + ngx_qocr_field_len(&boundary, "appid", &qlcf->appid)
          + ngx_qocr_field_len(&boundary, "bucket", &qlcf->bucket)
          + ngx_qocr_field_len(&boundary, "ret_image", &ret)
          + ngx_qocr_part_header_len(&boundary, ctx, 0);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p, "POST %V HTTP/1.1" CRLF
                       "Host: %V" CRLF
                       "Authorization: %V" CRLF
                       "Content-Type: multipart/form-data; boundary=%V" CRLF
                       "Content-Length: %O" CRLF CRLF,
                    &qlcf->uri, &qlcf->host, &auth, &boundary, body_len);

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

    len = sizeof("POST  HTTP/1.1" CRLF) - 1 + qlcf->uri.len
          + sizeof("Host: " CRLF) - 1 + qlcf->host.len
          + sizeof("Authorization: " CRLF) - 1 + ctx->auth.len
          + sizeof("Content-Type: application/json" CRLF) - 1
          + sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN
          + 2 + ctx->url_body.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_sprintf(b->last, "POST %V HTTP/1.1" CRLF
                                   "Host: %V" CRLF
                                   "Authorization: %V" CRLF
                                   "Content-Type: application/json" CRLF
                                   "Content-Length: %uz" CRLF CRLF "%V",
                          &qlcf->uri, &qlcf->host, &ctx->auth,
                          ctx->url_body.len, &ctx->url_body);
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


ngx_int_t
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
