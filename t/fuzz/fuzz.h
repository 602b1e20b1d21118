
/*
 * Shared set-up of the fuzzers: nginx's globals that its pools and parsers
 * need, a pool per input, a silent log, and a request that lends nginx's
 * HTTP parsers their state.
 */


#ifndef _QOCR_FUZZ_H_INCLUDED_
#define _QOCR_FUZZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_qocr.h"


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


#endif /* _QOCR_FUZZ_H_INCLUDED_ */
