/* SPDX-License-Identifier: MIT */
/*
 * The database state as a backend reports it (version table, applied set
 * from the history, dirty mark), and the one place that asks the backend
 * for it.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

void
migrate__state_init(struct migrate_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
migrate__state_clear(struct migrate_state *st)
{
	size_t i;

	strv_clear(&st->heads);
	for (i = 0; i < st->n_applied; i++) {
		free(st->applied[i].id);
		free(st->applied[i].checksum);
	}
	free(st->applied);
	free(st->dirty_revision);
	free(st->dirty_detail);
	migrate__state_init(st);
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

MIGRATE_EXPORT
int
migrate_state_add_applied(struct migrate_state *st,
			  const char *id,
			  const char *checksum)
{
	struct migrate_applied *a;

	if (!st || !id)
		return MIGRATE_EINVAL;
	st->has_history = true;
	if (st->n_applied == st->cap_applied) {
		size_t cap = st->cap_applied ? st->cap_applied * 2 : 16;

		a = realloc(st->applied, cap * sizeof(*a));
		if (!a)
			goto oom;
		st->applied = a;
		st->cap_applied = cap;
	}
	a = &st->applied[st->n_applied];
	a->id = xstrdup(id);
	a->checksum = xstrdup(checksum ? checksum : "");
	if (!a->id || !a->checksum) {
		free(a->id);
		free(a->checksum);
		goto oom;
	}
	st->n_applied++;
	return 0;
oom:
	st->oom = true;
	return MIGRATE_ENOMEM;
}

MIGRATE_EXPORT
int
migrate_state_set_dirty(struct migrate_state *st,
			const char *revision,
			int direction,
			const char *detail)
{
	char *rev, *det;

	if (!st || !revision)
		return MIGRATE_EINVAL;
	rev = xstrdup(revision);
	det = xstrdup(detail ? detail : "");
	if (!rev || !det) {
		free(rev);
		free(det);
		st->oom = true;
		return MIGRATE_ENOMEM;
	}
	free(st->dirty_revision);
	free(st->dirty_detail);
	st->dirty = true;
	st->dirty_revision = rev;
	st->dirty_direction =
		direction == MIGRATE_DOWN ? MIGRATE_DOWN : MIGRATE_UP;
	st->dirty_detail = det;
	return 0;
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
