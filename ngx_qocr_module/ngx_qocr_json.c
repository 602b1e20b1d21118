
/*
 * ngx_qocr: the JSON writer.
 *
 * JSON is written straight into one pool buffer that doubles as needed.
 * Keys are the module's own; strings are escaped with nginx's
 * ngx_escape_json(), bytes of 0x80 and above pass as they are (UTF-8).
 * Numbers: integers exactly, other values to six decimals without trailing
 * zeros (a JSON library's sprintf("%1.15g") and sscanf() round trip costs
 * thousands of instructions a number).
 *
 * And strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF): nginx's ngx_utf8_decode() looks at the high bits of
 * continuation bytes only.
 */


#include "ngx_qocr_json.h"


#define NGX_QOCR_JSON_REF_MIN  4096


static u_char *ngx_qocr_json_reserve(ngx_qocr_json_t *j, size_t n);
static void ngx_qocr_json_key(ngx_qocr_json_t *j, const char *key);
static ngx_int_t ngx_qocr_json_append(ngx_qocr_json_t *j, u_char *p,
    size_t len);


void
ngx_qocr_json_init(ngx_qocr_json_t *j, ngx_pool_t *pool, size_t size)
{
    ngx_memzero(j, sizeof(ngx_qocr_json_t));

    j->pool = pool;
    j->last = &j->out;

    j->start = ngx_pnalloc(pool, size);
    if (j->start == NULL) {
        j->failed = 1;
        return;
    }

    j->pos = j->start;
    j->end = j->start + size;
}


static u_char *
ngx_qocr_json_reserve(ngx_qocr_json_t *j, size_t n)
{
    size_t   size;
    u_char  *p;

    if (j->failed) {
        return NULL;
    }

    if ((size_t) (j->end - j->pos) >= n) {
        return j->pos;
    }

    size = ngx_max((size_t) (j->end - j->start) * 2,
                   (size_t) (j->pos - j->start) + n);

    p = ngx_pnalloc(j->pool, size);
    if (p == NULL) {
        j->failed = 1;
        return NULL;
    }

    j->pos = ngx_cpymem(p, j->start, j->pos - j->start);
    ngx_pfree(j->pool, j->start);

    j->start = p;
    j->end = p + size;

    return j->pos;
}


/* the comma before a value, and its key inside an object */

static void
ngx_qocr_json_key(ngx_qocr_json_t *j, const char *key)
{
    size_t   len;
    u_char  *p;

    len = key ? ngx_strlen(key) : 0;

    p = ngx_qocr_json_reserve(j, len + 4);
    if (p == NULL) {
        return;
    }

    if (j->more & ((uint64_t) 1 << j->depth)) {
        *p++ = ',';
    }

    j->more |= (uint64_t) 1 << j->depth;

    if (key) {
        *p++ = '"';
        p = ngx_cpymem(p, key, len);
        *p++ = '"';
        *p++ = ':';
    }

    j->pos = p;
}


void
ngx_qocr_json_open(ngx_qocr_json_t *j, const char *key, u_char c)
{
    if (j->depth > 0 || j->more) {
        ngx_qocr_json_key(j, key);
    }

    if (ngx_qocr_json_reserve(j, 1) == NULL || j->depth == 62) {
        j->failed = 1;
        return;
    }

    *j->pos++ = c;

    j->depth++;
    j->more &= ~((uint64_t) 1 << j->depth);
}


void
ngx_qocr_json_close(ngx_qocr_json_t *j, u_char c)
{
    if (ngx_qocr_json_reserve(j, 1) == NULL) {
        return;
    }

    *j->pos++ = c;
    j->depth--;
}


void
ngx_qocr_json_string(ngx_qocr_json_t *j, const char *key, u_char *s,
    size_t len)
{
    u_char  *p;
    size_t   n;

    ngx_qocr_json_key(j, key);

    n = len + ngx_escape_json(NULL, s, len);

    p = ngx_qocr_json_reserve(j, n + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';

    if (n == len) {
        p = ngx_cpymem(p, s, len);

    } else {
        p = (u_char *) ngx_escape_json(p, s, len);
    }

    *p++ = '"';

    j->pos = p;
}


void
ngx_qocr_json_cstring(ngx_qocr_json_t *j, const char *key, const char *s)
{
    ngx_qocr_json_string(j, key, (u_char *) s, ngx_strlen(s));
}


void
ngx_qocr_json_literal(ngx_qocr_json_t *j, const char *key,
    const char *literal)
{
    ngx_qocr_json_raw(j, key, (u_char *) literal, ngx_strlen(literal));
}


/* a value written as it is: a number the caller has checked */

void
ngx_qocr_json_raw(ngx_qocr_json_t *j, const char *key, u_char *s, size_t len)
{
    u_char  *p;

    ngx_qocr_json_key(j, key);

    p = ngx_qocr_json_reserve(j, len);
    if (p == NULL) {
        return;
    }

    j->pos = ngx_cpymem(p, s, len);
}


void
ngx_qocr_json_number(ngx_qocr_json_t *j, const char *key, double d)
{
    u_char   *p, *start;
    int64_t   n, frac;

    if (d != d || d > 1e15 || d < -1e15) {
        /* NaN, infinities and the very large: null */
        ngx_qocr_json_literal(j, key, "null");
        return;
    }

    ngx_qocr_json_key(j, key);

    p = ngx_qocr_json_reserve(j, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return;
    }

    start = p;

    if (d < 0) {
        *p++ = '-';
        d = -d;
    }

    n = (int64_t) d;
    frac = (int64_t) ((d - (double) n) * 1e6 + 0.5);

    if (frac >= 1000000) {
        n++;
        frac -= 1000000;
    }

    if (n == 0 && frac == 0) {
        p = start;      /* no "-0" */
    }

    p = ngx_sprintf(p, "%L", n);

    if (frac) {
        p = ngx_sprintf(p, ".%06L", frac);

        while (p[-1] == '0') {
            p--;
        }
    }

    j->pos = p;
}


/*
 * A string written where it is, not copied: for the long base64 of an
 * image, which needs no escaping.  The buffer so far and the string become
 * links of the output chain, and a new buffer starts after them.
 */

void
ngx_qocr_json_ref(ngx_qocr_json_t *j, const char *key, u_char *s, size_t len)
{
    u_char  *p;

    if (len < NGX_QOCR_JSON_REF_MIN || ngx_escape_json(NULL, s, len) != 0) {
        ngx_qocr_json_string(j, key, s, len);
        return;
    }

    ngx_qocr_json_key(j, key);

    p = ngx_qocr_json_reserve(j, 1);
    if (p == NULL) {
        return;
    }

    *p++ = '"';
    j->pos = p;

    if (ngx_qocr_json_append(j, j->start, j->pos - j->start) != NGX_OK
        || ngx_qocr_json_append(j, s, len) != NGX_OK)
    {
        j->failed = 1;
        return;
    }

    j->start = ngx_pnalloc(j->pool, 1024);
    if (j->start == NULL) {
        j->failed = 1;
        return;
    }

    j->pos = j->start;
    j->end = j->start + 1024;

    *j->pos++ = '"';
}


static ngx_int_t
ngx_qocr_json_append(ngx_qocr_json_t *j, u_char *p, size_t len)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_calloc_buf(j->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(j->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b->start = p;
    b->pos = p;
    b->last = p + len;
    b->end = b->last;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;

    *j->last = cl;
    j->last = &cl->next;
    j->size += len;

    return NGX_OK;
}


/* the JSON as one string: a chain is copied together */

ngx_int_t
ngx_qocr_json_done(ngx_qocr_json_t *j, ngx_str_t *out)
{
    u_char       *p;
    ngx_chain_t  *cl;

    if (j->failed || j->depth != 0) {
        return NGX_ERROR;
    }

    if (j->out == NULL) {
        out->data = j->start;
        out->len = j->pos - j->start;
        return NGX_OK;
    }

    out->len = j->size + (j->pos - j->start);
    out->data = ngx_pnalloc(j->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (cl = j->out; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    ngx_memcpy(p, j->start, j->pos - j->start);

    return NGX_OK;
}


/* the JSON as a chain of buffers, the strings referred to uncopied */

ngx_int_t
ngx_qocr_json_chain(ngx_qocr_json_t *j, ngx_chain_t **out, size_t *len)
{
    if (j->failed || j->depth != 0
        || ngx_qocr_json_append(j, j->start, j->pos - j->start) != NGX_OK)
    {
        return NGX_ERROR;
    }

    *out = j->out;
    *len = j->size;

    return NGX_OK;
}


/*
 * The code point at *p, which is moved past it; 0xffffffff for a byte that
 * does not start a valid sequence (*p is then moved by that one byte).
 */

uint32_t
ngx_qocr_utf8_next(u_char **p, u_char *last)
{
    u_char    *s;
    size_t     n, i;
    uint32_t   c, min;

    s = *p;
    c = *s;

    if (c < 0x80) {
        *p = s + 1;
        return c;
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
        goto invalid;
    }

    if ((size_t) (last - s) <= n) {
        goto invalid;
    }

    for (i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            goto invalid;
        }

        c = (c << 6) | (s[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        goto invalid;
    }

    *p = s + 1 + n;

    return c;

invalid:

    *p = s + 1;

    return 0xffffffff;
}


/* NGX_OK: strict UTF-8 */

ngx_int_t
ngx_qocr_utf8_valid(u_char *p, size_t len)
{
    u_char  *last;

    if (len == 0) {
        return NGX_OK;
    }

    last = p + len;

    while (p < last) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        if (ngx_qocr_utf8_next(&p, last) == 0xffffffff) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * JSON text that a parser may turn into C strings: strict UTF-8, and no
 * NUL, raw or as "\u0000" (a C string would end there).  NGX_OK, or
 * NGX_DECLINED.
 */

ngx_int_t
ngx_qocr_json_text_valid(u_char *p, size_t len)
{
    u_char  *last, *q;

    if (len == 0) {
        return NGX_OK;
    }

    if (ngx_qocr_utf8_valid(p, len) != NGX_OK
        || ngx_strlchr(p, p + len, '\0') != NULL)
    {
        return NGX_DECLINED;
    }

    last = p + len;

    for (q = p; q + 6 <= last; q++) {
        if (*q != '\\') {
            continue;
        }

        /* an escape: a NUL, or skipped with the escaped character */

        if (q[1] == 'u' && q[2] == '0' && q[3] == '0' && q[4] == '0'
            && q[5] == '0')
        {
            return NGX_DECLINED;
        }

        q++;
    }

    return NGX_OK;
}
