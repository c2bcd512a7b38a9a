/*
 * datetime.c - Qdrant's datetime payload text to UTC Unix microseconds, the value a
 * Milvus TIMESTAMPTZ field holds. The forms Qdrant's datetime index accepts
 * (shared/reference/qdrant.md, DateTimePayloadType::from_str): RFC 3339; a space for
 * the 'T'; an offset as Z, +HH, +HHMM or +HH:MM; naive date-times (taken as UTC,
 * as Qdrant does) with or without seconds; a bare date. Pure.
 */
#include <stddef.h>
#include <stdint.h>

#include "util/datetime.h"

static int digits(const char *s, size_t n, size_t at, size_t k, int *out)
{
    int v = 0;
    if (at + k > n) return -1;
    for (size_t i = 0; i < k; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

int vmig_datetime_parse(const char *s, size_t n, int64_t *micros)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    int64_t frac = 0;
    int lossy = 0, sign = 0;
    size_t i = 0;
    if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits(s, n, 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) return -1;
    i = 10;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return -1;
        if (digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' ||
            digits(s, n, i + 4, 2, &mi))
            return -1;
        i += 6;
        if (i < n && s[i] == ':') {
            if (digits(s, n, i + 1, 2, &sec)) return -1;
            i += 3;
            if (i < n && s[i] == '.') {
                size_t k = 0;
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++) {
                    if (k < 6)
                        frac = frac * 10 + (s[i] - '0');
                    else if (s[i] != '0')
                        lossy = 1;
                }
                if (!k) return -1;
                for (; k < 6; k++)
                    frac *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return -1;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            sign = s[i] == '-' ? -1 : 1;
            if (digits(s, n, i + 1, 2, &oh)) return -1;
            i += 3;
            if (i < n && s[i] == ':') i++;
            if (i < n) {
                if (digits(s, n, i, 2, &om)) return -1;
                i += 2;
            }
            if (oh > 23 || om > 59) return -1;
        }
    }
    if (i != n) return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= sign * (oh * 3600 + om * 60);
    *micros = t * 1000000 + frac;
    return lossy;
}
