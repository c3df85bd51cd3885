/* doc.h — write one document's content once, render it as HTML or Markdown.
 *
 * The report's body is a sequence of calls (heading, paragraph, table rows); each call
 * escapes its text for the target format, so no caller ever writes raw input text.
 */
#ifndef OUTCOMES_DOC_H
#define OUTCOMES_DOC_H

#include <stdio.h>

enum doc_format { DOC_HTML, DOC_MD };

struct doc {
    FILE *fp;
    enum doc_format fmt;
    int in_table;
    int in_list;
};

void doc_heading(struct doc *d, int level, const char *text);
/* A paragraph; class (HTML only) may be NULL, e.g. "caveat". */
void doc_para(struct doc *d, const char *cls, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void doc_table(struct doc *d, const char *const *head, int ncols);
/* A row of ncols cells. A cell starting with "!badge:" renders as a verdict badge. */
void doc_row(struct doc *d, const char *const *cells, int ncols);
void doc_table_end(struct doc *d);
/* A bullet list item (consecutive items form one list; doc_list_end closes it). */
void doc_item(struct doc *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void doc_list_end(struct doc *d);

/* Format a number for people: "n/a" when not finite, else with `digits` decimals.
 * Returns a pointer into a small ring of static buffers (valid for the next 15 calls). */
const char *fnum(double x, int digits);
/* A p-value: "<0.0001" below that, else 4 decimals; "n/a" when not finite. */
const char *fpval(double p);
/* "12.3 (95% CI 10.1 to 14.5)", "3.0 (95% CI 2.0 to not reached)" when hi is +INFINITY,
 * "12.3 (CI n/a)" when a limit is undefined, or "n/a". */
const char *fci(double est, double lo, double hi, int digits);
/* Percent from a proportion: "45.2% (95% CI 40.0% to 50.5%)". */
const char *fpct(double p, double lo, double hi);

#endif
