
/*
 * Known answers of the legacy signature, through the module's own
 * ngx_qocr_sign() and nginx's base64: reads rows of
 * "secret_key TAB plain TAB Authorization" ("#" lines are comments) and
 * prints TAP.  Linked with the objects of the static nginx build.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_qocr_sign.h"


int
main(int argc, char **argv)
{
    int         n, failed;
    char        line[4096], *key, *plain, *expected, *nl;
    FILE       *f;
    u_char      out[4096];
    ngx_str_t   k, p, a;

    if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: sign-kat VECTORS.tsv\n");
        return 2;
    }

    n = 0;
    failed = 0;

    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }

        nl = strpbrk(line, "\r\n");
        if (nl) {
            *nl = '\0';
        }

        key = line;
        plain = strchr(key, '\t');
        expected = plain ? strchr(plain + 1, '\t') : NULL;

        if (expected == NULL) {
            printf("not ok %d - malformed vector row\n", ++n);
            failed++;
            continue;
        }

        *plain++ = '\0';
        *expected++ = '\0';

        k.data = (u_char *) key;
        k.len = strlen(key);
        p.data = (u_char *) plain;
        p.len = strlen(plain);
        a.data = out;
        a.len = 0;

        if (ngx_qocr_sign(&k, &p, &a) != NGX_OK
            || a.len != strlen(expected)
            || memcmp(a.data, expected, a.len) != 0)
        {
            printf("not ok %d - %s\n#   got: %.*s\n#  want: %s\n", ++n,
                   plain, (int) a.len, a.data, expected);
            failed++;
            continue;
        }

        printf("ok %d - %s\n", ++n, plain);
    }

    fclose(f);

    printf("1..%d\n", n);

    return failed ? 1 : 0;
}
