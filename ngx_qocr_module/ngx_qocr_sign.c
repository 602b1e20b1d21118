
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
#include <openssl/rand.h>
#include <openssl/crypto.h>


#define NGX_QOCR_SHA1_LEN  20


/* the Authorization value for a given plain text; out is allocated by
 * the caller with ngx_base64_encoded_length(20 + plain->len) bytes */

ngx_int_t
ngx_qocr_sign(ngx_str_t *secret_key, ngx_str_t *plain, ngx_str_t *out)
{
    u_char        raw[NGX_QOCR_SHA1_LEN + NGX_QOCR_SIGN_PLAIN_MAX];
    unsigned int  len;
    ngx_str_t     src;

    if (plain->len > NGX_QOCR_SIGN_PLAIN_MAX) {
        return NGX_ERROR;
    }

    len = NGX_QOCR_SHA1_LEN;

    if (HMAC(EVP_sha1(), secret_key->data, (int) secret_key->len,
             plain->data, plain->len, raw, &len)
        == NULL || len != NGX_QOCR_SHA1_LEN)
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


ngx_int_t
ngx_qocr_sign_request(ngx_pool_t *pool, ngx_qocr_loc_conf_t *qlcf,
    time_t now, ngx_str_t *out)
{
    u_char     buf[NGX_QOCR_SIGN_PLAIN_MAX], *p;
    uint32_t   rnd;
    ngx_str_t  plain;

    /* a fresh random decimal of at most 10 digits from a CSPRNG */

    if (RAND_bytes((u_char *) &rnd, sizeof(rnd)) != 1) {
        return NGX_ERROR;
    }

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

    return ngx_qocr_sign(&qlcf->secret_key, &plain, out);
}
