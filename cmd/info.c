/* info.c - placeholder until the journal lands */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_info_usage[] = "usage: wstape info ...\n";

int
cmd_info(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'info' is not built yet\n");
	return EXIT_USAGE;
}
