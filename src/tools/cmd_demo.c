/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_demo.c — `meru demo [DIR] [--quick] [--rows N]`.
 *
 * A guided tour that is also a self-check: it creates an "events" table
 * (composite key user_id + ts) in DIR (default ./meru-demo), loads N
 * synthetic events in write batches, reads a sample back with get, scans
 * one user's events by prefix and by a time window, deletes one user,
 * closes, reopens, verifies the whole table, prints the statistics and
 * suggests commands to try on the table it leaves behind.
 *
 * Every event is a pure function of its index (make_event), so any row
 * can be regenerated to compare with what the table returns: every check
 * compares the stored row's JSON with the generated row's JSON. Any
 * mismatch ends the demo with "demo FAILED" and exit status 1.
 *
 * Keys are unique by construction: event i belongs to user i % users + 1
 * and falls in minute i / users of that user's timeline, so rows arrive
 * interleaved across users (not in key order), as real events would.
 *
 * Only the public API is used, like any application would.
 */
/* nftw() is an XSI extension of POSIX. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog_view.h"
#include "engine/db_internal.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

#define DEMO_DEFAULT_DIR  "meru-demo"
#define DEMO_DEFAULT_ROWS 1000000u
#define DEMO_QUICK_ROWS   50000u
#define DEMO_MIN_ROWS     1000u
#define DEMO_BATCH        1000u
#define DEMO_GETS         2000u
#define EVENTS_PER_USER   100u

static const char *const DEMO_COLUMNS =
    "user_id int64 not null, ts timestamp not null, event string not null, "
    "amount decimal(12,2), country string, device string, "
    "duration_ms int32, score double";
static const char *const DEMO_KEY = "user_id,ts";

/* 2026-01-01T00:00:00 in microseconds; events are a minute apart per user. */
#define BASE_MICROS INT64_C(1767225600000000)
#define STEP_MICROS INT64_C(60000000)

static const char *const EVENTS[] = {
    "view",  "view",  "view",        "view",   "view",     "click",
    "click", "click", "add_to_cart", "search", "purchase", "signup"};
static const char *const COUNTRIES[] = {"US", "IN", "DE", "BR", "JP", "FR",
                                        "GB", "NG", "MX", "KR", "CA", "ID"};
static const char *const DEVICES[] = {"ios", "android", "web"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct demo {
    const char *dir;
    uint64_t rows, users;
    meru_db *db;
    const meru_schema *schema; /* of db */
    meru_schema *own_schema;   /* the parsed one, for create */
    meru_row *row, *key, *out;
} demo;

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t user_of(const demo *d, uint64_t i)
{
    return i % d->users + 1;
}

static int64_t ts_of(const demo *d, uint64_t i)
{
    return BASE_MICROS + (int64_t)(i / d->users) * STEP_MICROS +
           (int64_t)(mix(i) % (uint64_t)STEP_MICROS);
}

/* Rows of user u (1-based): indexes u-1, u-1+users, ... below rows. */
static uint64_t user_rows(const demo *d, uint64_t u)
{
    return (d->rows - (u - 1) + d->users - 1) / d->users;
}

static int set_key(const demo *d, meru_row *r, uint64_t i)
{
    int rc = meru_row_set_int64(r, 0, (int64_t)user_of(d, i));
    return rc ? rc : meru_row_set_timestamp(r, 1, ts_of(d, i));
}

/* Event number i: every column a function of i. */
static int make_event(const demo *d, meru_row *r, uint64_t i)
{
    uint64_t h = mix(i ^ 0xE7E47ull);
    const char *ev = EVENTS[h % NELEM(EVENTS)];
    const char *country = COUNTRIES[(h >> 8) % NELEM(COUNTRIES)];
    const char *device = DEVICES[(h >> 16) % NELEM(DEVICES)];
    int rc;
    meru_row_clear(r);
    if ((rc = set_key(d, r, i)) ||
        (rc = meru_row_set_string(r, 2, ev, strlen(ev))))
        return rc;
    if (!strcmp(ev, "purchase") || !strcmp(ev, "add_to_cart")) {
        char amount[32];
        snprintf(amount, sizeof amount, "%" PRIu64 ".%02u", (h >> 24) % 500,
                 (unsigned)((h >> 40) % 100));
        rc = meru_row_set_decimal_str(r, 3, amount);
    } else {
        rc = meru_row_set_null(r, 3);
    }
    if (!rc)
        rc = meru_row_set_string(r, 4, country, strlen(country));
    if (!rc)
        rc = (h >> 20) % 10 == 0
                 ? meru_row_set_null(r, 5)
                 : meru_row_set_string(r, 5, device, strlen(device));
    if (!rc)
        rc = meru_row_set_int32(r, 6, (int32_t)((h >> 32) % 30000));
    if (!rc)
        rc = meru_row_set_double(r, 7, (double)((h >> 44) % 100000) / 1000.0);
    return rc;
}

static int failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int failed(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "meru demo FAILED: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

static int api_failed(const char *what)
{
    return failed("%s: %s", what, meru_errmsg());
}

/* Compares the table's row for event i (already in d->out) with the
 * regenerated event. */
static int same_as_event(demo *d, const meru_row *got, uint64_t i,
                         const char *where)
{
    char *a = NULL, *b = NULL;
    int st = CLI_OK;
    if (make_event(d, d->row, i) || meru_row_to_json(d->row, &a) ||
        meru_row_to_json(got, &b))
        st = api_failed("formatting rows");
    else if (strcmp(a, b))
        st = failed("%s: event %" PRIu64 " differs:\n  wrote %s\n  read  %s",
                    where, i, a, b);
    meru_free(a);
    meru_free(b);
    return st;
}

/* Gets event i and checks it (or checks it is absent when `gone`). */
static int check_get(demo *d, uint64_t i, int gone, const char *where)
{
    meru_row_clear(d->key);
    if (set_key(d, d->key, i))
        return api_failed("key");
    int rc = meru_get(d->db, NULL, d->key, d->out);
    if (gone) {
        if (rc == MERU_NOT_FOUND)
            return CLI_OK;
        return rc ? api_failed("get")
                  : failed("%s: deleted event %" PRIu64 " is still found",
                           where, i);
    }
    if (rc == MERU_NOT_FOUND)
        return failed("%s: event %" PRIu64 " not found", where, i);
    if (rc)
        return api_failed("get");
    return same_as_event(d, d->out, i, where);
}

static void ts_text(int64_t micros, char *buf, size_t cap)
{
    time_t secs = (time_t)(micros / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(micros % 1000000));
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a previous demo table at `dir`, refusing anything that does not
 * look like a merutable table (a typo must not cost a home directory). */
static int prepare_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? CLI_OK
                               : failed("%s: %s", dir, strerror(errno));
    char meta[4200];
    snprintf(meta, sizeof meta, "%s/metadata", dir);
    struct stat ms;
    int is_table = stat(meta, &ms) == 0 && S_ISDIR(ms.st_mode);
    int is_empty = 0;
    if (S_ISDIR(st.st_mode) && !is_table) {
        /* An empty directory (mkdir'd for us) is fine too. */
        is_empty = rmdir(dir) == 0;
        if (is_empty)
            return CLI_OK;
    }
    if (!S_ISDIR(st.st_mode) || !is_table) {
        fprintf(stderr,
                "meru demo: %s exists and is not a merutable table; not "
                "touching it (pick another DIR)\n",
                dir);
        return CLI_FAIL;
    }
    printf("Removing the previous demo table at %s/\n", dir);
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return failed("removing %s: %s", dir, strerror(errno));
    return CLI_OK;
}

static int step_create(demo *d)
{
    int rc =
        meru_schema_parse(&d->own_schema, "events", DEMO_COLUMNS, DEMO_KEY);
    if (rc)
        return api_failed("schema");
    meru_options o;
    meru_options_init(&o);
    o.error_if_exists = 1;
    if ((rc = meru_open(d->dir, &o, d->own_schema, &d->db)))
        return api_failed("creating the table");
    d->schema = meru_db_schema(d->db);
    if ((rc = meru_row_new(&d->row, d->schema)) ||
        (rc = meru_row_new(&d->key, d->schema)) ||
        (rc = meru_row_new(&d->out, d->schema)))
        return api_failed("rows");
    printf("Created table 'events' at %s/\n", d->dir);
    printf("  columns:     %s\n  primary key: (%s)\n\n", DEMO_COLUMNS,
           DEMO_KEY);
    return CLI_OK;
}

static int step_load(demo *d)
{
    meru_write_batch *b = NULL;
    cli_progress p;
    int st = CLI_FAIL, rc;
    printf("1. Loading %" PRIu64 " events for %" PRIu64
           " users in write batches of %u\n",
           d->rows, d->users, DEMO_BATCH);
    fflush(stdout);
    if ((rc = meru_write_batch_new(&b, d->schema)))
        return api_failed("batch");
    double t0 = cli_now();
    cli_progress_start(&p, "  load", d->rows);
    for (uint64_t i = 0; i < d->rows; i++) {
        if ((rc = make_event(d, d->row, i)) ||
            (rc = meru_write_batch_put(b, d->row))) {
            st = api_failed("event");
            goto out;
        }
        if (meru_write_batch_count(b) == DEMO_BATCH || i + 1 == d->rows) {
            if ((rc = meru_write(d->db, b, NULL))) {
                st = api_failed("write");
                goto out;
            }
            meru_write_batch_clear(b);
            cli_progress_update(&p, i + 1, i + 1);
        }
    }
    cli_progress_end(&p, d->rows, d->rows);
    double el = cli_now() - t0;
    printf("   loaded %" PRIu64 " rows in %.2f s: %.0f rows/s\n\n", d->rows, el,
           el > 0 ? (double)d->rows / el : 0.0);
    st = CLI_OK;
out:
    meru_write_batch_free(b);
    return st;
}

/* n random gets of events not of user `skip` (deleted; 0: none). */
static int step_gets(demo *d, uint64_t n, uint64_t skip, const char *where)
{
    uint64_t seed = 12345;
    double t0 = cli_now();
    for (uint64_t k = 0; k < n; k++) {
        uint64_t i = mix(seed + k) % d->rows;
        if (user_of(d, i) == skip)
            continue; /* checked by user_gone() */
        if (check_get(d, i, 0, where))
            return CLI_FAIL;
    }
    double el = cli_now() - t0;
    /* A key that was never written: a user id beyond the last one. */
    meru_row_clear(d->key);
    meru_row_set_int64(d->key, 0, (int64_t)d->users + 1);
    meru_row_set_timestamp(d->key, 1, BASE_MICROS);
    int rc = meru_get(d->db, NULL, d->key, d->out);
    if (rc != MERU_NOT_FOUND)
        return rc ? api_failed("get")
                  : failed("%s: a key never written was found", where);
    printf("   %" PRIu64 " random gets all returned exactly the rows written"
           " (%.1f us each); an absent key is not found\n",
           n, el * 1e6 / (double)(n ? n : 1));
    return CLI_OK;
}

/* Scans user u's events with `o` and checks they are events first,
 * first+step, ... (step = users, or -users in reverse), `want` of them. */
static int check_scan(demo *d, meru_scan_options *o, uint64_t first,
                      int64_t step, uint64_t want, const char *what, int show)
{
    meru_iter *it = NULL;
    const meru_row *r;
    uint64_t n = 0;
    int rc, st = CLI_OK;
    double t0 = cli_now();
    if ((rc = meru_scan(d->db, o, &it)))
        return api_failed("scan");
    while ((rc = meru_iter_next(it, &r)) == MERU_OK) {
        uint64_t i = (uint64_t)((int64_t)first + (int64_t)n * step);
        if (n >= want) {
            st = failed("%s: more than the %" PRIu64 " rows expected", what,
                        want);
            goto out;
        }
        if ((st = same_as_event(d, r, i, what)))
            goto out;
        if (show && n < 3) {
            char *j = NULL;
            if (meru_row_to_json(r, &j) == MERU_OK)
                printf("     %s\n", j);
            meru_free(j);
        }
        n++;
    }
    if (rc != MERU_NOT_FOUND) {
        st = api_failed("scan");
        goto out;
    }
    if (n != want)
        st = failed("%s: %" PRIu64 " rows, expected %" PRIu64, what, n, want);
    else
        printf("   %s: %" PRIu64 " rows, in %s key order, as written "
               "(%.2f ms)\n",
               what, n, step < 0 ? "descending" : "ascending",
               (cli_now() - t0) * 1e3);
out:
    meru_iter_free(it);
    return st;
}

static int step_scans(demo *d, uint64_t u)
{
    meru_scan_options o;
    meru_row *pre = NULL, *lo = NULL, *hi = NULL;
    uint64_t nu = user_rows(d, u), first = u - 1;
    int st = CLI_FAIL;
    char what[128];
    printf("3. Range scans on user %" PRIu64 "\n", u);
    if (meru_row_new(&pre, d->schema) || meru_row_new(&lo, d->schema) ||
        meru_row_new(&hi, d->schema)) {
        st = api_failed("rows");
        goto out;
    }
    meru_row_set_int64(pre, 0, (int64_t)u);
    meru_scan_options_init(&o);
    o.prefix = pre;
    snprintf(what, sizeof what, "all events of user %" PRIu64 " (prefix scan)",
             u);
    if (check_scan(d, &o, first, (int64_t)d->users, nu, what, 1))
        goto out;
    /* A time window: events 10..19 of the user, by full-key bounds. */
    uint64_t a = nu > 20 ? 10 : 0, b = nu > 20 ? 19 : nu - 1;
    set_key(d, lo, first + a * d->users);
    set_key(d, hi, first + b * d->users);
    meru_scan_options_init(&o);
    o.lower = lo;
    o.upper = hi;
    o.upper_inclusive = 1;
    snprintf(what, sizeof what,
             "events %" PRIu64 "..%" PRIu64 " of the user (time window)", a, b);
    if (check_scan(d, &o, first + a * d->users, (int64_t)d->users, b - a + 1,
                   what, 0))
        goto out;
    /* The latest three, newest first. */
    meru_scan_options_init(&o);
    o.prefix = pre;
    o.reverse = 1;
    o.limit = 3;
    if (check_scan(d, &o, first + (nu - 1) * d->users, -(int64_t)d->users,
                   nu < 3 ? nu : 3, "latest 3 (reverse scan, limit 3)", 0))
        goto out;
    printf("\n");
    st = CLI_OK;
out:
    meru_row_free(pre);
    meru_row_free(lo);
    meru_row_free(hi);
    return st;
}

static int user_gone(demo *d, uint64_t u, const char *where)
{
    meru_scan_options o;
    meru_row *pre = NULL;
    meru_iter *it = NULL;
    const meru_row *r;
    int st = CLI_OK, rc;
    meru_scan_options_init(&o);
    if (meru_row_new(&pre, d->schema))
        return api_failed("rows");
    meru_row_set_int64(pre, 0, (int64_t)u);
    o.prefix = pre;
    if ((rc = meru_scan(d->db, &o, &it))) {
        st = api_failed("scan");
    } else if ((rc = meru_iter_next(it, &r)) != MERU_NOT_FOUND) {
        st = rc ? api_failed("scan")
                : failed("%s: a deleted row of user %" PRIu64
                         " is still scanned",
                         where, u);
    }
    for (uint64_t k = 0; !st && k < user_rows(d, u); k += 7)
        st = check_get(d, u - 1 + k * d->users, 1, where);
    meru_iter_free(it);
    meru_row_free(pre);
    return st;
}

static int step_delete(demo *d, uint64_t u, uint64_t *deleted)
{
    meru_write_batch *b = NULL;
    uint64_t nu = user_rows(d, u);
    int rc, st = CLI_FAIL;
    printf("4. Deleting all %" PRIu64 " events of user %" PRIu64
           " in one batch\n",
           nu, u);
    if ((rc = meru_write_batch_new(&b, d->schema)))
        return api_failed("batch");
    for (uint64_t k = 0; k < nu; k++) {
        meru_row_clear(d->key);
        if (set_key(d, d->key, u - 1 + k * d->users) ||
            meru_write_batch_delete(b, d->key)) {
            st = api_failed("delete");
            goto out;
        }
    }
    if ((rc = meru_write(d->db, b, NULL))) {
        st = api_failed("write");
        goto out;
    }
    if (user_gone(d, u, "after delete"))
        goto out;
    printf("   gone: get finds none of them, a prefix scan returns no "
           "rows\n");
    *deleted = nu;
    st = CLI_OK;
out:
    meru_write_batch_free(b);
    return st;
}

static int count_rows(demo *d, uint64_t *n, double *secs)
{
    meru_scan_options o;
    meru_iter *it = NULL;
    const meru_row *r;
    const char *col = "user_id";
    int rc;
    meru_scan_options_init(&o);
    o.columns = &col;
    o.ncolumns = 1;
    double t0 = cli_now();
    *n = 0;
    if ((rc = meru_scan(d->db, &o, &it)))
        return api_failed("scan");
    while ((rc = meru_iter_next(it, &r)) == MERU_OK)
        ++*n;
    meru_iter_free(it);
    *secs = cli_now() - t0;
    return rc == MERU_NOT_FOUND ? CLI_OK : api_failed("scan");
}

static int step_reopen(demo *d)
{
    meru_stats s;
    if (meru_stats_get(d->db, &s) == MERU_OK)
        printf("   so far: %" PRIu64 " puts and %" PRIu64 " deletes in %" PRIu64
               " batches, %" PRIu64 " WAL syncs, %" PRIu64 " flushes to L0, "
               "%" PRIu64 " compactions, %" PRIu64 " write stalls\n\n",
               s.puts, s.deletes, s.batches, s.wal_syncs, s.flushes,
               s.compactions, s.stall_count);
    double t0 = cli_now();
    int rc = meru_close(d->db);
    double t_close = cli_now() - t0;
    meru_db_free(d->db);
    d->db = NULL;
    if (rc)
        return api_failed("close");
    meru_row_free(d->row);
    meru_row_free(d->key);
    meru_row_free(d->out);
    d->row = d->key = d->out = NULL;
    t0 = cli_now();
    if ((rc = cli_open(d->dir, 0, &d->db)))
        return failed("reopening the table");
    double t_open = cli_now() - t0;
    d->schema = meru_db_schema(d->db);
    if ((rc = meru_row_new(&d->row, d->schema)) ||
        (rc = meru_row_new(&d->key, d->schema)) ||
        (rc = meru_row_new(&d->out, d->schema)))
        return api_failed("rows");
    printf("6. Closed in %.2f s (the memtable is flushed to Parquet), "
           "reopened in %.3f s\n",
           t_close, t_open);
    return CLI_OK;
}

static void what_next(const demo *d, uint64_t u)
{
    char ts[64];
    ts_text(ts_of(d, u - 1), ts, sizeof ts);
    printf("\nWhat to try next (the table stays in %s/):\n", d->dir);
    printf("  meru get %s %" PRIu64 " %s\n", d->dir, u, ts);
    printf("  meru scan %s --prefix %" PRIu64 " --limit 5 --format table\n",
           d->dir, u);
    printf("  meru scan %s --from %" PRIu64 " --to %" PRIu64
           " --columns user_id,ts,event,amount --format csv\n",
           d->dir, u, u + 1);
    printf("  meru scan %s --prefix %" PRIu64 " --reverse --limit 3\n", d->dir,
           u);
    printf("  meru put %s '{\"user_id\":%" PRIu64 ",\"ts\":\"%s\","
           "\"event\":\"refund\",\"amount\":\"-9.99\"}'\n",
           d->dir, u, ts);
    printf("  meru delete %s %" PRIu64 " %s\n", d->dir, u, ts);
    printf("  meru count %s --prefix %" PRIu64 "\n", d->dir, u);
    printf("  meru stats %s      meru verify %s      meru compact %s\n", d->dir,
           d->dir, d->dir);
    printf("  The SSTs are plain Parquet files that any reader opens. They "
           "hold row versions\n  (_merutable_op is 1 for a put, 0 for a "
           "delete; `meru compact` drops old ones). With DuckDB:\n");
    printf("    duckdb -c \"SELECT event, count(*), sum(amount) FROM "
           "read_parquet('%s/data/*/*.parquet') WHERE _merutable_op = 1 "
           "GROUP BY event\"\n",
           d->dir);
}

static int run(demo *d)
{
    uint64_t scan_user = d->users >= 42 ? 42 : d->users;
    uint64_t del_user = 7, deleted = 0, n;
    double secs = 0;
    char err[2048];
    int rc;

    if (prepare_dir(d->dir) || step_create(d) || step_load(d))
        return CLI_FAIL;
    printf("2. Point reads\n");
    if (step_gets(d, DEMO_GETS, 0, "after load"))
        return CLI_FAIL;
    printf("\n");
    if (step_scans(d, scan_user) || step_delete(d, del_user, &deleted))
        return CLI_FAIL;
    if (count_rows(d, &n, &secs))
        return CLI_FAIL;
    if (n != d->rows - deleted)
        return failed("full scan counts %" PRIu64 " rows, expected %" PRIu64, n,
                      d->rows - deleted);
    printf("\n5. Full scan: %" PRIu64 " rows in %.2f s (%.0f rows/s)\n", n,
           secs, secs > 0 ? (double)n / secs : 0.0);
    if (step_reopen(d))
        return CLI_FAIL;
    if (step_gets(d, DEMO_GETS / 4, del_user, "after reopen") ||
        user_gone(d, del_user, "after reopen"))
        return CLI_FAIL;
    printf("   after reopen: user %" PRIu64 " is still gone\n\n", del_user);

    printf("7. Verify (forward and reverse scans, key order, sampled "
           "gets)\n");
    double t0 = cli_now();
    if (cli_verify_db(d->db, &n, err, sizeof err))
        return failed("verify: %s", err);
    if (n != d->rows - deleted)
        return failed("verify counts %" PRIu64 " rows, expected %" PRIu64, n,
                      d->rows - deleted);
    printf("   %" PRIu64 " rows: OK (%.2f s)\n\n", n, cli_now() - t0);

    /* What DuckDB, Spark or pyiceberg would read from the same files. */
    printf("   The Iceberg view (meru iceberg %s), read back from its "
           "files:\n",
           d->dir);
    if ((rc = meru_flush(d->db)))
        return api_failed("flush");
    meru_catalog_view *view = NULL;
    if ((rc = meru_catalog_view_load(meru_fs_posix(), d->dir, &view)))
        return api_failed("reading the Iceberg view");
    printf("   format v%d, snapshot %" PRId64 " (%s): %zu data files, %zu "
           "delete files, %" PRIu64 " live rows\n",
           view->format_version, view->snapshot_id,
           view->snapshot_id < 0
               ? "none"
               : meru_catalog_view_summary(view, "operation"),
           view->nfiles, view->ndelete_files, view->live_rows);
    const char *tr = meru_catalog_view_summary(view, "total-records");
    const char *tp = meru_catalog_view_summary(view, "total-position-deletes");
    printf("   summary: total-records %s, total-position-deletes %s\n",
           tr ? tr : "0", tp ? tp : "0");
    meru_catalog_view_free(view);
    uint64_t vrows = 0;
    if ((rc = meru_db_check_iceberg(d->db, &vrows, err, sizeof err)))
        return failed("the Iceberg view: %s", err);
    if (vrows != d->rows - deleted)
        return failed("the Iceberg view holds %" PRIu64 " rows, expected "
                      "%" PRIu64,
                      vrows, d->rows - deleted);
    printf("   every view row equals the scan's: OK\n\n");

    meru_stats s;
    if ((rc = meru_stats_get(d->db, &s)))
        return api_failed("stats");
    printf("8. Statistics (meru stats %s)\n", d->dir);
    cli_print_stats(stdout, &s);
    if ((rc = meru_close(d->db)))
        return api_failed("close");
    printf("\nAll checks passed.\n");
    what_next(d, scan_user);
    return CLI_OK;
}

static const cli_option demo_opts[] = {
    {"quick", 'q', NULL, "50,000 events instead of 1,000,000"},
    {"rows", 'n', "N", "this many events"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_demo(int argc, char **argv)
{
    cli_set_verb("demo", meru_verb_usage("demo"));
    demo d = {.dir = DEMO_DEFAULT_DIR, .rows = DEMO_DEFAULT_ROWS};
    cli_parser p;
    const char *v;
    int o, st = CLI_OK;
    if (cli_parser_init(&p, argc, argv, demo_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0) {
        if (demo_opts[o].short_name == 'q') {
            d.rows = DEMO_QUICK_ROWS;
            continue;
        }
        if (!cli_parse_u64("--rows", v, &d.rows)) {
            cli_parser_free(&p);
            return CLI_USAGE;
        }
        if (d.rows < DEMO_MIN_ROWS || d.rows > 100000000u) {
            cli_parser_free(&p);
            return cli_usage("--rows wants %u..100000000", DEMO_MIN_ROWS);
        }
    }
    if (o != CLI_DONE)
        return cli_parser_exit(&p, o);
    if (p.npos > 1) {
        st = cli_usage("unexpected argument '%s'", p.pos[1]);
        cli_parser_free(&p);
        return st;
    }
    if (p.npos == 1)
        d.dir = p.pos[0];
    d.users = d.rows / EVENTS_PER_USER;
    printf("merutable %s demo: %" PRIu64 " events into %s/\n\n", meru_version(),
           d.rows, d.dir);
    fflush(stdout);
    double t0 = cli_now();
    st = run(&d);
    meru_db_free(d.db);
    meru_schema_free(d.own_schema);
    meru_row_free(d.row);
    meru_row_free(d.key);
    meru_row_free(d.out);
    if (!st)
        printf("\nDemo finished in %.1f s.\n", cli_now() - t0);
    cli_parser_free(&p);
    return st;
}
