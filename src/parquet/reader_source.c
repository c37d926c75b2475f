/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_source.c — pq_source implementations over a POSIX fd (pread, so
 * concurrent readers need no lock) and over memory (see pq.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "util/error.h"

static int fd_read_at(void *ctx, uint64_t off, void *buf, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    uint8_t *b = buf;
    while (n) {
        ssize_t k = pread(fd, b, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return meru_err_errno(errno, "parquet source: pread at %llu",
                                  (unsigned long long)off);
        }
        if (k == 0)
            return meru_err(MERU_ECORRUPT,
                            "parquet source: file ends at %llu (short read)",
                            (unsigned long long)off);
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return MERU_OK;
}

int pq_source_fd(pq_source *s, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return meru_err_errno(errno, "parquet source: fstat");
    s->read_at = fd_read_at;
    s->size = (uint64_t)st.st_size;
    s->ctx = (void *)(intptr_t)fd;
    s->base = NULL;
    return MERU_OK;
}

static int mem_read_at(void *ctx, uint64_t off, void *buf, size_t n)
{
    const pq_mem *m = ctx;
    if (off > m->n || n > m->n - off)
        return meru_err(MERU_ECORRUPT,
                        "parquet source: read of %zu bytes at %llu past the "
                        "end (%zu)",
                        n, (unsigned long long)off, m->n);
    if (n)
        memcpy(buf, m->p + off, n);
    return MERU_OK;
}

void pq_source_mem(pq_source *s, pq_mem *m, const void *p, size_t n)
{
    m->p = p;
    m->n = n;
    s->read_at = mem_read_at;
    s->size = n;
    s->ctx = m;
    s->base = p;
}
