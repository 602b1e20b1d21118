
/*
 * Fuzzes the client body parser: the multipart/form-data Content-Type and
 * body, fed in pieces of varying size, and the image type check.
 *
 * Input: a Content-Type line, "\n", the body.  The first byte of the body
 * part also sets the piece size.
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
    u_char                *copy, *body, *nl, *p, *last;
    size_t                 blen, piece, n;
    ngx_str_t              type, boundary, mime, ext;
    ngx_uint_t             i;
    ngx_pool_t            *pool;
    ngx_qocr_part_t       *part;
    ngx_qocr_multipart_t   mp;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    /* a copy of its own, so ASan sees reads past the end */

    copy = ngx_pnalloc(pool, size ? size : 1);
    if (copy == NULL) {
        goto done;
    }

    ngx_memcpy(copy, data, size);

    nl = memchr(copy, '\n', size);
    if (nl == NULL) {
        goto done;
    }

    type.data = copy;
    type.len = nl - copy;
    body = nl + 1;
    blen = size - type.len - 1;

    if (ngx_qocr_multipart_boundary(&type, &boundary) != NGX_OK) {
        goto done;
    }

    if (ngx_qocr_multipart_init(&mp, pool, &boundary, 21) != NGX_OK) {
        goto done;
    }

    piece = blen ? (size_t) (body[0] % 97) + 1 : 1;

    for (p = body, last = body + blen; p < last; p += n) {
        n = ngx_min(piece, (size_t) (last - p));

        if (ngx_qocr_multipart_feed(&mp, p, n) != NGX_OK) {
            goto done;
        }
    }

    if (ngx_qocr_multipart_finish(&mp) != NGX_OK) {
        goto done;
    }

    part = mp.parts->elts;

    for (i = 0; i < mp.parts->nelts; i++) {

        if (part[i].start < 0 || part[i].start > part[i].end
            || part[i].end > (off_t) blen)
        {
            abort();
        }

        n = (size_t) ngx_min(part[i].end - part[i].start,
                             NGX_QOCR_MAGIC_LEN);

        (void) ngx_qocr_image_type(body + part[i].start, n, &mime, &ext);
    }

    if (mp.nfiles < mp.parts->nelts) {
        abort();
    }

done:

    ngx_destroy_pool(pool);

    return 0;
}
