/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row.h — internal view of a row: one meru_value per schema column.
 */
#ifndef MERU_TYPES_ROW_H
#define MERU_TYPES_ROW_H

#include "types/schema.h"

struct meru_row {
    const meru_schema *schema;
    meru_value *vals; /* schema->ncols entries */
    /* Owned copies of variable-length values, one slot per column so that
     * setting a column again reuses or frees only its own storage. */
    uint8_t **storage;
    uint32_t *storage_cap;
    size_t ncols; /* schema->ncols when the row was made: the schema may
                     gain columns later, the arrays above do not */
};

/* The value a write stores for column `col`: the set value, else the write
 * default, else null. Never returns UNSET. */
const meru_value *meru_row_effective(const meru_row *row, size_t col,
                                     meru_value *tmp);

/* A value of column `col` as the literal / row-JSON parsers produce it,
 * copied into the row (bytes included); used by the JSON setters. */
int meru_row_put_value(meru_row *row, size_t col, const meru_value *v);

#endif
