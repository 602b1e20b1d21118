
/*
 * ngx_qocr: OCR for nginx-fronted sites.
 *
 * The types the module's files share.  The files, bottom layer first (a
 * file calls only files of the layers below it):
 *
 *   plain functions, fuzzed on their own
 *     ngx_qocr_json.c       the JSON writer
 *     ngx_qocr_multipart.c  the multipart/form-data parser
 *     ngx_qocr_sign.c       both APIs' signatures (legacy, TC3)
 *     ngx_qocr_reply.c      the OCR service's HTTP reply
 *   the module's logic
 *     ngx_qocr_result.c     the normalized schema: error table, results,
 *                           the answer's JSON
 *     ngx_qocr_body.c       the client body and its checks
 *     ngx_qocr_legacy.c     the legacy API: request, signature, reply
 *     ngx_qocr_v3.c         API 3.0: request, signature, reply
 *   nginx glue
 *     ngx_qocr_upstream.c   the upstream callbacks of one OCR call
 *     ngx_qocr_batch.c      API 3.0 batches: one subrequest per image
 *     ngx_qocr_filter.c     the filter that makes every reply JSON
 *   on top
 *     ngx_qocr_module.c     directives, configuration, the handler,
 *                           variables
 *
 * The two APIs are reached through ngx_qocr_api_t, their table of
 * functions; nothing else knows which API a location speaks.
 */


#ifndef _NGX_QOCR_H_INCLUDED_
#define _NGX_QOCR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_qocr_reply.h"


#define NGX_QOCR_NAMECARD          1
#define NGX_QOCR_BANKCARD          2

#define NGX_QOCR_NAMECARD_MAX      20
#define NGX_QOCR_MAGIC_LEN         16
#define NGX_QOCR_URL_MAX           2048
#define NGX_QOCR_URL_BODY_MAX      (64 * 1024)

/* qocr_bankcard_checks */
#define NGX_QOCR_CHECK_COPY        0x0002
#define NGX_QOCR_CHECK_RESHOOT     0x0004
#define NGX_QOCR_CHECK_BORDER      0x0008
#define NGX_QOCR_CHECK_OFF         0x0010


/* normalized error codes, contract sections 5 and 8 */

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
    NGX_QOCR_UPSTREAM_BILLING,
    NGX_QOCR_UPSTREAM_ERROR,
    NGX_QOCR_UPSTREAM_TIMEOUT,
    NGX_QOCR_UPSTREAM_UNAVAILABLE,
    NGX_QOCR_INTERNAL_ERROR,
    NGX_QOCR_ERR_LAST
} ngx_qocr_err_e;


/* the keys of "fields", in the order they are written (section 8) */

enum {
    NGX_QOCR_NC_NAME = 0,
    NGX_QOCR_NC_NAME_EN,
    NGX_QOCR_NC_COMPANY,
    NGX_QOCR_NC_COMPANY_EN,
    NGX_QOCR_NC_TITLE,
    NGX_QOCR_NC_TITLE_EN,
    NGX_QOCR_NC_DEPARTMENT,
    NGX_QOCR_NC_DEPARTMENT_EN,
    NGX_QOCR_NC_PHONE,
    NGX_QOCR_NC_TEL,
    NGX_QOCR_NC_FAX,
    NGX_QOCR_NC_EMAIL,
    NGX_QOCR_NC_WEBSITE,
    NGX_QOCR_NC_ADDRESS,
    NGX_QOCR_NC_ADDRESS_EN,
    NGX_QOCR_NC_POSTCODE,
    NGX_QOCR_NC_QQ,
    NGX_QOCR_NC_WECHAT,
    NGX_QOCR_NC_WEIBO,
    NGX_QOCR_NC_MSN,
    NGX_QOCR_NC_SOCIAL,
    NGX_QOCR_NC_COMPANY_ACCOUNT,
    NGX_QOCR_NC_OTHER,
    NGX_QOCR_NC_FIELDS
};

enum {
    NGX_QOCR_BC_CARD_NUMBER = 0,
    NGX_QOCR_BC_CARD_TYPE,
    NGX_QOCR_BC_CARD_NAME,
    NGX_QOCR_BC_BANK,
    NGX_QOCR_BC_VALID_THRU,
    NGX_QOCR_BC_FIELDS
};


typedef struct ngx_qocr_ctx_s  ngx_qocr_ctx_t;
typedef struct ngx_qocr_api_s  ngx_qocr_api_t;


/* the signing key of API 3.0, derived once per UTC day */

typedef struct {
    time_t                      day;        /* days since the epoch */
    void                       *hmac;       /* keyed with that day's key */
    void                       *sha256;     /* EVP_MD, looked up once */
} ngx_qocr_tc3_cache_t;


typedef struct {
    ngx_uint_t                  kind;
    ngx_uint_t                  api_v3;     /* qocr_api v3 */
    ngx_qocr_api_t             *api;
    ngx_str_t                   location;   /* for configuration errors */

    ngx_http_upstream_conf_t    upstream;
    ngx_str_t                   host;       /* Host header */
    ngx_str_t                   uri;        /* request path */
    ngx_uint_t                  ssl;        /* qocr_pass https:// */
    ngx_str_t                   connection; /* "Connection: close" CRLF */
    ngx_str_t                   ssl_trusted_certificate;

    ngx_str_t                   appid;
    ngx_str_t                   bucket;
    ngx_str_t                   secret_id;
    ngx_str_t                   secret_key;
    ngx_str_t                   token;      /* API 3.0 temporary key */
    ngx_str_t                   credentials; /* file they came from */
    void                       *hmac;       /* legacy: keyed SHA1 */
    ngx_qocr_tc3_cache_t       *tc3;

    ngx_str_t                   region;     /* empty: none sent */
    ngx_str_t                   options;    /* v3: after the image */
    ngx_uint_t                  parallel;
    ngx_uint_t                  bankcard_checks;

    time_t                      sign_ttl;
    ngx_flag_t                  return_image;
    ngx_flag_t                  url_input;
    ngx_uint_t                  max_images;
    off_t                       max_image_size;
    size_t                      max_response_size;
} ngx_qocr_loc_conf_t;


/* an image of the client's: a range of the client body, or a URL */

typedef struct {
    off_t                       start;      /* offset in the client body */
    off_t                       size;
    ngx_str_t                   source;     /* filename or URL, UTF-8 */
    ngx_uint_t                  has_source; /* unsigned */
    ngx_str_t                   type;       /* detected MIME type */
    ngx_str_t                   ext;        /* file name extension */
} ngx_qocr_image_t;


/* the OCR service's code: a number (legacy) or a string (API 3.0) */

typedef struct {
    ngx_str_t                   text;       /* len 0: none */
    ngx_uint_t                  string;     /* unsigned */
} ngx_qocr_code_t;


/* a recognized field; value.data NULL: the field is null */

typedef struct {
    ngx_str_t                   value;
    ngx_str_t                   code;       /* bank: the bank's code */
    ngx_array_t                *values;     /* ngx_str_t, when several */
    double                      confidence;
    double                      box[4];     /* x, y, width, height */
    unsigned                    has_confidence:1;
    unsigned                    has_box:1;
} ngx_qocr_field_t;


/* the normalized result of one image (contract section 8) */

typedef struct {
    ngx_qocr_err_e              err;        /* NGX_QOCR_OK: "ok": true */
    const char                 *message;    /* NULL: the table's */
    ngx_qocr_code_t             code;
    ngx_qocr_field_t           *fields;
    ngx_array_t                *warnings;   /* ngx_str_t */
    ngx_str_t                   request_id;
    ngx_str_t                   image;      /* base64; len 0: none */
} ngx_qocr_result_t;


/* an API: what the shared code asks of it */

struct ngx_qocr_api_s {
    /* one call an image (a batch of calls), or one for every image */
    ngx_uint_t   per_image;
    /* a location's configuration, checked and completed */
    ngx_int_t  (*init_conf)(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf);
    /* NULL, or why an image of this type is refused */
    const char *(*refuse_type)(ngx_uint_t kind, ngx_str_t *ext);
    /* the upstream request of a call: ctx->request_bufs */
    ngx_int_t  (*create_request)(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
                                 ngx_qocr_loc_conf_t *qlcf);
    /* a retry: the same bytes again */
    ngx_int_t  (*reinit_request)(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
                                 ngx_qocr_loc_conf_t *qlcf);
    /* the complete reply says the service is rate limiting */
    ngx_uint_t (*rate_limited)(ngx_qocr_ctx_t *ctx);
    /* the complete reply into the call's results, or a request error */
    ngx_int_t  (*parse_reply)(ngx_pool_t *pool, ngx_log_t *log,
                              ngx_qocr_ctx_t *ctx);
};


struct ngx_qocr_ctx_s {
    ngx_uint_t                  kind;
    ngx_qocr_loc_conf_t        *conf;

    ngx_array_t                *images;     /* ngx_qocr_image_t */
    off_t                       body_size;

    /* a call: images [first, first + count), results of them */
    ngx_uint_t                  first;
    ngx_uint_t                  count;
    ngx_qocr_result_t          *results;
    ngx_uint_t                  sent;       /* images sent upstream */

    ngx_str_t                   boundary;   /* legacy multipart body */
    ngx_str_t                   auth;       /* legacy signature */
    ngx_str_t                   url_body;   /* legacy URL JSON */
    ngx_chain_t                *request_bufs;
    u_char                     *body;       /* v3: the body, to free */

    ngx_qocr_reply_t            reply;
    ngx_array_t                *strings;    /* long strings of the reply */

    ngx_qocr_err_e              err;        /* of the whole request */
    const char                 *err_text;   /* NULL: the table's text */
    ngx_qocr_code_t             upstream_code;

    /* a batch (the main request) and its calls (subrequests) */
    ngx_qocr_ctx_t             *main;       /* of a call: the batch */
    ngx_http_request_t        **calls;
    ngx_uint_t                  next;
    ngx_uint_t                  inflight;
    ngx_uint_t                  finished;
    ngx_int_t                   fatal;      /* -1, or the failing index */

    unsigned                    url_input:1;
    unsigned                    results_ready:1;
    unsigned                    call_done:1;
    unsigned                    answered:1;
    unsigned                    held:1;     /* header kept from the client */
    unsigned                    out:1;      /* our JSON has been sent */
};


extern ngx_module_t    ngx_http_qocr_module;

extern ngx_qocr_api_t  ngx_qocr_legacy_api;
extern ngx_qocr_api_t  ngx_qocr_v3_api;


#endif /* _NGX_QOCR_H_INCLUDED_ */
