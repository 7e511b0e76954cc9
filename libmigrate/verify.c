/* SPDX-License-Identifier: MIT */
/*
 * migrate_verify(): the startup check of services. One read of the state
 * (no lock, no DDL, no session state), then pure computation against the
 * registry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define VERIFY_FLAGS                                                           \
	(MIGRATE_VERIFY_ALLOW_AHEAD | MIGRATE_VERIFY_CHECKSUMS |               \
	 MIGRATE_VERIFY_ALLOW_CHANGED)

static void say(struct migrate *m, const char *fmt, ...) MIGRATE__PRINTF(2, 3);

static void
say(struct migrate *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->verify_msg, sizeof(m->verify_msg), fmt, ap);
	va_end(ap);
}

static void
join_registry_heads(struct migrate_registry *reg, char *out, size_t size)
{
	const char *ids[16];
	size_t n = reg->n_heads < 16 ? reg->n_heads : 16, i;

	for (i = 0; i < n; i++)
		ids[i] = reg->heads[i]->id;
	migrate__join_ids(out, size, ids, n, ",", "<base>");
	if (n < reg->n_heads)
		xsnprintf(out + strlen(out), size - strlen(out), ",...");
}

static bool
is_registry_head(struct migrate_registry *reg, const char *id)
{
	size_t i;

	for (i = 0; i < reg->n_heads; i++)
		if (strcmp(reg->heads[i]->id, id) == 0)
			return true;
	return false;
}

/* The version table holds exactly the registry's heads (as sets). */
static bool
at_heads(struct migrate_registry *reg, const struct strv *heads)
{
	size_t i;

	for (i = 0; i < heads->n; i++)
		if (!is_registry_head(reg, heads->v[i]))
			return false;
	for (i = 0; i < reg->n_heads; i++)
		if (strv_find(heads, reg->heads[i]->id) < 0)
			return false;
	return reg->n_heads > 0;
}

/* Revision ids the history says are applied, for lookups. */
static bool
applied_has(const struct migrate_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n_applied; i++)
		if (strcmp(st->applied[i].id, id) == 0)
			return true;
	return false;
}

/*
 * The first (in topological order) applied revision whose recorded checksum
 * differs from the registry's; NULL when none. Alembic-made databases have
 * no history rows and so no checksums: nothing to compare. Every one found
 * goes to m->verify_changed; *oom is set when that failed.
 */
static const struct migrate_revision *
changed_revision(struct migrate *m,
		 const struct migrate_state *st,
		 const char **applied_sum,
		 size_t *count,
		 bool *oom)
{
	const struct migrate_revision *first = NULL;
	char hex[65];
	size_t i;

	*count = 0;
	*oom = false;
	for (i = 0; i < st->n_applied; i++) {
		const struct migrate_applied *a = &st->applied[i];
		const struct migrate_revision *rev =
			migrate__registry_get(m->reg, a->id);

		if (!rev || !a->checksum[0] || !rev->has_checksum)
			continue;
		migrate__revision_hex(rev, hex);
		if (strcmp(a->checksum, hex) == 0)
			continue;
		(*count)++;
		if (strv_push(&m->verify_changed, rev->id) < 0 ||
		    strv_push(&m->verify_changed, a->checksum) < 0)
			*oom = true;
		if (!first || rev->topo < first->topo) {
			first = rev;
			*applied_sum = a->checksum;
		}
	}
	return first;
}

/* Status of a readable, clean, initialised database; sets verify_msg and
 * verify_pending. */
static int
head_status(struct migrate *m, const struct migrate_state *st)
{
	struct migrate_registry *reg = m->reg;
	struct migrate_plan *plan = NULL;
	char now[256], need[256];
	struct migrate_diag err;
	const char *unknown = NULL;
	size_t i;
	int rc;

	migrate__join_ids(now, sizeof(now), (const char *const *)st->heads.v,
			  st->heads.n, ",", "<base>");
	join_registry_heads(reg, need, sizeof(need));
	if (at_heads(reg, &st->heads)) {
		say(m, "database is at %s (%s)", now,
		    reg->n_heads > 1 ? "heads" : "head");
		return MIGRATE_STATUS_AT_HEAD;
	}
	for (i = 0; i < st->heads.n && !unknown; i++)
		if (!migrate__registry_get(reg, st->heads.v[i]))
			unknown = st->heads.v[i];
	if (unknown) {
		bool all = st->has_history, recorded = true;

		/* Newer only when the history shows it: every head of this
		 * build applied, and every unknown id recorded as applied
		 * too (an id merely written into the version table, by hand
		 * or another tool, is unknown, not newer). */
		for (i = 0; i < reg->n_heads && all; i++)
			all = applied_has(st, reg->heads[i]->id);
		for (i = 0; i < st->heads.n && recorded; i++)
			recorded = migrate__registry_get(reg, st->heads.v[i]) ||
				   applied_has(st, st->heads.v[i]);
		if (all && !recorded) {
			say(m,
			    "database is at '%s', which this build does not know (no history of it; this build's %s %s %s applied)",
			    unknown, reg->n_heads > 1 ? "heads" : "head", need,
			    reg->n_heads > 1 ? "were" : "was");
			return MIGRATE_STATUS_UNKNOWN_REVISION;
		}
		if (all) {
			say(m,
			    "database is at %s, newer than this build's %s %s",
			    now, reg->n_heads > 1 ? "heads" : "head", need);
			return MIGRATE_STATUS_AHEAD;
		}
		say(m,
		    "database is at '%s', which this build does not know (its %s %s %s not applied)",
		    unknown, reg->n_heads > 1 ? "heads" : "head", need,
		    reg->n_heads > 1 ? "are" : "is");
		return MIGRATE_STATUS_UNKNOWN_REVISION;
	}
	rc = migrate__plan_move(&plan, reg, (const char *const *)st->heads.v,
				st->heads.n, MIGRATE_UP, "heads", 0, &err);
	if (rc < 0) {
		if (rc == MIGRATE_ENOMEM)
			return rc;
		say(m,
		    "database is at %s, which does not fit this build's revisions: %s",
		    now, err.msg[0] ? err.msg : migrate_strerror(rc));
		return MIGRATE_STATUS_UNKNOWN_REVISION;
	}
	m->verify_pending = plan->n_steps;
	migrate_plan_free(plan);
	say(m,
	    "database is at %s, this build needs %s (%zu pending): run 'migrate upgrade head%s'",
	    now, need, m->verify_pending, reg->n_heads > 1 ? "s" : "");
	return MIGRATE_STATUS_BEHIND;
}

static bool
acceptable(int status, unsigned int flags)
{
	return status == MIGRATE_STATUS_AT_HEAD ||
	       (status == MIGRATE_STATUS_AHEAD &&
		(flags & MIGRATE_VERIFY_ALLOW_AHEAD));
}

/* Every registry revision is pending on an empty database. */
static void
count_all_pending(struct migrate *m)
{
	struct migrate_plan *plan = NULL;
	if (migrate__plan_move(&plan, m->reg, NULL, 0, MIGRATE_UP, "heads", 0,
			       NULL) == 0) {
		m->verify_pending = plan->n_steps;
		migrate_plan_free(plan);
	}
}

/*
 * A dirty mark is written before a non-transactional section runs: while
 * the migrator that wrote it still holds the migration lock, the revision
 * is in progress, not interrupted (telling an operator to resolve it then
 * would be dangerous advice). Says so and returns true; false when the lock
 * is free (the session that wrote the mark is gone) or unknown.
 */
static bool
dirty_in_progress(struct migrate *m, const struct migrate_state *st)
{
	struct migrate_backend_error err;
	char holder[512];

	if (m->be->version < 3 || !m->be->lock_holder)
		return false;
	memset(&err, 0, sizeof(err));
	holder[0] = '\0';
	if (m->be->lock_holder(m->be, holder, sizeof(holder), &err) != 1)
		return false;
	say(m,
	    "the %s of non-transactional revision %s is in progress (the migration lock is held by %s): wait for it to finish; this is not an interruption, do not resolve it",
	    st->dirty_direction == MIGRATE_DOWN ? "downgrade" : "upgrade",
	    st->dirty_revision, holder[0] ? holder : "another session");
	return true;
}

static int
finish(struct migrate *m,
       int status,
       bool ok,
       int *status_out,
       const char **message)
{
	if (status_out)
		*status_out = status;
	if (message)
		*message = m->verify_msg;
	if (ok) {
		migrate__clear_error(m);
		return 0;
	}
	migrate__set_error(m, MIGRATE_EVERIFY, "%s", m->verify_msg);
	return MIGRATE_EVERIFY;
}

MIGRATE_EXPORT
int
migrate_verify(int *status,
	       const char **message,
	       struct migrate *m,
	       unsigned int flags)
{
	struct migrate_state st;
	const struct migrate_revision *changed;
	const char *applied_sum = "";
	size_t n_changed;
	int rc, s;

	if (!m)
		return MIGRATE_EINVAL;
	if (flags & ~(unsigned int)VERIFY_FLAGS)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "unknown verify flags 0x%x", flags);
	m->verify_pending = 0;
	strv_clear(&m->verify_changed);
	if (!m->connected || !m->be) {
		/* migrate_open() left "cannot connect to the database: ..."
		 * (or why it failed before connecting) in verify_msg. */
		if (!m->verify_msg[0])
			say(m, "cannot connect to the database");
		return finish(m, MIGRATE_STATUS_CANNOT_CONNECT, false, status,
			      message);
	}
	if (m->poisoned) {
		say(m,
		    "cannot connect to the database: the connection was lost");
		return finish(m, MIGRATE_STATUS_CANNOT_CONNECT, false, status,
			      message);
	}
	rc = migrate_registry_validate(m->reg);
	if (rc < 0)
		return migrate__set_error(m, rc, "%s",
					  migrate_registry_errmsg(m->reg));

	migrate__state_init(&st);
	rc = migrate__read_state(m, &st);
	if (rc == MIGRATE_ENOMEM)
		return rc;
	if (rc < 0) {
		if (m->berr.kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST ||
		    m->poisoned) {
			char text[sizeof(m->berr.message)];

			migrate__redact(m->berr.message[0]
						? m->berr.message
						: "the connection was lost",
					text, sizeof(text));
			say(m, "cannot connect to the database: %s", text);
		} else
			say(m, "%s", m->diag.msg);
		return finish(m, MIGRATE_STATUS_CANNOT_CONNECT, false, status,
			      message);
	}

	if (st.dirty && dirty_in_progress(m, &st)) {
		s = MIGRATE_STATUS_IN_PROGRESS;
		goto done;
	}
	if (st.dirty) {
		char text[MIGRATE_ERRMSG_SIZE];

		migrate__dirty_message(text, sizeof(text), &st);
		say(m, "%s", text);
		s = MIGRATE_STATUS_DIRTY;
		goto done;
	}
	if (st.uninitialised) {
		char need[256];

		join_registry_heads(m->reg, need, sizeof(need));
		count_all_pending(m);
		say(m,
		    "database is at <base>, this build needs %s: run 'migrate upgrade head%s'",
		    need, m->reg->n_heads > 1 ? "s" : "");
		s = MIGRATE_STATUS_UNINITIALISED;
		goto done;
	}
	s = head_status(m, &st);
	if (s < 0) {
		migrate__state_clear(&st);
		return migrate__set_error(m, s, "out of memory");
	}
	if ((flags & MIGRATE_VERIFY_CHECKSUMS) &&
	    s != MIGRATE_STATUS_UNKNOWN_REVISION) {
		bool oom;

		changed = changed_revision(m, &st, &applied_sum, &n_changed,
					   &oom);
		if (oom) {
			migrate__state_clear(&st);
			return migrate__set_error(m, MIGRATE_ENOMEM,
						  "out of memory");
		}
		if (changed && ((flags & MIGRATE_VERIFY_ALLOW_CHANGED) == 0 ||
				acceptable(s, flags))) {
			char more[64] = "", now[65];

			migrate__revision_hex(changed, now);
			if (n_changed > 1)
				xsnprintf(more, sizeof(more), " (and %zu more)",
					  n_changed - 1);
			say(m,
			    "revision %s changed since it was applied (applied sha256 %.12s..., now %.12s...)%s",
			    changed->id, applied_sum, now, more);
			migrate__state_clear(&st);
			return finish(m, MIGRATE_STATUS_CHANGED,
				      (flags & MIGRATE_VERIFY_ALLOW_CHANGED) !=
					      0,
				      status, message);
		}
	}
done:
	migrate__state_clear(&st);
	return finish(m, s, acceptable(s, flags), status, message);
}

MIGRATE_EXPORT
size_t
migrate_verify_pending(const struct migrate *m)
{
	return m ? m->verify_pending : 0;
}

MIGRATE_EXPORT
size_t
migrate_verify_changed_count(const struct migrate *m)
{
	return m ? m->verify_changed.n / 2 : 0;
}

MIGRATE_EXPORT
const char *
migrate_verify_changed(const struct migrate *m, size_t i)
{
	if (!m || i >= m->verify_changed.n / 2)
		return NULL;
	return m->verify_changed.v[2 * i];
}

MIGRATE_EXPORT
const char *
migrate_verify_changed_checksum(const struct migrate *m, size_t i)
{
	if (!m || i >= m->verify_changed.n / 2)
		return NULL;
	return m->verify_changed.v[2 * i + 1];
}
