/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_row_json.c — libFuzzer target for JSON rows (meru_row_from_json,
 * the parser behind `meru put`, `meru load` of JSON lines and the bindings),
 * under one schema holding every column type, nullable and not.
 *
 * Oracles: the parser returns MERU_OK or an input error (MERU_EINVAL,
 * MERU_ERANGE, MERU_ENOCOLUMN), never crashes or reads out of bounds; a row it
 * accepts and that validates writes out as JSON (meru_row_to_json) that parses
 * back into the same row, whose JSON is the same text (a fixed point).
 */
#include <stdlib.h>
#include <string.h>

#include "merutable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static meru_schema *g_schema;

static void init(void)
{
    if (g_schema)
        return;
    if (meru_schema_parse(&g_schema, "all",
                          "id int64 not null, b boolean, i int32, l int64, "
                          "f float, d double, s string, bin binary, "
                          "fx fixed(4), dt date, ts timestamp, "
                          "tz timestamptz, dec decimal(10,2), "
                          "big decimal(38,9), k string not null default "
                          "\"dflt\", n int32 not null",
                          "id, k"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    meru_row *row = NULL, *again = NULL;
    char *a = NULL, *b = NULL;
    if (meru_row_new(&row, g_schema) || meru_row_new(&again, g_schema))
        abort();
    int rc = meru_row_from_json(row, (const char *)data, size);
    if (rc != MERU_OK && rc != MERU_EINVAL && rc != MERU_ERANGE &&
        rc != MERU_ENOCOLUMN && rc != MERU_ENOMEM)
        abort();
    if (rc == MERU_OK && meru_row_validate(row) == MERU_OK) {
        if (meru_row_to_json(row, &a))
            abort();
        if (meru_row_from_json(again, a, strlen(a)))
            abort();
        if (meru_row_to_json(again, &b) || strcmp(a, b))
            abort();
    }
    meru_free(a);
    meru_free(b);
    meru_row_free(row);
    meru_row_free(again);
    return 0;
}
