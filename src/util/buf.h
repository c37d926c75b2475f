/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h — a growable byte buffer (used by encoders: keys, Thrift, pages).
 *
 * Appends never fail silently: they return MERU_ENOMEM (with the error set)
 * and leave the buffer as it was. A zeroed meru_buf is a valid empty buffer.
 */
#ifndef MERU_UTIL_BUF_H
#define MERU_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct meru_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} meru_buf;

/* Makes room for `extra` more bytes. */
int meru_buf_reserve(meru_buf *b, size_t extra);
int meru_buf_append(meru_buf *b, const void *p, size_t n);
int meru_buf_push(meru_buf *b, uint8_t byte);
/* Appends `n` zero bytes and returns a pointer to them in *out. */
int meru_buf_extend(meru_buf *b, size_t n, uint8_t **out);
static inline void meru_buf_reset(meru_buf *b) { b->len = 0; }
void meru_buf_free(meru_buf *b);
/* Hands the storage to the caller (free with free()); the buffer is emptied. */
uint8_t *meru_buf_detach(meru_buf *b, size_t *len);

#endif
