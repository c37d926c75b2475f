/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_property.c — `meru set-property DIR KEY VALUE` and
 * `meru set-property DIR KEY --unset`: meru_set_property() on a table
 * opened for writing (validated by the library, committed as one metadata
 * version; a table-shaping key applies to the files written from then on).
 *
 * Also the list of property keys for `meru help create|set-property`,
 * taken from the library's own table (engine/table_props.h), so the help
 * cannot drift from what the library accepts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/table_props.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

void meru_print_property_keys(void)
{
    size_t n, w = 0;
    const meru_prop_def *d = meru_prop_defs(&n);
    for (size_t i = 0; i < n; i++)
        if (strlen(d[i].key) > w)
            w = strlen(d[i].key);
    for (size_t i = 0; i < n; i++)
        printf("  %-*s  %s\n", (int)w, d[i].key, d[i].help);
}

static const cli_option set_opts[] = {
    {"unset", 'u', NULL, "remove KEY (a table-shaping option returns to "
                         "what each opener asks for)"},
    {NULL, 0, NULL, NULL}};

int meru_cmd_set_property(int argc, char **argv)
{
    cli_set_verb("set-property", meru_verb_usage("set-property"));
    int unset = 0, st = CLI_OK, rc, o;
    meru_db *db = NULL;
    cli_parser p;
    const char *v;
    if (cli_parser_init(&p, argc, argv, set_opts))
        return cli_fail("out of memory");
    while ((o = cli_next(&p, &v)) >= 0)
        unset = 1;
    if (o != CLI_DONE) {
        st = o == CLI_HELP ? CLI_OK : CLI_USAGE;
        goto out;
    }
    int want = unset ? 2 : 3;
    if (p.npos < want) {
        st = cli_usage("missing %s", p.npos == 0   ? "DIR"
                                     : p.npos == 1 ? "KEY"
                                                   : "VALUE (or --unset)");
        goto out;
    }
    if (p.npos > want) {
        st = cli_usage("unexpected argument '%s'%s", p.pos[want],
                       unset ? " (--unset takes no VALUE)" : "");
        goto out;
    }
    const char *dir = p.pos[0], *key = p.pos[1],
               *value = unset ? NULL : p.pos[2];
    if ((st = cli_open(dir, 0, &db)))
        goto out;
    if ((rc = meru_set_property(db, key, value))) {
        st = cli_api_fail(rc, "set-property");
        goto out;
    }
    meru_stats s;
    if (meru_stats_get(db, &s) == MERU_OK) {
        if (value)
            printf("%s: %s = %s (metadata v%" PRIu64 ")\n", dir, key, value,
                   s.metadata_version);
        else
            printf("%s: %s removed (metadata v%" PRIu64 ")\n", dir, key,
                   s.metadata_version);
    }
out:
    cli_parser_free(&p);
    if (db) {
        int cst = cli_close(db);
        if (!st)
            st = cst;
    }
    return st;
}
