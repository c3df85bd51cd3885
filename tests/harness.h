/* harness.h — a tiny test harness: CHECK macros count passes and failures, and
 * TEST_END prints `NAME: N passed, M failed` and returns the exit status.
 * Each tests/test_*.c is its own program; tests/run adds the counts up. */
#ifndef OUTCOMES_HARNESS_H
#define OUTCOMES_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int h_pass, h_fail;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (cond) h_pass++;                                                            \
        else { h_fail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

/* |got - want| <= tol; NaN never passes. */
#define CHECK_NEAR(got, want, tol)                                                     \
    do {                                                                               \
        double g_ = (got), w_ = (want), t_ = (tol);                                    \
        if (fabs(g_ - w_) <= t_) h_pass++;                                             \
        else { h_fail++; fprintf(stderr, "%s:%d: %s = %.17g, want %.17g (tol %g)\n",   \
                                 __FILE__, __LINE__, #got, g_, w_, t_); }              \
    } while (0)

/* Correct significant digits: -log10(|got-want|/|want|) >= digits. */
#define CHECK_DIGITS(got, want, digits)                                                \
    do {                                                                               \
        double g_ = (got), w_ = (want);                                                \
        double lre_ = (g_ == w_) ? 99.0 : -log10(fabs(g_ - w_) / fabs(w_));            \
        if (lre_ >= (digits)) h_pass++;                                                \
        else { h_fail++; fprintf(stderr, "%s:%d: %s = %.17g, want %.17g: %.1f digits < %d\n", \
                                 __FILE__, __LINE__, #got, g_, w_, lre_, (int)(digits)); } \
    } while (0)

#define CHECK_STR(got, want)                                                           \
    do {                                                                               \
        const char *g_ = (got), *w_ = (want);                                          \
        if (g_ && w_ && strcmp(g_, w_) == 0) h_pass++;                                 \
        else { h_fail++; fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, \
                                 __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                    \
    do {                                                                               \
        const char *g_ = (hay), *w_ = (needle);                                        \
        if (g_ && strstr(g_, w_)) h_pass++;                                            \
        else { h_fail++; fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",    \
                                 __FILE__, __LINE__, g_ ? g_ : "(null)", w_); }        \
    } while (0)

#define TEST_END(name)                                                                 \
    (printf("%s: %d passed, %d failed\n", (name), h_pass, h_fail), h_fail ? 1 : 0)

#endif
