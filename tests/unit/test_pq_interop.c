/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_interop.c — Parquet files written by our writer, read back by
 * independent readers (DuckDB, arrow-rs through parquet-wasm, hyparquet;
 * tests/interop/read_parquet.mjs) and by our own reader, value for value.
 * The footers of the same files, as DuckDB and hyparquet see them:
 * test_pq_interop_footer.c.
 *
 * The matrix (pq_interop_matrix.h): every type the writer supports
 * (BOOLEAN, INT32 incl. INTEGER(8/16) and unsigned, INT64 incl. unsigned,
 * FLOAT, DOUBLE with NaN/±inf/-0, STRING with empty/unicode/escapes, BINARY,
 * FLBA, UUID, DATE incl. pre-1970, TIMESTAMP millis/micros/nanos UTC and
 * local, TIME, DECIMAL on INT32/INT64/FLBA/BYTE_ARRAY with negatives,
 * INT96), required and optional columns (null rates 0/10/50/97 %, plus
 * all-null columns), both profiles, every writable codec, data page v1 and
 * v2, every encoding the writer produces (PLAIN, dictionary incl.
 * fallbacks, DELTA_BINARY_PACKED incl. alternating INT_MIN/INT_MAX,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT on floats,
 * ints and FLBA, RLE booleans), several pages and row groups, an empty
 * file, and files whose chunks mix codecs (the writer's per-chunk trial:
 * UNCOMPRESSED where the codec does not pay) or v2 pages do (is_compressed
 * false on pages the codec does not pay for). The table of files is
 * `FILES` there.
 *
 * Expected rows are printed in C, from the generated in-memory data, in the
 * canonical form of tests/interop/canon.mjs (README "Canonical row
 * format"); nothing of our reader is used for them. Node runs once per
 * reader over all files (`--out-dir`), the three in parallel.
 *
 * Known reader limitations (tests/interop/README.md, "Reader quirks", and
 * two more this test found: DuckDB and DLBA decimals, hyparquet and empty
 * LZ4 blocks) are left out precisely, each with its reason, in reader_skip()
 * (whole files that hold nothing but the combination) and reader_drop() (one
 * column):
 *  - DuckDB 1.5.5: no LZ4 (Hadoop) codec (files col_lz4, row_lz4);
 *    BYTE_STREAM_SPLIT only on FLOAT/DOUBLE (bss_int_v1/v2);
 *    DELTA_LENGTH_BYTE_ARRAY only on string/blob, not on a BYTE_ARRAY
 *    DECIMAL (dlba_dec);
 *  - hyparquet-compressors 1.1.2: an empty LZ4 block (an all-null column's
 *    empty dictionary page) throws "lz4 offset out of range 0" (column
 *    null_s of col_lz4raw and col_lz4).
 * A machine without node or tests/interop/node_modules FAILS (CI installs
 * them with scripts/install-deps.sh --npm).
 *
 * Helpers: pq_interop_matrix.h (the files), pq_interop_data.h (column
 * kinds, generators, expected text), pq_canon.h (canon.mjs in C).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "pq_canon.h"
#include "pq_interop_data.h"
#include "pq_interop_matrix.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"

/* ============================================================ rows == */

/* Compares the expected canonical lines with a reader's, line by line;
 * shows the first three differences and counts them into *mismatches. */
static void compare_lines(const char *file, const char *reader,
                          const meru_buf *exp, const uint8_t *got,
                          size_t got_len, size_t *mismatches)
{
    const char *e = (const char *)exp->data, *g = (const char *)got;
    const char *ee = e + exp->len, *ge = g + got_len;
    size_t line = 1, shown = 0, bad = 0;
    while (e < ee || g < ge) {
        const char *en = e < ee ? memchr(e, '\n', (size_t)(ee - e)) : NULL;
        const char *gn = g < ge ? memchr(g, '\n', (size_t)(ge - g)) : NULL;
        size_t el = e < ee ? (size_t)((en ? en : ee) - e) : 0;
        size_t gl = g < ge ? (size_t)((gn ? gn : ge) - g) : 0;
        bool have_e = e < ee, have_g = g < ge;
        if (have_e != have_g || el != gl || memcmp(e, g, el) != 0) {
            bad++;
            if (shown++ < 3)
                fprintf(stderr,
                        "  %s [%s] line %zu:\n    expected %.*s\n    got      "
                        "%.*s\n",
                        file, reader, line, (int)el, have_e ? e : "(no line)",
                        (int)gl, have_g ? g : "(no line)");
        }
        e = have_e ? (en ? en + 1 : ee) : e;
        g = have_g ? (gn ? gn + 1 : ge) : g;
        line++;
    }
    if (bad > 3)
        fprintf(stderr, "  %s [%s]: %zu lines differ in all\n", file, reader,
                bad);
    *mismatches += bad;
}

/* ========================================================= our reader == */

/* One column of a file read through pq.h, owned copies. */
typedef struct read_col {
    meru_buf vals, valid, bytes, lens;
    pq_bytes *ba;
} read_col;

static int read_column(pq_reader *r, uint32_t c, kind k, read_col *out)
{
    int rc = MERU_OK;
    for (uint32_t g = 0; !rc && g < pq_reader_num_row_groups(r); g++) {
        pq_cursor *cur;
        rc = pq_cursor_open(r, g, c, &cur);
        while (!rc) {
            pq_batch b;
            rc = pq_cursor_next(cur, 1 + rnd(3000), &b);
            if (rc || b.n == 0)
                break;
            rc = meru_buf_append(&out->valid, b.valid, b.n);
            if (!rc && is_bytes(k)) {
                const pq_bytes *v = b.values;
                for (size_t i = 0; !rc && i < b.n; i++) {
                    rc = meru_buf_append(&out->bytes, v[i].ptr, v[i].len);
                    if (!rc)
                        rc = meru_buf_append(&out->lens, &v[i].len, 4);
                }
            } else if (!rc) {
                rc = meru_buf_append(&out->vals, b.values,
                                     b.n * pq_value_width(KINDS[k].type));
            }
        }
        pq_cursor_close(cur);
    }
    if (rc || !is_bytes(k))
        return rc;
    size_t n = out->lens.len / 4;
    out->ba = calloc(n ? n : 1, sizeof *out->ba);
    if (!out->ba)
        return MERU_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        memcpy(&len, out->lens.data + 4 * i, 4);
        out->ba[i] = (pq_bytes){out->bytes.data + at, len};
        at += len;
    }
    return MERU_OK;
}

static void read_col_free(read_col *rc)
{
    meru_buf_free(&rc->vals);
    meru_buf_free(&rc->valid);
    meru_buf_free(&rc->bytes);
    meru_buf_free(&rc->lens);
    free(rc->ba);
}

/* ====================================================== node readers == */

static const char *const READERS[] = {"duckdb", "parquet-wasm", "hyparquet"};
#define NREADERS 3

/* A reader's known limitation that rules out a whole file, or NULL. Only
 * combinations listed in tests/interop/README.md ("Reader quirks"), and
 * the files hold nothing but that combination. */
static const char *reader_skip(const char *reader, const file_cfg *f)
{
    if (!strcmp(reader, "duckdb") && f->codec == PQ_CODEC_LZ4)
        return "DuckDB 1.5.5 has no LZ4 (Hadoop) codec, only LZ4_RAW";
    if (!strcmp(reader, "duckdb") && f->enc == ENC_BSS_INT)
        return "DuckDB 1.5.5 reads BYTE_STREAM_SPLIT only for FLOAT/DOUBLE";
    if (!strcmp(reader, "duckdb") && f->enc == ENC_DLBA_DEC)
        return "DuckDB 1.5.5 reads DELTA_LENGTH_BYTE_ARRAY only for "
               "string/blob columns, not a BYTE_ARRAY DECIMAL";
    return NULL;
}

/* A column a reader cannot read in this file, or NULL: hyparquet-
 * compressors 1.1.2 throws "lz4 offset out of range 0" on an empty LZ4
 * block (the 1-byte compression of nothing), which is what an all-null
 * column's empty dictionary page, or its v2 PLAIN/BSS data page, holds. */
static const char *reader_drop(const char *reader, const table *t,
                               const column *c)
{
    const file_cfg *f = t->cfg;
    pq_encoding e = value_encoding(f, c);
    if (!strcmp(reader, "hyparquet") &&
        (f->codec == PQ_CODEC_LZ4 || f->codec == PQ_CODEC_LZ4_RAW) &&
        all_null(t, c) &&
        (dictionary_enabled(f, c) ||
         (f->page_v == 2 &&
          (e == PQ_ENC_PLAIN || e == PQ_ENC_BYTE_STREAM_SPLIT))))
        return "hyparquet-compressors 1.1.2 fails on an empty LZ4 block";
    return NULL;
}

static bool reader_drops_any(const char *reader, const table *t)
{
    for (int c = 0; c < t->ncols; c++)
        if (reader_drop(reader, t, &t->cols[c]))
            return true;
    return false;
}

static void reader_cmd(meru_buf *cmd, const char *reader)
{
    put(cmd, "(node ");
    shell_quote(cmd, INTEROP_DIR "/read_parquet.mjs");
    putf(cmd, " %s --out-dir out-%s", reader, reader);
    for (size_t f = 0; f < NFILES; f++)
        if (!reader_skip(reader, &FILES[f]) &&
            !reader_drops_any(reader, &g_tables[f]))
            putf(cmd, " %s.parquet", FILES[f].name);
    for (size_t f = 0; f < NFILES; f++) {
        const table *t = &g_tables[f];
        if (reader_skip(reader, &FILES[f]) || !reader_drops_any(reader, t))
            continue;
        put(cmd, "; node ");
        shell_quote(cmd, INTEROP_DIR "/read_parquet.mjs");
        putf(cmd, " %s --out-dir out-%s --columns ", reader, reader);
        bool first = true;
        for (int c = 0; c < t->ncols; c++) {
            if (reader_drop(reader, t, &t->cols[c]))
                continue;
            putf(cmd, "%s%s", first ? "" : ",", t->cols[c].name);
            first = false;
        }
        putf(cmd, " %s.parquet", FILES[f].name);
    }
    putf(cmd, ") >log-%s 2>&1 & ", reader);
}

/* Runs the three readers (one process each over all files, plus one per
 * file that needs a column left out), in parallel. */
static int run_node_tools(void)
{
    meru_buf cmd = {0};
    put(&cmd, "cd ");
    shell_quote(&cmd, g_dir);
    put(&cmd, " && (");
    for (int r = 0; r < NREADERS; r++)
        reader_cmd(&cmd, READERS[r]);
    put(&cmd, "wait)");
    (void)meru_buf_push(&cmd, 0);
    int st = system((const char *)cmd.data);
    meru_buf_free(&cmd);
    return st == 0 ? 0 : 1;
}

static uint8_t *read_out(const char *sub, const char *name, const char *ext,
                         size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.parquet%s", g_dir, sub, name, ext);
    return meru_test_read_file(path, len);
}

/* ============================================================== tests == */

static void test_interop_our_reader_agrees(void)
{
    CHECK(g_written);
    size_t bad = 0;
    for (size_t f = 0; f < NFILES; f++) {
        table *t = &g_tables[f];
        int fd = open(t->path, O_RDONLY);
        CHECK(fd >= 0);
        pq_source src;
        pq_reader *r = NULL;
        int rc = pq_source_fd(&src, fd);
        if (!rc)
            rc = pq_reader_open(&r, &src, NULL);
        read_col rcs[MAX_COLS];
        memset(rcs, 0, sizeof rcs);
        col_view cv[MAX_COLS];
        size_t rows[8];
        size_t ng = expected_row_groups(t, rows, 8);
        if (!rc) {
            CHECK_EQ_INT(pq_reader_num_rows(r), t->n);
            CHECK_EQ_INT(pq_reader_num_columns(r), t->ncols);
            CHECK_EQ_INT(pq_reader_num_row_groups(r), ng);
            for (size_t g = 0; g < ng; g++)
                CHECK_EQ_INT(pq_reader_row_group_rows(r, (uint32_t)g), rows[g]);
        }
        for (int c = 0; !rc && c < t->ncols; c++) {
            rc = read_column(r, (uint32_t)c, t->cols[c].k, &rcs[c]);
            bool opt = t->cols[c].valid != NULL;
            cv[c] = (col_view){t->cols[c].k, t->cols[c].name,
                               is_bytes(t->cols[c].k)
                                   ? (const void *)rcs[c].ba
                                   : (const void *)rcs[c].vals.data,
                               opt ? rcs[c].valid.data : NULL};
            if (!rc && rcs[c].valid.len != t->n)
                rc = meru_err(MERU_ECORRUPT, "column %s: %zu rows read",
                              t->cols[c].name, rcs[c].valid.len);
        }
        meru_buf got = {0};
        if (!rc)
            format_rows(&got, cv, t->ncols, t->n);
        for (int c = 0; c < t->ncols; c++)
            read_col_free(&rcs[c]);
        pq_reader_close(r);
        close(fd);
        CHECK_MSG(rc == 0, "%s: our reader: %s", FILES[f].name, meru_errmsg());
        compare_lines(FILES[f].name, "merutable", &t->expected, got.data,
                      got.len, &bad);
        meru_buf_free(&got);
    }
    CHECK_MSG(bad == 0, "%zu rows differ between the data and our reader", bad);
}

static void test_interop_independent_readers_agree(void)
{
    CHECK(g_written);
    const char *why = node_missing();
    CHECK_MSG(!why, "%s", why);
    CHECK_MSG(run_node_tools() == 0, "running node failed (see %s/log-*)",
              g_dir);
    size_t bad = 0, failed = 0, compared = 0;
    for (int rd = 0; rd < NREADERS; rd++) {
        for (size_t f = 0; f < NFILES; f++) {
            const char *skip = reader_skip(READERS[rd], &FILES[f]);
            if (skip)
                continue;
            char sub[64];
            snprintf(sub, sizeof sub, "out-%s", READERS[rd]);
            size_t len;
            uint8_t *err = read_out(sub, FILES[f].name, ".err", &len);
            if (err) {
                fprintf(stderr, "  %s [%s] failed: %s", FILES[f].name,
                        READERS[rd], (const char *)err);
                free(err);
                failed++;
                continue;
            }
            uint8_t *got = read_out(sub, FILES[f].name, ".jsonl", &len);
            if (!got) {
                fprintf(stderr, "  %s [%s]: no output\n", FILES[f].name,
                        READERS[rd]);
                failed++;
                continue;
            }
            const table *t = &g_tables[f];
            if (reader_drops_any(READERS[rd], t)) {
                col_view cv[MAX_COLS];
                int nc = 0;
                for (int c = 0; c < t->ncols; c++) {
                    const column *col = &t->cols[c];
                    if (!reader_drop(READERS[rd], t, col))
                        cv[nc++] = (col_view){col->k, col->name, col->vals,
                                              col->valid};
                }
                meru_buf sub_exp = {0};
                format_rows(&sub_exp, cv, nc, t->n);
                compare_lines(FILES[f].name, READERS[rd], &sub_exp, got, len,
                              &bad);
                meru_buf_free(&sub_exp);
            } else {
                compare_lines(FILES[f].name, READERS[rd], &t->expected, got,
                              len, &bad);
            }
            compared++;
            free(got);
        }
    }
    printf("  %zu (reader, file) pairs compared\n", compared);
    CHECK_MSG(failed == 0, "%zu (reader, file) pairs failed to read", failed);
    CHECK_MSG(bad == 0, "%zu rows differ from the data", bad);
}

int main(void)
{
    MERU_TEST_RUN(test_interop_matrix_is_written);
    MERU_TEST_RUN(test_interop_our_reader_agrees);
    MERU_TEST_RUN(test_interop_independent_readers_agree);
    return interop_finish();
}
