/* test_fuzz_replay.c — replays every file of tests/fuzz/corpus/ through the fuzz target, so
 * `make check` re-runs each input the fuzzer ever found interesting (crashes included,
 * once fixed) under the sanitizers, without needing clang's libFuzzer. A broken property
 * aborts inside the target, which tests/run counts as a failure. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "fuzz/fuzz_ingest.c"

#define CORPUS "tests/fuzz/corpus"

int main(void)
{
    DIR *d = opendir(CORPUS);
    CHECK(d != NULL);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, CORPUS "/%s", de->d_name);
        FILE *fp = fopen(path, "rb");
        CHECK(fp != NULL);
        if (!fp)
            continue;
        size_t cap = 1 << 16, len = 0, got;
        unsigned char *buf = malloc(cap);
        while (buf && (got = fread(buf + len, 1, cap - len, fp)) > 0) {
            len += got;
            if (len == cap) {
                unsigned char *nb = realloc(buf, cap *= 2);
                if (!nb)
                    free(buf);
                buf = nb;
            }
        }
        fclose(fp);
        CHECK(buf != NULL);
        if (buf)
            CHECK(LLVMFuzzerTestOneInput(buf, len) == 0);
        free(buf);
        n++;
    }
    if (d)
        closedir(d);
    CHECK(n >= 12);
    return TEST_END("test_fuzz_replay");
}
