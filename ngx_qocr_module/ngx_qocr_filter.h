
/*
 * ngx_qocr: the filter that makes every reply of a qocr location JSON.
 */


#ifndef _NGX_QOCR_FILTER_H_INCLUDED_
#define _NGX_QOCR_FILTER_H_INCLUDED_


#include "ngx_qocr.h"


ngx_int_t ngx_qocr_filter_init(ngx_conf_t *cf);


#endif /* _NGX_QOCR_FILTER_H_INCLUDED_ */
