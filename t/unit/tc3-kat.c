
/*
 * Known answers of the TC3-HMAC-SHA256 signature, through the module's own
 * plain functions (ngx_qocr_sign.h): reads t/data/tc3-vectors.tsv (or any
 * file of the same columns) and prints TAP.  Linked with the objects of the
 * static nginx build.
 *
 * The file is tab-separated; its first line names the columns, which are
 * found by name.  For each row, with its id:
 *
 *   ngx_qocr_sha256_hex(payload)        == hashed_payload
 *     (of the literal "UNSIGNED-PAYLOAD" when unsigned_payload is 1)
 *   ngx_qocr_sha256_hex(canonical_request) == hashed_canonical_request
 *     (the vector's own canonical request: the module does not expose its
 *     own, its hash is in the string to sign checked next)
 *   ngx_qocr_tc3_date(timestamp)        == date
 *   ngx_qocr_tc3_key(secret_key, date, service)  == secret_signing (hex)
 *   ngx_qocr_tc3_string_to_sign(...)    == string_to_sign
 *   ngx_qocr_tc3_authorization(...)     == authorization, no longer than
 *                                          ngx_qocr_tc3_authorization_len()
 *
 * with uri "/" and hashed_payload as the payload hash.  A row that signs
 * other headers than "content-type;host" (x-tc-action: V4) is reported as
 * skipped: the module never signs them.  The two rows either side of a UTC
 * midnight (V6, V7) must give different signing keys.
 *
 * Escapes: the columns payload, canonical_request, string_to_sign and
 * http_headers write a backslash as "\\" and a newline as "\n"; nothing
 * else is escaped (no tab or CR occurs in a field).  They are undone in one
 * pass from left to right, so "\\n" is a backslash and an "n".  The JSON
 * payloads hold JSON's own escapes, which stay: V0's body is, byte for
 * byte, {... ["\u672a\u547d\u540d"] ...} and V2's "Config" string is
 * "{\"RetImageType\":\"PROPROCESS\"}", which the file writes as
 * "\\u672a" and "{\\"RetImageType\\"...".  Hashed as they stand in the file
 * (backslashes still doubled) V0, V2 and V5's payloads would not match
 * hashed_payload; undone as above, all do.  Any other backslash pair is
 * kept as it is.
 *
 * Prints "ok N - <id> <what>", a "# N rows checked, N skipped" summary and
 * the plan last; exits 1 on any failure, 2 when the file cannot be read.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_qocr_sign.h"


#define TC3_LINE_MAX     (64 * 1024)
#define TC3_FIELDS_MAX   64


/* the columns used, by name */

enum {
    C_ID = 0,
    C_SECRET_ID,
    C_SECRET_KEY,
    C_SERVICE,
    C_HOST,
    C_TIMESTAMP,
    C_DATE,
    C_CONTENT_TYPE,
    C_SIGNED_HEADERS,
    C_UNSIGNED_PAYLOAD,
    C_PAYLOAD,
    C_HASHED_PAYLOAD,
    C_CANONICAL_REQUEST,
    C_HASHED_CANONICAL_REQUEST,
    C_STRING_TO_SIGN,
    C_SECRET_SIGNING,
    C_AUTHORIZATION,
    C_LAST
};

static const char  *tc3_columns[C_LAST] = {
    "id", "secret_id", "secret_key", "service", "host", "timestamp", "date",
    "content_type", "signed_headers", "unsigned_payload", "payload",
    "hashed_payload", "canonical_request", "hashed_canonical_request",
    "string_to_sign", "secret_signing", "authorization"
};


static int  tc3_n;
static int  tc3_failed;


static void
tc3_check(const char *id, const char *what, u_char *got, size_t got_len,
    const char *want)
{
    size_t  want_len;

    want_len = strlen(want);

    if (got != NULL && got_len == want_len
        && memcmp(got, want, want_len) == 0)
    {
        printf("ok %d - %s %s\n", ++tc3_n, id, what);
        return;
    }

    printf("not ok %d - %s %s\n", ++tc3_n, id, what);
    printf("#   got: %.*s\n#  want: %s\n",
           got ? (int) got_len : 6, got ? (char *) got : "(NULL)", want);
    tc3_failed++;
}


/* "\\" -> "\", "\n" -> LF, in place; returns the new length */

static size_t
tc3_unescape(char *s)
{
    char  *r, *w;

    for (r = s, w = s; *r; r++) {
        if (r[0] == '\\' && r[1] == '\\') {
            *w++ = '\\';
            r++;

        } else if (r[0] == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;

        } else {
            *w++ = *r;
        }
    }

    *w = '\0';

    return w - s;
}


static void
tc3_str(ngx_str_t *s, char *v)
{
    s->data = (u_char *) v;
    s->len = strlen(v);
}


int
main(int argc, char **argv)
{
    int              col[C_LAST], nfields, i, j, rows, skipped;
    int              have_v6, have_v7;
    char            *line, *f[TC3_FIELDS_MAX], *p, *tab, *end, *id;
    FILE            *fp;
    void            *hmac;
    size_t           len, sts_len, auth_max;
    u_char           hex[NGX_QOCR_TC3_HASH_LEN];
    u_char           date[NGX_QOCR_TC3_DATE_LEN + 1], *last;
    u_char           key[NGX_QOCR_SHA256_LEN];
    u_char           key_hex[NGX_QOCR_TC3_HASH_LEN];
    u_char           key_v6[NGX_QOCR_SHA256_LEN], key_v7[NGX_QOCR_SHA256_LEN];
    u_char           sts[1024], *auth;
    ngx_str_t        secret_key, service, k;
    long long        ts;
    ngx_qocr_tc3_t   t;

    static u_char    unsigned_payload[] = "UNSIGNED-PAYLOAD";

    if (argc != 2 || (fp = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: tc3-kat VECTORS.tsv\n");
        return 2;
    }

    line = malloc(TC3_LINE_MAX);
    if (line == NULL) {
        return 2;
    }

    /* the header: the columns' positions */

    if (fgets(line, TC3_LINE_MAX, fp) == NULL) {
        fprintf(stderr, "tc3-kat: %s: empty\n", argv[1]);
        return 2;
    }

    line[strcspn(line, "\r\n")] = '\0';

    for (i = 0; i < C_LAST; i++) {
        col[i] = -1;
    }

    for (j = 0, p = line; p; j++) {
        tab = strchr(p, '\t');
        if (tab) {
            *tab = '\0';
        }

        for (i = 0; i < C_LAST; i++) {
            if (strcmp(p, tc3_columns[i]) == 0) {
                col[i] = j;
            }
        }

        p = tab ? tab + 1 : NULL;
    }

    nfields = j;

    for (i = 0; i < C_LAST; i++) {
        if (col[i] < 0) {
            fprintf(stderr, "tc3-kat: %s: no column \"%s\"\n",
                    argv[1], tc3_columns[i]);
            return 2;
        }
    }

    if (nfields > TC3_FIELDS_MAX) {
        fprintf(stderr, "tc3-kat: %s: %d columns\n", argv[1], nfields);
        return 2;
    }

    rows = 0;
    skipped = 0;
    have_v6 = 0;
    have_v7 = 0;

    while (fgets(line, TC3_LINE_MAX, fp)) {

        len = strlen(line);

        if (len == TC3_LINE_MAX - 1 && line[len - 1] != '\n') {
            printf("not ok %d - a row longer than %d bytes\n", ++tc3_n,
                   TC3_LINE_MAX);
            tc3_failed++;
            break;
        }

        line[strcspn(line, "\r\n")] = '\0';

        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }

        for (j = 0, p = line; p && j < TC3_FIELDS_MAX; j++) {
            f[j] = p;
            tab = strchr(p, '\t');
            if (tab) {
                *tab = '\0';
            }
            p = tab ? tab + 1 : NULL;
        }

        if (j != nfields || p != NULL) {
            printf("not ok %d - malformed row %.40s: %d fields, not %d\n",
                   ++tc3_n, f[0], j, nfields);
            tc3_failed++;
            continue;
        }

        id = f[col[C_ID]];

        if (strcmp(f[col[C_SIGNED_HEADERS]], "content-type;host") != 0) {
            printf("ok %d - %s # skip signs %s: the module signs "
                   "content-type;host only\n",
                   ++tc3_n, id, f[col[C_SIGNED_HEADERS]]);
            skipped++;
            continue;
        }

        rows++;

        tc3_unescape(f[col[C_PAYLOAD]]);
        tc3_unescape(f[col[C_CANONICAL_REQUEST]]);
        tc3_unescape(f[col[C_STRING_TO_SIGN]]);

        /* the payload's hash */

        if (strcmp(f[col[C_UNSIGNED_PAYLOAD]], "1") == 0) {
            ngx_qocr_sha256_hex(unsigned_payload, sizeof(unsigned_payload) - 1,
                                hex);
            tc3_check(id, "hash of UNSIGNED-PAYLOAD", hex, sizeof(hex),
                      f[col[C_HASHED_PAYLOAD]]);

        } else {
            ngx_qocr_sha256_hex((u_char *) f[col[C_PAYLOAD]],
                                strlen(f[col[C_PAYLOAD]]), hex);
            tc3_check(id, "payload hash", hex, sizeof(hex),
                      f[col[C_HASHED_PAYLOAD]]);
        }

        /* the vector's canonical request against its own hash */

        ngx_qocr_sha256_hex((u_char *) f[col[C_CANONICAL_REQUEST]],
                            strlen(f[col[C_CANONICAL_REQUEST]]), hex);
        tc3_check(id, "canonical request hash", hex, sizeof(hex),
                  f[col[C_HASHED_CANONICAL_REQUEST]]);

        /* the date */

        errno = 0;
        ts = strtoll(f[col[C_TIMESTAMP]], &end, 10);

        if (errno || *end != '\0' || end == f[col[C_TIMESTAMP]]) {
            printf("not ok %d - %s timestamp \"%s\"\n", ++tc3_n, id,
                   f[col[C_TIMESTAMP]]);
            tc3_failed++;
            continue;
        }

        ngx_memzero(date, sizeof(date));
        last = ngx_qocr_tc3_date(date, (time_t) ts);
        tc3_check(id, "date", date, last - date, f[col[C_DATE]]);

        /* the signing key, of the vector's date */

        tc3_str(&secret_key, f[col[C_SECRET_KEY]]);
        tc3_str(&service, f[col[C_SERVICE]]);

        if (strlen(f[col[C_DATE]]) != NGX_QOCR_TC3_DATE_LEN
            || ngx_qocr_tc3_key(&secret_key, (u_char *) f[col[C_DATE]],
                                &service, key)
               != NGX_OK)
        {
            tc3_check(id, "signing key", NULL, 0, f[col[C_SECRET_SIGNING]]);
            continue;
        }

        ngx_hex_dump(key_hex, key, sizeof(key));
        tc3_check(id, "signing key", key_hex, sizeof(key_hex),
                  f[col[C_SECRET_SIGNING]]);

        /* the key of the module's own date, for the rollover check */

        if (strncmp(id, "V6-", 3) == 0 || strncmp(id, "V7-", 3) == 0) {
            if (ngx_qocr_tc3_key(&secret_key, date, &service,
                                 id[1] == '6' ? key_v6 : key_v7)
                == NGX_OK)
            {
                if (id[1] == '6') {
                    have_v6 = 1;
                } else {
                    have_v7 = 1;
                }
            }
        }

        /* the string to sign */

        tc3_str(&t.secret_id, f[col[C_SECRET_ID]]);
        t.service = service;
        ngx_str_set(&t.uri, "/");
        tc3_str(&t.host, f[col[C_HOST]]);
        tc3_str(&t.content_type, f[col[C_CONTENT_TYPE]]);
        t.timestamp = (time_t) ts;
        t.payload_hash = (u_char *) f[col[C_HASHED_PAYLOAD]];

        if (strlen(f[col[C_HASHED_PAYLOAD]]) != NGX_QOCR_TC3_HASH_LEN) {
            printf("not ok %d - %s hashed_payload is not 64 hex digits\n",
                   ++tc3_n, id);
            tc3_failed++;
            continue;
        }

        sts_len = ngx_qocr_tc3_string_to_sign(&t, sts, sizeof(sts));
        tc3_check(id, "string to sign", sts_len ? sts : NULL, sts_len,
                  f[col[C_STRING_TO_SIGN]]);

        /* the Authorization, with an HMAC keyed with the signing key */

        k.data = key;
        k.len = sizeof(key);

        hmac = ngx_qocr_hmac_create(&k, "SHA256");
        if (hmac == NULL) {
            tc3_check(id, "authorization", NULL, 0, f[col[C_AUTHORIZATION]]);
            continue;
        }

        auth_max = ngx_qocr_tc3_authorization_len(&t);

        auth = malloc(auth_max);
        if (auth == NULL) {
            return 2;
        }

        last = ngx_qocr_tc3_authorization(&t, hmac, auth);

        if (last != NULL && (size_t) (last - auth) > auth_max) {
            printf("not ok %d - %s authorization: %d bytes, more than "
                   "ngx_qocr_tc3_authorization_len() %d\n", ++tc3_n, id,
                   (int) (last - auth), (int) auth_max);
            tc3_failed++;

        } else {
            tc3_check(id, "authorization", last ? auth : NULL,
                      last ? (size_t) (last - auth) : 0,
                      f[col[C_AUTHORIZATION]]);
        }

        free(auth);
        ngx_qocr_hmac_free(hmac);
    }

    fclose(fp);
    free(line);

    /* a UTC midnight between V6 and V7: the key chain changes */

    if (have_v6 && have_v7
        && memcmp(key_v6, key_v7, NGX_QOCR_SHA256_LEN) != 0)
    {
        printf("ok %d - V6/V7 date rollover gives different signing keys\n",
               ++tc3_n);

    } else {
        printf("not ok %d - V6/V7 date rollover gives different signing "
               "keys%s\n", ++tc3_n,
               (have_v6 && have_v7) ? "" : " (rows V6, V7 not both there)");
        tc3_failed++;
    }

    printf("# %d rows checked, %d skipped\n", rows, skipped);
    printf("1..%d\n", tc3_n);

    return tc3_failed ? 1 : 0;
}
