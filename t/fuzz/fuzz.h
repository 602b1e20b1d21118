
/*
 * Shared set-up of the fuzzers: nginx's globals that its pools and parsers
 * need, a pool per input, a silent log, a request that lends nginx's HTTP
 * parsers their state, and locations' configurations of both APIs as the
 * module completes them (ngx_qocr_api_t's init_conf).
 */


#ifndef _QOCR_FUZZ_H_INCLUDED_
#define _QOCR_FUZZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_qocr.h"
#include "ngx_qocr_body.h"
#include "ngx_qocr_multipart.h"
#include "ngx_qocr_reply.h"
#include "ngx_qocr_result.h"


static ngx_log_t          qocr_fuzz_log;
static ngx_open_file_t    qocr_fuzz_log_file;


static void
qocr_fuzz_init(void)
{
    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    for (ngx_pagesize_shift = 0; (ngx_uint_t) (1 << ngx_pagesize_shift)
                                 < ngx_pagesize; ngx_pagesize_shift++)
    {
        /* void */
    }

    qocr_fuzz_log_file.fd = ngx_stderr;
    qocr_fuzz_log.file = &qocr_fuzz_log_file;
    qocr_fuzz_log.log_level = 0;   /* silent: nothing is logged */

    ngx_time_init();
}


static ngx_http_request_t *
qocr_fuzz_request(ngx_pool_t *pool)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    c = ngx_pcalloc(pool, sizeof(ngx_connection_t));

    if (r == NULL || c == NULL) {
        return NULL;
    }

    c->log = &qocr_fuzz_log;
    r->connection = c;
    r->pool = pool;

    return r;
}


/*
 * The configuration of a "qocr" location: legacy or API 3.0, namecard or
 * bank card, qocr_return_image on or off (on: the bank card checks too),
 * made once and kept for the process, as merge_loc_conf leaves it.
 * NULL: no memory.
 */

static ngx_qocr_loc_conf_t *
qocr_fuzz_conf(ngx_uint_t v3, ngx_uint_t kind, ngx_uint_t return_image)
{
    ngx_uint_t            i;
    ngx_conf_t            cf;
    ngx_qocr_loc_conf_t  *qlcf;

    static ngx_pool_t           *pool;
    static ngx_qocr_loc_conf_t  *confs[8];

    i = (v3 ? 4 : 0) + (kind == NGX_QOCR_BANKCARD ? 2 : 0)
        + (return_image ? 1 : 0);

    if (confs[i]) {
        return confs[i];
    }

    if (pool == NULL) {
        pool = ngx_create_pool(4096, &qocr_fuzz_log);
        if (pool == NULL) {
            return NULL;
        }
    }

    qlcf = ngx_pcalloc(pool, sizeof(ngx_qocr_loc_conf_t));
    if (qlcf == NULL) {
        return NULL;
    }

    qlcf->kind = kind;
    qlcf->api_v3 = v3;
    qlcf->api = v3 ? &ngx_qocr_v3_api : &ngx_qocr_legacy_api;
    ngx_str_set(&qlcf->location, "/fuzz");
    ngx_str_set(&qlcf->host, "ocr.example.com");
    ngx_str_set(&qlcf->appid, "1250000000");
    ngx_str_set(&qlcf->bucket, "test");
    ngx_str_set(&qlcf->secret_id, "AKIDfuzz");
    ngx_str_set(&qlcf->secret_key, "fuzzsecret");
    ngx_str_set(&qlcf->region, "ap-guangzhou");
    qlcf->parallel = 4;
    qlcf->bankcard_checks = return_image ? NGX_QOCR_CHECK_COPY
                                           |NGX_QOCR_CHECK_RESHOOT
                                           |NGX_QOCR_CHECK_BORDER
                                         : 0;
    qlcf->sign_ttl = 300;
    qlcf->return_image = return_image ? 1 : 0;
    qlcf->url_input = 1;
    qlcf->max_images = (kind == NGX_QOCR_BANKCARD) ? 1
                                                   : NGX_QOCR_NAMECARD_MAX;
    qlcf->max_image_size = NGX_CONF_UNSET;
    qlcf->max_response_size = 1024 * 1024;

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &qocr_fuzz_log;

    if (qlcf->api->init_conf(&cf, qlcf) != NGX_OK) {
        return NULL;
    }

    confs[i] = qlcf;

    return qlcf;
}


/* "Content-Length: n" of a request's header, or -1 */

static off_t
qocr_fuzz_content_length(u_char *p, u_char *last)
{
    u_char  *v, *eol;

    static u_char  cl[] = "\r\nContent-Length: ";

    v = ngx_strlcasestrn(p, last, cl, sizeof(cl) - 1 - 1);
    if (v == NULL) {
        return -1;
    }

    v += sizeof(cl) - 1;

    eol = ngx_strlchr(v, last, '\r');
    if (eol == NULL) {
        return -1;
    }

    return ngx_atoof(v, eol - v);
}


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, no bytes
 * 0xc0-0xff as continuations, nothing above U+10FFFF.
 */

static ngx_uint_t
qocr_fuzz_utf8(u_char *p, size_t len)
{
    u_char    *last;
    size_t     n, i;
    uint32_t   c, min;

    last = p + len;

    while (p < last) {
        c = *p++;

        if (c < 0x80) {
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            c &= 0x1f;
            min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            c &= 0x0f;
            min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            c &= 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if ((size_t) (last - p) < n) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (p[i] & 0x3f);
        }

        p += n;

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


#endif /* _QOCR_FUZZ_H_INCLUDED_ */
