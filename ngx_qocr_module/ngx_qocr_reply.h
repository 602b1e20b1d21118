
/*
 * ngx_qocr: the OCR service's HTTP/1.x reply, parsed by plain functions
 * over a buffer.
 */


#ifndef _NGX_QOCR_REPLY_H_INCLUDED_
#define _NGX_QOCR_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_http_status_t           status;
    ngx_http_chunked_t          chunked;
    off_t                       content_length;
    off_t                       remaining;  /* of the body; -1: till close */
    ngx_str_t                   retry_after;
    unsigned                    is_chunked:1;
    unsigned                    connection_close:1;
    unsigned                    got_bytes:1;
    unsigned                    status_done:1;
    unsigned                    header_done:1;
    unsigned                    body_done:1;
    unsigned                    complete:1;
    unsigned                    extra:1;    /* bytes after the body */
    unsigned                    too_large:1; /* over the size allowed */

    u_char                     *data;
    size_t                      len;
    size_t                      size;
} ngx_qocr_reply_t;


/*
 * The parsers return NGX_OK or NGX_DONE (complete), NGX_AGAIN (more bytes
 * needed), NGX_DECLINED for a reply that cannot be used (*error says why;
 * reply->too_large when it is over max bytes), NGX_ERROR when out of
 * memory.
 */

void ngx_qocr_reply_init(ngx_qocr_reply_t *reply);
ngx_int_t ngx_qocr_reply_parse_header(ngx_http_request_t *r,
    ngx_qocr_reply_t *reply, ngx_buf_t *b, size_t max, const char **error);
ngx_int_t ngx_qocr_reply_parse_body(ngx_http_request_t *r,
    ngx_qocr_reply_t *reply, ngx_buf_t *b, size_t max, const char **error);


#endif /* _NGX_QOCR_REPLY_H_INCLUDED_ */
