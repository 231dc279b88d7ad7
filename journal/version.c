/* version.c - the library's release at run time */
#include "version.h"

const char *
wstape_version(void)
{
	return WSTAPE_VERSION_STRING;
}
