
/*
 * ngx_qocr: the signatures of both Tencent APIs, as plain functions.
 *
 * Legacy (contract section 4), the multi-use signature:
 *
 *   Authorization = Base64(HMAC-SHA1(SecretKey, plain) || plain)
 *
 * API 3.0 (contract section 7), TC3-HMAC-SHA256:
 *
 *   canonical = "POST\n" uri "\n\ncontent-type:" ct "\nhost:" host
 *               "\n\ncontent-type;host\n" hex(SHA256(body))
 *   to sign   = "TC3-HMAC-SHA256\n" ts "\n" date "/" service
 *               "/tc3_request\n" hex(SHA256(canonical))
 *   key       = HMAC256(HMAC256(HMAC256("TC3" SecretKey, date), service),
 *               "tc3_request")
 *
 * Secrets are used here only; they are never logged.
 */


#include "ngx_qocr_sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/params.h>
#endif


#define NGX_QOCR_TC3_CANONICAL_MAX  4096


/*
 * A location's HMAC is keyed once: OpenSSL 3 looks its algorithms up by
 * name on every one-shot HMAC() call, which cost more than the rest of the
 * request.  A worker signs one request at a time, so one context serves
 * them all.
 */

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)

void *
ngx_qocr_hmac_create(ngx_str_t *key, const char *digest)
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
                                                 (char *) digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, key->data, key->len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


ngx_int_t
ngx_qocr_hmac(void *hmac, u_char *data, size_t len, u_char *md,
    size_t md_len)
{
    size_t  n;

    /* a NULL key: the context starts over with the key it has */

    if (EVP_MAC_init(hmac, NULL, 0, NULL) != 1
        || EVP_MAC_update(hmac, data, len) != 1
        || EVP_MAC_final(hmac, md, &n, md_len) != 1
        || n != md_len)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_qocr_hmac_free(void *hmac)
{
    EVP_MAC_CTX_free(hmac);
}

#else

void *
ngx_qocr_hmac_create(ngx_str_t *key, const char *digest)
{
    HMAC_CTX      *ctx;
    const EVP_MD  *md;

    md = EVP_get_digestbyname(digest);
    if (md == NULL) {
        return NULL;
    }

    ctx = HMAC_CTX_new();
    if (ctx == NULL) {
        return NULL;
    }

    if (HMAC_Init_ex(ctx, key->data, (int) key->len, md, NULL) != 1) {
        HMAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}


ngx_int_t
ngx_qocr_hmac(void *hmac, u_char *data, size_t len, u_char *md,
    size_t md_len)
{
    unsigned int  n;

    if (HMAC_Init_ex(hmac, NULL, 0, NULL, NULL) != 1
        || HMAC_Update(hmac, data, len) != 1
        || HMAC_Final(hmac, md, &n) != 1
        || n != md_len)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_qocr_hmac_free(void *hmac)
{
    HMAC_CTX_free(hmac);
}

#endif


/*
 * The legacy Authorization value; out is allocated by the caller with
 * ngx_base64_encoded_length(NGX_QOCR_SHA1_LEN + plain->len) bytes.
 */

ngx_int_t
ngx_qocr_sign_legacy(void *hmac, ngx_str_t *plain, ngx_str_t *out)
{
    u_char     raw[NGX_QOCR_SHA1_LEN + NGX_QOCR_SIGN_PLAIN_MAX];
    ngx_str_t  src;

    if (plain->len > NGX_QOCR_SIGN_PLAIN_MAX) {
        return NGX_ERROR;
    }

    if (ngx_qocr_hmac(hmac, plain->data, plain->len, raw, NGX_QOCR_SHA1_LEN)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(raw + NGX_QOCR_SHA1_LEN, plain->data, plain->len);

    src.data = raw;
    src.len = NGX_QOCR_SHA1_LEN + plain->len;

    ngx_encode_base64(out, &src);

    OPENSSL_cleanse(raw, NGX_QOCR_SHA1_LEN);

    return NGX_OK;
}


/* the same with a key given (tests, fuzzers) */

ngx_int_t
ngx_qocr_sign(ngx_str_t *secret_key, ngx_str_t *plain, ngx_str_t *out)
{
    void       *hmac;
    ngx_int_t   rc;

    hmac = ngx_qocr_hmac_create(secret_key, "SHA1");
    if (hmac == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_qocr_sign_legacy(hmac, plain, out);

    ngx_qocr_hmac_free(hmac);

    return rc;
}


/* 64 lowercase hex digits of SHA-256(data) */

void
ngx_qocr_sha256_hex(u_char *data, size_t len, u_char *hex)
{
    u_char        md[NGX_QOCR_SHA256_LEN];
    unsigned int  n;

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1) {
        /* cannot fail with a built-in digest; a wrong hash is refused */
        ngx_memzero(md, sizeof(md));
    }

    ngx_hex_dump(hex, md, NGX_QOCR_SHA256_LEN);
}


/* "YYYY-MM-DD", the UTC date of ts */

u_char *
ngx_qocr_tc3_date(u_char *p, time_t ts)
{
    ngx_tm_t  tm;

    ngx_gmtime(ts, &tm);

    return ngx_sprintf(p, "%4d-%02d-%02d",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday);
}


/* the signing key of a date: 32 bytes */

ngx_int_t
ngx_qocr_tc3_key(ngx_str_t *secret_key, u_char *date, ngx_str_t *service,
    u_char *key)
{
    u_char        k[3 + 256];
    ngx_str_t     s;
    ngx_uint_t    i;
    unsigned int  n;

    static u_char  tc3_request[] = "tc3_request";

    if (secret_key->len > 256) {
        return NGX_ERROR;
    }

    k[0] = 'T'; k[1] = 'C'; k[2] = '3';
    ngx_memcpy(k + 3, secret_key->data, secret_key->len);

    s.data = k;
    s.len = 3 + secret_key->len;

    for (i = 0; i < 3; i++) {

        if (i == 0) {
            if (HMAC(EVP_sha256(), s.data, (int) s.len, date,
                     NGX_QOCR_TC3_DATE_LEN, key, &n) == NULL)
            {
                goto failed;
            }

        } else if (HMAC(EVP_sha256(), key, NGX_QOCR_SHA256_LEN,
                        (i == 1) ? service->data : tc3_request,
                        (i == 1) ? service->len : sizeof(tc3_request) - 1,
                        key, &n)
                   == NULL)
        {
            goto failed;
        }
    }

    OPENSSL_cleanse(k, sizeof(k));

    return NGX_OK;

failed:

    OPENSSL_cleanse(k, sizeof(k));

    return NGX_ERROR;
}


/*
 * The string to sign, into buf of size bytes; returns its length, or 0
 * when it does not fit.
 */

size_t
ngx_qocr_tc3_string_to_sign(ngx_qocr_tc3_t *t, u_char *buf, size_t size)
{
    u_char  canonical[NGX_QOCR_TC3_CANONICAL_MAX], *p;
    u_char  hash[NGX_QOCR_TC3_HASH_LEN];
    size_t  len;

    len = sizeof("POST\n\n\ncontent-type:\nhost:\n\ncontent-type;host\n") - 1
          + t->uri.len + t->content_type.len + t->host.len
          + NGX_QOCR_TC3_HASH_LEN;

    if (len > sizeof(canonical)) {
        return 0;
    }

    p = ngx_sprintf(canonical, "POST\n%V\n\ncontent-type:%V\nhost:%V\n\n"
                               "content-type;host\n",
                    &t->uri, &t->content_type, &t->host);
    p = ngx_cpymem(p, t->payload_hash, NGX_QOCR_TC3_HASH_LEN);

    ngx_qocr_sha256_hex(canonical, p - canonical, hash);

    len = sizeof("TC3-HMAC-SHA256\n\n//tc3_request\n") - 1 + NGX_TIME_T_LEN
          + NGX_QOCR_TC3_DATE_LEN + t->service.len + NGX_QOCR_TC3_HASH_LEN;

    if (len > size) {
        return 0;
    }

    p = ngx_sprintf(buf, "TC3-HMAC-SHA256\n%T\n", t->timestamp);
    p = ngx_qocr_tc3_date(p, t->timestamp);
    p = ngx_sprintf(p, "/%V/tc3_request\n", &t->service);
    p = ngx_cpymem(p, hash, NGX_QOCR_TC3_HASH_LEN);

    return p - buf;
}


size_t
ngx_qocr_tc3_authorization_len(ngx_qocr_tc3_t *t)
{
    return sizeof("TC3-HMAC-SHA256 Credential=///tc3_request, "
                  "SignedHeaders=content-type;host, Signature=") - 1
           + t->secret_id.len + NGX_QOCR_TC3_DATE_LEN + t->service.len
           + NGX_QOCR_TC3_HASH_LEN;
}


/*
 * Writes the Authorization value at p, of at most
 * ngx_qocr_tc3_authorization_len() bytes; hmac is keyed with the signing
 * key of the timestamp's date.  Returns the end, or NULL.
 */

u_char *
ngx_qocr_tc3_authorization(ngx_qocr_tc3_t *t, void *hmac, u_char *p)
{
    u_char  sts[256 + NGX_QOCR_TC3_HASH_LEN];
    u_char  md[NGX_QOCR_SHA256_LEN];
    size_t  len;

    len = ngx_qocr_tc3_string_to_sign(t, sts, sizeof(sts));

    if (len == 0
        || ngx_qocr_hmac(hmac, sts, len, md, NGX_QOCR_SHA256_LEN) != NGX_OK)
    {
        return NULL;
    }

    p = ngx_sprintf(p, "TC3-HMAC-SHA256 Credential=%V/", &t->secret_id);
    p = ngx_qocr_tc3_date(p, t->timestamp);
    p = ngx_sprintf(p, "/%V/tc3_request, SignedHeaders=content-type;host, "
                       "Signature=", &t->service);

    return ngx_hex_dump(p, md, NGX_QOCR_SHA256_LEN);
}
