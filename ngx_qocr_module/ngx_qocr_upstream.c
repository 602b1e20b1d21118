
/*
 * ngx_qocr: the upstream callbacks of one OCR call (ngx_http_upstream, as
 * nginx's memcached and grpc modules use it): the main request's under the
 * legacy API, each subrequest's of an API 3.0 batch.  The API's own
 * functions build the request and read the reply.
 *
 * process_header feeds the OCR service's reply to the parsers of
 * ngx_qocr_reply.c: the header and, when its length is known (Content-Length
 * or chunked), the body too, so that nginx's own next-upstream logic can
 * act on the reply's code (code 15, rate limited, counts as HTTP 429 for
 * "qocr_next_upstream http_429").  A body ended by the server closing is
 * read by the input filter.  Nothing of the reply goes to the client as is:
 * the filter in ngx_qocr_filter.c answers with the normalized JSON once the
 * whole reply is known.
 */


#include "ngx_qocr_upstream.h"
#include "ngx_qocr_result.h"


static ngx_int_t ngx_qocr_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_reinit_request(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_process_header(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_input_filter_init(void *data);
static ngx_int_t ngx_qocr_input_filter(void *data, ssize_t bytes);
static void ngx_qocr_abort_request(ngx_http_request_t *r);
static void ngx_qocr_finalize_request(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_qocr_invalid_reply(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, const char *what);
static void ngx_qocr_reply_too_large(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static void ngx_qocr_read_timer(ngx_http_upstream_t *u);


ngx_int_t
ngx_qocr_upstream_start(ngx_http_request_t *r, ngx_qocr_loc_conf_t *qlcf)
{
    ngx_http_upstream_t  *u;

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_ERROR;
    }

    u = r->upstream;

    ngx_str_set(&u->schema, "http://");

#if (NGX_HTTP_SSL)
    if (qlcf->upstream.ssl) {
        u->ssl = 1;
        u->ssl_name = qlcf->host;
        ngx_str_set(&u->schema, "https://");
    }
#endif

    u->output.tag = (ngx_buf_tag_t) &ngx_http_qocr_module;
    u->conf = &qlcf->upstream;
    u->buffering = 0;

    u->create_request = ngx_qocr_create_request;
    u->reinit_request = ngx_qocr_reinit_request;
    u->process_header = ngx_qocr_process_header;
    u->abort_request = ngx_qocr_abort_request;
    u->finalize_request = ngx_qocr_finalize_request;

    u->input_filter_init = ngx_qocr_input_filter_init;
    u->input_filter = ngx_qocr_input_filter;
    u->input_filter_ctx = r;

    ngx_http_upstream_init(r);

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_create_request(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx->conf->api->create_request(r, ctx, ctx->conf) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->request_bufs = ctx->request_bufs;
    ctx->sent = ctx->count;

    return NGX_OK;
}


/* a retry to another server: the same request, a new reply */

static ngx_int_t
ngx_qocr_reinit_request(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL) {
        return NGX_OK;
    }

    ngx_qocr_reply_init(&ctx->reply);
    ngx_qocr_set_error(ctx, NGX_QOCR_OK, NULL, NULL);

    r->state = 0;
    r->upstream->process_header = ngx_qocr_process_header;

    if (ctx->conf->api->reinit_request(r, ctx, ctx->conf) != NGX_OK) {
        return NGX_ERROR;
    }

    r->upstream->request_bufs = ctx->request_bufs;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_process_header(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    const char           *error;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_reply_t     *reply;
    ngx_http_upstream_t  *u;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);
    u = r->upstream;
    reply = &ctx->reply;

    if (!reply->header_done) {
        rc = ngx_qocr_reply_parse_header(r, reply, &u->buffer,
                                         qlcf->max_response_size, &error);

        if (reply->status.code >= 200 && u->state
            && u->state->status == 0)
        {
            u->state->status = reply->status.code;
        }

        switch (rc) {

        case NGX_AGAIN:
            ngx_qocr_read_timer(u);
            return NGX_AGAIN;

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_DECLINED:
            if (!reply->too_large) {
                ngx_qocr_invalid_reply(r, ctx, error);
                return NGX_HTTP_UPSTREAM_INVALID_HEADER;
            }

            /* the filter answers with the error: the body is not read */
            ngx_qocr_reply_too_large(r, ctx);
            goto done;
        }

        if (!reply->is_chunked && reply->remaining == -1) {
            /* ended by the server closing: the input filter reads it */
            goto done;
        }
    }

    rc = ngx_qocr_reply_parse_body(r, reply, &u->buffer,
                                   qlcf->max_response_size, &error);

    switch (rc) {

    case NGX_AGAIN:
        /* the bytes were taken: the buffer is free for the next ones */
        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;
        ngx_qocr_read_timer(u);
        return NGX_AGAIN;

    case NGX_DECLINED:
        if (!reply->too_large) {
            ngx_qocr_invalid_reply(r, ctx, error);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        ngx_qocr_reply_too_large(r, ctx);
        goto done;

    case NGX_ERROR:
        return NGX_ERROR;
    }

    /* NGX_DONE: what may follow the body is left for the input filter */

    reply->body_done = 1;

    if ((qlcf->upstream.next_upstream & NGX_HTTP_UPSTREAM_FT_HTTP_429)
        && u->peer.tries > 1
        && qlcf->api->rate_limited(ctx))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "qocr: the OCR service is rate limiting, "
                      "trying the next server");

        u->headers_in.status_n = NGX_HTTP_TOO_MANY_REQUESTS;
        return NGX_OK;
    }

done:

    u->headers_in.status_n = reply->status.code;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_input_filter_init(void *data)
{
    ngx_http_request_t  *r = data;

    ngx_qocr_ctx_t       *ctx;
    ngx_http_upstream_t  *u;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    u = r->upstream;

    if (ctx->err != NGX_QOCR_OK) {
        u->length = 0;
        u->keepalive = 0;
        return NGX_OK;
    }

    if (ctx->reply.body_done) {
        /*
         * read whole by process_header; bytes after it (reply.extra: left
         * in the buffer) are dropped, and so is the connection
         */

        u->length = 0;
        u->keepalive = !ctx->reply.connection_close && !ctx->reply.extra;

        if (ctx->reply.extra) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "qocr: the OCR service sent data after its reply");
        }

        return NGX_OK;
    }

    /* a body ended by the server closing */

    u->length = -1;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_input_filter(void *data, ssize_t bytes)
{
    ngx_http_request_t  *r = data;

    ngx_int_t             rc;
    ngx_buf_t            *b;
    const char           *error;
    ngx_qocr_ctx_t       *ctx;
    ngx_http_upstream_t  *u;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);
    u = r->upstream;

    b = &u->buffer;
    b->pos = b->last;
    b->last += bytes;

    if (ctx->err != NGX_QOCR_OK || u->length == 0) {
        /* anything after a refused or complete reply is dropped */
        u->keepalive = 0;
        b->pos = b->last;
        return NGX_OK;
    }

    /* a body ended by the server closing: every byte is the body */

    rc = ngx_qocr_reply_parse_body(r, &ctx->reply, b, qlcf->max_response_size,
                                   &error);
    b->pos = b->last;

    if (rc == NGX_DECLINED) {
        /* a body ended by closing is not framed: only its size is wrong */
        ngx_qocr_reply_too_large(r, ctx);

    } else if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * nginx arms the read timer once for a reply's header, and process_header
 * reads whole bodies too: re-armed at every read, qocr_read_timeout is
 * the time between two reads, as for proxy's body.
 */

static void
ngx_qocr_read_timer(ngx_http_upstream_t *u)
{
    ngx_add_timer(u->peer.connection->read, u->conf->read_timeout);
}


static void
ngx_qocr_invalid_reply(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    const char *what)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "qocr: the OCR service sent %s", what);

    ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                       "the OCR service sent an invalid reply", NULL);
}


static void
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
                       "qocr_max_response_size", NULL);

    /* stop reading: the filter answers with the error above */

    u->length = 0;
    u->keepalive = 0;
}


static void
ngx_qocr_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort qocr request");
}


static void
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
        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_TIMEOUT, NULL, NULL);

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE && ctx->err == NGX_QOCR_OK) {

        if (ctx->reply.got_bytes) {
            ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                               ctx->reply.header_done
                               ? "the OCR service's reply is incomplete"
                               : "the OCR service sent an invalid reply",
                               NULL);

        } else {
            ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_UNAVAILABLE, NULL, NULL);
        }
    }

    if (u->header_sent && ctx->held && !ctx->out
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
