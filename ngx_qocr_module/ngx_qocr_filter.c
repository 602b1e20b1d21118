
/*
 * ngx_qocr: the filter that makes every reply of a qocr location the
 * contract's JSON.
 *
 * It works as nginx's xslt filter does: for a request with our context,
 * the header is kept from the client and the body swallowed until its last
 * buffer; then the final JSON is made and the header and that body go on
 * down the chain.  This covers the upstream reply (whose bytes the input
 * filter has collected), the module's own refusals, and nginx's own error
 * pages for the same request (an unreachable OCR service, a time-out, a bad
 * client body): the client always gets JSON.  The calls of an API 3.0
 * batch (subrequests) send nothing: their results go to the batch.
 */


#include "ngx_qocr_filter.h"
#include "ngx_qocr_result.h"


static ngx_qocr_ctx_t *ngx_qocr_early_ctx(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_qocr_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_qocr_send_final(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_add_header(ngx_http_request_t *r, char *key,
    ngx_str_t *value);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_qocr_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_qocr_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_qocr_body_filter;

    return NGX_OK;
}


/*
 * nginx refuses a request body over client_max_body_size, or a malformed
 * one, before the content handler has run: the reply of a qocr location is
 * JSON all the same.  Other statuses without our context (an access module's
 * 403, say) stay the operator's.
 */

static ngx_qocr_ctx_t *
ngx_qocr_early_ctx(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    if (r != r->main
        || (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
            && r->headers_out.status != NGX_HTTP_BAD_REQUEST))
    {
        return NULL;
    }

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    if (qlcf == NULL || qlcf->kind == 0) {
        return NULL;
    }

    ctx = ngx_qocr_create_ctx(r, qlcf);
    if (ctx == NULL) {
        return NULL;
    }

    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        ngx_qocr_set_error(ctx, NGX_QOCR_IMAGE_TOO_LARGE,
                           "the request body is larger than "
                           "client_max_body_size", NULL);
    }

    return ctx;
}


static ngx_int_t
ngx_qocr_header_filter(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL) {
        ctx = ngx_qocr_early_ctx(r);

        if (ctx == NULL) {
            return ngx_http_next_header_filter(r);
        }
    }

    if (ctx->out) {
        return ngx_http_next_header_filter(r);
    }

    /*
     * Kept until the body filter knows the final JSON.  An error status
     * that is not the OCR service's own is nginx's or ours: it says what
     * went wrong unless the module said so already.
     */

    if (ctx->err == NGX_QOCR_OK && r->headers_out.status >= 400
        && !ctx->reply.header_done)
    {
        ctx->err = ngx_qocr_status_error(r->headers_out.status);
    }

    ctx->held = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t       last;
    ngx_chain_t     *cl;
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL || (!ctx->held && !ctx->out)) {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }

        /* the bytes are swallowed: upstream's were collected already */

        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->out) {
        /* what follows our reply is dropped, but it is still flushed */
        return ngx_http_next_body_filter(r, NULL);
    }

    if (!last || ctx->main) {
        /* a call's result is the batch's business */
        return NGX_OK;
    }

    return ngx_qocr_send_final(r, ctx);
}


static ngx_int_t
ngx_qocr_send_final(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    size_t        len;
    ngx_str_t     value;
    ngx_int_t     rc;
    ngx_uint_t    status;
    ngx_chain_t  *out, *cl;

    ctx->out = 1;

    if (ctx->err == NGX_QOCR_OK && !ctx->results_ready && r->upstream
        && ctx->reply.complete)
    {
        if (ctx->conf->api->parse_reply(r->pool, r->connection->log, ctx)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ctx->err == NGX_QOCR_OK && !ctx->results_ready) {
        ngx_qocr_set_error(ctx, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is incomplete", NULL);
    }

    if (ngx_qocr_answer(r->pool, ctx, &out, &len, &status) != NGX_OK) {
        return NGX_ERROR;
    }

    for (cl = out; cl->next; cl = cl->next) { /* void */ }

    cl->buf->last_buf = 1;
    cl->buf->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.status_line.len = 0;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);
    ngx_http_clear_accept_ranges(r);

    r->headers_out.content_length_n = len;

    if (status == NGX_HTTP_NOT_ALLOWED) {
        ngx_str_set(&value, "POST");

        if (ngx_qocr_add_header(r, "Allow", &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (status == NGX_HTTP_TOO_MANY_REQUESTS) {
        value = ctx->reply.retry_after;

        if (value.len == 0) {
            ngx_str_set(&value, "1");
        }

        if (ngx_qocr_add_header(r, "Retry-After", &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_next_body_filter(r, out);
}


static ngx_int_t
ngx_qocr_add_header(ngx_http_request_t *r, char *key, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return NGX_OK;
}
