/* import.c - placeholder until the journal lands */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_import_usage[] = "usage: wstape import ...\n";

int
cmd_import(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'import' is not built yet\n");
	return EXIT_USAGE;
}
