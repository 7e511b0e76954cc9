/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for revision files: the input holds one or more files
 * separated by a line "-- fuzz:next-file", each parsed into one registry
 * (so that duplicates, merges, unknown parents and cycles are reachable),
 * then the registry is validated and every SQL section is split into
 * statements as a non-transactional run would. Each file is copied into a
 * buffer of exactly its size so that any read past the end is caught.
 */
/* memmem() */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEPARATOR "\n-- fuzz:next-file\n"
#define MAX_FILES 16

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static const char *
find(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	return len >= nl ? memmem(s, len, needle, nl) : NULL;
}

static void
split_section(const struct migrate_section *sec)
{
	struct migrate_sql_stmt *v = NULL;
	size_t n = 0;
	int rc;

	if (!sec->sql)
		return;
	rc = migrate__sql_split(sec->sql, strlen(sec->sql), &v, &n, NULL);
	check(rc == 0 || rc == MIGRATE_EPARSE || rc == MIGRATE_ENOMEM);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct migrate_registry *reg = NULL;
	size_t off = 0, i;
	int nfile, rc;

	if (migrate_registry_new(&reg) != 0)
		return 0;
	for (nfile = 0; nfile < MAX_FILES && off <= size; nfile++) {
		const char *sep = find(s + off, size - off, SEPARATOR);
		size_t len = sep ? (size_t)(sep - (s + off)) : size - off;
		char name[32];
		char *copy = malloc(len ? len : 1);
		const char *msg;

		check(copy != NULL);
		if (len)
			memcpy(copy, s + off, len);
		snprintf(name, sizeof(name), "r%d.sql", nfile);
		rc = migrate_registry_parse(reg, name, copy, len);
		free(copy);
		check(rc == 0 || rc == MIGRATE_EPARSE ||
		      rc == MIGRATE_ECONFLICT || rc == MIGRATE_ENOMEM);
		msg = migrate_registry_errmsg(reg);
		check(msg != NULL);
		if (rc == 0)
			check(msg[0] == '\0');
		else if (rc == MIGRATE_EPARSE)
			check(strncmp(msg, name, strlen(name)) == 0 &&
			      msg[strlen(name)] == ':');
		else
			check(msg[0] != '\0');
		if (!sep)
			break;
		off += len + strlen(SEPARATOR);
	}

	rc = migrate_registry_validate(reg);
	check(rc == 0 || rc == MIGRATE_ECONFLICT || rc == MIGRATE_EINVAL ||
	      rc == MIGRATE_ENOMEM);
	check(rc != 0 || migrate_registry_errmsg(reg)[0] == '\0');
	check(rc == 0 || migrate_registry_errmsg(reg)[0] != '\0');
	check(migrate_registry_count(reg) == reg->n_revs);
	if (rc == 0)
		check(reg->n_revs > 0 && reg->n_heads > 0);

	for (i = 0; i < reg->n_revs; i++) {
		const struct migrate_revision *rev = reg->revs[i];

		check(migrate_revision_id(rev) != NULL);
		check(migrate__id_is_valid(rev->id, strlen(rev->id)));
		split_section(&rev->up);
		split_section(&rev->down);
	}
	migrate_registry_free(reg);
	return 0;
}
