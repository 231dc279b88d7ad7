/* main.c - replay the inputs kept for a harness without libFuzzer: each argument is a file
 * or a directory of files, each file one input to LLVMFuzzerTestOneInput. Linked with
 * each fuzz/NAME.c by `make test`, so that the corpora and crash inputs are regression
 * tests with any compiler; a crash or a failed check aborts, as under the fuzzer. */
#include "fuzz/fuzz.h"

static unsigned long runs;

static int
run_file(const char *path)
{
	uint8_t *p;
	size_t n = fuzz_read(path, &p);
	/* exactly n bytes, as libFuzzer hands them: an overread is seen by ASan */
	uint8_t *q = malloc(n ? n : 1);
	memcpy(q, p, n);
	free(p);
	LLVMFuzzerTestOneInput(q, n);
	free(q);
	runs++;
	return 0;
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			run_file(argv[i]);
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);
		if (n < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		for (int k = 0; k < n; k++) {
			char path[FUZZ_PATH];
			fuzz_path(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
			if (names[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
				run_file(path);
			free(names[k]);
		}
		free(names);
	}
	printf("%lu inputs ran\n", runs);
	return 0;
}
