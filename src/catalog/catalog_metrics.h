/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_metrics.h — column metrics of a data file for its manifest entry,
 * read from the file's Parquet footer (catalog_metrics.c says why and what
 * they mean). Internal to src/catalog/ and its tests.
 */
#ifndef MERU_CATALOG_METRICS_H
#define MERU_CATALOG_METRICS_H

#include <stddef.h>

#include "iceberg/manifest.h"
#include "types/schema.h"
#include "util/buf.h"
#include "util/fs.h"

typedef struct meru_catalog_metrics {
    meru_ice_count *values; /* field id -> rows (nulls included) */
    size_t n_values;
    meru_ice_count *nulls;
    size_t n_nulls;
    meru_ice_bound *lower, *upper; /* bytes point into `bytes` */
    size_t n_lower, n_upper;
    meru_buf bytes;
} meru_catalog_metrics;

/* Reads the footer of the Parquet file at `path` and fills *m for the user
 * columns of `schema` (matched by field id). Free with
 * meru_catalog_metrics_free (also after a failure). */
int meru_catalog_data_metrics(meru_fs *fs, const char *path,
                              const meru_schema *schema,
                              meru_catalog_metrics *m);
void meru_catalog_metrics_free(meru_catalog_metrics *m);

#endif
