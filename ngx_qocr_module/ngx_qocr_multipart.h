
/*
 * ngx_qocr: the multipart/form-data parser (a plain function).
 */


#ifndef _NGX_QOCR_MULTIPART_H_INCLUDED_
#define _NGX_QOCR_MULTIPART_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* a file part of a multipart/form-data body, as the parser reports it */

typedef struct {
    off_t                       start;
    off_t                       end;
    ngx_str_t                   filename;
} ngx_qocr_part_t;


typedef struct {
    ngx_pool_t                 *pool;
    ngx_array_t                *parts;      /* ngx_qocr_part_t, file parts */
    ngx_uint_t                  max_parts;  /* stored at most; more counted */
    ngx_uint_t                  nfiles;     /* file parts seen */

    u_char                      delim[4 + 70];
    size_t                      dlen;

    ngx_uint_t                  state;
    size_t                      match;
    off_t                       match_start;
    off_t                       offset;     /* of the next byte fed */
    off_t                       part_start;

    u_char                     *line;       /* current part header line */
    size_t                      line_len;
    size_t                      header_bytes;

    ngx_str_t                   filename;
    unsigned                    has_filename:1;
    unsigned                    done:1;

    const char                 *error;      /* static text */
} ngx_qocr_multipart_t;


/*
 * Each returns NGX_OK, NGX_DECLINED for a malformed body (mp->error says
 * why) or NGX_ERROR when out of memory.
 */

ngx_int_t ngx_qocr_multipart_boundary(ngx_str_t *content_type,
    ngx_str_t *boundary);
ngx_int_t ngx_qocr_multipart_init(ngx_qocr_multipart_t *mp, ngx_pool_t *pool,
    ngx_str_t *boundary, ngx_uint_t max_parts);
ngx_int_t ngx_qocr_multipart_feed(ngx_qocr_multipart_t *mp, u_char *p,
    size_t len);
ngx_int_t ngx_qocr_multipart_finish(ngx_qocr_multipart_t *mp);


#endif /* _NGX_QOCR_MULTIPART_H_INCLUDED_ */
