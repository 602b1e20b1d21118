
/*
 * ngx_qocr: JSON written straight into one pool buffer.
 */


#ifndef _NGX_QOCR_JSON_H_INCLUDED_
#define _NGX_QOCR_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Values are appended in order, commas placed by nesting depth; a failed
 * allocation is remembered and reported once, by ngx_qocr_json_done().
 * A long string that needs no escaping can be referred to, not copied
 * (ngx_qocr_json_ref()): the JSON is then a chain of buffers.
 */

typedef struct {
    ngx_pool_t                 *pool;
    u_char                     *start;      /* of the current buffer */
    u_char                     *pos;
    u_char                     *end;
    ngx_chain_t                *out;        /* what came before it */
    ngx_chain_t               **last;
    size_t                      size;       /* bytes in out */
    uint64_t                    more;       /* bit d: depth d has a value */
    ngx_uint_t                  depth;
    ngx_uint_t                  failed;     /* unsigned */
} ngx_qocr_json_t;


void ngx_qocr_json_init(ngx_qocr_json_t *j, ngx_pool_t *pool, size_t size);
void ngx_qocr_json_open(ngx_qocr_json_t *j, const char *key, u_char c);
void ngx_qocr_json_close(ngx_qocr_json_t *j, u_char c);
void ngx_qocr_json_string(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len);
void ngx_qocr_json_cstring(ngx_qocr_json_t *j, const char *key,
    const char *s);
void ngx_qocr_json_literal(ngx_qocr_json_t *j, const char *key,
    const char *literal);
void ngx_qocr_json_raw(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len);
void ngx_qocr_json_number(ngx_qocr_json_t *j, const char *key, double d);
void ngx_qocr_json_ref(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len);
ngx_int_t ngx_qocr_json_done(ngx_qocr_json_t *j, ngx_str_t *out);
ngx_int_t ngx_qocr_json_chain(ngx_qocr_json_t *j, ngx_chain_t **out,
    size_t *len);

uint32_t ngx_qocr_utf8_next(u_char **p, u_char *last);
ngx_int_t ngx_qocr_utf8_valid(u_char *p, size_t len);
ngx_int_t ngx_qocr_json_text_valid(u_char *p, size_t len);


#endif /* _NGX_QOCR_JSON_H_INCLUDED_ */
