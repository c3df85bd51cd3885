/* parse_num.h — strict parsing of score cells, session numbers and yes/no flags.
 *
 * Exists because atoi("") is 0 (a missing pain score would become "pain 0"), atoi("7.5") is
 * 7, and strtod takes "nan", "inf", "0x7" and "1e1". A score is accepted only in plain
 * decimal form: optional sign, digits, optional fraction ("7", "7.5", ".5", "7.", "-0").
 * Exponents are refused on purpose: no instrument is written in scientific notation, and an
 * exponent in a score column means a spreadsheet has mangled it. Locale-independent.
 */
#ifndef OUTCOMES_PARSE_NUM_H
#define OUTCOMES_PARSE_NUM_H

/* 1 when s is a missing-value token: "", "NA", "N/A", "." (case-insensitive). Inline:
 * it runs on every cell, and most cells fail on the first byte. */
int parse_is_missing_token(const char *s);
static inline int parse_is_missing(const char *s)
{
    return (s[0] == '\0' || s[0] == 'n' || s[0] == 'N' || s[0] == '.') &&
           parse_is_missing_token(s);
}

/* Parse a plain decimal number; dec is the decimal separator ('.' or ','). Returns 0 and
 * stores a value (possibly huge or inf when it has hundreds of digits; the caller's range
 * check refuses those), or -1 when s is not a plain decimal number. -0 becomes 0. */
int parse_decimal(const char *s, char dec, double *out);

/* Parse digits only (no sign, no spaces) as an integer in 1..max. Returns 0 or -1. */
int parse_count(const char *s, long max, long *out);

/* yes/no/y/n/true/false/1/0 (case-insensitive): stores 1 or 0 and returns 0; else -1. */
int parse_flag(const char *s, int *out);

/* Strip leading and trailing spaces and tabs in place; returns the first kept character. */
char *trim_blanks(char *s);

#endif
