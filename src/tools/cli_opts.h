/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_opts.h — command-line option parsing for the `meru` verbs, on
 * getopt_long: every verb declares a table of its options (long name,
 * optional short letter, value placeholder, one line of help) and loops
 * over cli_next():
 *
 *     static const cli_option opts[] = {
 *         {"limit", 'n', "N", "stop after N rows"},
 *         {"reverse", 'r', NULL, "descending key order"},
 *         {0}};
 *     cli_parser p;
 *     cli_parser_init(&p, argc, argv, opts);
 *     for (int o; (o = cli_next(&p, &val)) != CLI_DONE;) {
 *         if (o < 0) return cli_parser_exit(&p, o);   // help or usage
 *         switch (opts[o].short_name) ...             // or compare o
 *     }
 *     // positionals: p.pos[0 .. p.npos)
 *
 * What it gives every verb alike: `--name VALUE`, `--name=VALUE`, `-x VALUE`,
 * `-xVALUE`, grouped flags (`-rq`), unambiguous abbreviations of long names,
 * options before or after positionals, `--` ending the options, `-h` and
 * `--help` (usage, description and the option table on stdout, exit 0),
 * and usage errors (unknown option, with a "did you mean", missing value:
 * exit 2, message and usage on stderr). A word that reads as a negative
 * number ("-5", "-1.5e3") is a value, never an option, so keys and
 * bounds can be negative without a `--`.
 */
#ifndef MERU_TOOLS_CLI_OPTS_H
#define MERU_TOOLS_CLI_OPTS_H

#include <stddef.h>

typedef struct cli_option {
    const char *name;  /* long name without "--"; NULL ends the table */
    int short_name;    /* a letter, or 0 */
    const char *arg;   /* placeholder of the value ("N"); NULL: a flag */
    const char *help;  /* one line for --help */
} cli_option;

#define CLI_DONE  (-1) /* no more options */
#define CLI_HELP  (-2) /* --help was given and printed */
#define CLI_ERROR (-3) /* a usage error was printed */

typedef struct cli_parser {
    const cli_option *opts;
    int argc;
    char **argv;      /* a private copy (getopt permutes it) */
    char **owned;     /* words allocated for the copy */
    int nowned;
    const char **pos; /* positional arguments, in order, after CLI_DONE */
    int npos;
    int done;
} cli_parser;

/* argv[0] is the verb. The parser owns copies; free with cli_parser_free. */
int cli_parser_init(cli_parser *p, int argc, char **argv,
                    const cli_option *opts);
void cli_parser_free(cli_parser *p);
/* The next option: its index in the table (*value set for options with a
 * value), CLI_DONE (positionals are in p->pos now), CLI_HELP or
 * CLI_ERROR (both already printed). */
int cli_next(cli_parser *p, const char **value);
/* The exit status for CLI_HELP (0) or CLI_ERROR (2); frees the parser. */
int cli_parser_exit(cli_parser *p, int code);

/* Prints a verb's help: usage, description, options, details (stdout). */
void cli_print_help(const char *verb, const cli_option *opts);

/* Display width of UTF-8 text in terminal columns (wcwidth: 2 for CJK,
 * 0 for combining marks); invalid bytes count 1. */
size_t cli_display_width(const char *s);
/* Bytes of the longest prefix of `s` whose display width is <= width. */
size_t cli_prefix_for_width(const char *s, size_t width);
/* Display width of the first n bytes of `s`. */
size_t cli_display_width_n(const char *s, size_t n);

#endif
