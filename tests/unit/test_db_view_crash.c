/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_view_crash.c — the Iceberg view across kill -9 and its garbage
 * collection. A forked child opens the table and runs puts, overwrites,
 * deletes, flushes and compactions (small memtable, low L0 trigger, few
 * kept metadata versions, so kills land in flushes, compactions, view
 * writes and view GC); the parent kills it with SIGKILL at a random moment
 * after it opened, then, without opening the table:
 *  - the newest valid version's view loads as an Iceberg reader follows it
 *    (meru_catalog_view_load decodes every deletion file), and every file
 *    it names exists;
 *  - every older kept version (those its metadata-log lists that are
 *    still on disk) names only view files that exist: its manifest list,
 *    the manifests there and their deletion files (data files are the
 *    engine's: deleted once no reader of the process needs them);
 * then opens the table as a writer (recovery and the orphan sweep), checks
 * that the view read back from its files equals a scan
 * (meru_db_check_iceberg), closes it, and checks GC: every view file on disk
 * (metadata/ *.avro, data/dv/ *) is referenced by a kept version, and still
 * every referenced file exists. The same table carries over from one kill
 * to the next; format v3 and v2.
 */
#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog_view.h"
#include "engine/db_internal.h"
#include "iceberg/manifest.h"
#include "test.h"

#define COLS "id int64 not null, v int64, pad string"
#define KEYS 3000

static void view_options(meru_options *o, int format_version)
{
    meru_options_init(o);
    o->memtable_bytes = (size_t)64 << 10;
    o->sync_mode = MERU_SYNC_NONE; /* a kill -9 keeps what write() gave */
    o->l0_compaction_trigger = 2;
    o->l0_slowdown_trigger = 6;
    o->l0_stop_trigger = 12;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20;
    o->keep_metadata_versions = 3; /* GC at nearly every commit */
    o->background_threads = 2;
    o->iceberg_format_version = format_version;
}

/* ------------------------------------------------------------ the child */

static uint64_t xrand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Writes until killed; exits non-zero on any failure. */
static void child_run(const char *dir, int format_version, uint64_t seed,
                      int ready_fd)
{
    meru_options o;
    meru_schema *s = NULL;
    meru_db *db = NULL;
    meru_row *r = NULL;
    view_options(&o, format_version);
    if (meru_schema_parse(&s, "crash", COLS, "id") ||
        meru_open(dir, &o, s, &db) || meru_row_new(&r, meru_db_schema(db)))
        _exit(10);
    if (write(ready_fd, "o", 1) != 1)
        _exit(11);
    char pad[160];
    memset(pad, 'p', sizeof pad);
    for (uint64_t op = 0;; op++) {
        uint64_t x = xrand(&seed);
        int64_t key = (int64_t)(x % KEYS);
        int rc;
        meru_row_clear(r);
        if ((rc = meru_row_set_int64(r, 0, key)))
            _exit(12);
        if (x % 10 < 7) {
            if (meru_row_set_int64(r, 1, (int64_t)op) ||
                meru_row_set_string(r, 2, pad, (size_t)(x % sizeof pad)))
                _exit(13);
            rc = meru_put(db, r, NULL);
        } else {
            rc = meru_delete(db, r, NULL);
        }
        if (!rc && op % 700 == 699)
            rc = meru_flush(db);
        if (!rc && op % 5000 == 4999)
            rc = meru_compact(db);
        if (rc)
            _exit(14);
    }
}

/* ---------------------------------------------------- the files on disk */

typedef struct strset {
    char **v;
    size_t n, cap;
} strset;

static int set_has(const strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return 1;
    return 0;
}

static void set_add(strset *s, const char *x)
{
    if (set_has(s, x))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    s->v[s->n++] = strdup(x);
}

static void set_free(strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* A view file (manifest list, manifest, deletion file) rather than a data
 * file: what the view's GC owns. */
static int is_view_file(const char *path)
{
    return strstr(path, "/metadata/") || strstr(path, "/data/dv/");
}

/* Adds to `refs` every file metadata file `meta` references through its
 * current snapshot; a missing or unreadable one is a failure (why). Data
 * files are checked only when `data` is set (the newest version): the
 * engine deletes a data file once no reader of this process needs it,
 * whatever older metadata versions name. */
static int version_refs(const char *meta, int data, strset *refs, char *why,
                        size_t cap)
{
    json_t *root = json_load_file(meta, 0, NULL);
    meru_ice_manifest_list *l = NULL;
    int ok = 0;
    if (!root) {
        snprintf(why, cap, "%s does not parse", meta);
        return 0;
    }
    json_t *cur = json_object_get(root, "current-snapshot-id");
    const char *list = NULL;
    size_t i;
    json_t *sn;
    json_array_foreach(json_object_get(root, "snapshots"), i, sn)
    {
        if (cur && json_integer_value(json_object_get(sn, "snapshot-id")) ==
                       json_integer_value(cur))
            list = json_string_value(json_object_get(sn, "manifest-list"));
    }
    if (!list) { /* no snapshot (an empty table): nothing referenced */
        ok = 1;
        goto done;
    }
    set_add(refs, list);
    if (meru_ice_manifest_list_read(meru_fs_posix(), list, 0, &l)) {
        snprintf(why, cap, "%s: manifest list %s: %s", meta, list,
                 meru_errmsg());
        goto done;
    }
    for (size_t m = 0; m < l->n_files; m++) {
        const char *mp = l->files[m].manifest_path;
        meru_ice_manifest *man = NULL;
        set_add(refs, mp);
        if (meru_ice_manifest_read(meru_fs_posix(), mp, 0, &man)) {
            snprintf(why, cap, "%s: manifest %s: %s", meta, mp,
                     meru_errmsg());
            goto done;
        }
        for (size_t e = 0; e < man->n_entries; e++) {
            const meru_ice_manifest_entry *en = &man->entries[e];
            if (en->status == MERU_ICE_STATUS_DELETED)
                continue;
            const char *f = en->data_file.file_path;
            set_add(refs, f);
            if ((data || is_view_file(f)) && !exists(f)) {
                snprintf(why, cap, "%s: %s names %s, which is missing", meta,
                         mp, f);
                meru_ice_manifest_free(man);
                goto done;
            }
        }
        meru_ice_manifest_free(man);
    }
    ok = 1;
done:
    meru_ice_manifest_list_free(l);
    json_decref(root);
    return ok;
}

/* The newest valid metadata version (a kill may leave a torn newer file,
 * which the catalog skips), whose view must load as a reader follows it;
 * 0 with why set when it does not. */
static uint64_t newest_view(const char *dir, char *why, size_t cap)
{
    meru_catalog_view *v = NULL;
    if (meru_catalog_view_load(meru_fs_posix(), dir, &v)) {
        snprintf(why, cap, "the newest view: %s", meru_errmsg());
        return 0;
    }
    uint64_t n = v->metadata_version;
    meru_catalog_view_free(v);
    return n;
}

/* Every file the kept versions reference exists (refs gets them all). */
static int kept_refs(const char *dir, strset *refs, char *why, size_t cap)
{
    char meta[4200];
    uint64_t v = newest_view(dir, why, cap);
    if (!v)
        return 0;
    snprintf(meta, sizeof meta, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    if (!version_refs(meta, 1, refs, why, cap))
        return 0;
    json_t *root = json_load_file(meta, 0, NULL);
    size_t i;
    json_t *e;
    int ok = 1;
    json_array_foreach(json_object_get(root, "metadata-log"), i, e)
    {
        const char *f = json_string_value(json_object_get(e, "metadata-file"));
        if (ok && f && exists(f))
            ok = version_refs(f, 0, refs, why, cap);
    }
    json_decref(root);
    return ok;
}

/* Every view file on disk (metadata/ *.avro, data/dv/ *) is in refs. */
static int no_leaked_view_files(const char *dir, const strset *refs,
                                char *why, size_t cap)
{
    static const char *const sub[] = {"metadata", "data/dv"};
    char abs[4200];
    /* refs holds absolute paths under the table's location: compare by
     * the part after the table directory. */
    for (size_t k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, sub[k]);
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            if (de->d_name[0] == '.' ||
                (k == 0 && (n < 5 || strcmp(de->d_name + n - 5, ".avro"))))
                continue;
            snprintf(abs, sizeof abs, "/%s/%s", sub[k], de->d_name);
            int found = 0;
            for (size_t i = 0; i < refs->n && !found; i++) {
                size_t rl = strlen(refs->v[i]), al = strlen(abs);
                found = rl >= al && !strcmp(refs->v[i] + rl - al, abs);
            }
            if (!found) {
                snprintf(why, cap, "%s/%s is referenced by no kept version",
                         sub[k], de->d_name);
                closedir(d);
                return 0;
            }
        }
        if (d)
            closedir(d);
    }
    return 1;
}

/* ------------------------------------------------------------- the test */

static void crash_rounds(int format_version)
{
    char name[64], why[1024] = "";
    snprintf(name, sizeof name, "view_crash_v%d", format_version);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir(name));
    int rounds = (int)(12 * meru_test_scale());
    if (rounds < 3)
        rounds = 3;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        uint64_t seed = meru_test_rand() | 1;
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(dir, format_version, seed, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        char c;
        ssize_t got = read(fds[0], &c, 1);
        close(fds[0]);
        if (got == 1) {
            /* A random moment of its work (not a timing assertion). */
            struct timespec ts = {0, (long)(50 + meru_test_rand() % 600) *
                                         1000000L};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
        }
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "round %d: the child ended by itself (status %d)", round,
                  status);

        /* As left by the kill, before anything opens the table. */
        strset refs = {0};
        CHECK_MSG(kept_refs(dir, &refs, why, sizeof why), "round %d: %s",
                  round, why);
        set_free(&refs);

        /* Recovery, then the view against the scan. */
        meru_options o;
        view_options(&o, format_version);
        meru_db *db = NULL;
        CHECK_OK(meru_open(dir, &o, NULL, &db));
        uint64_t rows = 0;
        why[0] = 0;
        int rc = meru_db_check_iceberg(db, &rows, why, sizeof why);
        CHECK_MSG(rc == MERU_OK, "round %d: the view against the scan: %d "
                  "(%s) %s %s",
                  round, rc, meru_strerror(rc), why, meru_errmsg());
        CHECK_OK(meru_close(db));
        meru_db_free(db);

        /* GC: nothing leaked, nothing referenced missing. */
        CHECK_MSG(kept_refs(dir, &refs, why, sizeof why), "round %d: %s",
                  round, why);
        CHECK_MSG(no_leaked_view_files(dir, &refs, why, sizeof why),
                  "round %d: %s", round, why);
        set_free(&refs);
    }
}

static void test_view_survives_kill_v3(void) { crash_rounds(3); }
static void test_view_survives_kill_v2(void) { crash_rounds(2); }

int main(void)
{
    MERU_TEST_RUN(test_view_survives_kill_v3);
    MERU_TEST_RUN(test_view_survives_kill_v2);
    return meru_test_finish();
}
