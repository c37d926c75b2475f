/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_csv.c — libFuzzer target for CSV input (`meru load FILE.csv`): the
 * record reader (cli_csv_next, RFC 4180 with CRLF/LF and quoted line
 * breaks) and the word-to-value parser behind it (cli_set_value) for a
 * schema of every column type. MERU_FUZZ_WITH_TOOLS: linked with the
 * tool's cli_util.c and cli_opts.c. The verb table those reach for help
 * text lives in meru.c, which holds the tool's main(): this program has
 * one verb of its own instead (below), never asked for help here.
 *
 * Oracles: no crash or out-of-bounds read; every record has at least one
 * field; the reader's line numbers never go backwards. The messages the
 * reader prints for malformed input go to a null stream (stderr is
 * swapped only for the calls; sanitizer reports still reach fd 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The verb table of this program: `load` only. */
const char *meru_verb_usage(const char *verb)
{
    return strcmp(verb, "load") ? "" : "load DIR FILE";
}

const char *meru_verb_what(const char *verb)
{
    return strcmp(verb, "load") ? "" : "load rows (the CSV fuzz target)";
}

void meru_verb_print_details(const char *verb)
{
    (void)verb;
}

static meru_schema *g_schema;
static FILE *g_null;

static void init(void)
{
    if (g_schema)
        return;
    g_null = fopen("/dev/null", "w");
    if (!g_null || meru_schema_parse(&g_schema, "csv",
                                     "id int64 not null, s string, b boolean, "
                                     "d double, dt date, ts timestamptz, "
                                     "dec decimal(12,3), bin binary, "
                                     "fx fixed(2), i int32",
                                     "id"))
        abort();
    cli_set_verb("load", "load DIR FILE");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    meru_row *row = NULL;
    if (meru_row_new(&row, g_schema))
        abort();
    cli_csv c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.next_line = 1;
    FILE *saved = stderr;
    stderr = g_null;
    uint64_t last = 0;
    int rc, records = 0;
    size_t ncols = meru_schema_column_count(g_schema);
    while ((rc = cli_csv_next(&c)) == 1 && records < 10000) {
        if (c.nfields == 0 || c.line < last)
            abort();
        last = c.line;
        meru_row_clear(row);
        for (size_t i = 0; i < c.nfields && i < ncols; i++)
            (void)cli_set_value(row, i, c.buf + c.off[i], "fuzz");
        (void)meru_row_validate(row);
        records++;
    }
    stderr = saved;
    cli_csv_free(&c);
    fclose(f);
    meru_row_free(row);
    return 0;
}
