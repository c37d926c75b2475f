/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_api_abi.c — the ABI rule of merutable.h: versioned option structs
 * (an older, shorter struct is accepted and read only as far as its
 * version goes; unknown versions are refused) and meru_stats filled by
 * size. The "older struct" is a heap block of exactly the older size, so
 * AddressSanitizer catches any read past it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/options.h"
#include "test.h"

static meru_schema *abi_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "abi", "id int64 not null, v string", "id"))
        return NULL;
    return s;
}

/* A caller built against the version-1 header: its struct ends before
 * `properties`, and the library reads none of what follows. */
static void test_options_version_1_struct_is_read_to_its_end(void)
{
    const char *dir = meru_test_tmpdir("abi-v1");
    meru_schema *s = abi_schema();
    meru_db *db = NULL;
    size_t v1 = offsetof(meru_options, properties);
    meru_options full;
    meru_options_init(&full);
    full.version = 1;
    full.sync_mode = MERU_SYNC_NONE;
    meru_options *old = malloc(v1);
    CHECK(s && old);
    memcpy(old, &full, v1);
    CHECK_OK(meru_options_validate(old));
    /* Its fields count: create_if_missing = 0 refuses to create. (The
     * block is filled through memcpy: it is shorter than meru_options.) */
    full.create_if_missing = 0;
    memcpy(old, &full, v1);
    CHECK_RC(meru_open(dir, old, s, &db), MERU_NOT_FOUND);
    full.create_if_missing = 1;
    memcpy(old, &full, v1);
    CHECK_OK(meru_open(dir, old, s, &db));
    /* The fields it lacks took their defaults: no properties given, so
     * the table stores just the table-shaping ones. */
    char *v = NULL;
    CHECK_OK(meru_get_property(db, "merutable.l0.compression-codec", &v));
    CHECK_STR(v, "lz4_raw");
    meru_free(v);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    free(old);
    meru_schema_free(s);
}

/* The "iceberg-format-version" of meru_describe_json's text, or -1. */
static long long described_format(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    long long v = -1;
    if (j && json_is_integer(json_object_get(j, "iceberg-format-version")))
        v = json_integer_value(json_object_get(j, "iceberg-format-version"));
    json_decref(j);
    return v;
}

/* A caller of the version-3 header has no iceberg_format_version: its
 * table is created at the default, 3. A version-4 caller asking for 2
 * creates a v2 table; asking for 3 when it reopens that table changes
 * nothing (the metadata's own format-version wins, as stored properties
 * do, and meru_describe_json reports it). */
static void test_options_version_3_struct_and_format_version(void)
{
    const char *dir = meru_test_tmpdir("abi-v3");
    meru_schema *s = abi_schema();
    meru_db *db = NULL;
    char *json = NULL;
    size_t v3 = offsetof(meru_options, iceberg_format_version);
    meru_options full;
    meru_options_init(&full);
    CHECK_EQ_INT(full.iceberg_format_version, 3);
    full.version = 3;
    meru_options *old = malloc(v3);
    CHECK(s && old);
    memcpy(old, &full, v3);
    CHECK_OK(meru_open(dir, old, s, &db));
    CHECK_OK(meru_describe_json(db, &json));
    CHECK_EQ_INT(described_format(json), 3);
    meru_free(json);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    free(old);

    meru_options o = MERU_OPTIONS_INIT;
    o.iceberg_format_version = 2;
    const char *dir2 = meru_test_tmpdir("abi-v4"); /* may reuse dir's buffer */
    CHECK_OK(meru_open(dir2, &o, s, &db));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    o.iceberg_format_version = 3;
    CHECK_OK(meru_open(dir2, &o, s, &db));
    CHECK_OK(meru_describe_json(db, &json));
    CHECK_EQ_INT(described_format(json), 2);
    meru_free(json);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    o.iceberg_format_version = 1;
    CHECK_RC(meru_open(dir2, &o, s, &db), MERU_EINVAL);
    CHECK_ERRMSG("iceberg_format_version");
    meru_schema_free(s);
}

/* meru_options_init fills only the caller's version: a program built
 * against the version-7 header (whose meru_options_init was the function)
 * has its struct end at wal_salvage, and nothing past it is written. */
static void test_options_init_writes_only_the_callers_version(void)
{
    size_t v7 = offsetof(meru_options, number_page_bytes);
    unsigned char *blk = malloc(v7 + 16);
    CHECK(blk);
    memset(blk, 0xAA, v7 + 16);
    (meru_options_init)((meru_options *)(void *)blk); /* the symbol */
    for (size_t i = v7; i < v7 + 16; i++)
        CHECK_EQ_INT(blk[i], 0xAA);
    meru_options up;
    CHECK_EQ_INT(((meru_options *)(void *)blk)->version, 7);
    CHECK_OK(meru_options_upgrade((const meru_options *)(void *)blk, &up));
    CHECK_EQ_INT((int)up.number_page_bytes, 262144);

    memset(blk, 0xAA, v7 + 16);
    meru_options_init_sized((meru_options *)(void *)blk, v7);
    for (size_t i = v7; i < v7 + 16; i++)
        CHECK_EQ_INT(blk[i], 0xAA);
    CHECK_EQ_INT(((meru_options *)(void *)blk)->version, 7);
    free(blk);

    meru_options full; /* the macro: this header's whole struct */
    memset(&full, 0, sizeof full);
    meru_options_init(&full);
    CHECK_EQ_INT(full.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT((int)full.number_page_bytes, 262144);
    CHECK_EQ_INT(full.warm_cache_at_open, 1);
}

/* A caller of the version-8 header ends at number_page_bytes: it gets
 * warm_cache_at_open's default (1) whatever follows its block, and a
 * version-9 caller's 0 is read and validated. */
static void test_options_version_8_struct_and_warm_cache_at_open(void)
{
    size_t v8 = offsetof(meru_options, warm_cache_at_open);
    meru_options full, up;
    meru_options_init(&full);
    full.version = 8;
    unsigned char *blk = malloc(sizeof(meru_options));
    CHECK(blk);
    memset(blk, 0x55, sizeof(meru_options)); /* would read as 0x55555555 */
    memcpy(blk, &full, v8);
    CHECK_OK(meru_options_upgrade((const meru_options *)(void *)blk, &up));
    CHECK_EQ_INT(up.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT(up.warm_cache_at_open, 1);
    CHECK_OK(meru_options_validate((const meru_options *)(void *)blk));
    free(blk);

    meru_options_init(&full);
    full.warm_cache_at_open = 0;
    CHECK_OK(meru_options_upgrade(&full, &up));
    CHECK_EQ_INT(up.warm_cache_at_open, 0);
    full.warm_cache_at_open = 2;
    CHECK_EQ_INT(meru_options_validate(&full), MERU_EINVAL);
    CHECK_ERRMSG("warm_cache_at_open");
}

/* A caller of the version-6 header ends at string_page_bytes: it gets
 * wal_salvage's default (0) however its block is followed, and a caller
 * of a newer header has its wal_salvage read (and validated). */
static void test_options_version_6_struct_and_wal_salvage(void)
{
    size_t v6 = offsetof(meru_options, wal_salvage);
    meru_options full, up;
    meru_options_init(&full);
    CHECK_EQ_INT(full.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT(full.wal_salvage, 0);
    CHECK_EQ_INT((int)full.string_page_bytes, 2048);
    full.version = 6;
    full.string_page_bytes = 16384;
    /* a block holding exactly the version-6 fields, then bytes that would
     * read as wal_salvage = 0xAAAAAAAA if the library looked past it */
    unsigned char *blk = malloc(sizeof(meru_options));
    CHECK(blk);
    memset(blk, 0xAA, sizeof(meru_options));
    memcpy(blk, &full, v6);
    CHECK_OK(meru_options_upgrade((const meru_options *)(void *)blk, &up));
    CHECK_EQ_INT(up.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT((int)up.string_page_bytes, 16384);
    CHECK_EQ_INT(up.wal_salvage, 0);
    CHECK_OK(meru_options_validate((const meru_options *)(void *)blk));
    free(blk);

    meru_options o = MERU_OPTIONS_INIT;
    o.wal_salvage = 1;
    CHECK_OK(meru_options_upgrade(&o, &up));
    CHECK_EQ_INT(up.wal_salvage, 1);
    o.wal_salvage = 2;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("wal_salvage");
}

/* A caller of the version-7 header ends at wal_salvage: it gets
 * number_page_bytes's default however its block is followed. */
static void test_options_version_7_struct_and_number_pages(void)
{
    size_t v7 = offsetof(meru_options, number_page_bytes);
    meru_options full, up;
    meru_options_init(&full);
    CHECK_EQ_INT((int)full.number_page_bytes, 262144);
    full.version = 7;
    full.wal_salvage = 1;
    unsigned char *blk = malloc(sizeof(meru_options));
    CHECK(blk);
    memset(blk, 0xAA, sizeof(meru_options));
    memcpy(blk, &full, v7);
    CHECK_OK(meru_options_upgrade((const meru_options *)(void *)blk, &up));
    CHECK_EQ_INT(up.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT(up.wal_salvage, 1);
    CHECK_EQ_INT((int)up.number_page_bytes, 262144);
    CHECK_OK(meru_options_validate((const meru_options *)(void *)blk));
    free(blk);
}

static void test_unknown_struct_versions_are_refused(void)
{
    const char *dir = meru_test_tmpdir("abi-versions");
    meru_schema *s = abi_schema();
    meru_db *db = NULL;
    meru_row *r = NULL, *out = NULL;
    meru_iter *it = NULL;
    CHECK(s);
    meru_options o = MERU_OPTIONS_INIT;
    o.version = MERU_OPTIONS_VERSION + 1;
    CHECK_RC(meru_open(dir, &o, s, &db), MERU_EINVAL);
    CHECK_ERRMSG("version");
    o.version = 0;
    CHECK_RC(meru_open(dir, &o, s, &db), MERU_EINVAL);
    CHECK_OK(meru_open(dir, NULL, s, &db));
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    CHECK_OK(meru_row_set_int64(r, 0, 1));

    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    CHECK_EQ_INT(so.version, MERU_SCAN_OPTIONS_VERSION);
    so.version = 0;
    CHECK_RC(meru_scan(db, &so, &it), MERU_EINVAL);
    CHECK_ERRMSG("meru_scan_options");
    so.version = MERU_SCAN_OPTIONS_VERSION + 1;
    CHECK_RC(meru_scan(db, &so, &it), MERU_EINVAL);
    CHECK(it == NULL);

    meru_read_options ro = MERU_READ_OPTIONS_INIT;
    ro.version = 7;
    CHECK_RC(meru_get_ex(db, &ro, r, out), MERU_EINVAL);
    CHECK_ERRMSG("meru_read_options");
    meru_write_options wo;
    meru_write_options_init(&wo);
    CHECK_EQ_INT(wo.version, MERU_WRITE_OPTIONS_VERSION);
    wo.version = 0;
    CHECK_RC(meru_put_ex(db, &wo, r, NULL), MERU_EINVAL);
    CHECK_ERRMSG("meru_write_options");
    CHECK_RC(meru_get(db, NULL, r, out), MERU_NOT_FOUND); /* nothing written */

    /* A zeroed column definition has always been allowed: version 0 is
     * read as 1; a newer version is refused. */
    meru_schema *s2 = NULL;
    CHECK_OK(meru_schema_new(&s2, "defs"));
    meru_column_def d;
    memset(&d, 0, sizeof d);
    d.name = "id";
    d.type = MERU_TYPE_INT64;
    CHECK_OK(meru_schema_add_column_def(s2, &d));
    meru_column_def d2 = MERU_COLUMN_DEF_INIT;
    CHECK_EQ_INT(d2.version, MERU_COLUMN_DEF_VERSION);
    CHECK_EQ_INT(d2.nullable, 1);
    d2.name = "x";
    d2.type = MERU_TYPE_INT32;
    d2.version = MERU_COLUMN_DEF_VERSION + 1;
    CHECK_RC(meru_schema_add_column_def(s2, &d2), MERU_EINVAL);
    CHECK_EQ_INT(meru_schema_column_count(s2), 1);
    meru_schema_free(s2);

    meru_row_free(r);
    meru_row_free(out);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* meru_stats_get passes the caller's size: a smaller struct than any
 * version is refused, a larger one (a newer header) gets zeros past the
 * fields this library knows. */
static void test_stats_are_filled_by_size(void)
{
    const char *dir = meru_test_tmpdir("abi-stats");
    meru_schema *s = abi_schema();
    meru_db *db = NULL;
    meru_row *r = NULL;
    CHECK(s);
    CHECK_OK(meru_open(dir, NULL, s, &db));
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    CHECK_OK(meru_row_set_int64(r, 0, 1));
    CHECK_OK(meru_put(db, r, NULL));

    meru_stats *exact = malloc(sizeof *exact);
    CHECK(exact);
    CHECK_OK(meru_stats_get(db, exact)); /* the macro: sizeof *exact */
    CHECK_EQ_U64(exact->puts, 1);
    CHECK_EQ_U64(exact->last_sequence, 1);
    free(exact);

    /* The first layout ended at `closed`: a caller built against it gets
     * its fields and nothing past them (a block of exactly that size, so
     * AddressSanitizer sees a write past it); one byte less is refused. */
    size_t v1 = offsetof(meru_stats, view_lookups);
    unsigned char *first = malloc(v1);
    CHECK(first);
    CHECK_OK(meru_stats_get_sized(db, (meru_stats *)(void *)first, v1));
    uint64_t puts; /* copied out: the block is smaller than a meru_stats */
    memcpy(&puts, first + offsetof(meru_stats, puts), sizeof puts);
    CHECK_EQ_U64(puts, 1);
    free(first);
    meru_stats small;
    CHECK_RC(meru_stats_get_sized(db, &small, v1 - 1), MERU_EINVAL);

    size_t big = sizeof(meru_stats) + 64;
    unsigned char *buf = malloc(big);
    CHECK(buf);
    memset(buf, 0xAA, big);
    CHECK_OK(meru_stats_get_sized(db, (meru_stats *)(void *)buf, big));
    meru_stats got;
    memcpy(&got, buf, sizeof got);
    CHECK_EQ_U64(got.puts, 1);
    for (size_t i = sizeof(meru_stats); i < big; i++)
        CHECK_EQ_INT(buf[i], 0);
    free(buf);

    /* The exported function (for FFI callers) fills this header's struct. */
    meru_stats viafn;
    CHECK_OK((meru_stats_get)(db, &viafn));
    CHECK_EQ_U64(viafn.puts, 1);

    meru_row_free(r);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_options_version_1_struct_is_read_to_its_end);
    MERU_TEST_RUN(test_options_version_3_struct_and_format_version);
    MERU_TEST_RUN(test_options_version_6_struct_and_wal_salvage);
    MERU_TEST_RUN(test_options_init_writes_only_the_callers_version);
    MERU_TEST_RUN(test_options_version_7_struct_and_number_pages);
    MERU_TEST_RUN(test_options_version_8_struct_and_warm_cache_at_open);
    MERU_TEST_RUN(test_unknown_struct_versions_are_refused);
    MERU_TEST_RUN(test_stats_are_filled_by_size);
    return meru_test_finish();
}
