/* meta.c - the journal's metadata file (J/META): small key=value strings, read at open and
 * written at once, atomically, on every change */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "handle.h"

void
meta_free(struct journal_meta *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->kv[i].key);
		free(m->kv[i].value);
	}
	free(m->kv);
	m->kv = NULL;
	m->n = 0;
}

int
meta_put(struct journal_meta *m, const char *key, const char *value)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].key, key) == 0) {
			char *v = strdup(value);
			if (!v)
				return ENOMEM;
			free(m->kv[i].value);
			m->kv[i].value = v;
			return 0;
		}
	struct meta_kv *kv = realloc(m->kv, (m->n + 1) * sizeof(*kv));
	if (!kv)
		return ENOMEM;
	m->kv = kv;
	kv[m->n].key = strdup(key);
	kv[m->n].value = strdup(value);
	if (!kv[m->n].key || !kv[m->n].value) {
		free(kv[m->n].key);
		free(kv[m->n].value);
		return ENOMEM;
	}
	m->n++;
	return 0;
}

int
meta_load(struct journal_meta *m, const char *dir)
{
	char path[4200], line[8400];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/" META_FILE, dir);
	if (!(f = fopen(path, "r")))
		return errno;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		if ((rc = meta_put(m, line, eq + 1)) != 0)
			break;
	}
	if (ferror(f) && !rc)
		rc = EIO;
	fclose(f);
	return rc;
}

int
meta_store(const struct journal_meta *m, const char *dir)
{
	char path[4200], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" META_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" META_FILE ".tmp", dir);
	if (!(f = fopen(tmp, "w")))
		return errno;
	fprintf(f, "# wstape journal metadata\n");
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "%s=%s\n", m->kv[i].key, m->kv[i].value);
	return journal_file_commit(f, tmp, path, dir);
}

const char *
meta_find(const struct journal_meta *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].key, key) == 0)
			return m->kv[i].value;
	return NULL;
}

const char *
journal_meta_get(struct journal *j, const char *key)
{
	return meta_find(&j->meta, key);
}

static int
meta_text_ok(const char *s, int is_key)
{
	size_t n = strlen(s);
	if (n > 4096 || (is_key && n == 0))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (is_key && *s == '='))
			return 0;
	return 1;
}

int
journal_meta_set(struct journal *j, const char *key, const char *value)
{
	int rc;
	if (j->flags & JOURNAL_RDONLY)
		return JOURNAL_ERDONLY;
	if (!meta_text_ok(key, 1) || !meta_text_ok(value, 0))
		return JOURNAL_EINVAL;
	if ((rc = meta_put(&j->meta, key, value)) != 0)
		return rc;
	return meta_store(&j->meta, j->dir);
}
