/* The subcommands of `mmusim`. Each takes argv after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code (enum mmusim_exit). */
#ifndef MMUSIM_SIM_COMMANDS_H
#define MMUSIM_SIM_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_mrc(int argc, char **argv);

#endif
