/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.c — defaults and validation of meru_options.
 *
 * Defaults live in one place (MERU_OPTIONS_INIT in merutable.h) so the
 * header documents them and meru_options_init() cannot drift from it.
 * Validation names the offending field; the engine validates once at open.
 *
 * Versions (the ABI rule of merutable.h): a caller built against an older
 * header passes a shorter struct. meru_options_upgrade() copies exactly the
 * fields of the caller's version and takes the defaults for the rest, so
 * nothing past the caller's struct is ever read; everything else works on
 * that full copy.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/options.h"
#include "util/error.h"

/* Bytes of meru_options that each version has. */
static size_t options_size(unsigned version)
{
    switch (version) {
    case 1:
        return offsetof(meru_options, properties);
    case 2:
        return offsetof(meru_options, iceberg_view);
    case 3:
        return offsetof(meru_options, iceberg_format_version);
    case 4:
        return offsetof(meru_options, changes_retention_seconds);
    case 5:
        return offsetof(meru_options, string_page_bytes);
    case 6:
        return offsetof(meru_options, wal_salvage);
    case 7:
        return offsetof(meru_options, number_page_bytes);
    case 8:
        return offsetof(meru_options, warm_cache_at_open);
    case 9:
        return sizeof(meru_options);
    default:
        return 0;
    }
}

void meru_options_init_sized(meru_options *opts, size_t size)
{
    static const meru_options defaults = MERU_OPTIONS_INIT;
    if (!opts)
        return;
    /* The newest version whose fields fit the caller's struct: a caller
     * built against an older header gets its own layout, never a write
     * past it. */
    for (unsigned v = MERU_OPTIONS_VERSION; v >= 1; v--) {
        size_t n = options_size(v);
        if (n <= size) {
            memcpy(opts, &defaults, n);
            opts->version = v;
            return;
        }
    }
}

/* The exported symbol, for callers built before the header's macro (their
 * headers were version 7 or older) and for bindings through an FFI: the
 * version-7 fields, which every such caller's struct holds (a version
 * 6-or-older caller's struct is shorter still: those headers had no
 * other entry point, and are not told apart here). */
void(meru_options_init)(meru_options *opts)
{
    meru_options_init_sized(opts, options_size(7));
}

int meru_options_upgrade(const meru_options *in, meru_options *out)
{
    if (!in)
        return meru_err(MERU_EINVAL, "options: NULL");
    size_t n = options_size(in->version);
    if (!n)
        return meru_err(MERU_EINVAL,
                        "options: version %u is not supported (1..%u: "
                        "initialise with meru_options_init())",
                        in->version, MERU_OPTIONS_VERSION);
    meru_options_init(out);
    memcpy(out, in, n);
    out->version = MERU_OPTIONS_VERSION;
    return MERU_OK;
}

int meru_struct_version(unsigned version, unsigned current, const char *what)
{
    if (version >= 1 && version <= current)
        return MERU_OK;
    return meru_err(MERU_EINVAL,
                    "%s: version %u is not supported (1..%u: initialise it "
                    "with its _INIT macro or _init function)",
                    what, version, current);
}

void meru_options_cache_split(const meru_options *o, size_t *page_bytes,
                              size_t *row_bytes)
{
    if (o->row_cache_bytes == MERU_ROW_CACHE_AUTO) {
        *row_bytes = o->cache_bytes / MERU_ROW_CACHE_AUTO_DIVISOR;
        *page_bytes = o->cache_bytes - *row_bytes;
    } else {
        *page_bytes = o->cache_bytes;
        *row_bytes = o->row_cache_bytes;
    }
}

void meru_read_options_init(meru_read_options *o)
{
    static const meru_read_options d = MERU_READ_OPTIONS_INIT;
    if (o)
        *o = d;
}

void meru_write_options_init(meru_write_options *o)
{
    static const meru_write_options d = MERU_WRITE_OPTIONS_INIT;
    if (o)
        *o = d;
}

static int bad(const char *field, const char *rule)
{
    return meru_err(MERU_EINVAL, "options: %s %s", field, rule);
}

static int valid_compression(meru_compression c)
{
    return c == MERU_COMPRESSION_NONE || c == MERU_COMPRESSION_SNAPPY ||
           c == MERU_COMPRESSION_GZIP || c == MERU_COMPRESSION_ZSTD ||
           c == MERU_COMPRESSION_LZ4_RAW;
}

int meru_options_validate(const meru_options *given)
{
    meru_options full;
    int rc = meru_options_upgrade(given, &full);
    if (rc)
        return rc;
    const meru_options *o = &full;
    if (o->sync_mode != MERU_SYNC_NONE && o->sync_mode != MERU_SYNC_GROUP &&
        o->sync_mode != MERU_SYNC_EVERY)
        return bad("sync_mode", "must be MERU_SYNC_NONE, _GROUP or _EVERY");
    if (o->memtable_bytes < ((size_t)64 << 10))
        return bad("memtable_bytes", "must be at least 64 KiB");
    if (o->memtable_bytes > ((size_t)16 << 30))
        return bad("memtable_bytes", "must be at most 16 GiB");
    if (o->max_immutable_memtables < 1 || o->max_immutable_memtables > 64)
        return bad("max_immutable_memtables", "must be in 1..64");
    if (o->l0_compaction_trigger < 1)
        return bad("l0_compaction_trigger", "must be at least 1");
    if (o->l0_slowdown_trigger < o->l0_compaction_trigger)
        return bad("l0_slowdown_trigger",
                   "must be >= l0_compaction_trigger");
    if (o->l0_stop_trigger < o->l0_slowdown_trigger)
        return bad("l0_stop_trigger", "must be >= l0_slowdown_trigger");
    if (o->l1_target_bytes < ((uint64_t)1 << 20))
        return bad("l1_target_bytes", "must be at least 1 MiB");
    if (o->level_multiplier < 2 || o->level_multiplier > 100)
        return bad("level_multiplier", "must be in 2..100");
    if (o->target_file_bytes < ((uint64_t)64 << 10))
        return bad("target_file_bytes", "must be at least 64 KiB");
    if (o->background_threads < 1 || o->background_threads > 64)
        return bad("background_threads", "must be in 1..64");
    if (!valid_compression(o->l0_compression))
        return bad("l0_compression", "is not a meru_compression value");
    if (!valid_compression(o->compression))
        return bad("compression", "is not a meru_compression value");
    if (o->zstd_level < -7 || o->zstd_level > 22)
        return bad("zstd_level", "must be in -7..22");
    if (o->l0_page_bytes < 1024 || o->l0_page_bytes > (16u << 20))
        return bad("l0_page_bytes", "must be in 1 KiB..16 MiB");
    if (o->page_bytes < 1024 || o->page_bytes > (16u << 20))
        return bad("page_bytes", "must be in 1 KiB..16 MiB");
    if (o->page_rows < 1 || o->page_rows > (1u << 20))
        return bad("page_rows", "must be in 1..1048576");
    if (o->string_page_bytes < 1024 || o->string_page_bytes > (16u << 20))
        return bad("string_page_bytes", "must be in 1 KiB..16 MiB");
    if (o->number_page_bytes < 1024 || o->number_page_bytes > (16u << 20))
        return bad("number_page_bytes", "must be in 1 KiB..16 MiB");
    if (o->row_group_bytes < o->page_bytes)
        return bad("row_group_bytes", "must be >= page_bytes");
    if (o->max_compaction_bytes < ((uint64_t)64 << 10))
        return bad("max_compaction_bytes", "must be at least 64 KiB");
    if (o->mmap_reads != 0 && o->mmap_reads != 1)
        return bad("mmap_reads", "must be 0 or 1");
    if (o->warm_cache_at_open != 0 && o->warm_cache_at_open != 1)
        return bad("warm_cache_at_open", "must be 0 or 1");
    if (o->iceberg_view != MERU_ICEBERG_VIEW_OFF &&
        o->iceberg_view != MERU_ICEBERG_VIEW_CONTINUOUS)
        return bad("iceberg_view", "must be MERU_ICEBERG_VIEW_OFF or "
                                   "MERU_ICEBERG_VIEW_CONTINUOUS");
    if (o->iceberg_format_version != 2 && o->iceberg_format_version != 3)
        return bad("iceberg_format_version", "must be 2 or 3");
    if (o->keep_metadata_versions < 1)
        return bad("keep_metadata_versions", "must be at least 1");
    if (o->wal_salvage != 0 && o->wal_salvage != 1)
        return bad("wal_salvage", "must be 0 or 1");
    return MERU_OK;
}
