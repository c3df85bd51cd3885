/* config.h — ingest settings and extra instruments read from files, so a clinic's column
 * names, dialect, wide layout and scales are declared once, without recompiling and without
 * a long command line. docs/config.md is the user's description; this is the contract.
 *
 * Config file: UTF-8 text (a byte-order mark is skipped; LF or CRLF), one `key = value` per
 * line, split at the first '='; key and value are trimmed of spaces and tabs; keys are
 * case-insensitive. Blank lines and lines whose first non-blank character is '#' are
 * ignored. There are no trailing comments: a '#' after a value is part of it, because
 * labels and column names may contain one.
 *   column = CANONICAL=SOURCE     repeatable; as --column (a later rename of a source wins)
 *   delimiter = ,|;|tab|\t|'|'    as --delimiter
 *   decimal_comma = yes|no        as --decimal-comma (also true/false, y/n, 1/0)
 *   patient_key = A,B             as --patient-key
 *   relative_time = COLUMN:UNIT   as --relative-time
 *   wide = SPEC                   wide format, as ingest_opts_set_wide
 *   wide_map = FILE               wide format, the spec read from a map file (below)
 *   instrument = LINE             repeatable; one instrument in the instruments-file format
 *   instruments = FILE            repeatable; a file of instrument lines
 * Keys other than column, instrument and instruments may appear once; wide and wide_map
 * exclude each other, and either excludes relative_time (ingest would refuse the pair; the
 * config says so at the wide line). The wide spec is applied after the whole file has been read, so it may
 * use instruments the file declares on later lines. A relative FILE is taken relative to the
 * directory of the file that names it, so a config and its includes move together.
 *
 * Instrument line (samples/instruments.conf): eight comma-separated fields, no quoting, so
 * a label cannot contain a comma:
 *   name,label,min,max,direction,mic,reliability,cutoff
 *   name         letters, digits, '_'; at most 31 bytes; not one of the fixed columns
 *                (patient_id, visit_date, session, pain_post, adverse_event, baseline)
 *   label        1 to 63 bytes
 *   min, max     plain decimal numbers (parse_decimal), min < max
 *   direction    lower (lower is better) or higher
 *   mic          > 0, or empty for none
 *   reliability  0 <= r < 1, or empty for unknown (r = 1 would make the RCI divide by 0)
 *   cutoff       within [min, max], or empty for none
 * A name that is built in (pain, pain_vas, ...) replaces the built-in definition, so a
 * clinic can, say, use another MIC; declaring the same name twice in one load (config file
 * and its includes together) is refused, since one of the two would be silently lost.
 *
 * Wide map file (samples/wide-trial.map): blank and '#' lines, and exactly one spec line.
 *
 * Errors are values: OUT_EIO when a file cannot be read, OUT_EUSAGE for content, with
 * e->file and e->line naming the file and line at fault (`file:line: message`). On error
 * nothing is changed: the loaders work on copies and commit only on success.
 * Nothing here prints or exits.
 */
#ifndef OUTCOMES_CONFIG_H
#define OUTCOMES_CONFIG_H

#include "error.h"
#include "ingest.h"
#include "instrument.h"

/* Apply the config file at path to o and tab. tab holds the instruments in force (fill it
 * with instrument_table_builtin first) and is owned by the caller; declared instruments are
 * added to it or replace built-ins. On success o->instruments points to tab, so tab must
 * live as long as o is used. Returns 0, OUT_EIO or OUT_EUSAGE (*e set, o and tab as they
 * were). */
int ingest_config_load(const char *path, struct ingest_opts *o, struct instrument_table *tab,
                       struct out_error *e);

/* Add the instruments of an instruments file (one instrument line per non-blank,
 * non-comment line) to tab. Returns 0, OUT_EIO or OUT_EUSAGE (tab unchanged). The caller
 * points ingest_opts.instruments at tab. */
int ingest_config_load_instruments(const char *path, struct instrument_table *tab,
                                   struct out_error *e);

/* Set o's wide spec from a map file (as --wide-map FILE). Instruments must already be in
 * o->instruments. Returns 0, OUT_EIO or OUT_EUSAGE (o unchanged). */
int ingest_config_load_wide_map(const char *path, struct ingest_opts *o, struct out_error *e);

/* Parse one instrument line into *out. Returns 0, or OUT_EUSAGE with a message (no file
 * or line: the caller knows them). */
int ingest_config_parse_instrument(const char *line, struct instrument *out,
                                   struct out_error *e);

#endif
