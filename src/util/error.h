/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.h — per-thread "last error" for the whole library.
 *
 * Every failing path calls meru_err(code, fmt, ...) once, at the place that
 * knows what was being done (file, offset, column), and returns what it
 * returns. Callers further up just propagate the code; they may prepend
 * context with meru_err_wrap(). The message lives in thread-local storage,
 * so nothing is ever malloc'd for an error and the public meru_errmsg()
 * never needs freeing.
 */
#ifndef MERU_UTIL_ERROR_H
#define MERU_UTIL_ERROR_H

#include "merutable.h"

#define MERU_ERRMSG_CAP 1024

#if defined(__GNUC__)
#define MERU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MERU_PRINTF(a, b)
#endif

/* Records `code` and the formatted message; returns `code`. */
int meru_err(int code, const char *fmt, ...) MERU_PRINTF(2, 3);
/* Prepends "<context>: " to the current message; returns `code`. */
int meru_err_wrap(int code, const char *fmt, ...) MERU_PRINTF(2, 3);
/* Maps an errno value to a status (ENOSPC -> MERU_ENOSPC, ENOMEM -> ...). */
int meru_status_from_errno(int err);
/* meru_err for a failed system call: "<what>: strerror(errno)". */
int meru_err_errno(int err, const char *fmt, ...) MERU_PRINTF(2, 3);
/* Clears the thread's last error. */
void meru_err_clear(void);

/* The thread's error, kept across best-effort cleanup that may record its
 * own (removing a partial file after a failed write): the caller reports
 * the failure, not the cleanup's. */
typedef struct meru_err_saved {
    int code;
    char msg[MERU_ERRMSG_CAP];
} meru_err_saved;
void meru_err_save(meru_err_saved *s);
void meru_err_restore(const meru_err_saved *s);

#endif
