/* SPDX-License-Identifier: MIT */
/*
 * The offline script (migrate_plan_sql) applied with psql gives the same
 * schema and bookkeeping as an online run, and guards itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate.h>

#include "pg-test.h"

static const char *const nontx_file[] = {
	"revisions/004_index.sql",
	"-- Revision ID: 004\n"
	"-- Revises: 003\n"
	"-- migrate:upgrade transaction=false\n"
	"CREATE INDEX CONCURRENTLY items_name ON items (name);\n"
	"-- migrate:downgrade transaction=false\n"
	"DROP INDEX CONCURRENTLY items_name;\n",
	NULL,
};

static struct migrate_registry *
chain4(void)
{
	struct migrate_registry *reg = pgt_chain();

	assert_reg_ok(reg,
		      migrate_registry_parse(reg, nontx_file[0], nontx_file[1],
					     strlen(nontx_file[1])));
	return reg;
}

/* Render the plan from @from to @target as a script file; returns its
 * malloc'ed path. */
static char *
script_file(int direction,
	    const char *from,
	    const char *target,
	    const struct migrate_options *opts)
{
	struct migrate_registry *reg = chain4();
	struct migrate_plan *plan = NULL;
	char *sql = NULL, *path;
	FILE *f;
	int fd;

	assert_reg_ok(
		reg, migrate_plan_offline(&plan, reg, direction, from, target));
	assert_reg_ok(reg, migrate_plan_sql(&sql, plan, opts));
	path = strdup("/tmp/libmigrate-script-XXXXXX");
	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(sql, f);
	fclose(f);
	migrate_free(sql);
	migrate_plan_free(plan);
	migrate_registry_free(reg);
	return path;
}

/* Run psql on @db with @file; returns psql's exit status. Its output
 * goes to @out (may be NULL). */
static int
run_psql(const char *db, const char *file, const char *out)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s/psql' -X -q -d '%s' -f '%s' >%s 2>&1",
		 pgt_env("MIGRATE_TEST_PGBIN"), db, file,
		 out ? out : "/dev/null");
	st = system(cmd);
	ck_assert_int_ne(st, -1);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	ck_assert_ptr_nonnull(f);
	buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Everything an online and an offline run must agree on. */
static char *
snapshot(const char *db)
{
	PGconn *c = pgt_connect(db);
	char *cols, *idx, *ver, *log, *all;
	size_t n;

	cols = pgt_rows(c, "SELECT table_name, column_name, data_type, "
			   "is_nullable FROM information_schema.columns WHERE "
			   "table_schema = 'public' ORDER BY 1, "
			   "ordinal_position");
	idx = pgt_rows(c, "SELECT indexname, indexdef FROM pg_indexes WHERE "
			  "schemaname = 'public' ORDER BY 1");
	ver = pgt_rows(c, "SELECT version_num FROM alembic_version ORDER BY 1");
	log = pgt_rows(c, "SELECT revision, direction, operation, checksum, "
			  "success, error, db_user, started_at IS NOT NULL, "
			  "duration_ms >= 0 FROM migrate_log ORDER BY id");
	PQfinish(c);
	n = strlen(cols) + strlen(idx) + strlen(ver) + strlen(log) + 16;
	all = malloc(n);
	ck_assert_ptr_nonnull(all);
	snprintf(all, n, "%s--\n%s--\n%s--\n%s", cols, idx, ver, log);
	free(cols);
	free(idx);
	free(ver);
	free(log);
	return all;
}

START_TEST(test_script_matches_online)
{
	char db2[80], out[128];
	struct migrate *m;
	char *file, *a, *b, *text;
	PGconn *c;

	snprintf(db2, sizeof(db2), "%s_b", pgt_db);
	pgt_create_db(db2);

	m = pgt_open(chain4(), NULL, NULL);
	assert_ok(m, migrate_upgrade(m, "head"));

	file = script_file(MIGRATE_UP, NULL, "head", NULL);
	ck_assert_int_eq(run_psql(db2, file, NULL), 0);
	a = snapshot(pgt_db);
	b = snapshot(db2);
	ck_assert_str_eq(a, b);
	ck_assert_msg(strstr(a, "004|up|dirty") && strstr(a, "items_name"),
		      "%s", a);
	free(b);

	/* run again: the guard refuses, nothing changes */
	snprintf(out, sizeof(out), "%s.out", file);
	ck_assert_int_ne(run_psql(db2, file, out), 0);
	text = read_file(out);
	ck_assert_msg(strstr(text, "the database is at 004, but this script "
				   "starts from <base>") != NULL,
		      "%s", text);
	free(text);
	b = snapshot(db2);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	unlink(out);
	unlink(file);
	free(file);

	/* and back down to 002 */
	assert_ok(m, migrate_downgrade(m, "002"));
	file = script_file(MIGRATE_DOWN, "004", "002", NULL);
	ck_assert_int_eq(run_psql(db2, file, NULL), 0);
	a = snapshot(pgt_db);
	b = snapshot(db2);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	unlink(file);
	free(file);

	/* the online side reads the script's bookkeeping */
	migrate_close(m);
	{
		struct migrate_options o = MIGRATE_OPTIONS_INIT;
		char url[128];
		int status;
		const char *msg;

		snprintf(url, sizeof(url), "dbname=%s", db2);
		o.database_url = url;
		m = pgt_open(chain4(), url, &o);
		ck_assert_int_eq(migrate_verify(&status, &msg, m,
						MIGRATE_VERIFY_CHECKSUMS),
				 MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
		assert_ok(m, migrate_upgrade(m, "head"));
		migrate_close(m);
	}
	c = pgt_connect(db2);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_locks WHERE "
				     "locktype = 'advisory'"),
			 0);
	PQfinish(c);
	pgt_drop_db(db2);
}

END_TEST

START_TEST(test_script_waits_for_lock)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	PGconn *c = pgt_connect(NULL);
	char out[160];
	char *file, *text;

	pgt_exec(c, "SELECT pg_advisory_lock(('x' || "
		    "substr(encode(sha256(convert_to('public' || '.' || "
		    "'alembic_version', 'UTF8')), 'hex'), 1, "
		    "16))::bit(64)::bigint)");
	o.lock_wait_ms = 200;
	file = script_file(MIGRATE_UP, NULL, "head", &o);
	snprintf(out, sizeof(out), "%s.out", file);
	ck_assert_int_ne(run_psql(pgt_db, file, out), 0);
	text = read_file(out);
	ck_assert_msg(strstr(text, "lock timeout") != NULL, "%s", text);
	free(text);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "schemaname = 'public'"),
			 0);
	pgt_exec(c, "SELECT pg_advisory_unlock_all()");
	ck_assert_int_eq(run_psql(pgt_db, file, NULL), 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 1);
	unlink(out);
	unlink(file);
	free(file);
	PQfinish(c);
}

END_TEST

START_TEST(test_script_custom_schema_and_single_transaction)
{
	static const char *const broken[] = {
		"revisions/005_broken.sql",
		"-- Revision ID: 005\n-- Revises: 003\n-- migrate:upgrade\n"
		"CREATE TABLE t5 (x integer);\nSELECT nope;\n",
		NULL,
	};
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate_registry *reg = pgt_chain();
	struct migrate_plan *plan = NULL;
	PGconn *c = pgt_connect(NULL);
	char *sql = NULL, *v;
	char path[] = "/tmp/libmigrate-script-XXXXXX";
	FILE *f;
	int fd;

	assert_reg_ok(reg, migrate_registry_parse(reg, broken[0], broken[1],
						  strlen(broken[1])));
	o.schema = "Book Keeping";
	o.version_table = "versions";
	o.flags = MIGRATE_OPEN_SINGLE_TRANSACTION;
	assert_reg_ok(
		reg, migrate_plan_offline(&plan, reg, MIGRATE_UP, NULL, "005"));
	assert_reg_ok(reg, migrate_plan_sql(&sql, plan, &o));
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(sql, f);
	fclose(f);
	ck_assert_int_ne(run_psql(pgt_db, path, NULL), 0);
	/* all or nothing: no revision table, an empty version table */
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename IN ('items', 'tags', 't5')"),
			 0);
	v = pgt_value(c, "SELECT count(*) FROM \"Book Keeping\".versions");
	ck_assert_str_eq(v, "0");
	free(v);
	unlink(path);
	migrate_free(sql);
	migrate_plan_free(plan);
	migrate_registry_free(reg);
	PQfinish(c);
}

END_TEST

Suite *
pg_script_suite(void)
{
	Suite *s = suite_create("pg_script");

	add_test(s, test_script_matches_online);
	add_test(s, test_script_waits_for_lock);
	add_test(s, test_script_custom_schema_and_single_transaction);
	return s;
}
