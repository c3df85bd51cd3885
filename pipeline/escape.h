/* escape.h — put input text (ids, clinic and arm names) safely into every output format.
 *
 * Each function writes the escaped form of s to fp. Input text is untrusted: a clinic named
 * `<script>` must stay text in HTML, `=HYPERLINK(...)` must not run in a spreadsheet, and a
 * quote or `system(...)` must neither break nor drive a gnuplot script.
 */
#ifndef OUTCOMES_ESCAPE_H
#define OUTCOMES_ESCAPE_H

#include <stdio.h>

/* HTML text and attribute values: & < > " ' become entities. */
void esc_html(FILE *fp, const char *s);
/* One CSV field (RFC 4180): quoted when it holds , " CR LF or leading/trailing space;
 * a field starting with = + - @ TAB or CR is prefixed with ' against formula injection,
 * unless it is a plain number (so "-3.5" stays a number). */
void esc_csv(FILE *fp, const char *s);
/* Whether esc_csv puts a ' before s: the rule above, and before any leading run of '
 * followed by a trigger, so that csv_unprefix (in place, on a field as read back) gives
 * every original text back. */
int csv_needs_prefix(const char *s);
void csv_unprefix(char *s);
/* A JSON string literal including the surrounding quotes. */
void esc_json(FILE *fp, const char *s);
/* A gnuplot string: a single-quoted literal, in which gnuplot does no backslash, backquote
 * or @macro processing; a ' is doubled. Leading quotes, which gnuplot would misread as an
 * empty string '', are written as "'" . '...', so the result is a string expression, valid
 * wherever gnuplot takes one (titles, labels, tic lists). Control characters become spaces
 * and bytes that are not valid UTF-8 become '?', so the SVG stays well-formed.
 * Enhanced-text specials are NOT escaped: draw such text with `noenhanced` (gnuplot's svg
 * terminal turns an escaped \& into a bare &, which breaks the XML). */
void esc_gnuplot(FILE *fp, const char *s);
/* Markdown table cell text: | \ ` * _ [ ] < > & ~ and the colon of "://" are backslash-escaped,
 * so the text shows as written (no entity, strikethrough or autolink); control characters
 * (newlines, ESC, BEL, DEL) become spaces. */
void esc_md(FILE *fp, const char *s);

#endif
