/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.h — the in-memory form of one typed value, shared by rows, the key
 * codec, the memtable and the Parquet bridge.
 *
 * A meru_value never owns memory: variable-length bytes point into storage
 * owned by whoever holds the value (a row, an arena, a decoded page). The
 * physical representation per type:
 *   BOOLEAN                  u.b (0 or 1)
 *   INT32, DATE              u.i32
 *   INT64, TIMESTAMP(TZ)     u.i64
 *   FLOAT                    u.f32
 *   DOUBLE                   u.f64
 *   STRING, BINARY, FIXED    u.bytes {ptr, len}
 *   DECIMAL                  u.dec (128-bit two's complement unscaled value)
 */
#ifndef MERU_TYPES_VALUE_H
#define MERU_TYPES_VALUE_H

#include <stdint.h>

#include "merutable.h"

typedef enum meru_value_state {
    MERU_VALUE_UNSET = 0,
    MERU_VALUE_NULL = 1,
    MERU_VALUE_PRESENT = 2
} meru_value_state;

typedef struct meru_i128 {
    int64_t hi;
    uint64_t lo;
} meru_i128;

typedef struct meru_value {
    uint8_t state; /* meru_value_state */
    union {
        int b;
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        struct {
            const uint8_t *ptr;
            uint32_t len;
        } bytes;
        meru_i128 dec;
    } u;
} meru_value;

#endif
