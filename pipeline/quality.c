/* quality.c — see quality.h. */
#include "quality.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "civil_date.h"
#include "escape.h"

static void put_day(FILE *fp, int32_t day)
{
    char buf[11];
    if (day == INT32_MIN)
        return;
    civil_format(day, buf);
    fputs(buf, fp);
}

/* The id's digits after its leading zeros ("0" for "000"), or NULL when it is not all
 * digits. */
static const char *digits_tail(const char *id, size_t *len)
{
    const char *s = id;
    if (*s < '0' || *s > '9')
        return NULL;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s)
        return NULL;
    const char *t = id;
    while (*t == '0' && t[1])
        t++;
    *len = (size_t)(s - t);
    return t;
}

/* A slot of the table of digit tails: the id's index (UINT32_MAX = empty), and 31 bits of
 * the tail's hash with the top bit set once a second id shares the tail. 8 bytes, the tail
 * found again from the id (the hash bits spare most of those looks), so ten million
 * all-digit ids take 128 MiB for the moment of the count. */
struct zslot {
    uint32_t idx, tag;
};
#define ZSLOT_SHARED UINT32_C(0x80000000)

int quality_count_zero_led_ids(const struct dataset *ds, size_t *count)
{
    size_t n = 0, len;
    int any = 0;
    *count = 0;
    for (size_t p = 0; p < ds->n_patients; p++) {
        const char *id = ds->patient_id[p];
        if (digits_tail(id, &len)) {
            n++;
            any |= id[0] == '0' && id[1] != '\0';
        }
    }
    if (!any)
        return 0;   /* no id has a leading zero, so no two can differ only in those */
    size_t cap = 16;
    while (cap < n + n / 3 + 1)   /* load <= 3/4 */
        cap *= 2;
    struct zslot *t = malloc(cap * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t[i] = (struct zslot){UINT32_MAX, 0};
    size_t flagged = 0;
    for (size_t p = 0; p < ds->n_patients; p++) {
        const char *tail = digits_tail(ds->patient_id[p], &len);
        if (!tail)
            continue;
        uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)tail[i]) * 1099511628211ULL;
        size_t i = (size_t)h & (cap - 1);
        uint32_t tag = (uint32_t)(h >> 33);   /* 31 bits the index did not use (cap <= 2^32) */
        for (; t[i].idx != UINT32_MAX; i = (i + 1) & (cap - 1)) {
            if ((t[i].tag & ~ZSLOT_SHARED) != tag)
                continue;
            size_t ol = 0;
            const char *other = digits_tail(ds->patient_id[t[i].idx], &ol);
            if (ol == len && memcmp(other, tail, len) == 0)
                break;
        }
        if (t[i].idx == UINT32_MAX) {
            t[i] = (struct zslot){(uint32_t)p, tag};
            continue;
        }
        /* Ids are distinct, so a second id with these digits differs in its zeros: the
         * first time, both count; after that, each newcomer. */
        flagged += t[i].tag & ZSLOT_SHARED ? 1 : 2;
        t[i].tag |= ZSLOT_SHARED;
    }
    free(t);
    *count = flagged;
    return 0;
}

int quality_write(const struct dataset *ds, FILE *fp, struct out_error *e)
{
    fputs("kind,name,sha256,rows_read,rows_accepted,rows_rejected,first_visit,last_visit\n", fp);
    fprintf(fp, "total,,,%ld,%ld,%ld,,\n", ds->rows_read, ds->rows_accepted, ds->rows_rejected);
    for (int r = 0; r < REJ__COUNT; r++)
        fprintf(fp, "reason,%s,,,,%ld,,\n", reject_reason_name((enum reject_reason)r),
                ds->rejected_by[r]);
    fprintf(fp, "ids,leading_zeros,,%zu,,,,\n", ds->ids_zero_led);
    for (size_t f = 0; f < ds->n_files; f++) {
        const struct input_file *fi = &ds->file[f];
        fputs("file,", fp);
        esc_csv(fp, fi->path);
        fprintf(fp, ",%s,%ld,%ld,%ld,", fi->sha256, fi->rows_read, fi->rows_accepted,
                fi->rows_rejected);
        put_day(fp, fi->first_day);
        fputc(',', fp);
        put_day(fp, fi->last_day);
        fputc('\n', fp);
    }
    return ferror(fp) ? out_err(e, OUT_EIO, NULL, 0, 0, "write error in quality.csv") : 0;
}

struct qstate {
    struct dataset *ds;
    const char *path;
    char field[8][4104];   /* a path ingest could open is at most PATH_MAX (4096) bytes */
    int nf;
    long line;
    int bad;
    struct out_error *e;
};

static int to_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    *out = s[0] ? strtol(s, &end, 10) : 0;
    return s[0] && (errno || *end || *out < 0) ? -1 : 0;
}

static int to_day(const char *s, int32_t *day)
{
    if (!s[0]) {
        *day = INT32_MIN;
        return 0;
    }
    return civil_parse_iso(s, day) == CIVIL_OK ? 0 : -1;
}

static void q_field(void *s, size_t len, void *data)
{
    struct qstate *q = data;
    if (q->nf < 8) {
        /* Cut short, a path would be wrong provenance without a word: refuse it instead. */
        if (len >= sizeof q->field[0] && !q->bad)
            q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line + 1, q->nf + 1,
                             "field longer than %zu bytes", sizeof q->field[0] - 1);
        size_t n = len < sizeof q->field[0] - 1 ? len : sizeof q->field[0] - 1;
        memcpy(q->field[q->nf], s, n);
        q->field[q->nf][n] = '\0';
    }
    q->nf++;
}

static void q_record(int c, void *data)
{
    (void)c;
    struct qstate *q = data;
    q->line++;
    int nf = q->nf;
    q->nf = 0;
    if (q->bad || q->line == 1)
        return;
    if (nf != 8) {
        q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line, 0, "expected 8 fields, found %d", nf);
        return;
    }
    struct dataset *ds = q->ds;
    char (*f)[sizeof q->field[0]] = q->field;
    long r, a, j;
    if (to_long(f[3], &r) || to_long(f[4], &a) || to_long(f[5], &j)) {
        q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line, 0, "counts are not whole numbers");
        return;
    }
    if (!strcmp(f[0], "total")) {
        ds->rows_read = r;
        ds->rows_accepted = a;
        ds->rows_rejected = j;
    } else if (!strcmp(f[0], "reason")) {
        int k = 0;
        while (k < REJ__COUNT && strcmp(f[1], reject_reason_name((enum reject_reason)k)))
            k++;
        /* Dropped, its rows would vanish from the reasons while the total still has them. */
        if (k == REJ__COUNT) {
            q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line, 2,
                             "unknown reject reason '%s' (written by a newer version?)", f[1]);
            return;
        }
        ds->rejected_by[k] = j;
    } else if (!strcmp(f[0], "ids")) {
        if (!strcmp(f[1], "leading_zeros"))
            ds->ids_zero_led = (size_t)r;
    } else if (!strcmp(f[0], "file")) {
        csv_unprefix(f[1]);   /* esc_csv wrote "+v.csv" as "'+v.csv" */
        long idx = dataset_add_file(ds, f[1]);
        if (idx < 0) {
            q->bad = out_err(q->e, OUT_EINTERNAL, q->path, q->line, 0, "out of memory");
            return;
        }
        struct input_file *fi = &ds->file[idx];
        snprintf(fi->sha256, sizeof fi->sha256, "%.64s", f[2]);
        fi->rows_read = r;
        fi->rows_accepted = a;
        fi->rows_rejected = j;
        if (to_day(f[6], &fi->first_day) || to_day(f[7], &fi->last_day))
            q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line, 0, "bad date");
    } else {
        q->bad = out_err(q->e, OUT_EINPUT, q->path, q->line, 1, "unknown kind '%s'", f[0]);
    }
}

int quality_read(struct dataset *ds, const char *path, struct out_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s (run `outcomes ingest` first)",
                       strerror(errno));
    for (size_t i = 0; i < ds->n_files; i++)
        free(ds->file[i].path);
    free(ds->file);
    ds->file = NULL;
    ds->n_files = 0;
    /* Every count comes from the file, none from the reading of visits.csv. */
    ds->rows_read = ds->rows_accepted = ds->rows_rejected = 0;
    memset(ds->rejected_by, 0, sizeof ds->rejected_by);
    /* Files from before the count have no ids row: unknown, which is not "none". */
    ds->ids_zero_led = IDS_ZERO_LED_UNKNOWN;
    struct csv_parser p;
    struct qstate q = {.ds = ds, .path = path, .e = e};
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    char buf[65536];
    size_t n;
    int perr = 0;
    while (!perr && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        if (csv_parse(&p, buf, n, q_field, q_record, &q) != n)
            perr = 1;
    if (!perr && csv_fini(&p, q_field, q_record, &q) != 0)
        perr = 1;
    csv_free(&p);
    fclose(fp);
    if (perr && !q.bad)
        return out_err(e, OUT_EINPUT, path, 0, 0, "malformed CSV");
    return q.bad;
}
