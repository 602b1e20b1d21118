
/*
 * ngx_qocr: the calls of an API 3.0 request, one subrequest an image.
 */


#ifndef _NGX_QOCR_BATCH_H_INCLUDED_
#define _NGX_QOCR_BATCH_H_INCLUDED_


#include "ngx_qocr.h"


ngx_int_t ngx_qocr_batch_start(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx);
ngx_int_t ngx_qocr_call_handler(ngx_http_request_t *r, ngx_qocr_ctx_t *call);


#endif /* _NGX_QOCR_BATCH_H_INCLUDED_ */
