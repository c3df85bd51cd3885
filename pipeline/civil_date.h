/* civil_date.h — strict ISO dates and days since 1970-01-01 (proleptic Gregorian).
 *
 * Exists because glibc strptime("%Y-%m-%d") accepts 2026-02-30, 2025-02-29, 2026-2-3 and
 * trailing junk without a word (see ../shared/reference/pitfalls.md), and mktime then moves
 * such dates into the next month. Pure arithmetic (Hinnant's algorithms): no time zones, no
 * locale, no global state.
 */
#ifndef OUTCOMES_CIVIL_DATE_H
#define OUTCOMES_CIVIL_DATE_H

#include <stdint.h>

enum civil_status {
    CIVIL_OK = 0,
    CIVIL_FORMAT,      /* not exactly YYYY-MM-DD (4-2-2 digits, '-' separators, nothing more) */
    CIVIL_YEAR,        /* year before CIVIL_MIN_YEAR: a typo, not a visit */
    CIVIL_MONTH,       /* month not 01-12 */
    CIVIL_DAY          /* day not within that month (leap years honoured) */
};

enum { CIVIL_MIN_YEAR = 1900 };

/* Days since 1970-01-01 of a valid civil date (negative before 1970). */
int32_t civil_days(int y, int m, int d);
/* Inverse of civil_days. */
void civil_from_days(int32_t z, int *y, int *m, int *d);
/* 28..31, or 0 for a month outside 1..12. */
int civil_days_in_month(int y, int m);
/* Parse exactly "YYYY-MM-DD" (NUL-terminated s). On CIVIL_OK stores the day in *day;
 * other statuses leave *day untouched. */
enum civil_status civil_parse_iso(const char *s, int32_t *day);
/* Write "YYYY-MM-DD" and a NUL into buf (11 bytes). */
void civil_format(int32_t day, char buf[11]);
/* Today's local calendar date as days since 1970-01-01. */
int32_t civil_today(void);

#endif
