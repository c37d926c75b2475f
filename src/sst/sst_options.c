/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_options.c — the Parquet writer options of an SST of a given level,
 * derived from the table options (SPEC §6: L0 row-tuned, L1+
 * column-tuned).
 */
#include <string.h>

#include "sst/sst_internal.h"

static pq_codec codec_of(meru_compression c)
{
    switch (c) {
    case MERU_COMPRESSION_SNAPPY:
        return PQ_CODEC_SNAPPY;
    case MERU_COMPRESSION_GZIP:
        return PQ_CODEC_GZIP;
    case MERU_COMPRESSION_ZSTD:
        return PQ_CODEC_ZSTD;
    case MERU_COMPRESSION_LZ4_RAW:
        return PQ_CODEC_LZ4_RAW;
    case MERU_COMPRESSION_NONE:
    default:
        return PQ_CODEC_UNCOMPRESSED;
    }
}

void meru_sst_options_for_level(meru_sst_options *out, int level,
                                const meru_options *o)
{
    meru_options d;
    if (!o) {
        meru_options_init(&d);
        o = &d;
    }
    memset(out, 0, sizeof *out);
    out->level = level < 0 ? 0 : level;
    out->batch_rows = 4096;
    meru_compression comp;
    if (out->level == 0) {
        pq_writer_options_row(&out->pq);
        out->pq.page_size = o->l0_page_bytes;
        comp = o->l0_compression;
    } else {
        pq_writer_options_column(&out->pq);
        out->pq.page_size = o->page_bytes;
        out->pq.page_rows = o->page_rows;
        out->pq.row_group_bytes = o->row_group_bytes;
        out->string_page_bytes = o->string_page_bytes;
        out->number_page_bytes = o->number_page_bytes;
        comp = o->compression;
    }
    out->pq.codec = codec_of(comp);
    /* zstd_level is the one codec level the table exposes; it applies to
     * L0 too when L0 is compressed with ZSTD. */
    out->pq.codec_level = out->pq.codec == PQ_CODEC_ZSTD ? o->zstd_level : 0;
}
