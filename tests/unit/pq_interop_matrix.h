/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_interop_matrix.h — the matrix of Parquet files the interop tests
 * (test_pq_interop.c: rows as the readers see them; test_pq_interop_footer.c:
 * footers as DuckDB and hyparquet see them) write with our writer: the table
 * of files (`FILES`: profiles, codecs, page versions, encodings, data
 * shapes, row groups), each file's columns built from the kinds and
 * generators of pq_interop_data.h with their expected canonical rows and
 * bloom probes, the writer's documented choices per column, and whether
 * node and tests/interop/node_modules are there.
 *
 * Both programs write the whole matrix (test_interop_matrix_is_written,
 * here) into their own temporary directory, then run their node tools over
 * it. Functions are static inline: each test program includes this once.
 */
#ifndef MERU_TESTS_PQ_INTEROP_MATRIX_H
#define MERU_TESTS_PQ_INTEROP_MATRIX_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "pq_canon.h"
#include "pq_interop_data.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"

#define INTEROP_DIR MERU_SOURCE_DIR "/tests/interop"

/* Which encodings the columns ask for. */
typedef enum enc_mode {
    ENC_DEFAULT,  /* the profile's choice */
    ENC_PLAIN,    /* PLAIN, no dictionary */
    ENC_DICT,     /* dictionary for every type that has one */
    ENC_DELTA,    /* DBP ints, DLBA byte arrays, DBA FLBA, BSS floats */
    ENC_DBA,      /* DELTA_BYTE_ARRAY for byte arrays and FLBA */
    ENC_BSS_INT,  /* BYTE_STREAM_SPLIT on INT32/INT64/FLBA (only those) */
    ENC_DLBA_DEC, /* DELTA_LENGTH_BYTE_ARRAY on a BYTE_ARRAY decimal (only) */
    ENC_FALLBACK  /* dictionaries that outgrow their cap */
} enc_mode;

typedef struct file_cfg {
    const char *name;
    pq_profile profile;
    pq_codec codec;
    int page_v;
    bool optional;
    enc_mode enc;
    data_mode data;
    size_t rows;
    uint32_t page_rows;  /* 0: the profile's */
    uint64_t rg_rows;    /* 0: the profile's (one row group here) */
    uint32_t dict_limit; /* 0: the profile's */
    /* The profile's codec_min_saving: chunks whose values do not compress
     * are stored UNCOMPRESSED, the others with `codec` (a file of mixed
     * per-chunk codecs). false: every chunk keeps `codec`, so each codec
     * meets every kind of column. */
    bool codec_trial;
} file_cfg;

#define ROW PQ_PROFILE_ROW
#define COL PQ_PROFILE_COLUMN
#define OPT true
#define REQ false

static const file_cfg FILES[] = {
    /* the two profiles as the engine uses them */
    {"row_req", ROW, PQ_CODEC_UNCOMPRESSED, 1, REQ, ENC_DEFAULT, DATA_MIXED,
     2500, 0, 0, 0, false},
    {"row_opt", ROW, PQ_CODEC_UNCOMPRESSED, 1, OPT, ENC_DEFAULT, DATA_MIXED,
     2500, 600, 1000, 0, false},
    {"col_req", COL, PQ_CODEC_ZSTD, 2, REQ, ENC_DEFAULT, DATA_MIXED, 2500, 0, 0,
     0, false},
    {"col_opt", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_DEFAULT, DATA_MIXED, 2500, 600,
     1000, 0, false},
    /* every codec on v2 (column-tuned) and v1 (row-tuned) pages */
    {"col_none", COL, PQ_CODEC_UNCOMPRESSED, 2, OPT, ENC_DEFAULT, DATA_MIXED,
     1000, 300, 600, 0, false},
    {"col_snappy", COL, PQ_CODEC_SNAPPY, 2, OPT, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"col_gzip", COL, PQ_CODEC_GZIP, 2, OPT, ENC_DEFAULT, DATA_MIXED, 1000, 300,
     600, 0, false},
    {"col_brotli", COL, PQ_CODEC_BROTLI, 2, OPT, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"col_lz4raw", COL, PQ_CODEC_LZ4_RAW, 2, OPT, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"col_lz4", COL, PQ_CODEC_LZ4, 2, OPT, ENC_DEFAULT, DATA_MIXED, 1000, 300,
     600, 0, false},
    {"row_snappy", ROW, PQ_CODEC_SNAPPY, 1, OPT, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"row_gzip", ROW, PQ_CODEC_GZIP, 1, REQ, ENC_DEFAULT, DATA_MIXED, 1000, 300,
     600, 0, false},
    {"row_zstd", ROW, PQ_CODEC_ZSTD, 1, OPT, ENC_DEFAULT, DATA_MIXED, 1000, 300,
     600, 0, false},
    {"row_brotli", ROW, PQ_CODEC_BROTLI, 1, REQ, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"row_lz4raw", ROW, PQ_CODEC_LZ4_RAW, 1, OPT, ENC_DEFAULT, DATA_MIXED, 1000,
     300, 600, 0, false},
    {"row_lz4", ROW, PQ_CODEC_LZ4, 1, REQ, ENC_DEFAULT, DATA_MIXED, 1000, 300,
     600, 0, false},
    /* page versions swapped between the profiles */
    {"col_v1", COL, PQ_CODEC_ZSTD, 1, OPT, ENC_DEFAULT, DATA_MIXED, 1500, 500,
     0, 0, false},
    {"row_v2", ROW, PQ_CODEC_UNCOMPRESSED, 2, OPT, ENC_DEFAULT, DATA_MIXED,
     1500, 500, 0, 0, false},
    /* encodings */
    {"dict_v1", ROW, PQ_CODEC_UNCOMPRESSED, 1, REQ, ENC_DICT, DATA_LOWCARD,
     2000, 700, 1000, 0, false},
    {"dict_v2", COL, PQ_CODEC_SNAPPY, 2, OPT, ENC_DICT, DATA_LOWCARD, 2000, 700,
     1000, 0, false},
    {"fallback_v1", COL, PQ_CODEC_GZIP, 1, OPT, ENC_FALLBACK, DATA_FALLBACK,
     3000, 500, 0, 4096, false},
    {"fallback_v2", COL, PQ_CODEC_ZSTD, 2, REQ, ENC_FALLBACK, DATA_FALLBACK,
     3000, 500, 0, 4096, false},
    {"delta_v1", ROW, PQ_CODEC_GZIP, 1, OPT, ENC_DELTA, DATA_MIXED, 2000, 700,
     1000, 0, false},
    {"delta_v2", COL, PQ_CODEC_LZ4_RAW, 2, REQ, ENC_DELTA, DATA_MIXED, 2000,
     700, 1000, 0, false},
    {"dba_v1", ROW, PQ_CODEC_SNAPPY, 1, REQ, ENC_DBA, DATA_MIXED, 1500, 500, 0,
     0, false},
    {"dba_v2", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_DBA, DATA_MIXED, 1500, 500, 0, 0,
     false},
    {"plain_v2", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_PLAIN, DATA_MIXED, 1500, 500,
     0, 0, false},
    {"bss_int_v1", ROW, PQ_CODEC_UNCOMPRESSED, 1, REQ, ENC_BSS_INT, DATA_MIXED,
     1500, 500, 0, 0, false},
    {"bss_int_v2", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_BSS_INT, DATA_MIXED, 1500,
     500, 0, 0, false},
    {"dlba_dec", COL, PQ_CODEC_SNAPPY, 2, OPT, ENC_DLBA_DEC, DATA_MIXED, 1500,
     500, 0, 0, false},
    {"extreme_v1", ROW, PQ_CODEC_UNCOMPRESSED, 1, OPT, ENC_DELTA, DATA_EXTREME,
     2000, 700, 0, 0, false},
    {"extreme_v2", COL, PQ_CODEC_UNCOMPRESSED, 2, REQ, ENC_DEFAULT,
     DATA_EXTREME, 2000, 700, 0, 0, false},
    {"empty", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_DEFAULT, DATA_MIXED, 0, 0, 0, 0,
     false},
    /* codecs per column chunk, as the engine writes them */
    {"row_trial", ROW, PQ_CODEC_LZ4_RAW, 1, OPT, ENC_DEFAULT, DATA_MIXED, 2000,
     700, 1000, 0, true},
    {"col_trial", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_DEFAULT, DATA_MIXED, 2000,
     700, 1000, 0, true},
    /* and per v2 page: the random indices of 16-value dictionaries do not
     * compress, so their pages are stored as they are (is_compressed
     * false) in chunks that keep zstd for their dictionary pages */
    {"dict_trial_v2", COL, PQ_CODEC_ZSTD, 2, OPT, ENC_DICT, DATA_LOWCARD, 3000,
     700, 1000, 0, true},
};
#define NFILES       (sizeof FILES / sizeof FILES[0])
#define MAX_COLS     (K_COUNT + 2)
#define HEAP_PER_ROW 256

/* A bloom filter question for parquet_meta.mjs: `rg` is the row group
 * holding the value, -1 when no row group does. */
typedef struct probe {
    const char *col;
    char value[48];
    int rg;
} probe;

typedef struct table {
    const file_cfg *cfg;
    probe probes[16];
    int nprobes;
    column cols[MAX_COLS];
    int ncols;
    size_t n;
    char path[600];
    meru_buf expected; /* canonical lines */
} table;

static table g_tables[NFILES];
static char g_dir[512];
static bool g_written;

static inline bool kind_in_file(const file_cfg *f, kind k)
{
    if (f->enc == ENC_BSS_INT) /* only what DuckDB cannot read */
        return KINDS[k].type == PQ_INT32 || KINDS[k].type == PQ_INT64 ||
               KINDS[k].type == PQ_FIXED_LEN_BYTE_ARRAY;
    if (f->enc == ENC_DLBA_DEC)
        return k == K_DEC_BA;
    return true;
}

static inline void set_encoding(pq_column_spec *s, pq_encoding e)
{
    s->has_encoding = true;
    s->encoding = e;
}

static inline void choose_spec_encoding(const file_cfg *f, column *c)
{
    pq_column_spec *s = &c->spec;
    pq_type t = s->type;
    switch (f->enc) {
    case ENC_DEFAULT:
        break;
    case ENC_PLAIN:
        set_encoding(s, PQ_ENC_PLAIN);
        s->dictionary = PQ_OPT_OFF;
        break;
    case ENC_DICT:
        if (t != PQ_BOOLEAN && t != PQ_INT96)
            set_encoding(s, PQ_ENC_RLE_DICTIONARY);
        break;
    case ENC_DELTA:
        if (t == PQ_INT32 || t == PQ_INT64)
            set_encoding(s, PQ_ENC_DELTA_BINARY_PACKED);
        else if (c->k == K_DEC_BA) /* DLBA there: file dlba_dec */
            set_encoding(s, PQ_ENC_DELTA_BYTE_ARRAY);
        else if (t == PQ_BYTE_ARRAY)
            set_encoding(s, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY);
        else if (t == PQ_FIXED_LEN_BYTE_ARRAY)
            set_encoding(s, PQ_ENC_DELTA_BYTE_ARRAY);
        else if (t == PQ_FLOAT || t == PQ_DOUBLE)
            set_encoding(s, PQ_ENC_BYTE_STREAM_SPLIT);
        else if (t == PQ_BOOLEAN)
            set_encoding(s, PQ_ENC_RLE);
        s->dictionary = PQ_OPT_OFF;
        break;
    case ENC_DBA:
        if (t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY)
            set_encoding(s, PQ_ENC_DELTA_BYTE_ARRAY);
        break;
    case ENC_BSS_INT:
        set_encoding(s, PQ_ENC_BYTE_STREAM_SPLIT);
        break;
    case ENC_DLBA_DEC:
        set_encoding(s, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY);
        break;
    case ENC_FALLBACK:
        /* s falls back to PLAIN, bin to DLBA, i64 to DBP, fl to DBA */
        if (c->k == K_STR || c->k == K_I64 || c->k == K_FLBA)
            s->dictionary = PQ_OPT_ON;
        if (c->k == K_BIN) {
            set_encoding(s, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY);
            s->dictionary = PQ_OPT_ON;
        }
        if (c->k == K_FLBA)
            set_encoding(s, PQ_ENC_DELTA_BYTE_ARRAY);
        break;
    }
}

static inline int add_column(table *t, kind k, const char *name, int null_rate)
{
    const file_cfg *f = t->cfg;
    column *c = &t->cols[t->ncols];
    const kind_def *kd = &KINDS[k];
    size_t n = t->n ? t->n : 1;
    c->k = k;
    snprintf(c->name, sizeof c->name, "%s", name);
    pq_column_spec *s = &c->spec;
    s->name = c->name;
    s->type = kd->type;
    s->type_length = kd->len;
    s->logical = kd->lt;
    s->repetition = f->optional ? PQ_OPTIONAL : PQ_REQUIRED;
    s->has_field_id = true;
    s->field_id = 100 + t->ncols;
    s->bloom_filter = k == K_I64 || k == K_STR || k == K_DATE;
    choose_spec_encoding(f, c);
    c->vals = calloc(n, pq_value_width(KINDS[k].type));
    if (!c->vals)
        return -1;
    if (is_bytes(k) && !(c->heap = malloc(n * HEAP_PER_ROW)))
        return -1;
    c->null_rate = f->optional ? null_rate : 0;
    if (f->optional) {
        if (!(c->valid = malloc(n)))
            return -1;
        for (size_t r = 0; r < t->n; r++)
            c->valid[r] =
                null_rate >= 100 ? 0 : rnd(100) >= (uint64_t)null_rate;
    }
    t->ncols++;
    for (size_t r = 0; r < t->n; r++) {
        if (f->data == DATA_LOWCARD && r >= 16) {
            copy_value(c, r, rnd(16));
        } else if (f->data == DATA_FALLBACK && r < 1000 && r >= 10) {
            copy_value(c, r, rnd(10));
        } else {
            gen_value(c, r,
                      f->data == DATA_EXTREME                 ? DATA_EXTREME
                      : f->data == DATA_FALLBACK && r >= 1000 ? DATA_FALLBACK
                                                              : DATA_MIXED);
        }
    }
    return 0;
}

static inline int build_table(table *t, const file_cfg *f)
{
    static const int rates[4] = {0, 10, 50, 97};
    t->cfg = f;
    t->n = f->rows;
    for (kind k = 0; k < K_COUNT; k++) {
        if (!kind_in_file(f, k))
            continue;
        if (add_column(t, k, KINDS[k].name, rates[t->ncols % 4]))
            return -1;
    }
    if (f->optional && f->enc != ENC_BSS_INT && f->enc != ENC_DLBA_DEC) {
        if (add_column(t, K_I64, "null_i64", 100) ||
            add_column(t, K_STR, "null_s", 100))
            return -1;
    }
    return 0;
}

static inline void free_table(table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].vals);
        free(t->cols[i].valid);
        free(t->cols[i].heap);
    }
    meru_buf_free(&t->expected);
    memset(t, 0, sizeof *t);
}

static inline void table_views(const table *t, col_view *cv)
{
    for (int c = 0; c < t->ncols; c++)
        cv[c] = (col_view){t->cols[c].k, t->cols[c].name, t->cols[c].vals,
                           t->cols[c].valid};
}

/* ============================================================ writing == */

static inline int write_table(table *t)
{
    const file_cfg *f = t->cfg;
    pq_writer_options o;
    if (f->profile == PQ_PROFILE_ROW)
        pq_writer_options_row(&o);
    else
        pq_writer_options_column(&o);
    o.codec = f->codec;
    if (!f->codec_trial)
        o.codec_min_saving = 0.0;
    /* BROTLI at its default level costs ~5 ms a page here (the encoder
     * sizes its tables for a 4 MiB window); the level does not change the
     * format readers see */
    o.codec_level = f->codec == PQ_CODEC_BROTLI ? 1 : 0;
    o.data_page_version = f->page_v;
    if (f->page_rows)
        o.page_rows = f->page_rows;
    if (f->rg_rows)
        o.row_group_rows = f->rg_rows;
    if (f->dict_limit)
        o.dict_page_size_limit = f->dict_limit;
    pq_column_spec specs[MAX_COLS];
    for (int c = 0; c < t->ncols; c++)
        specs[c] = t->cols[c].spec;
    int fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return MERU_EIO;
    pq_sink sink;
    pq_sink_fd(&sink, fd);
    pq_writer *w;
    int rc = pq_writer_open(&w, &sink, specs, (uint32_t)t->ncols, &o);
    /* batches of varying size, so pages and row groups cut inside them */
    for (size_t at = 0, k; !rc && at < t->n; at += k) {
        k = 1 + rnd(1500);
        if (k > t->n - at)
            k = t->n - at;
        pq_column_data part[MAX_COLS];
        for (int c = 0; c < t->ncols; c++) {
            const column *col = &t->cols[c];
            part[c].values = (const uint8_t *)col->vals +
                             at * pq_value_width(KINDS[col->k].type);
            part[c].valid = col->valid ? col->valid + at : NULL;
        }
        rc = pq_writer_write(w, k, part);
    }
    if (!rc)
        rc = pq_writer_close(w, NULL);
    else
        pq_writer_abort(w);
    close(fd);
    return rc;
}

/* Rows of each row group as the configuration cuts them. */
static inline size_t expected_row_groups(const table *t, size_t *rows,
                                         size_t cap)
{
    size_t per = t->cfg->rg_rows ? (size_t)t->cfg->rg_rows : t->n;
    size_t ng = 0;
    for (size_t at = 0; at < t->n && ng < cap; at += per)
        rows[ng++] = t->n - at < per ? t->n - at : per;
    return ng;
}

static inline void shell_quote(meru_buf *o, const char *s)
{
    put(o, "'");
    for (; *s; s++) {
        if (*s == '\'')
            put(o, "'\\''");
        else
            (void)meru_buf_push(o, (uint8_t)*s);
    }
    put(o, "'");
}

/* The writer's choices for a column, as pq.h documents them: the value
 * encoding of plain (non-dictionary) pages, and whether the column starts
 * its chunks with a dictionary. */
static inline pq_encoding value_encoding(const file_cfg *f, const column *c)
{
    const pq_column_spec *s = &c->spec;
    if (s->has_encoding && s->encoding != PQ_ENC_RLE_DICTIONARY)
        return s->encoding;
    if (f->profile == PQ_PROFILE_COLUMN) {
        if (s->type == PQ_INT32 || s->type == PQ_INT64)
            return PQ_ENC_DELTA_BINARY_PACKED;
        if (s->type == PQ_FLOAT || s->type == PQ_DOUBLE)
            return PQ_ENC_BYTE_STREAM_SPLIT;
        if (s->type == PQ_BOOLEAN)
            return PQ_ENC_RLE;
    }
    return PQ_ENC_PLAIN;
}

static inline bool dictionary_enabled(const file_cfg *f, const column *c)
{
    const pq_column_spec *s = &c->spec;
    if (s->dictionary != PQ_OPT_DEFAULT)
        return s->dictionary == PQ_OPT_ON;
    if (s->has_encoding)
        return s->encoding == PQ_ENC_RLE_DICTIONARY;
    return f->profile == PQ_PROFILE_COLUMN &&
           (s->type == PQ_BYTE_ARRAY || s->type == PQ_FIXED_LEN_BYTE_ARRAY);
}

static inline bool all_null(const table *t, const column *c)
{
    if (!c->valid || t->n == 0)
        return false;
    for (size_t r = 0; r < t->n; r++)
        if (c->valid[r])
            return false;
    return true;
}

static inline bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* node and the interop packages, or a message saying how to get them. */
static inline const char *node_missing(void)
{
    if (system("node --version >/dev/null 2>&1") != 0)
        return "node is not on PATH: run bash scripts/install-deps.sh --npm";
    static const char *const pkgs[] = {
        INTEROP_DIR "/node_modules/@duckdb/node-api/package.json",
        INTEROP_DIR "/node_modules/parquet-wasm/package.json",
        INTEROP_DIR "/node_modules/hyparquet/package.json",
        INTEROP_DIR "/node_modules/hyparquet-compressors/package.json"};
    for (size_t i = 0; i < sizeof pkgs / sizeof pkgs[0]; i++)
        if (!file_exists(pkgs[i]))
            return "tests/interop/node_modules is missing or incomplete: run "
                   "bash scripts/install-deps.sh --npm";
    return NULL;
}

static inline const column *find_col(const table *t, kind k, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (t->cols[c].k == k && !strcmp(t->cols[c].name, name))
            return &t->cols[c];
    return NULL;
}

static inline bool present(const column *c, size_t r)
{
    return !c->valid || c->valid[r];
}

/* Bloom probes: per row group a value it holds, and two values no row
 * group holds, for the int64 and the string column. */
static inline void plan_probes(table *t)
{
    size_t rows[8];
    size_t ng = expected_row_groups(t, rows, 8);
    const column *ci = find_col(t, K_I64, "i64");
    const column *cs = find_col(t, K_STR, "s");
    size_t r0 = 0;
    for (size_t g = 0; g < ng && t->nprobes < 12; r0 += rows[g], g++) {
        for (size_t r = r0; ci && r < r0 + rows[g]; r++) {
            if (!present(ci, r))
                continue;
            probe *p = &t->probes[t->nprobes++];
            p->col = "i64";
            p->rg = (int)g;
            snprintf(p->value, sizeof p->value, "%lld",
                     (long long)((const int64_t *)ci->vals)[r]);
            break;
        }
        for (size_t r = r0; cs && r < r0 + rows[g]; r++) {
            const pq_bytes *b = (const pq_bytes *)cs->vals + r;
            bool ok = present(cs, r) && b->len > 0 && b->len < 40;
            for (uint32_t i = 0; ok && i < b->len; i++)
                ok = (b->ptr[i] >= 'a' && b->ptr[i] <= 'z') ||
                     (b->ptr[i] >= '0' && b->ptr[i] <= '9');
            if (!ok)
                continue;
            probe *p = &t->probes[t->nprobes++];
            p->col = "s";
            p->rg = (int)g;
            snprintf(p->value, sizeof p->value, "%.*s", (int)b->len,
                     (const char *)b->ptr);
            break;
        }
    }
    for (int a = 0; ci && t->n && a < 2; a++) {
        int64_t v;
        bool dup;
        do {
            v = (int64_t)meru_test_rand();
            dup = false;
            for (size_t r = 0; r < t->n; r++)
                dup |= ((const int64_t *)ci->vals)[r] == v;
        } while (dup);
        probe *p = &t->probes[t->nprobes++];
        p->col = "i64";
        p->rg = -1;
        snprintf(p->value, sizeof p->value, "%lld", (long long)v);
    }
    for (int a = 0; cs && t->n && a < 2; a++) {
        probe *p = &t->probes[t->nprobes++];
        p->col = "s";
        p->rg = -1;
        snprintf(p->value, sizeof p->value, "absent-probe-%d", a);
    }
}

/* Writes every file of the matrix into a fresh directory and plans its
 * expected rows and bloom probes: the first test of each program. */
static inline void test_interop_matrix_is_written(void)
{
    snprintf(g_dir, sizeof g_dir, "%s", meru_test_tmpdir("pq_interop"));
    build_pool();
    for (size_t f = 0; f < NFILES; f++) {
        table *t = &g_tables[f];
        CHECK_MSG(build_table(t, &FILES[f]) == 0, "out of memory");
        snprintf(t->path, sizeof t->path, "%s/%s.parquet", g_dir,
                 FILES[f].name);
        int rc = write_table(t);
        CHECK_MSG(rc == 0, "%s: write: %s", FILES[f].name, meru_errmsg());
        col_view cv[MAX_COLS];
        table_views(t, cv);
        format_rows(&t->expected, cv, t->ncols, t->n);
        plan_probes(t);
    }
    g_written = true;
}

/* Frees the tables; removes the directory of a passing run (keeps the
 * files of a failed one). The program's exit status. */
static inline int interop_finish(void)
{
    for (size_t f = 0; f < NFILES; f++)
        free_table(&g_tables[f]);
    int rc = meru_test_finish();
    if (rc == 0 && g_dir[0]) { /* keep the files of a failed run */
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g_dir);
    }
    return rc;
}

#endif
