/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_verify.c — `meru verify DIR`: opens the table read-only and checks it
 * through the API (cli_verify_db): every row valid, keys strictly
 * increasing in a forward scan and strictly decreasing in a reverse scan
 * of the same length, and sampled rows returned unchanged by get; then
 * that the Iceberg view read back from its files (metadata, manifests,
 * deletion files) holds exactly the rows of a scan at the last commit
 * (meru_db_check_iceberg). Prints the row count and OK, or the first
 * problem (exit 1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/db_internal.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

/* Rows checked with a point get: every k-th, k at least VERIFY_GET_EVERY
 * and large enough that about VERIFY_GETS gets are made (a get per row
 * would make verify a random-read benchmark; gets on a cold, compressed
 * level cost far more than scanning). */
#define VERIFY_GET_EVERY 997
#define VERIFY_GETS      256

static int verify_get(meru_db *db, const meru_row *row, int compare,
                      meru_row *out, char *err, size_t errcap)
{
    char *a = NULL, *b = NULL, kt[256];
    int st = CLI_FAIL;
    int rc = meru_get(db, NULL, row, out);
    cli_key_text(row, kt, sizeof kt);
    if (rc == MERU_NOT_FOUND) {
        snprintf(err, errcap,
                 "key %s is returned by the scan but get "
                 "does not find it",
                 kt);
        return CLI_FAIL;
    }
    if (rc) {
        snprintf(err, errcap, "get of key %s failed: %s", kt, meru_errmsg());
        return CLI_FAIL;
    }
    if (!compare)
        return CLI_OK;
    if (meru_row_to_json(row, &a) || meru_row_to_json(out, &b)) {
        snprintf(err, errcap, "formatting key %s: %s", kt, meru_errmsg());
        goto out;
    }
    if (strcmp(a, b)) {
        snprintf(err, errcap, "key %s: scan gives %s but get gives %s", kt, a,
                 b);
        goto out;
    }
    st = CLI_OK;
out:
    meru_free(a);
    meru_free(b);
    return st;
}

int cli_verify_db(meru_db *db, uint64_t *rows, char *err, size_t errcap)
{
    const meru_schema *s = meru_db_schema(db);
    meru_row *prev = NULL, *got = NULL;
    meru_iter *it = NULL;
    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    const meru_row *row;
    uint64_t n = 0, nrev = 0;
    int st = CLI_FAIL, rc;
    char k1[256], k2[256];

    *rows = 0;
    uint64_t every = VERIFY_GET_EVERY;
    meru_stats st0;
    if (meru_stats_get(db, &st0) == MERU_OK) {
        uint64_t est = st0.total_rows + st0.memtable_entries;
        if (est / VERIFY_GETS > every)
            every = est / VERIFY_GETS;
    }
    if ((rc = meru_row_new(&prev, s)) || (rc = meru_row_new(&got, s))) {
        snprintf(err, errcap, "allocating rows: %s", meru_errmsg());
        goto out;
    }
    if ((rc = meru_scan(db, &so, &it))) {
        snprintf(err, errcap, "scan: %s", meru_errmsg());
        goto out;
    }
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        if (meru_row_validate(row)) {
            cli_key_text(row, k1, sizeof k1);
            snprintf(err, errcap, "row %" PRIu64 " (key %s) is invalid: %s",
                     n + 1, k1, meru_errmsg());
            goto out;
        }
        if (n > 0 && cli_key_cmp(prev, row) >= 0) {
            cli_key_text(prev, k1, sizeof k1);
            cli_key_text(row, k2, sizeof k2);
            snprintf(err, errcap,
                     "key order broken at row %" PRIu64
                     ": %s is followed by %s",
                     n + 1, k1, k2);
            goto out;
        }
        if (n % every == 0 && verify_get(db, row, 1, got, err, errcap))
            goto out;
        if (cli_key_copy(prev, row)) {
            snprintf(err, errcap, "copying a key: %s", meru_errmsg());
            goto out;
        }
        n++;
    }
    if (rc != MERU_NOT_FOUND) {
        snprintf(err, errcap, "scan stopped after %" PRIu64 " rows: %s", n,
                 meru_errmsg());
        goto out;
    }
    meru_iter_free(it);
    it = NULL;
    /* The last key must be found by get too: the end of the key space is
     * where merge bugs show (`prev` holds only its key columns). */
    if (n > 0 && verify_get(db, prev, 0, got, err, errcap))
        goto out;
    so.reverse = 1;
    if ((rc = meru_scan(db, &so, &it))) {
        snprintf(err, errcap, "reverse scan: %s", meru_errmsg());
        goto out;
    }
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        if (nrev > 0 && cli_key_cmp(prev, row) <= 0) {
            cli_key_text(prev, k1, sizeof k1);
            cli_key_text(row, k2, sizeof k2);
            snprintf(err, errcap,
                     "reverse scan: key order broken at row "
                     "%" PRIu64 ": %s is followed by %s",
                     nrev + 1, k1, k2);
            goto out;
        }
        if (cli_key_copy(prev, row)) {
            snprintf(err, errcap, "copying a key: %s", meru_errmsg());
            goto out;
        }
        nrev++;
    }
    if (rc != MERU_NOT_FOUND) {
        snprintf(err, errcap, "reverse scan stopped after %" PRIu64 " rows: %s",
                 nrev, meru_errmsg());
        goto out;
    }
    if (nrev != n) {
        snprintf(err, errcap,
                 "forward scan sees %" PRIu64 " rows, reverse "
                 "scan %" PRIu64,
                 n, nrev);
        goto out;
    }
    *rows = n;
    st = CLI_OK;
out:
    meru_iter_free(it);
    meru_row_free(prev);
    meru_row_free(got);
    return st;
}

int meru_cmd_verify(int argc, char **argv)
{
    cli_set_verb("verify", meru_verb_usage("verify"));
    const char *dir;
    int done = cli_only_dir(argc, argv, &dir);
    if (done >= 0)
        return done;
    meru_db *db = NULL;
    int st = cli_open(dir, 1, &db);
    if (st)
        return st;
    uint64_t rows = 0;
    char err[2048];
    double t0 = cli_now();
    st = cli_verify_db(db, &rows, err, sizeof err);
    if (st)
        cli_fail("%s: FAILED: %s", dir, err);
    else
        printf("%s: %" PRIu64 " row%s, keys strictly increasing, scans and "
               "gets agree: OK (%.2f s)\n",
               dir, rows, rows == 1 ? "" : "s", cli_now() - t0);
    if (!st) {
        /* The Iceberg view read back from its files equals the scan. */
        uint64_t vrows = 0;
        int rc = meru_db_check_iceberg(db, &vrows, err, sizeof err);
        if (rc == MERU_NOT_FOUND)
            printf("%s: Iceberg view: none (%s)\n", dir, err);
        else if (rc)
            st = cli_fail("%s: FAILED: Iceberg view: %s", dir, err);
        else
            printf("%s: Iceberg view: %" PRIu64 " live row%s, equal to the "
                   "scan at the last commit: OK\n",
                   dir, vrows, vrows == 1 ? "" : "s");
    }
    int cst = cli_close(db);
    return st ? st : cst;
}
