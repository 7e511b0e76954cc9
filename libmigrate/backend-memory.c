/* SPDX-License-Identifier: MIT */
/*
 * The in-memory backend: a fake database for tests. It understands no SQL:
 * it keeps the version table and the history rows, honours transactions
 * (a connection's writes stay private until commit; rollback drops them),
 * records every SQL text it is given, and fails on request.
 *
 * Several backends may share one fake database (two connections to one
 * server): the database is reference-counted and guarded by a mutex, and
 * the migration lock belongs to one connection at a time.
 */
#include "backend-memory.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

struct mem_row {
	char *revision;
	int direction;
	char *operation;
	char *checksum;
	double started_at;
	double duration_ms;
	int success;
	char *error;
};

struct mem_rows {
	struct mem_row *v;
	size_t n;
	size_t cap;
};

struct mem_backend;

struct mem_db {
	pthread_mutex_t mutex;
	pthread_cond_t cond; /* the migration lock was released */
	unsigned int refs;
	bool has_version; /* the version table exists */
	bool has_log;     /* the history table exists */
	struct strv heads;
	struct mem_rows rows; /* committed, append-only */
	const struct mem_backend *lock_owner;
	unsigned int lock_depth;
};

struct mem_backend {
	struct migrate_backend base;
	struct mem_db *db;
	const struct migrate_backend_config *cfg;
	bool connected;
	bool lost;

	/* The open transaction: a private copy of the version table and the
	 * rows it will append at commit. */
	bool in_txn;
	bool txn_aborted; /* an error happened: only rollback helps */
	bool txn_has_version;
	bool txn_has_log;
	struct strv txn_heads;
	struct mem_rows txn_rows;

	/* Fault injection. */
	unsigned long fail_nth;
	char fail_nth_state[6];
	char *fail_match;
	char fail_match_state[6];
	unsigned long lose_nth;
	bool lock_taken;

	struct strv sql; /* every SQL text given */
	int lock_timeout_ms;
	int statement_timeout_ms;
};

static void mem_free(struct migrate_backend *be);

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void
row_free(struct mem_row *r)
{
	free(r->revision);
	free(r->operation);
	free(r->checksum);
	free(r->error);
}

static void
rows_clear(struct mem_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++)
		row_free(&rows->v[i]);
	free(rows->v);
	rows->v = NULL;
	rows->n = rows->cap = 0;
}

static bool
rows_reserve(struct mem_rows *rows, size_t extra)
{
	size_t cap;
	struct mem_row *v;

	if (rows->n + extra <= rows->cap)
		return true;
	cap = rows->cap ? rows->cap : 16;
	while (cap < rows->n + extra)
		cap *= 2;
	v = realloc(rows->v, cap * sizeof(*v));
	if (!v)
		return false;
	rows->v = v;
	rows->cap = cap;
	return true;
}

static void
txn_discard(struct mem_backend *mb)
{
	strv_clear(&mb->txn_heads);
	rows_clear(&mb->txn_rows);
	mb->in_txn = false;
	mb->txn_aborted = false;
}

static void
db_unref(struct mem_db *db)
{
	bool last;

	if (!db)
		return;
	pthread_mutex_lock(&db->mutex);
	last = --db->refs == 0;
	pthread_mutex_unlock(&db->mutex);
	if (!last)
		return;
	strv_clear(&db->heads);
	rows_clear(&db->rows);
	pthread_cond_destroy(&db->cond);
	pthread_mutex_destroy(&db->mutex);
	free(db);
}

static void
release_migration_lock(struct mem_backend *mb)
{
	struct mem_db *db = mb->db;

	pthread_mutex_lock(&db->mutex);
	if (db->lock_owner == mb) {
		db->lock_owner = NULL;
		db->lock_depth = 0;
		pthread_cond_broadcast(&db->cond);
	}
	pthread_mutex_unlock(&db->mutex);
}

/* The server went away: the session's transaction and its locks go with
 * it. */
static void
drop_connection(struct mem_backend *mb)
{
	mb->lost = true;
	txn_discard(mb);
	release_migration_lock(mb);
}

static int
lost_error(struct migrate_backend_error *err)
{
	err->kind = MIGRATE_BACKEND_ERROR_CONNECTION_LOST;
	return migrate__backend_fail(
		err, MIGRATE_EBACKEND, "08006",
		"server closed the connection unexpectedly");
}

static int
check_alive(struct mem_backend *mb, struct migrate_backend_error *err)
{
	if (mb->lost)
		return lost_error(err);
	if (!mb->connected)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, "08003",
					     "not connected (memory backend)");
	return 0;
}

/* The fake speaks PostgreSQL's codes: an injected failure has the kind the
 * server's would have. */
static int
injected_kind(const char *sqlstate)
{
	if (strcmp(sqlstate, "55P03") == 0)
		return MIGRATE_BACKEND_ERROR_LOCK_TIMEOUT;
	if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
		return MIGRATE_BACKEND_ERROR_SERIALIZATION;
	return MIGRATE_BACKEND_ERROR_OTHER;
}

static const char *
injected_message(const char *sqlstate)
{
	if (strcmp(sqlstate, "55P03") == 0)
		return "canceling statement due to lock timeout";
	return "injected failure";
}

/*
 * One SQL text from exec() or run_step(): log it, then apply the faults.
 * A failure inside a transaction aborts it, as on PostgreSQL.
 */
static int
sql_text(struct mem_backend *mb,
	 const char *sql,
	 struct migrate_backend_error *err)
{
	const char *hit;
	int rc = 0;

	if (strv_push(&mb->sql, sql) < 0)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, "",
					     "out of memory");
	rc = check_alive(mb, err);
	if (rc < 0)
		return rc;
	if (mb->in_txn && mb->txn_aborted)
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, "25P02",
			"current transaction is aborted, commands ignored until end of transaction block");
	if (mb->lose_nth && --mb->lose_nth == 0) {
		drop_connection(mb);
		return lost_error(err);
	}
	if (mb->fail_nth && --mb->fail_nth == 0) {
		rc = migrate__backend_fail(
			err, MIGRATE_EBACKEND, mb->fail_nth_state, "%s",
			injected_message(mb->fail_nth_state));
		err->kind = injected_kind(mb->fail_nth_state);
	} else if (mb->fail_match && (hit = strstr(sql, mb->fail_match))) {
		rc = migrate__backend_fail(
			err, MIGRATE_EBACKEND, mb->fail_match_state,
			"%s at \"%s\"", injected_message(mb->fail_match_state),
			mb->fail_match);
		err->kind = injected_kind(mb->fail_match_state);
		err->position = utf8_chars(sql, (size_t)(hit - sql)) + 1;
	}
	if (rc < 0 && mb->in_txn)
		mb->txn_aborted = true;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

static int
mem_connect(struct migrate_backend *be,
	    const struct migrate_backend_config *cfg,
	    struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;

	/* A connection loss armed before connecting means the server is
	 * unreachable. */
	if (mb->lost || mb->lose_nth) {
		mb->lost = true;
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, "08001",
			"could not connect to server: Connection refused (memory backend)");
	}
	mb->cfg = cfg;
	mb->connected = true;
	return 0;
}

static int
mem_lock(struct migrate_backend *be,
	 int wait_ms,
	 struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	struct timespec deadline;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	if (mb->lock_taken)
		return migrate__backend_fail(
			err, MIGRATE_ELOCKED, "",
			"the migration lock is held by another session");
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&db->mutex);
	while (db->lock_owner && db->lock_owner != mb) {
		if (wait_ms <= 0 ||
		    pthread_cond_timedwait(&db->cond, &db->mutex, &deadline) ==
			    ETIMEDOUT)
			break;
	}
	if (db->lock_owner && db->lock_owner != mb) {
		pthread_mutex_unlock(&db->mutex);
		return migrate__backend_fail(
			err, MIGRATE_ELOCKED, "",
			"the migration lock is held by another session");
	}
	db->lock_owner = mb;
	db->lock_depth++;
	pthread_mutex_unlock(&db->mutex);
	return 0;
}

static int
mem_lock_holder(struct migrate_backend *be,
		char *out,
		size_t size,
		struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	int rc = check_alive(mb, err);
	bool held;

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&db->mutex);
	held = db->lock_owner != NULL;
	pthread_mutex_unlock(&db->mutex);
	if (held || mb->lock_taken) {
		snprintf(out, size, "another connection");
		return 1;
	}
	return 0;
}

static int
mem_unlock(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&db->mutex);
	if (db->lock_owner == mb && --db->lock_depth == 0) {
		db->lock_owner = NULL;
		pthread_cond_broadcast(&db->cond);
	}
	pthread_mutex_unlock(&db->mutex);
	return 0;
}

static int
mem_ensure_tables(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	if (mb->in_txn) {
		mb->txn_has_version = mb->txn_has_log = true;
		return 0;
	}
	pthread_mutex_lock(&mb->db->mutex);
	mb->db->has_version = mb->db->has_log = true;
	pthread_mutex_unlock(&mb->db->mutex);
	return 0;
}

static int
mem_begin(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	if (mb->in_txn)
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, "25001",
			"there is already a transaction in progress");
	pthread_mutex_lock(&db->mutex);
	rc = strv_copy(&mb->txn_heads, &db->heads);
	mb->txn_has_version = db->has_version;
	mb->txn_has_log = db->has_log;
	pthread_mutex_unlock(&db->mutex);
	if (rc < 0)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, "",
					     "out of memory");
	mb->in_txn = true;
	mb->txn_aborted = false;
	return 0;
}

static int
mem_rollback(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	txn_discard(mb);
	return 0;
}

static int
mem_commit(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	struct strv tmp;
	size_t i;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	if (!mb->in_txn)
		return 0;
	if (mb->txn_aborted) {
		txn_discard(mb);
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, "25P02",
			"the transaction was aborted and has been rolled back");
	}
	pthread_mutex_lock(&db->mutex);
	if (!rows_reserve(&db->rows, mb->txn_rows.n)) {
		pthread_mutex_unlock(&db->mutex);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, "",
					     "out of memory");
	}
	for (i = 0; i < mb->txn_rows.n; i++)
		db->rows.v[db->rows.n++] = mb->txn_rows.v[i];
	mb->txn_rows.n = 0;
	tmp = db->heads;
	db->heads = mb->txn_heads;
	mb->txn_heads = tmp;
	db->has_version = mb->txn_has_version;
	db->has_log = mb->txn_has_log;
	pthread_mutex_unlock(&db->mutex);
	txn_discard(mb);
	return 0;
}

static int
mem_set_timeouts(struct migrate_backend *be,
		 int lock_timeout_ms,
		 int statement_timeout_ms,
		 struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	mb->lock_timeout_ms = lock_timeout_ms;
	mb->statement_timeout_ms = statement_timeout_ms;
	return 0;
}

static int
mem_exec(struct migrate_backend *be,
	 const char *sql,
	 struct migrate_backend_error *err)
{
	return sql_text((struct mem_backend *)be, sql ? sql : "", err);
}

static char *
dup0(const char *s)
{
	return xstrdup(s ? s : "");
}

/*
 * Apply @rec to a version table and history (the transaction's or the
 * committed ones; the caller holds what needs holding). All or nothing.
 */
static int
apply_record(struct mem_backend *mb,
	     const struct migrate_record *rec,
	     bool has_version,
	     bool has_log,
	     struct strv *heads,
	     struct mem_rows *rows,
	     struct migrate_backend_error *err)
{
	struct strv next = STRV_INIT;
	struct mem_row row;
	bool change = rec->success && (rec->n_remove || rec->n_add);
	size_t i;

	err->in_bookkeeping = 1;
	if (!rec->revision || !rec->operation)
		return migrate__backend_fail(err, MIGRATE_EINVAL, "",
					     "incomplete record");
	if (!has_log)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, "42P01",
					     "relation \"%s\" does not exist",
					     mb->cfg ? mb->cfg->log_table
						     : "migrate_log");
	if (change && !has_version)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, "42P01",
					     "relation \"%s\" does not exist",
					     mb->cfg ? mb->cfg->version_table
						     : "alembic_version");
	if (change) {
		if (rec->n_remove == 1 && rec->n_add == 1) {
			/* UPDATE ... SET version_num = add WHERE
			 * version_num = remove: exactly one row. */
			long at = strv_find(heads, rec->remove_heads[0]);

			if (at < 0)
				return migrate__backend_fail(
					err, MIGRATE_ECONFLICT, "",
					"UPDATE of the version table matched 0 rows (expected 1 for '%s'): the database moved",
					rec->remove_heads[0]);
		} else {
			for (i = 0; i < rec->n_remove; i++)
				if (strv_find(heads, rec->remove_heads[i]) < 0)
					return migrate__backend_fail(
						err, MIGRATE_ECONFLICT, "",
						"DELETE from the version table matched 0 rows for '%s': the database moved",
						rec->remove_heads[i]);
		}
		for (i = 0; i < heads->n; i++) {
			size_t j;
			bool removed = false;

			for (j = 0; j < rec->n_remove && !removed; j++)
				removed = strcmp(heads->v[i],
						 rec->remove_heads[j]) == 0;
			if (!removed && strv_push(&next, heads->v[i]) < 0)
				goto oom;
		}
		for (i = 0; i < rec->n_add; i++) {
			if (strv_find(&next, rec->add_heads[i]) >= 0) {
				strv_clear(&next);
				return migrate__backend_fail(
					err, MIGRATE_ECONFLICT, "23505",
					"duplicate key value violates unique constraint: version '%s' is already recorded",
					rec->add_heads[i]);
			}
			if (strv_push(&next, rec->add_heads[i]) < 0)
				goto oom;
		}
	}
	memset(&row, 0, sizeof(row));
	row.revision = dup0(rec->revision);
	row.direction = rec->direction;
	row.operation = dup0(rec->operation);
	row.checksum = dup0(rec->checksum);
	row.started_at = rec->started_at;
	row.duration_ms = rec->duration_ms;
	row.success = rec->success ? 1 : 0;
	row.error = dup0(rec->error);
	if (!row.revision || !row.operation || !row.checksum || !row.error ||
	    !rows_reserve(rows, 1)) {
		row_free(&row);
		goto oom;
	}
	rows->v[rows->n++] = row;
	if (change) {
		strv_clear(heads);
		*heads = next;
	}
	err->in_bookkeeping = 0;
	return 0;
oom:
	strv_clear(&next);
	return migrate__backend_fail(err, MIGRATE_ENOMEM, "", "out of memory");
}

static int
mem_record(struct migrate_backend *be,
	   const struct migrate_record *rec,
	   struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	if (mb->in_txn) {
		if (mb->txn_aborted) {
			err->in_bookkeeping = 1;
			return migrate__backend_fail(
				err, MIGRATE_EBACKEND, "25P02",
				"current transaction is aborted, commands ignored until end of transaction block");
		}
		rc = apply_record(mb, rec, mb->txn_has_version, mb->txn_has_log,
				  &mb->txn_heads, &mb->txn_rows, err);
		if (rc < 0)
			mb->txn_aborted = true;
		return rc;
	}
	/* Autocommit. */
	pthread_mutex_lock(&db->mutex);
	rc = apply_record(mb, rec, db->has_version, db->has_log, &db->heads,
			  &db->rows, err);
	pthread_mutex_unlock(&db->mutex);
	return rc;
}

static int
mem_run_step(struct migrate_backend *be,
	     const struct migrate_backend_step *step,
	     struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	int rc;

	if (!step || !step->record)
		return migrate__backend_fail(err, MIGRATE_EINVAL, "",
					     "incomplete step");
	if (step->in_transaction && !mb->in_txn && !mb->lost)
		return migrate__backend_fail(
			err, MIGRATE_EINVAL, "",
			"run_step: no transaction is open");
	if (!step->in_transaction) {
		rc = mem_begin(be, err);
		if (rc < 0) {
			/* begin never saw the SQL: still log it. */
			if (strv_push(&mb->sql, step->sql ? step->sql : "") < 0)
				return migrate__backend_fail(err,
							     MIGRATE_ENOMEM, "",
							     "out of memory");
			return rc;
		}
	}
	mb->lock_timeout_ms = step->lock_timeout_ms;
	mb->statement_timeout_ms = step->statement_timeout_ms;
	rc = sql_text(mb, step->sql ? step->sql : "", err);
	if (rc == 0)
		rc = mem_record(be, step->record, err);
	if (rc == 0 && !step->in_transaction)
		rc = mem_commit(be, err);
	if (rc < 0 && !step->in_transaction && mb->in_txn)
		txn_discard(mb);
	return rc;
}

/* Iterate over committed rows, then the open transaction's, newest
 * first. */
static const struct mem_row *
row_at(const struct mem_backend *mb, size_t i)
{
	const struct mem_rows *c = &mb->db->rows;

	if (i < c->n)
		return &c->v[i];
	return &mb->txn_rows.v[i - c->n];
}

static int
mem_read_state(struct migrate_backend *be,
	       struct migrate_state *st,
	       struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	const struct strv *heads;
	bool has_version, has_log;
	size_t n, i;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&db->mutex);
	heads = mb->in_txn ? &mb->txn_heads : &db->heads;
	has_version = mb->in_txn ? mb->txn_has_version : db->has_version;
	has_log = mb->in_txn ? mb->txn_has_log : db->has_log;
	n = has_log ? db->rows.n + (mb->in_txn ? mb->txn_rows.n : 0) : 0;

	if (has_version && has_log)
		migrate__state_set_ready(st);
	if (!has_version) {
		rc = migrate_state_set_uninitialised(st);
	} else {
		for (i = 0; i < heads->n && rc == 0; i++)
			rc = migrate_state_add_head(st, heads->v[i]);
	}
	/* Every row, as a plain scan would return them; the library picks
	 * what it needs. */
	for (i = 0; i < n && rc == 0; i++) {
		const struct mem_row *r = row_at(mb, i);
		struct migrate_history_entry e;

		memset(&e, 0, sizeof(e));
		e.revision = r->revision;
		e.direction = r->direction;
		e.operation = r->operation;
		e.checksum = r->checksum;
		e.success = r->success ? 1 : 0;
		e.error = r->error;
		rc = migrate_state_add_history(st, (long long)i + 1, &e);
	}
	pthread_mutex_unlock(&db->mutex);
	if (rc < 0)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, "",
					     "out of memory");
	return 0;
}

static void
iso8601(char *out, size_t size, double t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	int ms = (int)((t - (double)secs) * 1000.0);

	if (ms < 0 || ms > 999)
		ms = 0;
	gmtime_r(&secs, &tm);
	xsnprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00",
		  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		  tm.tm_min, tm.tm_sec, ms);
}

static int
mem_read_history(struct migrate_backend *be,
		 migrate_history_fn fn,
		 void *payload,
		 struct migrate_backend_error *err)
{
	struct mem_backend *mb = (struct mem_backend *)be;
	struct mem_db *db = mb->db;
	struct mem_row *snap = NULL;
	size_t n, i;
	int rc = check_alive(mb, err);

	if (rc < 0)
		return rc;
	/* Rows are never freed while the database lives, so a copy of the
	 * row structs is a stable snapshot; the callback runs unlocked. */
	pthread_mutex_lock(&db->mutex);
	n = (mb->in_txn ? mb->txn_has_log : db->has_log)
		    ? db->rows.n + (mb->in_txn ? mb->txn_rows.n : 0)
		    : 0;
	if (n) {
		snap = malloc(n * sizeof(*snap));
		if (snap)
			for (i = 0; i < n; i++)
				snap[i] = *row_at(mb, i);
	}
	pthread_mutex_unlock(&db->mutex);
	if (n && !snap)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, "",
					     "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		struct migrate_history_entry e;
		char when[64];

		iso8601(when, sizeof(when), snap[i].started_at);
		e.revision = snap[i].revision;
		e.direction = snap[i].direction;
		e.operation = snap[i].operation;
		e.checksum = snap[i].checksum;
		e.started_at = when;
		e.duration_ms = snap[i].duration_ms;
		e.db_user = "memory";
		e.success = snap[i].success;
		e.error = snap[i].error;
		rc = fn(&e, payload);
	}
	free(snap);
	return rc;
}

static void *
mem_native(struct migrate_backend *be)
{
	(void)be;
	return NULL;
}

static void
mem_free(struct migrate_backend *be)
{
	struct mem_backend *mb = (struct mem_backend *)be;

	if (!mb)
		return;
	txn_discard(mb);
	release_migration_lock(mb);
	db_unref(mb->db);
	strv_clear(&mb->sql);
	free(mb->fail_match);
	free(mb);
}

/* ------------------------------------------------------------------ */
/* Construction and fault injection                                    */
/* ------------------------------------------------------------------ */

static struct mem_backend *
to_mem(const struct migrate_backend *be)
{
	if (!be || !migrate__version_ok(be->version, MIGRATE_BACKEND_VERSION) ||
	    be->free != mem_free)
		return NULL;
	return (struct mem_backend *)be;
}

static const struct migrate_backend backend_init = MIGRATE_BACKEND_INIT;

static struct mem_backend *
mem_alloc(struct mem_db *db)
{
	struct mem_backend *mb = calloc(1, sizeof(*mb));

	if (!mb)
		return NULL;
	mb->base = backend_init;
	mb->base.name = "memory";
	mb->base.connect = mem_connect;
	mb->base.read_state = mem_read_state;
	mb->base.lock = mem_lock;
	mb->base.unlock = mem_unlock;
	mb->base.lock_holder = mem_lock_holder;
	mb->base.ensure_tables = mem_ensure_tables;
	mb->base.begin = mem_begin;
	mb->base.commit = mem_commit;
	mb->base.rollback = mem_rollback;
	mb->base.set_timeouts = mem_set_timeouts;
	mb->base.exec = mem_exec;
	mb->base.record = mem_record;
	/* Tests set run_step to NULL to drive the begin/exec/record/commit
	 * path of the engine. */
	mb->base.run_step = mem_run_step;
	mb->base.read_history = mem_read_history;
	mb->base.native = mem_native;
	mb->base.free = mem_free;
	mb->db = db;
	xsnprintf(mb->fail_nth_state, sizeof(mb->fail_nth_state), "42000");
	xsnprintf(mb->fail_match_state, sizeof(mb->fail_match_state), "42000");
	return mb;
}

MIGRATE_EXPORT
int
migrate_backend_memory_new(struct migrate_backend **out)
{
	struct mem_backend *mb;
	struct mem_db *db;

	if (!out)
		return MIGRATE_EINVAL;
	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return MIGRATE_ENOMEM;
	if (pthread_mutex_init(&db->mutex, NULL) != 0) {
		free(db);
		return MIGRATE_ENOMEM;
	}
	if (pthread_cond_init(&db->cond, NULL) != 0) {
		pthread_mutex_destroy(&db->mutex);
		free(db);
		return MIGRATE_ENOMEM;
	}
	db->refs = 1;
	mb = mem_alloc(db);
	if (!mb) {
		db_unref(db);
		return MIGRATE_ENOMEM;
	}
	*out = &mb->base;
	return 0;
}

MIGRATE_EXPORT
int
migrate_backend_memory_new_shared(struct migrate_backend **out,
				  struct migrate_backend *other)
{
	struct mem_backend *mo = to_mem(other), *mb;

	if (!out)
		return MIGRATE_EINVAL;
	*out = NULL;
	if (!mo)
		return MIGRATE_EINVAL;
	mb = mem_alloc(mo->db);
	if (!mb)
		return MIGRATE_ENOMEM;
	pthread_mutex_lock(&mo->db->mutex);
	mo->db->refs++;
	pthread_mutex_unlock(&mo->db->mutex);
	*out = &mb->base;
	return 0;
}

static bool
sqlstate_copy(char dst[6], const char *sqlstate)
{
	if (!sqlstate)
		sqlstate = "42000";
	if (strlen(sqlstate) != 5)
		return false;
	memcpy(dst, sqlstate, 6);
	return true;
}

int
migrate__backend_memory_fail_nth(struct migrate_backend *be,
				 unsigned long n,
				 const char *sqlstate)
{
	struct mem_backend *mb = to_mem(be);

	if (!mb || !sqlstate_copy(mb->fail_nth_state, sqlstate))
		return MIGRATE_EINVAL;
	mb->fail_nth = n;
	return 0;
}

int
migrate__backend_memory_fail_match(struct migrate_backend *be,
				   const char *substring,
				   const char *sqlstate)
{
	struct mem_backend *mb = to_mem(be);
	char *copy = NULL;

	if (!mb || !sqlstate_copy(mb->fail_match_state, sqlstate))
		return MIGRATE_EINVAL;
	if (substring) {
		if (!*substring)
			return MIGRATE_EINVAL;
		copy = xstrdup(substring);
		if (!copy)
			return MIGRATE_ENOMEM;
	}
	free(mb->fail_match);
	mb->fail_match = copy;
	return 0;
}

int
migrate__backend_memory_lose_connection(struct migrate_backend *be,
					unsigned long n)
{
	struct mem_backend *mb = to_mem(be);

	if (!mb)
		return MIGRATE_EINVAL;
	mb->lose_nth = n;
	return 0;
}

int
migrate__backend_memory_set_lock_taken(struct migrate_backend *be, int taken)
{
	struct mem_backend *mb = to_mem(be);

	if (!mb)
		return MIGRATE_EINVAL;
	mb->lock_taken = taken != 0;
	return 0;
}

size_t
migrate__backend_memory_sql_count(const struct migrate_backend *be)
{
	const struct mem_backend *mb = to_mem(be);

	return mb ? mb->sql.n : 0;
}

const char *
migrate__backend_memory_sql(const struct migrate_backend *be, size_t i)
{
	const struct mem_backend *mb = to_mem(be);

	if (!mb || i >= mb->sql.n)
		return NULL;
	return mb->sql.v[i];
}

int
migrate__backend_memory_set_heads(struct migrate_backend *be,
				  const char *const *ids,
				  size_t n)
{
	struct mem_backend *mb = to_mem(be);
	struct strv next = STRV_INIT;
	struct mem_db *db;
	size_t i;

	if (!mb || (n && !ids))
		return MIGRATE_EINVAL;
	db = mb->db;
	for (i = 0; i < n; i++) {
		if (!ids[i]) {
			strv_clear(&next);
			return MIGRATE_EINVAL;
		}
		if (strv_push(&next, ids[i]) < 0) {
			strv_clear(&next);
			return MIGRATE_ENOMEM;
		}
	}
	pthread_mutex_lock(&db->mutex);
	strv_clear(&db->heads);
	db->heads = next;
	db->has_version = ids != NULL || n > 0;
	pthread_mutex_unlock(&db->mutex);
	return 0;
}

size_t
migrate__backend_memory_history_count(const struct migrate_backend *be)
{
	const struct mem_backend *mb = to_mem(be);
	size_t n;

	if (!mb)
		return 0;
	pthread_mutex_lock(&mb->db->mutex);
	n = mb->db->rows.n;
	pthread_mutex_unlock(&mb->db->mutex);
	return n;
}
