/* pseudonym.h — keyed pseudonyms for patient ids (--pseudonymise KEYFILE).
 *
 * A pseudonym is "p" + the first 20 hex digits (80 bits) of HMAC-SHA256(key, id): the same
 * id and key always give the same pseudonym, so monthly files stay linkable, while without
 * the key nobody can recompute or reverse it (unlike a plain hash of a guessable id). The key
 * is read from a file so it never appears on a command line or in a report's provenance.
 */
#ifndef OUTCOMES_PSEUDONYM_H
#define OUTCOMES_PSEUDONYM_H

#include <stddef.h>

#include "dataset.h"
#include "error.h"

enum { PSEUDONYM_KEY_MIN = 16, PSEUDONYM_KEY_MAX = 1024, PSEUDONYM_LEN = 21 };

/* HMAC-SHA256 (RFC 2104) of msg under key. */
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[32]);

/* Read a key file: its bytes, less one trailing newline. Returns 0; OUT_EIO when unreadable;
 * OUT_EINPUT when shorter than PSEUDONYM_KEY_MIN or longer than PSEUDONYM_KEY_MAX bytes. */
int pseudonym_key_load(const char *path, unsigned char key[PSEUDONYM_KEY_MAX], size_t *klen,
                       struct out_error *e);

/* Write the pseudonym of id into out (PSEUDONYM_LEN + 1 bytes). */
void pseudonym_of(const unsigned char *key, size_t klen, const char *id,
                  char out[PSEUDONYM_LEN + 1]);

/* Replace every patient id of ds by its pseudonym, in place. Returns 0, OUT_EINTERNAL on out
 * of memory, or OUT_EINPUT should two ids collide (80 bits: not expected in practice). */
int pseudonymise_dataset(struct dataset *ds, const unsigned char *key, size_t klen,
                         struct out_error *e);

#endif
