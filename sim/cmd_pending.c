/* Subcommands whose implementation is being written in parallel; each moves to its own file. */
#include <stdio.h>

#include "models/common/errors.h"
#include "sim/commands.h"

static int pending(const char *name)
{
    fprintf(stderr, "mmusim %s: not available in this build\n", name);
    return MMUSIM_EXIT_USAGE;
}

int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return pending("run"); }
int cmd_info(int argc, char **argv) { (void)argc; (void)argv; return pending("info"); }
int cmd_convert(int argc, char **argv) { (void)argc; (void)argv; return pending("convert"); }
int cmd_gen(int argc, char **argv) { (void)argc; (void)argv; return pending("gen"); }
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; return pending("bench"); }
