/* replay.c - `wstape replay` (being built; see the open issue) */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_replay_usage[] = "usage: wstape replay ...\n";

int
cmd_replay(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'replay' is not built yet\n");
	return EXIT_USAGE;
}
