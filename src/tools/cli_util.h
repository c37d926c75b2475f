/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_util.h — what the `meru` verbs share: messages and exit codes, opening
 * a table, turning command-line words into key values, writing rows as
 * JSON lines / CSV / an aligned table, a CSV record reader, a progress bar,
 * printing meru_stats, and the table check behind `meru verify`.
 *
 * Everything here goes through the public API (merutable.h) only: the tool
 * is a client of the library like any other program.
 *
 * Exit codes of every table verb: 0 success; 1 not found, or an operation
 * failed (bad row, bad value, missing table, I/O); 2 the command line is
 * malformed (unknown option, missing or extra arguments, an option value
 * that is not a number or a known word).
 */
#ifndef MERU_TOOLS_CLI_UTIL_H
#define MERU_TOOLS_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "merutable.h"
#include "tools/cli_opts.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* ------------------------------------------------------------ messages */

/* Names the verb in messages ("meru get: ..."). Call first in a verb. */
void cli_set_verb(const char *verb, const char *usage);
/* "meru VERB: <fmt>" on stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "meru VERB: <what>: <meru_errmsg() or meru_strerror(rc)>"; CLI_FAIL. */
int cli_api_fail(int rc, const char *what);
/* "meru VERB: <fmt>" plus the verb's usage line on stderr; CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Arguments of a verb that takes only DIR (and --help): *dir gets it
 * (argv's own word). Returns -1 to go on, else the exit code to return
 * (help or usage). */
int cli_only_dir(int argc, char **argv, const char **dir);
/* Parses a decimal count; 0 when it is not one (message printed). */
int cli_parse_u64(const char *opt, const char *text, uint64_t *out);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* --------------------------------------------------------------- tables */

/*
 * Opens the existing table in `dir` (never creates one). Read-only opens
 * take no lock and write nothing, so they work beside a writer process.
 * Returns an exit code; on CLI_OK *out is open and owned by the caller.
 */
int cli_open(const char *dir, int read_only, meru_db **out);
/* Closes and frees; returns CLI_FAIL (message printed) if close failed. */
int cli_close(meru_db *db);

/* ------------------------------------------------------- values and keys */

/*
 * Sets column `col` from a command-line word. Numbers and booleans are
 * their JSON literals (`42`, `1.5`, `true`); for string, binary, fixed,
 * date, timestamp and decimal columns the word is the value itself
 * (`alice`, `2026-01-01T12:00:00`, `12.50`) unless it starts with a double
 * quote, in which case it is read as a JSON string. `null` is null except
 * in a string column. A failure is reported on stderr, prefixed by `ctx`
 * (e.g. "line 3 of x.csv"; may be NULL), naming the column and the word.
 */
int cli_set_value(meru_row *row, size_t col, const char *word, const char *ctx);
/* Sets the first `n` key columns of `key` from `words`. */
int cli_key_from_words(meru_row *key, char *const *words, size_t n);
/*
 * Sets the leading key columns of `key` from one comma-separated list
 * ("5" or "5,abc"; a value holding a comma is written as a JSON string:
 * '5,"a,b"'). *n gets how many columns were set.
 */
int cli_key_from_list(meru_row *key, const char *list, size_t *n);
/* Sets every key column from a JSON array of key values ([5,"abc"]). */
int cli_key_from_json_array(meru_row *key, const char *text);

/* Compares the key columns of two rows of one schema (<0, 0, >0). */
int cli_key_cmp(const meru_row *a, const meru_row *b);
/* Copies the key columns of `src` into `dst` (same schema). */
int cli_key_copy(meru_row *dst, const meru_row *src);
/* Writes the key of `row` as a JSON array into buf ("[1,\"a\"]"). */
void cli_key_text(const meru_row *row, char *buf, size_t cap);

/* s (n bytes) as a JSON string, quoted and escaped, malloc'd (NULL when
 * out of memory). */
char *cli_json_quote(const char *s, size_t n);

/* --------------------------------------------------------------- output */

typedef enum cli_format {
    CLI_FMT_JSONL = 0,
    CLI_FMT_CSV = 1,
    CLI_FMT_TABLE = 2
} cli_format;

/* Parses "jsonl|json|csv|table"; -1 if unknown. */
int cli_parse_format(const char *text);

typedef struct cli_writer cli_writer;

/*
 * A row printer on stdout. `columns` (NULL = all) are the names to print,
 * in that order; unknown names are refused (CLI_USAGE, message printed).
 * The table format buffers rows until cli_writer_finish to size columns;
 * the CSV header is written with the first row or by cli_writer_finish.
 */
int cli_writer_new(cli_writer **out, const meru_schema *schema, cli_format fmt,
                   const char *const *columns, size_t ncolumns);
int cli_writer_row(cli_writer *w, const meru_row *row);
int cli_writer_finish(cli_writer *w);
void cli_writer_free(cli_writer *w);

/* An aligned table for people: a header row, a rule, then nrows rows of
 * ncols cells (cells[r * ncols + c]; NULL prints as empty), each column as
 * wide as its widest cell by display width (cli_display_width) up to 48
 * columns, longer cells cut with "..."; right[c] (may be NULL)
 * right-aligns a column. */
int cli_table_print(FILE *f, const char *const *headers, char *const *cells,
                    size_t nrows, size_t ncols, const int *right);

/* Splits "a,b,c" into a malloc'd array of malloc'd names (free with
 * cli_free_list). Empty names are refused (returns -1). */
int cli_split_list(const char *text, char ***out, size_t *n);
void cli_free_list(char **list, size_t n);

/* ------------------------------------------------------------ CSV input */

typedef struct cli_csv {
    FILE *f;
    uint64_t line; /* line where the current record starts (1-based) */
    char *buf;     /* field bytes, each NUL-terminated */
    size_t len, cap;
    size_t *off;           /* field i starts at buf + off[i] */
    unsigned char *quoted; /* field i was quoted */
    size_t nfields, fcap;
    uint64_t next_line;
} cli_csv;

/* RFC 4180 records: quoted fields may hold commas, quotes ("") and line
 * breaks; CRLF or LF. Returns 1 with a record, 0 at end of input, or -1 on
 * a malformed record (message printed). */
int cli_csv_next(cli_csv *c);
void cli_csv_free(cli_csv *c);

/* ------------------------------------------------------------- progress */

typedef struct cli_progress {
    const char *label;
    uint64_t total; /* units of `done` (bytes or rows); 0 = unknown */
    int on;         /* stderr is a terminal */
    double start, last;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *label, uint64_t total);
/* Redraws at most ~10 times a second: a bar when total is known, and the
 * row count and rate. */
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t rows);
void cli_progress_end(cli_progress *p, uint64_t done, uint64_t rows);

/* ------------------------------------------- shared by several verbs */

/*
 * Reads JSON lines from `f` (blank lines skipped) and writes them in
 * batches of `batch` rows. `name` is the input's name for messages
 * ("line 12 of FILE: ..."). *rows gets the rows written, also on failure.
 * Defined in cmd_load.c.
 */
int cli_load_jsonl(meru_db *db, FILE *f, const char *name, uint64_t batch,
                   cli_progress *p, uint64_t *rows);

/*
 * Key-range options shared by scan and count: --from KEY (inclusive),
 * --to KEY (inclusive), --prefix KEY, each one comma-separated argument
 * naming a leading run of the key columns. Defined in cmd_scan.c.
 */
typedef struct cli_range {
    const char *from, *to, *prefix;
    meru_row *lo, *hi, *pre;
} cli_range;
/* The option table entries of the range options (for a verb's table). */
#define CLI_RANGE_OPTIONS                                                      \
    {"from", 0, "KEY", "from KEY on (inclusive; the leading key columns)"},    \
        {"to", 0, "KEY", "up to KEY (inclusive; the leading key columns)"},    \
    {                                                                          \
        "prefix", 'p', "KEY", "only keys that start with KEY"                  \
    }
/* If `name` is a range option, keeps its value and returns 1; else 0. */
int cli_range_take(cli_range *r, const char *name, const char *value);
/* Builds the bound rows and sets them into `o`. Returns an exit code. */
int cli_range_apply(cli_range *r, const meru_schema *s, meru_scan_options *o);
void cli_range_free(cli_range *r);

/* ---------------------------------------------------------- stats, check */

/* A readable table of the counters. Defined in cmd_stats.c. */
void cli_print_stats(FILE *f, const meru_stats *s);

/*
 * The quick table check (meru_verify with MERU_VERIFY_QUICK: metadata,
 * log segments, file footers, both scans, sampled gets). *rows gets the
 * row count. On a problem returns CLI_FAIL with the message in `err`.
 * Defined in cmd_verify.c.
 */
int cli_verify_db(meru_db *db, uint64_t *rows, char *err, size_t errcap);

#endif
