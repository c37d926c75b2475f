/*
 * meru.c — entry point of the `meru` command-line tool: dispatches the verb
 * to its command (commands.h).
 */
#include <stdio.h>
#include <string.h>

#include "merutable.h"
#include "tools/commands.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} verb;

static const verb verbs[] = {
    {"demo", meru_cmd_demo, "demo [DIR] [--quick]   run a demo workload"},
    {"parquet", meru_cmd_parquet,
     "parquet inspect FILE | parquet cat FILE [--columns a,b] [--limit N]"},
};

static void usage(FILE *f)
{
    fprintf(f, "meru %s — merutable command-line tool\n\nusage:\n",
            meru_version());
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  meru %s\n", verbs[i].usage);
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
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "meru: unknown command '%s' (try 'meru --help')\n",
            argv[1]);
    return 2;
}
