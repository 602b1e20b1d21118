
/*
 * ngx_qocr: the OCR service's HTTP/1.x reply.
 *
 * The status line and headers are parsed with nginx's own parsers, as the
 * proxy module does; the body (Content-Length, chunked or closed by the
 * server) is collected into one buffer of at most qocr_max_response_size
 * bytes by the input filter, and nothing of it goes to the client as is:
 * the filter in ngx_qocr_output.c answers with the normalized JSON once the
 * whole reply is known.
 */


#include "ngx_qocr.h"


static ngx_int_t ngx_qocr_process_header(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_reply_too_large(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);


static ngx_int_t
ngx_qocr_invalid_reply(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    const char *what)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "qocr: the OCR service sent %s", what);

    ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                       "the OCR service sent an invalid reply", 0);

    return NGX_HTTP_UPSTREAM_INVALID_HEADER;
}


ngx_int_t
ngx_qocr_process_status_line(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_http_upstream_t  *u;
    ngx_qocr_ctx_t       *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    u = r->upstream;

    ctx->reply.got_bytes = 1;

    rc = ngx_http_parse_status_line(r, &u->buffer, &ctx->reply.status);

    if (rc == NGX_AGAIN) {
        return rc;
    }

    if (rc == NGX_ERROR || ctx->reply.status.code < 200) {
        return ngx_qocr_invalid_reply(r, ctx, "no valid HTTP/1.x status line");
    }

    if (u->state && u->state->status == 0) {
        u->state->status = ctx->reply.status.code;
    }

    u->headers_in.status_n = ctx->reply.status.code;

    u->process_header = ngx_qocr_process_header;

    return ngx_qocr_process_header(r);
}


static ngx_int_t
ngx_qocr_process_header(ngx_http_request_t *r)
{
    size_t                n;
    ngx_str_t             name, value;
    ngx_int_t             rc;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_reply_t     *reply;
    ngx_http_upstream_t  *u;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    u = r->upstream;
    reply = &ctx->reply;

    for ( ;; ) {

        rc = ngx_http_parse_header_line(r, &u->buffer, 1);

        if (rc == NGX_OK) {
            name.data = r->header_name_start;
            name.len = r->header_name_end - r->header_name_start;
            value.data = r->header_start;
            value.len = r->header_end - r->header_start;

            if (name.len == 14
                && ngx_strncasecmp(name.data, (u_char *) "content-length",
                                   14) == 0)
            {
                if (reply->content_length != -1) {
                    return ngx_qocr_invalid_reply(r, ctx,
                                           "duplicate Content-Length headers");
                }

                reply->content_length = ngx_atoof(value.data, value.len);

                if (reply->content_length == NGX_ERROR) {
                    return ngx_qocr_invalid_reply(r, ctx,
                                               "an invalid Content-Length");
                }

            } else if (name.len == 17
                       && ngx_strncasecmp(name.data,
                                          (u_char *) "transfer-encoding", 17)
                          == 0)
            {
                if (value.len == 7
                    && ngx_strncasecmp(value.data, (u_char *) "chunked", 7)
                       == 0)
                {
                    reply->is_chunked = 1;

                } else {
                    return ngx_qocr_invalid_reply(r, ctx,
                                           "an unknown Transfer-Encoding");
                }

            } else if (name.len == 10
                       && ngx_strncasecmp(name.data, (u_char *) "connection",
                                          10) == 0)
            {
                if (ngx_strlcasestrn(value.data, value.data + value.len,
                                     (u_char *) "close", 5 - 1)
                    != NULL)
                {
                    reply->connection_close = 1;
                }

            } else if (name.len == 11
                       && ngx_strncasecmp(name.data, (u_char *) "retry-after",
                                          11) == 0)
            {
                n = ngx_min(value.len, 32);

                reply->retry_after.data = ngx_pnalloc(r->pool, n);
                if (reply->retry_after.data == NULL) {
                    return NGX_ERROR;
                }

                reply->retry_after.len = n;
                ngx_memcpy(reply->retry_after.data, value.data, n);
            }

            continue;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_HTTP_PARSE_HEADER_DONE) {
            return ngx_qocr_invalid_reply(r, ctx, "an invalid header");
        }

        break;
    }

    if (reply->is_chunked && reply->content_length != -1) {
        return ngx_qocr_invalid_reply(r, ctx,
                           "both Content-Length and Transfer-Encoding");
    }

    reply->header_done = 1;

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    if (reply->content_length > (off_t) qlcf->max_response_size) {
        return ngx_qocr_reply_too_large(r, ctx);
    }

    if (reply->content_length > 0) {
        reply->data = ngx_pnalloc(r->pool, (size_t) reply->content_length);
        if (reply->data == NULL) {
            return NGX_ERROR;
        }

        reply->size = (size_t) reply->content_length;
    }

    return NGX_OK;
}


ngx_int_t
ngx_qocr_input_filter_init(void *data)
{
    ngx_http_request_t  *r = data;

    ngx_qocr_ctx_t       *ctx;
    ngx_http_upstream_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    u = r->upstream;

    if (ctx->err != NGX_QOCR_OK) {
        /* the reply is refused already (too large): read no more of it */
        u->length = 0;
        u->keepalive = 0;
        return NGX_OK;
    }

    if (ctx->reply.status.code == NGX_HTTP_NO_CONTENT
        || ctx->reply.status.code == NGX_HTTP_NOT_MODIFIED
        || ctx->reply.content_length == 0)
    {
        u->length = 0;
        u->keepalive = !ctx->reply.connection_close;
        return NGX_OK;
    }

    if (ctx->reply.is_chunked) {
        /* not -1: a connection closed before the last chunk is an error */
        u->length = 1;

    } else {
        u->length = ctx->reply.content_length;
    }

    return NGX_OK;
}


ngx_int_t
ngx_qocr_input_filter(void *data, ssize_t bytes)
{
    ngx_http_request_t  *r = data;

    size_t                n;
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_uint_t            extra;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_reply_t     *reply;
    ngx_http_upstream_t  *u;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);
    u = r->upstream;
    reply = &ctx->reply;

    b = &u->buffer;
    b->pos = b->last;
    b->last += bytes;

    if (ctx->err != NGX_QOCR_OK || u->length == 0) {
        /* anything after a refused or complete reply is dropped */
        u->keepalive = 0;
        b->pos = b->last;
        return NGX_OK;
    }

    if (!reply->is_chunked) {
        n = b->last - b->pos;
        extra = 0;

        if (u->length != -1 && (off_t) n > u->length) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "qocr: the OCR service sent more data than "
                          "its Content-Length");
            n = (size_t) u->length;
            extra = 1;
        }

        rc = ngx_qocr_reply_append(reply, r->pool, b->pos, n,
                                   qlcf->max_response_size);
        if (rc != NGX_OK) {
            return (rc == NGX_ERROR) ? NGX_ERROR
                                     : ngx_qocr_reply_too_large(r, ctx);
        }

        b->pos = b->last;

        if (u->length != -1) {
            u->length -= n;

            if (u->length == 0) {
                u->keepalive = !reply->connection_close && !extra;
            }
        }

        return NGX_OK;
    }

    for ( ;; ) {

        rc = ngx_http_parse_chunked(r, b, &reply->chunked);

        if (rc == NGX_OK) {
            n = (size_t) ngx_min(reply->chunked.size, b->last - b->pos);

            rc = ngx_qocr_reply_append(reply, r->pool, b->pos, n,
                                       qlcf->max_response_size);
            if (rc != NGX_OK) {
                return (rc == NGX_ERROR) ? NGX_ERROR
                                         : ngx_qocr_reply_too_large(r, ctx);
            }

            b->pos += n;
            reply->chunked.size -= n;
            continue;
        }

        if (rc == NGX_DONE) {
            u->length = 0;
            u->keepalive = !reply->connection_close && b->pos == b->last;
            b->pos = b->last;
            break;
        }

        if (rc == NGX_AGAIN) {
            break;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "qocr: the OCR service sent an invalid chunked body");

        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service sent an invalid reply", 0);
        u->length = 0;
        u->keepalive = 0;
        b->pos = b->last;
        break;
    }

    return NGX_OK;
}


/*
 * Appends n bytes to the reply; its buffer grows twofold up to max bytes.
 */

ngx_int_t
ngx_qocr_reply_append(ngx_qocr_reply_t *reply, ngx_pool_t *pool, u_char *p,
    size_t n, size_t max)
{
    size_t   size;
    u_char  *data;

    if (n == 0) {
        return NGX_OK;
    }

    if (reply->len + n > max) {
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


static ngx_int_t
ngx_qocr_reply_too_large(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_http_upstream_t  *u;
    ngx_qocr_loc_conf_t  *qlcf;

    u = r->upstream;
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "qocr: the OCR service's reply is larger than "
                  "qocr_max_response_size %uz", qlcf->max_response_size);

    ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                       "the OCR service's reply is larger than "
                       "qocr_max_response_size", 0);

    /* stop reading: the filter answers with the error above */

    u->length = 0;
    u->keepalive = 0;
    u->buffer.pos = u->buffer.last;

    return NGX_OK;
}


void
ngx_qocr_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort qocr request");
}


void
ngx_qocr_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_qocr_ctx_t       *ctx;
    ngx_http_upstream_t  *u;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize qocr request: %i", rc);

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    u = r->upstream;

    if (ctx == NULL || rc == NGX_DECLINED) {
        return;
    }

    if (rc == 0) {
        /* all of the body: Content-Length, last chunk or closed */
        ctx->reply.complete = ctx->reply.header_done;
        return;
    }

    if (rc == NGX_HTTP_GATEWAY_TIME_OUT && ctx->err == NGX_QOCR_OK) {
        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_TIMEOUT, NULL, 0);

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE && ctx->err == NGX_QOCR_OK) {

        if (ctx->reply.got_bytes) {
            ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                               ctx->reply.header_done
                               ? "the OCR service's reply is incomplete"
                               : "the OCR service sent an invalid reply", 0);

        } else {
            ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_UNAVAILABLE, NULL, 0);
        }
    }

    if (u->header_sent && ctx->held && !ctx->sent
        && rc >= NGX_HTTP_SPECIAL_RESPONSE)
    {
        /*
         * The reply broke after its header, which the filter kept from the
         * client: nothing has reached the client yet, so nginx may finalize
         * the request as if no header had been sent, and the filter turns
         * its error response into our JSON.
         */

        u->header_sent = 0;
        r->header_sent = 0;
        ctx->held = 0;
    }
}
