/* SPDX-License-Identifier: MIT */
/*
 * The database state: what a backend reports (version table rows, history
 * rows) and what the library concludes from it (applied set, dirty mark).
 * This file owns that rule; backends only store and fetch.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

void
migrate__state_init(struct migrate_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void
rows_clear(struct migrate_state *st)
{
	size_t i;

	for (i = 0; i < st->n_rows; i++)
		free(st->rows[i].revision);
	free(st->rows);
	st->rows = NULL;
	st->n_rows = st->cap_rows = 0;
}

void
migrate__state_clear(struct migrate_state *st)
{
	size_t i;

	strv_clear(&st->heads);
	rows_clear(st);
	for (i = 0; i < st->n_applied; i++)
		free(st->applied[i].id); /* and its checksum */
	free(st->applied);
	free(st->dirty_revision);
	free(st->dirty_detail);
	migrate__state_init(st);
}

void
migrate__state_set_ready(struct migrate_state *st)
{
	st->ready = true;
}

MIGRATE_EXPORT
int
migrate_state_set_uninitialised(struct migrate_state *st)
{
	if (!st)
		return MIGRATE_EINVAL;
	st->uninitialised = true;
	return 0;
}

MIGRATE_EXPORT
int
migrate_state_add_head(struct migrate_state *st, const char *id)
{
	if (!st || !id)
		return MIGRATE_EINVAL;
	if (strv_push(&st->heads, id) < 0) {
		st->oom = true;
		return MIGRATE_ENOMEM;
	}
	return 0;
}

/* The strings of a row after its revision (struct migrate_state_row). */
static const char *
row_checksum(const struct migrate_state_row *r)
{
	return r->revision + strlen(r->revision) + 1;
}

static const char *
row_error(const struct migrate_state_row *r)
{
	const char *sum = row_checksum(r);

	return sum + strlen(sum) + 1;
}

/* @n strings, each with its NUL, in one block; NULL when out of memory. */
static char *
strings_block(const char *const *v, size_t n)
{
	size_t len = 0, i, k;
	char *block, *at;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	block = malloc(len);
	if (!block)
		return NULL;
	for (i = 0, at = block; i < n; i++, at += k) {
		k = strlen(v[i]) + 1;
		memcpy(at, v[i], k);
	}
	return block;
}

MIGRATE_EXPORT
int
migrate_state_add_history(struct migrate_state *st,
			  long long seq,
			  const struct migrate_history_entry *row)
{
	struct migrate_state_row *r;
	const char *text[3];
	bool dirty;

	if (!st || !row || !row->revision || !row->operation)
		return MIGRATE_EINVAL;
	dirty = strcmp(row->operation, "dirty") == 0;
	/* Only successes and dirty marks decide the state. */
	if (!row->success && !dirty)
		return 0;
	if (st->n_rows == st->cap_rows) {
		size_t cap = st->cap_rows ? st->cap_rows * 2 : 16;

		r = realloc(st->rows, cap * sizeof(*r));
		if (!r)
			goto oom;
		st->rows = r;
		st->cap_rows = cap;
	}
	r = &st->rows[st->n_rows];
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->direction =
		row->direction == MIGRATE_DOWN ? MIGRATE_DOWN : MIGRATE_UP;
	r->success = row->success != 0;
	r->dirty = dirty;
	/* The operation is not kept: only "dirty" counts, in r->dirty. */
	text[0] = row->revision;
	text[1] = row->checksum ? row->checksum : "";
	text[2] = row->error ? row->error : "";
	r->revision = strings_block(text, 3);
	if (!r->revision)
		goto oom;
	st->n_rows++;
	return 0;
oom:
	st->oom = true;
	return MIGRATE_ENOMEM;
}

static int
by_revision_then_seq(const void *a, const void *b)
{
	const struct migrate_state_row *x = a, *y = b;
	int c = strcmp(x->revision, y->revision);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The rule: the database is dirty when the newest of the rows (successes
 * and dirty marks) is a dirty mark; a revision is applied when its newest
 * success went up, and its checksum is the one recorded then.
 */
int
migrate__state_derive(struct migrate_state *st)
{
	const struct migrate_state_row *newest = NULL;
	const char *text[2];
	size_t i, n = 0;

	for (i = 0; i < st->n_rows; i++)
		if (!newest || st->rows[i].seq > newest->seq)
			newest = &st->rows[i];
	if (newest && newest->dirty) {
		st->dirty = true;
		st->dirty_direction = newest->direction;
		st->dirty_revision = xstrdup(newest->revision);
		st->dirty_detail = xstrdup(row_error(newest));
		if (!st->dirty_revision || !st->dirty_detail)
			return MIGRATE_ENOMEM;
	}
	if (st->n_rows)
		qsort(st->rows, st->n_rows, sizeof(*st->rows),
		      by_revision_then_seq);
	for (i = 0; i < st->n_rows; i++)
		n += st->rows[i].success;
	if (n) {
		st->applied = calloc(n, sizeof(*st->applied));
		if (!st->applied)
			return MIGRATE_ENOMEM;
	}
	for (i = 0; i < st->n_rows; i++) {
		const struct migrate_state_row *r = &st->rows[i];
		struct migrate_applied *a;
		size_t j;

		if (!r->success)
			continue;
		/* A later success of the same revision decides. */
		for (j = i + 1; j < st->n_rows && !st->rows[j].success &&
				strcmp(st->rows[j].revision, r->revision) == 0;
		     j++)
			;
		if (j < st->n_rows &&
		    strcmp(st->rows[j].revision, r->revision) == 0)
			continue;
		if (r->direction != MIGRATE_UP)
			continue;
		st->has_history = true;
		a = &st->applied[st->n_applied];
		text[0] = r->revision;
		text[1] = row_checksum(r);
		a->id = strings_block(text, 2);
		if (!a->id)
			return MIGRATE_ENOMEM;
		a->checksum = a->id + strlen(a->id) + 1;
		st->n_applied++;
	}
	rows_clear(st);
	return 0;
}

void
migrate__dirty_advice(char *out,
		      size_t size,
		      const char *revision,
		      int direction)
{
	const char *what = migrate__direction_name(direction);

	xsnprintf(
		out, size,
		"fix the schema by hand, then run 'migrate resolve %s' (the %s is complete) or 'migrate resolve --undo %s' (it is not)",
		revision, what, revision);
}

void
migrate__dirty_message(char *out, size_t size, const struct migrate_state *st)
{
	const char *detail = st->dirty_detail ? st->dirty_detail : "";
	char advice[512];

	if (strcmp(detail, "started") == 0)
		detail = "it was interrupted";
	migrate__dirty_advice(advice, sizeof(advice), st->dirty_revision,
			      st->dirty_direction);
	xsnprintf(
		out, size,
		"database is dirty: the %s of revision %s stopped part-way (%s): %s",
		migrate__direction_name(st->dirty_direction),
		st->dirty_revision, detail, advice);
}

int
migrate__check_usable(struct migrate *m)
{
	if (m->poisoned)
		return migrate__set_error(
			m, MIGRATE_EBACKEND,
			"connection to the database was lost");
	if (!m->connected || !m->be) {
		/* migrate_open() left the reason in verify_msg, which is what
		 * migrate_verify() reports on such a handle. */
		if (m->verify_msg[0])
			return migrate__set_error(m, MIGRATE_EBACKEND, "%s",
						  m->verify_msg);
		return migrate__set_error(m, MIGRATE_EBACKEND,
					  "not connected to the database");
	}
	return 0;
}

int
migrate__read_state(struct migrate *m, struct migrate_state *st)
{
	int rc;

	migrate__state_clear(st);
	rc = migrate__check_usable(m);
	if (rc < 0)
		return rc;
	memset(&m->berr, 0, sizeof(m->berr));
	rc = m->be->read_state(m->be, st, &m->berr);
	if (rc == 0 && !st->oom)
		rc = migrate__state_derive(st);
	if (rc < 0 || st->oom) {
		migrate__state_clear(st);
		if (rc == MIGRATE_ENOMEM || rc >= 0)
			return migrate__set_error(m, MIGRATE_ENOMEM,
						  "out of memory");
		return migrate__backend_failed(
			m, rc, "cannot read the migration state");
	}
	return 0;
}
