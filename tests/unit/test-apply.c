/* SPDX-License-Identifier: MIT */
/*
 * The engine on the memory backend: upgrade/downgrade/apply/stamp/resolve,
 * per-step and single transactions, failures and their messages, the lock,
 * lost connections, read-only handles, C revisions, progress, lock-timeout
 * retries and non-transactional revisions. Most tests run twice: with the
 * backend's run_step() and through begin/exec/record/commit.
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

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A chain 001 <- 002 <- ... of @n revisions creating tables t1..tn. */
static struct migrate_registry *
chain(int n)
{
	struct migrate_registry *reg = test_chain(n, NULL);

	ck_assert_ptr_nonnull(reg);
	return reg;
}

struct event {
	char rev[40];
	int direction;
	int phase;
};

static struct event events[64];
static size_t n_events;

static void
record_progress(const char *revision,
		int direction,
		int phase,
		double elapsed_ms,
		void *payload)
{
	(void)payload;
	ck_assert(elapsed_ms >= 0);
	if (phase == MIGRATE_PROGRESS_START)
		ck_assert(elapsed_ms == 0);
	if (n_events < sizeof(events) / sizeof(events[0])) {
		snprintf(events[n_events].rev, sizeof(events[0].rev), "%s",
			 revision);
		events[n_events].direction = direction;
		events[n_events].phase = phase;
		n_events++;
	}
}

/* A progress callback that cancels its handle once a step is done. */
static void
cancel_when_done(const char *revision,
		 int direction,
		 int phase,
		 double elapsed_ms,
		 void *payload)
{
	(void)revision;
	(void)direction;
	(void)elapsed_ms;
	if (phase == MIGRATE_PROGRESS_DONE)
		migrate_cancel(payload);
}

static size_t
count_phase(int phase)
{
	size_t i, n = 0;

	for (i = 0; i < n_events; i++)
		n += events[i].phase == phase;
	return n;
}

/* Open @reg on @be (taken) with @flags; run_step toggled by @run_step. */
static struct migrate *
open_with(struct migrate_registry *reg,
	  struct migrate_backend *be,
	  unsigned int flags,
	  bool run_step,
	  int lock_retries)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;

	if (!run_step)
		be->run_step = NULL;
	opts.flags = flags;
	opts.lock_retries = lock_retries;
	opts.progress = record_progress;
	n_events = 0;
	assert_ok(m, migrate_open(&m, reg, be, &opts));
	return m;
}

static struct migrate *
open_mem(struct migrate_registry *reg,
	 struct migrate_backend **be_out,
	 unsigned int flags,
	 bool run_step)
{
	struct migrate_backend *be;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	*be_out = be;
	return open_with(reg, be, flags, run_step, 3);
}

/* The version table as "a,b" ("" for base). */
static const char *
current(struct migrate *m)
{
	static char out[256];
	const char *const *ids;
	size_t n, i;

	assert_ok(m, migrate_current(&ids, &n, m));
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? "," : "", ids[i]);
	return out;
}

struct hist {
	struct migrate_history_entry e[64];
	char rev[64][40], op[64][16], err[64][512], sum[64][65];
	size_t n;
};

static int
collect_history(const struct migrate_history_entry *e, void *payload)
{
	struct hist *h = payload;
	size_t i = h->n;

	if (i >= 64)
		return 0;
	h->e[i] = *e;
	snprintf(h->rev[i], sizeof(h->rev[i]), "%s", e->revision);
	snprintf(h->op[i], sizeof(h->op[i]), "%s", e->operation);
	snprintf(h->err[i], sizeof(h->err[i]), "%s", e->error);
	snprintf(h->sum[i], sizeof(h->sum[i]), "%s", e->checksum);
	ck_assert_ptr_nonnull(e->started_at);
	ck_assert_ptr_nonnull(e->db_user);
	h->n++;
	return 0;
}

static void
history(struct migrate *m, struct hist *h)
{
	memset(h, 0, sizeof(*h));
	assert_ok(m, migrate_history(m, collect_history, h));
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A revision file whose upgrade starts on line 8. */
static const char file_002[] =
	"-- Add foo.\n"                                       /* 1 */
	"--\n"                                                /* 2 */
	"-- Revision ID: 002\n"                               /* 3 */
	"-- Revises: 001\n"                                   /* 4 */
	"-- Create Date: 2026-01-31\n"                        /* 5 */
	"\n"                                                  /* 6 */
	"-- migrate:upgrade\n"                                /* 7 */
	"CREATE TABLE a (id int);\n"                          /* 8 */
	"ALTER TABLE a ADD COLUMN foo int;\n"                 /* 9 */
	"INSERT INTO a VALUES ('h\xc3\xa9h\xc3\xa9', bar);\n" /* 10 */
	"\n"                                                  /* 11 */
	"-- migrate:downgrade\n"                              /* 12 */
	"DROP TABLE a;\n";                                    /* 13 */

static struct migrate_registry *
file_registry(const char *name, const char *text)
{
	struct migrate_registry *reg = chain(1);

	assert_reg_ok(reg,
		      migrate_registry_parse(reg, name, text, strlen(text)));
	return reg;
}

/* ------------------------------------------------------------------ */
/* Upgrade and downgrade                                               */
/* ------------------------------------------------------------------ */

static void
upgrade_head_body(bool run_step)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(5), &be, 0, run_step);
	struct hist h;
	size_t i;

	ck_assert_str_eq(current(m), "");
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(migrate_errmsg(m), "");
	ck_assert_str_eq(current(m), "005");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 5);
	for (i = 0; i < 5; i++) {
		char want[64];

		snprintf(want, sizeof(want), "CREATE TABLE t%zu (id int);",
			 i + 1);
		ck_assert_str_eq(migrate__backend_memory_sql(be, i), want);
	}
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 5);
	history(m, &h);
	ck_assert_uint_eq(h.n, 5);
	for (i = 0; i < 5; i++) {
		ck_assert_str_eq(h.op[i], "upgrade");
		ck_assert_int_eq(h.e[i].success, 1);
		ck_assert_int_eq(h.e[i].direction, MIGRATE_UP);
		ck_assert_uint_eq(strlen(h.sum[i]), 64);
		ck_assert(h.e[i].duration_ms >= 0);
	}
	ck_assert_str_eq(h.rev[4], "005");
	/* Nothing left to do: no SQL, no history. */
	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 5);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 5);
	migrate_close(m);
}

START_TEST(test_upgrade_head_run_step)
{
	upgrade_head_body(true);
}

END_TEST

START_TEST(test_upgrade_head_plain)
{
	upgrade_head_body(false);
}

END_TEST

START_TEST(test_upgrade_downgrade_relative)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(5), &be, 0, true);
	struct hist h;

	assert_ok(m, migrate_upgrade(m, "+2"));
	ck_assert_str_eq(current(m), "002");
	assert_ok(m, migrate_upgrade(m, "+1"));
	ck_assert_str_eq(current(m), "003");
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_str_eq(current(m), "002");
	ck_assert_str_eq(migrate__backend_memory_sql(be, 3), "DROP TABLE t3;");
	assert_ok(m, migrate_upgrade(m, "004"));
	ck_assert_str_eq(current(m), "004");
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_str_eq(current(m), "");
	history(m, &h);
	ck_assert_uint_eq(h.n, 10);
	ck_assert_str_eq(h.op[9], "downgrade");
	ck_assert_str_eq(h.rev[9], "001");
	ck_assert_int_eq(h.e[9].direction, MIGRATE_DOWN);
	/* Errors of the planner come through. */
	ck_assert_int_eq(migrate_downgrade(m, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_upgrade(m, "nope"), MIGRATE_ENOTFOUND);
	ck_assert_str_ne(migrate_errmsg(m), "");
	ck_assert_str_eq(current(m), "");
	migrate_close(m);
}

END_TEST

START_TEST(test_downgrade_irreversible)
{
	struct migrate_registry *reg = chain(1);
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *parents[] = { "001" };
	struct migrate_backend *be;
	struct migrate *m;

	def.id = "002";
	def.parents = parents;
	def.n_parents = 1;
	def.upgrade_sql = "DROP TABLE precious;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	m = open_mem(reg, &be, 0, true);
	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EIRREVERSIBLE);
	assert_contains(migrate_errmsg(m), "002");
	ck_assert_str_eq(current(m), "002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 2);
	migrate_close(m);
}

END_TEST

static void
failure_mid_plan_body(bool run_step)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(5), &be, 0, run_step);
	struct hist h;

	ck_assert_int_eq(migrate__backend_memory_fail_match(
				 be, "CREATE TABLE t3", "42P07"),
			 0);
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	ck_assert_msg(starts_with(migrate_errmsg(m),
				  "revision 003 (upgrade): ERROR: injected "
				  "failure at \"CREATE TABLE t3\" (SQLSTATE "
				  "42P07)"),
		      "%s", migrate_errmsg(m));
	ck_assert_str_eq(migrate_sqlstate(m), "42P07");
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_FAILED), 1);
	ck_assert_str_eq(events[n_events - 1].rev, "003");
	/* The last completed step stays. */
	ck_assert_str_eq(current(m), "002");
	history(m, &h);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.rev[2], "003");
	ck_assert_int_eq(h.e[2].success, 0);
	ck_assert_str_eq(h.op[2], "upgrade");
	assert_contains(h.err[2], "injected failure");
	/* The failure row does not count as applied or dirty. */
	assert_ok(m, migrate__backend_memory_fail_match(be, NULL, NULL));
	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_str_eq(current(m), "005");
	migrate_close(m);
}

START_TEST(test_failure_mid_plan_run_step)
{
	failure_mid_plan_body(true);
}

END_TEST

START_TEST(test_failure_mid_plan_plain)
{
	failure_mid_plan_body(false);
}

END_TEST

static void
single_transaction_body(bool run_step)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(5), &be,
				     MIGRATE_OPEN_SINGLE_TRANSACTION, run_step);
	struct hist h;

	assert_ok(m, migrate__backend_memory_fail_match(be, "t3", NULL));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	assert_contains(migrate_errmsg(m), "revision 003 (upgrade)");
	assert_contains(migrate_errmsg(m), "rolled back");
	ck_assert_str_eq(migrate_sqlstate(m), "42000");
	/* Everything rolled back: still at base; only the failure row. */
	ck_assert_str_eq(current(m), "");
	history(m, &h);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.e[0].success, 0);
	ck_assert_str_eq(h.rev[0], "003");

	assert_ok(m, migrate__backend_memory_fail_match(be, NULL, NULL));
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "005");
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 6);
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_str_eq(current(m), "");
	migrate_close(m);
}

START_TEST(test_single_transaction_run_step)
{
	single_transaction_body(true);
}

END_TEST

START_TEST(test_single_transaction_plain)
{
	single_transaction_body(false);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

static void
file_line_col_body(bool run_step)
{
	struct migrate_backend *be;
	struct migrate *m =
		open_mem(file_registry("x.sql", file_002), &be, 0, run_step);

	assert_ok(m, migrate__backend_memory_fail_match(be, "foo", "42703"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"x.sql:9:26: ERROR: injected failure at \"foo\" (SQLSTATE 42703)\n  in revision 002 (upgrade)");
	ck_assert_str_eq(current(m), "001");

	/* Columns count characters, not bytes. */
	assert_ok(m, migrate__backend_memory_fail_match(be, "bar", "42703"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_msg(starts_with(migrate_errmsg(m), "x.sql:10:31: ERROR: "),
		      "%s", migrate_errmsg(m));

	/* Without a position: the section's first line. */
	assert_ok(m, migrate__backend_memory_fail_match(be, NULL, NULL));
	assert_ok(m, migrate__backend_memory_fail_nth(be, 1, "XX000"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_str_eq(migrate_errmsg(m),
			 "x.sql:8: ERROR: injected failure (SQLSTATE XX000)\n"
			 "  in revision 002 (upgrade)");
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "002");

	/* Downgrade positions map into the downgrade section. */
	assert_ok(m, migrate__backend_memory_fail_match(be, "TABLE a", NULL));
	ck_assert_int_eq(migrate_downgrade(m, "-1"), MIGRATE_EBACKEND);
	ck_assert_msg(starts_with(migrate_errmsg(m), "x.sql:13:6: ERROR: "),
		      "%s", migrate_errmsg(m));
	assert_contains(migrate_errmsg(m), "in revision 002 (downgrade)");
	migrate_close(m);
}

START_TEST(test_file_line_col_run_step)
{
	file_line_col_body(true);
}

END_TEST

START_TEST(test_file_line_col_plain)
{
	file_line_col_body(false);
}

END_TEST

static const char file_crlf[] = "-- CRLF.\r\n"
				"-- Revision ID: 002\r\n"
				"-- Revises: 001\r\n"
				"-- Create Date: 2026-01-31\r\n"
				"\r\n"
				"-- migrate:upgrade\r\n"
				"SELECT 1;\r\n"
				"  SELECT broken;\r\n";

START_TEST(test_file_line_col_crlf)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(
		file_registry("dir/002_crlf.sql", file_crlf), &be, 0, true);

	assert_ok(m, migrate__backend_memory_fail_match(be, "broken", NULL));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_msg(starts_with(migrate_errmsg(m),
				  "dir/002_crlf.sql:8:10: ERROR: "),
		      "%s", migrate_errmsg(m));
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Lock, connection, read-only                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_lock_taken)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);

	/* The wait is a loop of tries: keep it short. */
	m->opts.lock_wait_ms = 50;
	assert_ok(m, migrate__backend_memory_set_lock_taken(be, 1));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ELOCKED);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"another migration holds the lock (waited 50 ms): the migration lock is held by another session");
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_ELOCKED);
	ck_assert_int_eq(migrate_stamp(m, "head"), MIGRATE_ELOCKED);
	ck_assert_int_eq(migrate_resolve(m, "001", 0), MIGRATE_ELOCKED);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);
	ck_assert_uint_eq(n_events, 0);
	ck_assert_str_eq(current(m), "");

	assert_ok(m, migrate__backend_memory_set_lock_taken(be, 0));
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "003");
	migrate_close(m);
}

END_TEST

START_TEST(test_cancel)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);

	/* A request made while nothing runs stops the next operation before
	 * it changes anything, and is used up. */
	ck_assert_int_eq(migrate_cancel(NULL), MIGRATE_EINVAL);
	assert_ok(m, migrate_cancel(m));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ECANCELED);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"cancelled before taking the migration lock: nothing was changed; the database is at <base>");
	ck_assert_str_eq(migrate_strerror(MIGRATE_ECANCELED),
			 "operation cancelled");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	ck_assert_str_eq(current(m), "");

	/* Between steps: the step that ran stays, the next is not started,
	 * and the message says where the database is. */
	m->opts.progress = cancel_when_done;
	m->opts.progress_payload = m;
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ECANCELED);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"cancelled before revision 002 (upgrade): not started; the database is at 001");
	ck_assert_str_eq(current(m), "001");
	m->opts.progress = NULL;
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "003");
	migrate_close(m);
}

END_TEST

START_TEST(test_lock_held_by_other_connection)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be1, *be2;
	struct migrate_backend_error err;
	struct migrate *m = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be1), 0);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be1), 0);
	opts.lock_wait_ms = 300;
	assert_ok(m, migrate_open(&m, chain(2), be2, &opts));
	/* A second connection holds the migration lock. */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be1->connect(be1, &m->cfg, &err), 0);
	ck_assert_int_eq(be1->lock(be1, 0, &err), 0);
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ELOCKED);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"another migration holds the lock (waited 300 ms): the migration lock is held by another session");
	ck_assert_int_eq(be1->unlock(be1, &err), 0);
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "002");
	migrate_close(m);
	migrate_backend_free(be1);
}

END_TEST

START_TEST(test_lost_connection)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);
	const char *const *ids;
	size_t n;
	int status;

	/* Second SQL text: after 001 committed. */
	assert_ok(m, migrate__backend_memory_lose_connection(be, 2));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	/* Said as what it is, not as an error of the revision or of the
	 * bookkeeping, with what it means for the revision. */
	assert_contains(migrate_errmsg(m),
			"revision 002 (upgrade): the connection to the "
			"database was lost during this revision: ");
	assert_contains(migrate_errmsg(m),
			"its transaction either committed or rolled back as a "
			"whole");
	ck_assert_msg(strstr(migrate_errmsg(m), "bookkeeping") == NULL, "%s",
		      migrate_errmsg(m));
	ck_assert_str_eq(migrate_sqlstate(m), "08006");
	/* The handle is poisoned. */
	ck_assert_int_eq(migrate_current(&ids, &n, m), MIGRATE_EBACKEND);
	ck_assert_str_eq(migrate_errmsg(m),
			 "connection to the database was lost");
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_str_eq(migrate_errmsg(m),
			 "connection to the database was lost");
	ck_assert_int_eq(migrate_exec(m, "SELECT 1"), MIGRATE_EBACKEND);
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	/* The database kept 001. */
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 1);
	migrate_close(m);
}

END_TEST

START_TEST(test_readonly_refuses_writes)
{
	struct migrate_backend *be;
	struct migrate *m =
		open_mem(chain(3), &be, MIGRATE_OPEN_READONLY, true);
	int status;

	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EREADONLY);
	assert_contains(migrate_errmsg(m), "read-only");
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EREADONLY);
	ck_assert_int_eq(migrate_stamp(m, "head"), MIGRATE_EREADONLY);
	ck_assert_int_eq(migrate_resolve(m, "001", 0), MIGRATE_EREADONLY);
	ck_assert_int_eq(migrate_resolve(m, "001", 1), MIGRATE_EREADONLY);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);
	/* Reads work. */
	ck_assert_str_eq(current(m), "");
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_UNINITIALISED);
	ck_assert_int_eq(m->cfg.read_only, 1);
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* apply, stamp                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_apply_plan_and_conflict)
{
	struct migrate_backend *be1, *be2;
	struct migrate *a, *b;
	struct migrate_plan *plan = NULL;

	a = open_mem(chain(3), &be1, 0, true);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be1), 0);
	b = open_with(chain(3), be2, 0, true, 3);

	assert_ok(a, migrate_plan(&plan, a, MIGRATE_UP, "002"));
	ck_assert_uint_eq(migrate_plan_count(plan), 2);
	assert_ok(a, migrate_apply(a, plan));
	ck_assert_str_eq(current(a), "002");
	migrate_plan_free(plan);

	/* The database moves between planning and applying. */
	assert_ok(a, migrate_plan(&plan, a, MIGRATE_UP, "head"));
	assert_ok(b, migrate_upgrade(b, "head"));
	ck_assert_int_eq(migrate_apply(a, plan), MIGRATE_ECONFLICT);
	ck_assert_str_eq(
		migrate_errmsg(a),
		"the database moved since the plan was made: it is at 003, the plan starts at 002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be1), 2);
	/* A plan from another registry is refused. */
	ck_assert_int_eq(migrate_apply(b, plan), MIGRATE_EINVAL);
	migrate_plan_free(plan);
	migrate_close(a);
	migrate_close(b);
}

END_TEST

START_TEST(test_stamp)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(4), &be, 0, true);
	struct hist h;
	size_t i;

	assert_ok(m, migrate_stamp(m, "003"));
	ck_assert_str_eq(current(m), "003");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	history(m, &h);
	ck_assert_uint_eq(h.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(h.op[i], "stamp");
		ck_assert_int_eq(h.e[i].success, 1);
	}
	/* Down, by id and relative. */
	assert_ok(m, migrate_stamp(m, "001"));
	ck_assert_str_eq(current(m), "001");
	assert_ok(m, migrate_stamp(m, "+2"));
	ck_assert_str_eq(current(m), "003");
	assert_ok(m, migrate_stamp(m, "-1"));
	ck_assert_str_eq(current(m), "002");
	assert_ok(m, migrate_stamp(m, "base"));
	ck_assert_str_eq(current(m), "");
	assert_ok(m, migrate_stamp(m, "heads"));
	ck_assert_str_eq(current(m), "004");
	/* Stamping where it is: nothing. */
	i = migrate__backend_memory_history_count(be);
	assert_ok(m, migrate_stamp(m, "004"));
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), i);
	ck_assert_int_eq(migrate_stamp(m, "nope"), MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_stamp(m, NULL), MIGRATE_EINVAL);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	/* Progress for each stamped step. */
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_DONE),
			  count_phase(MIGRATE_PROGRESS_START));
	migrate_close(m);
}

END_TEST

/* Alembic's stamp --purge: the version table holds an id this build does
 * not know; a plain stamp cannot move from there, a purge can. */
START_TEST(test_stamp_purge)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(4), &be, 0, true);
	const char *zzz[] = { "zzz", "yyy" };
	struct hist h;
	size_t before;

	ck_assert_int_eq(migrate__backend_memory_set_heads(be, zzz, 2), 0);
	ck_assert_int_eq(migrate_stamp(m, "002"), MIGRATE_EUNKNOWN);
	before = migrate__backend_memory_history_count(be);
	assert_ok(m, migrate_stamp_purge(m, "002"));
	ck_assert_str_eq(current(m), "002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	/* Two removed rows and two stamped steps, all marked stamp. */
	ck_assert_uint_eq(migrate__backend_memory_history_count(be),
			  before + 4);
	history(m, &h);
	ck_assert_str_eq(h.rev[h.n - 4], "zzz");
	ck_assert_int_eq(h.e[h.n - 4].direction, MIGRATE_DOWN);
	ck_assert_str_eq(h.op[h.n - 4], "stamp");
	ck_assert_str_eq(h.rev[h.n - 3], "yyy");
	ck_assert_str_eq(h.rev[h.n - 1], "002");
	ck_assert_int_eq(h.e[h.n - 1].direction, MIGRATE_UP);
	/* From a known revision too, and to base. */
	assert_ok(m, migrate_stamp_purge(m, "heads"));
	ck_assert_str_eq(current(m), "004");
	assert_ok(m, migrate_stamp_purge(m, "base"));
	ck_assert_str_eq(current(m), "");
	/* At base with nothing to purge: nothing written. */
	before = migrate__backend_memory_history_count(be);
	assert_ok(m, migrate_stamp_purge(m, "base"));
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), before);
	ck_assert_int_eq(migrate_stamp_purge(m, "nope"), MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_stamp_purge(m, NULL), MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

/* migrate_stamp() and migrate_stamp_purge() check their arguments the same
 * way (one helper): NULL handle, NULL or empty target; nothing written. */
START_TEST(test_stamp_arguments)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(2), &be, 0, true);
	int (*const fns[])(struct migrate *,
			   const char *) = { migrate_stamp,
					     migrate_stamp_purge };
	size_t i, before = migrate__backend_memory_history_count(be);

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(fns[i](NULL, "001"), MIGRATE_EINVAL);
		ck_assert_int_eq(fns[i](m, NULL), MIGRATE_EINVAL);
		ck_assert_str_eq(migrate_errmsg(m), "stamp needs a target");
		ck_assert_int_eq(fns[i](m, ""), MIGRATE_EINVAL);
		ck_assert_str_eq(migrate_errmsg(m), "stamp needs a target");
	}
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), before);
	ck_assert_str_eq(current(m), "");
	migrate_close(m);
}

END_TEST

START_TEST(test_stamp_down_through_irreversible)
{
	struct migrate_registry *reg;
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *parents[] = { "001" };
	struct migrate_backend *be;
	struct migrate *m;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	def.id = "001";
	def.upgrade_sql = "CREATE TABLE a (id int);";
	def.downgrade_sql = "DROP TABLE a;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "002";
	def.parents = parents;
	def.n_parents = 1;
	def.upgrade_sql = "INSERT INTO a VALUES (1);";
	def.downgrade_sql = NULL; /* irreversible */
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	m = open_mem(reg, &be, 0, true);
	assert_ok(m, migrate_upgrade(m, "head"));
	/* A real downgrade is refused... */
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EIRREVERSIBLE);
	ck_assert_str_eq(current(m), "002");
	/* ...but a stamp runs no SQL, so it may move below it. */
	assert_ok(m, migrate_stamp(m, "001"));
	ck_assert_str_eq(current(m), "001");
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* C revisions and progress                                            */
/* ------------------------------------------------------------------ */

static int calls_up, calls_down;

static int
data_up(struct migrate *m, void *payload)
{
	ck_assert_str_eq((const char *)payload, "payload");
	calls_up++;
	/* The engine is not re-entrant from a callback. */
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EINVAL);
	return migrate_exec(m, "UPDATE t1 SET id = id + 1");
}

static int
data_down(struct migrate *m, void *payload)
{
	(void)payload;
	calls_down++;
	return migrate_exec(m, "UPDATE t1 SET id = id - 1");
}

static int
data_fail(struct migrate *m, void *payload)
{
	(void)payload;
	return migrate_set_error(m, -1, "no rows to convert");
}

static int
data_fail_silent(struct migrate *m, void *payload)
{
	(void)m;
	(void)payload;
	return -42;
}

static struct migrate_registry *
callback_registry(migrate_step_fn up, unsigned int flags)
{
	struct migrate_registry *reg = chain(1);
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *parents[] = { "001" };

	def.id = "002";
	def.parents = parents;
	def.n_parents = 1;
	def.message = "convert data";
	def.upgrade_fn = up;
	def.downgrade_fn = data_down;
	def.payload = (void *)"payload";
	def.flags = flags;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	return reg;
}

START_TEST(test_callbacks)
{
	struct migrate_backend *be;
	struct migrate *m =
		open_mem(callback_registry(data_up, 0), &be, 0, true);
	struct hist h;

	calls_up = calls_down = 0;
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_int_eq(calls_up, 1);
	ck_assert_str_eq(current(m), "002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 2);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 1),
			 "UPDATE t1 SET id = id + 1");
	history(m, &h);
	ck_assert_str_eq(h.rev[1], "002");
	ck_assert_str_eq(h.sum[1], "");
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_int_eq(calls_down, 1);
	ck_assert_str_eq(current(m), "001");
	ck_assert(!m->in_callback);

	/* A failing exec inside the callback fails the step. */
	assert_ok(m, migrate__backend_memory_fail_match(be, "id + 1", "23505"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_msg(starts_with(migrate_errmsg(m),
				  "revision 002 (upgrade): ERROR: injected "),
		      "%s", migrate_errmsg(m));
	ck_assert_str_eq(migrate_sqlstate(m), "23505");
	ck_assert_str_eq(current(m), "001");
	migrate_close(m);
}

END_TEST

START_TEST(test_callback_failure)
{
	struct migrate_backend *be;
	struct migrate *m =
		open_mem(callback_registry(data_fail, 0), &be, 0, false);

	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ERROR);
	ck_assert_str_eq(migrate_errmsg(m),
			 "revision 002 (upgrade): ERROR: no rows to convert");
	ck_assert_ptr_null(migrate_sqlstate(m));
	ck_assert_str_eq(current(m), "001");
	migrate_close(m);

	m = open_mem(callback_registry(data_fail_silent, 0), &be, 0, false);
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ERROR);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"revision 002 (upgrade): ERROR: upgrade callback failed (returned -42)");
	migrate_close(m);
}

END_TEST

START_TEST(test_progress_events)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);
	size_t i;

	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_uint_eq(n_events, 6);
	for (i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%03zu", i + 1);
		ck_assert_str_eq(events[2 * i].rev, id);
		ck_assert_int_eq(events[2 * i].phase, MIGRATE_PROGRESS_START);
		ck_assert_str_eq(events[2 * i + 1].rev, id);
		ck_assert_int_eq(events[2 * i + 1].phase,
				 MIGRATE_PROGRESS_DONE);
		ck_assert_int_eq(events[2 * i].direction, MIGRATE_UP);
	}
	n_events = 0;
	assert_ok(m, migrate__backend_memory_fail_nth(be, 2, NULL));
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EBACKEND);
	ck_assert_uint_eq(n_events, 4);
	ck_assert_str_eq(events[0].rev, "003");
	ck_assert_int_eq(events[0].direction, MIGRATE_DOWN);
	ck_assert_int_eq(events[1].phase, MIGRATE_PROGRESS_DONE);
	ck_assert_str_eq(events[2].rev, "002");
	ck_assert_int_eq(events[2].phase, MIGRATE_PROGRESS_START);
	ck_assert_int_eq(events[3].phase, MIGRATE_PROGRESS_FAILED);
	ck_assert_str_eq(current(m), "002");
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Timeouts and lock-timeout retries                                   */
/* ------------------------------------------------------------------ */

static int seen_lock[8], seen_stmt[8];
static size_t n_seen;
static int (*real_set_timeouts)(struct migrate_backend *,
				int,
				int,
				struct migrate_backend_error *);

static int
spy_set_timeouts(struct migrate_backend *be,
		 int lock_ms,
		 int stmt_ms,
		 struct migrate_backend_error *err)
{
	if (n_seen < 8) {
		seen_lock[n_seen] = lock_ms;
		seen_stmt[n_seen] = stmt_ms;
		n_seen++;
	}
	return real_set_timeouts(be, lock_ms, stmt_ms, err);
}

static const char file_timeouts[] =
	"-- Slow.\n"
	"-- Revision ID: 002\n"
	"-- Revises: 001\n"
	"-- Create Date: 2026-01-31\n"
	"\n"
	"-- migrate:upgrade lock_timeout=2s statement_timeout=500ms\n"
	"ALTER TABLE big ADD COLUMN x int;\n";

START_TEST(test_timeouts_per_section)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be;
	struct migrate *m = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	be->run_step = NULL;
	real_set_timeouts = be->set_timeouts;
	be->set_timeouts = spy_set_timeouts;
	n_seen = 0;
	opts.statement_timeout_ms = 30000;
	assert_ok(m, migrate_open(&m, file_registry("t.sql", file_timeouts), be,
				  &opts));
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_uint_eq(n_seen, 2);
	ck_assert_int_eq(seen_lock[0], 5000);
	ck_assert_int_eq(seen_stmt[0], 30000);
	ck_assert_int_eq(seen_lock[1], 2000);
	ck_assert_int_eq(seen_stmt[1], 500);
	migrate_close(m);
}

END_TEST

static const char file_timeouts_nontx[] =
	"-- Concurrent index.\n"
	"-- Revision ID: 002\n"
	"-- Revises: 001\n"
	"\n"
	"-- migrate:upgrade transaction=false lock_timeout=2s\n"
	"CREATE INDEX CONCURRENTLY big_x ON big (x);\n"
	"CREATE INDEX CONCURRENTLY big_y ON big (y);\n";

/* Outside a transaction the section's timeouts are set for the session
 * before its statements and switched off after them. */
START_TEST(test_timeouts_nontransactional)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be;
	struct migrate *m = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	be->run_step = NULL;
	real_set_timeouts = be->set_timeouts;
	be->set_timeouts = spy_set_timeouts;
	n_seen = 0;
	opts.statement_timeout_ms = 30000;
	assert_ok(m,
		  migrate_open(&m, file_registry("n.sql", file_timeouts_nontx),
			       be, &opts));
	assert_ok(m, migrate_upgrade(m, NULL));
	/* 001 in its transaction; 002's section; the reset. */
	ck_assert_uint_eq(n_seen, 3);
	ck_assert_int_eq(seen_lock[1], 2000);
	ck_assert_int_eq(seen_stmt[1], 30000);
	ck_assert_int_eq(seen_lock[2], 0);
	ck_assert_int_eq(seen_stmt[2], 0);
	ck_assert_str_eq(current(m), "002");
	migrate_close(m);
}

END_TEST

static void
retry_once_body(bool run_step)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(2), &be, 0, run_step);

	assert_ok(m, migrate__backend_memory_fail_nth(be, 2, "55P03"));
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "002");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 3);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 1),
			 migrate__backend_memory_sql(be, 2));
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_RETRY), 1);
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_DONE), 2);
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_FAILED), 0);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 2);
	migrate_close(m);
}

START_TEST(test_lock_timeout_retry_run_step)
{
	retry_once_body(true);
}

END_TEST

START_TEST(test_lock_timeout_retry_plain)
{
	retry_once_body(false);
}

END_TEST

START_TEST(test_lock_timeout_gives_up)
{
	struct migrate_backend *be;
	struct migrate *m;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = open_with(file_registry("x.sql", file_002), be, 0, true, 2);
	assert_ok(m, migrate__backend_memory_fail_match(be, "ALTER", "55P03"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_str_eq(migrate_errmsg(m),
			 "x.sql:9:1: ERROR: canceling statement due to lock "
			 "timeout at \"ALTER\" (SQLSTATE 55P03)\n"
			 "  in revision 002 (upgrade)\n"
			 "  gave up after 3 attempts waiting for locks "
			 "(lock_timeout 5 s)");
	ck_assert_str_eq(migrate_sqlstate(m), "55P03");
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_RETRY), 2);
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_FAILED), 1);
	/* 001 once, 002 three times. */
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 4);
	ck_assert_str_eq(current(m), "001");
	migrate_close(m);
}

END_TEST

START_TEST(test_lock_timeout_no_retries)
{
	struct migrate_backend *be;
	struct migrate *m;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = open_with(chain(1), be, MIGRATE_OPEN_SINGLE_TRANSACTION, true, 0);
	assert_ok(m, migrate__backend_memory_fail_nth(be, 1, "55P03"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_RETRY), 0);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 1);
	/* Single transaction: retried as a whole. */
	migrate_close(m);
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = open_with(chain(2), be, MIGRATE_OPEN_SINGLE_TRANSACTION, true, 3);
	assert_ok(m, migrate__backend_memory_fail_nth(be, 2, "55P03"));
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_uint_eq(count_phase(MIGRATE_PROGRESS_RETRY), 1);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 4);
	ck_assert_str_eq(current(m), "002");
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 2);
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Non-transactional revisions, dirty, resolve                         */
/* ------------------------------------------------------------------ */

static const char file_concurrently[] =
	"-- Indexes.\n"                                              /* 1 */
	"-- Revision ID: 002\n"                                      /* 2 */
	"-- Revises: 001\n"                                          /* 3 */
	"-- Create Date: 2026-01-31\n"                               /* 4 */
	"\n"                                                         /* 5 */
	"-- migrate:upgrade transaction=false\n"                     /* 6 */
	"CREATE INDEX CONCURRENTLY i1 ON t1 (id);\n"                 /* 7 */
	"\n"                                                         /* 8 */
	"  CREATE INDEX CONCURRENTLY i2 ON t1 (id);\n"               /* 9 */
	"VACUUM t1;\n"                                               /* 10 */
	"\n"                                                         /* 11 */
	"-- migrate:downgrade transaction=false\n"                   /* 12 */
	"DROP INDEX CONCURRENTLY i2; DROP INDEX CONCURRENTLY i1;\n"; /* 13 */

START_TEST(test_nontx_success)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(
		file_registry("idx.sql", file_concurrently), &be, 0, true);
	struct hist h;
	int status;

	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "002");
	/* One SQL text per statement. */
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 4);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 1),
			 "CREATE INDEX CONCURRENTLY i1 ON t1 (id)");
	ck_assert_str_eq(migrate__backend_memory_sql(be, 2),
			 "CREATE INDEX CONCURRENTLY i2 ON t1 (id)");
	ck_assert_str_eq(migrate__backend_memory_sql(be, 3), "VACUUM t1");
	history(m, &h);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.op[1], "dirty");
	ck_assert_str_eq(h.err[1], "started");
	ck_assert_int_eq(h.e[1].success, 0);
	ck_assert_str_eq(h.op[2], "upgrade");
	ck_assert_int_eq(h.e[2].success, 1);
	assert_ok(m, migrate_verify(&status, NULL, m, 0));
	ck_assert_int_eq(status, MIGRATE_STATUS_AT_HEAD);
	/* And back down, statement by statement. */
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_str_eq(current(m), "001");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 6);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 5),
			 "DROP INDEX CONCURRENTLY i1");
	/* Not in a single transaction. */
	migrate_close(m);
	m = open_mem(file_registry("idx.sql", file_concurrently), &be,
		     MIGRATE_OPEN_SINGLE_TRANSACTION, true);
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EINVAL);
	assert_contains(migrate_errmsg(m), "transaction=false");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	migrate_close(m);
}

END_TEST

/* Fail statement 2 of revision 002; returns the handle (dirty). */
static struct migrate *
make_dirty(struct migrate_backend **be)
{
	struct migrate *m = open_mem(
		file_registry("idx.sql", file_concurrently), be, 0, true);

	assert_ok(m, migrate__backend_memory_fail_match(*be, "i2", "42P07"));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	assert_ok(m, migrate__backend_memory_fail_match(*be, NULL, NULL));
	return m;
}

START_TEST(test_nontx_failure_marks_dirty)
{
	struct migrate_backend *be;
	struct migrate *m = make_dirty(&be);
	struct hist h;
	const char *msg;
	int status;

	ck_assert_str_eq(migrate_errmsg(m),
			 "idx.sql:9:29: ERROR: injected failure at \"i2\" "
			 "(SQLSTATE 42P07)\n"
			 "  in revision 002 (upgrade)\n"
			 "  statement 2 of 3, run outside a transaction\n"
			 "the database is now dirty: fix the schema by hand, "
			 "then run 'migrate resolve 002' (the upgrade is "
			 "complete) or 'migrate resolve --undo 002' (it is "
			 "not)");
	/* Statement 3 never ran; the version table did not move. */
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 3);
	ck_assert_str_eq(current(m), "001");
	history(m, &h);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.op[2], "dirty");
	ck_assert_str_eq(
		h.err[2],
		"statement 2 of 3 failed: idx.sql:9:29: ERROR: injected failure at \"i2\" (SQLSTATE 42P07)");

	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_DIRTY);
	assert_contains(msg, "revision 002");
	assert_contains(msg, "statement 2 of 3");
	/* Everything that would move the schema refuses. */
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EDIRTY);
	assert_contains(migrate_errmsg(m), "database is dirty");
	assert_contains(migrate_errmsg(m), "migrate resolve 002");
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EDIRTY);
	ck_assert_int_eq(migrate_stamp(m, "head"), MIGRATE_EDIRTY);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 3);

	/* The operator finished the index by hand. */
	assert_ok(m, migrate_resolve(m, "002", 0));
	ck_assert_str_eq(current(m), "002");
	assert_ok(m, migrate_verify(&status, NULL, m, 0));
	ck_assert_int_eq(status, MIGRATE_STATUS_AT_HEAD);
	history(m, &h);
	ck_assert_str_eq(h.op[h.n - 1], "resolve");
	ck_assert_int_eq(h.e[h.n - 1].direction, MIGRATE_UP);
	ck_assert_int_eq(h.e[h.n - 1].success, 1);
	ck_assert_int_eq(migrate_resolve(m, "002", 0), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_errmsg(m), "database is not dirty");
	migrate_close(m);
}

END_TEST

START_TEST(test_resolve_undo)
{
	struct migrate_backend *be;
	struct migrate *m = make_dirty(&be);
	struct hist h;
	int status;

	ck_assert_int_eq(migrate_resolve(m, "001", 1), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_errmsg(m),
			 "database is dirty on 002, not 001");
	ck_assert_int_eq(migrate_resolve(m, "nope", 1), MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_resolve(m, NULL, 1), MIGRATE_EINVAL);

	assert_ok(m, migrate_resolve(m, "002", 1));
	ck_assert_str_eq(current(m), "001");
	history(m, &h);
	ck_assert_str_eq(h.op[h.n - 1], "resolve");
	ck_assert_int_eq(h.e[h.n - 1].direction, MIGRATE_DOWN);
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	ck_assert_uint_eq(migrate_verify_pending(m), 1);
	/* And now it runs again, to the end. */
	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_str_eq(current(m), "002");
	migrate_close(m);
}

END_TEST

START_TEST(test_resolve_downgrade)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(
		file_registry("idx.sql", file_concurrently), &be, 0, true);
	int status;

	assert_ok(m, migrate_upgrade(m, NULL));
	assert_ok(m, migrate__backend_memory_fail_match(be, "i1", NULL));
	ck_assert_int_eq(migrate_downgrade(m, "base"), MIGRATE_EBACKEND);
	assert_contains(migrate_errmsg(m), "statement 2 of 2");
	ck_assert_str_eq(current(m), "002");
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_DIRTY);
	/* The downgrade of 002 is complete: 001 is the head again. */
	assert_ok(m, migrate_resolve(m, "002", 0));
	ck_assert_str_eq(current(m), "001");
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	migrate_close(m);
}

END_TEST

/* The planner refuses a resolve whose version-table change is already
 * there (someone moved the version table by hand). */
START_TEST(test_resolve_version_table_already_moved)
{
	struct migrate_backend *be;
	struct migrate *m = make_dirty(&be);
	const char *const at[] = { "002" };

	assert_ok(m, migrate__backend_memory_set_heads(be, at, 1));
	ck_assert_int_eq(migrate_resolve(m, "002", 0), MIGRATE_ECONFLICT);
	ck_assert_str_eq(
		migrate_errmsg(m),
		"cannot resolve 002: the version table already shows the upgrade of 002");
	/* Declaring it not done leaves the version table alone. */
	assert_ok(m, migrate_resolve(m, "002", 1));
	ck_assert_str_eq(current(m), "002");
	migrate_close(m);
}

END_TEST

START_TEST(test_nontx_interrupted_stays_dirty)
{
	struct migrate_backend *be, *be2;
	struct migrate *m = open_mem(
			       file_registry("idx.sql", file_concurrently), &be,
			       0, true),
		       *m2;
	const char *msg;
	int status;

	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be), 0);
	/* Statement 2 of 002 (the 3rd SQL text): the process "dies". */
	assert_ok(m, migrate__backend_memory_lose_connection(be, 3));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	migrate_close(m);

	m2 = open_with(file_registry("idx.sql", file_concurrently), be2, 0,
		       true, 3);
	ck_assert_int_eq(migrate_verify(&status, &msg, m2, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_DIRTY);
	assert_contains(msg, "interrupted");
	ck_assert_int_eq(migrate_upgrade(m2, NULL), MIGRATE_EDIRTY);
	assert_ok(m2, migrate_resolve(m2, "002", 0));
	assert_ok(m2, migrate_verify(&status, NULL, m2, 0));
	migrate_close(m2);
}

END_TEST

START_TEST(test_transactional_failure_never_dirty)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);
	int status;

	assert_ok(m, migrate__backend_memory_fail_nth(be, 2, NULL));
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	ck_assert_int_eq(migrate_resolve(m, "002", 0), MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Open                                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_open_takes_ownership_on_failure)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_registry *reg;
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *parents[] = { "missing" };
	struct migrate_backend *be;
	struct migrate *m = NULL;
	int status;

	/* Invalid registry: the handle explains, and owns both. */
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	def.id = "001";
	def.parents = parents;
	def.n_parents = 1;
	def.upgrade_sql = "SELECT 1";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate_open(&m, reg, be, NULL), MIGRATE_ECONFLICT);
	ck_assert_ptr_nonnull(m);
	assert_contains(migrate_errmsg(m), "missing");
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	migrate_close(m);

	/* Empty registry. */
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate_open(&m, reg, be, NULL), MIGRATE_EINVAL);
	migrate_close(m);

	/* Unknown options version, bad values. */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	opts.version = 99;
	ck_assert_int_eq(migrate_open(&m, chain(1), be, &opts), MIGRATE_EINVAL);
	assert_contains(migrate_errmsg(m), "options version");
	migrate_close(m);
	opts.version = MIGRATE_OPTIONS_VERSION;
	opts.lock_retries = -1;
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate_open(&m, chain(1), be, &opts), MIGRATE_EINVAL);
	migrate_close(m);

	/* NULL out: nothing leaks either. */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate_open(NULL, chain(1), be, NULL),
			 MIGRATE_EINVAL);
}

END_TEST

START_TEST(test_open_backend_checks)
{
	struct migrate_backend *be;
	struct migrate *m = NULL;
	unsigned int saved;

	/* A backend missing a required callback. */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	be->record = NULL;
	ck_assert_int_eq(migrate_open(&m, chain(1), be, NULL), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_errmsg(m),
			 "backend 'memory' does not provide record()");
	migrate_close(m);

	/* A backend of another version is not touched (nor freed). */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	saved = be->version;
	be->version = 77;
	ck_assert_int_eq(migrate_open(&m, chain(1), be, NULL), MIGRATE_EINVAL);
	assert_contains(migrate_errmsg(m), "version 77");
	migrate_close(m);
	be->version = saved;
	migrate_backend_free(be);
	migrate_backend_free(NULL);
}

END_TEST

START_TEST(test_open_cannot_connect)
{
	struct migrate_backend *be;
	struct migrate *m = NULL;
	const char *const *ids;
	size_t n;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	assert_ok(m, migrate__backend_memory_lose_connection(be, 1));
	ck_assert_int_eq(migrate_open(&m, chain(2), be, NULL),
			 MIGRATE_EBACKEND);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(starts_with(migrate_errmsg(m),
				  "cannot connect to the database: could not "
				  "connect to server"),
		      "%s", migrate_errmsg(m));
	ck_assert_int_eq(migrate_current(&ids, &n, m), MIGRATE_EBACKEND);
	assert_contains(migrate_errmsg(m), "cannot connect to the database");
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
	ck_assert_ptr_null(migrate_native_connection(m));
	migrate_close(m);
}

END_TEST

/* Names longer than PostgreSQL keeps (63 bytes, NAMEDATALEN - 1) are a
 * usage error: cut, two names would become one. */
START_TEST(test_open_refuses_long_names)
{
	char n63[64], n64[65], utf[65];
	struct migrate_backend *be;
	struct migrate *m;
	int i, k;

	memset(n63, 'n', 63);
	n63[63] = '\0';
	memset(n64, 'n', 64);
	n64[64] = '\0';
	/* 32 characters, 64 bytes */
	for (i = 0; i < 32; i++)
		memcpy(utf + 2 * i, "\xc3\xa9", 2);
	utf[64] = '\0';
	for (k = 0; k < 3; k++) {
		const char *const bad[] = { n64, utf };

		for (i = 0; i < 2; i++) {
			struct migrate_options o = MIGRATE_OPTIONS_INIT;

			if (k == 0)
				o.version_table = bad[i];
			else if (k == 1)
				o.schema = bad[i];
			else
				o.log_table = bad[i];
			ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
			m = NULL;
			ck_assert_int_eq(migrate_open(&m, chain(1), be, &o),
					 MIGRATE_EINVAL);
			assert_contains(migrate_errmsg(m), "63 bytes");
			assert_contains(migrate_errmsg(m), "64 bytes");
			migrate_close(m);
		}
	}
	{
		struct migrate_options o = MIGRATE_OPTIONS_INIT;

		o.version_table = n63;
		o.schema = n63;
		o.log_table = n63;
		ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
		m = NULL;
		assert_ok(m, migrate_open(&m, chain(1), be, &o));
		assert_ok(m, migrate_upgrade(m, NULL));
		migrate_close(m);
	}
}

END_TEST

START_TEST(test_options_and_misc)
{
	struct migrate_options opts;
	struct migrate_backend *be;
	struct migrate *m;

	ck_assert_int_eq(migrate_options_init(&opts, MIGRATE_OPTIONS_VERSION),
			 0);
	ck_assert_int_eq(opts.lock_wait_ms, 60000);
	ck_assert_int_eq(opts.lock_timeout_ms, 5000);
	ck_assert_int_eq(opts.lock_retries, 3);
	ck_assert_int_eq(opts.io_timeout_ms, 0);
	ck_assert_int_eq(
		migrate_options_init(&opts, MIGRATE_OPTIONS_VERSION + 1),
		MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_options_init(NULL, 1), MIGRATE_EINVAL);

	/* A caller built against version 1 has no io_timeout_ms: neither
	 * init nor open touches or reads it, and the default applies. */
	opts.io_timeout_ms = 12345;
	ck_assert_int_eq(migrate_options_init(&opts, 1), 0);
	ck_assert_int_eq(opts.io_timeout_ms, 12345);
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = NULL;
	assert_ok(m, migrate_open(&m, chain(1), be, &opts));
	ck_assert_int_eq(m->cfg.io_timeout_ms, 30000);
	migrate_close(m);
	ck_assert_int_eq(migrate_options_init(&opts, MIGRATE_OPTIONS_VERSION),
			 0);
	opts.flags = MIGRATE_OPEN_READONLY;
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = NULL;
	assert_ok(m, migrate_open(&m, chain(1), be, &opts));
	ck_assert_int_eq(m->cfg.io_timeout_ms, 5000);
	migrate_close(m);
	opts.flags = 0;
	opts.io_timeout_ms = -1;
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = NULL;
	ck_assert_int_eq(migrate_open(&m, chain(1), be, &opts), MIGRATE_EINVAL);
	migrate_close(m);
	opts.io_timeout_ms = 0;

	opts.version_table = "my_version";
	opts.schema = "app";
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	m = NULL;
	assert_ok(m, migrate_open(&m, chain(1), be, &opts));
	ck_assert_str_eq(m->cfg.version_table, "my_version");
	ck_assert_str_eq(m->cfg.log_table, "migrate_log");
	ck_assert_str_eq(m->cfg.schema, "app");
	ck_assert_int_eq(m->cfg.read_only, 0);
	ck_assert_ptr_nonnull(migrate_registry(m));
	ck_assert_ptr_null(migrate_native_connection(m));
	assert_ok(m, migrate_exec(m, "SELECT 1"));
	ck_assert_int_eq(migrate_exec(m, NULL), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate__backend_memory_sql(be, 0), "SELECT 1");
	migrate_close(m);
	migrate_close(NULL);
	ck_assert_int_eq(migrate_upgrade(NULL, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_verify(NULL, NULL, NULL, 0), MIGRATE_EINVAL);
	ck_assert_ptr_null(migrate_registry(NULL));
}

END_TEST

static int
stop_at_two(const struct migrate_history_entry *e, void *payload)
{
	int *n = payload;

	(void)e;
	return ++*n == 2 ? 7 : 0;
}

START_TEST(test_history_stops)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);
	int n = 0;

	assert_ok(m, migrate_upgrade(m, NULL));
	ck_assert_int_eq(migrate_history(m, stop_at_two, &n), 7);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(migrate_history(m, NULL, NULL), MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

/* Someone else rewrites the version table between our plan and our
 * transaction: the UPDATE matches no row, a conflict in bookkeeping. */
static int (*real_begin)(struct migrate_backend *,
			 struct migrate_backend_error *);

static int
moving_begin(struct migrate_backend *be, struct migrate_backend_error *err)
{
	const char *ids[] = { "zzz" };

	ck_assert_int_eq(migrate__backend_memory_set_heads(be, ids, 1), 0);
	return real_begin(be, err);
}

START_TEST(test_bookkeeping_conflict)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(2), &be, 0, false);

	assert_ok(m, migrate_upgrade(m, "001"));
	real_begin = be->begin;
	be->begin = moving_begin;
	ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_ECONFLICT);
	ck_assert_msg(starts_with(migrate_errmsg(m),
				  "revision 002 (upgrade): ERROR in "
				  "bookkeeping"),
		      "%s", migrate_errmsg(m));
	assert_contains(migrate_errmsg(m), "matched 0 rows");
	be->begin = real_begin;
	ck_assert_str_eq(current(m), "zzz");
	migrate_close(m);
}

END_TEST

/* The plan check: called under the lock with the plan about to run, before
 * its first step; its error ends the call with nothing run and the lock
 * released; an empty plan is not checked. */
struct plan_check_seen {
	int calls;
	size_t steps;
	bool locked;
	int answer;
};

static int
plan_check_refuse_quietly(struct migrate *m,
			  const struct migrate_plan *plan,
			  void *payload)
{
	(void)m;
	(void)plan;
	return ((struct plan_check_seen *)payload)->answer;
}

static int
plan_check_record(struct migrate *m,
		  const struct migrate_plan *plan,
		  void *payload)
{
	struct plan_check_seen *seen = payload;

	seen->calls++;
	seen->steps = migrate_plan_count(plan);
	seen->locked = m->locked;
	if (seen->answer < 0)
		return migrate_set_error(m, seen->answer,
					 "refused by the test");
	return seen->answer;
}

START_TEST(test_plan_check)
{
	struct plan_check_seen seen = { 0, 0, false, MIGRATE_ECONFLICT };
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be;
	struct migrate *m = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	opts.plan_check = plan_check_record;
	opts.plan_check_payload = &seen;
	assert_ok(m, migrate_open(&m, chain(3), be, &opts));
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_errmsg(m), "refused by the test");
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.steps, 3);
	ck_assert(seen.locked);
	ck_assert(!m->locked);
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be), 0);
	ck_assert_uint_eq(migrate__backend_memory_history_count(be), 0);
	ck_assert_str_eq(current(m), "");

	/* Without a message of its own the call says who refused. */
	seen.answer = MIGRATE_EINVAL;
	m->opts.plan_check = plan_check_refuse_quietly;
	ck_assert_int_eq(migrate_upgrade(m, "+1"), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_errmsg(m), "the plan check refused the plan");
	m->opts.plan_check = plan_check_record;

	seen.answer = 0;
	assert_ok(m, migrate_upgrade(m, "+2"));
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_uint_eq(seen.steps, 2);
	ck_assert_str_eq(current(m), "002");
	assert_ok(m, migrate_downgrade(m, "-1"));
	ck_assert_int_eq(seen.calls, 3);
	ck_assert_uint_eq(seen.steps, 1);
	ck_assert_str_eq(current(m), "001");
	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_int_eq(seen.calls, 4);
	/* Nothing to do: nothing to check; stamp runs no SQL: not checked. */
	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, migrate_stamp(m, "001"));
	ck_assert_int_eq(seen.calls, 4);
	migrate_close(m);
}

END_TEST

/* The plan preview: called before the lock with the plan the unlocked
 * read leads to (a never-migrated database too), never for a run with
 * nothing to do, nor for stamp; the plan check still gets the plan that
 * runs. */
static void
plan_preview_record(struct migrate *m,
		    const struct migrate_plan *plan,
		    void *payload)
{
	struct plan_check_seen *seen = payload;

	seen->calls += 100;
	seen->steps = migrate_plan_count(plan);
	seen->locked = m->locked;
}

START_TEST(test_plan_preview)
{
	struct plan_check_seen seen = { 0, 0, true, 0 };
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be;
	struct migrate *m = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	opts.plan_preview = plan_preview_record;
	opts.plan_check_payload = &seen;
	assert_ok(m, migrate_open(&m, chain(3), be, &opts));
	assert_ok(m, migrate_upgrade(m, "+2"));
	ck_assert_int_eq(seen.calls, 100);
	ck_assert_uint_eq(seen.steps, 2);
	ck_assert(!seen.locked);
	ck_assert_str_eq(current(m), "002");
	/* nothing to do, a stamp: no preview */
	assert_ok(m, migrate_upgrade(m, "002"));
	assert_ok(m, migrate_stamp(m, "001"));
	ck_assert_int_eq(seen.calls, 100);
	/* with the plan check: the preview first, unlocked */
	m->opts.plan_check = plan_check_record;
	seen.locked = true;
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_int_eq(seen.calls, 201);
	ck_assert_uint_eq(seen.steps, 1);
	ck_assert(seen.locked);
	migrate_close(m);
}

END_TEST

/* migrate_last_position(): where the last run left the database, from
 * under the lock, unknown before a run and after a failed one. */
static const char *
last_position(struct migrate *m)
{
	static char out[256];
	const char *const *ids;
	size_t n, i;

	if (migrate_last_position(&ids, &n, m) != 0)
		return "?";
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? "," : "", ids[i]);
	return out;
}

START_TEST(test_last_position)
{
	struct migrate_backend *be;
	struct migrate *m = open_mem(chain(3), &be, 0, true);
	const char *const *ids;
	size_t n;

	ck_assert_int_eq(migrate_last_position(&ids, &n, m), MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_last_position(NULL, &n, m), MIGRATE_EINVAL);
	assert_ok(m, migrate_upgrade(m, "+2"));
	ck_assert_str_eq(last_position(m), "002");
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_str_eq(last_position(m), "002");
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_str_eq(last_position(m), "");
	assert_ok(m, migrate_stamp(m, "003"));
	ck_assert_str_eq(last_position(m), "003");
	ck_assert_int_eq(migrate_upgrade(m, "nope"), MIGRATE_ENOTFOUND);
	ck_assert_str_eq(last_position(m), "?");
	ck_assert_str_eq(current(m), "003");
	migrate_close(m);
}

END_TEST

Suite *
apply_suite(void)
{
	Suite *s = suite_create("apply");

	add_test(s, test_upgrade_head_run_step);
	add_test(s, test_upgrade_head_plain);
	add_test(s, test_upgrade_downgrade_relative);
	add_test(s, test_downgrade_irreversible);
	add_test(s, test_failure_mid_plan_run_step);
	add_test(s, test_failure_mid_plan_plain);
	add_test(s, test_single_transaction_run_step);
	add_test(s, test_single_transaction_plain);
	add_test(s, test_file_line_col_run_step);
	add_test(s, test_file_line_col_plain);
	add_test(s, test_file_line_col_crlf);
	add_test(s, test_bookkeeping_conflict);
	add_test(s, test_lock_taken);
	add_test(s, test_lock_held_by_other_connection);
	add_test(s, test_lost_connection);
	add_test(s, test_readonly_refuses_writes);
	add_test(s, test_apply_plan_and_conflict);
	add_test(s, test_stamp);
	add_test(s, test_stamp_purge);
	add_test(s, test_stamp_arguments);
	add_test(s, test_stamp_down_through_irreversible);
	add_test(s, test_callbacks);
	add_test(s, test_callback_failure);
	add_test(s, test_progress_events);
	add_test(s, test_timeouts_per_section);
	add_test(s, test_timeouts_nontransactional);
	add_test(s, test_lock_timeout_retry_run_step);
	add_test(s, test_lock_timeout_retry_plain);
	add_test(s, test_lock_timeout_gives_up);
	add_test(s, test_lock_timeout_no_retries);
	add_test(s, test_nontx_success);
	add_test(s, test_nontx_failure_marks_dirty);
	add_test(s, test_resolve_undo);
	add_test(s, test_resolve_downgrade);
	add_test(s, test_resolve_version_table_already_moved);
	add_test(s, test_nontx_interrupted_stays_dirty);
	add_test(s, test_transactional_failure_never_dirty);
	add_test(s, test_cancel);
	add_test(s, test_open_takes_ownership_on_failure);
	add_test(s, test_open_backend_checks);
	add_test(s, test_open_cannot_connect);
	add_test(s, test_options_and_misc);
	add_test(s, test_open_refuses_long_names);
	add_test(s, test_history_stops);
	add_test(s, test_plan_check);
	add_test(s, test_plan_preview);
	add_test(s, test_last_position);
	return s;
}
