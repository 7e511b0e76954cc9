/* SPDX-License-Identifier: MIT */
/*
 * Where a position in a section's SQL lies in its revision file: the one
 * owner of that mapping, used by the engine for server error positions
 * (apply.c) and by the linter (lint/) for libpg_query's cursor positions
 * and statement locations. Header-only, so that the lint component, which
 * links the public library, uses the very same code.
 */
#ifndef LIBMIGRATE_SQL_POSITION_H
#define LIBMIGRATE_SQL_POSITION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Map a 1-based character position in @sql (PostgreSQL and libpg_query
 * count characters, not bytes) to a file line (the section's SQL starts
 * on @first_line) and a 1-based column in characters. Returns false when
 * @pos is not inside @sql.
 */
static inline bool
migrate__sql_position(const char *sql,
		      long pos,
		      size_t first_line,
		      size_t *line,
		      size_t *col)
{
	const unsigned char *p;
	size_t nl = 0, c = 1;
	long ch = 0;

	if (!sql || pos <= 0)
		return false;
	for (p = (const unsigned char *)sql; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		if (++ch == pos) {
			*line = first_line + nl;
			*col = c;
			return true;
		}
		if (*p == '\n') {
			nl++;
			c = 1;
		} else {
			c++;
		}
	}
	return false;
}

/* The 1-based character position of byte @offset of @sql (libpg_query's
 * statement and node locations are byte offsets). */
static inline long
migrate__sql_char_position(const char *sql, size_t offset)
{
	long ch = 0;
	size_t i;

	for (i = 0; i <= offset && sql[i]; i++)
		if (((unsigned char)sql[i] & 0xC0) != 0x80)
			ch++;
	return ch;
}

#endif /* LIBMIGRATE_SQL_POSITION_H */
