/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_sink.c — pq_sink implementations over a POSIX fd, a stdio stream
 * and a growable memory buffer (see pq.h). The engine brings its own sink
 * over its VFS; these serve the CLI, tests and benchmarks.
 */
#include <errno.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "util/error.h"

static int fd_write(void *ctx, const void *p, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    const uint8_t *b = p;
    while (n) {
        ssize_t k = write(fd, b, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return meru_err_errno(errno, "parquet sink: write");
        }
        if (k == 0)
            return meru_err(MERU_EIO, "parquet sink: write returned 0");
        b += k;
        n -= (size_t)k;
    }
    return MERU_OK;
}

void pq_sink_fd(pq_sink *s, int fd)
{
    s->write = fd_write;
    s->ctx = (void *)(intptr_t)fd;
}

static int file_write(void *ctx, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, (FILE *)ctx) != n)
        return meru_err_errno(errno ? errno : EIO, "parquet sink: fwrite");
    return MERU_OK;
}

void pq_sink_file(pq_sink *s, FILE *f)
{
    s->write = file_write;
    s->ctx = f;
}

static int buf_write(void *ctx, const void *p, size_t n)
{
    return meru_buf_append((meru_buf *)ctx, p, n);
}

void pq_sink_buf(pq_sink *s, meru_buf *b)
{
    s->write = buf_write;
    s->ctx = b;
}
