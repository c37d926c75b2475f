/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meru.c — entry point of the `meru` command-line tool: dispatches the verb
 * to its command (commands.h) and owns the verb table and usage text.
 *
 * `meru help` lists the verbs, `meru help VERB` (or `meru VERB --help`)
 * shows one with its options and details; a mistyped verb gets the
 * nearest one suggested. LC_CTYPE is set to a UTF-8 locale so wcwidth()
 * knows how wide CJK and combining characters are when the table output
 * aligns columns (numbers are formatted by the library, independent of
 * the locale).
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "merutable.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "util/suggest.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *what;
    void (*details)(void); /* more help after the options, or NULL */
} verb;

static void create_details(void);
static void scan_details(void);
static void property_details(void);
static void iceberg_details(void);
static void add_column_details(void);
static void export_details(void);
static void changes_details(void);

static const verb verbs[] = {
    {"create", meru_cmd_create,
     "create DIR --schema \"COLUMNS\" --primary-key COL[,COL...] [--name N] "
     "[--property KEY=VALUE]... [--iceberg-format-version 2|3] "
     "[--changes-retention SECONDS]",
     "create a table", create_details},
    {"put", meru_cmd_put, "put DIR JSON... | put DIR - (JSON lines on stdin)",
     "insert or replace rows", NULL},
    {"load", meru_cmd_load,
     "load DIR FILE.csv|FILE.jsonl|- [--format csv|jsonl] [--batch N]",
     "bulk-load a CSV or JSON-lines file", NULL},
    {"get", meru_cmd_get, "get DIR KEY... [--format jsonl|csv|table]",
     "print the rows with these keys", NULL},
    {"delete", meru_cmd_delete,
     "delete DIR KEY... | delete DIR - (a JSON array of key values a line)",
     "delete rows by key", NULL},
    {"scan", meru_cmd_scan,
     "scan DIR [--from KEY] [--to KEY] [--prefix KEY] [--reverse] "
     "[--limit N] [--columns a,b] [--format jsonl|csv|table]",
     "print rows in key order", scan_details},
    {"count", meru_cmd_count,
     "count DIR [--from KEY] [--to KEY] [--prefix KEY]", "count rows",
     scan_details},
    {"changes", meru_cmd_changes,
     "changes DIR [--since N] [--follow] [--limit N] "
     "[--format jsonl|csv|table]",
     "print the change feed: inserts, updates, deletes after sequence N",
     changes_details},
    {"flush", meru_cmd_flush, "flush DIR", "write the memtable to Parquet",
     NULL},
    {"compact", meru_cmd_compact, "compact DIR",
     "merge all levels down, dropping old versions and deletes", NULL},
    {"add-column", meru_cmd_add_column,
     "add-column DIR \"NAME TYPE [not null] [default LITERAL]\"",
     "add a column (a new schema id; defaults and NOT NULL need format v3)",
     add_column_details},
    {"stats", meru_cmd_stats, "stats DIR [--json]", "show table statistics",
     NULL},
    {"describe", meru_cmd_describe, "describe DIR [--json]",
     "show the schema, key, field ids, properties, format and sizes", NULL},
    {"set-property", meru_cmd_set_property,
     "set-property DIR KEY VALUE | set-property DIR KEY --unset",
     "set or remove a table property (committed as a metadata version)",
     property_details},
    {"verify", meru_cmd_verify, "verify DIR [--quick]",
     "check metadata, log, every file and row, and the Iceberg view "
     "(--quick: sample)",
     NULL},
    {"repair", meru_cmd_repair, "repair DIR",
     "roll back damaged metadata, set aside bad files, salvage the log",
     NULL},
    {"iceberg", meru_cmd_iceberg, "iceberg DIR",
     "show the Iceberg view (snapshot, data and delete files, live rows)",
     iceberg_details},
    {"export-iceberg", meru_cmd_export_iceberg, "export-iceberg DIR TARGET",
     "write a self-contained Iceberg table into TARGET", export_details},
    {"demo", meru_cmd_demo, "demo [DIR] [--quick] [--rows N]",
     "run the demo workload", NULL},
    {"parquet", meru_cmd_parquet,
     "parquet inspect FILE | parquet cat FILE [--columns a,b] [--limit N] "
     "[--canonical]",
     "read any flat Parquet file", NULL},
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

static const verb *find_verb(const char *name)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (!strcmp(name, verbs[i].name))
            return &verbs[i];
    return NULL;
}

const char *meru_verb_usage(const char *name)
{
    const verb *v = find_verb(name);
    return v ? v->usage : "";
}

const char *meru_verb_what(const char *name)
{
    const verb *v = find_verb(name);
    return v ? v->what : "";
}

void meru_verb_print_details(const char *name)
{
    const verb *v = find_verb(name);
    if (v && v->details)
        v->details();
}

static void create_details(void)
{
    printf("\nCOLUMNS is a comma-separated list of NAME TYPE [not null | null] "
           "[default LITERAL]:\n"
           "  boolean (bool)         int32 (int)          int64 (long, "
           "bigint)\n"
           "  float                  double               string (text, "
           "varchar)\n"
           "  binary (bytes)         fixed(L)             date\n"
           "  timestamp              timestamptz          decimal(P,S), P "
           "<= 38\n"
           "e.g. \"id int64 not null, name string, price decimal(10,2) "
           "default 0, at timestamptz not null\".\n"
           "Key columns must be NOT NULL (and not float or double NaN).\n");
    property_details();
}

static void scan_details(void)
{
    printf("\nKEY is one comma-separated argument holding the leading key "
           "columns\n(--from 5, --from 5,2026-01-01); --from and --to are "
           "both inclusive.\nA value holding a comma is a JSON string: "
           "--from '5,\"a,b\"'.\n");
}

static void changes_details(void)
{
    printf("\nJSON lines, one per change in sequence order:\n"
           "  {\"seq\":42,\"op\":\"insert\"|\"update\"|\"delete\","
           "\"row\":{...}|null,\"before\":{...}|null}\n"
           "row is the row after the change, before the one it replaced or "
           "removed.\nCSV and table: _seq, _op, the columns, then "
           "before_<column> per non-key column.\nResume with --since the "
           "last seq printed. --follow polls for new commits\n(other "
           "processes' too) until SIGINT/SIGTERM. Changes are kept for the "
           "table's\nretention (meru create --changes-retention SECONDS, "
           "default 86400; 0 = off);\nasking below it fails and names the "
           "oldest --since still available.\n");
}

static void property_details(void)
{
    printf("\nTable properties merutable understands (Iceberg's keys where "
           "Iceberg has one):\n");
    meru_print_property_keys();
    printf("Other keys (owner, comment, ...) are stored as given; unknown "
           "write.* and\nmerutable.* keys and Iceberg's reserved keys are "
           "refused.\n");
}

static void add_column_details(void)
{
    printf("\nThe column is written as one column of create --schema. Its "
           "default is both the\ninitial default (what rows already in the "
           "table read) and the write default\n(what later writes that "
           "leave it unset store). The table gets a new schema with\nthe "
           "next schema id, current-schema-id moves to it, older snapshots "
           "keep theirs,\nand no data file is rewritten. On an Iceberg "
           "format version 2 table the column\nmust be nullable and have "
           "no default. Prints the new schema id.\n");
}

static void iceberg_details(void)
{
    printf("\nReads the newest metadata version's view as an Iceberg reader "
           "would (metadata ->\nmanifest list -> manifests -> deletion "
           "files), without opening or locking the\ntable. 'deleted' counts "
           "the rows of a data file its deletion vector (v3) or\n"
           "position-delete files (v2) hide. A table whose view is off "
           "shows no snapshot.\n");
}

static void export_details(void)
{
    printf("\nTARGET must not exist or be empty. Data files are hard-linked "
           "where the file\nsystem allows and copied otherwise, never "
           "rewritten; metadata, manifests and\ndeletion files are written "
           "with paths inside TARGET, so the copy stays valid\nafter DIR "
           "is moved or deleted. Works with the view off too.\n");
}

static void usage(FILE *f)
{
    fprintf(f, "meru %s — merutable command-line tool\n\nusage:\n",
            meru_version());
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  meru %s\n        %s\n", verbs[i].usage, verbs[i].what);
    fprintf(f, "  meru help [VERB]\n        this text, or one verb's options "
               "and details\n");
    fprintf(f, "\nKEY is a primary key: one argument per key column, in key "
               "order.\nIn --from/--to/--prefix it is one comma-separated "
               "argument and may\nname only the leading key columns; --to "
               "is inclusive.\nExit status: 0 ok, 1 not found or failed, 2 "
               "usage error. See docs/cli.md.\n");
}

/* `meru help [VERB]`. */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return CLI_OK;
    }
    const verb *v = find_verb(argv[2]);
    if (!v || argc > 3) {
        const char *names[NVERBS];
        for (size_t i = 0; i < NVERBS; i++)
            names[i] = verbs[i].name;
        const char *near = v ? NULL : meru_suggest(argv[2], names, NVERBS);
        if (argc > 3)
            fprintf(stderr, "meru help: one verb at a time\n");
        else if (near)
            fprintf(stderr, "meru help: unknown command '%s' (did you mean "
                            "'%s'?)\n",
                    argv[2], near);
        else
            fprintf(stderr, "meru help: unknown command '%s' (try 'meru "
                            "help')\n",
                    argv[2]);
        return CLI_USAGE;
    }
    char *sub[] = {(char *)v->name, (char *)"--help", NULL};
    return v->run(2, sub);
}

int main(int argc, char **argv)
{
    /* wcwidth() needs a UTF-8 LC_CTYPE; the library never depends on it. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        (void)setlocale(LC_CTYPE, "");
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))  {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "help"))
        return help(argc, argv);
    if (!strcmp(argv[1], "--version")) {
        printf("meru %s\n", meru_version());
        return CLI_OK;
    }
    const verb *v = find_verb(argv[1]);
    if (v)
        return v->run(argc - 1, argv + 1);
    const char *names[NVERBS];
    for (size_t i = 0; i < NVERBS; i++)
        names[i] = verbs[i].name;
    const char *near = meru_suggest(argv[1], names, NVERBS);
    if (near)
        fprintf(stderr, "meru: unknown command '%s' (did you mean '%s'?)\n",
                argv[1], near);
    else
        fprintf(stderr, "meru: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "usage: meru VERB ... (meru help lists the verbs)\n");
    return CLI_USAGE;
}
