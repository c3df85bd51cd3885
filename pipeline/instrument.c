/* instrument.c — built-in instruments. Ranges, directions and MICs from
 * ../shared/reference/evidence.md (Ostelo 2008; IMMPACT; Buysse 2011; Yang 2009).
 * Cut-offs are the highest "normal" score: PSQI > 5 is a poor sleeper; ISI remission is < 8,
 * so its cut-off is 7.
 * Reliabilities are typical published test–retest values, used only for the RCI. */
#include "instrument.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const struct instrument builtin[] = {
    /* name        label                               min  max  hb  mic   r     cutoff */
    {"pain",       "Pain NRS (0-10)",                   0,  10,  0,  2,    0.85, NAN},
    {"pain_vas",   "Pain VAS (0-100)",                  0, 100,  0, 15,    0.85, NAN},
    {"psqi",       "PSQI (0-21)",                       0,  21,  0,  3,    0.85, 5},
    {"isi",        "Insomnia Severity Index (0-28)",    0,  28,  0,  6,    0.80, 7},
    {"sleep",      "Sleep quality (0-10)",              0,  10,  1,  2,    0.80, NAN},
    {"stress",     "PSS-10 stress (0-40)",              0,  40,  0, NAN,   0.85, NAN},
    {"rmdq",       "Roland-Morris disability (0-24)",   0,  24,  0,  5,    0.90, NAN},
    {"odi",        "Oswestry disability (0-100)",       0, 100,  0, 10,    0.90, NAN},
};

void instrument_table_builtin(struct instrument_table *t)
{
    t->n = sizeof builtin / sizeof builtin[0];
    memcpy(t->item, builtin, sizeof builtin);
}

const struct instrument *instrument_find(const struct instrument_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->item[i].name, name) == 0)
            return &t->item[i];
    return NULL;
}

int instrument_table_add(struct instrument_table *t, const struct instrument *in)
{
    if (!in->name[0] || !isfinite(in->min) || !isfinite(in->max) || in->min >= in->max)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (strcasecmp(t->item[i].name, in->name) == 0) {
            t->item[i] = *in;
            return 0;
        }
    if (t->n >= INSTRUMENT_MAX)
        return -1;
    t->item[t->n++] = *in;
    return 0;
}

double instrument_improvement(const struct instrument *in, double from, double to)
{
    return in->higher_better ? to - from : from - to;
}
