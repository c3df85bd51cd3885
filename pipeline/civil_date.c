/* civil_date.c — see civil_date.h. Algorithms from H. Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms": exact for every proleptic Gregorian date, integer arithmetic only. */
#include "civil_date.h"

#include <time.h>

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int civil_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int32_t civil_days(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void civil_from_days(int32_t z0, int *y, int *m, int *d)
{
    long z = (long)z0 + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

enum civil_status civil_parse_iso(const char *s, int32_t *day)
{
    /* Each byte is tested before the next is read, so a short string is never overrun;
     * written out rather than looped, as it runs on every row of every input. */
    const unsigned char *u = (const unsigned char *)s;
#define DIGIT(k) ((unsigned)u[k] - '0' < 10u)
    if (!(DIGIT(0) && DIGIT(1) && DIGIT(2) && DIGIT(3) && u[4] == '-' && DIGIT(5) && DIGIT(6) &&
          u[7] == '-' && DIGIT(8) && DIGIT(9) && u[10] == '\0'))
        return CIVIL_FORMAT;
#undef DIGIT
    int y = (u[0] - '0') * 1000 + (u[1] - '0') * 100 + (u[2] - '0') * 10 + (u[3] - '0');
    int m = (u[5] - '0') * 10 + (u[6] - '0'), d = (u[8] - '0') * 10 + (u[9] - '0');
    if (y < CIVIL_MIN_YEAR)
        return CIVIL_YEAR;
    if (m < 1 || m > 12)
        return CIVIL_MONTH;
    if (d < 1 || d > civil_days_in_month(y, m))
        return CIVIL_DAY;
    *day = civil_days(y, m, d);
    return CIVIL_OK;
}

void civil_format(int32_t day, char buf[11])
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    /* Years stay 0000-9999 for any date this module parses; clamp so the width holds. */
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}

int32_t civil_today(void)
{
    time_t t = time(NULL);
    struct tm tm;
    if (t == (time_t)-1 || !localtime_r(&t, &tm))
        return INT32_MAX;   /* no clock: disable the future-date check rather than guess */
    return civil_days(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
