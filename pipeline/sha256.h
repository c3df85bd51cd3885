/* sha256.h — SHA-256 (FIPS 180-4) computed incrementally, for the provenance digest of each
 * input file: the report can then name exactly which bytes it was computed from.
 * Streaming, so a file is hashed as it is read, never held whole in memory. */
#ifndef OUTCOMES_SHA256_H
#define OUTCOMES_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t nbytes;
    unsigned char buf[64];
    size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finish and write the 32-byte digest; *s must be re-initialised before reuse. */
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* Finish and write the digest as 64 lowercase hex digits plus NUL. */
void sha256_final_hex(struct sha256 *s, char out[65]);

/* Use the portable code even where the CPU has SHA instructions (1), or let it choose (0).
 * For tests, so both paths are checked on a machine that has SHA-NI. */
void sha256_force_portable(int on);

#endif
