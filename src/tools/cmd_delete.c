/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_delete.c — `meru delete DIR KEY...` and `meru delete DIR -`.
 *
 * Keys given as arguments (one value per key column, several keys one
 * after another) are deleted in one atomic write batch. With `-`, stdin
 * holds one key a line as a JSON array of its values ([5,"abc"]; for a
 * one-column key a bare value works too), deleted in batches of 1000.
 * Deleting a key that is absent is not an error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

#define DELETE_BATCH 1000

static int delete_stdin(meru_db *db, meru_row *key, meru_write_batch *b,
                        uint64_t *done)
{
    size_t nkey = meru_schema_key_count(meru_db_schema(db));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int st = CLI_FAIL, rc;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                           line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        char what[64];
        snprintf(what, sizeof what, "line %" PRIu64 " of stdin", lineno);
        meru_row_clear(key);
        if (*p == '[')
            rc = cli_key_from_json_array(key, p);
        else if (nkey == 1)
            rc = cli_key_from_words(key, &p, 1);
        else
            rc = cli_fail("%s: expected a JSON array of %zu key values", what,
                          nkey);
        if (rc) {
            fprintf(stderr, "meru delete: (at %s)\n", what);
            goto out;
        }
        if ((rc = meru_write_batch_delete(b, key))) {
            cli_api_fail(rc, what);
            goto out;
        }
        if (meru_write_batch_count(b) >= DELETE_BATCH) {
            size_t n = meru_write_batch_count(b);
            if ((rc = meru_write(db, b, NULL))) {
                cli_api_fail(rc, "write");
                goto out;
            }
            *done += n;
            meru_write_batch_clear(b);
        }
    }
    size_t n = meru_write_batch_count(b);
    if (n && (rc = meru_write(db, b, NULL))) {
        cli_api_fail(rc, "write");
        goto out;
    }
    *done += n;
    st = CLI_OK;
out:
    free(line);
    if (st && *done)
        fprintf(stderr,
                "meru delete: %" PRIu64 " key%s deleted before the "
                "error\n",
                *done, *done == 1 ? " was" : "s were");
    return st;
}

int meru_cmd_delete(int argc, char **argv)
{
    static const cli_option none[] = {{NULL, 0, NULL, NULL}};
    cli_set_verb("delete", meru_verb_usage("delete"));
    int st = CLI_OK, rc, o;
    meru_db *db = NULL;
    meru_row *key = NULL;
    meru_write_batch *b = NULL;
    uint64_t done = 0;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, none))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        ;
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos < 2) {
        st = cli_usage("missing %s", p.npos ? "KEY (or '-')" : "DIR");
        goto out;
    }
    char *const *vals = (char *const *)p.pos + 1;
    size_t nvals = (size_t)p.npos - 1;
    int from_stdin = nvals == 1 && !strcmp(vals[0], "-");
    if ((st = cli_open(p.pos[0], 0, &db)))
        goto out;
    const meru_schema *s = meru_db_schema(db);
    size_t nkey = meru_schema_key_count(s);
    if ((rc = meru_row_new(&key, s)) || (rc = meru_write_batch_new(&b, s))) {
        st = cli_api_fail(rc, "allocation");
        goto out;
    }
    if (from_stdin) {
        st = delete_stdin(db, key, b, &done);
    } else if (nvals % nkey) {
        st = cli_usage("the key has %zu column%s: give %zu value%s per key, "
                       "got %zu",
                       nkey, nkey == 1 ? "" : "s", nkey, nkey == 1 ? "" : "s",
                       nvals);
    } else {
        st = CLI_OK;
        for (size_t k = 0; !st && k < nvals; k += nkey) {
            meru_row_clear(key);
            if (cli_key_from_words(key, vals + k, nkey))
                st = CLI_FAIL;
            else if ((rc = meru_write_batch_delete(b, key)))
                st = cli_api_fail(rc, "delete");
        }
        if (!st && (rc = meru_write(db, b, NULL)))
            st = cli_api_fail(rc, "write");
        if (!st)
            done = nvals / nkey;
        else
            fprintf(stderr, "meru delete: nothing was deleted\n");
    }
    if (!st)
        printf("%" PRIu64 " key%s deleted\n", done, done == 1 ? "" : "s");
out:
    meru_write_batch_free(b);
    meru_row_free(key);
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
