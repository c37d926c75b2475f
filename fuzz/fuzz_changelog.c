/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_changelog.c — libFuzzer target: the input is a whole changelog file
 * of the change feed (changes/changelog.h), served by a tiny read-only
 * in-memory meru_fs. Opens it under the changelog schema of a fixed table
 * schema (the one the seed corpus was written with) from several starting
 * sequences and reads every change into rows. Any status is fine; crashes,
 * hangs, leaks and sanitizer reports are the bugs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "changes/changelog.h"
#include "util/error.h"
#include "mem_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the target -------------------------------------------------------- */

static meru_schema *the_schema(void)
{
    static meru_schema *s;
    if (!s && meru_schema_parse(
                  &s, "t", "id int64 not null, name string, n int32", "id"))
        s = NULL;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static meru_schema *cl;
    meru_schema *s = the_schema();
    meru_row *row = NULL, *before = NULL;
    if (!s || (!cl && meru_changelog_schema(s, &cl)))
        return 0;
    if (meru_row_new(&row, s) || meru_row_new(&before, s))
        goto out;
    mem_fs fs = MEM_FS(data, size);
    static const uint64_t since[] = {0, 1, 2, 1000, UINT64_MAX};
    for (size_t i = 0; i < sizeof since / sizeof since[0]; i++) {
        meru_changelog_reader *r = NULL;
        uint64_t seq;
        int kind, n = 0;
        if (meru_changelog_open(&r, &fs.base, "fuzz.parquet", s, cl, since[i]))
            continue;
        while (n++ < 10000 &&
               meru_changelog_next(r, &seq, &kind, row, before) == MERU_OK)
            ;
        meru_changelog_close(r);
    }
out:
    meru_row_free(row);
    meru_row_free(before);
    return 0;
}
