
/*
 * ngx_qocr: OCR for nginx-fronted sites.
 *
 * Shared types of the module.  One file per concern:
 *
 *   ngx_qocr_module.c     directives, configuration, the content handler
 *   ngx_qocr_body.c       the client body: Content-Type, raw and multipart
 *                         images, the checks made before any upstream call
 *   ngx_qocr_multipart.c  the multipart/form-data parser (plain function)
 *   ngx_qocr_request.c    the request sent to the OCR service
 *   ngx_qocr_sign.c       the legacy multi-use signature
 *   ngx_qocr_reply.c      the OCR service's HTTP reply (status line,
 *                         headers, Content-Length/chunked/close bodies)
 *   ngx_qocr_upstream.c   the upstream callbacks that drive it
 *   ngx_qocr_response.c   the service's JSON turned into the contract's JSON
 *   ngx_qocr_output.c     the error table, JSON output and the filter that
 *                         makes every reply of a qocr location JSON
 */


#ifndef _NGX_QOCR_H_INCLUDED_
#define _NGX_QOCR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_QOCR_NAMECARD          1
#define NGX_QOCR_BANKCARD          2

#define NGX_QOCR_NAMECARD_MAX      20
#define NGX_QOCR_MAGIC_LEN         16
#define NGX_QOCR_BOUNDARY_LEN      36   /* "qocr" and 32 hex digits */
#define NGX_QOCR_SIGN_PLAIN_MAX    1024
#define NGX_QOCR_URL_MAX           2048
#define NGX_QOCR_URL_BODY_MAX      (64 * 1024)


/* normalized error codes, contract section 5 */

typedef enum {
    NGX_QOCR_OK = 0,
    NGX_QOCR_BAD_REQUEST,
    NGX_QOCR_METHOD_NOT_ALLOWED,
    NGX_QOCR_NO_IMAGE,
    NGX_QOCR_IMAGE_EMPTY,
    NGX_QOCR_TOO_MANY_IMAGES,
    NGX_QOCR_IMAGE_TOO_LARGE,
    NGX_QOCR_UNSUPPORTED_MEDIA_TYPE,
    NGX_QOCR_IMAGE_DECODE_FAILED,
    NGX_QOCR_NOT_RECOGNIZED,
    NGX_QOCR_URL_FETCH_FAILED,
    NGX_QOCR_IMAGE_REJECTED,
    NGX_QOCR_RATE_LIMITED,
    NGX_QOCR_UPSTREAM_AUTH_FAILED,
    NGX_QOCR_UPSTREAM_ERROR,
    NGX_QOCR_UPSTREAM_TIMEOUT,
    NGX_QOCR_UPSTREAM_UNAVAILABLE,
    NGX_QOCR_INTERNAL_ERROR,
    NGX_QOCR_ERR_LAST
} ngx_qocr_err_e;


#define NGX_QOCR_NO_CODE           NGX_MAX_INT_T_VALUE
#define NGX_QOCR_RATE_LIMITED_CODE 15


typedef struct {
    ngx_uint_t                  kind;
    ngx_str_t                   location;   /* for configuration errors */

    ngx_http_upstream_conf_t    upstream;
    ngx_str_t                   host;       /* Host header */
    ngx_str_t                   uri;        /* request path */
    ngx_uint_t                  ssl;        /* qocr_pass https:// */
    ngx_str_t                   ssl_trusted_certificate;

    ngx_str_t                   appid;
    ngx_str_t                   bucket;
    ngx_str_t                   secret_id;
    ngx_str_t                   secret_key;
    ngx_str_t                   credentials; /* file they came from */
    void                       *hmac;       /* keyed with secret_key */

    time_t                      sign_ttl;
    ngx_flag_t                  return_image;
    ngx_flag_t                  url_input;
    ngx_uint_t                  max_images;
    off_t                       max_image_size;
    size_t                      max_response_size;
} ngx_qocr_loc_conf_t;


/* an image found in the client body: a range of the body */

typedef struct {
    off_t                       start;      /* offset in the client body */
    off_t                       size;
    ngx_str_t                   source;     /* client filename, UTF-8 */
    ngx_uint_t                  has_source; /* unsigned */
    ngx_str_t                   type;       /* detected MIME type */
    ngx_str_t                   ext;        /* file name extension */
} ngx_qocr_image_t;


/* a part of a multipart/form-data body, as the parser reports it */

typedef struct {
    off_t                       start;
    off_t                       end;
    ngx_str_t                   filename;
    unsigned                    has_filename:1;
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
 * JSON written straight into one pool buffer (ngx_qocr_output.c): values
 * are appended in order, commas placed by nesting depth; a failed
 * allocation is remembered and reported once, by ngx_qocr_json_done().
 */

typedef struct {
    ngx_pool_t                 *pool;
    u_char                     *start;
    u_char                     *pos;
    u_char                     *end;
    uint64_t                    more;       /* bit d: depth d has a value */
    ngx_uint_t                  depth;
    ngx_uint_t                  failed;     /* unsigned */
} ngx_qocr_json_t;


/* the upstream reply, as far as it has been read */

typedef struct {
    ngx_uint_t                  phase;
    ngx_http_status_t           status;
    ngx_http_chunked_t          chunked;
    off_t                       content_length;
    off_t                       remaining;  /* of the body; -1: till close */
    ngx_str_t                   retry_after;
    unsigned                    is_chunked:1;
    unsigned                    connection_close:1;
    unsigned                    got_bytes:1;
    unsigned                    header_done:1;
    unsigned                    body_done:1;
    unsigned                    complete:1;
    unsigned                    extra:1;    /* bytes after the body */

    u_char                     *data;
    size_t                      len;
    size_t                      size;
} ngx_qocr_reply_t;


typedef struct {
    ngx_http_request_t         *request;
    ngx_uint_t                  kind;

    ngx_array_t                *images;     /* ngx_qocr_image_t */
    off_t                       body_size;
    ngx_str_t                   url_body;   /* the JSON sent upstream */

    ngx_str_t                   boundary;   /* of the upstream body */
    ngx_str_t                   auth;       /* the signature sent */
    ngx_chain_t                *request_bufs;

    ngx_qocr_reply_t            reply;

    ngx_qocr_err_e              err;
    ngx_qocr_err_e              item_err;   /* of the first failing image */
    const char                 *err_text;   /* NULL: the table's text */
    ngx_int_t                   upstream_code; /* NGX_QOCR_NO_CODE: none */

    unsigned                    url_input:1;
    unsigned                    held:1;     /* header kept from the client */
    unsigned                    sent:1;     /* our JSON has been sent */
} ngx_qocr_ctx_t;


extern ngx_module_t  ngx_http_qocr_module;


/* ngx_qocr_module.c */
ngx_qocr_ctx_t *ngx_qocr_create_ctx(ngx_http_request_t *r, ngx_uint_t kind);

/* ngx_qocr_body.c */
ngx_int_t ngx_qocr_parse_body(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf);
ngx_int_t ngx_qocr_body_slice(ngx_pool_t *pool, ngx_chain_t *body,
    off_t start, off_t size, ngx_chain_t ***last, ngx_uint_t in_memory,
    ngx_log_t *log);
const char *ngx_qocr_image_type(u_char *p, size_t n, ngx_str_t *type,
    ngx_str_t *ext);
ngx_int_t ngx_qocr_parse_url_json(ngx_pool_t *pool, u_char *body, size_t len,
    ngx_uint_t max_images, ngx_qocr_ctx_t *ctx);

/* ngx_qocr_multipart.c */
ngx_int_t ngx_qocr_multipart_boundary(ngx_str_t *content_type,
    ngx_str_t *boundary);
ngx_int_t ngx_qocr_multipart_init(ngx_qocr_multipart_t *mp, ngx_pool_t *pool,
    ngx_str_t *boundary, ngx_uint_t max_parts);
ngx_int_t ngx_qocr_multipart_feed(ngx_qocr_multipart_t *mp, u_char *p,
    size_t len);
ngx_int_t ngx_qocr_multipart_finish(ngx_qocr_multipart_t *mp);

/* ngx_qocr_request.c */
ngx_int_t ngx_qocr_create_request(ngx_http_request_t *r);
ngx_int_t ngx_qocr_reinit_request(ngx_http_request_t *r);
ngx_int_t ngx_qocr_url_json(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *out);

/* ngx_qocr_sign.c */
ngx_int_t ngx_qocr_sign(ngx_str_t *secret_key, ngx_str_t *plain,
    ngx_str_t *out);
ngx_int_t ngx_qocr_sign_init(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf);
ngx_int_t ngx_qocr_sign_request(ngx_pool_t *pool, ngx_qocr_loc_conf_t *qlcf,
    time_t now, uint32_t rnd, ngx_str_t *out);

/* ngx_qocr_reply.c */
void ngx_qocr_reply_init(ngx_qocr_reply_t *reply);
ngx_int_t ngx_qocr_reply_parse_header(ngx_http_request_t *r,
    ngx_qocr_reply_t *reply, ngx_buf_t *b, size_t max, const char **error);
ngx_int_t ngx_qocr_reply_parse_body(ngx_http_request_t *r,
    ngx_qocr_reply_t *reply, ngx_buf_t *b, size_t max, const char **error);
ngx_int_t ngx_qocr_reply_append(ngx_qocr_reply_t *reply, ngx_pool_t *pool,
    u_char *p, size_t n, size_t max);

/* ngx_qocr_upstream.c */
ngx_int_t ngx_qocr_process_header(ngx_http_request_t *r);
ngx_int_t ngx_qocr_input_filter_init(void *data);
ngx_int_t ngx_qocr_input_filter(void *data, ssize_t bytes);
void ngx_qocr_abort_request(ngx_http_request_t *r);
void ngx_qocr_finalize_request(ngx_http_request_t *r, ngx_int_t rc);

/* ngx_qocr_response.c */
ngx_int_t ngx_qocr_reply_code(ngx_qocr_reply_t *reply);
ngx_int_t ngx_qocr_normalize(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx, ngx_str_t *out, ngx_uint_t *status);

/* ngx_qocr_output.c */
ngx_int_t ngx_qocr_filter_init(ngx_conf_t *cf);
void ngx_qocr_set_error(ngx_qocr_ctx_t *ctx, ngx_qocr_err_e err,
    const char *message, ngx_int_t upstream_code);
ngx_qocr_err_e ngx_qocr_map_code(ngx_int_t code);
ngx_uint_t ngx_qocr_err_status(ngx_qocr_err_e err);
const char *ngx_qocr_err_name(ngx_qocr_err_e err);
const char *ngx_qocr_err_text(ngx_qocr_err_e err);
ngx_int_t ngx_qocr_error_json(ngx_pool_t *pool, ngx_uint_t kind,
    ngx_qocr_err_e err, const char *message, ngx_int_t upstream_code,
    ngx_str_t *out);
const char *ngx_qocr_kind_name(ngx_uint_t kind);
void ngx_qocr_json_init(ngx_qocr_json_t *j, ngx_pool_t *pool, size_t size);
void ngx_qocr_json_open(ngx_qocr_json_t *j, const char *key, u_char c);
void ngx_qocr_json_close(ngx_qocr_json_t *j, u_char c);
void ngx_qocr_json_string(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len);
void ngx_qocr_json_literal(ngx_qocr_json_t *j, const char *key,
    const char *literal);
void ngx_qocr_json_number(ngx_qocr_json_t *j, const char *key, double d);
ngx_int_t ngx_qocr_json_done(ngx_qocr_json_t *j, ngx_str_t *out);


#endif /* _NGX_QOCR_H_INCLUDED_ */
