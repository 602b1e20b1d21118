
/*
 * ngx_qocr: the OCR service's HTTP/1.x reply, parsed by plain functions over
 * a buffer.
 *
 * The status line and headers go through nginx's own parsers, as in the
 * proxy module; the request only lends them their state (r->state and the
 * header positions) and its pool.  The body, with Content-Length, chunked,
 * or ended by the server closing, is collected into one buffer of at most
 * "max" bytes.  ngx_qocr_upstream.c drives these from the upstream
 * callbacks; the fuzzers drive them directly.
 */


#include "ngx_qocr_reply.h"


static ngx_int_t ngx_qocr_reply_header_line(ngx_http_request_t *r,
    ngx_qocr_reply_t *reply, const char **error);
static ngx_int_t ngx_qocr_reply_append(ngx_qocr_reply_t *reply,
    ngx_pool_t *pool, u_char *p, size_t n, size_t max, const char **error);


void
ngx_qocr_reply_init(ngx_qocr_reply_t *reply)
{
    ngx_memzero(reply, sizeof(ngx_qocr_reply_t));
    reply->content_length = -1;
}


/* NGX_OK: the header is complete */

ngx_int_t
ngx_qocr_reply_parse_header(ngx_http_request_t *r, ngx_qocr_reply_t *reply,
    ngx_buf_t *b, size_t max, const char **error)
{
    ngx_int_t  rc;

    *error = NULL;

    if (b->pos < b->last) {
        reply->got_bytes = 1;
    }

    for ( ;; ) {

        if (!reply->status_done) {

            rc = ngx_http_parse_status_line(r, b, &reply->status);

            if (rc == NGX_AGAIN) {
                return NGX_AGAIN;
            }

            if (rc == NGX_ERROR || reply->status.code < 100
                || reply->status.code == NGX_HTTP_SWITCHING_PROTOCOLS)
            {
                *error = "no valid HTTP/1.x status line";
                return NGX_DECLINED;
            }

            reply->status_done = 1;
        }

        for ( ;; ) {

            rc = ngx_http_parse_header_line(r, b, 1);

            if (rc == NGX_OK) {
                if (reply->status.code < 200) {
                    continue;
                }

                rc = ngx_qocr_reply_header_line(r, reply, error);

                if (rc != NGX_OK) {
                    return rc;
                }

                continue;
            }

            if (rc == NGX_AGAIN) {
                return NGX_AGAIN;
            }

            if (rc != NGX_HTTP_PARSE_HEADER_DONE) {
                *error = "an invalid header";
                return NGX_DECLINED;
            }

            break;
        }

        if (reply->status.code >= 200) {
            break;
        }

        /* an interim reply (100 Continue, 103 Early Hints): skipped */

        ngx_memzero(&reply->status, sizeof(ngx_http_status_t));
        reply->status_done = 0;
    }

    /* only an HTTP/1.1 reply without "Connection: close" may be kept */

    if (reply->status.http_version < NGX_HTTP_VERSION_11) {
        reply->connection_close = 1;
    }

    if (reply->is_chunked && reply->content_length != -1) {
        *error = "both Content-Length and Transfer-Encoding";
        return NGX_DECLINED;
    }

    reply->header_done = 1;

    if (reply->status.code == NGX_HTTP_NO_CONTENT
        || reply->status.code == NGX_HTTP_NOT_MODIFIED)
    {
        reply->content_length = 0;
    }

    if (reply->content_length > (off_t) max) {
        reply->too_large = 1;
        *error = "a reply larger than allowed";
        return NGX_DECLINED;
    }

    if (reply->content_length > 0) {
        reply->data = ngx_pnalloc(r->pool, (size_t) reply->content_length);
        if (reply->data == NULL) {
            return NGX_ERROR;
        }

        reply->size = (size_t) reply->content_length;
    }

    reply->remaining = reply->content_length;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_reply_header_line(ngx_http_request_t *r, ngx_qocr_reply_t *reply,
    const char **error)
{
    size_t     n;
    ngx_str_t  name, value;

    name.data = r->header_name_start;
    name.len = r->header_name_end - r->header_name_start;
    value.data = r->header_start;
    value.len = r->header_end - r->header_start;

    if (name.len == 14
        && ngx_strncasecmp(name.data, (u_char *) "content-length", 14) == 0)
    {
        if (reply->content_length != -1) {
            *error = "duplicate Content-Length headers";
            return NGX_DECLINED;
        }

        reply->content_length = ngx_atoof(value.data, value.len);

        if (reply->content_length == NGX_ERROR) {
            *error = "an invalid Content-Length";
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (name.len == 17
        && ngx_strncasecmp(name.data, (u_char *) "transfer-encoding", 17)
           == 0)
    {
        if (value.len != 7
            || ngx_strncasecmp(value.data, (u_char *) "chunked", 7) != 0)
        {
            *error = "an unknown Transfer-Encoding";
            return NGX_DECLINED;
        }

        reply->is_chunked = 1;
        return NGX_OK;
    }

    if (name.len == 10
        && ngx_strncasecmp(name.data, (u_char *) "connection", 10) == 0)
    {
        if (ngx_strlcasestrn(value.data, value.data + value.len,
                             (u_char *) "close", 5 - 1)
            != NULL)
        {
            reply->connection_close = 1;
        }

        return NGX_OK;
    }

    if (name.len == 11
        && ngx_strncasecmp(name.data, (u_char *) "retry-after", 11) == 0)
    {
        n = ngx_min(value.len, 32);

        reply->retry_after.data = ngx_pnalloc(r->pool, n);
        if (reply->retry_after.data == NULL) {
            return NGX_ERROR;
        }

        reply->retry_after.len = n;
        ngx_memcpy(reply->retry_after.data, value.data, n);
    }

    return NGX_OK;
}


/*
 * Takes the body bytes in [b->pos, b->last) and moves b->pos past what it
 * used.  NGX_DONE: the body is complete (reply->extra is set when bytes
 * followed it); NGX_AGAIN: more to come (for a body ended by closing,
 * always).
 */

ngx_int_t
ngx_qocr_reply_parse_body(ngx_http_request_t *r, ngx_qocr_reply_t *reply,
    ngx_buf_t *b, size_t max, const char **error)
{
    size_t     n;
    ngx_int_t  rc;

    *error = NULL;

    if (!reply->is_chunked) {

        n = b->last - b->pos;

        if (reply->remaining != -1 && (off_t) n > reply->remaining) {
            n = (size_t) reply->remaining;
            reply->extra = 1;
        }

        rc = ngx_qocr_reply_append(reply, r->pool, b->pos, n, max, error);
        if (rc != NGX_OK) {
            return rc;
        }

        b->pos += n;

        if (reply->remaining == -1) {
            return NGX_AGAIN;
        }

        reply->remaining -= n;

        return reply->remaining ? NGX_AGAIN : NGX_DONE;
    }

    for ( ;; ) {

#if (nginx_version >= 1027002)
        /* 1.27.2 added keep_trailers (proxy_pass_trailers): 0 skips them */
        rc = ngx_http_parse_chunked(r, b, &reply->chunked, 0);
#else
        rc = ngx_http_parse_chunked(r, b, &reply->chunked);
#endif

        if (rc == NGX_OK) {
            n = (size_t) ngx_min(reply->chunked.size, b->last - b->pos);

            rc = ngx_qocr_reply_append(reply, r->pool, b->pos, n, max, error);
            if (rc != NGX_OK) {
                return rc;
            }

            b->pos += n;
            reply->chunked.size -= n;
            continue;
        }

        if (rc == NGX_DONE) {
            reply->extra = (b->pos != b->last);
            return NGX_DONE;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        *error = "an invalid chunked body";
        return NGX_DECLINED;
    }
}


/* appends n bytes to the reply; its buffer grows twofold up to max bytes */

static ngx_int_t
ngx_qocr_reply_append(ngx_qocr_reply_t *reply, ngx_pool_t *pool, u_char *p,
    size_t n, size_t max, const char **error)
{
    size_t   size;
    u_char  *data;

    if (n == 0) {
        return NGX_OK;
    }

    if (reply->len + n > max) {
        reply->too_large = 1;
        *error = "a reply larger than allowed";
        return NGX_DECLINED;
    }

    if (reply->len + n > reply->size) {
        size = ngx_max(reply->size * 2, 4096);

        while (size < reply->len + n) {
            size *= 2;
        }

        size = ngx_min(size, max);

        data = ngx_pnalloc(pool, size);
        if (data == NULL) {
            return NGX_ERROR;
        }

        if (reply->len) {
            ngx_memcpy(data, reply->data, reply->len);
            ngx_pfree(pool, reply->data);
        }

        reply->data = data;
        reply->size = size;
    }

    ngx_memcpy(reply->data + reply->len, p, n);
    reply->len += n;

    return NGX_OK;
}
