/* mmusim run: being written; this placeholder keeps the build whole until it lands. */
#include <stdio.h>

#include "models/common/errors.h"
#include "sim/commands.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mmusim run: not available in this build\n");
    return MMUSIM_EXIT_USAGE;
}
