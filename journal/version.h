/* version.h - the version of wstape and of its library: one place for both
 *
 * Installed as <wstape/version.h>. WSTAPE_VERSION_* say which release a program was
 * compiled against; wstape_version() says which library it runs with (they differ when a
 * newer libwstape.so.1 was installed since). */
#ifndef WSTAPE_VERSION_H
#define WSTAPE_VERSION_H

#define WSTAPE_VERSION_MAJOR 0
#define WSTAPE_VERSION_MINOR 1
#define WSTAPE_VERSION_PATCH 0
#define WSTAPE_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The release of the running library, e.g. "0.1.0". Static string. */
const char *wstape_version(void);

#ifdef __cplusplus
}
#endif

#endif
