
/*
 * ngx_qocr: the calls of an API 3.0 request (contract section 8, batches).
 *
 * API 3.0 takes one image a call, so a request of N images makes N calls:
 * subrequests of the request (background clones of its location, as
 * nginx's mirror module makes them), at most qocr_parallel in flight, each
 * a full upstream call of its own (time-outs, TLS, keepalive,
 * qocr_next_upstream).  A call ends in its post-subrequest handler, which
 * puts its result in the request's and wakes the request; the request
 * starts the next calls, and answers once, results in input order, when
 * none is left.  upstream_auth_failed and upstream_billing stop the batch:
 * no further call starts, those in flight are closed, the request fails.
 *
 * A client that goes away finalizes the request, and nginx's cleanup of
 * the request closes every call in flight: their upstream cleanups are the
 * main request's.
 */


#include "ngx_qocr_batch.h"
#include "ngx_qocr_result.h"
#include "ngx_qocr_upstream.h"


static ngx_int_t ngx_qocr_batch_launch(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_call_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_qocr_call_result(ngx_http_request_t *sr,
    ngx_qocr_ctx_t *call);
static void ngx_qocr_batch_handler(ngx_http_request_t *r);
static void ngx_qocr_batch_stop(ngx_qocr_ctx_t *ctx);
static void ngx_qocr_batch_answer(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_batch_states(ngx_http_request_t *r,
    ngx_http_request_t *sr);


ngx_int_t
ngx_qocr_batch_start(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_uint_t  n;

    n = ctx->images->nelts;

    ctx->results = ngx_pcalloc(r->pool, n * sizeof(ngx_qocr_result_t));
    ctx->calls = ngx_pcalloc(r->pool, n * sizeof(ngx_http_request_t *));

    if (ctx->results == NULL || ctx->calls == NULL) {
        return NGX_ERROR;
    }

    /* a client that closes the connection ends the request and its calls */

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_qocr_batch_handler;

    return ngx_qocr_batch_launch(r, ctx);
}


/* a call's subrequest runs the location's handler: this starts its call */

ngx_int_t
ngx_qocr_call_handler(ngx_http_request_t *r, ngx_qocr_ctx_t *call)
{
    if (call->main->fatal != -1) {
        /* the batch stopped before this call started */
        call->call_done = 1;
        call->main->inflight--;
        call->main->finished++;
        ngx_http_post_request(r->main, NULL);
        return NGX_DONE;
    }

    /* as nginx's memcached module: the upstream holds the request */

    r->main->count++;

    if (ngx_qocr_upstream_start(r, call->conf) != NGX_OK) {
        r->main->count--;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_qocr_batch_launch(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_uint_t                   i;
    ngx_qocr_ctx_t              *call;
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    while (ctx->fatal == -1
           && ctx->next < ctx->images->nelts
           && ctx->inflight < ctx->conf->parallel)
    {
        i = ctx->next;

        call = ngx_pcalloc(r->pool, sizeof(ngx_qocr_ctx_t));
        ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));

        if (call == NULL || ps == NULL) {
            return NGX_ERROR;
        }

        call->kind = ctx->kind;
        call->conf = ctx->conf;
        call->images = ctx->images;
        call->first = i;
        call->count = 1;
        call->results = &ctx->results[i];
        call->url_input = ctx->url_input;
        call->main = ctx;
        call->fatal = -1;
        ngx_qocr_reply_init(&call->reply);

        ps->handler = ngx_qocr_call_done;
        ps->data = call;

        if (ngx_http_subrequest(r, &r->uri, &r->args, &sr, ps,
                                NGX_HTTP_SUBREQUEST_CLONE
                                |NGX_HTTP_SUBREQUEST_BACKGROUND)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(sr, call, ngx_http_qocr_module);

        ctx->calls[i] = sr;
        ctx->next++;
        ctx->inflight++;
        ctx->sent++;
    }

    return NGX_OK;
}


/*
 * The post-subrequest handler: nginx may call it more than once for a
 * call (an error, then the error page it makes); the first time counts.
 */

static ngx_int_t
ngx_qocr_call_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_qocr_ctx_t *call = data;

    ngx_qocr_ctx_t  *ctx;

    if (call->call_done) {
        return rc;
    }

    call->call_done = 1;
    ctx = call->main;

    ngx_qocr_call_result(sr, call);

    if (ngx_qocr_batch_states(sr->main, sr) != NGX_OK) {
        ctx->err = NGX_QOCR_INTERNAL_ERROR;
        ctx->fatal = call->first;
    }

    ctx->inflight--;
    ctx->finished++;

    /* the image's base64 is not needed any more: a large allocation */

    if (call->body) {
        ngx_pfree(sr->pool, call->body);
        call->body = NULL;
    }

    if (ctx->fatal == -1
        && (call->results->err == NGX_QOCR_UPSTREAM_AUTH_FAILED
            || call->results->err == NGX_QOCR_UPSTREAM_BILLING))
    {
        ctx->fatal = call->first;
    }

    sr->main->write_event_handler = ngx_qocr_batch_handler;

    if (ngx_http_post_request(sr->main, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return rc;
}


/* what the call came to: the API's reading of the reply, or its failure */

static void
ngx_qocr_call_result(ngx_http_request_t *sr, ngx_qocr_ctx_t *call)
{
    ngx_qocr_result_t  *res;

    res = call->results;

    if (call->err == NGX_QOCR_OK && sr->upstream && call->reply.complete) {
        if (call->conf->api->parse_reply(sr->pool, sr->connection->log, call)
            != NGX_OK)
        {
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
}


/*
 * The request's write handler while its calls run: posted by every call
 * that ends, and run by nginx for any write event of the client.
 */

static void
ngx_qocr_batch_handler(ngx_http_request_t *r)
{
    ngx_qocr_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL || ctx->answered) {
        return;
    }

    if (ctx->fatal != -1) {
        ngx_qocr_batch_stop(ctx);

    } else if (ngx_qocr_batch_launch(r, ctx) != NGX_OK) {
        ctx->fatal = ctx->next;
        ctx->err = NGX_QOCR_INTERNAL_ERROR;
        ngx_qocr_batch_stop(ctx);
    }

    if (ctx->inflight == 0
        && (ctx->fatal != -1 || ctx->finished == ctx->images->nelts))
    {
        ngx_qocr_batch_answer(r, ctx);
    }
}


/*
 * Closes the calls in flight as nginx's own cleanup of their upstream does
 * when a client goes away; their post-subrequest handlers are not called.
 */

static void
ngx_qocr_batch_stop(ngx_qocr_ctx_t *ctx)
{
    ngx_uint_t               i;
    ngx_qocr_ctx_t          *call;
    ngx_http_cleanup_pt      cleanup;
    ngx_http_request_t      *sr;
    ngx_http_upstream_t     *u;

    for (i = 0; i < ctx->next; i++) {
        sr = ctx->calls[i];
        call = ngx_http_get_module_ctx(sr, ngx_http_qocr_module);

        if (call == NULL || call->call_done) {
            continue;
        }

        u = sr->upstream;

        if (u == NULL || u->cleanup == NULL || *u->cleanup == NULL) {
            /* not started yet: its handler sees the batch stopped */
            continue;
        }

        call->call_done = 1;
        ctx->inflight--;
        ctx->finished++;

        ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                      "qocr: call %ui closed: the batch failed", i);

        cleanup = *u->cleanup;
        cleanup(sr);
    }
}


/*
 * The request's answer.  A call that failed with upstream_auth_failed or
 * upstream_billing fails it; so does one request-level error that every
 * image failed with (a one-image request answers as under the legacy API);
 * otherwise 200 with every result.
 */

static void
ngx_qocr_batch_answer(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx)
{
    ngx_int_t           rc;
    ngx_uint_t          i, n;
    ngx_qocr_result_t  *res, *first;

    ctx->answered = 1;
    r->write_event_handler = ngx_http_request_empty_handler;

    n = ctx->images->nelts;
    res = ctx->results;
    first = NULL;

    if (ctx->err == NGX_QOCR_OK && ctx->fatal != -1) {
        first = &res[ctx->fatal];

    } else if (ctx->err == NGX_QOCR_OK
               && ngx_qocr_err_request_level(res[0].err))
    {
        for (i = 1; i < n; i++) {
            if (res[i].err != res[0].err) {
                break;
            }
        }

        if (i == n) {
            first = &res[0];
        }
    }

    if (first) {
        ngx_qocr_set_error(ctx, first->err, first->message, &first->code);
    }

    if (ctx->err != NGX_QOCR_OK) {
        ngx_http_finalize_request(r, ngx_qocr_err_status(ctx->err));
        return;
    }

    ctx->results_ready = 1;

    first = ngx_qocr_first_failure(ctx);

    if (first) {
        ctx->upstream_code = first->code;
    }

    r->headers_out.status = NGX_HTTP_OK;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_send_special(r, NGX_HTTP_LAST));
}


/*
 * $upstream_addr and the like of the request: every call's, the calls
 * apart as after an internal redirect (" : ").
 */

static ngx_int_t
ngx_qocr_batch_states(ngx_http_request_t *r, ngx_http_request_t *sr)
{
    ngx_uint_t                  i;
    ngx_http_upstream_state_t  *state, *s;

    if (sr->upstream_states == NULL || sr->upstream_states->nelts == 0) {
        return NGX_OK;
    }

    if (r->upstream_states == NULL) {
        r->upstream_states = ngx_array_create(r->pool, 4,
                                          sizeof(ngx_http_upstream_state_t));
        if (r->upstream_states == NULL) {
            return NGX_ERROR;
        }

    } else if (r->upstream_states->nelts) {
        s = ngx_array_push(r->upstream_states);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(s, sizeof(ngx_http_upstream_state_t));
    }

    state = sr->upstream_states->elts;

    for (i = 0; i < sr->upstream_states->nelts; i++) {
        s = ngx_array_push(r->upstream_states);
        if (s == NULL) {
            return NGX_ERROR;
        }

        *s = state[i];
    }

    return NGX_OK;
}
