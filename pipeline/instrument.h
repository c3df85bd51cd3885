/* instrument.h — the table of outcome instruments (scales) a visit file may carry.
 *
 * An instrument is data, not code: its column name, valid range, which direction is better,
 * minimal important change (MIC), and test–retest reliability for the Jacobson–Truax reliable
 * change index. Built-ins come from ../shared/reference/evidence.md; more can be added at run
 * time (instrument_table_add) without recompiling. The table owns its strings.
 */
#ifndef OUTCOMES_INSTRUMENT_H
#define OUTCOMES_INSTRUMENT_H

#include <stddef.h>

struct instrument {
    char name[32];          /* column name in a long-format file, e.g. "pain" */
    char label[64];         /* human label, e.g. "Pain NRS 0-10" */
    double min, max;        /* valid range, inclusive */
    int higher_better;      /* 1 when a higher score is better (sleep quality); 0 for pain */
    double mic;             /* minimal important change in points (>0), or NAN when none */
    double reliability;     /* test-retest r for the RCI, or NAN when unknown */
    double cutoff;          /* clinical cut-off for "recovered", or NAN */
};

enum { INSTRUMENT_MAX = 32 };

struct instrument_table {
    size_t n;
    struct instrument item[INSTRUMENT_MAX];
};

/* Fill *t with the built-in instruments. */
void instrument_table_builtin(struct instrument_table *t);

/* Find by column name (exact, case-insensitive); NULL when absent. */
const struct instrument *instrument_find(const struct instrument_table *t, const char *name);

/* Add or replace an instrument. Returns 0, or -1 when the table is full or the definition
 * is invalid (empty name, min >= max, non-finite range). */
int instrument_table_add(struct instrument_table *t, const struct instrument *in);

/* Improvement from a to b in the instrument's good direction (positive = better). */
double instrument_improvement(const struct instrument *in, double from, double to);

#endif
