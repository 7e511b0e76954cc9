/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for migrate__sql_split(). Besides crashes, leaks and
 * undefined behaviour it checks the splitter's invariants: statements are
 * in order, inside the input, trimmed, separated by a ';', carry the right
 * line and column, and each one split again on its own is one statement.
 * All checks are linear so that slow inputs mean a slow splitter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static void
check_positions(const char *s,
		size_t size,
		const struct migrate_sql_stmt *v,
		size_t n)
{
	size_t i, k = 0, line = 1, col = 1, prev_end = 0;

	for (i = 0; i < n; i++) {
		const struct migrate_sql_stmt *st = &v[i];
		bool semi = false;

		check(st->offset <= size && st->len <= size - st->offset);
		check(st->len > 0);
		check(!blank(s[st->offset]));
		check(!blank(s[st->offset + st->len - 1]));
		check(i == 0 || st->offset > prev_end);
		/* Between two statements there is at least one ';'. */
		for (; k < st->offset; k++) {
			unsigned char c = (unsigned char)s[k];

			if (k >= prev_end && c == ';')
				semi = true;
			if (c == '\n') {
				line++;
				col = 1;
			} else if ((c & 0xC0) != 0x80) {
				col++;
			}
		}
		check(i == 0 || semi);
		check(st->line == line && st->column == col);
		prev_end = st->offset + st->len;
	}
}

/* Does the text hold "standard_conforming_strings" (any case)? */
static bool
mentions_scs(const char *s, size_t size)
{
	static const char word[] = "standard_conforming_strings";
	size_t i, k, n = sizeof(word) - 1;

	for (i = 0; i + n <= size; i++) {
		for (k = 0; k < n; k++) {
			char c = s[i + k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != word[k])
				break;
		}
		if (k == n)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct migrate_sql_stmt *v = NULL, *w = NULL;
	size_t n = 0, m = 0, i;
	struct migrate_diag err;
	int rc, rc2;

	rc = migrate__sql_split(s, size, &v, &n, &err);
	check(rc == 0 || rc == MIGRATE_EPARSE || rc == MIGRATE_ENOMEM);
	check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);

	/* No diagnostics: same outcome. */
	rc2 = migrate__sql_split(s, size, &w, &m, NULL);
	check(rc2 == rc && m == n);
	free(w);

	if (rc != 0) {
		check(v == NULL && n == 0);
		if (rc == MIGRATE_EPARSE)
			check(strncmp(err.msg, "line ", 5) == 0);
		return 0;
	}
	check(err.msg[0] == '\0');
	check((n == 0) == (v == NULL));
	check_positions(s, size, v, n);

	/* Each statement alone is one statement, itself. The only context
	 * it loses is what precedes it on its line, so a leading backslash
	 * may turn into a psql meta-command, and a change of
	 * standard_conforming_strings before it (then nothing is checked). */
	for (i = 0; i < n && !mentions_scs(s, size); i++) {
		char *copy = malloc(v[i].len);

		check(copy != NULL);
		memcpy(copy, s + v[i].offset, v[i].len);
		rc2 = migrate__sql_split(copy, v[i].len, &w, &m, &err);
		if (rc2 == MIGRATE_EPARSE) {
			check(copy[0] == '\\');
		} else {
			check(rc2 == 0);
			check(m == 1);
			check(w[0].offset == 0 && w[0].len == v[i].len);
			check(w[0].line == 1 && w[0].column == 1);
		}
		free(w);
		free(copy);
	}
	free(v);
	return 0;
}
