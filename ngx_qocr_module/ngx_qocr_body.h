
/*
 * ngx_qocr: the client body (contract section 3).
 */


#ifndef _NGX_QOCR_BODY_H_INCLUDED_
#define _NGX_QOCR_BODY_H_INCLUDED_


#include "ngx_qocr.h"


/* takes n bytes of the body; NGX_OK goes on, anything else stops */
typedef ngx_int_t (*ngx_qocr_body_pt)(void *data, u_char *p, size_t n);


ngx_int_t ngx_qocr_parse_body(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf);
ngx_int_t ngx_qocr_parse_url_json(ngx_pool_t *pool, u_char *body, size_t len,
    ngx_uint_t max_images, ngx_qocr_ctx_t *ctx);
const char *ngx_qocr_image_type(u_char *p, size_t n, ngx_str_t *type,
    ngx_str_t *ext);
ngx_int_t ngx_qocr_body_walk(ngx_pool_t *pool, ngx_chain_t *body,
    off_t start, off_t size, ngx_qocr_body_pt handler, void *data,
    ngx_log_t *log);
ngx_int_t ngx_qocr_body_slice(ngx_pool_t *pool, ngx_chain_t *body,
    off_t start, off_t size, ngx_chain_t ***last, ngx_uint_t in_memory,
    ngx_log_t *log);


#endif /* _NGX_QOCR_BODY_H_INCLUDED_ */
