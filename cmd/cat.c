/* cat.c - placeholder until the journal lands */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_cat_usage[] = "usage: wstape cat ...\n";

int
cmd_cat(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'cat' is not built yet\n");
	return EXIT_USAGE;
}
