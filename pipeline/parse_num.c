/* parse_num.c — see parse_num.h. Grammar is checked by hand first, so strtod only ever sees
 * a string it will consume entirely in the C locale. */
#include "parse_num.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int parse_is_missing_token(const char *s)
{
    return s[0] == '\0' || strcasecmp(s, "NA") == 0 || strcasecmp(s, "N/A") == 0 ||
           strcmp(s, ".") == 0;
}

int parse_decimal(const char *s, char dec, double *out)
{
    /* Most scores are one or two digits: the value below is what the general path gives
     * them (a whole number m / 10^0), without its scans. */
    if (s[0] >= '0' && s[0] <= '9') {
        if (s[1] == '\0') {
            *out = s[0] - '0';
            return 0;
        }
        if (s[1] >= '0' && s[1] <= '9' && s[2] == '\0') {
            *out = (s[0] - '0') * 10 + (s[1] - '0');
            return 0;
        }
    }
    const char *p = s;
    size_t int_digits = 0, frac_digits = 0;
    if (*p == '+' || *p == '-')
        p++;
    while (*p >= '0' && *p <= '9')
        p++, int_digits++;
    const char *sep = NULL;
    if (*p == dec) {
        sep = p++;
        while (*p >= '0' && *p <= '9')
            p++, frac_digits++;
    }
    if (*p != '\0' || int_digits + frac_digits == 0)
        return -1;
    double v;
    if (int_digits + frac_digits <= 15) {
        /* Clinger's fast path: the digits as an integer m < 10^15 < 2^53 and 10^f (f <= 15)
         * are both exact doubles, so m / 10^f is one correctly rounded operation: the double
         * nearest the decimal, which is what strtod returns. Scores are short, so almost
         * every cell takes this path. */
        static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        uint64_t m = 0;
        for (const char *q = s; q < p; q++)
            if (*q >= '0' && *q <= '9')
                m = m * 10 + (uint64_t)(*q - '0');
        v = (double)m / pow10[frac_digits];
        if (*s == '-')
            v = -v;
        *out = v == 0 ? 0.0 : v;
        return 0;
    }
    if (sep && dec != '.') {
        char buf[128];
        size_t n = (size_t)(p - s);
        if (n >= sizeof buf)
            return -1;
        memcpy(buf, s, n + 1);
        buf[sep - s] = '.';
        v = strtod(buf, NULL);
    } else {
        v = strtod(s, NULL);
    }
    *out = v == 0 ? 0.0 : v;
    return 0;
}

int parse_count(const char *s, long max, long *out)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
    }
    if (v < 1)
        return -1;
    *out = v;
    return 0;
}

int parse_flag(const char *s, int *out)
{
    static const struct { const char *word; int value; } words[] = {
        {"1", 1}, {"0", 0}, {"yes", 1}, {"no", 0}, {"y", 1}, {"n", 0},
        {"true", 1}, {"false", 0},
    };
    /* Only a word with the same first letter can match: one strcasecmp, not eight. */
    char c0 = s[0] >= 'A' && s[0] <= 'Z' ? (char)(s[0] - 'A' + 'a') : s[0];
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i].word[0] == c0 && strcasecmp(s, words[i].word) == 0) {
            *out = words[i].value;
            return 0;
        }
    return -1;
}

char *trim_blanks(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}
