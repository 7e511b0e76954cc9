/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the lint entry points: the input holds one or more
 * revision files separated by a line "-- fuzz:next-file" (as
 * fuzz-revision-file), parsed into one registry; when it validates, every
 * revision is linted (libpg_query parse, scanner, waivers, rules, facts of
 * the revision graph) and every section goes through the pre-flight parse.
 * Each finding must be well formed: a known rule, a severity, a message,
 * a statement, and a line inside the file when it has one.
 */
/* memmem() */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "migrate-lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEPARATOR "\n-- fuzz:next-file\n"
#define MAX_FILES 8

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static void
check_findings(const struct migrate_lint *l, size_t max_line)
{
	size_t i, n = migrate_lint_count(l);

	for (i = 0; i < n; i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		check(f != NULL && f->rule != NULL);
		check(migrate_lint_rule_find(f->rule->id) == f->rule);
		check(f->severity == f->rule->severity);
		check(f->message != NULL && f->statement != NULL);
		check(f->revision != NULL);
		check(strchr(f->message, '\n') == NULL);
		check(strchr(f->statement, '\n') == NULL);
		check(f->line <= max_line);
	}
	check(migrate_lint_at(l, n) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct migrate_registry *reg = NULL;
	struct migrate_lint *l = NULL;
	size_t off = 0, i, n, lines = 1;
	int nfile;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (migrate_registry_new(&reg) != 0)
		return 0;
	for (nfile = 0; nfile < MAX_FILES && off <= size; nfile++) {
		const char *sep = size - off >= strlen(SEPARATOR)
					  ? memmem(s + off, size - off,
						   SEPARATOR, strlen(SEPARATOR))
					  : NULL;
		size_t len = sep ? (size_t)(sep - (s + off)) : size - off;
		char name[32];
		char *copy = malloc(len ? len : 1);

		check(copy != NULL);
		if (len)
			memcpy(copy, s + off, len);
		snprintf(name, sizeof(name), "r%d.sql", nfile);
		(void)migrate_registry_parse(reg, name, copy, len);
		free(copy);
		if (!sep)
			break;
		off += len + strlen(SEPARATOR);
	}
	if (migrate_registry_validate(reg) == 0) {
		check(migrate_lint_new(&l) == 0);
		check(migrate_lint_run(l, reg, NULL, 0, 0) == 0);
		check_findings(l, lines);
		migrate_lint_free(l);

		check(migrate_lint_new(&l) == 0);
		n = migrate_registry_count(reg);
		for (i = 0; i < n; i++) {
			const struct migrate_revision *rev =
				migrate_registry_at(reg, i);

			check(migrate_lint_parse_section(l, rev, MIGRATE_UP) ==
			      0);
			check(migrate_lint_parse_section(l, rev,
							 MIGRATE_DOWN) == 0);
		}
		check_findings(l, lines);
		for (i = 0; i < migrate_lint_count(l); i++)
			check(strcmp(migrate_lint_at(l, i)->rule->id,
				     "syntax-error") == 0);
		migrate_lint_free(l);
	}
	migrate_registry_free(reg);
	return 0;
}
