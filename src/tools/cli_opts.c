/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_opts.c — the option parser of the `meru` verbs (cli_opts.h).
 *
 * getopt_long does the parsing; this file builds its tables from the
 * verb's cli_option list, works on a private copy of argv (getopt
 * permutes it), and turns getopt's outcomes into the tool's messages.
 *
 * Negative numbers: getopt would read "-5" as option 5. Before parsing,
 * every word that reads as a negative number is replaced in the copy by
 * the same text behind a 0x01 byte (not an option to getopt); values and
 * positionals are handed out without it. A word given as an option's
 * separate value is taken by getopt whatever it starts with, so
 * `--limit -1` still reaches the option (and is refused there).
 */
#define _GNU_SOURCE /* wcwidth */
#include "tools/cli_opts.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tools/cli_util.h"
#include "tools/commands.h"
#include "util/suggest.h"

#define PROTECT '\x01'

static int is_negative_number(const char *w)
{
    if (w[0] != '-')
        return 0;
    const char *p = w + 1;
    if (*p == '.')
        p++;
    return *p >= '0' && *p <= '9';
}

static size_t nopts(const cli_option *o)
{
    size_t n = 0;
    while (o[n].name)
        n++;
    return n;
}

int cli_parser_init(cli_parser *p, int argc, char **argv,
                    const cli_option *opts)
{
    memset(p, 0, sizeof *p);
    p->opts = opts;
    p->argc = argc;
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    p->owned = calloc((size_t)argc + 1, sizeof *p->owned);
    p->pos = calloc((size_t)argc + 1, sizeof *p->pos);
    if (!p->argv || !p->owned || !p->pos)
        return -1;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && is_negative_number(argv[i])) {
            size_t n = strlen(argv[i]);
            char *w = malloc(n + 2);
            if (!w)
                return -1;
            w[0] = PROTECT;
            memcpy(w + 1, argv[i], n + 1);
            p->owned[p->nowned++] = w;
            p->argv[i] = w;
        } else {
            p->argv[i] = argv[i];
        }
    }
    /* glibc: optind 0 re-initialises getopt (a verb may be parsed after
     * another parse in the same process). */
    optind = 0;
    opterr = 0;
    return 0;
}

void cli_parser_free(cli_parser *p)
{
    for (int i = 0; i < p->nowned; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->argv);
    free(p->pos);
    memset(p, 0, sizeof *p);
}

static const char *unprotect(const char *w)
{
    return w && w[0] == PROTECT ? w + 1 : w;
}

/* getopt's tables for the option list. */
static int build(const cli_option *opts, struct option *lo, char *so,
                 size_t socap)
{
    size_t n = nopts(opts), k = 0;
    so[k++] = ':'; /* a missing value is ':', not '?' */
    for (size_t i = 0; i < n; i++) {
        lo[i].name = opts[i].name;
        lo[i].has_arg = opts[i].arg ? required_argument : no_argument;
        lo[i].flag = NULL;
        lo[i].val = 256 + (int)i;
        if (opts[i].short_name && k + 3 < socap) {
            so[k++] = (char)opts[i].short_name;
            if (opts[i].arg)
                so[k++] = ':';
        }
    }
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){NULL, 0, NULL, 0};
    if (k + 2 < socap)
        so[k++] = 'h';
    so[k] = '\0';
    return (int)n;
}

static int index_of_short(const cli_option *opts, int c)
{
    for (size_t i = 0; opts[i].name; i++)
        if (opts[i].short_name == c)
            return (int)i;
    return -1;
}

/* "unknown option '--bogus'", with the nearest long name when close. */
static int unknown_option(cli_parser *p, const char *word)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; p->opts[i].name && n < 63; i++)
        names[n++] = p->opts[i].name;
    names[n++] = "help";
    const char *bare = word;
    while (*bare == '-')
        bare++;
    char stem[128];
    snprintf(stem, sizeof stem, "%s", bare);
    stem[strcspn(stem, "=")] = '\0';
    const char *near = word[0] == '-' && word[1] == '-' && stem[0]
                           ? meru_suggest(stem, names, n)
                           : NULL;
    if (near)
        return cli_usage("unknown option '%s' (did you mean '--%s'?)", word,
                         near);
    return cli_usage("unknown option '%s'", word);
}

int cli_next(cli_parser *p, const char **value)
{
    struct option lo[66];
    char so[160];
    *value = NULL;
    if (p->done)
        return CLI_DONE;
    if (nopts(p->opts) > 64)
        return cli_usage("internal: too many options"), CLI_ERROR;
    build(p->opts, lo, so, sizeof so);
    int li = -1;
    int c = getopt_long(p->argc, p->argv, so, lo, &li);
    if (c == -1) {
        p->done = 1;
        for (int i = optind; i < p->argc; i++)
            p->pos[p->npos++] = unprotect(p->argv[i]);
        return CLI_DONE;
    }
    if (c == 'h' && index_of_short(p->opts, 'h') < 0) {
        cli_print_help(p->argv[0], p->opts);
        return CLI_HELP;
    }
    if (c == '?') {
        /* A short option: getopt says which letter; a long one: the word
         * it stepped over. */
        char w[3] = {'-', (char)optopt, 0};
        const char *word = optopt && optopt < 256 ? w
                           : optind > 0 && optind <= p->argc
                               ? unprotect(p->argv[optind - 1])
                               : "?";
        unknown_option(p, word);
        return CLI_ERROR;
    }
    if (c == ':') {
        int i = optopt >= 256 ? optopt - 256 : index_of_short(p->opts, optopt);
        if (i >= 0)
            cli_usage("--%s needs a value (%s)", p->opts[i].name,
                      p->opts[i].arg);
        else
            cli_usage("an option needs a value");
        return CLI_ERROR;
    }
    int i = c >= 256 ? c - 256 : index_of_short(p->opts, c);
    if (i < 0) {
        cli_usage("unknown option");
        return CLI_ERROR;
    }
    *value = unprotect(optarg);
    if (!p->opts[i].arg)
        *value = NULL;
    return i;
}

int cli_parser_exit(cli_parser *p, int code)
{
    cli_parser_free(p);
    return code == CLI_HELP ? CLI_OK : CLI_USAGE;
}

void cli_print_help(const char *verb, const cli_option *opts)
{
    printf("usage: meru %s\n", meru_verb_usage(verb));
    const char *what = meru_verb_what(verb);
    if (what && *what)
        printf("\n%s.\n", what);
    size_t n = nopts(opts), w = 0;
    char left[160];
    for (size_t pass = 0; pass < 2; pass++) {
        if (pass == 1)
            printf("\noptions:\n");
        for (size_t i = 0; i <= n; i++) {
            const cli_option *o = i < n ? &opts[i] : NULL;
            char sh[8] = "    ";
            if (o && o->short_name)
                snprintf(sh, sizeof sh, "-%c, ", o->short_name);
            if (!o)
                snprintf(left, sizeof left, "-h, --help");
            else
                snprintf(left, sizeof left, "%s--%s%s%s", sh, o->name,
                         o->arg ? " " : "", o->arg ? o->arg : "");
            if (pass == 0) {
                if (strlen(left) > w)
                    w = strlen(left);
                continue;
            }
            printf("  %-*s  %s\n", (int)w, left,
                   o ? o->help : "this help");
        }
    }
    meru_verb_print_details(verb);
}

/* ------------------------------------------------------------- widths */

/* One UTF-8 code point at s: its value and length (1 for a bad byte). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = n == 1 ? c : c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

static size_t cp_width(uint32_t cp)
{
    if (cp < 0x80)
        return 1; /* control characters are shown as a space */
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : (size_t)w;
}

size_t cli_display_width_n(const char *s, size_t n)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p && p < end && *p) {
        uint32_t cp;
        p += utf8_next(p, &cp);
        w += cp_width(cp);
    }
    return w;
}

size_t cli_display_width(const char *s)
{
    return s ? cli_display_width_n(s, strlen(s)) : 0;
}

size_t cli_prefix_for_width(const char *s, size_t width)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s, *start = p;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp), cw = cp_width(cp);
        if (w + cw > width)
            break;
        w += cw;
        p += n;
    }
    return (size_t)(p - start);
}
