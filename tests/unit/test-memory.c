/* SPDX-License-Identifier: MIT */
/*
 * The in-memory backend on its own, through its vtable: transactions,
 * bookkeeping rules (UPDATE of exactly one row, the applied set, the dirty
 * rule), sharing, the migration lock and every fault injection.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "backend-memory.h"
#include "private.h"
#include "suites.h"
#include "test-common.h"

static const struct migrate_backend_config cfg = { "alembic_version",
						   "migrate_log", NULL, 0, 0 };

static struct migrate_backend_error err;

#define be_ok(call)                                                            \
	do {                                                                   \
		int rc_ = (call);                                              \
		ck_assert_msg(rc_ == 0, "%s returned %d: %s", #call, rc_,      \
			      err.message);                                    \
	} while (0)

static struct migrate_backend *
connected(void)
{
	struct migrate_backend *be;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_str_eq(be->name, "memory");
	ck_assert_int_eq(be->version, MIGRATE_BACKEND_VERSION);
	memset(&err, 0, sizeof(err));
	be_ok(be->connect(be, &cfg, &err));
	return be;
}

static struct migrate_backend *
shared(struct migrate_backend *other)
{
	struct migrate_backend *be;

	ck_assert_int_eq(migrate_backend_memory_new_shared(&be, other), 0);
	be_ok(be->connect(be, &cfg, &err));
	return be;
}

/* A record: @remove -> @add (NULL for none), success 1. */
static struct migrate_record
rec(const char *rev,
    int dir,
    const char *op,
    const char **remove,
    const char **add)
{
	struct migrate_record r;

	memset(&r, 0, sizeof(r));
	r.revision = rev;
	r.direction = dir;
	r.operation = op;
	r.remove_heads = remove;
	r.n_remove = remove ? 1 : 0;
	r.add_heads = add;
	r.n_add = add ? 1 : 0;
	r.checksum = "c0ffee";
	r.started_at = 1767225600.5;
	r.duration_ms = 12.5;
	r.success = 1;
	r.error = "";
	return r;
}

/* The state as "heads|applied ids|dirty rev" strings. */
struct view {
	char heads[128];
	char applied[128];
	char dirty[128];
	bool uninit;
};

static struct view
state(struct migrate_backend *be)
{
	struct migrate_state st;
	struct view v;
	size_t i;

	memset(&v, 0, sizeof(v));
	migrate__state_init(&st);
	be_ok(be->read_state(be, &st, &err));
	ck_assert_int_eq(migrate__state_derive(&st), 0);
	v.uninit = st.uninitialised;
	for (i = 0; i < st.heads.n; i++)
		snprintf(v.heads + strlen(v.heads),
			 sizeof(v.heads) - strlen(v.heads), "%s%s",
			 i ? "," : "", st.heads.v[i]);
	/* Applied ids as derived (sorted by id). */
	for (i = 0; i < st.n_applied; i++)
		snprintf(v.applied + strlen(v.applied),
			 sizeof(v.applied) - strlen(v.applied), "%s%s",
			 i ? "," : "", st.applied[i].id);
	if (st.dirty)
		snprintf(v.dirty, sizeof(v.dirty), "%s/%d/%s",
			 st.dirty_revision, st.dirty_direction,
			 st.dirty_detail);
	migrate__state_clear(&st);
	return v;
}

START_TEST(test_memory_transactions)
{
	struct migrate_backend *be = connected();
	struct migrate_backend *other = shared(be);
	const char *r1[] = { "001" }, *r2[] = { "002" };
	struct migrate_record r;

	ck_assert(state(be).uninit);
	be_ok(be->ensure_tables(be, &err));
	ck_assert(!state(be).uninit);
	ck_assert_str_eq(state(be).heads, "");

	/* Rollback restores. */
	be_ok(be->begin(be, &err));
	r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).heads, "001");
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);
	be_ok(be->rollback(be, &err));
	ck_assert_str_eq(state(be).heads, "");
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);

	/* Commit publishes; the other connection sees it only then. */
	be_ok(be->begin(be, &err));
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(other).heads, "");
	ck_assert_str_eq(state(be).heads, "001");
	be_ok(be->commit(be, &err));
	ck_assert_str_eq(state(other).heads, "001");
	ck_assert_str_eq(state(other).applied, "001");
	ck_assert_uint_eq(migrate__backend_memory_history_count(other), 1);

	/* Autocommit outside a transaction. */
	r = rec("002", MIGRATE_UP, "upgrade", r1, r2);
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(other).heads, "002");

	/* A second begin is an error; commit/rollback without one are
	 * harmless. */
	be_ok(be->begin(be, &err));
	ck_assert_int_eq(be->begin(be, &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "25001");
	be_ok(be->rollback(be, &err));
	be_ok(be->commit(be, &err));
	be_ok(be->rollback(be, &err));

	be->free(other);
	be->free(be);
}

END_TEST

START_TEST(test_memory_aborted_transaction)
{
	struct migrate_backend *be = connected();
	const char *r1[] = { "001" };
	struct migrate_record r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);

	be_ok(be->ensure_tables(be, &err));
	be_ok(migrate__backend_memory_fail_nth(be, 1, "42P01"));
	be_ok(be->begin(be, &err));
	ck_assert_int_eq(be->exec(be, "SELECT nope", &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42P01");
	/* As on PostgreSQL, nothing more runs in the failed transaction. */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->exec(be, "SELECT 1", &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "25P02");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_int_eq(be->commit(be, &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(state(be).heads, "");
	/* The failed commit ended the transaction. */
	be_ok(be->begin(be, &err));
	be_ok(be->rollback(be, &err));
	be->free(be);
}

END_TEST

START_TEST(test_memory_record_rules)
{
	struct migrate_backend *be = connected();
	const char *r1[] = { "001" }, *r2[] = { "002" }, *r3[] = { "003" };
	const char *merge_from[] = { "a", "b" }, *merge_to[] = { "m" };
	const char *ab[] = { "a", "b" };
	struct migrate_record r;

	/* No tables yet. */
	r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42P01");
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_ptr_nonnull(strstr(err.message, "migrate_log"));
	be_ok(be->ensure_tables(be, &err));
	be_ok(be->record(be, &r, &err));

	/* UPDATE must match exactly one row. */
	memset(&err, 0, sizeof(err));
	r = rec("003", MIGRATE_UP, "upgrade", r2, r3);
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_ECONFLICT);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_ptr_nonnull(strstr(err.message, "matched 0 rows"));
	/* Adding a version that is there is a duplicate key. */
	memset(&err, 0, sizeof(err));
	r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_ECONFLICT);
	ck_assert_str_eq(err.sqlstate, "23505");
	/* Nothing of the failed records stayed. */
	ck_assert_str_eq(state(be).heads, "001");
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 1);

	/* A failure row changes no version, whatever it says. */
	r = rec("002", MIGRATE_UP, "upgrade", r1, r2);
	r.success = 0;
	r.error = "boom";
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).heads, "001");
	ck_assert_str_eq(state(be).applied, "001");

	/* Merges: several removed, one added. */
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, ab, 2), 0);
	r = rec("m", MIGRATE_UP, "upgrade", NULL, NULL);
	r.remove_heads = merge_from;
	r.n_remove = 2;
	r.add_heads = merge_to;
	r.n_add = 1;
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).heads, "m");
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_ECONFLICT);
	be->free(be);
}

END_TEST

START_TEST(test_memory_applied_and_dirty)
{
	struct migrate_backend *be = connected();
	const char *r1[] = { "001" }, *r2[] = { "002" };
	struct migrate_record r;
	struct migrate_state st;
	struct view v;

	be_ok(be->ensure_tables(be, &err));
	r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	be_ok(be->record(be, &r, &err));
	r = rec("002", MIGRATE_UP, "stamp", r1, r2);
	r.checksum = "beef";
	be_ok(be->record(be, &r, &err));
	v = state(be);
	ck_assert_str_eq(v.heads, "002");
	ck_assert_str_eq(v.applied, "001,002");
	ck_assert_str_eq(v.dirty, "");

	/* Checksums come with the applied set. */
	migrate__state_init(&st);
	be_ok(be->read_state(be, &st, &err));
	ck_assert_int_eq(migrate__state_derive(&st), 0);
	ck_assert(st.has_history);
	ck_assert_str_eq(st.applied[0].checksum, "c0ffee");
	ck_assert_str_eq(st.applied[1].checksum, "beef");
	/* issue 8: an applied revision is one block (its id, then its
	 * checksum), as is each history row until derived */
	ck_assert_ptr_eq(st.applied[1].checksum,
			 st.applied[1].id + strlen(st.applied[1].id) + 1);
	ck_assert_uint_eq(st.n_rows, 0);
	migrate__state_clear(&st);
	migrate__state_init(&st);
	be_ok(be->read_state(be, &st, &err));
	ck_assert_uint_eq(st.n_rows, 2);
	ck_assert_str_eq(st.rows[1].revision, "002");
	ck_assert_str_eq(st.rows[1].revision + 4, "beef");
	ck_assert_str_eq(st.rows[1].revision + 9, "");
	migrate__state_clear(&st);

	/* Down: no longer applied. */
	r = rec("002", MIGRATE_DOWN, "downgrade", r2, r1);
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).applied, "001");

	/* A dirty row marks the database dirty... */
	r = rec("002", MIGRATE_UP, "dirty", NULL, NULL);
	r.success = 0;
	r.error = "started";
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).dirty, "002/1/started");
	/* ...failure rows do not change that... */
	r = rec("002", MIGRATE_UP, "upgrade", NULL, NULL);
	r.success = 0;
	r.error = "boom";
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).dirty, "002/1/started");
	/* ...a later dirty row says more... */
	r = rec("002", MIGRATE_UP, "dirty", NULL, NULL);
	r.success = 0;
	r.error = "statement 2 of 3 failed";
	be_ok(be->record(be, &r, &err));
	ck_assert_str_eq(state(be).dirty, "002/1/statement 2 of 3 failed");
	/* ...and any successful row clears it. */
	r = rec("002", MIGRATE_DOWN, "resolve", NULL, NULL);
	be_ok(be->record(be, &r, &err));
	v = state(be);
	ck_assert_str_eq(v.dirty, "");
	ck_assert_str_eq(v.applied, "001");
	ck_assert_str_eq(v.heads, "001");
	be->free(be);
}

END_TEST

static int
count_rows(const struct migrate_history_entry *e, void *payload)
{
	int *n = payload;

	if (*n == 0) {
		ck_assert_str_eq(e->revision, "001");
		ck_assert_str_eq(e->operation, "upgrade");
		ck_assert_int_eq(e->direction, MIGRATE_UP);
		ck_assert_str_eq(e->checksum, "c0ffee");
		ck_assert_str_eq(e->started_at,
				 "2026-01-01T00:00:00.500+00:00");
		ck_assert(e->duration_ms == 12.5);
		ck_assert_str_eq(e->db_user, "memory");
		ck_assert_int_eq(e->success, 1);
		ck_assert_str_eq(e->error, "");
	}
	return ++*n == 2 ? 5 : 0;
}

START_TEST(test_memory_history)
{
	struct migrate_backend *be = connected();
	const char *r1[] = { "001" };
	struct migrate_record r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	int n = 0;

	ck_assert_int_eq(be->read_history(be, count_rows, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	be_ok(be->ensure_tables(be, &err));
	be_ok(be->record(be, &r, &err));
	r.success = 0;
	be_ok(be->record(be, &r, &err));
	be_ok(be->record(be, &r, &err));
	/* Stops at the callback's non-zero value. */
	ck_assert_int_eq(be->read_history(be, count_rows, &n, &err), 5);
	ck_assert_int_eq(n, 2);
	be->free(be);
}

END_TEST

START_TEST(test_memory_sql_log_and_fail_nth)
{
	struct migrate_backend *be = connected();

	be_ok(be->exec(be, "SELECT 1", &err));
	be_ok(migrate__backend_memory_fail_nth(be, 2, NULL));
	be_ok(be->exec(be, "SELECT 2", &err));
	ck_assert_int_eq(be->exec(be, "SELECT 3", &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42000");
	ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_OTHER);
	/* Only once. */
	be_ok(be->exec(be, "SELECT 4", &err));
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 4);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 2), "SELECT 3");
	ck_assert_ptr_null(migrate__backend_memory_sql(be, 4));
	/* Disarm. */
	be_ok(migrate__backend_memory_fail_nth(be, 1, "55P03"));
	be_ok(migrate__backend_memory_fail_nth(be, 0, NULL));
	be_ok(be->exec(be, "SELECT 5", &err));
	ck_assert_int_eq(migrate__backend_memory_fail_nth(be, 1, "bad"),
			 MIGRATE_EINVAL);
	be->free(be);
}

END_TEST

START_TEST(test_memory_fail_match_position)
{
	struct migrate_backend *be = connected();

	be_ok(migrate__backend_memory_fail_match(be, "foo", "42703"));
	be_ok(be->exec(be, "SELECT bar", &err));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->exec(be, "SELECT foo", &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42703");
	ck_assert_int_eq(err.position, 8);
	ck_assert_str_eq(err.message, "injected failure at \"foo\"");
	/* Every time, in characters. */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->exec(be, "SELECT '\xc3\xa9\xc3\xa9', foo", &err),
			 MIGRATE_EBACKEND);
	ck_assert_int_eq(err.position, 14);
	be_ok(migrate__backend_memory_fail_match(be, NULL, NULL));
	be_ok(be->exec(be, "SELECT foo", &err));
	ck_assert_int_eq(migrate__backend_memory_fail_match(be, "", NULL),
			 MIGRATE_EINVAL);
	be->free(be);
}

END_TEST

START_TEST(test_memory_lose_connection)
{
	struct migrate_backend *be = connected();
	struct migrate_backend *other = shared(be);
	const char *r1[] = { "001" };
	struct migrate_record r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	struct migrate_state st;

	be_ok(be->ensure_tables(be, &err));
	be_ok(be->lock(be, 0, &err));
	be_ok(migrate__backend_memory_lose_connection(be, 2));
	be_ok(be->begin(be, &err));
	be_ok(be->record(be, &r, &err));
	be_ok(be->exec(be, "SELECT 1", &err));
	ck_assert_int_eq(be->exec(be, "SELECT 2", &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_CONNECTION_LOST);
	/* Every later call fails too. */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->commit(be, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_CONNECTION_LOST);
	migrate__state_init(&st);
	ck_assert_int_eq(be->read_state(be, &st, &err), MIGRATE_EBACKEND);
	migrate__state_clear(&st);
	ck_assert_int_eq(be->lock(be, 0, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(be->record(be, &r, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(be->exec(be, "SELECT 3", &err), MIGRATE_EBACKEND);
	/* The open transaction died with the session; so did its lock. */
	ck_assert_str_eq(state(other).heads, "");
	be_ok(other->lock(other, 0, &err));
	be_ok(other->unlock(other, &err));
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 3);
	be->free(be);
	other->free(other);
}

END_TEST

START_TEST(test_memory_lock)
{
	struct migrate_backend *a = connected();
	struct migrate_backend *b = shared(a);
	struct migrate_backend *c = connected();

	be_ok(a->lock(a, 0, &err));
	/* Re-entrant for its owner, like advisory locks. */
	be_ok(a->lock(a, 0, &err));
	ck_assert_int_eq(b->lock(b, 0, &err), MIGRATE_ELOCKED);
	ck_assert_int_eq(b->lock(b, 50, &err), MIGRATE_ELOCKED);
	/* Another database has its own lock. */
	be_ok(c->lock(c, 0, &err));
	be_ok(a->unlock(a, &err));
	ck_assert_int_eq(b->lock(b, 0, &err), MIGRATE_ELOCKED);
	be_ok(a->unlock(a, &err));
	be_ok(b->lock(b, 0, &err));
	ck_assert_int_eq(a->lock(a, 0, &err), MIGRATE_ELOCKED);
	/* Freeing the holder releases it. */
	b->free(b);
	be_ok(a->lock(a, 0, &err));
	be_ok(a->unlock(a, &err));
	/* Told to report it taken. */
	be_ok(migrate__backend_memory_set_lock_taken(a, 1));
	ck_assert_int_eq(a->lock(a, 1000, &err), MIGRATE_ELOCKED);
	be_ok(migrate__backend_memory_set_lock_taken(a, 0));
	be_ok(a->lock(a, 0, &err));
	a->free(a);
	c->free(c);
}

END_TEST

START_TEST(test_memory_run_step)
{
	struct migrate_backend *be = connected();
	const char *r1[] = { "001" }, *r2[] = { "002" };
	struct migrate_record r = rec("001", MIGRATE_UP, "upgrade", NULL, r1);
	struct migrate_backend_step step;

	be_ok(be->ensure_tables(be, &err));
	memset(&step, 0, sizeof(step));
	step.sql = "CREATE TABLE t1 ()";
	step.lock_timeout_ms = 5000;
	step.record = &r;
	be_ok(be->run_step(be, &step, &err));
	ck_assert_str_eq(state(be).heads, "001");

	/* SQL failure: nothing of the step, no transaction left open. */
	r = rec("002", MIGRATE_UP, "upgrade", r1, r2);
	step.sql = "CREATE TABLE t2 ()";
	be_ok(migrate__backend_memory_fail_nth(be, 1, NULL));
	ck_assert_int_eq(be->run_step(be, &step, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_str_eq(state(be).heads, "001");
	be_ok(be->begin(be, &err));
	be_ok(be->rollback(be, &err));
	/* Bookkeeping failure: said so, also rolled back. */
	memset(&err, 0, sizeof(err));
	r = rec("002", MIGRATE_UP, "upgrade", r2, r2);
	ck_assert_int_eq(be->run_step(be, &step, &err), MIGRATE_ECONFLICT);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 1);

	/* Inside the caller's transaction. */
	r = rec("002", MIGRATE_UP, "upgrade", r1, r2);
	step.in_transaction = 1;
	ck_assert_int_eq(be->run_step(be, &step, &err), MIGRATE_EINVAL);
	be_ok(be->begin(be, &err));
	be_ok(be->run_step(be, &step, &err));
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 1);
	be_ok(be->commit(be, &err));
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 2);
	ck_assert_str_eq(state(be).heads, "002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 4);
	be->free(be);
}

END_TEST

START_TEST(test_memory_set_heads_and_sharing)
{
	struct migrate_backend *a, *b, *c;
	const char *ids[] = { "x", "y" };

	ck_assert_int_eq(migrate_backend_memory_new(&a), 0);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&b, a), 0);
	/* The database lives until its last backend is gone. */
	a->free(a);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&c, b), 0);
	be_ok(c->connect(c, &cfg, &err));
	ck_assert(state(c).uninit);
	ck_assert_int_eq(migrate__backend_memory_set_heads(b, ids, 2), 0);
	ck_assert_str_eq(state(c).heads, "x,y");
	ck_assert_int_eq(migrate__backend_memory_set_heads(b, ids, 0), 0);
	ck_assert(!state(c).uninit);
	ck_assert_str_eq(state(c).heads, "");
	ck_assert_int_eq(migrate__backend_memory_set_heads(b, NULL, 0), 0);
	ck_assert(state(c).uninit);
	ck_assert_int_eq(migrate__backend_memory_set_heads(b, NULL, 2),
			 MIGRATE_EINVAL);
	b->free(b);
	c->free(c);
}

END_TEST

static int
fake_connect(struct migrate_backend *be,
	     const struct migrate_backend_config *c,
	     struct migrate_backend_error *e)
{
	(void)be;
	(void)c;
	(void)e;
	return 0;
}

START_TEST(test_memory_rejects_other_backends)
{
	struct migrate_backend fake, *out = NULL;

	memset(&fake, 0, sizeof(fake));
	fake.version = MIGRATE_BACKEND_VERSION;
	fake.connect = fake_connect;
	ck_assert_int_eq(migrate_backend_memory_new_shared(&out, &fake),
			 MIGRATE_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&out, NULL),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__backend_memory_fail_nth(&fake, 1, NULL),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__backend_memory_fail_match(&fake, "x", NULL),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__backend_memory_lose_connection(&fake, 1),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__backend_memory_set_lock_taken(&fake, 1),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__backend_memory_set_heads(&fake, NULL, 0),
			 MIGRATE_EINVAL);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(&fake), 0);
	ck_assert_ptr_null(migrate__backend_memory_sql(&fake, 0));
	ck_assert_uint_eq(migrate__backend_memory_history_count(&fake), 0);
	ck_assert_int_eq(migrate_backend_memory_new(NULL), MIGRATE_EINVAL);
}

END_TEST

START_TEST(test_memory_not_connected)
{
	struct migrate_backend *be;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(be->exec(be, "SELECT 1", &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(be->begin(be, &err), MIGRATE_EBACKEND);
	ck_assert_ptr_null(be->native(be));
	/* Loss armed before connecting: the server is unreachable. */
	be_ok(migrate__backend_memory_lose_connection(be, 5));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->connect(be, &cfg, &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "08001");
	be->free(be);
}

END_TEST

/* Many revisions: reading the state stays linear. */
START_TEST(test_memory_many_rows)
{
	struct migrate_backend *be = connected();
	char id[16], prev[16];
	struct migrate_state st;
	int i;

	be_ok(be->ensure_tables(be, &err));
	for (i = 0; i < 20000; i++) {
		const char *rm[1], *add[1];
		struct migrate_record r;

		snprintf(id, sizeof(id), "r%d", i);
		rm[0] = prev;
		add[0] = id;
		r = rec(id, MIGRATE_UP, "upgrade", i ? rm : NULL, add);
		be_ok(be->record(be, &r, &err));
		memcpy(prev, id, sizeof(id));
	}
	migrate__state_init(&st);
	be_ok(be->read_state(be, &st, &err));
	ck_assert_int_eq(migrate__state_derive(&st), 0);
	ck_assert_uint_eq(st.n_applied, 20000);
	ck_assert_uint_eq(st.heads.n, 1);
	ck_assert_str_eq(st.heads.v[0], "r19999");
	migrate__state_clear(&st);
	be->free(be);
}

END_TEST

/* state.c's rule does not depend on the order a backend reports rows in
 * (a server returns a plain scan in any order): seq decides. */
START_TEST(test_state_derive_any_order)
{
	static const struct {
		long long seq;
		const char *rev;
		int dir;
		const char *op;
		int success;
		const char *sum;
		const char *error;
	} rows[] = {
		{ 5, "b", MIGRATE_DOWN, "downgrade", 1, "s2", "" },
		{ 1, "a", MIGRATE_UP, "upgrade", 1, "s1", "" },
		{ 7, "c", MIGRATE_UP, "dirty", 0, "", "statement 2 of 3" },
		{ 3, "b", MIGRATE_UP, "upgrade", 1, "s2", "" },
		{ 6, "c", MIGRATE_UP, "dirty", 0, "", "started" },
		{ 8, "c", MIGRATE_UP, "upgrade", 0, "", "failed, ignored" },
		{ 4, "a", MIGRATE_UP, "stamp", 1, "s1b", "" },
	};

	size_t order, i;

	for (order = 0; order < 2; order++) {
		struct migrate_state st;

		migrate__state_init(&st);
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			size_t k =
				order ? sizeof(rows) / sizeof(rows[0]) - 1 - i
				      : i;
			struct migrate_history_entry e;

			memset(&e, 0, sizeof(e));
			e.revision = rows[k].rev;
			e.direction = rows[k].dir;
			e.operation = rows[k].op;
			e.success = rows[k].success;
			e.checksum = rows[k].sum;
			e.error = rows[k].error;
			ck_assert_int_eq(
				migrate_state_add_history(&st, rows[k].seq, &e),
				0);
		}
		ck_assert_int_eq(migrate__state_derive(&st), 0);
		ck_assert(st.has_history);
		ck_assert_uint_eq(st.n_applied, 1);
		ck_assert_str_eq(st.applied[0].id, "a");
		ck_assert_str_eq(st.applied[0].checksum, "s1b");
		ck_assert(st.dirty);
		ck_assert_str_eq(st.dirty_revision, "c");
		ck_assert_int_eq(st.dirty_direction, MIGRATE_UP);
		ck_assert_str_eq(st.dirty_detail, "statement 2 of 3");
		migrate__state_clear(&st);
	}
}

END_TEST

Suite *
memory_suite(void)
{
	Suite *s = suite_create("memory");

	add_test(s, test_memory_transactions);
	add_test(s, test_memory_aborted_transaction);
	add_test(s, test_memory_record_rules);
	add_test(s, test_memory_applied_and_dirty);
	add_test(s, test_memory_history);
	add_test(s, test_memory_sql_log_and_fail_nth);
	add_test(s, test_memory_fail_match_position);
	add_test(s, test_memory_lose_connection);
	add_test(s, test_memory_lock);
	add_test(s, test_memory_run_step);
	add_test(s, test_memory_set_heads_and_sharing);
	add_test(s, test_memory_rejects_other_backends);
	add_test(s, test_memory_not_connected);
	add_test(s, test_memory_many_rows);
	add_test(s, test_state_derive_any_order);
	return s;
}
