/* SPDX-License-Identifier: MIT */
/*
 * migrate_verify(): every status with its exact message, the policy flags,
 * checksums, and the promise that verify reads once and writes nothing.
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

/* A chain 001 <- ... <- @n; @variant changes the SQL of revision 002. */
static struct migrate_registry *
chain_v(int n, const char *variant)
{
	struct migrate_registry *reg = test_chain(n, variant);

	ck_assert_ptr_nonnull(reg);
	return reg;
}

static struct migrate_registry *
chain(int n)
{
	return chain_v(n, NULL);
}

static struct migrate *
open_on(struct migrate_registry *reg, struct migrate_backend *be)
{
	struct migrate *m = NULL;

	assert_ok(m, migrate_open(&m, reg, be, NULL));
	return m;
}

static struct migrate *
open_mem(struct migrate_registry *reg, struct migrate_backend **be)
{
	ck_assert_int_eq(migrate_backend_memory_new(be), 0);
	return open_on(reg, *be);
}

/* Verify and check status, return code and exact message. */
static void
expect(struct migrate *m,
       unsigned int flags,
       int want_rc,
       int want_status,
       const char *want_msg)
{
	const char *msg = NULL;
	int status = -1;
	int rc = migrate_verify(&status, &msg, m, flags);

	ck_assert_msg(rc == want_rc, "verify returned %d (%s), want %d", rc,
		      msg ? msg : "", want_rc);
	ck_assert_msg(status == want_status, "status %s, want %s: %s",
		      migrate_status_name(status),
		      migrate_status_name(want_status), msg ? msg : "");
	ck_assert_ptr_nonnull(msg);
	if (want_msg)
		ck_assert_str_eq(msg, want_msg);
	/* The message is also the error on failure, and "" on success. */
	if (rc == MIGRATE_EVERIFY)
		ck_assert_str_eq(migrate_errmsg(m), msg);
	else
		ck_assert_str_eq(migrate_errmsg(m), "");
}

START_TEST(test_verify_at_head)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);

	assert_ok(m, migrate_upgrade(m, NULL));
	expect(m, 0, 0, MIGRATE_STATUS_AT_HEAD, "database is at 003 (head)");
	ck_assert_uint_eq(migrate_verify_pending(m), 0);
	/* status and message may be NULL. */
	assert_ok(m, migrate_verify(NULL, NULL, m, 0));
	ck_assert_int_eq(migrate_verify(NULL, NULL, m, 1u << 10),
			 MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_behind)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);

	assert_ok(m, migrate_upgrade(m, "001"));
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_BEHIND,
	       "database is at 001, this build needs 003 (2 pending): run "
	       "'migrate upgrade head'");
	ck_assert_uint_eq(migrate_verify_pending(m), 2);
	/* ALLOW_AHEAD does not make behind acceptable. */
	expect(m, MIGRATE_VERIFY_ALLOW_AHEAD, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_BEHIND, NULL);
	/* Version table present but empty: at base. */
	assert_ok(m, migrate_downgrade(m, "base"));
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_BEHIND,
	       "database is at <base>, this build needs 003 (3 pending): run "
	       "'migrate upgrade head'");
	ck_assert_uint_eq(migrate_verify_pending(m), 3);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_uninitialised)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);

	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_UNINITIALISED,
	       "database is at <base>, this build needs 003: run 'migrate "
	       "upgrade head'");
	ck_assert_uint_eq(migrate_verify_pending(m), 3);
	/* Verify never creates the table: still uninitialised. */
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_UNINITIALISED, NULL);
	migrate_close(m);
}

END_TEST

/* Two builds on one database: the newer one migrates, the older one sees
 * the database ahead of it. */
START_TEST(test_verify_ahead)
{
	struct migrate_backend *be_old, *be_new;
	struct migrate *old, *new;

	old = open_mem(chain(3), &be_old);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be_new, be_old), 0);
	new = open_on(chain(4), be_new);
	assert_ok(new, migrate_upgrade(new, NULL));
	expect(new, 0, 0, MIGRATE_STATUS_AT_HEAD, "database is at 004 (head)");
	expect(old, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_AHEAD,
	       "database is at 004, newer than this build's head 003");
	expect(old, MIGRATE_VERIFY_ALLOW_AHEAD, 0, MIGRATE_STATUS_AHEAD,
	       "database is at 004, newer than this build's head 003");
	/* The old build refuses to plan from an unknown revision. */
	ck_assert_int_eq(migrate_upgrade(old, NULL), MIGRATE_EUNKNOWN);
	migrate_close(old);
	migrate_close(new);
}

END_TEST

START_TEST(test_verify_unknown_revision)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);
	const char *zzz[] = { "zzz" };

	/* Another tool wrote a revision we never heard of. */
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, zzz, 1), 0);
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_UNKNOWN_REVISION,
	       "database is at 'zzz', which this build does not know (its "
	       "head 003 is not applied)");
	expect(m, MIGRATE_VERIFY_ALLOW_AHEAD, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_UNKNOWN_REVISION, NULL);
	/* Diverged: our history has 001 and 002 only. */
	migrate_close(m);
	m = open_mem(chain(3), &be);
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, zzz, 1), 0);
	expect(m, MIGRATE_VERIFY_ALLOW_AHEAD, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_UNKNOWN_REVISION,
	       "database is at 'zzz', which this build does not know (its "
	       "head 003 is not applied)");
	migrate_close(m);
	/* Our head applied, then the version table set to an id with no
	 * history: unknown, not newer (it was never applied here). */
	m = open_mem(chain(3), &be);
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, zzz, 1), 0);
	expect(m, MIGRATE_VERIFY_ALLOW_AHEAD, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_UNKNOWN_REVISION,
	       "database is at 'zzz', which this build does not know (no "
	       "history of it; this build's head 003 was applied)");
	migrate_close(m);
}

END_TEST

static const char file_nontx[] = "-- Index.\n"
				 "-- Revision ID: 002\n"
				 "-- Revises: 001\n"
				 "-- Create Date: 2026-01-31\n"
				 "\n"
				 "-- migrate:upgrade transaction=false\n"
				 "CREATE INDEX CONCURRENTLY i1 ON t1 (id);\n"
				 "CREATE INDEX CONCURRENTLY i2 ON t1 (id);\n";

START_TEST(test_verify_dirty)
{
	struct migrate_registry *reg = chain(1);
	struct migrate_backend *be;
	struct migrate *m;

	assert_reg_ok(reg, migrate_registry_parse(reg, "i.sql", file_nontx,
						  strlen(file_nontx)));
	m = open_mem(reg, &be);
	assert_ok(m, migrate__backend_memory_fail_match(be, "i2", NULL));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_DIRTY,
	       "database is dirty: the upgrade of revision 002 stopped part-way (statement 2 of 2 failed: i.sql:8:27: ERROR: injected failure at \"i2\" (SQLSTATE 42000)): fix the schema by hand, then run 'migrate resolve 002' (the upgrade is complete) or 'migrate resolve --undo 002' (it is not)");
	/* No flag makes a dirty database acceptable. */
	expect(m,
	       MIGRATE_VERIFY_ALLOW_AHEAD | MIGRATE_VERIFY_CHECKSUMS |
		       MIGRATE_VERIFY_ALLOW_CHANGED,
	       MIGRATE_EVERIFY, MIGRATE_STATUS_DIRTY, NULL);
	/* While a migrator holds the lock, the dirty mark is its running
	 * non-transactional revision: in progress, not interrupted. */
	assert_ok(m, migrate__backend_memory_set_lock_taken(be, 1));
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_IN_PROGRESS,
	       "the upgrade of non-transactional revision 002 is in progress "
	       "(the migration lock is held by another connection): wait for "
	       "it to finish; this is not an interruption, do not resolve it");
	ck_assert_str_eq(migrate_status_name(MIGRATE_STATUS_IN_PROGRESS),
			 "in progress");
	assert_ok(m, migrate__backend_memory_set_lock_taken(be, 0));
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_DIRTY, NULL);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_cannot_connect)
{
	struct migrate_backend *be;
	struct migrate *m = NULL;
	const char *msg;
	int status;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate__backend_memory_lose_connection(be, 1), 0);
	ck_assert_int_eq(migrate_open(&m, chain(3), be, NULL),
			 MIGRATE_EBACKEND);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	ck_assert_msg(strncmp(msg, "cannot connect to the database: ",
			      strlen("cannot connect to the database: ")) == 0,
		      "%s", msg);
	ck_assert_str_eq(migrate_errmsg(m), msg);
	/* Still so the second time. */
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	migrate_close(m);

	/* Lost later, at the first read. */
	m = open_mem(chain(3), &be);
	ck_assert_int_eq(migrate__backend_memory_lose_connection(be, 1), 0);
	ck_assert_int_eq(migrate_exec(m, "SELECT 1"), MIGRATE_EBACKEND);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_changed)
{
	struct migrate_backend *be_a, *be_b;
	struct migrate *a, *b;
	const struct migrate_revision *then, *now;
	char want[256];

	/* Build A applied 002; build B's 002 has different SQL. */
	a = open_mem(chain(3), &be_a);
	assert_ok(a, migrate_upgrade(a, NULL));
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be_b, be_a), 0);
	b = open_on(chain_v(3, ", x int"), be_b);
	assert_ok(a, migrate_registry_find(&then, migrate_registry(a), "002"));
	assert_ok(b, migrate_registry_find(&now, migrate_registry(b), "002"));
	ck_assert_str_ne(migrate_revision_checksum(then),
			 migrate_revision_checksum(now));
	snprintf(
		want, sizeof(want),
		"revision 002 changed since it was applied (applied sha256 %.12s..., now %.12s...)",
		migrate_revision_checksum(then),
		migrate_revision_checksum(now));

	/* Without the flag, checksums are not looked at. */
	expect(b, 0, 0, MIGRATE_STATUS_AT_HEAD, "database is at 003 (head)");
	ck_assert_uint_eq(migrate_verify_changed_count(b), 0);
	ck_assert_ptr_null(migrate_verify_changed(b, 0));
	expect(b, MIGRATE_VERIFY_CHECKSUMS, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_CHANGED, want);
	/* Every finding, with the checksum recorded when it was applied. */
	{
		size_t i, n = migrate_verify_changed_count(b);
		bool found = false;

		ck_assert_uint_ge(n, 1);
		for (i = 0; i < n; i++) {
			const char *id = migrate_verify_changed(b, i);

			ck_assert_ptr_nonnull(id);
			ck_assert_ptr_nonnull(
				migrate_verify_changed_checksum(b, i));
			if (strcmp(id, "002") == 0) {
				found = true;
				ck_assert_str_eq(
					migrate_verify_changed_checksum(b, i),
					migrate_revision_checksum(then));
			}
		}
		ck_assert(found);
		ck_assert_ptr_null(migrate_verify_changed(b, n));
		ck_assert_ptr_null(migrate_verify_changed_checksum(b, n));
	}
	expect(b, MIGRATE_VERIFY_CHECKSUMS | MIGRATE_VERIFY_ALLOW_CHANGED, 0,
	       MIGRATE_STATUS_CHANGED, want);
	expect(a, MIGRATE_VERIFY_CHECKSUMS, 0, MIGRATE_STATUS_AT_HEAD, NULL);

	/* Accepting changes does not accept being behind. */
	assert_ok(b, migrate_downgrade(b, "-1"));
	expect(b, MIGRATE_VERIFY_CHECKSUMS | MIGRATE_VERIFY_ALLOW_CHANGED,
	       MIGRATE_EVERIFY, MIGRATE_STATUS_BEHIND, NULL);
	expect(b, MIGRATE_VERIFY_CHECKSUMS, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_CHANGED, want);
	/* Downgraded revisions are not "applied": 002 re-applied by B is
	 * B's. */
	assert_ok(b, migrate_downgrade(b, "001"));
	assert_ok(b, migrate_upgrade(b, NULL));
	expect(b, MIGRATE_VERIFY_CHECKSUMS, 0, MIGRATE_STATUS_AT_HEAD, NULL);
	migrate_close(a);
	migrate_close(b);
}

END_TEST

/* A database migrated by Alembic: version table, no history. */
START_TEST(test_verify_alembic_database)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);
	const char *head[] = { "003" };
	const char *old[] = { "001" };
	const char *zzz[] = { "zzz" };

	ck_assert_int_eq(migrate__backend_memory_set_heads(be, head, 1), 0);
	expect(m, MIGRATE_VERIFY_CHECKSUMS, 0, MIGRATE_STATUS_AT_HEAD,
	       "database is at 003 (head)");
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, old, 1), 0);
	expect(m, MIGRATE_VERIFY_CHECKSUMS, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_BEHIND,
	       "database is at 001, this build needs 003 (2 pending): run "
	       "'migrate upgrade head'");
	/* Without history, an unknown revision cannot be called ahead. */
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, zzz, 1), 0);
	expect(m, MIGRATE_VERIFY_ALLOW_AHEAD, MIGRATE_EVERIFY,
	       MIGRATE_STATUS_UNKNOWN_REVISION, NULL);
	/* Dropping the table: uninitialised again. */
	ck_assert_int_eq(migrate__backend_memory_set_heads(be, NULL, 0), 0);
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_UNINITIALISED, NULL);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_branches)
{
	struct migrate_registry *reg = chain(1);
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *p001[] = { "001" };
	struct migrate_backend *be;
	struct migrate *m;

	def.parents = p001;
	def.n_parents = 1;
	def.upgrade_sql = "SELECT 1;";
	def.id = "a2";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "b2";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	m = open_mem(reg, &be);
	assert_ok(m, migrate_upgrade(m, "a2"));
	expect(m, 0, MIGRATE_EVERIFY, MIGRATE_STATUS_BEHIND,
	       "database is at a2, this build needs a2,b2 (1 pending): run "
	       "'migrate upgrade heads'");
	assert_ok(m, migrate_upgrade(m, "heads"));
	expect(m, 0, 0, MIGRATE_STATUS_AT_HEAD, NULL);
	ck_assert_ptr_nonnull(strstr(m->verify_msg, "(heads)"));
	migrate_close(m);
}

END_TEST

static unsigned int reads;
static int (*real_read_state)(struct migrate_backend *,
			      struct migrate_state *,
			      struct migrate_backend_error *);

static int
counting_read_state(struct migrate_backend *be,
		    struct migrate_state *st,
		    struct migrate_backend_error *err)
{
	reads++;
	return real_read_state(be, st, err);
}

static int
no_call(struct migrate_backend *be, struct migrate_backend_error *err)
{
	(void)be;
	(void)err;
	ck_abort_msg("verify called a backend function it must not");
	return MIGRATE_ERROR;
}

static int
no_lock(struct migrate_backend *be,
	int wait_ms,
	struct migrate_backend_error *err)
{
	(void)wait_ms;
	return no_call(be, err);
}

/* One read, no write, no lock, no DDL, no transaction, no SQL text. */
START_TEST(test_verify_reads_once_writes_nothing)
{
	static const unsigned int flags[] = { 0, MIGRATE_VERIFY_CHECKSUMS,
					      MIGRATE_VERIFY_ALLOW_AHEAD };
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be);
	size_t sql, hist, i;

	assert_ok(m, migrate_upgrade(m, "002"));
	sql = migrate__backend_memory_sql_count(be);
	hist = migrate__backend_memory_history_count(be);
	real_read_state = be->read_state;
	be->read_state = counting_read_state;
	be->lock = no_lock;
	be->ensure_tables = no_call;
	be->begin = no_call;
	be->commit = no_call;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		reads = 0;
		ck_assert_int_eq(migrate_verify(NULL, NULL, m, flags[i]),
				 MIGRATE_EVERIFY);
		ck_assert_uint_eq(reads, 1);
		ck_assert_uint_eq(migrate__backend_memory_sql_count(be), sql);
		ck_assert_uint_eq(migrate__backend_memory_history_count(be),
				  hist);
	}
	ck_assert(!m->locked);
	/* Nor on a database never migrated. */
	migrate_close(m);
	m = open_mem(chain(3), &be);
	real_read_state = be->read_state;
	be->read_state = counting_read_state;
	be->ensure_tables = no_call;
	reads = 0;
	ck_assert_int_eq(migrate_verify(NULL, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_uint_eq(reads, 1);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);
	migrate_close(m);
}

END_TEST

START_TEST(test_verify_readonly_handle)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be, *be2;
	struct migrate *rw, *ro = NULL;

	rw = open_mem(chain(2), &be);
	assert_ok(rw, migrate_upgrade(rw, NULL));
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be), 0);
	opts.flags = MIGRATE_OPEN_READONLY;
	assert_ok(ro, migrate_open(&ro, chain(2), be2, &opts));
	expect(ro, MIGRATE_VERIFY_CHECKSUMS, 0, MIGRATE_STATUS_AT_HEAD,
	       "database is at 002 (head)");
	migrate_close(ro);
	migrate_close(rw);
}

END_TEST

Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");

	add_test(s, test_verify_at_head);
	add_test(s, test_verify_behind);
	add_test(s, test_verify_uninitialised);
	add_test(s, test_verify_ahead);
	add_test(s, test_verify_unknown_revision);
	add_test(s, test_verify_dirty);
	add_test(s, test_verify_cannot_connect);
	add_test(s, test_verify_changed);
	add_test(s, test_verify_alembic_database);
	add_test(s, test_verify_branches);
	add_test(s, test_verify_reads_once_writes_nothing);
	add_test(s, test_verify_readonly_handle);
	return s;
}
