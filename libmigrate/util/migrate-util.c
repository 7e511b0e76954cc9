/* SPDX-License-Identifier: MIT */
/* The shared utility library; see migrate-util.h. */
#include "migrate-util.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool
migrate__duration_parse(const char *s, size_t len, int *ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = { { "ms", 1 },
		      { "s", 1000 },
		      { "min", 60000 },
		      { "h", 3600000 } };

	uint64_t whole = 0, frac = 0, scale = 1, total;
	size_t i = 0, n_whole = 0, u;

	if (!s)
		return false;
	if (len == 1 && s[0] == '0') {
		*ms = 0;
		return true;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n_whole++) {
		whole = whole * 10 + (uint64_t)(s[i] - '0');
		if (whole > INT_MAX)
			return false;
	}
	if (n_whole == 0)
		return false;
	if (i < len && s[i] == '.') {
		size_t n_frac = 0;

		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (n_frac < 9) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			}
			n_frac++;
		}
		if (n_frac == 0)
			return false;
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (len - i == strlen(units[u].name) &&
		    memcmp(s + i, units[u].name, len - i) == 0)
			break;
	if (u == sizeof(units) / sizeof(units[0]))
		return false; /* a bare number, or an unknown unit */
	total = whole * units[u].ms + (frac * units[u].ms + scale - 1) / scale;
	if (total > INT_MAX)
		return false;
	*ms = (int)total;
	return true;
}

size_t
migrate__hash_id(const char *s)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

bool
migrate__idset_init(struct migrate__idset *set, size_t expected)
{
	set->cap = 16;
	while (set->cap / 2 < expected + 1)
		set->cap *= 2;
	set->n = 0;
	set->slots = calloc(set->cap, sizeof(*set->slots));
	return set->slots != NULL;
}

void
migrate__idset_free(struct migrate__idset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = set->n = 0;
}

static size_t
slot_of(const char *const *slots, size_t cap, const char *id)
{
	size_t i = migrate__hash_id(id) & (cap - 1);

	while (slots[i] && strcmp(slots[i], id) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

bool
migrate__idset_has(const struct migrate__idset *set, const char *id)
{
	return set->cap && set->slots[slot_of(set->slots, set->cap, id)];
}

int
migrate__idset_add(struct migrate__idset *set, const char *id)
{
	size_t i;

	if ((set->n + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16, k;
		const char **slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -1;
		for (k = 0; k < set->cap; k++)
			if (set->slots[k])
				slots[slot_of(slots, cap, set->slots[k])] =
					set->slots[k];
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	i = slot_of(set->slots, set->cap, id);
	if (set->slots[i])
		return 0;
	set->slots[i] = id;
	set->n++;
	return 1;
}

char *
migrate__join_ids(char *out,
		  size_t size,
		  const char *const *ids,
		  size_t n,
		  const char *sep,
		  const char *none)
{
	size_t i, len = 0;

	if (!size)
		return out;
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, size, "%s", none);
		return out;
	}
	for (i = 0; i < n && len + 1 < size; i++) {
		int w = snprintf(out + len, size - len, "%s%s", i ? sep : "",
				 ids[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
	return out;
}

double
migrate__clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double
migrate__clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
