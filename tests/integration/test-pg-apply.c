/* SPDX-License-Identifier: MIT */
/*
 * The engine against a real PostgreSQL: upgrade, downgrade, verify,
 * failures, the lock, bookkeeping and the repository's own revisions.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate.h>

#include "pg-test.h"

static long
count_tables(PGconn *c, const char *schema)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_tables WHERE schemaname = '%s'",
		 schema);
	return pgt_long(c, sql);
}

/* The server log (pg-harness.sh: $PGHOST/server.log), opened at @off
 * (-1: at its end). */
static FILE *
open_log(long off)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/server.log", pgt_env("PGHOST"));
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	if (off < 0)
		fseek(f, 0, SEEK_END);
	else
		fseek(f, off, SEEK_SET);
	return f;
}

/* The server log's size now: where the lines of what follows start. */
static long
log_size(void)
{
	FILE *f = open_log(-1);
	long n = ftell(f);

	fclose(f);
	return n;
}

/* Statements logged since @off (log_statement = all) whose text
 * (continuation lines too) holds @needle ("" for all). */
static int
statements_since(long off, const char *needle)
{
	char line[4096];
	bool in_stmt = false, counted = false;
	FILE *f = open_log(off);
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "LOG:  statement: ")) {
			in_stmt = true;
			counted = false;
		} else if (line[0] != '\t') {
			in_stmt = false;
		}
		if (in_stmt && !counted && strstr(line, needle)) {
			counted = true;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Lines of the server log since @off that report an error (of any
 * session: the tests of this file run one at a time). */
static int
errors_since(long off)
{
	char line[4096];
	FILE *f = open_log(off);
	int n = 0;

	while (fgets(line, sizeof(line), f))
		if (strstr(line, " ERROR:  "))
			n++;
	fclose(f);
	return n;
}

/* Whether another session can take the migration lock of the default
 * names now (and gives it back at once). */
static bool
lock_free(void)
{
	PGconn *c = pgt_connect(NULL);
	PGresult *res = PQexec(
		c,
		"SELECT pg_try_advisory_lock(('x' || substr(encode(sha256(convert_to('public.alembic_version', 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint)");
	bool free_now;

	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	free_now = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	PQfinish(c);
	return free_now;
}

START_TEST(test_pg_upgrade_from_empty)
{
	struct migrate *m = pgt_open(pgt_chain(), NULL, NULL);
	const char *const *cur;
	size_t n;
	PGconn *c;
	char *v;

	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, migrate_current(&cur, &n, m));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(cur[0], "003");

	c = pgt_connect(NULL);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "003\n");
	free(v);
	/* Alembic's DDL exactly: varchar(32) primary key named *_pkc */
	v = pgt_rows(c, "SELECT format_type(atttypid, atttypmod), attnotnull "
			"FROM pg_attribute WHERE attrelid = "
			"'alembic_version'::regclass AND attnum > 0");
	ck_assert_str_eq(v, "character varying(32)|t\n");
	free(v);
	v = pgt_value(c, "SELECT conname FROM pg_constraint WHERE conrelid = "
			 "'alembic_version'::regclass AND contype = 'p'");
	ck_assert_str_eq(v, "alembic_version_pkc");
	free(v);
	v = pgt_rows(c, "SELECT tablename FROM pg_tables WHERE schemaname = "
			"'public' ORDER BY 1");
	ck_assert_str_eq(v, "alembic_version\nitems\nmigrate_log\ntags\n");
	free(v);
	v = pgt_rows(c, "SELECT column_name FROM information_schema.columns "
			"WHERE table_name = 'items' ORDER BY ordinal_position");
	ck_assert_str_eq(v, "id\nname\nprice\n");
	free(v);
	v = pgt_rows(c, "SELECT revision, direction, operation, success FROM "
			"migrate_log ORDER BY id");
	ck_assert_str_eq(v, "001|up|upgrade|t\n002|up|upgrade|t\n"
			    "003|up|upgrade|t\n");
	free(v);
	PQfinish(c);
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_second_upgrade_is_noop)
{
	struct migrate *m = pgt_open(pgt_chain(), NULL, NULL);
	PGconn *c;
	char *v;

	assert_ok(m, migrate_upgrade(m, NULL));
	migrate_close(m);
	c = pgt_connect(NULL);
	pgt_exec(c, "INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', "
		    "NULL); INSERT INTO tags VALUES (1, 'red')");

	/* a restart: a new handle, upgrade again */
	m = pgt_open(pgt_chain(), NULL, NULL);
	assert_ok(m, migrate_upgrade(m, "head"));
	migrate_close(m);

	v = pgt_rows(c, "SELECT id, name, price FROM items ORDER BY id");
	ck_assert_str_eq(v, "1|one|1.50\n2|two|\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM tags"), 1);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM migrate_log"), 3);
	v = pgt_value(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "003");
	free(v);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_downgrade_base_and_again)
{
	struct migrate *m = pgt_open(pgt_chain(), NULL, NULL);
	const char *const *cur;
	size_t n = 9;
	PGconn *c;
	char *v;

	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, migrate_downgrade(m, "-1"));
	c = pgt_connect(NULL);
	v = pgt_value(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "002");
	free(v);
	assert_ok(m, migrate_downgrade(m, "base"));
	assert_ok(m, migrate_current(&cur, &n, m));
	ck_assert_uint_eq(n, 0);
	/* only the bookkeeping is left, the version table empty */
	v = pgt_rows(c, "SELECT tablename FROM pg_tables WHERE schemaname = "
			"'public' ORDER BY 1");
	ck_assert_str_eq(v, "alembic_version\nmigrate_log\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 0);
	v = pgt_rows(c, "SELECT revision, direction, operation FROM "
			"migrate_log WHERE id > 3 ORDER BY id");
	ck_assert_str_eq(v, "003|down|downgrade\n002|down|downgrade\n"
			    "001|down|downgrade\n");
	free(v);

	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_int_eq(count_tables(c, "public"), 4);
	PQfinish(c);
	migrate_close(m);
}

END_TEST

static int
verify_status(struct migrate *m, unsigned int flags, int *status)
{
	const char *msg = NULL;
	int rc = migrate_verify(status, &msg, m, flags);

	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strchr(msg, '\n') == NULL, "multi-line: %s", msg);
	return rc;
}

START_TEST(test_pg_verify_every_status)
{
	struct migrate_options ro = MIGRATE_OPTIONS_INIT;
	struct migrate *w, *m;
	int status = -1;
	PGconn *c = pgt_connect(NULL);

	ro.flags = MIGRATE_OPEN_READONLY;
	m = pgt_open(pgt_chain(), NULL, &ro);

	/* never migrated, and verify creates nothing */
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_UNINITIALISED);
	ck_assert_int_eq(count_tables(c, "public"), 0);

	w = pgt_open(pgt_chain(), NULL, NULL);
	assert_ok(w, migrate_upgrade(w, "001"));
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	ck_assert_uint_eq(migrate_verify_pending(m), 2);

	assert_ok(w, migrate_upgrade(w, "head"));
	assert_ok(m, verify_status(m, MIGRATE_VERIFY_CHECKSUMS, &status));
	ck_assert_int_eq(status, MIGRATE_STATUS_AT_HEAD);
	migrate_close(m);

	/* a build that knows only 001 (edited since): the database is
	 * ahead */
	{
		static const char *const files[] = {
			"a/001.sql",
			"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
			"CREATE TABLE items (id integer PRIMARY KEY, name "
			"varchar(80) NOT NULL);\n\n-- migrate:downgrade\nDROP "
			"TABLE items;\n",
			NULL,
		};
		struct migrate_registry *reg = pgt_registry(files);

		m = pgt_open(reg, NULL, &ro);
		ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_AHEAD);
		assert_ok(m, verify_status(m, MIGRATE_VERIFY_ALLOW_AHEAD,
					   &status));
		/* and 001's content differs from what was applied */
		ck_assert_int_eq(
			verify_status(m,
				      MIGRATE_VERIFY_CHECKSUMS |
					      MIGRATE_VERIFY_ALLOW_AHEAD,
				      &status),
			MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_CHANGED);
		migrate_close(m);
	}

	/* dirty: a non-transactional revision stopped part-way */
	pgt_exec(c, "INSERT INTO migrate_log (id, revision, direction, "
		    "operation, checksum, success, error, version_table) "
		    "SELECT max(id) + 1, '003', 'up', 'dirty', '', false, "
		    "'statement 2 of 2 failed', 'alembic_version' FROM "
		    "migrate_log");
	m = pgt_open(pgt_chain(), NULL, &ro);
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_DIRTY);
	migrate_close(m);
	pgt_exec(c, "DELETE FROM migrate_log WHERE operation = 'dirty'");

	/* an unknown revision, written by another tool (no history) */
	pgt_exec(c, "UPDATE alembic_version SET version_num = 'feedface'; "
		    "DELETE FROM migrate_log");
	m = pgt_open(pgt_chain(), NULL, &ro);
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_UNKNOWN_REVISION);
	migrate_close(m);

	migrate_close(w);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_verify_cannot_connect)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	const char *msg = NULL;
	int status = -1;

	o.database_url = "postgresql://nobody@127.0.0.1:1/none";
	ck_assert_int_eq(migrate_open(&m, pgt_chain(), NULL, &o),
			 MIGRATE_EBACKEND);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	ck_assert_ptr_nonnull(msg);
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_uninitialised_creates_nothing)
{
	struct migrate *m = pgt_open(pgt_chain(), NULL, NULL);
	const char *const *cur;
	size_t n = 9;
	PGconn *c = pgt_connect(NULL);
	int status;

	assert_ok(m, migrate_current(&cur, &n, m));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_UNINITIALISED);
	{
		struct migrate_plan *plan = NULL;

		assert_ok(m, migrate_plan(&plan, m, MIGRATE_UP, "head"));
		ck_assert_uint_eq(migrate_plan_count(plan), 3);
		migrate_plan_free(plan);
	}
	ck_assert_int_eq(count_tables(c, "public"), 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_class c JOIN "
				     "pg_namespace n ON n.oid = "
				     "c.relnamespace WHERE n.nspname = "
				     "'public'"),
			 0);
	PQfinish(c);
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_failing_revision_reports_position)
{
	static const char *const files[] = {
		"revisions/001_ok.sql",
		"-- Revision ID: 001\n"
		"-- Revises:\n"
		"\n"
		"-- migrate:upgrade\n"
		"CREATE TABLE ok (id integer);\n"
		"\n"
		"-- migrate:downgrade\n"
		"DROP TABLE ok;\n",
		"revisions/002_bad.sql",
		"-- Revision ID: 002\n"                /* line 1 */
		"-- Revises: 001\n"                    /* 2 */
		"\n"                                   /* 3 */
		"-- migrate:upgrade\n"                 /* 4 */
		"CREATE TABLE half (id integer);\n"    /* 5 */
		"INSERT INTO half\n"                   /* 6 */
		"    SELECT no_such_column FROM ok;\n" /* 7 */
		"\n"
		"-- migrate:downgrade\n"
		"DROP TABLE half;\n",
		NULL,
	};
	struct migrate *m = pgt_open(pgt_registry(files), NULL, NULL);
	PGconn *c = pgt_connect(NULL);
	const char *msg;
	char *v;
	int rc;

	rc = migrate_upgrade(m, "head");
	ck_assert_int_eq(rc, MIGRATE_EBACKEND);
	msg = migrate_errmsg(m);
	ck_assert_msg(strstr(msg, "revisions/002_bad.sql:7:12: ") == msg,
		      "message: %s", msg);
	ck_assert_msg(strstr(msg, "no_such_column") != NULL, "%s", msg);
	ck_assert_str_eq(migrate_sqlstate(m), "42703");
	/* the previous revision stays, nothing of 002 remains */
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "001\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename = 'half'"),
			 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename = 'ok'"),
			 1);
	/* and the connection is still usable (no transaction left open) */
	assert_ok(m, migrate_upgrade(m, "001"));
	PQfinish(c);
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_runtime_error_names_statement)
{
	static const char *const files[] = {
		"revisions/001_div.sql",
		"-- Revision ID: 001\n"             /* 1 */
		"-- Revises:\n"                     /* 2 */
		"-- migrate:upgrade\n"              /* 3 */
		"CREATE TABLE d (x integer);\n"     /* 4 */
		"  INSERT INTO d VALUES (1 / 0);\n" /* 5: no server position */
		"-- migrate:downgrade\n"
		"DROP TABLE d;\n",
		NULL,
	};
	struct migrate *m = pgt_open(pgt_registry(files), NULL, NULL);
	const char *msg;

	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	msg = migrate_errmsg(m);
	ck_assert_msg(strstr(msg, "revisions/001_div.sql:5:3: ") == msg,
		      "message: %s", msg);
	ck_assert_str_eq(migrate_sqlstate(m), "22012");
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_lock_held_elsewhere)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	PGconn *c = pgt_connect(NULL);
	struct migrate *m;
	double t0, ms;
	char *v;

	/* the documented key: SHA-256 of "schema.version_table" */
	v = pgt_value(c, "SELECT pg_advisory_lock(('x' || "
			 "substr(encode(sha256(convert_to('public' || '.' || "
			 "'alembic_version', 'UTF8')), 'hex'), 1, "
			 "16))::bit(64)::bigint)");
	free(v);
	o.lock_wait_ms = 300;
	m = pgt_open(pgt_chain(), NULL, &o);
	t0 = pgt_now_ms();
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_ELOCKED);
	ms = pgt_now_ms() - t0;
	ck_assert_msg(ms >= 250 && ms < 5000, "waited %.0f ms", ms);
	ck_assert_msg(strchr(migrate_errmsg(m), '\n') == NULL, "%s",
		      migrate_errmsg(m));
	/* nothing happened, and the lock on verify is never taken */
	{
		int status;

		ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_UNINITIALISED);
	}
	ck_assert_int_eq(count_tables(c, "public"), 0);

	/* released while the other one waits: it goes on at once */
	pgt_exec(c, "SELECT pg_advisory_unlock_all()");
	assert_ok(m, migrate_upgrade(m, "head"));
	migrate_close(m);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_lock_key_same_as_server)
{
	/* The library computes the key of ASCII names itself; a migrator
	 * of before (or the psql script), which has the server compute it,
	 * must still exclude it: hold the lock with the server's expression
	 * and see the library refused, for names whose keys are negative and
	 * positive, quoted and not, and one the server computes (not
	 * ASCII). */
	static const char *const names[][2] = {
		{ "public", "my_versions" },
		{ "Odd 'Schema\"", "alembic_version" },
		{ "sch\xc3\xa9ma", "alembic_version" },
	};
	PGconn *c = pgt_connect(NULL);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct migrate_options o = MIGRATE_OPTIONS_INIT;
		const char *const p[2] = { names[i][0], names[i][1] };
		PGresult *res;
		struct migrate *m;

		res = PQexecParams(
			c,
			"SELECT pg_advisory_lock(('x' || substr(encode(sha256(convert_to($1 || '.' || $2, 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint)",
			2, NULL, p, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		PQclear(res);
		o.schema = names[i][0];
		o.version_table = names[i][1];
		o.lock_wait_ms = 0;
		m = pgt_open(pgt_chain(), NULL, &o);
		ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_ELOCKED);
		pgt_exec(c, "SELECT pg_advisory_unlock_all()");
		/* free now (bookkeeping only: the revisions' tables would
		 * clash between the schemas) */
		assert_ok(m, migrate_stamp(m, "head"));
		migrate_close(m);
	}
	PQfinish(c);
}

END_TEST

/* Log statements of the test's database. */
static void
log_all(void)
{
	PGconn *c = pgt_connect("postgres");
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s SET log_statement = 'all'", pgt_db);
	pgt_exec(c, sql);
	PQfinish(c);
}

/* Since @off: the unlock went @alone (a query of its own, after a commit
 * that failed) or with the last commit; the lock is free now. */
static void
assert_unlocked(long off, bool alone)
{
	if (!alone)
		ck_assert_int_eq(statements_since(off, "pg_advisory_unlock"),
				 1);
	ck_assert_int_eq(
		statements_since(off, "statement: SELECT pg_advisory_unlock"),
		alone ? 1 : 0);
	ck_assert(lock_free());
}

/* What a writer's run sends (deterministic counts; log_statement = all
 * for the test's database): the connect query says there is no version
 * table yet, so a first run reads no state before the lock: it tries the
 * lock (and asks again whether the tables exist), runs its step and
 * unlocks after its commit in the same query, and reads no missing table
 * (which would log an error on the server); a run with nothing to do only
 * reads the state. */
START_TEST(test_pg_round_trips)
{
	struct migrate_options single = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c;
	long off;

	log_all();
	/* connecting: one query, which names no session (a direct
	 * connection needs no token: check_session()) */
	off = log_size();
	m = pgt_open(pgt_chain(), NULL, NULL);
	ck_assert_int_eq(statements_since(off, ""), 1);
	ck_assert_int_eq(statements_since(off, "migrate.session"), 0);
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "001"));
	ck_assert_int_eq(statements_since(off, ""), 2);
	ck_assert_int_eq(statements_since(off, "pg_try_advisory_lock"), 1);
	ck_assert_int_eq(errors_since(off), 0);
	/* the unlock in the step's query, after its COMMIT (the lock try's
	 * and the step's) */
	assert_unlocked(off, false);
	ck_assert_int_eq(statements_since(off, "COMMIT;"), 2);
	/* whether the history table exists, not its format: no query of
	 * pg_attribute (~1 ms to plan in a fresh session) */
	ck_assert_int_eq(statements_since(off, "pg_attribute"), 0);
	/* the tables with plain DDL (no history table to convert), in the
	 * step's query: no PL/pgSQL block */
	ck_assert_int_eq(statements_since(off, "DO $"), 0);
	ck_assert_int_eq(
		statements_since(
			off,
			"CREATE TABLE IF NOT EXISTS \"public\".\"alembic_version\""),
		1);
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "001"));
	ck_assert_int_eq(statements_since(off, ""), 1);
	ck_assert_int_eq(statements_since(off, "alembic_version"), 1);
	migrate_close(m);
	/* a single transaction's first run: the BEGIN (and the tables) go
	 * with the steps, the unlock with the COMMIT */
	c = pgt_connect(NULL);
	pgt_exec(c, "DROP TABLE alembic_version, migrate_log, items");
	PQfinish(c);
	single.flags |= MIGRATE_OPEN_SINGLE_TRANSACTION;
	m = pgt_open(pgt_chain(), NULL, &single);
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_int_eq(statements_since(off, ""), 3);
	ck_assert_int_eq(errors_since(off), 0);
	assert_unlocked(off, false);
	migrate_close(m);
}

END_TEST

/* The single value @sql gives is @want. */
static void
expect_value(PGconn *c, const char *sql, const char *want)
{
	char *v = pgt_value(c, sql);

	ck_assert_str_eq(v, want);
	free(v);
}

/* While a first run waits to take the lock (its plan preview, the
 * moment after its unlocked read), another migrator upgrades to 001. */
static void
upgrade_elsewhere(struct migrate *m,
		  const struct migrate_plan *plan,
		  void *payload)
{
	struct migrate *other = pgt_open(pgt_chain(), NULL, NULL);

	(void)m;
	(void)plan;
	*(int *)payload += 1;
	assert_ok(other, migrate_upgrade(other, "001"));
	migrate_close(other);
}

/* The connect query found no version table, and another migrator makes
 * the tables before the lock is taken: the lock try sees them, the run
 * reads the state under the lock and applies only what is left. */
START_TEST(test_pg_tables_made_after_connect)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c;
	int previews = 0;

	opts.plan_preview = upgrade_elsewhere;
	opts.plan_check_payload = &previews;
	m = pgt_open(pgt_chain(), NULL, &opts);
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_int_eq(previews, 1);
	migrate_close(m);
	c = pgt_connect(NULL);
	expect_value(c, "SELECT version_num FROM alembic_version", "002");
	/* 001 once (by the other migrator), then 002 by this run */
	expect_value(c,
		     "SELECT string_agg(revision, ',' ORDER BY id) FROM "
		     "migrate_log WHERE success",
		     "001,002");
	PQfinish(c);
}

END_TEST

/* The lock goes with the last commit of a run (the step's, the
 * single transaction's, a stamp's, a non-transactional step's
 * bookkeeping), never on its own then; and a run whose last commit
 * failed still releases it. */
START_TEST(test_pg_unlock_with_last_commit)
{
	static const char *const files[] = {
		"r/001.sql",
		"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
		"CREATE TABLE p (id integer PRIMARY KEY);\n"
		"-- migrate:downgrade\nDROP TABLE p;\n",
		"r/002.sql",
		"-- Revision ID: 002\n-- Revises: 001\n"
		"-- migrate:upgrade transaction=false\n"
		"CREATE INDEX CONCURRENTLY p_id2 ON p ((id * 2));\n"
		"-- migrate:downgrade transaction=false\n"
		"DROP INDEX CONCURRENTLY p_id2;\n",
		"r/003.sql",
		"-- Revision ID: 003\n-- Revises: 002\n-- migrate:upgrade\n"
		"CREATE TABLE c (p integer REFERENCES p (id) DEFERRABLE "
		"INITIALLY DEFERRED);\n"
		"INSERT INTO c VALUES (1);\n"
		"-- migrate:downgrade\nDROP TABLE c;\n",
		NULL,
	};
	/* the same chain, its last revision failing before its COMMIT */
	const char *failing[sizeof(files) / sizeof(files[0])];
	struct migrate_options single = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c;
	long off;

	log_all();
	m = pgt_open(pgt_registry(files), NULL, NULL);
	/* a transactional last step */
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "001"));
	assert_unlocked(off, false);
	/* a transaction=false last step: with its bookkeeping's commit */
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "002"));
	assert_unlocked(off, false);
	/* a last step whose COMMIT fails (a deferred foreign key): the
	 * unlock did not run with it, it goes on its own */
	off = log_size();
	ck_assert_int_lt(migrate_upgrade(m, "003"), 0);
	assert_unlocked(off, true);
	c = pgt_connect(NULL);
	expect_value(c, "SELECT version_num FROM alembic_version", "002");
	/* a stamp */
	off = log_size();
	assert_ok(m, migrate_stamp(m, "001"));
	assert_unlocked(off, false);
	assert_ok(m, migrate_stamp(m, "002"));
	migrate_close(m);
	/* a last step that fails before its COMMIT: the query stops there,
	 * the unlock goes on its own */
	memcpy(failing, files, sizeof(files));
	failing[5] =
		"-- Revision ID: 003\n-- Revises: 002\n-- migrate:upgrade\n"
		"CREATE TABLE c (x integer);\nSELECT 1 / 0;\n"
		"-- migrate:downgrade\nDROP TABLE c;\n";
	m = pgt_open(pgt_registry(failing), NULL, NULL);
	off = log_size();
	ck_assert_int_eq(migrate_upgrade(m, "003"), MIGRATE_EBACKEND);
	assert_unlocked(off, true);
	expect_value(c, "SELECT version_num FROM alembic_version", "002");
	expect_value(c, "SELECT to_regclass('c') IS NULL", "t");
	migrate_close(m);
	/* a single transaction: with the COMMIT; and after a failed
	 * COMMIT, on its own */
	single.flags |= MIGRATE_OPEN_SINGLE_TRANSACTION;
	pgt_exec(c, "DROP INDEX p_id2; DROP TABLE p");
	pgt_exec(c, "DELETE FROM alembic_version");
	m = pgt_open(pgt_registry(files), NULL, &single);
	off = log_size();
	assert_ok(m, migrate_upgrade(m, "001"));
	assert_unlocked(off, false);
	pgt_exec(c, "CREATE INDEX p_id2 ON p ((id * 2))");
	pgt_exec(c, "UPDATE alembic_version SET version_num = '002'");
	off = log_size();
	ck_assert_int_lt(migrate_upgrade(m, "003"), 0);
	assert_unlocked(off, true);
	expect_value(c, "SELECT version_num FROM alembic_version", "002");
	migrate_close(m);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_lock_waits_for_release)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *a, *b;

	/* two handles on one database: the second waits for the first's
	 * lock and finds nothing left to do */
	o.lock_wait_ms = 200;
	a = pgt_open(pgt_chain(), NULL, &o);
	b = pgt_open(pgt_chain(), NULL, &o);
	assert_ok(a, migrate_upgrade(a, "001"));
	assert_ok(b, migrate_upgrade(b, "head"));
	assert_ok(a, migrate_upgrade(a, "head"));
	migrate_close(a);
	migrate_close(b);
}

END_TEST

static int
count_history(const struct migrate_history_entry *e, void *payload)
{
	size_t *n = payload;

	ck_assert_int_eq(e->success, 1);
	ck_assert_int_eq(e->direction, MIGRATE_UP);
	ck_assert_str_eq(e->operation, "upgrade");
	ck_assert_uint_eq(strlen(e->checksum), 64);
	ck_assert_msg(e->duration_ms >= 0, "%f", e->duration_ms);
	ck_assert_msg(strlen(e->started_at) >= 20 &&
			      e->started_at[strlen(e->started_at) - 1] == 'Z',
		      "%s", e->started_at);
	ck_assert_str_eq(e->db_user, "postgres");
	(*n)++;
	return 0;
}

START_TEST(test_pg_checksums_recorded)
{
	struct migrate_registry *reg = pgt_chain();
	struct migrate *m = pgt_open(reg, NULL, NULL);
	PGconn *c = pgt_connect(NULL);
	size_t i, n = 0;

	assert_ok(m, migrate_history(m, count_history, &n));
	ck_assert_uint_eq(n, 0); /* no table yet: no rows, no error */
	assert_ok(m, migrate_upgrade(m, "head"));
	reg = migrate_registry(m);
	for (i = 0; i < migrate_registry_count(reg); i++) {
		const struct migrate_revision *r = migrate_registry_at(reg, i);
		char sql[256];
		char *v;

		snprintf(
			sql, sizeof(sql),
			"SELECT checksum FROM migrate_log WHERE revision = '%s'",
			migrate_revision_id(r));
		v = pgt_value(c, sql);
		ck_assert_str_eq(v, migrate_revision_checksum(r));
		free(v);
	}
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM migrate_log WHERE "
				     "db_user = current_user AND started_at "
				     "IS NOT NULL AND duration_ms >= 0"),
			 3);
	assert_ok(m, migrate_history(m, count_history, &n));
	ck_assert_uint_eq(n, 3);
	PQfinish(c);
	migrate_close(m);
}

END_TEST

START_TEST(test_pg_history_table_is_one_relation)
{
	/* The history table is one relation (no sequence, no key, no TOAST
	 * table: a first run creates five relations fewer) and its ids
	 * follow the writes of every kind of run; an error longer than the
	 * table keeps is cut on a character boundary. */
	static const char *const files[] = {
		"revisions/001_a.sql",
		"-- Revision ID: 001\n"
		"-- Revises:\n"
		"-- migrate:upgrade\n"
		"CREATE TABLE a (id integer);\n"
		"-- migrate:downgrade\n"
		"DROP TABLE a;\n",
		"revisions/002_b.sql",
		"-- Revision ID: 002\n"
		"-- Revises: 001\n"
		"-- migrate:upgrade\n"
		"CREATE TABLE b (id integer);\n"
		"-- migrate:downgrade\n"
		"DROP TABLE b;\n",
		"revisions/003_long_error.sql",
		"-- Revision ID: 003\n"
		"-- Revises: 002\n"
		"-- migrate:upgrade\n"
		"DO $$ BEGIN RAISE EXCEPTION '%', repeat('\xc3\xa9', 400); END $$;\n"
		"-- migrate:downgrade\n"
		"SELECT 1;\n",
		NULL,
	};
	struct migrate_options single = MIGRATE_OPTIONS_INIT;
	struct migrate *m = pgt_open(pgt_registry(files), NULL, NULL);
	PGconn *c = pgt_connect(NULL);
	char *v;

	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert_int_eq(
		pgt_long(c, "SELECT count(*) FROM pg_class WHERE oid = "
			    "'migrate_log'::regclass AND reltoastrelid = 0 "
			    "AND NOT relhasindex"),
		1);
	ck_assert_int_eq(
		pgt_long(c, "SELECT count(*) FROM pg_depend d JOIN pg_class s "
			    "ON s.oid = d.objid WHERE d.refobjid = "
			    "'migrate_log'::regclass AND s.relkind = 'S'"),
		0);
	assert_ok(m, migrate_downgrade(m, "001"));
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	migrate_close(m);
	single.flags |= MIGRATE_OPEN_SINGLE_TRANSACTION;
	m = pgt_open(pgt_registry(files), NULL, &single);
	assert_ok(m, migrate_downgrade(m, "base"));
	migrate_close(m);
	v = pgt_rows(c, "SELECT string_agg(id || ' ' || revision || ' ' || "
			"direction || ' ' || success, ', ' ORDER BY id) FROM "
			"migrate_log");
	/* (5: the failed step's own row, rolled back with it; a gap, as a
	 * sequence leaves one) */
	ck_assert_str_eq(v, "1 001 up true, 2 002 up true, 3 002 down true, "
			    "4 002 up true, 6 003 up false, 7 002 down true, "
			    "8 001 down true\n");
	free(v);
	ck_assert_int_eq(
		pgt_long(c,
			 "SELECT count(*) FROM migrate_log WHERE NOT success "
			 "AND char_length(error) = 300 AND error LIKE "
			 "'%' || repeat(U&'\\00E9', 200)"),
		1);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_alembic_database_is_continued)
{
	struct migrate *m;
	PGconn *c = pgt_connect(NULL);
	char *v;
	int status;

	/* what Alembic leaves behind after revision 001 */
	pgt_exec(c, "CREATE TABLE alembic_version (version_num VARCHAR(32) "
		    "NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
		    "(version_num)); INSERT INTO alembic_version VALUES "
		    "('001'); CREATE TABLE items (id integer PRIMARY KEY, "
		    "name text NOT NULL)");
	m = pgt_open(pgt_chain(), NULL, NULL);
	ck_assert_int_eq(verify_status(m, MIGRATE_VERIFY_CHECKSUMS, &status),
			 MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	assert_ok(m, migrate_upgrade(m, "head"));
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "003\n");
	free(v);
	v = pgt_rows(c, "SELECT revision FROM migrate_log ORDER BY id");
	ck_assert_str_eq(v, "002\n003\n");
	free(v);
	assert_ok(m, verify_status(m, MIGRATE_VERIFY_CHECKSUMS, &status));
	migrate_close(m);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_custom_schema_and_tables)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c = pgt_connect(NULL);
	char *v;
	int status;

	o.schema = "My \"Schema\"";
	o.version_table = "ver'sion";
	o.log_table = "Log";
	m = pgt_open(pgt_chain(), NULL, &o);
	assert_ok(m, migrate_upgrade(m, "002"));
	v = pgt_rows(c, "SELECT version_num FROM \"My \"\"Schema\"\"\"."
			"\"ver'sion\"");
	ck_assert_str_eq(v, "002\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM \"My "
				     "\"\"Schema\"\"\".\"Log\""),
			 2);
	v = pgt_value(c, "SELECT conname FROM pg_constraint WHERE conrelid = "
			 "'\"My \"\"Schema\"\"\".\"ver''sion\"'::regclass AND "
			 "contype = 'p'");
	ck_assert_str_eq(v, "ver'sion_pkc");
	free(v);
	/* the revisions' own tables follow search_path (public) */
	ck_assert_int_eq(count_tables(c, "public"), 1);
	ck_assert_int_eq(verify_status(m, 0, &status), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, verify_status(m, 0, &status));
	migrate_close(m);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_readonly_handle)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c = pgt_connect(NULL);

	o.flags = MIGRATE_OPEN_READONLY;
	m = pgt_open(pgt_chain(), NULL, &o);
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EREADONLY);
	ck_assert_int_eq(count_tables(c, "public"), 0);
	migrate_close(m);
	PQfinish(c);
}

END_TEST

/* Progress events as "S001 D001 F002 " (start, done, failed, retry). */
static void
record_progress(const char *revision,
		int direction,
		int phase,
		double elapsed_ms,
		void *payload)
{
	char *seen = payload;
	size_t len = strlen(seen);

	(void)direction;
	(void)elapsed_ms;
	snprintf(seen + len, 128 - len, "%c%s ",
		 phase >= 1 && phase <= 4 ? "?SDFR"[phase] : '?', revision);
}

START_TEST(test_pg_single_transaction_rolls_back_all)
{
	static const char *const files[] = {
		"r/001.sql",
		"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
		"CREATE TABLE s1 (x integer);\n-- migrate:downgrade\n"
		"DROP TABLE s1;\n",
		"r/002.sql",
		"-- Revision ID: 002\n-- Revises: 001\n-- migrate:upgrade\n"
		"CREATE TABLE s2 (x integer);\nSELECT broken FROM s2;\n"
		"-- migrate:downgrade\nDROP TABLE s2;\n",
		"r/003.sql",
		"-- Revision ID: 003\n-- Revises: 002\n-- migrate:upgrade\n"
		"CREATE TABLE s3 (x integer);\n-- migrate:downgrade\n"
		"DROP TABLE s3;\n",
		NULL,
	};
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *c = pgt_connect(NULL);
	char seen[128] = "";

	o.flags = MIGRATE_OPEN_SINGLE_TRANSACTION;
	o.progress = record_progress;
	o.progress_payload = seen;
	m = pgt_open(pgt_registry(files), NULL, &o);
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	ck_assert_msg(strstr(migrate_errmsg(m), "r/002.sql:5:8: ") ==
			      migrate_errmsg(m),
		      "%s", migrate_errmsg(m));
	/* the steps go to the server together; none is said to start that
	 * did not run */
	ck_assert_str_eq(seen, "S001 D001 S002 F002 ");
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename IN ('s1', 's2')"),
			 0);
	migrate_close(m);
	PQfinish(c);
}

END_TEST

START_TEST(test_pg_non_transactional_revision)
{
	static const char *const files[] = {
		"r/001.sql",
		"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
		"CREATE TABLE n1 (x integer);\n-- migrate:downgrade\n"
		"DROP TABLE n1;\n",
		"r/002.sql",
		"-- Revision ID: 002\n-- Revises: 001\n"
		"-- migrate:upgrade transaction=false\n"
		"CREATE INDEX CONCURRENTLY n1_x ON n1 (x);\n"
		"CREATE INDEX CONCURRENTLY n1_x2 ON n1 ((x * 2));\n"
		"-- migrate:downgrade transaction=false\n"
		"DROP INDEX CONCURRENTLY n1_x2;\nDROP INDEX CONCURRENTLY n1_x;\n",
		NULL,
	};
	struct migrate *m = pgt_open(pgt_registry(files), NULL, NULL);
	PGconn *c = pgt_connect(NULL);
	int status;

	assert_ok(m, migrate_upgrade(m, "head"));
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_indexes WHERE "
				     "tablename = 'n1'"),
			 2);
	assert_ok(m, verify_status(m, 0, &status));
	assert_ok(m, migrate_downgrade(m, "001"));
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_indexes WHERE "
				     "tablename = 'n1'"),
			 0);
	migrate_close(m);
	PQfinish(c);
}

END_TEST

/* A transaction=false section runs with its lock_timeout as a session
 * setting: CREATE INDEX CONCURRENTLY behind a lock gives up instead of
 * queueing for ever; the database is marked dirty and the session's
 * timeouts are switched off again. */
START_TEST(test_pg_non_transactional_lock_timeout)
{
	static const char *const files[] = {
		"r/001.sql",
		"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
		"CREATE TABLE n2 (x integer);\n",
		"r/002.sql",
		"-- Revision ID: 002\n-- Revises: 001\n"
		"-- migrate:upgrade transaction=false lock_timeout=300ms\n"
		"CREATE INDEX CONCURRENTLY n2_x ON n2 (x);\n",
		NULL,
	};
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate *m;
	PGconn *holder = pgt_connect(NULL);
	PGconn *probe;
	double t0, elapsed;
	int status;

	opts.lock_retries = 0;
	m = pgt_open(pgt_registry(files), NULL, &opts);
	assert_ok(m, migrate_upgrade(m, "001"));
	pgt_exec(holder, "BEGIN");
	pgt_exec(holder, "LOCK TABLE n2 IN ACCESS EXCLUSIVE MODE");
	t0 = pgt_now_ms();
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	elapsed = pgt_now_ms() - t0;
	ck_assert_msg(elapsed < 10000, "waited %.0f ms", elapsed);
	ck_assert_str_eq(migrate_sqlstate(m), "55P03");
	ck_assert_msg(strstr(migrate_errmsg(m), "r/002.sql:4:") != NULL,
		      "got: %s", migrate_errmsg(m));
	pgt_exec(holder, "ROLLBACK");
	ck_assert_int_eq(migrate_verify(&status, NULL, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_DIRTY);
	probe = (PGconn *)migrate_native_connection(m);
	ck_assert_ptr_nonnull(probe);
	{
		char *v = pgt_value(probe, "SHOW lock_timeout");

		ck_assert_str_eq(v, "0");
		free(v);
	}
	migrate_close(m);
	PQfinish(holder);
}

END_TEST

/* The applied set comes from the last success of each revision in the
 * history, whatever went before: 003 went up and down again, 002 down and
 * up again. Read by handles whose registries end at 002 and at 003. */
START_TEST(test_pg_applied_set_follows_last_success)
{
	struct migrate *m = pgt_open(pgt_chain(), NULL, NULL);
	struct migrate_registry *short_reg;
	PGconn *c = pgt_connect(NULL);
	const char *msg = NULL;
	int status;

	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, migrate_downgrade(m, "001"));
	assert_ok(m, migrate_upgrade(m, "002"));
	migrate_close(m);
	/* As if a newer build had gone on to a revision we do not know (it
	 * records its history, as every build does). */
	pgt_exec(c, "UPDATE alembic_version SET version_num = 'zzz'");
	pgt_exec(
		c,
		"INSERT INTO migrate_log (id, version_table, revision, direction, operation, success) SELECT max(id) + 1, min(version_table), 'zzz', 'up', 'upgrade', true FROM migrate_log");

	/* A build whose head is 002: every revision it knows is applied. */
	ck_assert_int_eq(migrate_registry_new(&short_reg), 0);
	{
		struct migrate_registry *full = pgt_chain();
		size_t i;

		for (i = 0; i < 2; i++) {
			const struct migrate_revision *r =
				migrate_registry_at(full, i);
			struct migrate_revision_def def =
				MIGRATE_REVISION_DEF_INIT;
			const char *parent = migrate_revision_parent(r, 0);

			def.id = migrate_revision_id(r);
			def.parents = parent ? &parent : NULL;
			def.n_parents = parent ? 1 : 0;
			def.upgrade_sql = migrate_revision_upgrade_sql(r);
			def.downgrade_sql = migrate_revision_downgrade_sql(r);
			assert_reg_ok(short_reg,
				      migrate_registry_add(short_reg, &def));
		}
		migrate_registry_free(full);
	}
	m = pgt_open(short_reg, NULL, NULL);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_msg(status == MIGRATE_STATUS_AHEAD, "status %d: %s", status,
		      msg);
	migrate_close(m);

	/* A build whose head is 003: its head was reverted, so 'zzz' is a
	 * revision it cannot place. */
	m = pgt_open(pgt_chain(), NULL, NULL);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_msg(status == MIGRATE_STATUS_UNKNOWN_REVISION,
		      "status %d: %s", status, msg);
	migrate_close(m);
	PQfinish(c);
}

END_TEST

/* A lock timeout names the likely holder: the oldest open transaction. */
START_TEST(test_pg_lock_timeout_names_holder)
{
	static const char *const files[] = {
		"r/001.sql",
		"-- Revision ID: 001\n-- Revises:\n-- migrate:upgrade\n"
		"CREATE TABLE held (x integer);\n",
		"r/002.sql",
		"-- Revision ID: 002\n-- Revises: 001\n"
		"-- migrate:upgrade lock_timeout=200ms\n"
		"ALTER TABLE held ADD COLUMN y integer;\n",
		NULL,
	};
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	PGconn *holder = pgt_connect(NULL);
	struct migrate *m;

	opts.lock_retries = 0;
	m = pgt_open(pgt_registry(files), NULL, &opts);
	assert_ok(m, migrate_upgrade(m, "001"));
	pgt_exec(holder, "SET application_name = 'lock-holder-test'");
	pgt_exec(holder, "BEGIN");
	pgt_exec(holder, "LOCK TABLE held IN ACCESS SHARE MODE");
	ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_EBACKEND);
	ck_assert_str_eq(migrate_sqlstate(m), "55P03");
	ck_assert_msg(strstr(migrate_errmsg(m), "r/002.sql:4:1:") &&
			      strstr(migrate_errmsg(m), "lock-holder-test") &&
			      strstr(migrate_errmsg(m), "idle in transaction"),
		      "got: %s", migrate_errmsg(m));
	pgt_exec(holder, "ROLLBACK");
	assert_ok(m, migrate_upgrade(m, "head"));
	migrate_close(m);
	PQfinish(holder);
}

END_TEST

START_TEST(test_pg_repository_revisions)
{
	struct migrate_registry *reg = NULL;
	struct migrate *m;
	PGconn *c;
	const char *vec = getenv("MIGRATE_TEST_VECTOR");
	char *v;
	int status;

	if (!pgt_revisions_dir || !vec || strcmp(vec, "none") == 0) {
		fprintf(stderr,
			"test_pg_repository_revisions: skipped (no revisions dir or no vector extension)\n");
		return;
	}
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, pgt_revisions_dir));
	m = pgt_open(reg, NULL, NULL);
	assert_ok(m, migrate_upgrade(m, "head"));
	c = pgt_connect(NULL);
	v = pgt_rows(c, "SELECT tablename FROM pg_tables WHERE schemaname = "
			"'public' AND tablename NOT IN ('alembic_version', "
			"'migrate_log') ORDER BY 1");
	ck_assert_str_eq(v, "chunks\ndocuments\nindexing_tasks\nprojects\n");
	free(v);
	v = pgt_value(c, "SELECT min(version_num) FROM alembic_version");
	ck_assert_str_eq(v, "001");
	free(v);
	v = pgt_value(c, "SELECT format_type(atttypid, atttypmod) FROM "
			 "pg_attribute WHERE attrelid = 'chunks'::regclass AND "
			 "attname = 'embedding'");
	ck_assert_str_eq(v, "vector(768)");
	free(v);
	pgt_exec(c, "INSERT INTO projects VALUES ('p1', 'Project', now())");
	migrate_close(m);

	/* a restart of the service: a new handle, upgrade again */
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, pgt_revisions_dir));
	m = pgt_open(reg, NULL, NULL);
	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, verify_status(m, MIGRATE_VERIFY_CHECKSUMS, &status));
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM projects"), 1);
	assert_ok(m, migrate_downgrade(m, "base"));
	ck_assert_int_eq(count_tables(c, "public"), 2);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_extension WHERE "
				     "extname = 'vector'"),
			 0);
	assert_ok(m, migrate_upgrade(m, "head"));
	migrate_close(m);
	PQfinish(c);
}

END_TEST

Suite *
pg_apply_suite(void)
{
	Suite *s = suite_create("pg_apply");

	add_test(s, test_pg_upgrade_from_empty);
	add_test(s, test_pg_second_upgrade_is_noop);
	add_test(s, test_pg_downgrade_base_and_again);
	add_test(s, test_pg_verify_every_status);
	add_test(s, test_pg_verify_cannot_connect);
	add_test(s, test_pg_uninitialised_creates_nothing);
	add_test(s, test_pg_failing_revision_reports_position);
	add_test(s, test_pg_runtime_error_names_statement);
	add_test(s, test_pg_lock_held_elsewhere);
	add_test(s, test_pg_lock_key_same_as_server);
	add_test(s, test_pg_round_trips);
	add_test(s, test_pg_tables_made_after_connect);
	add_test(s, test_pg_unlock_with_last_commit);
	add_test(s, test_pg_lock_waits_for_release);
	add_test(s, test_pg_checksums_recorded);
	add_test(s, test_pg_history_table_is_one_relation);
	add_test(s, test_pg_alembic_database_is_continued);
	add_test(s, test_pg_custom_schema_and_tables);
	add_test(s, test_pg_readonly_handle);
	add_test(s, test_pg_single_transaction_rolls_back_all);
	add_test(s, test_pg_non_transactional_revision);
	add_test(s, test_pg_non_transactional_lock_timeout);
	add_test(s, test_pg_applied_set_follows_last_success);
	add_test(s, test_pg_lock_timeout_names_holder);
	add_test(s, test_pg_repository_revisions);
	return s;
}
