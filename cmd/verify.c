/* verify.c - placeholder until the journal lands */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_verify_usage[] = "usage: wstape verify ...\n";

int
cmd_verify(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'verify' is not built yet\n");
	return EXIT_USAGE;
}
