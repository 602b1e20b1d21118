
/*
 * ngx_qocr: the signatures of both Tencent APIs, as plain functions.
 */


#ifndef _NGX_QOCR_SIGN_H_INCLUDED_
#define _NGX_QOCR_SIGN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_QOCR_SHA1_LEN          20
#define NGX_QOCR_SHA256_LEN        32
#define NGX_QOCR_SIGN_PLAIN_MAX    1024

#define NGX_QOCR_TC3_DATE_LEN      (sizeof("YYYY-MM-DD") - 1)
#define NGX_QOCR_TC3_HASH_LEN      (2 * NGX_QOCR_SHA256_LEN)


/* a TC3-HMAC-SHA256 request, as far as it is signed */

typedef struct {
    ngx_str_t                   secret_id;
    ngx_str_t                   service;        /* "ocr" */
    ngx_str_t                   uri;            /* "/" */
    ngx_str_t                   host;
    ngx_str_t                   content_type;
    time_t                      timestamp;
    u_char                     *payload_hash;   /* 64 lowercase hex */
} ngx_qocr_tc3_t;


/* HMAC contexts keyed once ("SHA1" or "SHA256"); NULL: no memory */
void *ngx_qocr_hmac_create(ngx_str_t *key, const char *digest);
ngx_int_t ngx_qocr_hmac(void *hmac, u_char *data, size_t len, u_char *md,
    size_t md_len);
void ngx_qocr_hmac_free(void *hmac);

/* legacy: Base64(HMAC-SHA1(SecretKey, plain) || plain) */
ngx_int_t ngx_qocr_sign_legacy(void *hmac, ngx_str_t *plain, ngx_str_t *out);
ngx_int_t ngx_qocr_sign(ngx_str_t *secret_key, ngx_str_t *plain,
    ngx_str_t *out);

/* TC3-HMAC-SHA256 */
void ngx_qocr_sha256_hex(u_char *data, size_t len, u_char *hex);
u_char *ngx_qocr_tc3_date(u_char *p, time_t ts);
ngx_int_t ngx_qocr_tc3_key(ngx_str_t *secret_key, u_char *date,
    ngx_str_t *service, u_char *key);
size_t ngx_qocr_tc3_string_to_sign(ngx_qocr_tc3_t *t, u_char *buf,
    size_t size);
size_t ngx_qocr_tc3_authorization_len(ngx_qocr_tc3_t *t);
u_char *ngx_qocr_tc3_authorization(ngx_qocr_tc3_t *t, void *hmac,
    u_char *p);


#endif /* _NGX_QOCR_SIGN_H_INCLUDED_ */
