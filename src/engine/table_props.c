/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table_props.c — the table-shaping properties and the rules for the keys a
 * table stores (table_props.h).
 *
 * Which options are table-shaping: the ones that decide how a data file
 * looks (codec and its level, page and row-group sizes, page row limit,
 * file size), because files written by one opener are read and compacted
 * by every other. Runtime knobs (cache, threads, sync mode, memtable size,
 * triggers, mmap) stay per open: two openers may differ there harmlessly.
 * Iceberg's own key is used wherever Iceberg has one, so Iceberg tools
 * show and understand them; the L0-only options have no Iceberg
 * counterpart (Iceberg has no levels) and use the engine's "merutable."
 * prefix.
 *
 * Values are text, as Iceberg properties are: decimal integers, and codec
 * names as Iceberg writes them ("zstd", "snappy", "gzip", "lz4_raw",
 * "uncompressed"; any case).
 */
#include "engine/table_props.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/suggest.h"

#define KiB 1024LL
#define MiB (1024LL * 1024LL)

static const meru_prop_def defs[] = {
    {"write.parquet.compression-codec", MERU_PROP_CODEC,
     offsetof(meru_options, compression), 0, 0,
     "codec of L1+ files: zstd, snappy, gzip, lz4_raw or uncompressed"},
    {"write.parquet.compression-level", MERU_PROP_INT,
     offsetof(meru_options, zstd_level), -7, 22,
     "zstd level, wherever zstd is the codec (-7..22)"},
    {"write.parquet.page-size-bytes", MERU_PROP_U32,
     offsetof(meru_options, page_bytes), KiB, 16 * MiB,
     "bytes of values per data page in L1+ files (key and other columns; "
     "string and number value columns: the merutable.* sizes)"},
    {"write.parquet.page-row-limit", MERU_PROP_U32,
     offsetof(meru_options, page_rows), 1, 1048576,
     "rows per data page in L1+ files at most"},
    {"merutable.string-page-size-bytes", MERU_PROP_U32,
     offsetof(meru_options, string_page_bytes), KiB, 16 * MiB,
     "bytes of values per data page of string and binary value columns in "
     "L1+ files"},
    {"merutable.number-page-size-bytes", MERU_PROP_U32,
     offsetof(meru_options, number_page_bytes), KiB, 16 * MiB,
     "bytes of values per data page of number value columns (integers, "
     "floats, dates, timestamps, decimals stored as integers) in L1+ files"},
    {"write.parquet.row-group-size-bytes", MERU_PROP_U64,
     offsetof(meru_options, row_group_bytes), KiB, INT64_MAX,
     "bytes per row group in L1+ files"},
    {"write.target-file-size-bytes", MERU_PROP_U64,
     offsetof(meru_options, target_file_bytes), 64 * KiB, INT64_MAX,
     "size at which compaction starts a new L1+ file"},
    {"merutable.l0.compression-codec", MERU_PROP_CODEC,
     offsetof(meru_options, l0_compression), 0, 0,
     "codec of L0 (flushed) files: lz4_raw, zstd, snappy, gzip or "
     "uncompressed"},
    {"merutable.l0.page-size-bytes", MERU_PROP_U32,
     offsetof(meru_options, l0_page_bytes), KiB, 16 * MiB,
     "bytes per data page in L0 files"},
    {"merutable.changes.retention-seconds", MERU_PROP_U64,
     offsetof(meru_options, changes_retention_seconds), 0, INT64_MAX / 1000,
     "seconds the change feed keeps flushed changes (0 = feed off)"},
    {"merutable.changes.retention-bytes", MERU_PROP_U64,
     offsetof(meru_options, changes_retention_bytes), 0, INT64_MAX,
     "bytes of changelog files the change feed keeps at most (0 = "
     "unlimited)"},
};

#define NDEFS (sizeof defs / sizeof defs[0])

/* Iceberg's reserved table properties (TableProperties.RESERVED_PROPERTIES):
 * facts of the metadata itself, never stored as properties. */
static const char *const iceberg_reserved[] = {
    "format-version",           "uuid",
    "snapshot-count",           "current-snapshot-id",
    "current-snapshot-summary", "current-snapshot-timestamp-ms",
    "current-schema",           "default-partition-spec",
    "default-sort-order",
};

static const struct {
    meru_compression c;
    const char *name;
} codecs[] = {
    {MERU_COMPRESSION_NONE, "uncompressed"},
    {MERU_COMPRESSION_SNAPPY, "snappy"},
    {MERU_COMPRESSION_GZIP, "gzip"},
    {MERU_COMPRESSION_ZSTD, "zstd"},
    {MERU_COMPRESSION_LZ4_RAW, "lz4_raw"},
};

const meru_prop_def *meru_prop_defs(size_t *n)
{
    *n = NDEFS;
    return defs;
}

const meru_prop_def *meru_prop_find(const char *key)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (!strcmp(defs[i].key, key))
            return &defs[i];
    return NULL;
}

static int parse_int(const meru_prop_def *d, const char *v, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < d->min || x > d->max)
        return meru_err(MERU_EINVAL,
                        "table property %s: '%.64s' is not an integer in "
                        "%lld..%lld",
                        d->key, v, d->min, d->max);
    *out = x;
    return MERU_OK;
}

int meru_prop_parse(const meru_prop_def *d, const char *value, meru_options *o)
{
    char *field = o ? (char *)o + d->offset : NULL;
    long long x = 0;
    int rc;
    if (!value)
        return meru_err(MERU_EINVAL, "table property %s: no value", d->key);
    switch (d->kind) {
    case MERU_PROP_CODEC:
        for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
            if (strcasecmp(value, codecs[i].name))
                continue;
            if (field)
                memcpy(field, &codecs[i].c, sizeof codecs[i].c);
            return MERU_OK;
        }
        return meru_err(MERU_EINVAL,
                        "table property %s: unknown codec '%.64s' (zstd, "
                        "snappy, gzip, lz4_raw or uncompressed; Iceberg's "
                        "\"lz4\" is the Hadoop framing, which merutable "
                        "does not write)",
                        d->key, value);
    case MERU_PROP_INT: {
        if ((rc = parse_int(d, value, &x)))
            return rc;
        int v = (int)x;
        if (field)
            memcpy(field, &v, sizeof v);
        return MERU_OK;
    }
    case MERU_PROP_U32: {
        if ((rc = parse_int(d, value, &x)))
            return rc;
        uint32_t v = (uint32_t)x;
        if (field)
            memcpy(field, &v, sizeof v);
        return MERU_OK;
    }
    case MERU_PROP_U64: {
        if ((rc = parse_int(d, value, &x)))
            return rc;
        uint64_t v = (uint64_t)x;
        if (field)
            memcpy(field, &v, sizeof v);
        return MERU_OK;
    }
    }
    return meru_err(MERU_EINTERNAL, "table property %s: bad kind", d->key);
}

static size_t field_size(meru_prop_kind k)
{
    switch (k) {
    case MERU_PROP_CODEC:
        return sizeof(meru_compression);
    case MERU_PROP_INT:
        return sizeof(int);
    case MERU_PROP_U32:
        return sizeof(uint32_t);
    case MERU_PROP_U64:
        return sizeof(uint64_t);
    }
    return 0;
}

void meru_prop_copy_field(const meru_prop_def *d, meru_options *dst,
                          const meru_options *src)
{
    memcpy((char *)dst + d->offset, (const char *)src + d->offset,
           field_size(d->kind));
}

void meru_prop_format(const meru_prop_def *d, const meru_options *o, char *buf,
                      size_t cap)
{
    const char *field = (const char *)o + d->offset;
    switch (d->kind) {
    case MERU_PROP_CODEC: {
        meru_compression c;
        memcpy(&c, field, sizeof c);
        for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
            if (codecs[i].c == c) {
                snprintf(buf, cap, "%s", codecs[i].name);
                return;
            }
        snprintf(buf, cap, "%d", (int)c);
        return;
    }
    case MERU_PROP_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, cap, "%d", v);
        return;
    }
    case MERU_PROP_U32: {
        uint32_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, cap, "%u", (unsigned)v);
        return;
    }
    case MERU_PROP_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, cap, "%llu", (unsigned long long)v);
        return;
    }
    }
    snprintf(buf, cap, "?");
}

/* An unknown key of a namespace merutable implements: name the closest
 * known key when there is one. */
static int unknown_key(const char *key)
{
    const char *names[NDEFS];
    for (size_t i = 0; i < NDEFS; i++)
        names[i] = defs[i].key;
    const char *near = meru_suggest(key, names, NDEFS);
    if (near)
        return meru_err(MERU_EINVAL,
                        "table property '%.128s' is not one merutable "
                        "knows: did you mean '%s'?",
                        key, near);
    return meru_err(MERU_EINVAL,
                    "table property '%.128s' is not one merutable knows or "
                    "honours (its write.* and merutable.* properties: "
                    "`meru help set-property` lists them)",
                    key);
}

int meru_prop_check(const char *key, const char *value, meru_options *o)
{
    if (!key || !*key || strlen(key) > 4096 || (value && strlen(value) > 4096))
        return meru_err(MERU_EINVAL, "table property: the key must be 1..4096 "
                                     "bytes, the value at most 4096");
    if (meru_catalog_reserved_property(key))
        return meru_err(MERU_EINVAL,
                        "table property '%.128s' is written by the engine "
                        "itself",
                        key);
    for (size_t i = 0; i < sizeof iceberg_reserved / sizeof *iceberg_reserved;
         i++)
        if (!strcmp(key, iceberg_reserved[i]))
            return meru_err(MERU_EINVAL,
                            "table property '%s' is reserved by Iceberg (a "
                            "fact of the metadata, not a property)",
                            key);
    const meru_prop_def *d = meru_prop_find(key);
    if (!d) {
        if (!strncmp(key, "write.", 6) || !strncmp(key, "merutable.", 10))
            return unknown_key(key);
        return MERU_OK; /* a free-form property */
    }
    if (!value)
        return MERU_OK;
    int rc = meru_prop_parse(d, value, o);
    if (rc == MERU_OK && o && (rc = meru_options_validate(o)))
        rc = meru_err_wrap(MERU_EINVAL, "table property %s = %.64s", key,
                           value);
    return rc;
}

int meru_prop_apply_stored(const meru_catalog *cat, meru_options *o)
{
    for (size_t i = 0; i < NDEFS; i++) {
        const char *v = meru_catalog_property(cat, defs[i].key);
        if (!v)
            continue;
        int rc = meru_prop_parse(&defs[i], v, o);
        if (rc)
            return meru_err_wrap(MERU_ECORRUPT, "the table's metadata");
    }
    o->iceberg_format_version = meru_catalog_iceberg_format_version(cat);
    int rc = meru_options_validate(o);
    if (rc)
        return meru_err_wrap(MERU_ECORRUPT,
                             "the table's stored properties give invalid "
                             "options");
    return MERU_OK;
}

void meru_prop_list_free(meru_catalog_kv *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].key);
        free(list[i].value);
    }
    free(list);
}

static int push(meru_catalog_kv *list, size_t *n, const char *k, const char *v)
{
    list[*n].key = strdup(k);
    list[*n].value = strdup(v);
    if (!list[*n].key || !list[*n].value) {
        free(list[*n].key);
        free(list[*n].value);
        return meru_err(MERU_ENOMEM, "out of memory (table properties)");
    }
    (*n)++;
    return MERU_OK;
}

int meru_prop_list_for_create(const meru_options *o, meru_catalog_kv **out,
                              size_t *n)
{
    size_t extra = 0, cnt = 0;
    char buf[32];
    int rc = MERU_OK;
    for (const char *const *p = o->properties; p && p[0] && p[1]; p += 2)
        extra++;
    meru_catalog_kv *list = calloc(NDEFS + extra + 1, sizeof *list);
    *out = NULL;
    *n = 0;
    if (!list)
        return meru_err(MERU_ENOMEM, "out of memory (table properties)");
    for (size_t i = 0; rc == MERU_OK && i < NDEFS; i++) {
        meru_prop_format(&defs[i], o, buf, sizeof buf);
        rc = push(list, &cnt, defs[i].key, buf);
    }
    for (const char *const *p = o->properties; rc == MERU_OK && p && p[0] && p[1];
         p += 2) {
        if (meru_prop_find(p[0]))
            continue; /* already there, with the value it set */
        bool dup = false;
        for (size_t i = NDEFS; i < cnt && !dup; i++)
            dup = !strcmp(list[i].key, p[0]);
        if (dup) { /* the last one given wins */
            for (size_t i = NDEFS; i < cnt; i++)
                if (!strcmp(list[i].key, p[0])) {
                    char *v = strdup(p[1]);
                    if (!v) {
                        rc = meru_err(MERU_ENOMEM, "out of memory");
                        break;
                    }
                    free(list[i].value);
                    list[i].value = v;
                }
            continue;
        }
        rc = push(list, &cnt, p[0], p[1]);
    }
    if (rc) {
        meru_prop_list_free(list, cnt);
        return rc;
    }
    *out = list;
    *n = cnt;
    return MERU_OK;
}
