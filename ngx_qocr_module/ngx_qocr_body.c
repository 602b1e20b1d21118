
/*
 * ngx_qocr: the client body (contract section 3).
 *
 * The body has been read by nginx into memory buffers, a client temp file,
 * or both.  Images are found as ranges of that body and checked here, before
 * any upstream call: count, size, emptiness and type by magic bytes.  Image
 * bytes stay where nginx put them; ngx_qocr_body_slice() makes buffers that
 * point at them.
 */


#include "ngx_qocr_body.h"
#include "ngx_qocr_json.h"
#include "ngx_qocr_multipart.h"
#include "ngx_qocr_result.h"

#include <cjson/cJSON.h>


static ngx_int_t ngx_qocr_parse_multipart(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf, ngx_str_t *boundary);
static ngx_int_t ngx_qocr_parse_raw(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_parse_urls(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_int_t ngx_qocr_add_url(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    cJSON *u, const char **bad);
static ngx_int_t ngx_qocr_check_images(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_int_t ngx_qocr_body_copy(void *data, u_char *p, size_t n);
static ngx_int_t ngx_qocr_body_feed(void *data, u_char *p, size_t n);
static void ngx_qocr_utf8_clean(ngx_str_t *s);


ngx_int_t
ngx_qocr_parse_body(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    ngx_int_t     rc;
    ngx_str_t     type, boundary;
    ngx_chain_t  *cl;

    ctx->body_size = 0;

    if (r->request_body) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            ctx->body_size += ngx_buf_size(cl->buf);
        }
    }

    if (r->headers_in.content_type == NULL) {
        ngx_qocr_set_error(ctx, NGX_QOCR_UNSUPPORTED_MEDIA_TYPE,
                           "the request has no Content-Type: send "
                           "multipart/form-data, an image, or JSON with "
                           "URLs", NULL);
        return NGX_DECLINED;
    }

    /* a copy: the boundary's quoted pairs are unescaped in place */

    type.len = r->headers_in.content_type->value.len;
    type.data = ngx_pnalloc(r->pool, type.len);
    if (type.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(type.data, r->headers_in.content_type->value.data, type.len);

    rc = ngx_qocr_multipart_boundary(&type, &boundary);

    if (rc == NGX_OK) {
        return ngx_qocr_parse_multipart(r, ctx, qlcf, &boundary);
    }

    if (rc == NGX_DECLINED) {
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST,
                           "malformed multipart body: no valid boundary in "
                           "Content-Type", NULL);
        return NGX_DECLINED;
    }

    if ((type.len >= 6 && ngx_strncasecmp(type.data, (u_char *) "image/", 6)
                          == 0)
        || (type.len >= 24
            && ngx_strncasecmp(type.data,
                               (u_char *) "application/octet-stream", 24)
               == 0))
    {
        if (ngx_qocr_parse_raw(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_qocr_check_images(r, ctx, qlcf);
    }

    if (type.len >= 16
        && ngx_strncasecmp(type.data, (u_char *) "application/json", 16) == 0
        && (type.len == 16 || type.data[16] == ';' || type.data[16] == ' '))
    {
        if (!qlcf->url_input) {
            ngx_qocr_set_error(ctx, NGX_QOCR_UNSUPPORTED_MEDIA_TYPE,
                               "URL input is off here: send the image itself",
                               NULL);
            return NGX_DECLINED;
        }

        return ngx_qocr_parse_urls(r, ctx, qlcf);
    }

    ngx_qocr_set_error(ctx, NGX_QOCR_UNSUPPORTED_MEDIA_TYPE,
                       "unsupported Content-Type: send multipart/form-data, "
                       "an image, or JSON with URLs", NULL);
    return NGX_DECLINED;
}


/*
 * {"url": "..."} or {"urls": ["...", ...]}: the OCR service fetches the
 * images, so only the URLs are checked here: absolute http(s), UTF-8, of
 * sane length.
 */

static ngx_int_t
ngx_qocr_parse_urls(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    u_char  *body, *p;

    if (ctx->body_size > NGX_QOCR_URL_BODY_MAX) {
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST,
                           "the JSON body is too large", NULL);
        return NGX_DECLINED;
    }

    body = ngx_pnalloc(r->pool, (size_t) ctx->body_size + 1);
    if (body == NULL) {
        return NGX_ERROR;
    }

    p = body;

    if (ctx->body_size
        && ngx_qocr_body_walk(r->pool, r->request_body->bufs, 0,
                              ctx->body_size, ngx_qocr_body_copy, &p,
                              r->connection->log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_qocr_parse_url_json(r->pool, body, (size_t) ctx->body_size,
                                   qlcf->max_images, ctx);
}


/*
 * The JSON body of URL input, as a plain function over a buffer (and so
 * fuzzed on its own): fills ctx->images with the URLs as sources, or sets
 * the error and returns NGX_DECLINED.
 */

ngx_int_t
ngx_qocr_parse_url_json(ngx_pool_t *pool, u_char *body, size_t len,
    ngx_uint_t max_images, ngx_qocr_ctx_t *ctx)
{
    cJSON       *json, *url, *urls, *u;
    ngx_int_t    rc;
    ngx_uint_t   n;
    const char  *bad;

    if (ngx_qocr_json_text_valid(body, len) != NGX_OK) {
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST,
                           "the body is not UTF-8, or holds a NUL", NULL);
        return NGX_DECLINED;
    }

    json = cJSON_ParseWithLength((char *) body, len);

    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST,
                           "the body is not a JSON object", NULL);
        return NGX_DECLINED;
    }

    url = cJSON_GetObjectItemCaseSensitive(json, "url");
    urls = cJSON_GetObjectItemCaseSensitive(json, "urls");
    rc = NGX_DECLINED;

    if (url && urls) {
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST,
                           "send \"url\" or \"urls\", not both", NULL);
        goto done;
    }

    if (url) {
        n = 1;

    } else if (cJSON_IsArray(urls)) {
        n = cJSON_GetArraySize(urls);

    } else {
        ngx_qocr_set_error(ctx, urls ? NGX_QOCR_BAD_REQUEST : NGX_QOCR_NO_IMAGE,
                           "send {\"url\": \"...\"} or "
                           "{\"urls\": [\"...\"]}", NULL);
        goto done;
    }

    if (n == 0) {
        ngx_qocr_set_error(ctx, NGX_QOCR_NO_IMAGE, "no URL in \"urls\"", NULL);
        goto done;
    }

    if (n > max_images) {
        ngx_qocr_set_error(ctx, NGX_QOCR_TOO_MANY_IMAGES, NULL, NULL);
        goto done;
    }

    ctx->images = ngx_array_create(pool, n, sizeof(ngx_qocr_image_t));
    if (ctx->images == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    ctx->url_input = 1;

    if (url) {
        urls = NULL;
    }

    cJSON_ArrayForEach(u, urls) {
        rc = ngx_qocr_add_url(pool, ctx, u, &bad);
        if (rc != NGX_OK) {
            goto refused;
        }
    }

    rc = url ? ngx_qocr_add_url(pool, ctx, url, &bad) : NGX_OK;

refused:

    if (rc == NGX_DECLINED) {
        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST, bad, NULL);
    }

done:

    cJSON_Delete(json);

    return rc;
}


static ngx_int_t
ngx_qocr_add_url(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx, cJSON *u,
    const char **bad)
{
    u_char            *p, *last, *host;
    size_t             len;
    ngx_qocr_image_t  *img;

    /* the body is strict UTF-8 without a NUL: so is every string of it */

    *bad = "a URL must be an absolute http:// or https:// URL";

    if (!cJSON_IsString(u)) {
        return NGX_DECLINED;
    }

    p = (u_char *) u->valuestring;
    len = ngx_strlen(p);

    if (len > NGX_QOCR_URL_MAX) {
        *bad = "a URL is longer than 2048 bytes";
        return NGX_DECLINED;
    }

    if (len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        p += 7;

    } else if (len > 8 && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0) {
        p += 8;

    } else {
        return NGX_DECLINED;
    }

    /* a host, after any user information: "http://@/x" has none */

    last = (u_char *) u->valuestring + len;
    host = p;

    while (p < last && *p != '/' && *p != '?' && *p != '#') {
        if (*p == '@') {
            host = p + 1;
        }

        p++;
    }

    if (host == p || *host == ':' || *host <= ' ') {
        *bad = "a URL must name a host";
        return NGX_DECLINED;
    }

    img = ngx_array_push(ctx->images);
    if (img == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(img, sizeof(ngx_qocr_image_t));

    img->source.len = len;
    img->source.data = ngx_pnalloc(pool, len + 1);
    if (img->source.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(img->source.data, u->valuestring, len + 1);
    img->has_source = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_parse_multipart(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *boundary)
{
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_qocr_part_t       *part;
    ngx_qocr_image_t      *img;
    ngx_qocr_multipart_t   mp;

    rc = ngx_qocr_multipart_init(&mp, r->pool, boundary,
                                 qlcf->max_images + 1);

    if (rc == NGX_OK && ctx->body_size) {
        rc = ngx_qocr_body_walk(r->pool, r->request_body->bufs, 0,
                                ctx->body_size, ngx_qocr_body_feed, &mp,
                                r->connection->log);
    }

    if (rc == NGX_OK) {
        rc = ngx_qocr_multipart_finish(&mp);
    }

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "qocr: %s",
                      mp.error);

        ngx_qocr_set_error(ctx, NGX_QOCR_BAD_REQUEST, mp.error, NULL);
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    if (mp.nfiles > qlcf->max_images) {
        ngx_qocr_set_error(ctx, NGX_QOCR_TOO_MANY_IMAGES, NULL, NULL);
        return NGX_DECLINED;
    }

    ctx->images = ngx_array_create(r->pool, mp.parts->nelts + 1,
                                   sizeof(ngx_qocr_image_t));
    if (ctx->images == NULL) {
        return NGX_ERROR;
    }

    part = mp.parts->elts;

    for (i = 0; i < mp.parts->nelts; i++) {
        img = ngx_array_push(ctx->images);
        if (img == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(img, sizeof(ngx_qocr_image_t));

        img->start = part[i].start;
        img->size = part[i].end - part[i].start;
        img->source = part[i].filename;
        img->has_source = 1;

        ngx_qocr_utf8_clean(&img->source);
    }

    return ngx_qocr_check_images(r, ctx, qlcf);
}


static ngx_int_t
ngx_qocr_body_feed(void *data, u_char *p, size_t n)
{
    return ngx_qocr_multipart_feed(data, p, n);
}


static ngx_int_t
ngx_qocr_parse_raw(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_qocr_image_t  *img;

    ctx->images = ngx_array_create(r->pool, 1, sizeof(ngx_qocr_image_t));
    if (ctx->images == NULL) {
        return NGX_ERROR;
    }

    img = ngx_array_push(ctx->images);
    if (img == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(img, sizeof(ngx_qocr_image_t));

    img->start = 0;
    img->size = ctx->body_size;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_check_images(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    u_char             magic[NGX_QOCR_MAGIC_LEN], *p;
    size_t             n;
    ngx_uint_t         i;
    const char        *refused;
    ngx_qocr_image_t  *img;

    if (ctx->images->nelts == 0) {
        ngx_qocr_set_error(ctx, NGX_QOCR_NO_IMAGE,
                           "no image in the request: send files as "
                           "multipart/form-data parts with a filename", NULL);
        return NGX_DECLINED;
    }

    if (ctx->images->nelts > qlcf->max_images) {
        ngx_qocr_set_error(ctx, NGX_QOCR_TOO_MANY_IMAGES, NULL, NULL);
        return NGX_DECLINED;
    }

    img = ctx->images->elts;

    for (i = 0; i < ctx->images->nelts; i++) {

        if (img[i].size == 0) {
            ngx_qocr_set_error(ctx, NGX_QOCR_IMAGE_EMPTY, NULL, NULL);
            return NGX_DECLINED;
        }

        if (img[i].size > qlcf->max_image_size) {
            ngx_qocr_set_error(ctx, NGX_QOCR_IMAGE_TOO_LARGE, NULL, NULL);
            return NGX_DECLINED;
        }

        n = (size_t) ngx_min(img[i].size, NGX_QOCR_MAGIC_LEN);

        p = magic;

        if (ngx_qocr_body_walk(r->pool, r->request_body->bufs, img[i].start,
                               n, ngx_qocr_body_copy, &p, r->connection->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        refused = ngx_qocr_image_type(magic, n, &img[i].type, &img[i].ext);

        if (refused == NULL) {
            refused = qlcf->api->refuse_type(qlcf->kind, &img[i].ext);
        }

        if (refused) {
            ngx_qocr_set_error(ctx, NGX_QOCR_UNSUPPORTED_MEDIA_TYPE, refused,
                               NULL);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * The image type by its first bytes.  Returns NULL for an image, or the
 * reason it is refused.
 */

const char *
ngx_qocr_image_type(u_char *p, size_t n, ngx_str_t *type, ngx_str_t *ext)
{
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        ngx_str_set(type, "image/jpeg");
        ngx_str_set(ext, "jpg");
        return NULL;
    }

    if (n >= 8 && ngx_memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        ngx_str_set(type, "image/png");
        ngx_str_set(ext, "png");
        return NULL;
    }

    if (n >= 6 && (ngx_memcmp(p, "GIF87a", 6) == 0
                   || ngx_memcmp(p, "GIF89a", 6) == 0))
    {
        ngx_str_set(type, "image/gif");
        ngx_str_set(ext, "gif");
        return NULL;
    }

    if (n >= 12 && ngx_memcmp(p, "RIFF", 4) == 0
        && ngx_memcmp(p + 8, "WEBP", 4) == 0)
    {
        ngx_str_set(type, "image/webp");
        ngx_str_set(ext, "webp");
        return NULL;
    }

    if (n >= 4 && (ngx_memcmp(p, "II*\0", 4) == 0
                   || ngx_memcmp(p, "MM\0*", 4) == 0))
    {
        ngx_str_set(type, "image/tiff");
        ngx_str_set(ext, "tif");
        return NULL;
    }

    if (n >= 6 && p[0] == 'B' && p[1] == 'M') {
        ngx_str_set(type, "image/bmp");
        ngx_str_set(ext, "bmp");
        return NULL;
    }

    return "not an image: JPEG, PNG, BMP, WEBP, TIFF or GIF expected";
}


/*
 * Hands size bytes of the body from offset start to the handler, piece by
 * piece: nginx's own memory buffers as they are, its temp file read in
 * chunks of 64 kB.  Returns NGX_OK, or what stopped the walk: the
 * handler's code, NGX_ERROR when the file cannot be read.
 */

ngx_int_t
ngx_qocr_body_walk(ngx_pool_t *pool, ngx_chain_t *body, off_t start,
    off_t size, ngx_qocr_body_pt handler, void *data, ngx_log_t *log)
{
    off_t        off, bsize, skip, n;
    u_char      *chunk;
    ssize_t      rd;
    ngx_int_t    rc;
    ngx_buf_t   *b;

    chunk = NULL;
    rc = NGX_OK;
    off = 0;

    for ( /* void */ ; body && size && rc == NGX_OK; body = body->next) {
        b = body->buf;
        bsize = ngx_buf_size(b);

        if (start >= off + bsize) {
            off += bsize;
            continue;
        }

        skip = start - off;
        n = ngx_min(size, bsize - skip);

        size -= n;
        start += n;
        off += bsize;

        if (ngx_buf_in_memory(b)) {
            rc = handler(data, b->pos + skip, (size_t) n);
            continue;
        }

        if (chunk == NULL) {
            chunk = ngx_pnalloc(pool, 65536);
            if (chunk == NULL) {
                return NGX_ERROR;
            }
        }

        for (skip += b->file_pos; n && rc == NGX_OK; n -= rd, skip += rd) {
            rd = ngx_read_file(b->file, chunk,
                               (size_t) ngx_min(n, 65536), skip);

            if (rd == NGX_ERROR || rd == 0) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "qocr: cannot read the client body temp file");
                rc = NGX_ERROR;
                break;
            }

            rc = handler(data, chunk, (size_t) rd);
        }
    }

    if (chunk) {
        ngx_pfree(pool, chunk);
    }

    if (rc == NGX_OK && size) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "qocr: the client body is shorter than expected");
        return NGX_ERROR;
    }

    return rc;
}


/* data: where to copy to, moved on */

static ngx_int_t
ngx_qocr_body_copy(void *data, u_char *p, size_t n)
{
    u_char  **dst = data;

    *dst = ngx_cpymem(*dst, p, n);

    return NGX_OK;
}


/*
 * Appends to *last buffers that point at size bytes of the body at offset
 * start: parts of nginx's own memory buffers or of its temp file.  With
 * in_memory set, bytes from the temp file are read into new memory
 * buffers instead (the retry case, see ngx_qocr_reinit_request()).
 */

ngx_int_t
ngx_qocr_body_slice(ngx_pool_t *pool, ngx_chain_t *body, off_t start,
    off_t size, ngx_chain_t ***last, ngx_uint_t in_memory, ngx_log_t *log)
{
    off_t         off, bsize, skip, n;
    ngx_buf_t    *b, *sb;
    ngx_chain_t  *cl;

    off = 0;

    for ( /* void */ ; body && size; body = body->next) {
        b = body->buf;
        bsize = ngx_buf_size(b);

        if (start >= off + bsize) {
            off += bsize;
            continue;
        }

        skip = start - off;
        n = ngx_min(size, bsize - skip);

        if (ngx_buf_in_memory(b)) {
            sb = ngx_calloc_buf(pool);
            if (sb == NULL) {
                return NGX_ERROR;
            }

            sb->start = b->pos + skip;
            sb->pos = sb->start;
            sb->last = sb->start + n;
            sb->end = sb->last;
            sb->memory = 1;

        } else if (in_memory) {
            sb = ngx_create_temp_buf(pool, (size_t) n);
            if (sb == NULL) {
                return NGX_ERROR;
            }

            if (ngx_read_file(b->file, sb->pos, (size_t) n,
                              b->file_pos + skip)
                != (ssize_t) n)
            {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "qocr: cannot read the client body temp file");
                return NGX_ERROR;
            }

            sb->last = sb->pos + n;

        } else {
            sb = ngx_calloc_buf(pool);
            if (sb == NULL) {
                return NGX_ERROR;
            }

            sb->in_file = 1;
            sb->file = b->file;
            sb->file_pos = b->file_pos + skip;
            sb->file_last = sb->file_pos + n;
        }

        cl = ngx_alloc_chain_link(pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = sb;
        cl->next = NULL;
        **last = cl;
        *last = &cl->next;

        size -= n;
        start += n;
        off += bsize;
    }

    return size ? NGX_ERROR : NGX_OK;
}


/*
 * Replaces bytes that are not strict UTF-8, and control characters, with
 * "?" so the JSON answer stays valid.
 */

static void
ngx_qocr_utf8_clean(ngx_str_t *s)
{
    u_char  *p, *q, *last;

    p = s->data;
    last = p + s->len;

    while (p < last) {
        q = p;

        if (ngx_qocr_utf8_next(&p, last) == 0xffffffff || *q < 0x20) {
            *q = '?';
        }
    }
}
