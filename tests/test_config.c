/* test_config.c — the config file, instruments file and wide map loaders: every key applied
 * and then used by ingest on a fixture checked by hand, samples/instruments.conf and
 * samples/wide-trial.map as shipped, and one case per error with the exact `file:line:
 * message`, each showing the file's text beside the message it must give. Run from the
 * repository root (reads tests/fixtures/config/ and samples/). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil_date.h"
#include "config.h"
#include "dataset.h"
#include "harness.h"
#include "ingest.h"
#include "instrument.h"

#define FIX "tests/fixtures/config/"

static void setup(struct ingest_opts *o, struct instrument_table *tab)
{
    ingest_opts_default(o);
    o->today = civil_days(2026, 1, 1);
    instrument_table_builtin(tab);
}

/* Write text to a fresh temporary file; its name goes to path (caller unlinks). */
static void write_tmp(char path[64], const char *text, size_t len)
{
    snprintf(path, 64, "/tmp/outcomes-cfg-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *fp = fdopen(fd, "wb");
    fwrite(text, 1, len, fp);
    fclose(fp);
}

static int load_text(const char *text, char path[64], struct ingest_opts *o,
                     struct instrument_table *tab, char *msg, size_t n)
{
    struct out_error e = {0};
    write_tmp(path, text, strlen(text));
    int rc = ingest_config_load(path, o, tab, &e);
    out_error_format(&e, msg, n);
    return rc;
}

/* ---- every key, then ingest with them --------------------------------------------- */

static void test_long_config(void)
{
    struct ingest_opts o;
    struct instrument_table tab;
    struct out_error e = {0};
    setup(&o, &tab);
    CHECK(ingest_config_load(FIX "long.conf", &o, &tab, &e) == 0);
    CHECK(o.n_map == 2);
    CHECK_STR(o.column_map[0].canonical, "patient_id");
    CHECK_STR(o.column_map[0].source, "record_id");
    CHECK_STR(o.column_map[1].canonical, "pain");
    CHECK_STR(o.column_map[1].source, "PainNRS");
    CHECK(o.delimiter == ';' && o.decimal_comma == 1);
    CHECK(o.n_key == 2);
    CHECK_STR(o.key_column[0], "site");
    CHECK_STR(o.key_column[1], "record");
    CHECK_STR(o.time_column, "week");
    CHECK(o.time_unit_days == 7);
    CHECK(o.n_wide == 0);
    CHECK(o.instruments == &tab);
    /* 8 built-ins + pgic (config line) + fatigue (included file). */
    CHECK(tab.n == 10);
    const struct instrument *pg = instrument_find(&tab, "pgic");
    CHECK(pg && pg->min == 1 && pg->max == 7 && pg->higher_better == 0 && pg->mic == 1 &&
          isnan(pg->reliability) && isnan(pg->cutoff));
    if (pg)
        CHECK_STR(pg->label, "Patient global impression of change (1-7)");
    const struct instrument *fa = instrument_find(&tab, "fatigue");
    CHECK(fa && fa->max == 10 && fa->mic == 1.5 && fa->reliability == 0.8);

    /* clinic.csv, line by line:
     *   N;1;0;7,5;6;North   patient N/1, week 0 = day 0, pain 7.5, fatigue 6
     *   N;1;2;5;4,5;North   N/1, week 2 = day 14, pain 5, fatigue 4.5
     *   S;1;0;8;;South      S/1, day 0, pain 8, fatigue missing
     *   S;2;1;11;3;South    pain 11 > 10: rejected, column 4 */
    struct dataset ds;
    dataset_init(&ds);
    const char *path = FIX "clinic.csv";
    char *rej = NULL;
    size_t rej_len = 0;
    FILE *fp = open_memstream(&rej, &rej_len);
    CHECK(ingest_files(&path, 1, &o, &ds, fp, &e) == 0);
    fclose(fp);
    CHECK(ds.rows_read == 4 && ds.rows_accepted == 3 && ds.rows_rejected == 1);
    CHECK(ds.n_patients == 2 && ds.n_instr == 2);
    CHECK_STR(ds.patient_id[0], "N/1");
    CHECK_STR(ds.patient_id[1], "S/1");
    CHECK_STR(ds.instr[0]->name, "pain");
    CHECK_STR(ds.instr[1]->name, "fatigue");
    CHECK(ds.visit[0].day == 0 && ds.score[0] == 7.5 && ds.score[1] == 6);
    CHECK(ds.visit[1].day == 14 && ds.score[2] == 5 && ds.score[3] == 4.5);
    CHECK(ds.visit[2].day == 0 && ds.score[4] == 8 && isnan(ds.score[5]));
    /* Messages name the column as the file spells it, so the clinic can find it. */
    CHECK_CONTAINS(rej, "clinic.csv,5,4,out_of_range,PainNRS: '11' is outside 0\u201310,"
                        "S;2;1;11;3;South\n");
    free(rej);
    dataset_free(&ds);
}

static void test_wide_config(void)
{
    struct ingest_opts o;
    struct instrument_table tab;
    struct out_error e = {0};
    setup(&o, &tab);
    /* `vas` is declared on the line after the spec that uses it. */
    CHECK(ingest_config_load(FIX "wide.conf", &o, &tab, &e) == 0);
    CHECK(o.n_wide == 3 && strcmp(o.wide[0].instrument, "vas") == 0);
    CHECK(o.wide[1].day == 91 && o.wide[2].day == 365);   /* 3 and 12 x 30.4375, rounded */
    struct dataset ds;
    dataset_init(&ds);
    const char *path = "samples/wide-trial.csv";
    CHECK(ingest_files(&path, 1, &o, &ds, NULL, &e) == 0);
    /* 40 patients x 3 time points - 5 empty cells (samples/README.md). */
    CHECK(ds.rows_accepted == 40 && ds.n_visits == 115);
    CHECK(ds.n_instr == 1 && strcmp(ds.instr[0]->name, "vas") == 0);
    dataset_free(&ds);

    setup(&o, &tab);
    CHECK(ingest_config_load(FIX "wide_map.conf", &o, &tab, &e) == 0);
    CHECK(o.n_wide == 3 && strcmp(o.wide[2].column, "pk5") == 0);
    CHECK(o.n_map == 2);
    CHECK_STR(o.column_map[1].canonical, "arm");
    /* samples/instruments.conf restates built-ins: replaced, not added. */
    CHECK(tab.n == 8);
}

/* samples/instruments.conf as shipped: the built-in values, in the file's format. */
static void test_instruments_file(void)
{
    struct instrument_table tab, builtin;
    struct out_error e = {0};
    instrument_table_builtin(&builtin);
    tab = builtin;
    CHECK(ingest_config_load_instruments("samples/instruments.conf", &tab, &e) == 0);
    CHECK(tab.n == 8);
    /* pain_vas,Pain VAS (0-100),0,100,lower,15,0.85, */
    const struct instrument *v = instrument_find(&tab, "pain_vas");
    CHECK(v && v->min == 0 && v->max == 100 && !v->higher_better && v->mic == 15 &&
          v->reliability == 0.85 && isnan(v->cutoff));
    /* sleep,Sleep quality (0-10),0,10,higher,2,0.80, */
    const struct instrument *s = instrument_find(&tab, "sleep");
    CHECK(s && s->higher_better == 1 && s->mic == 2 && s->reliability == 0.80);
    /* psqi,PSQI (0-21),0,21,lower,3,0.85,5 */
    const struct instrument *q = instrument_find(&tab, "psqi");
    CHECK(q && q->max == 21 && q->cutoff == 5);
    /* stress,PSS-10 stress (0-40),0,40,lower,,0.85, — no MIC */
    const struct instrument *st = instrument_find(&tab, "stress");
    CHECK(st && isnan(st->mic) && st->max == 40);
    /* Every line restates the built-in definition exactly. */
    for (size_t i = 0; i < builtin.n; i++) {
        const struct instrument *a = &builtin.item[i], *b = instrument_find(&tab, a->name);
        CHECK(b && strcmp(a->label, b->label) == 0 && a->min == b->min && a->max == b->max &&
              a->higher_better == b->higher_better &&
              ((isnan(a->mic) && isnan(b->mic)) || a->mic == b->mic) &&
              a->reliability == b->reliability &&
              ((isnan(a->cutoff) && isnan(b->cutoff)) || a->cutoff == b->cutoff));
    }
}

static void test_small_keys(void)
{
    struct ingest_opts o;
    struct instrument_table tab;
    struct out_error e = {0};
    char path[64], msg[700];
    setup(&o, &tab);
    CHECK(ingest_config_load(FIX "bom_crlf.conf", &o, &tab, &e) == 0);
    CHECK(o.delimiter == '\t' && o.decimal_comma == 0);

    static const struct {
        const char *text;
        char delim;
    } delims[] = {{"delimiter = ,\n", ','}, {"delimiter = ;\n", ';'},
                  {"delimiter = |\n", '|'}, {"delimiter=\\t\n", '\t'}, {"delimiter = TAB", '\t'}};
    for (size_t i = 0; i < sizeof delims / sizeof delims[0]; i++) {
        setup(&o, &tab);
        CHECK(load_text(delims[i].text, path, &o, &tab, msg, sizeof msg) == 0);
        CHECK(o.delimiter == delims[i].delim);
        unlink(path);
    }
    setup(&o, &tab);
    o.decimal_comma = 1;
    CHECK(load_text("decimal_comma = false\n", path, &o, &tab, msg, sizeof msg) == 0);
    CHECK(o.decimal_comma == 0);
    unlink(path);

    /* A '#' after a value is part of it; a built-in may be replaced (here pain's MIC). */
    setup(&o, &tab);
    CHECK(load_text("instrument = pain,Pain #1 (0-10),0,10,lower,1.5,0.9,\n"
                    "instrument = x_2,X,-5,5,higher,,0,0\n",
                    path, &o, &tab, msg, sizeof msg) == 0);
    const struct instrument *p = instrument_find(&tab, "pain");
    CHECK(tab.n == 9 && p && p->mic == 1.5 && p->reliability == 0.9);
    if (p)
        CHECK_STR(p->label, "Pain #1 (0-10)");
    const struct instrument *x = instrument_find(&tab, "x_2");
    CHECK(x && x->min == -5 && x->higher_better && x->reliability == 0 && x->cutoff == 0);
    unlink(path);

    /* A later --column of the same source replaces the config's rename. */
    setup(&o, &tab);
    CHECK(load_text("column = pain=Score\n", path, &o, &tab, msg, sizeof msg) == 0);
    CHECK(ingest_opts_add_column(&o, "sleep=score", &e) == 0);
    CHECK(o.n_map == 1);
    CHECK_STR(o.column_map[0].canonical, "sleep");
    unlink(path);
}

/* ---- errors ----------------------------------------------------------------------- */

static void test_errors(void)
{
    /* Each text, and the message its line must produce ("%s" is the file's path). */
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"# ok\ncolum = pain=x\n",
         "%s:2: unknown key 'colum' (known: column, delimiter, decimal_comma, patient_key, "
         "relative_time, wide, wide_map, instrument, instruments)"},
        {"delimiter ;\n", "%s:1: expected 'key = value', e.g. 'column = patient_id=record_id'"},
        {"delimiter =  \n", "%s:1: delimiter: no value"},
        {"delimiter = ;\n\ndelimiter = ,\n", "%s:3: delimiter is already set on line 1"},
        {"delimiter = ::\n", "%s:1: delimiter: '::' is not one of , ; tab |"},
        {"decimal_comma = maybe\n", "%s:1: decimal_comma: 'maybe' is not yes or no"},
        {"column = pain\n",
         "%s:1: column: 'pain': expected CANONICAL=SOURCE, e.g. patient_id=record_id"},
        {"patient_key = a,,b\n",
         "%s:1: patient_key: 'a,,b': expected up to 8 column names separated by commas"},
        {"relative_time = week:fortnights\n",
         "%s:1: relative_time: 'week:fortnights': expected COLUMN:UNIT with UNIT days, weeks "
         "or months"},
        {"wide = pain: a@0d\nwide_map = x.map\n",
         "%s:2: wide and wide_map exclude each other (line 1 gave the other)"},
        {"wide = pain: a@0d\nwide = pain: b@0d\n", "%s:2: wide is already set on line 1"},
        /* The spec is checked after the whole file, but the message names its line. */
        {"# c\nwide = foo: a@0d\ndelimiter = ,\n",
         "%s:2: wide: 'foo' is not an instrument (known: pain, pain_vas, psqi, isi, sleep, "
         "stress, rmdq, odi; declare others in a config file)"},
        {"relative_time = week:weeks\nwide = pain: a@0d\n",
         "%s:2: a wide spec and relative_time exclude each other"},
        {"instrument = a,b,0,10,lower,,\n",
         "%s:1: instrument: expected 8 comma-separated fields "
         "name,label,min,max,direction,mic,reliability,cutoff; found 7"},
        {"instrument = a,b,0,10,lower,,,,\n", "found 9"},
        {"instrument = 2a,b,0,10,lower,,,\n",
         "%s:1: instrument: name '2a': use a letter, then letters, digits or '_' (it is a "
         "column name), at most 31 bytes"},
        {"instrument = pain-x,b,0,10,lower,,,\n", "name 'pain-x': use a letter"},
        {"instrument = abcdefghijklmnopqrstuvwxyzabcdef,b,0,10,lower,,,\n",
         "name 'abcdefghijklmnopqrstuvwxyzabcdef': use"},
        {"instrument = Session,b,0,10,lower,,,\n",
         "%s:1: instrument: name 'Session' is a fixed column of a visit file, not an "
         "instrument"},
        {"instrument = a,,0,10,lower,,,\n", "instrument: a: the label must be 1 to 63 bytes"},
        {"instrument = a,b,,10,lower,,,\n", "instrument: a: min '' is not a number"},
        {"instrument = a,b,0,1e1,lower,,,\n", "instrument: a: max '1e1' is not a number"},
        {"instrument = a,b,10,0,lower,,,\n", "instrument: a: min 10 is not below max 0"},
        {"instrument = a,b,5,5,lower,,,\n", "instrument: a: min 5 is not below max 5"},
        {"instrument = a,b,0,10,up,,,\n",
         "instrument: a: direction 'up': expected lower (lower is better) or higher"},
        {"instrument = a,b,0,10,lower,0,,\n",
         "instrument: a: mic '0' is not a number > 0 (leave it empty for none)"},
        {"instrument = a,b,0,10,lower,x,,\n", "instrument: a: mic 'x' is not a number > 0"},
        {"instrument = a,b,0,10,lower,,1,\n",
         "instrument: a: reliability '1' is not a number from 0 to below 1 (leave it empty "
         "when unknown)"},
        {"instrument = a,b,0,10,lower,,-0.1,\n", "reliability '-0.1' is not a number"},
        {"instrument = psqi,PSQI,0,21,lower,3,0.85,30\n",
         "instrument: psqi: cutoff '30' is not a number within min..max 0..21 (leave it empty "
         "for none)"},
        {"instrument = fat,F,0,10,lower,,,\n# again\ninstrument = FAT,F,0,10,lower,,,\n",
         "%s:3: instrument 'FAT' is already declared at line 1"},
        {"instruments = /nonexistent/i.conf\n",
         "%s:1: instruments: /nonexistent/i.conf: cannot open: No such file or directory"},
        {"wide_map = /nonexistent/w.map\n",
         "%s:1: wide_map: /nonexistent/w.map: cannot open: No such file or directory"},
        {"column = a=b\x01\n", NULL},   /* a control character is just text: accepted */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_opts o, o0;
        struct instrument_table tab, tab0;
        char path[64], msg[700], want[700];
        setup(&o, &tab);
        o0 = o;
        tab0 = tab;
        int rc = load_text(cases[i].text, path, &o, &tab, msg, sizeof msg);
        if (!cases[i].msg) {
            CHECK(rc == 0);
            unlink(path);
            continue;
        }
        snprintf(want, sizeof want, cases[i].msg[0] == '%' ? "%s" : "%.0s", path);
        size_t wl = strlen(want);
        snprintf(want + wl, sizeof want - wl, "%s", cases[i].msg + (cases[i].msg[0] == '%' ? 2 : 0));
        CHECK(rc == OUT_EUSAGE || rc == OUT_EIO);
        CHECK_CONTAINS(msg, want);
        /* Nothing is applied from a file with an error in it. */
        CHECK(memcmp(&o, &o0, sizeof o) == 0 && memcmp(&tab, &tab0, sizeof tab) == 0);
        unlink(path);
    }

    struct ingest_opts o;
    struct instrument_table tab;
    struct out_error e = {0};
    char path[64], msg[700];

    /* Unreadable config: an I/O error naming it. */
    setup(&o, &tab);
    CHECK(ingest_config_load("/nonexistent/outcomes.conf", &o, &tab, &e) == OUT_EIO);
    CHECK_STR(e.msg, "cannot open: No such file or directory");
    CHECK_STR(e.file, "/nonexistent/outcomes.conf");

    /* A NUL byte: not a text file. */
    setup(&o, &tab);
    write_tmp(path, "delimiter = ;\n\0x\n", 17);
    CHECK(ingest_config_load(path, &o, &tab, &e) == OUT_EUSAGE);
    CHECK(e.line == 2);
    CHECK_STR(e.msg, "NUL byte: this is not a text file");
    unlink(path);

    /* An error inside an included file names that file and line. */
    char inc[64], text[200];
    write_tmp(inc, "# extra\nok,Ok,0,1,lower,,,\nbad,Bad,1,0,lower,,,\n", 47);
    snprintf(text, sizeof text, "instruments = %s\n", inc);
    setup(&o, &tab);
    CHECK(load_text(text, path, &o, &tab, msg, sizeof msg) == OUT_EUSAGE);
    char want[200];
    snprintf(want, sizeof want, "%s:3: instrument: bad: min 1 is not below max 0", inc);
    CHECK_STR(msg, want);
    unlink(path);
    /* Declared in the config, then again in the include: the include's line is at fault. */
    snprintf(text, sizeof text, "instrument = ok,Ok,0,1,lower,,,\ninstruments = %s\n", inc);
    setup(&o, &tab);
    CHECK(load_text(text, path, &o, &tab, msg, sizeof msg) == OUT_EUSAGE);
    char want2[300];
    snprintf(want2, sizeof want2, "%s:2: instrument 'ok' is already declared at %s:1", inc, path);
    CHECK_STR(msg, want2);
    unlink(path);
    unlink(inc);

    /* 8 built-ins + 24 new = INSTRUMENT_MAX (32); the 25th does not fit. */
    char big[4096] = "";
    for (int k = 1; k <= 25; k++) {
        size_t len = strlen(big);
        snprintf(big + len, sizeof big - len, "instrument = s%d,S,0,1,lower,,,\n", k);
    }
    setup(&o, &tab);
    CHECK(load_text(big, path, &o, &tab, msg, sizeof msg) == OUT_EUSAGE);
    snprintf(want, sizeof want, "%s:25: instrument 's25': the table is full (32 instruments, "
                                "built-in ones included)", path);
    CHECK_STR(msg, want);
    CHECK(tab.n == 8);
    unlink(path);
    *strstr(big, "instrument = s25") = '\0';
    setup(&o, &tab);
    CHECK(load_text(big, path, &o, &tab, msg, sizeof msg) == 0 && tab.n == 32);
    unlink(path);
}

static void test_wide_map_errors(void)
{
    struct ingest_opts o;
    struct out_error e = {0};
    char path[64], want[200], msg[700];
    ingest_opts_default(&o);
    write_tmp(path, "# two specs\npain: a@0d\n\npain: b@0d\n", 35);
    CHECK(ingest_config_load_wide_map(path, &o, &e) == OUT_EUSAGE);
    out_error_format(&e, msg, sizeof msg);
    snprintf(want, sizeof want, "%s:4: a wide map holds one spec line; line 2 already gave it",
             path);
    CHECK_STR(msg, want);
    CHECK(o.n_wide == 0);
    unlink(path);
    write_tmp(path, "# nothing\n\n", 11);
    CHECK(ingest_config_load_wide_map(path, &o, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "no wide spec in the file");
    unlink(path);
    write_tmp(path, "\n# bad unit\npain: a@3y\n", 23);
    CHECK(ingest_config_load_wide_map(path, &o, &e) == OUT_EUSAGE);
    out_error_format(&e, msg, sizeof msg);
    snprintf(want, sizeof want, "%s:3: pain: 'a@3y': the offset is not a number", path);
    CHECK_CONTAINS(msg, want);
    unlink(path);
    CHECK(ingest_config_load_wide_map("samples/wide-trial.map", &o, &e) == 0 && o.n_wide == 3);
}

int main(void)
{
    test_long_config();
    test_wide_config();
    test_instruments_file();
    test_small_keys();
    test_errors();
    test_wide_map_errors();
    return TEST_END("test_config");
}
