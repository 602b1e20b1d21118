
/*
 * Fuzzes the signature: any key and plain text.  The result must decode
 * to the 20 bytes of HMAC-SHA1 and the plain text.
 *
 * Input: the key, "\t", the plain text.
 */


#include "fuzz.h"


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy, *tab;
    ngx_str_t    key, plain, out, raw;
    ngx_pool_t  *pool;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    copy = ngx_pnalloc(pool, size ? size : 1);
    if (copy == NULL) {
        goto done;
    }

    ngx_memcpy(copy, data, size);

    tab = memchr(copy, '\t', size);
    if (tab == NULL) {
        goto done;
    }

    key.data = copy;
    key.len = tab - copy;
    plain.data = tab + 1;
    plain.len = size - key.len - 1;

    out.data = ngx_pnalloc(pool, ngx_base64_encoded_length(20 + plain.len));
    if (out.data == NULL) {
        goto done;
    }

    if (ngx_qocr_sign(&key, &plain, &out) != NGX_OK) {
        if (plain.len <= NGX_QOCR_SIGN_PLAIN_MAX) {
            abort();
        }

        goto done;
    }

    raw.data = ngx_pnalloc(pool, ngx_base64_decoded_length(out.len));
    if (raw.data == NULL) {
        goto done;
    }

    if (ngx_decode_base64(&raw, &out) != NGX_OK
        || raw.len != 20 + plain.len
        || ngx_memcmp(raw.data + 20, plain.data, plain.len) != 0)
    {
        abort();
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
