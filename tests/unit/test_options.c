/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_options.c — defaults match the header, validation names the field.
 */
#include "test.h"

static void test_options_init_matches_documented_defaults(void)
{
    meru_options o;
    memset(&o, 0xAB, sizeof o);
    meru_options_init(&o);
    CHECK_EQ_INT(o.version, MERU_OPTIONS_VERSION);
    CHECK_EQ_INT(o.create_if_missing, 1);
    CHECK_EQ_INT(o.error_if_exists, 0);
    CHECK_EQ_INT(o.read_only, 0);
    CHECK_EQ_INT(o.sync_mode, MERU_SYNC_GROUP);
    CHECK_EQ_U64(o.memtable_bytes, 64u << 20);
    CHECK_EQ_INT(o.max_immutable_memtables, 2);
    CHECK_EQ_INT(o.l0_compaction_trigger, 4);
    CHECK_EQ_INT(o.l0_slowdown_trigger, 12);
    CHECK_EQ_INT(o.l0_stop_trigger, 20);
    CHECK_EQ_U64(o.l1_target_bytes, 256u << 20);
    CHECK_EQ_INT(o.level_multiplier, 8);
    CHECK_EQ_U64(o.target_file_bytes, 64u << 20);
    CHECK_EQ_INT(o.background_threads, 2);
    CHECK_EQ_U64(o.cache_bytes, 128u << 20);
    CHECK_EQ_U64(o.row_cache_bytes, MERU_ROW_CACHE_AUTO);
    CHECK_EQ_INT(o.l0_compression, MERU_COMPRESSION_LZ4_RAW);
    CHECK_EQ_INT(o.compression, MERU_COMPRESSION_ZSTD);
    CHECK_EQ_INT(o.zstd_level, 3);
    CHECK_EQ_INT(o.l0_page_bytes, 8192);
    CHECK_EQ_INT(o.page_bytes, 65536);
    CHECK_EQ_INT(o.page_rows, 20000);
    CHECK_EQ_INT(o.string_page_bytes, 2048);
    CHECK_EQ_INT(o.number_page_bytes, 262144);
    CHECK_EQ_U64(o.row_group_bytes, 8u << 20);
    CHECK_EQ_INT(o.keep_metadata_versions, 16);
    CHECK(o.properties == NULL);
    CHECK_EQ_INT(o.gc_grace_seconds, 0);
    CHECK_EQ_U64(o.max_compaction_bytes, (uint64_t)1 << 30);
    CHECK_OK(meru_options_validate(&o));
    meru_options s = MERU_OPTIONS_INIT;
    CHECK_EQ_U64(s.memtable_bytes, o.memtable_bytes);
    CHECK_EQ_INT(s.gc_grace_seconds, o.gc_grace_seconds);
    CHECK_EQ_U64(s.row_cache_bytes, o.row_cache_bytes);
}

static void test_options_validate_names_the_bad_field(void)
{
    meru_options o;
    meru_options_init(&o);
    o.l0_stop_trigger = o.l0_slowdown_trigger - 1;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("l0_stop_trigger");

    meru_options_init(&o);
    o.memtable_bytes = 1000;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("memtable_bytes");

    meru_options_init(&o);
    o.compression = (meru_compression)42;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("compression");

    meru_options_init(&o);
    o.version = 99;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("meru_options_init");
    o.version = 0;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);

    meru_options_init(&o);
    o.level_multiplier = 1;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("level_multiplier");

    meru_options_init(&o);
    o.string_page_bytes = 512;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("string_page_bytes");
    meru_options_init(&o);
    o.number_page_bytes = 512;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("number_page_bytes");
    o.number_page_bytes = (16u << 20) + 1;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("number_page_bytes");
    meru_options_init(&o);
    o.page_rows = 0;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("page_rows");

    CHECK_RC(meru_options_validate(NULL), MERU_EINVAL);
}

static void test_errors_have_stable_names_and_thread_messages(void)
{
    CHECK_STR(meru_strerror(MERU_OK), "ok");
    CHECK_STR(meru_strerror(MERU_NOT_FOUND), "not found");
    CHECK_STR(meru_strerror(MERU_ELOCKED), "table is locked by another writer");
    CHECK_STR(meru_strerror(12345), "unknown error");
    for (int c = MERU_OK; c >= MERU_EINTERNAL; c--)
        CHECK(strcmp(meru_strerror(c), "unknown error") != 0);
    CHECK_STR(meru_version(), MERU_VERSION_STRING);
    CHECK_EQ_INT(meru_version_number(), MERU_VERSION_NUMBER);
    meru_options o;
    meru_options_init(&o);
    o.page_bytes = 1;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_EQ_INT(meru_errcode(), MERU_EINVAL);
    meru_free(NULL);
}

int main(void)
{
    MERU_TEST_RUN(test_options_init_matches_documented_defaults);
    MERU_TEST_RUN(test_options_validate_names_the_bad_field);
    MERU_TEST_RUN(test_errors_have_stable_names_and_thread_messages);
    return meru_test_finish();
}
