
/*
 * ngx_qocr: the multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * A plain streaming parser: bytes go in by ngx_qocr_multipart_feed() in any
 * pieces, and what comes out is the list of file parts as offsets into the
 * body.  Part contents are never copied: the module later sends them from
 * nginx's own body buffers or temp file.
 */


#include "ngx_qocr_multipart.h"


#define NGX_QOCR_MP_LINE_MAX      2048    /* one part header line */
#define NGX_QOCR_MP_HEADERS_MAX   8192    /* all header lines of a part */


enum {
    mp_preamble = 0,
    mp_after_delim,
    mp_close,
    mp_after_cr,
    mp_header,
    mp_header_lf,
    mp_data,
    mp_epilogue
};


static ngx_int_t ngx_qocr_multipart_header(ngx_qocr_multipart_t *mp);
static ngx_int_t ngx_qocr_multipart_end_part(ngx_qocr_multipart_t *mp,
    off_t end);
static u_char *ngx_qocr_mp_param(u_char *p, u_char *last, ngx_str_t *name,
    ngx_str_t *value);


/* RFC 2046 bchars, space allowed but not last */

static ngx_int_t
ngx_qocr_bchar(u_char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    switch (c) {
    case '\'': case '(': case ')': case '+': case '_': case ',':
    case '-': case '.': case '/': case ':': case '=': case '?': case ' ':
        return 1;
    }

    return 0;
}


/*
 * Finds the boundary parameter of a multipart/form-data Content-Type.
 * Returns NGX_DONE when the type is not multipart/form-data, NGX_DECLINED
 * when it is but has no usable boundary.
 */

ngx_int_t
ngx_qocr_multipart_boundary(ngx_str_t *content_type, ngx_str_t *boundary)
{
    u_char      *p, *last;
    ngx_str_t    name, value;
    ngx_uint_t   i;

    static u_char  mfd[] = "multipart/form-data";

    p = content_type->data;
    last = p + content_type->len;

    if ((size_t) (last - p) < sizeof(mfd) - 1
        || ngx_strncasecmp(p, mfd, sizeof(mfd) - 1) != 0)
    {
        return NGX_DONE;
    }

    p += sizeof(mfd) - 1;

    if (p < last && *p != ';' && *p != ' ' && *p != '\t') {
        return NGX_DONE;
    }

    boundary->len = 0;

    while (p < last) {
        p = ngx_qocr_mp_param(p, last, &name, &value);
        if (p == NULL) {
            return NGX_DECLINED;
        }

        if (name.len == 8 && ngx_strncasecmp(name.data, (u_char *) "boundary",
                                             8) == 0)
        {
            *boundary = value;
        }
    }

    if (boundary->len == 0 || boundary->len > 70
        || boundary->data[boundary->len - 1] == ' ')
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < boundary->len; i++) {
        if (!ngx_qocr_bchar(boundary->data[i])) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_qocr_multipart_init(ngx_qocr_multipart_t *mp, ngx_pool_t *pool,
    ngx_str_t *boundary, ngx_uint_t max_parts)
{
    ngx_memzero(mp, sizeof(ngx_qocr_multipart_t));

    if (boundary->len == 0 || boundary->len > 70) {
        mp->error = "malformed multipart body: bad boundary";
        return NGX_DECLINED;
    }

    mp->pool = pool;
    mp->max_parts = max_parts;

    mp->parts = ngx_array_create(pool, max_parts ? max_parts : 1,
                                 sizeof(ngx_qocr_part_t));
    if (mp->parts == NULL) {
        return NGX_ERROR;
    }

    mp->line = ngx_pnalloc(pool, NGX_QOCR_MP_LINE_MAX);
    if (mp->line == NULL) {
        return NGX_ERROR;
    }

    mp->delim[0] = CR;
    mp->delim[1] = LF;
    mp->delim[2] = '-';
    mp->delim[3] = '-';
    ngx_memcpy(&mp->delim[4], boundary->data, boundary->len);
    mp->dlen = 4 + boundary->len;

    /* the body may start with the delimiter without the leading CRLF */

    mp->state = mp_preamble;
    mp->match = 2;

    return NGX_OK;
}


ngx_int_t
ngx_qocr_multipart_feed(ngx_qocr_multipart_t *mp, u_char *p, size_t len)
{
    u_char     c, *last, *q;
    ngx_int_t  rc;

    if (mp->error) {
        return NGX_DECLINED;
    }

    last = p + len;

    while (p < last) {

        switch (mp->state) {

        case mp_epilogue:
            mp->offset += last - p;
            return NGX_OK;

        case mp_preamble:
        case mp_data:

            if (mp->match == 0) {
                /*
                 * image bytes: memchr() is vectorized in the C library,
                 * ngx_strlchr() reads a byte at a time (5 instructions a
                 * byte, most of the module's cost for a large image)
                 */

                q = memchr(p, CR, last - p);

                if (q == NULL) {
                    mp->offset += last - p;
                    return NGX_OK;
                }

                mp->offset += q - p;
                p = q;
            }

            c = *p;

            if (c == mp->delim[mp->match]) {
                if (mp->match == 0) {
                    mp->match_start = mp->offset;
                }

                mp->match++;

                if (mp->match == mp->dlen) {
                    if (mp->state == mp_data) {
                        rc = ngx_qocr_multipart_end_part(mp,
                                                         mp->match_start);
                        if (rc != NGX_OK) {
                            return rc;
                        }
                    }

                    mp->match = 0;
                    mp->state = mp_after_delim;
                }

            } else if (c == CR) {
                /* CR appears in the delimiter at its start only */
                mp->match = 1;
                mp->match_start = mp->offset;

            } else {
                mp->match = 0;
            }

            break;

        case mp_after_delim:
            c = *p;

            if (c == '-') {
                mp->state = mp_close;

            } else if (c == CR) {
                mp->state = mp_after_cr;

            } else if (c != ' ' && c != '\t') {
                mp->error = "malformed multipart body: bad boundary line";
                return NGX_DECLINED;
            }

            break;

        case mp_close:
            if (*p != '-') {
                mp->error = "malformed multipart body: bad boundary line";
                return NGX_DECLINED;
            }

            mp->state = mp_epilogue;
            mp->done = 1;
            break;

        case mp_after_cr:
            if (*p != LF) {
                mp->error = "malformed multipart body: bad boundary line";
                return NGX_DECLINED;
            }

            mp->state = mp_header;
            mp->line_len = 0;
            mp->header_bytes = 0;
            mp->filename.len = 0;
            mp->has_filename = 0;
            break;

        case mp_header:
            c = *p;

            if (++mp->header_bytes > NGX_QOCR_MP_HEADERS_MAX) {
                mp->error = "malformed multipart body: part headers too large";
                return NGX_DECLINED;
            }

            if (c == CR) {
                mp->state = mp_header_lf;
                break;
            }

            if (c == LF || c == '\0') {
                mp->error = "malformed multipart body: bad part header";
                return NGX_DECLINED;
            }

            if (mp->line_len == NGX_QOCR_MP_LINE_MAX) {
                mp->error = "malformed multipart body: part header too long";
                return NGX_DECLINED;
            }

            mp->line[mp->line_len++] = c;
            break;

        case mp_header_lf:
            if (*p != LF) {
                mp->error = "malformed multipart body: bad part header";
                return NGX_DECLINED;
            }

            if (mp->line_len == 0) {
                mp->state = mp_data;
                mp->part_start = mp->offset + 1;
                mp->match = 0;
                break;
            }

            rc = ngx_qocr_multipart_header(mp);
            if (rc != NGX_OK) {
                return rc;
            }

            mp->line_len = 0;
            mp->state = mp_header;
            break;
        }

        p++;
        mp->offset++;
    }

    return NGX_OK;
}


ngx_int_t
ngx_qocr_multipart_finish(ngx_qocr_multipart_t *mp)
{
    if (mp->error) {
        return NGX_DECLINED;
    }

    if (mp->done) {
        return NGX_OK;
    }

    switch (mp->state) {

    case mp_preamble:
        mp->error = "malformed multipart body: no boundary found";
        break;

    case mp_data:
        mp->error = "malformed multipart body: the boundary is never closed";
        break;

    default:
        mp->error = "malformed multipart body: truncated";
        break;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_qocr_multipart_end_part(ngx_qocr_multipart_t *mp, off_t end)
{
    ngx_qocr_part_t  *part;

    if (!mp->has_filename) {
        return NGX_OK;
    }

    /* an empty file input of a browser form: no file was chosen */

    if (mp->filename.len == 0 && end == mp->part_start) {
        return NGX_OK;
    }

    mp->nfiles++;

    if (mp->parts->nelts >= mp->max_parts) {
        return NGX_OK;
    }

    part = ngx_array_push(mp->parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    part->start = mp->part_start;
    part->end = end;
    part->filename = mp->filename;

    return NGX_OK;
}


static ngx_int_t
ngx_qocr_multipart_header(ngx_qocr_multipart_t *mp)
{
    u_char      *p, *last, *colon;
    ngx_str_t    name, value;

    static u_char  cd[] = "content-disposition";

    p = mp->line;
    last = p + mp->line_len;

    colon = ngx_strlchr(p, last, ':');
    if (colon == NULL || colon == p) {
        mp->error = "malformed multipart body: bad part header";
        return NGX_DECLINED;
    }

    if ((size_t) (colon - p) != sizeof(cd) - 1
        || ngx_strncasecmp(p, cd, sizeof(cd) - 1) != 0)
    {
        /* Content-Type and others: the image type is found by its bytes */
        return NGX_OK;
    }

    p = colon + 1;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    /* the disposition type, "form-data" */

    while (p < last && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    while (p < last) {
        p = ngx_qocr_mp_param(p, last, &name, &value);
        if (p == NULL) {
            mp->error = "malformed multipart body: bad Content-Disposition";
            return NGX_DECLINED;
        }

        if (name.len == 8
            && ngx_strncasecmp(name.data, (u_char *) "filename", 8) == 0)
        {
            mp->filename.data = ngx_pnalloc(mp->pool, value.len + 1);
            if (mp->filename.data == NULL) {
                return NGX_ERROR;
            }

            mp->filename.len = value.len;
            ngx_memcpy(mp->filename.data, value.data, value.len);
            mp->filename.data[value.len] = '\0';
            mp->has_filename = 1;
        }
    }

    return NGX_OK;
}


/*
 * Parses one ";" name "=" value parameter starting at p (leading white
 * space and the ";" included).  A quoted value is unescaped in place, which
 * is safe: the result is never longer than the source.  Returns the position
 * after the parameter, or NULL on a syntax error.
 */

static u_char *
ngx_qocr_mp_param(u_char *p, u_char *last, ngx_str_t *name, ngx_str_t *value)
{
    u_char  *d;

    name->len = 0;
    value->len = 0;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last) {
        return p;
    }

    if (*p != ';') {
        return NULL;
    }

    p++;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last) {
        /* a trailing ";" as some clients send */
        return p;
    }

    name->data = p;

    while (p < last && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    name->len = p - name->data;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p != '=') {
        return (name->len && (p == last || *p == ';')) ? p : NULL;
    }

    p++;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p < last && *p == '"') {
        p++;
        value->data = p;
        d = p;

        for ( ;; ) {
            if (p == last) {
                return NULL;
            }

            if (*p == '"') {
                p++;
                break;
            }

            if (*p == '\\' && p + 1 < last) {
                p++;
            }

            *d++ = *p++;
        }

        value->len = d - value->data;
        return p;
    }

    value->data = p;

    while (p < last && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    value->len = p - value->data;

    return p;
}
