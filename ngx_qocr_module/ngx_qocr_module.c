
/*
 * ngx_qocr: directives, configuration, the content handler and the
 * variables (contract sections 2, 3 and 6).
 */


#include "ngx_qocr.h"
#include "ngx_qocr_batch.h"
#include "ngx_qocr_body.h"
#include "ngx_qocr_filter.h"
#include "ngx_qocr_result.h"
#include "ngx_qocr_upstream.h"
#include "ngx_qocr_version.h"


#define NGX_QOCR_VAR_KIND           0
#define NGX_QOCR_VAR_IMAGES         1
#define NGX_QOCR_VAR_UPSTREAM_CODE  2
#define NGX_QOCR_VAR_ERROR          3


static ngx_int_t ngx_qocr_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_qocr_init_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_qocr_handler(ngx_http_request_t *r);
static void ngx_qocr_body_handler(ngx_http_request_t *r);

static ngx_int_t ngx_qocr_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_qocr_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static void *ngx_qocr_create_loc_conf(ngx_conf_t *cf);
static char *ngx_qocr_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_qocr(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_qocr_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_qocr_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_qocr_set_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_qocr_keepalive_pool(ngx_conf_t *cf,
    ngx_http_upstream_srv_conf_t *uscf);
static char *ngx_qocr_check_chars(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_qocr_check_value(ngx_conf_t *cf, ngx_str_t *s,
    ngx_str_t *name, ngx_str_t *file);
static char *ngx_qocr_check_region(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_qocr_check_token(ngx_conf_t *cf, ngx_str_t *token);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_qocr_set_ssl(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf);
#endif


static ngx_conf_bitmask_t  ngx_qocr_next_upstream_masks[] = {
    { ngx_string("error"), NGX_HTTP_UPSTREAM_FT_ERROR },
    { ngx_string("timeout"), NGX_HTTP_UPSTREAM_FT_TIMEOUT },
    { ngx_string("http_429"), NGX_HTTP_UPSTREAM_FT_HTTP_429 },
    { ngx_string("http_5xx"), NGX_HTTP_UPSTREAM_FT_HTTP_500
                              |NGX_HTTP_UPSTREAM_FT_HTTP_502
                              |NGX_HTTP_UPSTREAM_FT_HTTP_503
                              |NGX_HTTP_UPSTREAM_FT_HTTP_504 },
    { ngx_string("off"), NGX_HTTP_UPSTREAM_FT_OFF },
    { ngx_null_string, 0 }
};


static ngx_conf_bitmask_t  ngx_qocr_bankcard_checks_masks[] = {
    { ngx_string("copy"), NGX_QOCR_CHECK_COPY },
    { ngx_string("reshoot"), NGX_QOCR_CHECK_RESHOOT },
    { ngx_string("border"), NGX_QOCR_CHECK_BORDER },
    { ngx_string("off"), NGX_QOCR_CHECK_OFF },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_qocr_apis[] = {
    { ngx_string("legacy"), 0 },
    { ngx_string("v3"), 1 },
    { ngx_null_string, 0 }
};


static ngx_conf_post_handler_pt  ngx_qocr_check_chars_p =
    ngx_qocr_check_chars;

static ngx_conf_post_handler_pt  ngx_qocr_check_region_p =
    ngx_qocr_check_region;


static ngx_command_t  ngx_qocr_commands[] = {

    { ngx_string("qocr"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_qocr,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("qocr_pass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_qocr_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("qocr_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, api_v3),
      &ngx_qocr_apis },

    { ngx_string("qocr_region"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, region),
      &ngx_qocr_check_region_p },

    { ngx_string("qocr_parallel"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, parallel),
      NULL },

    { ngx_string("qocr_bankcard_checks"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, bankcard_checks),
      &ngx_qocr_bankcard_checks_masks },

    { ngx_string("qocr_appid"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, appid),
      &ngx_qocr_check_chars_p },

    { ngx_string("qocr_bucket"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, bucket),
      &ngx_qocr_check_chars_p },

    { ngx_string("qocr_secret_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_qocr_set_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, secret_id),
      &ngx_qocr_check_chars_p },

    { ngx_string("qocr_secret_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_qocr_set_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, secret_key),
      &ngx_qocr_check_chars_p },

    { ngx_string("qocr_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_qocr_credentials,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("qocr_sign_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, sign_ttl),
      NULL },

    { ngx_string("qocr_return_image"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, return_image),
      NULL },

    { ngx_string("qocr_url_input"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, url_input),
      NULL },

    { ngx_string("qocr_max_images"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, max_images),
      NULL },

    { ngx_string("qocr_max_image_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, max_image_size),
      NULL },

    { ngx_string("qocr_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("qocr_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("qocr_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("qocr_next_upstream"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.next_upstream),
      &ngx_qocr_next_upstream_masks },

    { ngx_string("qocr_next_upstream_tries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.next_upstream_tries),
      NULL },

#if (NGX_HTTP_SSL)

    { ngx_string("qocr_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.ssl_verify),
      NULL },

    { ngx_string("qocr_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("qocr_ssl_server_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.ssl_server_name),
      NULL },

    { ngx_string("qocr_ssl_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, upstream.ssl_name),
      NULL },

#endif

    { ngx_string("qocr_max_response_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_qocr_loc_conf_t, max_response_size),
      NULL },

      ngx_null_command
};


/* a qocr location in the configuration */
static ngx_uint_t  ngx_qocr_used;


static ngx_http_variable_t  ngx_qocr_vars[] = {

    { ngx_string("qocr_kind"), NULL, ngx_qocr_variable,
      NGX_QOCR_VAR_KIND, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("qocr_images"), NULL, ngx_qocr_variable,
      NGX_QOCR_VAR_IMAGES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("qocr_upstream_code"), NULL, ngx_qocr_variable,
      NGX_QOCR_VAR_UPSTREAM_CODE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("qocr_error"), NULL, ngx_qocr_variable,
      NGX_QOCR_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_module_t  ngx_qocr_module_ctx = {
    ngx_qocr_add_variables,                /* preconfiguration */
    ngx_qocr_filter_init,                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_qocr_create_loc_conf,              /* create location configuration */
    ngx_qocr_merge_loc_conf                /* merge location configuration */
};


ngx_module_t  ngx_http_qocr_module = {
    NGX_MODULE_V1,
    &ngx_qocr_module_ctx,                  /* module context */
    ngx_qocr_commands,                     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_qocr_init_module,                  /* init module */
    ngx_qocr_init_process,                 /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the master, at start-up and at every reload: the version, at info level */

static ngx_int_t
ngx_qocr_init_module(ngx_cycle_t *cycle)
{
    ngx_log_error(NGX_LOG_INFO, cycle->log, 0, "ngx_qocr/" NGX_QOCR_VERSION);

    return NGX_OK;
}


/*
 * A worker's large buffers (a reply with returned images, a call's body)
 * are megabytes each.  glibc would keep them in its heap after the
 * request: its mmap threshold grows to the largest block freed.  Fixed at
 * 4 MB, such blocks are mapped and unmapped, and a worker's RSS goes back
 * once the requests end (bench/memory); smaller ones (a client body of a
 * few MB in memory) stay in the heap, as fast as before.  Only when the
 * configuration has a qocr location.
 */

static ngx_int_t
ngx_qocr_init_process(ngx_cycle_t *cycle)
{
#if (NGX_LINUX && defined M_MMAP_THRESHOLD)

    if (ngx_qocr_used && mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024) != 1) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "qocr: mallopt(M_MMAP_THRESHOLD) failed");
    }

#endif

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_handler(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    if (r != r->main) {
        /* a call of an API 3.0 batch, or a subrequest of someone else's */

        ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

        if (ctx == NULL || ctx->main == NULL) {
            return NGX_HTTP_NOT_ALLOWED;
        }

        return ngx_qocr_call_handler(r, ctx);
    }

    qlcf = ngx_http_get_module_loc_conf(r, ngx_http_qocr_module);

    ctx = ngx_qocr_create_ctx(r, qlcf);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!(r->method & NGX_HTTP_POST)) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        ngx_qocr_set_error(ctx, NGX_QOCR_METHOD_NOT_ALLOWED, NULL, NULL);
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_read_client_request_body(r, ngx_qocr_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_qocr_body_handler(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_qocr_ctx_t       *ctx;
    ngx_qocr_loc_conf_t  *qlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);
    qlcf = ctx->conf;

    /* every check of contract section 3, before any upstream call */

    rc = ngx_qocr_parse_body(r, ctx, qlcf);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, (rc == NGX_DECLINED)
                                     ? (ngx_int_t) ngx_qocr_err_status(
                                                                   ctx->err)
                                     : NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (qlcf->api->per_image) {
        rc = ngx_qocr_batch_start(r, ctx);

    } else {
        ctx->count = ctx->images->nelts;
        rc = ngx_qocr_upstream_start(r, qlcf);
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}


static ngx_int_t
ngx_qocr_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    ngx_qocr_used = 0;

    for (v = ngx_qocr_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * For log_format: the kind; the images sent upstream (0 when the module
 * refused the request); the OCR service's code (the first failing one of
 * a batch); the normalized error code (of the request, else of the first
 * failing image; empty on success).  Empty values log as "-".
 */

static ngx_int_t
ngx_qocr_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char             *p;
    const char         *s;
    ngx_qocr_ctx_t     *ctx;
    ngx_qocr_result_t  *failed;

    ctx = ngx_http_get_module_ctx(r, ngx_http_qocr_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = NULL;

    switch (data) {

    case NGX_QOCR_VAR_KIND:
        s = ngx_qocr_kind_name(ctx->kind);
        break;

    case NGX_QOCR_VAR_IMAGES:
        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_sprintf(p, "%ui", ctx->sent) - p;
        v->data = p;
        goto found;

    case NGX_QOCR_VAR_UPSTREAM_CODE:
        failed = ngx_qocr_first_failure(ctx);

        if (ctx->err == NGX_QOCR_OK && failed) {
            v->data = failed->code.text.data;
            v->len = failed->code.text.len;

        } else {
            v->data = ctx->upstream_code.text.data;
            v->len = ctx->upstream_code.text.len;
        }

        if (v->len == 0) {
            break;
        }

        goto found;

    default: /* NGX_QOCR_VAR_ERROR */
        failed = ngx_qocr_first_failure(ctx);

        if (ctx->err != NGX_QOCR_OK) {
            s = ngx_qocr_err_name(ctx->err);

        } else if (failed) {
            s = ngx_qocr_err_name(failed->err);
        }

        break;
    }

    if (s == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) s;
    v->len = ngx_strlen(s);

found:

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static void *
ngx_qocr_create_loc_conf(ngx_conf_t *cf)
{
    ngx_qocr_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_qocr_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->kind = 0;
     *     conf->upstream.upstream = NULL;
     *     conf->host = { 0, NULL };
     *     conf->uri = { 0, NULL };
     *     conf->appid = { 0, NULL };
     *     conf->bucket = { 0, NULL };
     *     conf->secret_id = { 0, NULL };
     *     conf->secret_key = { 0, NULL };
     *     conf->credentials = { 0, NULL };
     *     conf->hmac = NULL;
     *     conf->tc3 = NULL;
     *     conf->token = { 0, NULL };
     *     conf->region = { 0, NULL };
     *     conf->options = { 0, NULL };
     *     conf->bankcard_checks = 0;
     *     conf->ssl = 0;
     *     conf->ssl_trusted_certificate = { 0, NULL };
     *     conf->upstream.next_upstream = 0;
     */

    conf->api_v3 = NGX_CONF_UNSET_UINT;
    conf->parallel = NGX_CONF_UNSET_UINT;
    conf->sign_ttl = NGX_CONF_UNSET;
    conf->return_image = NGX_CONF_UNSET;
    conf->url_input = NGX_CONF_UNSET;
    conf->max_images = NGX_CONF_UNSET_UINT;
    conf->max_image_size = NGX_CONF_UNSET;
    conf->max_response_size = NGX_CONF_UNSET_SIZE;

    conf->upstream.local = NGX_CONF_UNSET_PTR;
    conf->upstream.socket_keepalive = NGX_CONF_UNSET;
    conf->upstream.next_upstream_tries = NGX_CONF_UNSET_UINT;
    conf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;

#if (NGX_HTTP_SSL)
    conf->upstream.ssl_session_reuse = NGX_CONF_UNSET;
    conf->upstream.ssl_name = NGX_CONF_UNSET_PTR;
    conf->upstream.ssl_server_name = NGX_CONF_UNSET;
    conf->upstream.ssl_verify = NGX_CONF_UNSET;
#endif

    /* the hardcoded values, as in nginx's memcached module */
    conf->upstream.cyclic_temp_file = 0;
    conf->upstream.buffering = 0;
    conf->upstream.ignore_client_abort = 0;
    conf->upstream.send_lowat = 0;
    conf->upstream.bufs.num = 0;
    conf->upstream.busy_buffers_size = 0;
    conf->upstream.max_temp_file_size = 0;
    conf->upstream.temp_file_write_size = 0;
    conf->upstream.intercept_errors = 0;
    conf->upstream.intercept_404 = 0;
    conf->upstream.pass_request_headers = 0;
    conf->upstream.pass_request_body = 0;

    return conf;
}


static char *
ngx_qocr_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_qocr_loc_conf_t *prev = parent;
    ngx_qocr_loc_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->upstream.local, prev->upstream.local,
                             NULL);

    ngx_conf_merge_value(conf->upstream.socket_keepalive,
                         prev->upstream.socket_keepalive, 0);

    ngx_conf_merge_uint_value(conf->upstream.next_upstream_tries,
                              prev->upstream.next_upstream_tries, 2);

    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 10000);

    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 60000);

    ngx_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                              prev->upstream.next_upstream_timeout, 0);

    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size,
                              (size_t) ngx_pagesize);

    ngx_conf_merge_bitmask_value(conf->upstream.next_upstream,
                                 prev->upstream.next_upstream,
                                 (NGX_CONF_BITMASK_SET
                                  |NGX_HTTP_UPSTREAM_FT_ERROR));

    if (conf->upstream.next_upstream & NGX_HTTP_UPSTREAM_FT_OFF) {
        conf->upstream.next_upstream = NGX_CONF_BITMASK_SET
                                       |NGX_HTTP_UPSTREAM_FT_OFF;

    } else {
        /*
         * An OCR call is idempotent: the same image gives the same answer,
         * so a request may go to the next server after it was sent (the
         * first call may then be billed too).
         */

        conf->upstream.next_upstream |= NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;
    }

    if (conf->upstream.next_upstream_tries == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_next_upstream_tries\" must be at least 1");
        return NGX_CONF_ERROR;
    }

    if (conf->upstream.upstream == NULL) {
        conf->upstream.upstream = prev->upstream.upstream;
        conf->host = prev->host;
        conf->uri = prev->uri;
        conf->ssl = prev->ssl;
    }

#if (NGX_HTTP_SSL)

    ngx_conf_merge_value(conf->upstream.ssl_session_reuse,
                         prev->upstream.ssl_session_reuse, 1);
    ngx_conf_merge_ptr_value(conf->upstream.ssl_name,
                             prev->upstream.ssl_name, NULL);
    ngx_conf_merge_value(conf->upstream.ssl_server_name,
                         prev->upstream.ssl_server_name, 1);
    ngx_conf_merge_value(conf->upstream.ssl_verify,
                         prev->upstream.ssl_verify, 1);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate,
                             prev->ssl_trusted_certificate, "");

#endif

    ngx_conf_merge_str_value(conf->appid, prev->appid, "");
    ngx_conf_merge_str_value(conf->bucket, prev->bucket, "");

    if (conf->secret_id.data == NULL && conf->secret_key.data == NULL) {
        conf->secret_id = prev->secret_id;
        conf->secret_key = prev->secret_key;
        conf->token = prev->token;
        conf->credentials = prev->credentials;
    }

    ngx_conf_merge_uint_value(conf->api_v3, prev->api_v3, 0);
    conf->api = conf->api_v3 ? &ngx_qocr_v3_api : &ngx_qocr_legacy_api;

    ngx_conf_merge_str_value(conf->region, prev->region, "ap-guangzhou");
    ngx_conf_merge_uint_value(conf->parallel, prev->parallel, 4);
    ngx_conf_merge_bitmask_value(conf->bankcard_checks,
                                 prev->bankcard_checks,
                                 (NGX_CONF_BITMASK_SET|NGX_QOCR_CHECK_OFF));

    if (conf->bankcard_checks & NGX_QOCR_CHECK_OFF) {
        conf->bankcard_checks = NGX_CONF_BITMASK_SET;
    }

    ngx_conf_merge_value(conf->sign_ttl, prev->sign_ttl, 300);
    ngx_conf_merge_value(conf->return_image, prev->return_image, 0);
    ngx_conf_merge_value(conf->url_input, prev->url_input, 1);
    ngx_conf_merge_uint_value(conf->max_images, prev->max_images,
                              NGX_QOCR_NAMECARD_MAX);
    ngx_conf_merge_off_value(conf->max_image_size, prev->max_image_size,
                             NGX_CONF_UNSET);
    ngx_conf_merge_size_value(conf->max_response_size,
                              prev->max_response_size, NGX_CONF_UNSET_SIZE);

    if (conf->sign_ttl <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_sign_ttl\" must be positive");
        return NGX_CONF_ERROR;
    }

    if (conf->max_images == 0 || conf->max_images > NGX_QOCR_NAMECARD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_max_images\" must be 1 to %d, "
                           "as the OCR service takes", NGX_QOCR_NAMECARD_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->max_image_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_max_image_size\" must be positive");
        return NGX_CONF_ERROR;
    }

    if (conf->parallel == 0 || conf->parallel > NGX_QOCR_NAMECARD_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_parallel\" must be 1 to %d",
                           NGX_QOCR_NAMECARD_MAX);
        return NGX_CONF_ERROR;
    }

    if (conf->max_response_size != NGX_CONF_UNSET_SIZE
        && conf->max_response_size < 1024)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_max_response_size\" must be at least 1k");
        return NGX_CONF_ERROR;
    }

    if (conf->kind == 0) {
        return NGX_CONF_OK;
    }

    /* a "qocr" location: everything the OCR call needs must be here */

    if (conf->upstream.upstream == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_pass\" is missing for the qocr "
                           "location \"%V\"", &conf->location);
        return NGX_CONF_ERROR;
    }

    if (conf->secret_id.len == 0 || conf->secret_key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "credentials are missing for the qocr location "
                           "\"%V\": use \"qocr_credentials\", or both "
                           "\"qocr_secret_id\" and \"qocr_secret_key\"",
                           &conf->location);
        return NGX_CONF_ERROR;
    }

    if (conf->kind == NGX_QOCR_BANKCARD) {
        conf->max_images = 1;
    }

    if (!ngx_qocr_keepalive_pool(cf, conf->upstream.upstream)) {
        ngx_str_set(&conf->connection, "Connection: close" CRLF);
    }

    if (conf->api->init_conf(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#if (NGX_HTTP_SSL)

    if (conf->ssl && ngx_qocr_set_ssl(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

#endif

    if (conf->max_response_size == NGX_CONF_UNSET_SIZE) {
        conf->max_response_size = 1024 * 1024;

        if (conf->return_image) {
            /* every image of a call may come back, base64-encoded */
            conf->max_response_size += (conf->api->per_image
                                        ? 1 : conf->max_images)
                                       * ((size_t) conf->max_image_size + 2)
                                       / 3 * 4;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_qocr(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_qocr_loc_conf_t *qlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (qlcf->kind) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "namecard") == 0) {
        qlcf->kind = NGX_QOCR_NAMECARD;

    } else if (ngx_strcmp(value[1].data, "bankcard") == 0) {
        qlcf->kind = NGX_QOCR_BANKCARD;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"qocr\": "
                           "namecard or bankcard expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_qocr_handler;
    qlcf->location = clcf->name;

    ngx_qocr_used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_qocr_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_qocr_loc_conf_t *qlcf = conf;

    u_char     *p, *last;
    size_t      skip;
    ngx_str_t  *value;
    ngx_url_t   u;

    if (qlcf->upstream.upstream) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));

    if (value[1].len > 7
        && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;
        u.default_port = 80;

    } else if (value[1].len > 8
               && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8)
                  == 0)
    {
#if (NGX_HTTP_SSL)
        skip = 8;
        u.default_port = 443;
        qlcf->ssl = 1;
#else
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"qocr_pass\" https:// needs nginx built with "
                           "SSL support");
        return NGX_CONF_ERROR;
#endif

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"qocr_pass\": "
                           "http(s)://host[:port][/path] expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    u.url.data = value[1].data + skip;
    u.url.len = value[1].len - skip;
    u.uri_part = 1;
    u.no_resolve = 1;

    /* the Host header: the URL's host and port as written */

    p = u.url.data;
    last = p + u.url.len;

    qlcf->host.data = p;

    while (p < last && *p != '/' && *p != '?') {
        p++;
    }

    qlcf->host.len = p - qlcf->host.data;

    if (qlcf->host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no host in \"qocr_pass\" URL \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    qlcf->upstream.upstream = ngx_http_upstream_add(cf, &u, 0);
    if (qlcf->upstream.upstream == NULL) {
        return NGX_CONF_ERROR;
    }

    if (u.family == AF_UNIX) {
        /* as proxy_pass does: "unix:/path" is no host name */
        ngx_str_set(&qlcf->host, "localhost");
    }

    if (u.uri.len && !(u.uri.len == 1 && u.uri.data[0] == '/')) {
        qlcf->uri = u.uri;
    }

    return NGX_CONF_OK;
}


/*
 * Whether the upstream{} block of qocr_pass has a "keepalive" pool: else
 * the request says "Connection: close", and the OCR service closes first,
 * as with proxy_pass.  The keepalive module's configuration is its own; its
 * first member, since nginx 1.1.4 and in every line up to 1.31, is the
 * number "keepalive" sets (0 without it).
 */

static ngx_uint_t
ngx_qocr_keepalive_pool(ngx_conf_t *cf, ngx_http_upstream_srv_conf_t *uscf)
{
    void           *kcf;
    ngx_uint_t      i;
    ngx_module_t  **modules;

    if (uscf->srv_conf == NULL) {
        /* a host in qocr_pass, no upstream{} block: no pool */
        return 0;
    }

    modules = cf->cycle->modules;

    for (i = 0; modules[i]; i++) {
        if (modules[i]->type == NGX_HTTP_MODULE
            && ngx_strcmp(modules[i]->name,
                          "ngx_http_upstream_keepalive_module") == 0)
        {
            kcf = uscf->srv_conf[modules[i]->ctx_index];

            return kcf != NULL && *(ngx_uint_t *) kcf != 0;
        }
    }

    return 0;
}


static char *
ngx_qocr_set_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_qocr_loc_conf_t *qlcf = conf;

    if (qlcf->credentials.data) {
        return "cannot be used with \"qocr_credentials\" at the same level";
    }

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


/*
 * The credentials file: "secret_id" and "secret_key" lines, each a name
 * then the value after white space, "=" or ":"; "#" starts a comment.
 * Read at every (re)load.  Error messages never quote a value.
 */

static char *
ngx_qocr_credentials(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_qocr_loc_conf_t *qlcf = conf;

    u_char           *buf, *p, *last, *line, *eol, *name, *v;
    size_t            size, nlen;
    ngx_uint_t        lineno;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t        *value, file, *dst, name_id, name_key;
    ngx_file_info_t   fi;

    if (qlcf->credentials.data) {
        return "is duplicate";
    }

    if (qlcf->secret_id.data || qlcf->secret_key.data) {
        return "cannot be used with \"qocr_secret_id\" or \"qocr_secret_key\""
               " at the same level";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* non-blocking: a FIFO must not hang nginx -t and every reload */

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.data);
        return NGX_CONF_ERROR;
    }

    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", file.data);
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "credentials file \"%s\" is not a regular file",
                           file.data);
        goto failed;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > 65536) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "credentials file \"%s\" is too large",
                           file.data);
        goto failed;
    }

    buf = ngx_pnalloc(cf->pool, size + 1);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", file.data);
        goto failed;
    }

    ngx_close_file(fd);
    fd = NGX_INVALID_FILE;

    p = buf;
    last = buf + size;

    lineno = 0;

    for (line = p; line < last; line = eol + 1) {

        lineno++;

        eol = ngx_strlchr(line, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        p = line;

        while (p < eol && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == eol || *p == '#' || *p == CR) {
            continue;
        }

        name = p;

        while (p < eol && *p != ' ' && *p != '\t' && *p != '=' && *p != ':'
               && *p != CR)
        {
            p++;
        }

        nlen = p - name;

        while (p < eol && (*p == ' ' || *p == '\t' || *p == '=' || *p == ':'))
        {
            p++;
        }

        v = p;

        while (p < eol && *p != ' ' && *p != '\t' && *p != CR) {
            p++;
        }

        if (nlen == 9 && ngx_strncmp(name, "secret_id", 9) == 0) {
            dst = &qlcf->secret_id;

        } else if (nlen == 10 && ngx_strncmp(name, "secret_key", 10) == 0) {
            dst = &qlcf->secret_key;

        } else if (nlen == 5 && ngx_strncmp(name, "token", 5) == 0) {
            dst = &qlcf->token;

        } else {
            /* the line is not quoted: it may be a stray secret */
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown line %ui in credentials file "
                               "\"%s\": secret_id, secret_key and token "
                               "expected",
                               lineno, file.data);
            return NGX_CONF_ERROR;
        }

        if (p == v) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no value on line %ui of credentials file "
                               "\"%s\"", lineno, file.data);
            return NGX_CONF_ERROR;
        }

        dst->data = v;
        dst->len = p - v;

        while (p < eol && (*p == ' ' || *p == '\t' || *p == CR)) {
            p++;
        }

        if (p < eol && *p != '#') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "more than one value on line %ui of "
                               "credentials file \"%s\"", lineno,
                               file.data);
            return NGX_CONF_ERROR;
        }
    }

    if (qlcf->secret_id.len == 0 || qlcf->secret_key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "credentials file \"%s\" must hold both "
                           "secret_id and secret_key", file.data);
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name_id, "secret_id");
    ngx_str_set(&name_key, "secret_key");

    if (ngx_qocr_check_value(cf, &qlcf->secret_id, &name_id, &file) != NGX_OK
        || ngx_qocr_check_value(cf, &qlcf->secret_key, &name_key, &file)
           != NGX_OK
        || (qlcf->token.len && ngx_qocr_check_token(cf, &qlcf->token)
                               != NGX_OK))
    {
        return NGX_CONF_ERROR;
    }

    qlcf->credentials = file;

    return NGX_CONF_OK;

failed:

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

    return NGX_CONF_ERROR;
}


#if (NGX_HTTP_SSL)

/*
 * TLS to the OCR service, as nginx's grpc module sets it up: TLS 1.2 and
 * 1.3, sessions reused, the certificate verified by default against the
 * system's CA store (or qocr_ssl_trusted_certificate) and the name of
 * qocr_ssl_name or the qocr_pass host.
 */

static ngx_int_t
ngx_qocr_set_ssl(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf)
{
    ngx_str_t            ciphers;
    ngx_pool_cleanup_t  *cln;

    qlcf->upstream.ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (qlcf->upstream.ssl == NULL) {
        return NGX_ERROR;
    }

    qlcf->upstream.ssl->log = cf->log;

    if (ngx_ssl_create(qlcf->upstream.ssl,
                       NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(qlcf->upstream.ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = qlcf->upstream.ssl;

    ngx_str_set(&ciphers, "DEFAULT");

    if (ngx_ssl_ciphers(cf, qlcf->upstream.ssl, &ciphers, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (qlcf->upstream.ssl_verify) {
        if (ngx_ssl_trusted_certificate(cf, qlcf->upstream.ssl,
                                        &qlcf->ssl_trusted_certificate, 9)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (qlcf->ssl_trusted_certificate.len == 0
            && SSL_CTX_set_default_verify_paths(qlcf->upstream.ssl->ctx)
               != 1)
        {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "qocr: the system's CA store cannot be loaded "
                          "for qocr_ssl_verify");
            return NGX_ERROR;
        }
    }

    if (ngx_ssl_client_session_cache(cf, qlcf->upstream.ssl,
                                     qlcf->upstream.ssl_session_reuse)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


/*
 * AppID, bucket and credentials go into the signature's
 * "a=..&b=..&k=.." text and into form fields: no separators allowed.
 */

static char *
ngx_qocr_check_chars(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    return (ngx_qocr_check_value(cf, data, &value[0], NULL) == NGX_OK)
           ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/* name: the directive, or the name in the credentials file */

static ngx_int_t
ngx_qocr_check_value(ngx_conf_t *cf, ngx_str_t *s, ngx_str_t *name,
    ngx_str_t *file)
{
    u_char      *p, *last;
    size_t       n;
    const char  *what;

    for (p = s->data, last = p + s->len; p < last; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')
            || (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'
            || *p == '.' || *p == '+' || *p == '/')
        {
            continue;
        }

        break;
    }

    if (s->len > 0 && s->len <= 128 && p == last) {
        return NGX_OK;
    }

    what = (p == last) ? "must be 1 to 128 characters long, not "
                       : "has an invalid character at position ";
    n = (p == last) ? s->len : (size_t) (p - s->data) + 1;

    if (file) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V in credentials file \"%V\" %s%uz",
                           name, file, what, n);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" %s%uz",
                           name, what, n);
    }

    return NGX_ERROR;
}


/* qocr_region: sent as X-TC-Region; "off" sends none */

static char *
ngx_qocr_check_region(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *s = data;

    u_char  *p;

    if (s->len == 3 && ngx_strncmp(s->data, "off", 3) == 0) {
        s->len = 0;
        return NGX_CONF_OK;
    }

    for (p = s->data; p < s->data + s->len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
        {
            continue;
        }

        return "must be a region such as ap-guangzhou, or off";
    }

    if (s->len == 0 || s->len > 64) {
        return "must be a region such as ap-guangzhou, or off";
    }

    return NGX_CONF_OK;
}


/* a temporary credentials token goes into a header: printable ASCII */

static ngx_int_t
ngx_qocr_check_token(ngx_conf_t *cf, ngx_str_t *token)
{
    u_char  *p;

    if (token->len > 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a qocr token must be at most 4096 characters");
        return NGX_ERROR;
    }

    for (p = token->data; p < token->data + token->len; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "a qocr token has an invalid character at "
                               "position %uz", (size_t) (p - token->data) + 1);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
