/* grow.h — room for `need` items in a growing array: the one helper every module that keeps
 * a reusable buffer needs.
 *
 * grow_buf(&p, &cap, need, size) makes *p hold at least `need` items of `size` bytes,
 * doubling from 64 (amortised O(1) appends); *p and *cap are unchanged when it fails.
 * Returns 0, or -1 when out of memory or when need * size would overflow. The caller owns
 * *p and frees it. */
#ifndef OUTCOMES_GROW_H
#define OUTCOMES_GROW_H

#include <stdint.h>
#include <stdlib.h>

static inline int grow_buf(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return -1;
    void *np = realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

#endif
