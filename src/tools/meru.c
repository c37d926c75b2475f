/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meru.c — entry point of the `meru` command-line tool: dispatches the verb
 * to its command (commands.h) and owns the verb table and usage text.
 */
#include <stdio.h>
#include <string.h>

#include "merutable.h"
#include "tools/commands.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *what;
} verb;

static const verb verbs[] = {
    {"create", meru_cmd_create,
     "create DIR --schema \"COLUMNS\" --primary-key COL[,COL...] [--name N]",
     "create a table"},
    {"put", meru_cmd_put, "put DIR JSON... | put DIR - (JSON lines on stdin)",
     "insert or replace rows"},
    {"load", meru_cmd_load,
     "load DIR FILE.csv|FILE.jsonl|- [--format csv|jsonl] [--batch N]",
     "bulk-load a CSV or JSON-lines file"},
    {"get", meru_cmd_get, "get DIR KEY... [--format jsonl|csv|table]",
     "print the rows with these keys"},
    {"delete", meru_cmd_delete,
     "delete DIR KEY... | delete DIR - (a JSON array of key values a line)",
     "delete rows by key"},
    {"scan", meru_cmd_scan,
     "scan DIR [--from KEY] [--to KEY] [--prefix KEY] [--reverse] "
     "[--limit N] [--columns a,b] [--format jsonl|csv|table]",
     "print rows in key order"},
    {"count", meru_cmd_count,
     "count DIR [--from KEY] [--to KEY] [--prefix KEY]", "count rows"},
    {"flush", meru_cmd_flush, "flush DIR", "write the memtable to Parquet"},
    {"compact", meru_cmd_compact, "compact DIR",
     "merge all levels down, dropping old versions and deletes"},
    {"add-column", meru_cmd_add_column,
     "add-column DIR \"NAME TYPE [not null] [default LITERAL]\"",
     "add a column (a new schema id; defaults and NOT NULL need format v3)"},
    {"stats", meru_cmd_stats, "stats DIR [--json]", "show table statistics"},
    {"verify", meru_cmd_verify, "verify DIR",
     "check key order, scans and gets"},
    {"demo", meru_cmd_demo, "demo [DIR] [--quick] [--rows N]",
     "run the demo workload"},
    {"parquet", meru_cmd_parquet,
     "parquet inspect FILE | parquet cat FILE [--columns a,b] [--limit N]",
     "read any flat Parquet file"},
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

const char *meru_verb_usage(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (!strcmp(name, verbs[i].name))
            return verbs[i].usage;
    return "";
}

static void usage(FILE *f)
{
    fprintf(f, "meru %s — merutable command-line tool\n\nusage:\n",
            meru_version());
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  meru %s\n        %s\n", verbs[i].usage, verbs[i].what);
    fprintf(f, "\nKEY is a primary key: one argument per key column, in key "
               "order.\nIn --from/--to/--prefix it is one comma-separated "
               "argument and may\nname only the leading key columns; --to "
               "is inclusive.\nExit status: 0 ok, 1 not found or failed, 2 "
               "usage error. See docs/cli.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("meru %s\n", meru_version());
        return 0;
    }
    for (size_t i = 0; i < NVERBS; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "meru: unknown command '%s' (try 'meru --help')\n",
            argv[1]);
    return 2;
}
