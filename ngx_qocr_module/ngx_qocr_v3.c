
/*
 * ngx_qocr: Tencent Cloud API 3.0 (contract sections 6 to 8): the request
 * of one call, its TC3-HMAC-SHA256 signature, and the reply turned into
 * the normalized result of its image.
 *
 *   POST / HTTP/1.1
 *   Host: <host of qocr_pass>
 *   Content-Type: application/json
 *   Content-Length: <n>
 *   X-TC-Action: BusinessCardOCR | BankCardOCR
 *   X-TC-Version: 2018-11-19
 *   X-TC-Timestamp: <unix seconds>
 *   X-TC-Region: <qocr_region>                  (unless off)
 *   X-TC-Token: <token>                          (only with a token)
 *   Authorization: TC3-HMAC-SHA256 Credential=...
 *
 *   {"ImageBase64":"..."} or {"ImageUrl":"..."}, then the options
 *
 * One call is one image.  The image is base64-encoded once, from nginx's
 * own body buffers or temp file, straight into the body, which is hashed
 * as it is written; its length is known before: the Content-Length is
 * exact and a retry sends the same bytes.
 */


#include "ngx_qocr.h"
#include "ngx_qocr_body.h"
#include "ngx_qocr_result.h"
#include "ngx_qocr_sign.h"

#include <openssl/evp.h>
#include <cjson/cJSON.h>


/* the image's base64, written and hashed as the body walk hands it over */

typedef struct {
    u_char                     *pos;
    u_char                      carry[3];
    size_t                      ncarry;
    EVP_MD_CTX                 *md;
} ngx_qocr_b64_t;


typedef struct {
    ngx_str_t                   code;
    ngx_qocr_err_e              err;
} ngx_qocr_v3_error_t;


typedef struct {
    ngx_int_t                   code;
    const char                 *name;
} ngx_qocr_v3_warning_t;


static ngx_int_t ngx_qocr_v3_init_conf(ngx_conf_t *cf,
    ngx_qocr_loc_conf_t *qlcf);
static const char *ngx_qocr_v3_refuse_type(ngx_uint_t kind, ngx_str_t *ext);
static ngx_int_t ngx_qocr_v3_create_request(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_int_t ngx_qocr_v3_reinit_request(ngx_http_request_t *r,
    ngx_qocr_ctx_t *ctx, ngx_qocr_loc_conf_t *qlcf);
static ngx_uint_t ngx_qocr_v3_rate_limited(ngx_qocr_ctx_t *ctx);
static ngx_int_t ngx_qocr_v3_parse_reply(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx);

static void ngx_qocr_v3_cache_free(void *data);
static void *ngx_qocr_v3_hmac(ngx_qocr_loc_conf_t *qlcf, time_t now);
static ngx_int_t ngx_qocr_v3_body(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *body, u_char *hash);
static ngx_int_t ngx_qocr_b64_feed(void *data, u_char *p, size_t n);
static ngx_int_t ngx_qocr_b64_write(ngx_qocr_b64_t *b64, u_char *p,
    size_t n);
static ngx_qocr_err_e ngx_qocr_v3_map_code(u_char *code, size_t len);
static ngx_int_t ngx_qocr_v3_error(ngx_qocr_ctx_t *ctx, ngx_log_t *log,
    cJSON *error);
static ngx_int_t ngx_qocr_v3_namecard(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    cJSON *resp);
static ngx_int_t ngx_qocr_v3_bankcard(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx,
    cJSON *resp);
static void ngx_qocr_v3_string(ngx_qocr_ctx_t *ctx, cJSON *obj,
    const char *key, ngx_str_t *s);
static void ngx_qocr_v3_box(ngx_qocr_field_t *f, cJSON *coord);
static void ngx_qocr_v3_failed(ngx_qocr_result_t *res, ngx_qocr_err_e err,
    const char *message);


ngx_qocr_api_t  ngx_qocr_v3_api = {
    1,
    ngx_qocr_v3_init_conf,
    ngx_qocr_v3_refuse_type,
    ngx_qocr_v3_create_request,
    ngx_qocr_v3_reinit_request,
    ngx_qocr_v3_rate_limited,
    ngx_qocr_v3_parse_reply
};


/* section 8's table; a code not here is matched by its dotted prefixes */

#define ngx_qocr_v3_code(s, e)  { ngx_string(s), NGX_QOCR_ ## e }

static ngx_qocr_v3_error_t  ngx_qocr_v3_errors[] = {
    ngx_qocr_v3_code("InvalidParameter", BAD_REQUEST),
    ngx_qocr_v3_code("InvalidParameterValue", BAD_REQUEST),
    ngx_qocr_v3_code("FailedOperation.EmptyImageError", IMAGE_EMPTY),
    ngx_qocr_v3_code("LimitExceeded.TooLargeFileError", IMAGE_TOO_LARGE),
    ngx_qocr_v3_code("FailedOperation.ImageSizeTooLarge", IMAGE_TOO_LARGE),
    ngx_qocr_v3_code("InvalidParameterValue.InvalidFileContentSize",
                     IMAGE_TOO_LARGE),
    ngx_qocr_v3_code("RequestSizeLimitExceeded", IMAGE_TOO_LARGE),
    ngx_qocr_v3_code("FailedOperation.UnKnowFileTypeError",
                     UNSUPPORTED_MEDIA_TYPE),
    ngx_qocr_v3_code("FailedOperation.ImageDecodeFailed",
                     IMAGE_DECODE_FAILED),
    ngx_qocr_v3_code("InvalidParameter.EngineImageDecodeFailed",
                     IMAGE_DECODE_FAILED),
    ngx_qocr_v3_code("FailedOperation.NoBankCardError", NOT_RECOGNIZED),
    ngx_qocr_v3_code("FailedOperation.ImageNoBusinessCard", NOT_RECOGNIZED),
    ngx_qocr_v3_code("FailedOperation.ImageNoText", NOT_RECOGNIZED),
    ngx_qocr_v3_code("FailedOperation.OcrFailed", NOT_RECOGNIZED),
    ngx_qocr_v3_code("FailedOperation.DetectFailed", NOT_RECOGNIZED),
    ngx_qocr_v3_code("FailedOperation.DownLoadError", URL_FETCH_FAILED),
    ngx_qocr_v3_code("ResourceUnavailable.ImageDownloadError",
                     URL_FETCH_FAILED),
    ngx_qocr_v3_code("FailedOperation.IllegalBankCardError", IMAGE_REJECTED),
    ngx_qocr_v3_code("FailedOperation.ImageBlur", IMAGE_REJECTED),
    ngx_qocr_v3_code("FailedOperation.MultiCardError", IMAGE_REJECTED),
    ngx_qocr_v3_code("RequestLimitExceeded", RATE_LIMITED),
    ngx_qocr_v3_code("AuthFailure", UPSTREAM_AUTH_FAILED),
    ngx_qocr_v3_code("UnauthorizedOperation", UPSTREAM_AUTH_FAILED),
    ngx_qocr_v3_code("UnsupportedRegion", UPSTREAM_AUTH_FAILED),
    ngx_qocr_v3_code("IpInBlacklist", UPSTREAM_AUTH_FAILED),
    ngx_qocr_v3_code("IpNotInWhitelist", UPSTREAM_AUTH_FAILED),
    ngx_qocr_v3_code("ResourceUnavailable.InArrears", UPSTREAM_BILLING),
    ngx_qocr_v3_code("ResourceUnavailable.ResourcePackageRunOut",
                     UPSTREAM_BILLING),
    ngx_qocr_v3_code("FailedOperation.ArrearsError", UPSTREAM_BILLING),
    ngx_qocr_v3_code("ResourcesSoldOut.ChargeStatusException",
                     UPSTREAM_BILLING),
    ngx_qocr_v3_code("FailedOperation.UnOpenError", UPSTREAM_BILLING),
    ngx_qocr_v3_code("FailedOperation.CountLimitError", UPSTREAM_BILLING),
    ngx_qocr_v3_code("LimitExceeded", UPSTREAM_BILLING),
    ngx_qocr_v3_code("FailedOperation.EngineRecognizeTimeout",
                     UPSTREAM_TIMEOUT),
    ngx_qocr_v3_code("ServiceUnavailable", UPSTREAM_UNAVAILABLE),
    ngx_qocr_v3_code("ResourceInsufficient", UPSTREAM_UNAVAILABLE),
    ngx_qocr_v3_code("ResourceUnavailable", UPSTREAM_UNAVAILABLE),
    ngx_qocr_v3_code("InternalError", UPSTREAM_ERROR),
    ngx_qocr_v3_code("FailedOperation", UPSTREAM_ERROR),
    { ngx_null_string, NGX_QOCR_OK }
};


/*
 * The business card's Name of each key of section 8, in UTF-8: 姓名,
 * 英文姓名, 公司, 英文公司, 职位, 英文职位, 部门, 英文部门, 手机, 电话,
 * 传真, 邮箱, 网址, 地址, 英文地址, 邮编, QQ, 微信, 微博, MSN, 社交账号,
 * 公司账号; 其他 and any other name go to "other".
 */

static const char  *ngx_qocr_v3_names[] = {
    "\xe5\xa7\x93\xe5\x90\x8d",
    "\xe8\x8b\xb1\xe6\x96\x87\xe5\xa7\x93\xe5\x90\x8d",
    "\xe5\x85\xac\xe5\x8f\xb8",
    "\xe8\x8b\xb1\xe6\x96\x87\xe5\x85\xac\xe5\x8f\xb8",
    "\xe8\x81\x8c\xe4\xbd\x8d",
    "\xe8\x8b\xb1\xe6\x96\x87\xe8\x81\x8c\xe4\xbd\x8d",
    "\xe9\x83\xa8\xe9\x97\xa8",
    "\xe8\x8b\xb1\xe6\x96\x87\xe9\x83\xa8\xe9\x97\xa8",
    "\xe6\x89\x8b\xe6\x9c\xba",
    "\xe7\x94\xb5\xe8\xaf\x9d",
    "\xe4\xbc\xa0\xe7\x9c\x9f",
    "\xe9\x82\xae\xe7\xae\xb1",
    "\xe7\xbd\x91\xe5\x9d\x80",
    "\xe5\x9c\xb0\xe5\x9d\x80",
    "\xe8\x8b\xb1\xe6\x96\x87\xe5\x9c\xb0\xe5\x9d\x80",
    "\xe9\x82\xae\xe7\xbc\x96",
    "QQ",
    "\xe5\xbe\xae\xe4\xbf\xa1",
    "\xe5\xbe\xae\xe5\x8d\x9a",
    "MSN",
    "\xe7\xa4\xbe\xe4\xba\xa4\xe8\xb4\xa6\xe5\x8f\xb7",
    "\xe5\x85\xac\xe5\x8f\xb8\xe8\xb4\xa6\xe5\x8f\xb7"
};


static u_char  ngx_qocr_b64_pairs[4096][2];


static ngx_qocr_v3_warning_t  ngx_qocr_v3_warnings[] = {
    { -9110, "date_invalid" },
    { -9111, "border_incomplete" },
    { -9112, "glare" },
    { -9113, "photocopy" },
    { -9114, "reshoot" },
    { 0, NULL }
};


static ngx_int_t
ngx_qocr_v3_init_conf(ngx_conf_t *cf, ngx_qocr_loc_conf_t *qlcf)
{
    u_char              *p;
    ngx_pool_cleanup_t  *cln;

    ngx_uint_t   i;

    static char  config[] = ",\"Config\":"
                            "\"{\\\"RetImageType\\\":\\\"PROPROCESS\\\"}\"";
    static char  basis[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "abcdefghijklmnopqrstuvwxyz0123456789+/";

    for (i = 0; i < 4096; i++) {
        ngx_qocr_b64_pairs[i][0] = basis[i >> 6];
        ngx_qocr_b64_pairs[i][1] = basis[i & 0x3f];
    }

    qlcf->tc3 = ngx_pcalloc(cf->pool, sizeof(ngx_qocr_tc3_cache_t));
    if (qlcf->tc3 == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_qocr_v3_cache_free;
    cln->data = qlcf->tc3;

    /* OpenSSL 3 looks EVP_sha256() up by name on every digest it starts */

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    qlcf->tc3->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    qlcf->tc3->sha256 = (void *) EVP_sha256();
#endif

    if (qlcf->tc3->sha256 == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "qocr: SHA-256 is not available from OpenSSL");
        return NGX_ERROR;
    }

    if (qlcf->uri.len == 0) {
        ngx_str_set(&qlcf->uri, "/");
    }

    if (qlcf->max_image_size == NGX_CONF_UNSET) {
        qlcf->max_image_size = (qlcf->kind == NGX_QOCR_BANKCARD)
                               ? 7 * 1024 * 1024 : 5 * 1024 * 1024;
    }

    /* the options after the image, in the order of section 7 */

    p = ngx_pnalloc(cf->pool, sizeof(config) + 100);
    if (p == NULL) {
        return NGX_ERROR;
    }

    qlcf->options.data = p;

    if (qlcf->kind == NGX_QOCR_NAMECARD) {
        if (qlcf->return_image) {
            p = ngx_cpymem(p, config, sizeof(config) - 1);
        }

    } else {
        if (qlcf->return_image) {
            p = ngx_cpymem(p, ",\"RetBorderCutImage\":true", 25);
        }

        if (qlcf->bankcard_checks & NGX_QOCR_CHECK_COPY) {
            p = ngx_cpymem(p, ",\"EnableCopyCheck\":true", 23);
        }

        if (qlcf->bankcard_checks & NGX_QOCR_CHECK_RESHOOT) {
            p = ngx_cpymem(p, ",\"EnableReshootCheck\":true", 26);
        }

        if (qlcf->bankcard_checks & NGX_QOCR_CHECK_BORDER) {
            p = ngx_cpymem(p, ",\"EnableBorderCheck\":true", 25);
        }
    }

    qlcf->options.len = p - qlcf->options.data;

    return NGX_OK;
}


static void
ngx_qocr_v3_cache_free(void *data)
{
    ngx_qocr_tc3_cache_t  *cache = data;

    if (cache->hmac) {
        ngx_qocr_hmac_free(cache->hmac);
        cache->hmac = NULL;
    }

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    if (cache->sha256) {
        EVP_MD_free(cache->sha256);
        cache->sha256 = NULL;
    }
#endif
}


/* section 6: namecard PNG or JPEG; bank card PNG, JPEG or BMP */

static const char *
ngx_qocr_v3_refuse_type(ngx_uint_t kind, ngx_str_t *ext)
{
    if ((ext->len == 3 && ngx_strncmp(ext->data, "jpg", 3) == 0)
        || (ext->len == 3 && ngx_strncmp(ext->data, "png", 3) == 0))
    {
        return NULL;
    }

    if (kind == NGX_QOCR_BANKCARD) {
        if (ext->len == 3 && ngx_strncmp(ext->data, "bmp", 3) == 0) {
            return NULL;
        }

        return "API 3.0 takes PNG, JPEG or BMP images of bank cards";
    }

    return "API 3.0 takes PNG or JPEG images of business cards";
}


/*
 * The HMAC keyed with the signing key of the day of "now", derived once
 * per UTC day and location.
 */

static void *
ngx_qocr_v3_hmac(ngx_qocr_loc_conf_t *qlcf, time_t now)
{
    u_char                 key[NGX_QOCR_SHA256_LEN];
    u_char                 date[NGX_QOCR_TC3_DATE_LEN];
    void                  *hmac;
    time_t                 day;
    ngx_str_t              service, k;
    ngx_qocr_tc3_cache_t  *cache;

    cache = qlcf->tc3;
    day = now / 86400;

    if (cache->hmac && cache->day == day) {
        return cache->hmac;
    }

    ngx_str_set(&service, "ocr");
    ngx_qocr_tc3_date(date, now);

    if (ngx_qocr_tc3_key(&qlcf->secret_key, date, &service, key) != NGX_OK) {
        return NULL;
    }

    k.data = key;
    k.len = sizeof(key);

    hmac = ngx_qocr_hmac_create(&k, "SHA256");

    ngx_explicit_memzero(key, sizeof(key));

    if (hmac == NULL) {
        return NULL;
    }

    if (cache->hmac) {
        ngx_qocr_hmac_free(cache->hmac);
    }

    cache->hmac = hmac;
    cache->day = day;

    return hmac;
}


static ngx_int_t
ngx_qocr_v3_create_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    u_char          hash[NGX_QOCR_TC3_HASH_LEN];
    void           *hmac;
    size_t          len;
    ngx_buf_t      *b, *hb;
    ngx_str_t       body;
    const char     *action;
    ngx_chain_t    *cl, *hcl;
    ngx_qocr_tc3_t  tc3;

    if (ngx_qocr_v3_body(r, ctx, qlcf, &body, hash) != NGX_OK) {
        return NGX_ERROR;
    }

    action = (ctx->kind == NGX_QOCR_BANKCARD) ? "BankCardOCR"
                                              : "BusinessCardOCR";

    tc3.secret_id = qlcf->secret_id;
    ngx_str_set(&tc3.service, "ocr");
    tc3.uri = qlcf->uri;
    tc3.host = qlcf->host;
    ngx_str_set(&tc3.content_type, "application/json");
    tc3.timestamp = ngx_time();
    tc3.payload_hash = hash;

    hmac = ngx_qocr_v3_hmac(qlcf, tc3.timestamp);
    if (hmac == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: the TC3 signing key cannot be derived");
        return NGX_ERROR;
    }

    len = sizeof("POST  HTTP/1.1" CRLF) - 1 + qlcf->uri.len
          + sizeof("Host: " CRLF) - 1 + qlcf->host.len
          + qlcf->connection.len
          + sizeof("Content-Type: application/json" CRLF) - 1
          + sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN
          + sizeof("X-TC-Action: BusinessCardOCR" CRLF) - 1
          + sizeof("X-TC-Version: 2018-11-19" CRLF) - 1
          + sizeof("X-TC-Timestamp: " CRLF) - 1 + NGX_TIME_T_LEN
          + sizeof("X-TC-Region: " CRLF) - 1 + qlcf->region.len
          + sizeof("X-TC-Token: " CRLF) - 1 + qlcf->token.len
          + sizeof("Authorization: " CRLF CRLF) - 1
          + ngx_qocr_tc3_authorization_len(&tc3);

    hb = ngx_create_temp_buf(r->pool, len);
    if (hb == NULL) {
        return NGX_ERROR;
    }

    hb->last = ngx_sprintf(hb->last, "POST %V HTTP/1.1" CRLF
                                     "Host: %V" CRLF
                                     "%V"
                                     "Content-Type: application/json" CRLF
                                     "Content-Length: %uz" CRLF
                                     "X-TC-Action: %s" CRLF
                                     "X-TC-Version: 2018-11-19" CRLF
                                     "X-TC-Timestamp: %T" CRLF,
                           &qlcf->uri, &qlcf->host, &qlcf->connection,
                           body.len, action, tc3.timestamp);

    if (qlcf->region.len) {
        hb->last = ngx_sprintf(hb->last, "X-TC-Region: %V" CRLF,
                               &qlcf->region);
    }

    if (qlcf->token.len) {
        hb->last = ngx_sprintf(hb->last, "X-TC-Token: %V" CRLF,
                               &qlcf->token);
    }

    hb->last = ngx_cpymem(hb->last, "Authorization: ", 15);

    hb->last = ngx_qocr_tc3_authorization(&tc3, hmac, hb->last);
    if (hb->last == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: TC3 signing failed");
        return NGX_ERROR;
    }

    *hb->last++ = CR; *hb->last++ = LF;
    *hb->last++ = CR; *hb->last++ = LF;

    b = ngx_calloc_buf(r->pool);
    hcl = ngx_alloc_chain_link(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (b == NULL || hcl == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->start = body.data;
    b->pos = body.data;
    b->last = body.data + body.len;
    b->end = b->last;
    b->memory = 1;
    b->flush = 1;

    hcl->buf = hb;
    hcl->next = cl;
    cl->buf = b;
    cl->next = NULL;

    ctx->request_bufs = hcl;

    return NGX_OK;
}


/* the chain is all in memory: nginx rewinds it, the same bytes go again */

static ngx_int_t
ngx_qocr_v3_reinit_request(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf)
{
    return NGX_OK;
}


/*
 * The body, {"ImageBase64":"..."} or {"ImageUrl":"..."} and the options,
 * in one allocation of its exact length, and the hex SHA-256 of it.
 */

static ngx_int_t
ngx_qocr_v3_body(ngx_http_request_t *r, ngx_qocr_ctx_t *ctx,
    ngx_qocr_loc_conf_t *qlcf, ngx_str_t *body, u_char *hash)
{
    u_char            *p, md[NGX_QOCR_SHA256_LEN];
    size_t             len, esc;
    ngx_int_t          rc;
    unsigned int       n;
    ngx_qocr_b64_t     b64;
    ngx_qocr_image_t  *img;

    img = (ngx_qocr_image_t *) ctx->images->elts + ctx->first;

    if (ctx->url_input) {
        esc = ngx_escape_json(NULL, img->source.data, img->source.len);
        len = sizeof("{\"ImageUrl\":\"\"}") - 1 + img->source.len + esc;

    } else {
        len = sizeof("{\"ImageBase64\":\"\"}") - 1
              + ngx_base64_encoded_length((size_t) img->size);
    }

    len += qlcf->options.len;

    /* a large allocation: freed by the batch when the call is over */

    body->data = ngx_palloc(r->pool, len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    body->len = len;
    ctx->body = body->data;

    b64.md = EVP_MD_CTX_new();
    if (b64.md == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_DigestInit_ex(b64.md, qlcf->tc3->sha256, NULL) != 1) {
        goto done;
    }

    p = body->data;

    if (ctx->url_input) {
        p = ngx_cpymem(p, "{\"ImageUrl\":\"", 13);
        p = (u_char *) ngx_escape_json(p, img->source.data, img->source.len);

    } else {
        p = ngx_cpymem(p, "{\"ImageBase64\":\"", 16);

        if (EVP_DigestUpdate(b64.md, body->data, p - body->data) != 1) {
            goto done;
        }

        b64.pos = p;
        b64.ncarry = 0;

        if (ngx_qocr_body_walk(r->pool, r->request_body->bufs, img->start,
                               img->size, ngx_qocr_b64_feed, &b64,
                               r->connection->log)
            != NGX_OK
            || ngx_qocr_b64_write(&b64, b64.carry, b64.ncarry) != NGX_OK)
        {
            goto done;
        }

        p = b64.pos;
    }

    /* what was not hashed yet: the URL's prefix or the image's end */

    *p++ = '"';
    p = ngx_cpymem(p, qlcf->options.data, qlcf->options.len);
    *p++ = '}';

    if (ctx->url_input) {
        b64.pos = body->data;
    }

    if (EVP_DigestUpdate(b64.md, b64.pos, p - b64.pos) != 1
        || EVP_DigestFinal_ex(b64.md, md, &n) != 1)
    {
        goto done;
    }

    if ((size_t) (p - body->data) != len) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "qocr: the API 3.0 body is %uz bytes, not %uz",
                      (size_t) (p - body->data), len);
        goto done;
    }

    ngx_hex_dump(hash, md, NGX_QOCR_SHA256_LEN);

    rc = NGX_OK;

done:

    EVP_MD_CTX_free(b64.md);

    return rc;
}


/* whole groups of three bytes are encoded at once; the rest is carried */

static ngx_int_t
ngx_qocr_b64_feed(void *data, u_char *p, size_t n)
{
    ngx_qocr_b64_t *b64 = data;

    size_t  k;

    if (b64->ncarry) {
        k = ngx_min(3 - b64->ncarry, n);

        ngx_memcpy(b64->carry + b64->ncarry, p, k);
        b64->ncarry += k;
        p += k;
        n -= k;

        if (b64->ncarry < 3) {
            return NGX_OK;
        }

        if (ngx_qocr_b64_write(b64, b64->carry, 3) != NGX_OK) {
            return NGX_ERROR;
        }

        b64->ncarry = 0;
    }

    k = n - n % 3;

    if (ngx_qocr_b64_write(b64, p, k) != NGX_OK) {
        return NGX_ERROR;
    }

    b64->ncarry = n - k;
    ngx_memcpy(b64->carry, p + k, b64->ncarry);

    return NGX_OK;
}


/*
 * Standard base64, padded.  Whole groups of three bytes take two lookups
 * in a table of the 4,096 pairs of characters (a third of the work of
 * ngx_encode_base64(), which the tail of one or two bytes goes to).
 */

static ngx_int_t
ngx_qocr_b64_write(ngx_qocr_b64_t *b64, u_char *p, size_t n)
{
    u_char     *d, *last;
    uint32_t    v;
    ngx_str_t   src, dst;

    if (n == 0) {
        return NGX_OK;
    }

    d = b64->pos;
    last = p + n - n % 3;

    for ( /* void */ ; p < last; p += 3) {
        v = ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];

        ngx_memcpy(d, ngx_qocr_b64_pairs[v >> 12], 2);
        ngx_memcpy(d + 2, ngx_qocr_b64_pairs[v & 0xfff], 2);
        d += 4;
    }

    if (n % 3) {
        src.data = p;
        src.len = n % 3;
        dst.data = d;

        ngx_encode_base64(&dst, &src);
        d += dst.len;
    }

    if (EVP_DigestUpdate(b64->md, b64->pos, d - b64->pos) != 1) {
        return NGX_ERROR;
    }

    b64->pos = d;

    return NGX_OK;
}


/* "RequestLimitExceeded" or one of its sub-codes */

static ngx_uint_t
ngx_qocr_v3_rate_limited(ngx_qocr_ctx_t *ctx)
{
    cJSON       *json, *code;
    ngx_uint_t   limited;

    json = cJSON_ParseWithLength((char *) ctx->reply.data, ctx->reply.len);

    code = cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(json, "Response"),
                   "Error"),
               "Code");

    limited = cJSON_IsString(code)
              && ngx_qocr_v3_map_code((u_char *) code->valuestring,
                                      ngx_strlen(code->valuestring))
                 == NGX_QOCR_RATE_LIMITED;

    cJSON_Delete(json);

    return limited;
}


/*
 * A call's reply into the result of its image.  HTTP 200 and
 * {"Response": {...}} only; anything else is not the service's reply.
 * NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_qocr_v3_parse_reply(ngx_pool_t *pool, ngx_log_t *log,
    ngx_qocr_ctx_t *ctx)
{
    cJSON              *json, *resp, *error;
    ngx_uint_t          status;
    ngx_qocr_result_t  *res;

    res = ctx->results;
    status = ctx->reply.status.code;

    if (status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service answered HTTP %ui", status);

        ngx_qocr_v3_failed(res, (status >= 500) ? NGX_QOCR_UPSTREAM_UNAVAILABLE
                                                : NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service answered with an HTTP error");
        return NGX_OK;
    }

    json = ngx_qocr_parse_json(pool, ctx);
    resp = cJSON_GetObjectItemCaseSensitive(json, "Response");

    if (!cJSON_IsObject(json) || !cJSON_IsObject(resp)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service's reply is not "
                      "{\"Response\": {...}} (%uz bytes)", ctx->reply.len);

        ngx_qocr_v3_failed(res, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is not JSON");
        return NGX_OK;
    }

    ngx_qocr_v3_string(ctx, resp, "RequestId", &res->request_id);

    error = cJSON_GetObjectItemCaseSensitive(resp, "Error");

    if (error) {
        return ngx_qocr_v3_error(ctx, log, error);
    }

    if (ngx_qocr_result_fields(pool, res, ctx->kind) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->kind == NGX_QOCR_BANKCARD) {
        return ngx_qocr_v3_bankcard(pool, ctx, resp);
    }

    return ngx_qocr_v3_namecard(pool, ctx, resp);
}


static ngx_int_t
ngx_qocr_v3_error(ngx_qocr_ctx_t *ctx, ngx_log_t *log, cJSON *error)
{
    ngx_qocr_result_t  *res;

    res = ctx->results;

    ngx_qocr_v3_string(ctx, error, "Code", &res->code.text);

    if (res->code.text.data == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service's error has no code");

        ngx_qocr_v3_failed(res, NGX_QOCR_UPSTREAM_ERROR,
                           "the OCR service's reply is invalid");
        return NGX_OK;
    }

    res->code.string = 1;

    res->err = ngx_qocr_v3_map_code(res->code.text.data, res->code.text.len);

    switch (res->err) {

    case NGX_QOCR_UPSTREAM_AUTH_FAILED:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service refused the request's "
                      "signature or account: %V; check the credentials "
                      "and qocr_region%s", &res->code.text,
                      (res->code.text.len == 27
                       && ngx_strncmp(res->code.text.data,
                                      "AuthFailure.SignatureExpire", 27)
                          == 0)
                      ? ", and this server's clock (the timestamp signed "
                        "is more than 5 minutes off)" : "");
        break;

    case NGX_QOCR_UPSTREAM_BILLING:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service refused the account: %V; it "
                      "is in arrears, out of its resource package or the "
                      "service is not activated", &res->code.text);
        break;

    case NGX_QOCR_UPSTREAM_ERROR:
    case NGX_QOCR_BAD_REQUEST:
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "qocr: the OCR service failed the call: %V",
                      &res->code.text);
        break;

    default:
        break;
    }

    return NGX_OK;
}


/* the exact code, else its longest dotted prefix in the table */

static ngx_qocr_err_e
ngx_qocr_v3_map_code(u_char *code, size_t len)
{
    ngx_qocr_v3_error_t  *e;

    while (len) {

        for (e = ngx_qocr_v3_errors; e->code.len; e++) {
            if (e->code.len == len
                && ngx_strncmp(e->code.data, code, len) == 0)
            {
                return e->err;
            }
        }

        while (len && code[len - 1] != '.') {
            len--;
        }

        if (len) {
            len--;      /* the dot */
        }
    }

    return NGX_QOCR_UPSTREAM_ERROR;
}


/*
 * BusinessCardInfos: [{"Name", "Value", "ItemCoord": {"X", "Y", "Width",
 * "Height"}}]; a Name not in the table goes to "other".
 */

static ngx_int_t
ngx_qocr_v3_namecard(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx, cJSON *resp)
{
    cJSON              *infos, *it, *name;
    ngx_str_t           value;
    ngx_uint_t          k;
    ngx_qocr_field_t   *f;
    ngx_qocr_result_t  *res;

    res = ctx->results;

    infos = cJSON_GetObjectItemCaseSensitive(resp, "BusinessCardInfos");

    cJSON_ArrayForEach(it, infos) {
        name = cJSON_GetObjectItemCaseSensitive(it, "Name");

        ngx_qocr_v3_string(ctx, it, "Value", &value);

        if (!cJSON_IsString(name) || value.len == 0) {
            continue;
        }

        for (k = 0; k < NGX_QOCR_NC_OTHER; k++) {
            if (ngx_strcmp(name->valuestring, ngx_qocr_v3_names[k]) == 0) {
                break;
            }
        }

        f = &res->fields[k];

        if (f->value.data == NULL) {
            ngx_qocr_v3_box(f, cJSON_GetObjectItemCaseSensitive(it,
                                                                "ItemCoord"));
        }

        if (ngx_qocr_field_add(pool, f, value.data, value.len) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx->conf->return_image) {
        ngx_qocr_v3_string(ctx, resp, "RetImageBase64", &res->image);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_v3_bankcard(ngx_pool_t *pool, ngx_qocr_ctx_t *ctx, cJSON *resp)
{
    cJSON                  *codes, *c;
    ngx_str_t              *w;
    ngx_qocr_field_t       *f;
    ngx_qocr_result_t      *res;
    ngx_qocr_v3_warning_t  *known;

    res = ctx->results;

    static const char  *keys[] = {
        "CardNo", "CardType", "CardName", "BankInfo", "ValidDate"
    };

    for (f = res->fields; f < res->fields + NGX_QOCR_BC_FIELDS; f++) {
        ngx_qocr_v3_string(ctx, resp, keys[f - res->fields], &f->value);
    }

    ngx_qocr_card_digits(&res->fields[NGX_QOCR_BC_CARD_NUMBER].value);

    f = &res->fields[NGX_QOCR_BC_BANK];

    if (f->value.data) {
        /* "招商银行(03080000)": the name and the code */
        (void) ngx_qocr_bank_code(&f->value, &f->code);
    }

    codes = cJSON_GetObjectItemCaseSensitive(resp, "WarningCode");

    cJSON_ArrayForEach(c, codes) {
        if (!cJSON_IsNumber(c)) {
            continue;
        }

        if (res->warnings == NULL) {
            res->warnings = ngx_array_create(pool, 2, sizeof(ngx_str_t));
            if (res->warnings == NULL) {
                return NGX_ERROR;
            }
        }

        w = ngx_array_push(res->warnings);
        if (w == NULL) {
            return NGX_ERROR;
        }

        for (known = ngx_qocr_v3_warnings; known->name; known++) {
            if ((double) known->code == c->valuedouble) {
                break;
            }
        }

        if (known->name) {
            w->data = (u_char *) known->name;
            w->len = ngx_strlen(known->name);
            continue;
        }

        /* an unknown code: "w" and the number */

        w->data = ngx_pnalloc(pool, 1 + NGX_INT64_LEN);
        if (w->data == NULL) {
            return NGX_ERROR;
        }

        w->len = ngx_sprintf(w->data, "w%L",
                             (c->valuedouble > -1e15 && c->valuedouble < 1e15)
                             ? (int64_t) c->valuedouble : (int64_t) 0)
                 - w->data;
    }

    if (ctx->conf->return_image) {
        ngx_qocr_v3_string(ctx, resp, "BorderCutImage", &res->image);
    }

    return NGX_OK;
}


/* a non-empty string member, else { 0, NULL } */

static void
ngx_qocr_v3_string(ngx_qocr_ctx_t *ctx, cJSON *obj, const char *key,
    ngx_str_t *s)
{
    ngx_qocr_json_str(ctx, cJSON_GetObjectItemCaseSensitive(obj, key), s);
}


static void
ngx_qocr_v3_box(ngx_qocr_field_t *f, cJSON *coord)
{
    cJSON       *v;
    ngx_uint_t   i;

    static const char  *keys[] = { "X", "Y", "Width", "Height" };

    for (i = 0; i < 4; i++) {
        v = cJSON_GetObjectItemCaseSensitive(coord, keys[i]);

        if (!cJSON_IsNumber(v)) {
            return;
        }

        f->box[i] = v->valuedouble;
    }

    f->has_box = 1;
}


static void
ngx_qocr_v3_failed(ngx_qocr_result_t *res, ngx_qocr_err_e err,
    const char *message)
{
    res->err = err;
    res->message = message;
}
