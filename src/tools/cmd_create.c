/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_create.c — `meru create DIR --schema "COLUMNS" --primary-key COLS`.
 *
 * The schema text is meru_schema_parse()'s column list; the table name is
 * --name or the last component of DIR. --property KEY=VALUE (repeatable)
 * becomes a table property of the new table (meru_options.properties:
 * table-shaping keys set their option, other keys are stored as given).
 * --iceberg-format-version 2|3 picks the Iceberg format version
 * (meru_options.iceberg_format_version; Iceberg reserves the
 * "format-version" property key, so it is an option of its own). Refuses a
 * directory that already holds a table (error_if_exists) rather than
 * silently opening it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_util.h"
#include "tools/commands.h"

/* The last path component of `dir`, without trailing slashes. */
static void base_name(const char *dir, char *out, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    snprintf(out, cap, "%.*s", (int)(n - b), dir + b);
    if (!out[0] || !strcmp(out, ".") || !strcmp(out, "..") || !strcmp(out, "/"))
        snprintf(out, cap, "table");
}

static const cli_option create_opts[] = {
    {"schema", 's', "COLUMNS", "the columns: \"NAME TYPE [not null], ...\""},
    {"primary-key", 'k', "COL[,COL...]", "the primary key columns, in order"},
    {"name", 0, "NAME", "the table name (default: the last part of DIR)"},
    {"property", 'p', "KEY=VALUE", "a table property (repeatable)"},
    {"iceberg-format-version", 'F', "2|3",
     "the Iceberg format version (default 3; 2 writes position-delete "
     "files instead of deletion vectors)"},
    {"changes-retention", 'R', "SECONDS",
     "keep the change feed this long (default 86400; 0 = feed off)"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_create(int argc, char **argv)
{
    cli_set_verb("create", meru_verb_usage("create"));
    const char *dir = NULL, *cols = NULL, *pk = NULL, *name = NULL;
    int fver = 0;
    /* --property KEY=VALUE pairs: key, value, ..., NULL (copies) */
    char **props = calloc((size_t)argc * 2 + 1, sizeof *props);
    size_t nprops = 0;
    meru_schema *schema = NULL;
    meru_db *db = NULL;
    cli_parser p;
    const char *v;
    int o, st = CLI_OK, rc;
    if (!props || cli_parser_init(&p, argc, argv, create_opts)) {
        free(props);
        return cli_fail("out of memory");
    }
    while ((o = cli_next(&p, &v)) >= 0) {
        switch (create_opts[o].short_name) {
        case 's':
            cols = v;
            break;
        case 'k':
            pk = v;
            break;
        case 'R': {
            uint64_t secs;
            if (!cli_parse_u64("--changes-retention", v, &secs)) {
                st = CLI_USAGE;
                goto out;
            }
            props[nprops] = strdup("merutable.changes.retention-seconds");
            props[nprops + 1] = strdup(v);
            if (!props[nprops] || !props[nprops + 1]) {
                st = cli_fail("out of memory");
                goto out;
            }
            nprops += 2;
            break;
        }
        case 'p': {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                st = cli_usage("--property wants KEY=VALUE, got '%s'", v);
                goto out;
            }
            props[nprops] = strndup(v, (size_t)(eq - v));
            props[nprops + 1] = strdup(eq + 1);
            if (!props[nprops] || !props[nprops + 1]) {
                st = cli_fail("out of memory");
                goto out;
            }
            nprops += 2;
            break;
        }
        case 'F':
            if (strcmp(v, "2") && strcmp(v, "3")) {
                st = cli_usage("--iceberg-format-version must be 2 or 3, "
                               "got '%s'",
                               v);
                goto out;
            }
            fver = v[0] - '0';
            break;
        default:
            name = v;
        }
    }
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    if (p.npos == 0) {
        st = cli_usage("missing DIR");
        goto out;
    }
    if (p.npos > 1) {
        st = cli_usage("unexpected argument '%s'", p.pos[1]);
        goto out;
    }
    dir = p.pos[0];
    if (!cols) {
        st = cli_usage("missing --schema \"COLUMNS\"");
        goto out;
    }
    if (!pk) {
        st = cli_usage("missing --primary-key COL[,COL...]");
        goto out;
    }
    char tname[256];
    if (name)
        snprintf(tname, sizeof tname, "%s", name);
    else
        base_name(dir, tname, sizeof tname);

    rc = meru_schema_parse(&schema, tname, cols, pk);
    if (rc) {
        st = cli_api_fail(rc, "bad schema");
        goto out;
    }
    meru_options opts;
    meru_options_init(&opts);
    opts.create_if_missing = 1;
    opts.error_if_exists = 1;
    opts.properties = nprops ? (const char *const *)props : NULL;
    if (fver)
        opts.iceberg_format_version = fver;
    rc = meru_open(dir, &opts, schema, &db);
    if (rc == MERU_EEXIST) {
        st = cli_fail("%s already holds a table", dir);
        goto out;
    }
    if (rc) {
        char what[4200];
        snprintf(what, sizeof what, "cannot create a table at %s", dir);
        st = cli_api_fail(rc, what);
        goto out;
    }
    size_t ncols = meru_schema_column_count(schema);
    st = cli_close(db);
    db = NULL;
    if (st == CLI_OK)
        printf("created table '%s' at %s: %zu column%s, primary key (%s)\n",
               tname, dir, ncols, ncols == 1 ? "" : "s", pk);
out:
    if (db)
        (void)cli_close(db);
    meru_schema_free(schema);
    for (size_t i = 0; i < nprops; i++)
        free(props[i]);
    free(props);
    cli_parser_free(&p);
    return st;
}
