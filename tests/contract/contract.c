/* SPDX-License-Identifier: MIT */
/*
 * The backend contract scenarios (see contract.h). Public API only: the
 * integration tests link the shared library.
 */
#include "contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "test-assert.h"

static const struct contract_backend *cb;

/* 001 and 003 plain; 002 is what a scenario makes of it. */
static const char rev_001[] = "-- One.\n"
			      "-- Revision ID: 001\n"
			      "-- Revises:\n"
			      "-- migrate:upgrade\n"
			      "CREATE TABLE c1 (x integer);\n"
			      "-- migrate:downgrade\n"
			      "DROP TABLE c1;\n";

static const char rev_002[] = "-- Two.\n"
			      "-- Revision ID: 002\n"
			      "-- Revises: 001\n"
			      "-- migrate:upgrade\n"
			      "CREATE TABLE c2 (x integer);\n"
			      "-- migrate:downgrade\n"
			      "DROP TABLE c2;\n";

/* Fails in the middle of its transaction. */
static const char rev_002_fails[] = "-- Two.\n"
				    "-- Revision ID: 002\n"
				    "-- Revises: 001\n"
				    "-- migrate:upgrade\n"
				    "CREATE TABLE c2 (x integer);\n"
				    "SELECT 1/0;\n"
				    "-- migrate:downgrade\n"
				    "DROP TABLE c2;\n";

/* Fails at its second statement, outside a transaction. */
static const char rev_002_nontx[] = "-- Two.\n"
				    "-- Revision ID: 002\n"
				    "-- Revises: 001\n"
				    "-- migrate:upgrade transaction=false\n"
				    "CREATE TABLE c2 (x integer);\n"
				    "SELECT 1/0;\n"
				    "-- migrate:downgrade\n"
				    "DROP TABLE c2;\n";

static const char rev_003[] = "-- Three.\n"
			      "-- Revision ID: 003\n"
			      "-- Revises: 002\n"
			      "-- migrate:upgrade\n"
			      "CREATE TABLE c3 (x integer);\n"
			      "-- migrate:downgrade\n"
			      "DROP TABLE c3;\n";

static struct migrate_registry *
registry(const char *second, int n)
{
	const char *const text[] = { rev_001, second, rev_003 };
	struct migrate_registry *reg = NULL;
	char name[32];
	int i;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "00%d.sql", i + 1);
		assert_reg_ok(reg, migrate_registry_parse(reg, name, text[i],
							  strlen(text[i])));
	}
	return reg;
}

/* A handle on @be; @lock_wait_ms < 0: the default lock wait. */
static struct migrate *
open_waiting(struct migrate_backend *be,
	     struct migrate_registry *reg,
	     int lock_wait_ms)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;

	opts.lock_retries = 0;
	if (lock_wait_ms >= 0)
		opts.lock_wait_ms = lock_wait_ms;
	assert_ok(m, migrate_open(&m, reg, be, &opts));
	return m;
}

static struct migrate *
open_on(struct migrate_backend *be, struct migrate_registry *reg)
{
	return open_waiting(be, reg, -1);
}

/* @ids as "a,b", "" for none. */
static const char *
joined(const char *const *ids, size_t n)
{
	static char out[256];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? "," : "", ids[i]);
	return out;
}

/* The version table as "a,b", "" for none. */
static const char *
current(struct migrate *m)
{
	const char *const *ids;
	size_t n;

	assert_ok(m, migrate_current(&ids, &n, m));
	return joined(ids, n);
}

static int
status_of(struct migrate *m)
{
	int status = -1;

	migrate_verify(&status, NULL, m, 0);
	return status;
}

/* The history as "op:rev:dir:success ..." */
struct hist {
	char text[1024];
	int n;
};

static int
hist_row(const struct migrate_history_entry *e, void *payload)
{
	struct hist *h = payload;

	snprintf(h->text + strlen(h->text), sizeof(h->text) - strlen(h->text),
		 "%s%s:%s:%s:%d", h->n ? " " : "", e->operation, e->revision,
		 e->direction == MIGRATE_DOWN ? "down" : "up", e->success);
	h->n++;
	return 0;
}

static const char *
history(struct migrate *m)
{
	static struct hist h;

	memset(&h, 0, sizeof(h));
	assert_ok(m, migrate_history(m, hist_row, &h));
	return h.text;
}

/* State reading: a fresh database, then one that moved. */
START_TEST(contract_state)
{
	struct migrate *m = open_on(cb->create(), registry(rev_002, 3));

	ck_assert_str_eq(current(m), "");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_UNINITIALISED);
	ck_assert_str_eq(history(m), "");
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_str_eq(current(m), "002");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_BEHIND);
	ck_assert_uint_eq(migrate_verify_pending(m), 1);
	migrate_close(m);
}

END_TEST

/* Steps up and down, each with its history row. */
START_TEST(contract_steps)
{
	struct migrate *m = open_on(cb->create(), registry(rev_002, 3));

	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "003");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_AT_HEAD);
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_str_eq(current(m), "002");
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_str_eq(current(m), "");
	ck_assert_str_eq(
		history(m),
		"upgrade:001:up:1 upgrade:002:up:1 upgrade:003:up:1 downgrade:003:down:1 downgrade:002:down:1 downgrade:001:down:1");
	/* An empty version table is not a fresh database. */
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_BEHIND);
	migrate_close(m);
}

END_TEST

/* A transactional step fails in the middle: nothing of it remains, the
 * failure is in the history, the database is behind, not dirty. */
START_TEST(contract_failure_in_the_middle)
{
	struct migrate_backend *be = cb->create();
	struct migrate *m;

	cb->arm_failure(be, "1/0");
	m = open_on(be, registry(rev_002_fails, 3));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_ptr_nonnull(migrate_sqlstate(m));
	ck_assert_str_eq(current(m), "001");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_BEHIND);
	ck_assert_str_eq(history(m), "upgrade:001:up:1 upgrade:002:up:0");
	ck_assert_int_eq(migrate_resolve(m, "002", 0), MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

/* A non-transactional step stops part-way: dirty until resolved. */
START_TEST(contract_dirty_and_resolve)
{
	struct migrate_backend *be = cb->create();
	struct migrate *m;

	cb->arm_failure(be, "1/0");
	m = open_on(be, registry(rev_002_nontx, 2));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_str_eq(current(m), "001");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_DIRTY);
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EDIRTY);
	ck_assert_int_eq(migrate_stamp(m, "head"), MIGRATE_EDIRTY);
	ck_assert_int_eq(migrate_resolve(m, "001", 0), MIGRATE_EINVAL);
	/* Declared complete: the version table moves, the mark goes. */
	assert_ok(m, migrate_resolve(m, "002", 0));
	ck_assert_str_eq(current(m), "002");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_AT_HEAD);
	ck_assert_str_eq(
		history(m),
		"upgrade:001:up:1 dirty:002:up:0 dirty:002:up:0 resolve:002:up:1");
	migrate_close(m);
}

END_TEST

START_TEST(contract_dirty_and_resolve_undo)
{
	struct migrate_backend *be = cb->create();
	struct migrate *m;

	cb->arm_failure(be, "1/0");
	m = open_on(be, registry(rev_002_nontx, 2));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	/* Declared not done: the version table stays, the mark goes. */
	assert_ok(m, migrate_resolve(m, "002", 1));
	ck_assert_str_eq(current(m), "001");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_BEHIND);
	migrate_close(m);
}

END_TEST

/* Stamp moves only the version table, either way. */
START_TEST(contract_stamp)
{
	struct migrate *m = open_on(cb->create(), registry(rev_002, 3));

	assert_ok(m, migrate_stamp(m, "head"));
	ck_assert_str_eq(current(m), "003");
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_AT_HEAD);
	assert_ok(m, migrate_stamp(m, "001"));
	ck_assert_str_eq(current(m), "001");
	assert_ok(m, migrate_stamp(m, "base"));
	ck_assert_str_eq(current(m), "");
	ck_assert_str_eq(
		history(m),
		"stamp:001:up:1 stamp:002:up:1 stamp:003:up:1 stamp:003:down:1 stamp:002:down:1 stamp:001:down:1");
	migrate_close(m);
}

END_TEST

/* A writer that moved the database under a plan is detected, by the
 * engine (migrate_apply) and by the backend's own bookkeeping. */
START_TEST(contract_concurrent_writer)
{
	struct migrate_backend *be = cb->create();
	struct migrate_backend *be2 = cb->create_second(be);
	struct migrate *m = open_on(be, registry(rev_002, 3));
	struct migrate *m2 = open_on(be2, registry(rev_002, 3));
	struct migrate_plan *plan = NULL;

	assert_ok(m, migrate_upgrade(m, "001"));
	assert_ok(m, migrate_plan(&plan, m, MIGRATE_UP, "head"));
	assert_ok(m2, migrate_upgrade(m2, "002"));
	ck_assert_int_eq(migrate_apply(m, plan), MIGRATE_ECONFLICT);
	assert_contains(migrate_errmsg(m), "moved since the plan was made");
	ck_assert_str_eq(current(m), "002");
	migrate_plan_free(plan);
	migrate_close(m2);
	migrate_close(m);
}

END_TEST

START_TEST(contract_backend_record_conflict)
{
	static const struct migrate_backend_config cfg = { "alembic_version",
							   "migrate_log", NULL,
							   0, 0 };
	struct migrate_backend *be = cb->create();
	const char *const from[] = { "zz" };
	const char *const to[] = { "002" };
	struct migrate_backend_error err;
	struct migrate_record rec;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->connect(be, &cfg, &err), 0);
	ck_assert_int_eq(be->ensure_tables(be, &err), 0);
	ck_assert_int_eq(be->begin(be, &err), 0);
	memset(&rec, 0, sizeof(rec));
	rec.revision = "002";
	rec.direction = MIGRATE_UP;
	rec.operation = "upgrade";
	rec.remove_heads = from;
	rec.n_remove = 1;
	rec.add_heads = to;
	rec.n_add = 1;
	rec.checksum = "";
	rec.success = 1;
	rec.error = "";
	/* The UPDATE of "zz" touches no row: someone else moved it. */
	ck_assert_int_eq(be->record(be, &rec, &err), MIGRATE_ECONFLICT);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_int_ne(err.kind, MIGRATE_BACKEND_ERROR_CONNECTION_LOST);
	ck_assert_int_eq(be->rollback(be, &err), 0);
	be->free(be);
}

END_TEST

/* A handle that waits for nobody: lock_wait 0. */
static struct migrate *
open_no_wait(struct migrate_backend *be, struct migrate_registry *reg)
{
	return open_waiting(be, reg, 0);
}

/* Where migrate_last_position() says the last run left the database. */
static const char *
last_position(struct migrate *m)
{
	const char *const *ids;
	size_t n;

	assert_ok(m, migrate_last_position(&ids, &n, m));
	return joined(ids, n);
}

/* Nothing to do takes no lock: a run at its target succeeds while
 * another session holds the lock; one with anything to do (a step, a
 * stamp, tables to create) still waits for it. */
START_TEST(contract_noop_takes_no_lock)
{
	struct migrate_backend *be = cb->create();
	struct migrate_backend *be2 = cb->create_second(be);
	struct migrate *m = open_no_wait(be, registry(rev_002, 3));
	struct migrate *m2 = open_no_wait(be2, registry(rev_002, 3));
	struct migrate_backend_error err;
	struct migrate_plan *plan = NULL;

	assert_ok(m, migrate_upgrade(m, NULL));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be2->lock(be2, 0, &err), 0);
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(last_position(m), "003");
	assert_ok(m, migrate_downgrade(m, "003"));
	assert_ok(m, migrate_plan(&plan, m, MIGRATE_UP, "head"));
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_ok(m, migrate_apply(m, plan));
	migrate_plan_free(plan);
	ck_assert_str_eq(last_position(m), "003");
	ck_assert_int_eq(migrate_downgrade(m, "-1"), MIGRATE_ELOCKED);
	{
		const char *const *ids;
		size_t n;

		ck_assert_int_eq(migrate_last_position(&ids, &n, m),
				 MIGRATE_ENOTFOUND);
	}
	ck_assert_int_eq(migrate_stamp(m, "head"), MIGRATE_ELOCKED);
	ck_assert_str_eq(history(m),
			 "upgrade:001:up:1 upgrade:002:up:1 upgrade:003:up:1");
	ck_assert_int_eq(be2->unlock(be2, &err), 0);
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_str_eq(current(m), "002");
	migrate_close(m2);
	migrate_close(m);
}

END_TEST

/* A fresh database with nothing to run (a downgrade to base): the tables
 * are to be created, so under the lock. */
START_TEST(contract_noop_creates_tables_under_lock)
{
	struct migrate_backend *be = cb->create();
	struct migrate_backend *be2 = cb->create_second(be);
	struct migrate *m = open_no_wait(be, registry(rev_002, 1));
	struct migrate *m2 = open_no_wait(be2, registry(rev_002, 1));
	struct migrate_backend_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be2->lock(be2, 0, &err), 0);
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_ELOCKED);
	ck_assert_int_eq(status_of(m), MIGRATE_STATUS_UNINITIALISED);
	ck_assert_int_eq(be2->unlock(be2, &err), 0);
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_int_ne(status_of(m), MIGRATE_STATUS_UNINITIALISED);
	migrate_close(m2);
	migrate_close(m);
}

END_TEST

/* A dirty database is refused under the lock, as ever, even where the
 * plan has no step. */
START_TEST(contract_noop_dirty_under_lock)
{
	struct migrate_backend *be = cb->create();
	struct migrate_backend *be2;
	struct migrate *m, *m2;
	struct migrate_backend_error err;
	char msg[512];

	cb->arm_failure(be, "1/0");
	be2 = cb->create_second(be);
	m = open_no_wait(be, registry(rev_002_nontx, 2));
	m2 = open_no_wait(be2, registry(rev_002_nontx, 2));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_int_eq(migrate_upgrade(m, "001"), MIGRATE_EDIRTY);
	snprintf(msg, sizeof(msg), "%s", migrate_errmsg(m));
	assert_contains(msg, "database is dirty");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be2->lock(be2, 0, &err), 0);
	ck_assert_int_eq(migrate_upgrade(m, "001"), MIGRATE_ELOCKED);
	ck_assert_int_eq(be2->unlock(be2, &err), 0);
	ck_assert_int_eq(migrate_upgrade(m, "001"), MIGRATE_EDIRTY);
	ck_assert_str_eq(migrate_errmsg(m), msg);
	migrate_close(m2);
	migrate_close(m);
}

END_TEST

/* One TCase per test, named after it (CK_RUN_CASE=contract_steps). */
#define add_contract(s, fn)                                                    \
	do {                                                                   \
		TCase *tc_ = tcase_create(#fn);                                \
		if (cb->setup)                                                 \
			tcase_add_checked_fixture(tc_, cb->setup,              \
						  cb->teardown);               \
		tcase_add_test(tc_, fn);                                       \
		suite_add_tcase((s), tc_);                                     \
	} while (0)

Suite *
contract_suite(const char *name, const struct contract_backend *backend)
{
	Suite *s = suite_create(name);

	cb = backend;
	add_contract(s, contract_state);
	add_contract(s, contract_steps);
	add_contract(s, contract_failure_in_the_middle);
	add_contract(s, contract_dirty_and_resolve);
	add_contract(s, contract_dirty_and_resolve_undo);
	add_contract(s, contract_stamp);
	add_contract(s, contract_concurrent_writer);
	add_contract(s, contract_backend_record_conflict);
	add_contract(s, contract_noop_takes_no_lock);
	add_contract(s, contract_noop_creates_tables_under_lock);
	add_contract(s, contract_noop_dirty_under_lock);
	return s;
}
