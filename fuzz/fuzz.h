/* fuzz.h - what the libFuzzer harnesses in fuzz/ share: a scratch journal directory on
 * tmpfs, file helpers and a check that aborts (so that libFuzzer keeps the input)
 *
 * Each fuzz/NAME.c defines LLVMFuzzerTestOneInput. Built with clang -fsanitize=fuzzer
 * (make fuzz) it is a fuzzer; built with fuzz/main.c (make test) it replays the files of
 * fuzz/corpus/NAME and fuzz/crashes/NAME, so every input kept stays a regression test. */
#ifndef WSTAPE_FUZZ_H
#define WSTAPE_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define FUZZ_PATH 4096

/* snprintf into a path buffer; a path that does not fit aborts. */
#define fuzz_path(buf, n, ...) \
	do { \
		int fuzz_k_ = snprintf((buf), (n), __VA_ARGS__); \
		if (fuzz_k_ < 0 || (size_t)fuzz_k_ >= (size_t)(n)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which and abort, so that the input is kept as a crash. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* A directory of this process for scratch journals, made once: on /dev/shm when it is
 * there (the harnesses write a journal per input), else under TMPDIR. Removed at exit. */
static char fuzz_base[256];

static inline void
fuzz_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char sub[FUZZ_PATH];
		if (d) {
			while ((e = readdir(d))) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				fuzz_path(sub, sizeof(sub), "%s/%s", path, e->d_name);
				fuzz_rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_base[0])
		fuzz_rm_rf(fuzz_base);
}

static inline const char *
fuzz_scratch(void)
{
	if (!fuzz_base[0]) {
		const char *t = getenv("TMPDIR");
		struct stat st;
		if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
			t = "/dev/shm";
		snprintf(fuzz_base, sizeof(fuzz_base), "%s/wstape-fuzz.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(fuzz_base)) {
			perror("mkdtemp");
			abort();
		}
		log_threshold = -1; /* the libraries' warnings on damaged input are expected */
		atexit(fuzz_cleanup);
	}
	return fuzz_base;
}

/* An empty directory NAME in the scratch directory (emptied when it was there). */
static inline const char *
fuzz_dir(const char *name, char *buf, size_t n)
{
	fuzz_path(buf, n, "%s/%s", fuzz_scratch(), name);
	fuzz_rm_rf(buf);
	if (mkdir(buf, 0755) != 0) {
		perror(buf);
		abort();
	}
	return buf;
}

static inline void
fuzz_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[FUZZ_PATH];
	fuzz_path(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0) {
		perror(path);
		abort();
	}
}

/* Read a whole file into *p (malloc'd); returns its size. Aborts on failure. */
static inline size_t
fuzz_read(const char *path, uint8_t **p)
{
	FILE *f = fopen(path, "rb");
	long n;
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		abort();
	}
	*p = malloc((size_t)n + 1);
	if (!*p || fread(*p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		abort();
	}
	fclose(f);
	return (size_t)n;
}

/* The META of a version 1 journal of the given feed. */
static inline void
fuzz_write_meta(const char *dir, const char *feed)
{
	char meta[256];
	int n = snprintf(meta, sizeof(meta), "# wstape journal metadata\nformat=1\nfeed=%s\n", feed);
	fuzz_write(dir, "META", meta, (size_t)n);
}

#endif
