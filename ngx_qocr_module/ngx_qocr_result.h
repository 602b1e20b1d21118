
/*
 * ngx_qocr: the normalized schema of both APIs (contract sections 5 and 8).
 */


#ifndef _NGX_QOCR_RESULT_H_INCLUDED_
#define _NGX_QOCR_RESULT_H_INCLUDED_


#include "ngx_qocr.h"


ngx_qocr_ctx_t *ngx_qocr_create_ctx(ngx_http_request_t *r,
    ngx_qocr_loc_conf_t *qlcf);
const char *ngx_qocr_kind_name(ngx_uint_t kind);

const char *ngx_qocr_err_name(ngx_qocr_err_e err);
const char *ngx_qocr_err_text(ngx_qocr_err_e err);
ngx_uint_t ngx_qocr_err_status(ngx_qocr_err_e err);
ngx_uint_t ngx_qocr_err_request_level(ngx_qocr_err_e err);
ngx_qocr_err_e ngx_qocr_status_error(ngx_uint_t status);

void ngx_qocr_set_error(ngx_qocr_ctx_t *ctx, ngx_qocr_err_e err,
    const char *message, ngx_qocr_code_t *code);
ngx_int_t ngx_qocr_result_fields(ngx_pool_t *pool, ngx_qocr_result_t *res,
    ngx_uint_t kind);
ngx_int_t ngx_qocr_field_add(ngx_pool_t *pool, ngx_qocr_field_t *f,
    u_char *value, size_t len);
ngx_int_t ngx_qocr_bank_code(ngx_str_t *value, ngx_str_t *code);
void ngx_qocr_card_digits(ngx_str_t *s);
ngx_qocr_result_t *ngx_qocr_first_failure(ngx_qocr_ctx_t *ctx);
struct cJSON *ngx_qocr_parse_json(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx);
void ngx_qocr_json_str(ngx_qocr_ctx_t *ctx, struct cJSON *v, ngx_str_t *s);
ngx_int_t ngx_qocr_code_number(ngx_pool_t *pool, ngx_qocr_code_t *code,
    ngx_int_t n);
ngx_int_t ngx_qocr_answer(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    ngx_chain_t **out, size_t *len, ngx_uint_t *status);


#endif /* _NGX_QOCR_RESULT_H_INCLUDED_ */
