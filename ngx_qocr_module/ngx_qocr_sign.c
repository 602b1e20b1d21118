
/*
 * ngx_qocr: the legacy multi-use signature of the OCR service (contract
 * section 4):
 *
 *   plain = "a=APPID&b=BUCKET&k=SECRETID&e=EXPIRE&t=NOW&r=RAND&u=0&f="
 *   Authorization = Base64(HMAC-SHA1(SecretKey, plain) || plain)
 *
 * The secret key is used here only; it is never logged.
 */


#include "ngx_qocr.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif


#define NGX_QOCR_SHA1_LEN  20


static void *ngx_qocr_hmac_create(ngx_str_t *key);
static ngx_int_t ngx_qocr_hmac(void *hmac, ngx_str_t *plain, u_char *md);
static void ngx_qocr_hmac_free(void *hmac);
static ngx_int_t ngx_qocr_sign_with(void *hmac, ngx_str_t *plain,
    ngx_str_t *out);


/*
 * The HMAC of a location, keyed once at configuration: OpenSSL 3 looks its
 * algorithms up by name on every one-shot HMAC() call, which cost more
 * than the rest of the request.  A worker signs one request at a time, so
 * one context per location serves them all.
 */

ngx_int_t
ngx_qocr_sign_init(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    qlcf->hmac = ngx_qocr_hmac_create(&qlcf->secret_key);

    if (qlcf->hmac == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "qocr: HMAC-SHA1 is not available from OpenSSL");
        return NGX_ERROR;
    }

    cln->handler = ngx_qocr_hmac_free;
    cln->data = qlcf->hmac;

    return NGX_OK;
}


/* the Authorization value for a given key and plain text (tests, fuzzers);
 * out is allocated by the caller with ngx_base64_encoded_length(20 +
 * plain->len) bytes */

ngx_int_t
ngx_qocr_sign(ngx_str_t *secret_key, ngx_str_t *plain, ngx_str_t *out)
{
    void       *hmac;
    ngx_int_t   rc;

    hmac = ngx_qocr_hmac_create(secret_key);
    if (hmac == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_qocr_sign_with(hmac, plain, out);

    ngx_qocr_hmac_free(hmac);

    return rc;
}


static ngx_int_t
ngx_qocr_sign_with(void *hmac, ngx_str_t *plain, ngx_str_t *out)
{
    u_char     raw[NGX_QOCR_SHA1_LEN + NGX_QOCR_SIGN_PLAIN_MAX];
    ngx_str_t  src;

    if (plain->len > NGX_QOCR_SIGN_PLAIN_MAX) {
        return NGX_ERROR;
    }

    if (ngx_qocr_hmac(hmac, plain, raw) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memcpy(raw + NGX_QOCR_SHA1_LEN, plain->data, plain->len);

    src.data = raw;
    src.len = NGX_QOCR_SHA1_LEN + plain->len;

    ngx_encode_base64(out, &src);

    OPENSSL_cleanse(raw, NGX_QOCR_SHA1_LEN);

    return NGX_OK;
}


/* rnd: a fresh random number from a CSPRNG, of at most 10 digits */

ngx_int_t
ngx_qocr_sign_request(ngx_pool_t *pool, ngx_qocr_loc_conf_t *qlcf,
    time_t now, uint32_t rnd, ngx_str_t *out)
{
    u_char     buf[NGX_QOCR_SIGN_PLAIN_MAX], *p;
    ngx_str_t  plain;

    if (qlcf->appid.len + qlcf->bucket.len + qlcf->secret_id.len
        + sizeof("a=&b=&k=&e=&t=&r=&u=0&f=") + 3 * NGX_TIME_T_LEN
        > NGX_QOCR_SIGN_PLAIN_MAX)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(buf, "a=%V&b=%V&k=%V&e=%T&t=%T&r=%uD&u=0&f=",
                    &qlcf->appid, &qlcf->bucket, &qlcf->secret_id,
                    now + qlcf->sign_ttl, now, rnd);

    plain.data = buf;
    plain.len = p - buf;

    out->data = ngx_pnalloc(pool,
                            ngx_base64_encoded_length(NGX_QOCR_SHA1_LEN
                                                      + plain.len));
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    return ngx_qocr_sign_with(qlcf->hmac, &plain, out);
}


#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)

static void *
ngx_qocr_hmac_create(ngx_str_t *key)
{
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        return NULL;
    }

    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);      /* the context keeps its own reference */

    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key->data, key->len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


static ngx_int_t
ngx_qocr_hmac(void *hmac, ngx_str_t *plain, u_char *md)
{
    size_t  len;

    /* a NULL key: the context starts over with the key it has */

    if (EVP_MAC_init(hmac, NULL, 0, NULL) != 1
        || EVP_MAC_update(hmac, plain->data, plain->len) != 1
        || EVP_MAC_final(hmac, md, &len, NGX_QOCR_SHA1_LEN) != 1
        || len != NGX_QOCR_SHA1_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_qocr_hmac_free(void *hmac)
{
    EVP_MAC_CTX_free(hmac);
}

#else

static void *
ngx_qocr_hmac_create(ngx_str_t *key)
{
    HMAC_CTX  *ctx;

    ctx = HMAC_CTX_new();
    if (ctx == NULL) {
        return NULL;
    }

    if (HMAC_Init_ex(ctx, key->data, (int) key->len, EVP_sha1(), NULL) != 1)
    {
        HMAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


static ngx_int_t
ngx_qocr_hmac(void *hmac, ngx_str_t *plain, u_char *md)
{
    unsigned int  len;

    if (HMAC_Init_ex(hmac, NULL, 0, NULL, NULL) != 1
        || HMAC_Update(hmac, plain->data, plain->len) != 1
        || HMAC_Final(hmac, md, &len) != 1
        || len != NGX_QOCR_SHA1_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_qocr_hmac_free(void *hmac)
{
    HMAC_CTX_free(hmac);
}

#endif
