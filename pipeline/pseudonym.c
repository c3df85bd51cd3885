/* pseudonym.c — see pseudonym.h. */
#include "pseudonym.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    struct sha256 s;
    if (klen > 64) {   /* long keys are hashed first (RFC 2104) */
        sha256_init(&s);
        sha256_update(&s, key, klen);
        sha256_final(&s, k);
    } else {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, msg, mlen);
    sha256_final(&s, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, inner, 32);
    sha256_final(&s, out);
}

int pseudonym_key_load(const char *path, unsigned char key[PSEUDONYM_KEY_MAX], size_t *klen,
                       struct out_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot read key: %s", strerror(errno));
    size_t n = fread(key, 1, PSEUDONYM_KEY_MAX, fp);
    int more = fgetc(fp) != EOF;
    fclose(fp);
    if (n && key[n - 1] == '\n')
        n--;
    if (n && key[n - 1] == '\r')
        n--;
    if (more)
        return out_err(e, OUT_EINPUT, path, 0, 0, "key longer than %d bytes", PSEUDONYM_KEY_MAX);
    if (n < PSEUDONYM_KEY_MIN)
        return out_err(e, OUT_EINPUT, path, 0, 0,
                       "key is %zu bytes; at least %d are needed (e.g. head -c 32 /dev/urandom "
                       "| base64 > KEYFILE)", n, PSEUDONYM_KEY_MIN);
    *klen = n;
    return 0;
}

void pseudonym_of(const unsigned char *key, size_t klen, const char *id,
                  char out[PSEUDONYM_LEN + 1])
{
    unsigned char mac[32];
    static const char hex[] = "0123456789abcdef";
    hmac_sha256(key, klen, id, strlen(id), mac);
    out[0] = 'p';
    for (int i = 0; i < 10; i++) {
        out[1 + 2 * i] = hex[mac[i] >> 4];
        out[2 + 2 * i] = hex[mac[i] & 15];
    }
    out[PSEUDONYM_LEN] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pseudonymise_dataset(struct dataset *ds, const unsigned char *key, size_t klen,
                         struct out_error *e)
{
    for (size_t i = 0; i < ds->n_patients; i++) {
        char p[PSEUDONYM_LEN + 1];
        pseudonym_of(key, klen, ds->patient_id[i], p);
        /* The old id stays in the arena until ds is freed; nothing points to it. */
        char *np = dataset_strdup(ds, p);
        if (!np)
            return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
        ds->patient_id[i] = np;
    }
    /* The id index hashes the old strings: drop it; the next lookup rebuilds it. */
    dataset_drop_id_index(ds);
    char **sorted = malloc((ds->n_patients ? ds->n_patients : 1) * sizeof *sorted);
    if (!sorted)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    memcpy(sorted, ds->patient_id, ds->n_patients * sizeof *sorted);
    qsort(sorted, ds->n_patients, sizeof *sorted, cmp_str);
    int collide = 0;
    for (size_t i = 1; i < ds->n_patients && !collide; i++)
        collide = strcmp(sorted[i - 1], sorted[i]) == 0;
    free(sorted);
    if (collide)
        return out_err(e, OUT_EINPUT, NULL, 0, 0, "two patient ids share a pseudonym");
    return 0;
}
