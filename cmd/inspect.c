/* inspect.c - `wstape inspect` (being built; see the open issue) */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_inspect_usage[] = "usage: wstape inspect ...\n";

int
cmd_inspect(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'inspect' is not built yet\n");
	return EXIT_USAGE;
}
