
/*
 * Fuzzes both signatures.
 *
 * Legacy: any key and plain text.  The result must decode to the 20 bytes
 * of HMAC-SHA1 and the plain text.  Input: the key, "\t", the plain text.
 *
 * TC3-HMAC-SHA256: the same input, cut at its tabs into
 *
 *   secret key \t secret id \t host \t content type \t uri \t timestamp
 *   \t payload (the rest, tabs and all)
 *
 * (missing fields are empty; service "ocr").  The timestamp is decimal
 * when it is 1 to 20 characters of "-0123456789" (wrapping modulo 2^64, so
 * every time_t is reachable, negative and huge included), else its first 8
 * bytes, little-endian.  Each field is copied to a buffer of its exact size
 * and every output goes to a buffer of the size the API promises, so that
 * AddressSanitizer sees any byte read or written past them.  Checked:
 *
 *   - the date is "YYYY-MM-DD": gmtime()'s for 0 <= ts <= 9999-12-31
 *     23:59:59, else ngx_gmtime()'s clamps, 1970-01-01 and 9999-12-31;
 *   - the key is derived for any secret key of up to 256 bytes;
 *   - the Authorization fits ngx_qocr_tc3_authorization_len(), starts with
 *     exactly "TC3-HMAC-SHA256 Credential=", then the secret id, the date,
 *     "/ocr/tc3_request, SignedHeaders=content-type;host, Signature=", and
 *     ends with 64 lowercase hex digits, the HMAC of the string to sign;
 *   - it is refused only when the canonical request is too long.
 *
 * Seeds: t/fuzz/corpus/sign/tc3-* (V1 of the known answers, ts -1,
 * INT64_MAX, the first second of year 10000).
 *
 * A timestamp of INT64_MIN reaches nginx's ngx_vslprintf() ("%T" in
 * ngx_qocr_tc3_string_to_sign()), which negates it: a signed overflow that
 * UBSan reports where nginx's own files are instrumented (the ASan build).
 *
 * The TC3 part, like ngx_qocr_sign(), needs ngx_qocr_sign.h only; fuzz.h
 * brings the rest of the module's headers in for the other fuzzers.
 */


#include "fuzz.h"

#include "ngx_qocr_sign.h"


#define QOCR_TC3_FIELDS          7

/* private limits of ngx_qocr_sign.c, mirrored: a failure within them is a
 * bug */
#define QOCR_TC3_SECRET_MAX      256
#define QOCR_TC3_CANONICAL_MAX   4096

/* 9999-12-31T23:59:59Z, the last second ngx_gmtime() knows */
#define QOCR_TC3_TIME_MAX        253402300799LL


static const char  qocr_tc3_prefix[] = "TC3-HMAC-SHA256 Credential=";
static const char  qocr_tc3_scope[] =
    "/ocr/tc3_request, SignedHeaders=content-type;host, Signature=";


static void qocr_fuzz_legacy(const uint8_t *data, size_t size);
static void qocr_fuzz_tc3(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    qocr_fuzz_init();
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qocr_fuzz_legacy(data, size);
    qocr_fuzz_tc3(data, size);

    return 0;
}


static void
qocr_fuzz_legacy(const uint8_t *data, size_t size)
{
    u_char      *copy, *tab;
    ngx_str_t    key, plain, out, raw;
    ngx_pool_t  *pool;

    pool = ngx_create_pool(1024, &qocr_fuzz_log);
    if (pool == NULL) {
        return;
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
}


/*
 * A buffer of exactly len bytes (one when len is 0), a copy of data unless
 * data is NULL
 */

static u_char *
qocr_tc3_copy(const uint8_t *data, size_t len)
{
    u_char  *p;

    p = malloc(len ? len : 1);
    if (p == NULL) {
        abort();
    }

    if (data && len) {
        memcpy(p, data, len);
    }

    return p;
}


static time_t
qocr_tc3_timestamp(u_char *s, size_t len)
{
    size_t    i;
    uint64_t  v;
    int64_t   ts;

    if (len >= 1 && len <= 20) {

        for (i = 0; i < len; i++) {
            if (!(s[i] >= '0' && s[i] <= '9') && !(i == 0 && s[i] == '-')) {
                break;
            }
        }

        if (i == len && !(len == 1 && s[0] == '-')) {
            v = 0;

            for (i = (s[0] == '-'); i < len; i++) {
                v = v * 10 + (s[i] - '0');
            }

            if (s[0] == '-') {
                v = 0 - v;
            }

            memcpy(&ts, &v, sizeof(ts));
            return (time_t) ts;
        }
    }

    v = 0;

    for (i = 0; i < len && i < 8; i++) {
        v |= (uint64_t) s[i] << (8 * i);
    }

    memcpy(&ts, &v, sizeof(ts));

    return (time_t) ts;
}


static int
qocr_tc3_lower_hex(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


static void
qocr_fuzz_tc3(const uint8_t *data, size_t size)
{
    char            want[sizeof("YYYY-MM-DD")];
    void           *hmac;
    size_t          len[QOCR_TC3_FIELDS], max, n, canonical, sts_size;
    u_char         *f[QOCR_TC3_FIELDS], *date, *key, *hash, *sts, *auth, *p;
    u_char          md[NGX_QOCR_SHA256_LEN], sig[NGX_QOCR_TC3_HASH_LEN];
    struct tm       tm;
    ngx_str_t       secret_key, k;
    ngx_uint_t      i;
    const uint8_t  *s, *end, *tab;
    ngx_qocr_tc3_t  t;

    /* the fields, each in a buffer of its own size */

    s = data;
    end = data + size;

    for (i = 0; i < QOCR_TC3_FIELDS; i++) {
        tab = (i < QOCR_TC3_FIELDS - 1) ? memchr(s, '\t', end - s) : NULL;
        len[i] = (tab ? tab : end) - s;
        f[i] = qocr_tc3_copy(s, len[i]);
        s = tab ? tab + 1 : end;
    }

    date = qocr_tc3_copy(NULL, NGX_QOCR_TC3_DATE_LEN);
    key = qocr_tc3_copy(NULL, NGX_QOCR_SHA256_LEN);
    hash = qocr_tc3_copy(NULL, NGX_QOCR_TC3_HASH_LEN);
    sts = NULL;
    auth = NULL;
    hmac = NULL;

    ngx_memzero(&t, sizeof(ngx_qocr_tc3_t));

    t.timestamp = qocr_tc3_timestamp(f[5], len[5]);

    /* the date */

    if (ngx_qocr_tc3_date(date, t.timestamp) != date + NGX_QOCR_TC3_DATE_LEN)
    {
        abort();
    }

    if (t.timestamp < 0) {
        ngx_cpystrn((u_char *) want, (u_char *) "1970-01-01", sizeof(want));

    } else if ((long long) t.timestamp > QOCR_TC3_TIME_MAX) {
        ngx_cpystrn((u_char *) want, (u_char *) "9999-12-31", sizeof(want));

    } else {
        if (gmtime_r(&t.timestamp, &tm) == NULL
            || strftime(want, sizeof(want), "%Y-%m-%d", &tm)
               != NGX_QOCR_TC3_DATE_LEN)
        {
            abort();
        }
    }

    if (ngx_memcmp(date, want, NGX_QOCR_TC3_DATE_LEN) != 0) {
        abort();
    }

    /* the key */

    secret_key.data = f[0];
    secret_key.len = len[0];

    ngx_str_set(&t.service, "ocr");

    if (ngx_qocr_tc3_key(&secret_key, date, &t.service, key) != NGX_OK) {
        if (secret_key.len <= QOCR_TC3_SECRET_MAX) {
            abort();
        }

        goto done;
    }

    /* the request */

    t.secret_id.data = f[1];
    t.secret_id.len = len[1];
    t.host.data = f[2];
    t.host.len = len[2];
    t.content_type.data = f[3];
    t.content_type.len = len[3];
    t.uri.data = f[4];
    t.uri.len = len[4];

    ngx_qocr_sha256_hex(f[6], len[6], hash);

    if (!qocr_tc3_lower_hex(hash, NGX_QOCR_TC3_HASH_LEN)) {
        abort();
    }

    t.payload_hash = hash;

    canonical = sizeof("POST\n\n\ncontent-type:\nhost:\n\ncontent-type;host\n")
                - 1 + t.uri.len + t.content_type.len + t.host.len
                + NGX_QOCR_TC3_HASH_LEN;

    /* the string to sign, in a buffer of just its longest */

    sts_size = sizeof("TC3-HMAC-SHA256\n\n//tc3_request\n") - 1
               + NGX_TIME_T_LEN + NGX_QOCR_TC3_DATE_LEN + t.service.len
               + NGX_QOCR_TC3_HASH_LEN;

    sts = qocr_tc3_copy(NULL, sts_size);

    n = ngx_qocr_tc3_string_to_sign(&t, sts, sts_size);

    if ((n == 0) != (canonical > QOCR_TC3_CANONICAL_MAX) || n > sts_size) {
        abort();
    }

    /* the Authorization */

    k.data = key;
    k.len = NGX_QOCR_SHA256_LEN;

    hmac = ngx_qocr_hmac_create(&k, "SHA256");
    if (hmac == NULL) {
        goto done;
    }

    max = ngx_qocr_tc3_authorization_len(&t);
    auth = qocr_tc3_copy(NULL, max);

    p = ngx_qocr_tc3_authorization(&t, hmac, auth);

    if (p == NULL) {
        if (n != 0) {
            abort();
        }

        goto done;
    }

    if (n == 0 || p < auth || (size_t) (p - auth) > max) {
        abort();
    }

    /* "TC3-HMAC-SHA256 Credential=" id "/" date scope signature */

    n = p - auth;
    p = auth;

    if (n != sizeof(qocr_tc3_prefix) - 1 + t.secret_id.len + 1
             + NGX_QOCR_TC3_DATE_LEN + sizeof(qocr_tc3_scope) - 1
             + NGX_QOCR_TC3_HASH_LEN)
    {
        abort();
    }

    if (ngx_memcmp(p, qocr_tc3_prefix, sizeof(qocr_tc3_prefix) - 1) != 0) {
        abort();
    }

    p += sizeof(qocr_tc3_prefix) - 1;

    if (ngx_memcmp(p, t.secret_id.data, t.secret_id.len) != 0
        || p[t.secret_id.len] != '/')
    {
        abort();
    }

    p += t.secret_id.len + 1;

    if (ngx_memcmp(p, date, NGX_QOCR_TC3_DATE_LEN) != 0) {
        abort();
    }

    p += NGX_QOCR_TC3_DATE_LEN;

    if (ngx_memcmp(p, qocr_tc3_scope, sizeof(qocr_tc3_scope) - 1) != 0) {
        abort();
    }

    p += sizeof(qocr_tc3_scope) - 1;

    if (!qocr_tc3_lower_hex(p, NGX_QOCR_TC3_HASH_LEN)) {
        abort();
    }

    /* the signature is the HMAC of the string to sign */

    n = ngx_qocr_tc3_string_to_sign(&t, sts, sts_size);

    if (ngx_qocr_hmac(hmac, sts, n, md, NGX_QOCR_SHA256_LEN) != NGX_OK) {
        goto done;
    }

    ngx_hex_dump(sig, md, NGX_QOCR_SHA256_LEN);

    if (ngx_memcmp(p, sig, NGX_QOCR_TC3_HASH_LEN) != 0) {
        abort();
    }

done:

    if (hmac) {
        ngx_qocr_hmac_free(hmac);
    }

    free(auth);
    free(sts);
    free(hash);
    free(key);
    free(date);

    for (i = 0; i < QOCR_TC3_FIELDS; i++) {
        free(f[i]);
    }
}
