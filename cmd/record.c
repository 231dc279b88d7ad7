/* record.c - `wstape record` (being built; see the open issue) */
#include <stdio.h>

#include "cmd/cmd.h"

const char cmd_record_usage[] = "usage: wstape record ...\n";

int
cmd_record(int argc, char **argv)
{
	fprintf(stderr, "wstape: 'record' is not built yet\n");
	return EXIT_USAGE;
}
