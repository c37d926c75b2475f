/*
 * cmd_demo.c — `meru demo [DIR] [--quick] [--rows N]`.
 *
 * Until the engine lands, the demo exercises everything below it on a
 * realistic workload: it builds the default "events" table schema from its
 * text form, writes the schema (Iceberg JSON) durably into DIR, generates N
 * events as rows, validates each, encodes their primary keys with the
 * order-preserving key codec, sorts the keys with plain memcmp and checks
 * that this order is the typed order of the decoded tuples, then shows a
 * few rows and how bad input is refused. It becomes the real demo (put,
 * get, scan, delete, reopen) with the engine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merutable.h"
#include "tools/commands.h"
#include "types/keycodec.h"
#include "types/schema.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/fs.h"

#define DEMO_DEFAULT_DIR "meru-demo"
#define DEMO_DEFAULT_ROWS 1000000u
#define DEMO_QUICK_ROWS 50000u

static const char *const DEMO_COLUMNS =
    "user_id int64 not null, at timestamptz not null, seq int32 not null, "
    "kind string not null, amount decimal(12,2), score double, "
    "payload binary";
static const char *const DEMO_KEY = "user_id, at, seq";
static const char *const KINDS[] = {"click", "view", "purchase", "signup",
                                    "logout", "search"};

typedef struct demo_key {
    const uint8_t *p;
    uint32_t len;
} demo_key;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void progress(const char *what, size_t done, size_t total, int tty)
{
    if (!tty || total == 0)
        return;
    if (done != total && done % 8192 != 0)
        return;
    int width = 40, fill = (int)((double)done / (double)total * width);
    fprintf(stderr, "\r  %-10s [%.*s%*s] %3d%%", what, fill,
            "########################################", width - fill, "",
            (int)(100.0 * (double)done / (double)total));
    if (done == total)
        fputc('\n', stderr);
}

static int fail(const char *what)
{
    fprintf(stderr, "meru demo: %s: %s\n", what, meru_errmsg());
    return 3;
}

/* Fills `row` with event number i of a deterministic synthetic workload:
 * 5000 users, timestamps over ~30 days from 2026-01-01, skewed kinds. */
static int fill_event(meru_row *row, uint64_t *rng, size_t i)
{
    uint64_t r = rng_next(rng);
    int64_t user = (int64_t)(r % 5000) + 1;
    int64_t at = INT64_C(1767225600000000) +
                 (int64_t)(rng_next(rng) % (30ull * 86400 * 1000000));
    const char *kind = KINDS[(r >> 20) % 6 < 3 ? 0 : (r >> 24) % 6];
    char amount[32];
    snprintf(amount, sizeof amount, "%" PRId64 ".%02d",
             (int64_t)((r >> 32) % 100000) - 20000, (int)((r >> 8) % 100));
    uint8_t payload[16];
    for (size_t k = 0; k < sizeof payload; k++)
        payload[k] = (uint8_t)(r >> (k % 8 * 8));
    int rc = meru_row_set_int64(row, 0, user);
    if (!rc)
        rc = meru_row_set_timestamp(row, 1, at);
    if (!rc)
        rc = meru_row_set_int32(row, 2, (int32_t)(i & 0x7fffffff));
    if (!rc)
        rc = meru_row_set_string(row, 3, kind, strlen(kind));
    if (!rc)
        rc = (r & 15) == 0 ? meru_row_set_null(row, 4)
                           : meru_row_set_decimal_str(row, 4, amount);
    if (!rc)
        rc = meru_row_set_double(row, 5, (double)(r % 1000000) / 997.0);
    if (!rc)
        rc = meru_row_set_binary(row, 6, payload, sizeof payload);
    return rc;
}

static int cmp_keys(const void *a, const void *b)
{
    const demo_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Typed comparison of two decoded key tuples (the order memcmp must give). */
static int typed_cmp(const meru_schema *s, const meru_value *a,
                     const meru_value *b)
{
    for (size_t i = 0; i < s->nkey; i++) {
        int c = meru_value_cmp(s->cols[s->key_cols[i]].type, &a[i], &b[i]);
        if (c)
            return c;
    }
    return 0;
}

static void print_key(const meru_schema *s, const demo_key *k)
{
    meru_value vals[MERU_MAX_KEY_COLUMNS];
    size_t n = 0;
    meru_buf scratch = {0}, text = {0};
    int rc = meru_key_decode(s, k->p, k->len, vals, &n, &scratch);
    if (!rc)
        rc = meru_buf_push(&text, '[');
    for (size_t i = 0; !rc && i < n; i++) {
        if (i)
            rc = meru_buf_push(&text, ',');
        if (!rc)
            rc = meru_value_to_literal(&s->cols[s->key_cols[i]], &vals[i],
                                       &text);
    }
    if (!rc)
        rc = meru_buf_append(&text, "]", 2); /* with the NUL */
    if (!rc)
        printf("    key %s  (%u bytes encoded)\n", (char *)text.data, k->len);
    else
        printf("    key (%u bytes): cannot show it: %s\n", k->len,
               meru_errmsg());
    meru_buf_free(&scratch);
    meru_buf_free(&text);
}

static void show_refusal(meru_row *row, const char *what)
{
    int rc = meru_row_validate(row);
    printf("    %-28s -> %s: %s\n", what, meru_strerror(rc), meru_errmsg());
}

static void demo_bad_input(const meru_schema *schema)
{
    meru_row *row = NULL;
    meru_schema *bad = NULL;
    printf("\nBad input is refused with a precise message:\n");
    if (meru_schema_parse(&bad, "t", "id int64 not null, price decimal(40,2)",
                          "id") != MERU_OK)
        printf("    %-28s -> %s\n", "decimal(40,2) column", meru_errmsg());
    meru_schema_free(bad);
    if (meru_schema_parse(&bad, "t", "id int64, name strnig", "id") !=
        MERU_OK)
        printf("    %-28s -> %s\n", "misspelt type", meru_errmsg());
    meru_schema_free(bad);
    if (meru_row_new(&row, schema) != MERU_OK)
        return;
    meru_row_set_int64(row, 0, 1);
    meru_row_set_timestamp(row, 1, 0);
    meru_row_set_int32(row, 2, 1);
    show_refusal(row, "row without 'kind'");
    meru_row_set_string(row, 3, "\xff\xfe", 2);
    show_refusal(row, "invalid UTF-8 in 'kind'");
    int rc = meru_row_set_string(row, 0, "x", 1);
    printf("    %-28s -> %s: %s\n", "string into int64 'user_id'",
           meru_strerror(rc), meru_errmsg());
    rc = meru_row_set_decimal_str(row, 4, "1.234");
    printf("    %-28s -> %s: %s\n", "1.234 into decimal(12,2)",
           meru_strerror(rc), meru_errmsg());
    meru_row_free(row);
}

static int write_schema(const meru_schema *schema, const char *dir)
{
    char *json = NULL;
    char path[4096];
    meru_fs *fs = meru_fs_posix();
    int rc = meru_fs_mkdir_p(fs, dir);
    if (!rc)
        rc = meru_schema_to_json(schema, &json);
    if (!rc)
        rc = meru_path_join(path, sizeof path, dir, "schema.json");
    if (!rc)
        rc = meru_durable_write(fs, path, json, strlen(json));
    if (!rc)
        printf("Schema (Iceberg JSON) written durably to %s\n", path);
    meru_free(json);
    return rc;
}

int meru_cmd_demo(int argc, char **argv)
{
    const char *dir = DEMO_DEFAULT_DIR;
    size_t nrows = DEMO_DEFAULT_ROWS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            nrows = DEMO_QUICK_ROWS;
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v == 0 || v > 100000000ull) {
                fprintf(stderr, "meru demo: --rows wants 1..100000000\n");
                return 2;
            }
            nrows = (size_t)v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: meru demo [DIR] [--quick] [--rows N]\n");
            return 2;
        } else {
            dir = argv[i];
        }
    }
    int tty = isatty(STDERR_FILENO);
    int status = 3;
    meru_schema *schema = NULL;
    meru_row *row = NULL;
    meru_arena *arena = NULL;
    demo_key *keys = NULL;
    meru_buf kb = {0}, s1 = {0}, s2 = {0};

    printf("merutable %s demo — %zu events into table 'events' at %s/\n\n",
           meru_version(), nrows, dir);
    if (meru_schema_parse(&schema, "events", DEMO_COLUMNS, DEMO_KEY)) {
        status = fail("schema");
        goto out;
    }
    printf("Table schema: %s\nPrimary key:  (%s)\n", DEMO_COLUMNS, DEMO_KEY);
    if (write_schema(schema, dir)) {
        status = fail("writing the schema");
        goto out;
    }
    if (meru_row_new(&row, schema) || meru_arena_new(&arena, 1 << 20)) {
        status = fail("allocation");
        goto out;
    }
    keys = calloc(nrows, sizeof *keys);
    if (!keys) {
        fprintf(stderr, "meru demo: out of memory for %zu keys\n", nrows);
        goto out;
    }

    /* 1. Generate, validate and key-encode every event. */
    uint64_t rng = 0x5EED5EEDull, t0 = meru_clock_ns();
    size_t key_bytes = 0;
    for (size_t i = 0; i < nrows; i++) {
        meru_row_clear(row);
        meru_buf_reset(&kb);
        if (fill_event(row, &rng, i) || meru_row_validate(row) ||
            meru_key_encode_row(schema, row, &kb)) {
            status = fail("event");
            goto out;
        }
        uint8_t *p = meru_arena_dup(arena, kb.data, kb.len);
        if (!p) {
            status = fail("key storage");
            goto out;
        }
        keys[i] = (demo_key){p, (uint32_t)kb.len};
        key_bytes += kb.len;
        progress("encode", i + 1, nrows, tty);
    }
    double t_enc = (double)(meru_clock_ns() - t0) / 1e9;

    /* 2. Sort by memcmp of the encodings alone. */
    t0 = meru_clock_ns();
    qsort(keys, nrows, sizeof *keys, cmp_keys);
    double t_sort = (double)(meru_clock_ns() - t0) / 1e9;

    /* 3. Check that byte order is typed order, and decode every key. */
    t0 = meru_clock_ns();
    meru_value a[MERU_MAX_KEY_COLUMNS], b[MERU_MAX_KEY_COLUMNS];
    size_t nb = 0, distinct = nrows ? 1 : 0;
    for (size_t i = 0; i < nrows; i++) {
        meru_buf_reset(&s2);
        if (meru_key_decode(schema, keys[i].p, keys[i].len, b, &nb, &s2)) {
            status = fail("decoding a key");
            goto out;
        }
        if (i > 0) {
            int c = typed_cmp(schema, a, b);
            if (c > 0) {
                fprintf(stderr, "meru demo: key order broken at %zu\n", i);
                goto out;
            }
            distinct += c < 0;
        }
        memcpy(a, b, sizeof a);
        meru_buf tmp = s1; /* a's bytes live in s2 now: swap scratch */
        s1 = s2;
        s2 = tmp;
        progress("verify", i + 1, nrows, tty);
    }
    double t_ver = (double)(meru_clock_ns() - t0) / 1e9;

    printf("\nWorkload:\n");
    printf("  %zu events generated, validated and key-encoded in %.2f s "
           "(%.0f rows/s)\n",
           nrows, t_enc, (double)nrows / (t_enc > 0 ? t_enc : 1e-9));
    printf("  keys: %.1f bytes on average, sorted by memcmp in %.2f s\n",
           nrows ? (double)key_bytes / (double)nrows : 0.0, t_sort);
    printf("  memcmp order == typed (user_id, at, seq) order: verified for "
           "all %zu keys in %.2f s; %zu distinct\n",
           nrows, t_ver, distinct);
    printf("\nSmallest and largest keys:\n");
    for (size_t i = 0; i < 3 && i < nrows; i++)
        print_key(schema, &keys[i]);
    for (size_t i = nrows > 3 ? nrows - 3 : nrows; i < nrows; i++)
        print_key(schema, &keys[i]);

    char *json = NULL;
    meru_row_clear(row);
    rng = 0x5EED5EEDull;
    if (fill_event(row, &rng, 0) == MERU_OK &&
        meru_row_to_json(row, &json) == MERU_OK)
        printf("\nThe first event as JSON:\n    %s\n", json);
    meru_free(json);
    demo_bad_input(schema);

    printf("\nNext: `meru parquet inspect FILE` and `meru parquet cat FILE` "
           "read any flat Parquet file;\n`make test` runs the test suite. "
           "The storage engine (put/get/scan on %s/) comes next.\n",
           dir);
    status = 0;
out:
    free(keys);
    meru_buf_free(&kb);
    meru_buf_free(&s1);
    meru_buf_free(&s2);
    meru_arena_free(arena);
    meru_row_free(row);
    meru_schema_free(schema);
    return status;
}
