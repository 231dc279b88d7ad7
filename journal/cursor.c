/* cursor.c - the order of cursors (docs/FORMAT.md, "Cursor order"): a total order, so that
 * the running maximum that chanblk keeps and a scan of the records agree on where a seek
 * lands: every numeric cursor comes before every other, numeric ones compare component by
 * component as numbers, the others as bytes. */
#include <stdint.h>
#include <string.h>

#include "journal.h"

/* Split off the next ':'-separated component; 1 when it is all digits. */
static int
next_component(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	const uint8_t *q = *p;
	int digits = q < end;
	*s = q;
	while (q < end && *q != ':') {
		if (*q < '0' || *q > '9')
			digits = 0;
		q++;
	}
	*n = (size_t)(q - *s);
	*p = q < end ? q + 1 : q;
	return digits;
}

static int
numeric_cursor(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *s;
	size_t len;
	if (n == 0)
		return 0;
	while (p < end)
		if (!next_component(&p, end, &s, &len))
			return 0;
	return n == 0 || p[-1] != ':';
}

int
journal_cursor_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	const uint8_t *pa = a, *pb = b;
	int na_num = numeric_cursor(pa, alen), nb_num = numeric_cursor(pb, blen);

	if (na_num != nb_num)
		return na_num ? -1 : 1;
	if (na_num) {
		const uint8_t *ea = pa + alen, *eb = pb + blen, *sa, *sb;
		size_t na, nb;
		while (pa < ea && pb < eb) {
			next_component(&pa, ea, &sa, &na);
			next_component(&pb, eb, &sb, &nb);
			while (na > 1 && *sa == '0')
				sa++, na--;
			while (nb > 1 && *sb == '0')
				sb++, nb--;
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = memcmp(sa, sb, na);
			if (c)
				return c;
		}
		return (pa < ea) - (pb < eb);
	}
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}
