/* mmusim: the command. Dispatches to the subcommands in sim/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "models/common/errors.h"
#include "sim/commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "mmusim %s: a cycle-approximate simulator of the MMU, the memory hierarchy and a\n"
            "Linux-like kernel memory manager, driven by address traces.\n\n"
            "usage: mmusim COMMAND [options]\n\n"
            "commands:\n"
            "  run      simulate traces and report (mmusim run --help)\n"
            "  info     describe a trace: format, records, footprint\n"
            "  convert  convert any supported trace to the native format\n"
            "  gen      generate a synthetic trace (stream, stride, random, chase, zipf, mix)\n"
            "  bench    measure decoding and simulation speed\n"
            "  capture  run a program under valgrind and write its trace with OS events\n"
            "  mrc      miss-ratio curves of every cache and TLB size, one pass (mmusim mrc --help)\n"
            "  version  print the version\n",
            MMUSIM_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MMUSIM_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "convert"))
        return cmd_convert(argc - 1, argv + 1);
    if (!strcmp(cmd, "gen"))
        return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "capture"))
        return cmd_capture(argc - 1, argv + 1);
    if (!strcmp(cmd, "mrc"))
        return cmd_mrc(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("mmusim %s\n", MMUSIM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mmusim: unknown command '%s'\n", cmd);
    usage(stderr);
    return MMUSIM_EXIT_USAGE;
}
