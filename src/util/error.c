/* SPDX-License-Identifier: Apache-2.0 */
/*
 * error.c — thread-local last-error message, status names, meru_free().
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char tl_msg[MERU_ERRMSG_CAP];
static _Thread_local int tl_code;

int meru_err(int code, const char *fmt, ...)
{
    /* Formatted aside first: an argument may be meru_errmsg() itself
     * (meru_err(rc, "%s", meru_errmsg()) keeps a message under a new
     * code), and vsnprintf into its own argument is undefined. */
    char msg[MERU_ERRMSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(tl_msg, msg, sizeof tl_msg);
    tl_code = code;
    return code;
}

int meru_err_wrap(int code, const char *fmt, ...)
{
    /* Build "<context>: <old message>", truncating the old message (the
     * context matters more than the tail of a long message). */
    char old[MERU_ERRMSG_CAP];
    memcpy(old, tl_msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tl_msg, sizeof tl_msg, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used > sizeof tl_msg - 1)
        used = sizeof tl_msg - 1;
    if (used + 2 < sizeof tl_msg) {
        memcpy(tl_msg + used, ": ", 2);
        used += 2;
        size_t room = sizeof tl_msg - 1 - used;
        size_t olen = strnlen(old, sizeof old - 1);
        if (olen > room)
            olen = room;
        memcpy(tl_msg + used, old, olen);
        used += olen;
    }
    tl_msg[used] = '\0';
    tl_code = code;
    return code;
}

int meru_status_from_errno(int err)
{
    switch (err) {
    case ENOSPC:
    case EDQUOT:
        return MERU_ENOSPC;
    case ENOMEM:
        return MERU_ENOMEM;
    case ENOENT:
        return MERU_NOT_FOUND;
    case EEXIST:
        return MERU_EEXIST;
    case EWOULDBLOCK:
        return MERU_ELOCKED;
    case EROFS:
        return MERU_EREADONLY;
    default:
        return MERU_EIO;
    }
}

int meru_err_errno(int err, const char *fmt, ...)
{
    char what[MERU_ERRMSG_CAP / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return meru_err(meru_status_from_errno(err), "%s: %s", what, strerror(err));
}

void meru_err_clear(void)
{
    tl_msg[0] = '\0';
    tl_code = MERU_OK;
}

void meru_err_save(meru_err_saved *s)
{
    s->code = tl_code;
    memcpy(s->msg, tl_msg, sizeof tl_msg);
}

void meru_err_restore(const meru_err_saved *s)
{
    tl_code = s->code;
    memcpy(tl_msg, s->msg, sizeof tl_msg);
}

const char *meru_errmsg(void) { return tl_msg; }

int meru_errcode(void) { return tl_code; }

const char *meru_strerror(int code)
{
    switch (code) {
    case MERU_OK: return "ok";
    case MERU_NOT_FOUND: return "not found";
    case MERU_EINVAL: return "invalid argument";
    case MERU_ENOMEM: return "out of memory";
    case MERU_EIO: return "I/O error";
    case MERU_ECORRUPT: return "data corruption detected";
    case MERU_ENOTSUP: return "not supported";
    case MERU_ELOCKED: return "table is locked by another writer";
    case MERU_ECLOSED: return "handle is closed";
    case MERU_EEXIST: return "already exists";
    case MERU_ESCHEMA: return "invalid or incompatible schema";
    case MERU_ENOSPC: return "no space left on device";
    case MERU_EFAILED: return "writes stopped after an earlier failure";
    case MERU_EBUSY: return "resource busy";
    case MERU_ERANGE: return "value out of range";
    case MERU_EREADONLY: return "table is open read-only";
    case MERU_EINTERNAL: return "internal error";
    case MERU_ENOCOLUMN: return "no such column";
    case MERU_EEXPIRED: return "changes expired (below the retention window)";
    default: return "unknown error";
    }
}

void meru_free(void *ptr) { free(ptr); }

const char *meru_version(void) { return MERU_VERSION_STRING; }

int meru_version_number(void) { return MERU_VERSION_NUMBER; }
