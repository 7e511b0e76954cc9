/* SPDX-License-Identifier: MIT */
/*
 * The internal, stateless utility library linked by the library and the
 * CLI (libinput's libinput_util), so that neither re-implements the other:
 * the duration grammar, a set of ids, the id joiner and the clocks. Each
 * rule here has this one owner. Not API; every symbol carries the
 * library's migrate__ prefix (a static link sees them).
 */
#ifndef LIBMIGRATE_UTIL_SHARED_H
#define LIBMIGRATE_UTIL_SHARED_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The duration grammar, the same on the command line, in the environment
 * and in a revision's section options:
 *
 *   0 | NUMBER UNIT      NUMBER = DIGITS [ "." DIGITS ]
 *                        UNIT   = "ms" | "s" | "min" | "h"
 *
 * "0" (none / no wait) is the only number without a unit: a bare "500"
 * could mean seconds or milliseconds, so it is refused. No sign, no white
 * space, no exponent; at most INT_MAX milliseconds; a positive value below
 * 1 ms rounds up to 1 ms. Parses the @len bytes at @s (no NUL needed).
 * Returns true and sets *@ms, or false when @s is not a duration.
 */
bool migrate__duration_parse(const char *s, size_t len, int *ms);

/* The grammar in words, for messages: "0, or a number with a unit: 500ms,
 * 5s, 1.5s, 2min, 1h". */
#define MIGRATE_DURATION_HINT                                                  \
	"0, or a number with a unit: 500ms, 5s, 1.5s, 2min, 1h"

/* A set of borrowed strings (open addressing, FNV-1a). */
struct migrate__idset {
	const char **slots;
	size_t cap; /* a power of two */
	size_t n;
};

/* Room for @expected ids without growing; false on OOM. */
bool migrate__idset_init(struct migrate__idset *set, size_t expected);
void migrate__idset_free(struct migrate__idset *set);
/* Add @id (borrowed: it must outlive the set): 1 when added, 0 when it was
 * there, -1 on OOM. */
int migrate__idset_add(struct migrate__idset *set, const char *id);
bool migrate__idset_has(const struct migrate__idset *set, const char *id);
/* FNV-1a of @s, the hash of every id table. */
size_t migrate__hash_id(const char *s);

/* Write @n ids joined by @sep into @out (@size bytes, truncated, always
 * NUL-terminated), or @none when @n is 0. Returns @out. */
char *migrate__join_ids(char *out,
			size_t size,
			const char *const *ids,
			size_t n,
			const char *sep,
			const char *none);

/* Monotonic clock in milliseconds, and wall clock in seconds since the
 * epoch. */
double migrate__clock_ms(void);
double migrate__clock_wall(void);

#endif
