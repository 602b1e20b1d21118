
/*
 * ngx_qocr: one OCR call, driven by nginx's upstream.
 */


#ifndef _NGX_QOCR_UPSTREAM_H_INCLUDED_
#define _NGX_QOCR_UPSTREAM_H_INCLUDED_


#include "ngx_qocr.h"


ngx_int_t ngx_qocr_upstream_start(ngx_http_request_t *r,
    ngx_qocr_loc_conf_t *qlcf);


#endif /* _NGX_QOCR_UPSTREAM_H_INCLUDED_ */
