/* HMAC-SHA256 against RFC 4231's published test vectors, and the pseudonym contract:
 * deterministic per key, different across keys, ids replaced in place, key file rules. */
#include <stdlib.h>
#include <unistd.h>

#include "dataset.h"
#include "harness.h"
#include "pseudonym.h"
#include "sha256.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* FIPS 180-2 vectors through whichever block function is active. */
static void sha_vectors(void)
{
    struct sha256 s;
    char h[65];
    sha256_init(&s);
    sha256_update(&s, "abc", 3);
    sha256_final_hex(&s, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_init(&s);
    sha256_update(&s, m, strlen(m));
    sha256_final_hex(&s, h);
    CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    static char ma[1000000];
    memset(ma, 'a', sizeof ma);
    sha256_init(&s);
    sha256_update(&s, ma, sizeof ma);
    sha256_final_hex(&s, h);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_vectors(void)
{
    unsigned char mac[32];
    char h[65];
    /* RFC 4231 test case 1: key = 20 bytes of 0x0b, data "Hi There". */
    unsigned char k1[20];
    memset(k1, 0x0b, sizeof k1);
    hmac_sha256(k1, sizeof k1, "Hi There", 8, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2: key "Jefe". */
    hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 6: a 131-byte key (hashed first), data
     * "Test Using Larger Than Block-Size Key - Hash Key First". */
    unsigned char k6[131];
    memset(k6, 0xaa, sizeof k6);
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_sha256(k6, sizeof k6, d6, strlen(d6), mac);
    hex(mac, 32, h);
    CHECK_STR(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int main(void)
{
    /* Both SHA-256 paths: the CPU's SHA instructions where present, and the portable code. */
    for (int portable = 0; portable <= 1; portable++) {
        sha256_force_portable(portable);
        sha_vectors();
        hmac_vectors();
    }
    sha256_force_portable(0);
    /* A pseudonym is "p" + the first 10 bytes of the MAC in hex: for key "Jefe" and the
     * test-case-2 message that is 5bdcc146bf60754e6a04 (read off the vector above). */
    char p[PSEUDONYM_LEN + 1], q[PSEUDONYM_LEN + 1];
    pseudonym_of((const unsigned char *)"Jefe", 4, "what do ya want for nothing?", p);
    CHECK_STR(p, "p5bdcc146bf60754e6a04");
    const unsigned char *ka = (const unsigned char *)"0123456789abcdef";
    const unsigned char *kb = (const unsigned char *)"0123456789abcdeg";
    pseudonym_of(ka, 16, "P000001", p);
    pseudonym_of(ka, 16, "P000001", q);
    CHECK_STR(p, q);
    pseudonym_of(kb, 16, "P000001", q);
    CHECK(strcmp(p, q) != 0);

    struct dataset ds;
    dataset_init(&ds);
    CHECK(dataset_patient(&ds, "P000001") == 0);
    CHECK(dataset_patient(&ds, "P000002") == 1);
    struct out_error e = {0};
    CHECK(pseudonymise_dataset(&ds, ka, 16, &e) == 0);
    CHECK_STR(ds.patient_id[0], p);
    CHECK(strstr(ds.patient_id[1], "P0000") == NULL);
    /* The id index follows the new strings. */
    CHECK(dataset_patient(&ds, p) == 0);
    CHECK(ds.n_patients == 2);
    dataset_free(&ds);

    char path[] = "/tmp/outcomes_key_XXXXXX";
    int fd = mkstemp(path);
    CHECK(write(fd, "short\n", 6) == 6);
    close(fd);
    unsigned char key[PSEUDONYM_KEY_MAX];
    size_t klen = 0;
    CHECK(pseudonym_key_load(path, key, &klen, &e) == OUT_EINPUT);
    CHECK_CONTAINS(e.msg, "at least 16");
    FILE *fp = fopen(path, "w");
    fputs("0123456789abcdef\n", fp);
    fclose(fp);
    CHECK(pseudonym_key_load(path, key, &klen, &e) == 0);
    CHECK(klen == 16 && memcmp(key, ka, 16) == 0);
    unlink(path);
    CHECK(pseudonym_key_load(path, key, &klen, &e) == OUT_EIO);
    return TEST_END("test_pseudonym");
}
