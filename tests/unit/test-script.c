/* SPDX-License-Identifier: MIT */
/* migrate_plan_sql() and the pg-sql.c builders, without a server. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "pg-sql.h"
#include "private.h"
#include "suites.h"
#include "test-common.h"

static const char rev1[] = "-- Revision ID: 001\n"
			   "-- Revises:\n"
			   "-- migrate:upgrade\n"
			   "CREATE TABLE a (x integer); -- trailing comment\n"
			   "-- migrate:downgrade\n"
			   "DROP TABLE a;\n";
static const char rev2[] = "-- Revision ID: 002\n"
			   "-- Revises: 001\n"
			   "-- migrate:upgrade lock_timeout=2s\n"
			   "ALTER TABLE a ADD COLUMN y integer\n"
			   "-- migrate:downgrade\n"
			   "ALTER TABLE a DROP COLUMN y;\n";
static const char rev3[] = "-- Revision ID: 003\n"
			   "-- Revises: 002\n"
			   "-- migrate:upgrade transaction=false\n"
			   "CREATE INDEX CONCURRENTLY a_x ON a (x);\n"
			   "-- migrate:downgrade transaction=false\n"
			   "DROP INDEX CONCURRENTLY a_x;\n";

static struct migrate_registry *
make_registry(void)
{
	struct migrate_registry *reg = NULL;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	assert_reg_ok(reg, migrate_registry_parse(reg, "r/001.sql", rev1,
						  strlen(rev1)));
	assert_reg_ok(reg, migrate_registry_parse(reg, "r/002.sql", rev2,
						  strlen(rev2)));
	assert_reg_ok(reg, migrate_registry_parse(reg, "r/003.sql", rev3,
						  strlen(rev3)));
	return reg;
}

/* The script for @from -> @target, or NULL with @rc/@err set. */
static char *
render(struct migrate_registry *reg,
       int direction,
       const char *from,
       const char *target,
       const struct migrate_options *opts,
       int *rc,
       const char **err)
{
	struct migrate_plan *plan = NULL;
	char *sql = NULL;

	assert_reg_ok(
		reg, migrate_plan_offline(&plan, reg, direction, from, target));
	*rc = migrate_plan_sql(&sql, plan, opts);
	*err = migrate_registry_errmsg(reg);
	migrate_plan_free(plan);
	return sql;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* @a occurs, and before @b. */
static void
assert_order(const char *s, const char *a, const char *b)
{
	const char *pa = strstr(s, a), *pb = strstr(s, b);

	ck_assert_msg(pa != NULL, "missing <%s>", a);
	ck_assert_msg(pb != NULL, "missing <%s>", b);
	ck_assert_msg(pa < pb, "<%s> not before <%s>", a, b);
}

START_TEST(test_script_upgrade_structure)
{
	struct migrate_registry *reg = make_registry();
	const char *err = NULL;
	int rc;
	char *s = render(reg, MIGRATE_UP, NULL, "head", NULL, &rc, &err);

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "\\set ON_ERROR_STOP on\n"));
	/* lock, guard, tables, steps, unlock: in that order */
	assert_order(s, "PERFORM pg_advisory_lock(",
		     "but this script starts "
		     "from ' || '<base>'");
	assert_order(s, "but this script starts",
		     "CREATE TABLE IF NOT EXISTS "
		     "\"alembic_version\"");
	assert_order(s, "CREATE TABLE IF NOT EXISTS \"migrate_log\"",
		     "CREATE TABLE a (x integer);");
	assert_order(s, "CREATE INDEX CONCURRENTLY a_x",
		     "PERFORM pg_advisory_unlock(");
	/* the same lock key as online, with the lock wait of the options */
	ck_assert_ptr_nonnull(
		strstr(s, "set_config('lock_timeout', '60000ms'"));
	ck_assert_uint_eq(count(s, "sha256(convert_to(coalesce("
				   "current_schema(), '') || '.' || "
				   "'alembic_version', 'UTF8'))"),
			  2);
	/* Alembic's DDL */
	ck_assert_ptr_nonnull(strstr(s,
				     "version_num VARCHAR(32) NOT NULL,\n\t"
				     "\t\tCONSTRAINT \"alembic_version_pkc\" "
				     "PRIMARY KEY (version_num)"));
	/* two transactional steps, the third outside a transaction */
	ck_assert_uint_eq(count(s, "\nBEGIN;\n"), 2);
	ck_assert_uint_eq(count(s, "\nCOMMIT;\n"), 2);
	assert_order(s,
		     "CREATE TABLE a (x integer); -- trailing comment\n\n;\n",
		     "SELECT '001' WHERE NOT EXISTS");
	/* 002 ends without ';': a separator follows it */
	ck_assert_ptr_nonnull(strstr(s, "ADD COLUMN y integer\n\n;\n"));
	ck_assert_ptr_nonnull(strstr(s, "SET LOCAL lock_timeout = '2000ms';\n"
					"SET LOCAL statement_timeout = "
					"'0ms';\n"));
	ck_assert_ptr_nonnull(strstr(s, "SET version_num = '002' WHERE "
					"version_num = '001'"));
	/* the non-transactional step: dirty mark, statements, bookkeeping */
	assert_order(s, "END), '003', 'up', 'dirty'",
		     "CREATE INDEX CONCURRENTLY a_x");
	assert_order(s, "CREATE INDEX CONCURRENTLY a_x",
		     "SET version_num = '003' WHERE version_num = '002'");
	ck_assert_ptr_nonnull(
		strstr(s, "false, 'started', 'alembic_version');"));
	/* checksums as online */
	ck_assert_ptr_nonnull(strstr(
		s, migrate_revision_checksum(migrate_registry_at(reg, 0))));
	free(s);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_script_downgrade_from_heads)
{
	struct migrate_registry *reg = make_registry();
	const char *err = NULL;
	int rc;
	char *s = render(reg, MIGRATE_DOWN, "002", "base", NULL, &rc, &err);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(s, "USING ARRAY['002']::text[]"));
	ck_assert_ptr_nonnull(strstr(s, "IF migrate_n <> 1 OR"));
	assert_order(s, "ALTER TABLE a DROP COLUMN y;", "DROP TABLE a;");
	ck_assert_ptr_nonnull(strstr(s, "SET version_num = '001' WHERE "
					"version_num = '002'"));
	ck_assert_ptr_nonnull(strstr(s, "DELETE FROM \"alembic_version\" WHERE "
					"version_num = '001'"));
	ck_assert_ptr_nonnull(strstr(s, "::bigint END), '001', 'down', "
					"'downgrade'"));
	free(s);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_script_schema_and_names_quoted)
{
	struct migrate_registry *reg = make_registry();
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	const char *err = NULL;
	int rc;
	char *s;

	o.schema = "my \"s\"";
	o.version_table = "v'er";
	o.log_table = "Log";
	o.lock_wait_ms = 1500;
	o.lock_timeout_ms = 0;
	o.statement_timeout_ms = 30000;
	s = render(reg, MIGRATE_UP, NULL, "001", &o, &rc, &err);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(s, "\"my \"\"s\"\"\".\"v'er\""));
	ck_assert_ptr_nonnull(
		strstr(s, "to_regclass('\"my \"\"s\"\"\".\"v''er\"')"));
	ck_assert_ptr_nonnull(strstr(s, "CREATE SCHEMA IF NOT EXISTS \"my "
					"\"\"s\"\"\""));
	ck_assert_ptr_nonnull(strstr(s, "\"my \"\"s\"\"\".\"Log\""));
	ck_assert_ptr_nonnull(strstr(s, "CONSTRAINT \"v'er_pkc\""));
	ck_assert_ptr_nonnull(strstr(s, "convert_to('my \"s\"' || '.' || "
					"'v''er', 'UTF8')"));
	ck_assert_ptr_nonnull(strstr(s, "'1500ms'"));
	ck_assert_ptr_nonnull(strstr(s, "SET LOCAL lock_timeout = '0ms';\n"
					"SET LOCAL statement_timeout = "
					"'30000ms';\n"));
	free(s);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_script_single_transaction)
{
	struct migrate_registry *reg = make_registry();
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	const char *err = NULL;
	int rc;
	char *s;

	o.flags = MIGRATE_OPEN_SINGLE_TRANSACTION;
	s = render(reg, MIGRATE_UP, NULL, "002", &o, &rc, &err);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(count(s, "\nBEGIN;\n"), 1);
	ck_assert_uint_eq(count(s, "\nCOMMIT;\n"), 1);
	assert_order(s, "\nBEGIN;\n", "CREATE TABLE a");
	assert_order(s, "ADD COLUMN y", "\nCOMMIT;\n");
	free(s);

	/* a transaction=false revision cannot be part of it */
	s = render(reg, MIGRATE_UP, NULL, "head", &o, &rc, &err);
	ck_assert_int_eq(rc, MIGRATE_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, "transaction=false"));
	migrate_registry_free(reg);
}

END_TEST

static int
noop_step(struct migrate *m, void *payload)
{
	(void)m;
	(void)payload;
	return 0;
}

START_TEST(test_script_refuses_c_revisions)
{
	struct migrate_registry *reg = NULL;
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *err = NULL;
	int rc;
	char *s;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	def.id = "c1";
	def.upgrade_fn = noop_step;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	s = render(reg, MIGRATE_UP, NULL, "head", NULL, &rc, &err);
	ck_assert_int_eq(rc, MIGRATE_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "cannot be rendered as SQL"));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_script_bad_arguments)
{
	struct migrate_registry *reg = make_registry();
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate_plan *plan = NULL;
	char *s = (char *)1;

	ck_assert_int_eq(migrate_plan_sql(&s, NULL, NULL), MIGRATE_EINVAL);
	ck_assert_ptr_null(s);
	assert_reg_ok(reg, migrate_plan_offline(&plan, reg, MIGRATE_UP, NULL,
						"head"));
	ck_assert_int_eq(migrate_plan_sql(NULL, plan, NULL), MIGRATE_EINVAL);
	o.version = 99;
	ck_assert_int_eq(migrate_plan_sql(&s, plan, &o), MIGRATE_EINVAL);
	assert_contains(migrate_registry_errmsg(reg),
			"unsupported options version 99");
	migrate_plan_free(plan);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_script_empty_plan)
{
	struct migrate_registry *reg = make_registry();
	const char *err = NULL;
	int rc;
	char *s = render(reg, MIGRATE_UP, "003", "head", NULL, &rc, &err);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(s, "(0 steps)"));
	ck_assert_ptr_nonnull(strstr(s, "ARRAY['003']::text[]"));
	ck_assert_ptr_null(strstr(s, "\nBEGIN;\n"));
	ck_assert_ptr_nonnull(strstr(s, "pg_advisory_unlock("));
	free(s);
	migrate_registry_free(reg);
}

END_TEST

/* ---- pg-sql.c builders ------------------------------------------- */

static const struct migrate_pg_names names = { "public", "alembic_version",
					       "migrate_log", NULL };

START_TEST(test_pg_sql_bookkeeping_merge)
{
	struct buf b = BUF_INIT;
	struct migrate_record rec;
	const char *const rm[] = { "a", "b", "c" };
	const char *const add[] = { "m" };

	memset(&rec, 0, sizeof(rec));
	rec.revision = "m";
	rec.direction = MIGRATE_UP;
	rec.operation = "upgrade";
	rec.remove_heads = rm;
	rec.n_remove = 3;
	rec.add_heads = add;
	rec.n_add = 1;
	rec.checksum = "";
	rec.started_at = 1700000000.5;
	rec.duration_ms = 3.25;
	rec.success = 1;
	rec.error = "it's";
	migrate__pg_bookkeeping(&b, &names, &rec, MIGRATE_PG_TIMING_RECORD);
	ck_assert(!b.oom);
	assert_order(b.data,
		     "UPDATE \"public\".\"alembic_version\" SET "
		     "version_num = 'm' WHERE version_num = 'a'",
		     "DELETE FROM \"public\".\"alembic_version\" WHERE "
		     "version_num = 'b'");
	assert_order(b.data, "version_num = 'b'", "version_num = 'c'");
	/* one plain statement: data-modifying CTEs, each checked to touch
	 * exactly one row, no PL/pgSQL */
	ck_assert(strncmp(b.data, "WITH migrate_h1 AS (UPDATE ", 27) == 0);
	ck_assert_ptr_null(strstr(b.data, "DO $"));
	ck_assert_uint_eq(count(b.data, ";\n"), 1);
	ck_assert_uint_eq(count(b.data, ") <> 1 THEN 'libmigrate: version "
					"table \"public\".\"alembic_version\" "
					"does not hold "),
			  3);
	ck_assert_ptr_nonnull(strstr(b.data, "ELSE 'true' END)::boolean"));
	ck_assert_ptr_nonnull(strstr(b.data, "to_timestamp(1700000000.500000), "
					     "3.250"));
	ck_assert_ptr_nonnull(strstr(b.data, "'it''s', 'alembic_version');\n"));
	buf_free(&b);
}

END_TEST

START_TEST(test_pg_sql_log_ids_and_error_length)
{
	/* Each history row gets the next id of its source, in row order:
	 * counted by the library (online, this format's history table), by
	 * the session setting (the script), or the old format's sequence. */
	struct migrate_pg_log_ids ids = { MIGRATE_PG_ID_COUNTER, 41 };
	struct migrate_pg_names n = { "public", "alembic_version",
				      "migrate_log", &ids };
	struct migrate_record rows[2];
	struct buf b = BUF_INIT, err = BUF_INIT;
	const char *p;
	size_t i;

	memset(rows, 0, sizeof(rows));
	rows[0].revision = "a";
	rows[0].operation = rows[1].operation = "upgrade";
	rows[0].success = rows[1].success = 1;
	rows[1].revision = "b";
	/* 299 ASCII characters and 3 of two bytes: the history keeps the
	 * first 300 characters (301 bytes), never half a character */
	for (i = 0; i < 299; i++)
		buf_puts(&err, "x");
	buf_puts(&err, "\xc3\xa9\xc3\xa9\xc3\xa9");
	rows[1].error = err.data;
	migrate__pg_bookkeeping_rows(&b, &n, NULL, rows, 2,
				     MIGRATE_PG_TIMING_RECORD);
	ck_assert(!b.oom);
	ck_assert_ptr_nonnull(strstr(b.data, " (id, revision, direction, "));
	assert_order(b.data, "VALUES (41, 'a', 'up'", "(42, 'b', 'up'");
	ck_assert(ids.next == 43);
	p = strstr(b.data, "'xxx");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strncmp(p + 1 + 299, "\xc3\xa9'", 3), 0);
	buf_free(&b);

	ids.source = MIGRATE_PG_ID_SETTING;
	migrate__pg_bookkeeping_rows(&b, &n, NULL, rows, 1,
				     MIGRATE_PG_TIMING_RECORD);
	ck_assert_ptr_nonnull(strstr(
		b.data,
		"VALUES ((CASE current_setting('migrate.log_id') WHEN '' THEN nextval(pg_get_serial_sequence('\"public\".\"migrate_log\"', 'id')) ELSE set_config('migrate.log_id', (current_setting('migrate.log_id')::bigint + 1)::text, false)::bigint END), 'a'"));
	buf_free(&b);
	migrate__pg_log_id_start(&b, &n);
	ck_assert_ptr_nonnull(strstr(
		b.data,
		"set_config('migrate.log_id', CASE WHEN (SELECT atthasdef FROM pg_attribute WHERE attrelid = to_regclass('\"public\".\"migrate_log\"')"));
	ck_assert_ptr_nonnull(strstr(
		b.data,
		"coalesce(max(id), 0) FROM \"public\".\"migrate_log\" WHERE version_table = 'alembic_version'"));
	buf_free(&b);

	ids.source = MIGRATE_PG_ID_SEQUENCE;
	migrate__pg_bookkeeping_rows(&b, &n, NULL, rows, 1,
				     MIGRATE_PG_TIMING_RECORD);
	ck_assert_ptr_nonnull(strstr(b.data, "VALUES (DEFAULT, 'a'"));
	buf_free(&b);
	buf_free(&err);
}

END_TEST

START_TEST(test_pg_sql_failed_record_changes_no_version)
{
	struct buf b = BUF_INIT;
	struct migrate_record rec;
	const char *const rm[] = { "a" };
	const char *const add[] = { "b" };

	memset(&rec, 0, sizeof(rec));
	rec.revision = "b";
	rec.direction = MIGRATE_DOWN;
	rec.operation = "downgrade";
	rec.remove_heads = rm;
	rec.n_remove = 1;
	rec.add_heads = add;
	rec.n_add = 1;
	rec.success = 0;
	migrate__pg_bookkeeping(&b, &names, &rec, MIGRATE_PG_TIMING_RECORD);
	/* no version table change; the row names its version table */
	ck_assert_ptr_null(strstr(b.data, "\"alembic_version\""));
	ck_assert_ptr_nonnull(strstr(b.data, "'b', 'down', 'downgrade', ''"));
	ck_assert_ptr_nonnull(strstr(b.data, "false, '', 'alembic_version');"));
	ck_assert(strncmp(b.data, "INSERT INTO ", 12) == 0);
	buf_free(&b);
}

END_TEST

START_TEST(test_pg_sql_dollar_tag_avoids_names)
{
	struct migrate_pg_names n = { NULL, "t$migrate$", "l$migrate1$", NULL };
	struct buf b = BUF_INIT;

	migrate__pg_ensure_tables(&b, &n, false);
	ck_assert(strncmp(b.data, "DO $migrate2$\n", 14) == 0);
	ck_assert_ptr_nonnull(strstr(b.data, "END\n$migrate2$;\n"));
	buf_free(&b);
}

END_TEST

/* Alembic's "<table>_pkc", unless PostgreSQL would cut it to 63 bytes
 * (onto the table's own name): then the table part is shortened, on a
 * UTF-8 character boundary, as PostgreSQL names its own constraints. */
START_TEST(test_pg_sql_pkey_name_fits)
{
	char t63[64], want[64], utf[64];
	struct migrate_pg_names n = { NULL, t63, "migrate_log", NULL };
	struct buf b = BUF_INIT;
	int i;

	memset(t63, 'v', 63);
	t63[63] = '\0';
	memset(want, 'v', 59);
	memcpy(want + 59, "_pkc", 5);
	migrate__pg_ensure_tables(&b, &n, false);
	ck_assert_msg(strstr(b.data, "CONSTRAINT \"") != NULL, "%s", b.data);
	ck_assert_msg(strstr(b.data, want) != NULL, "%s", b.data);
	buf_free(&b);

	/* 31 two-byte characters and one byte: 63 bytes; the cut at 59
	 * bytes falls inside a character and moves back to 58. */
	for (i = 0; i < 31; i++)
		memcpy(utf + 2 * i, "\xc3\xa9", 2);
	utf[62] = 'x';
	utf[63] = '\0';
	n.version_table = utf;
	b = (struct buf)BUF_INIT;
	migrate__pg_ensure_tables(&b, &n, false);
	memcpy(want, utf, 58);
	memcpy(want + 58, "_pkc\"", 6);
	ck_assert_msg(strstr(b.data, want) != NULL, "%s", b.data);
	buf_free(&b);

	n.version_table = "alembic_version";
	b = (struct buf)BUF_INIT;
	migrate__pg_ensure_tables(&b, &n, false);
	ck_assert_ptr_nonnull(strstr(b.data, "\"alembic_version_pkc\""));
	buf_free(&b);
}

END_TEST

/* A name PostgreSQL would cut is refused before anything is written. */
START_TEST(test_script_refuses_long_names)
{
	struct migrate_registry *reg = make_registry();
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	const char *err = NULL;
	char t64[65];
	int rc;
	char *s;

	memset(t64, 's', 64);
	t64[64] = '\0';
	o.schema = t64;
	s = render(reg, MIGRATE_UP, NULL, "001", &o, &rc, &err);
	ck_assert_int_eq(rc, MIGRATE_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "63 bytes") != NULL, "%s", err);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_pg_sql_step_layout)
{
	struct buf b = BUF_INIT;
	struct migrate_backend_step st;
	struct migrate_pg_step_layout lay;
	struct migrate_pg_step_opts o;
	struct migrate_record rec;
	const char *const rm[] = { "w" };
	const char *const add[] = { "x" };

	memset(&rec, 0, sizeof(rec));
	rec.revision = "x";
	rec.direction = MIGRATE_UP;
	rec.operation = "upgrade";
	rec.remove_heads = rm;
	rec.n_remove = 1;
	rec.add_heads = add;
	rec.n_add = 1;
	rec.success = 1;
	st.sql = "SELECT 1 -- c";
	st.lock_timeout_ms = 5000;
	st.statement_timeout_ms = 0;
	st.record = &rec;
	st.in_transaction = 0;
	memset(&o, 0, sizeof(o));
	o.settings = true;
	o.bookkeeping = true;
	o.timing = MIGRATE_PG_TIMING_MESSAGE;
	migrate__pg_step(&b, &names, &st, &o, &lay);
	/* BEGIN and two plain SET LOCAL, no PL/pgSQL anywhere */
	ck_assert_uint_eq(lay.n_before, 3);
	ck_assert(lay.has_commit);
	ck_assert_str_eq(
		b.data, "BEGIN;\nSET LOCAL lock_timeout = '5000ms';\n"
			"SET LOCAL statement_timeout = '0ms';\n"
			"SELECT 1 -- c\n;\nWITH migrate_h1 AS (UPDATE "
			"\"public\".\"alembic_version\" SET "
			"version_num = 'x' WHERE version_num = 'w' "
			"RETURNING 1)\nINSERT INTO \"public\"."
			"\"migrate_log\" (id, revision, direction, "
			"operation, checksum, started_at, duration_ms, "
			"success, error, version_table)\nVALUES (DEFAULT, 'x', "
			"'up', 'upgrade', "
			"'',\n\tstatement_timestamp(), 1000 * "
			"extract(epoch FROM clock_timestamp() - "
			"statement_timestamp()),\n\t(CASE WHEN (SELECT "
			"count(*) FROM migrate_h1) <> 1 THEN "
			"'libmigrate: version table "
			"\"public\".\"alembic_version\" does not hold "
			"w: the database was changed by another "
			"migration or tool' ELSE 'true' END)::boolean, "
			"'', 'alembic_version');\nCOMMIT;\n");
	ck_assert(strncmp(b.data + lay.sql_offset, "SELECT 1 -- c\n;\n",
			  strlen("SELECT 1 -- c\n;\n")) == 0);
	buf_free(&b);

	/* in the caller's transaction, the tables first, no timeouts, no
	 * bookkeeping */
	st.in_transaction = 1;
	o.ensure_tables = true;
	o.settings = false;
	o.bookkeeping = false;
	migrate__pg_step(&b, &names, &st, &o, &lay);
	ck_assert_uint_eq(lay.n_before, 1);
	ck_assert(!lay.has_commit);
	ck_assert(strncmp(b.data, "DO $migrate$", 12) == 0);
	ck_assert_str_eq(b.data + lay.sql_offset, "SELECT 1 -- c\n;\n");
	buf_free(&b);

	/* online: one simple query is one transaction, the timeouts one
	 * SELECT */
	st.in_transaction = 0;
	o.ensure_tables = false;
	o.settings = true;
	o.settings_select = true;
	o.implicit_txn = true;
	o.bookkeeping = false;
	migrate__pg_step(&b, &names, &st, &o, &lay);
	ck_assert_uint_eq(lay.n_before, 1);
	ck_assert(!lay.has_commit);
	ck_assert_str_eq(b.data, "SELECT set_config('lock_timeout', '5000ms', "
				 "true), set_config('statement_timeout', "
				 "'0ms', true);\nSELECT 1 -- c\n;\n");
	buf_free(&b);
	o.settings_select = false;
	o.implicit_txn = false;
	st.in_transaction = 1;

	/* a negative timeout writes no SET */
	st.lock_timeout_ms = -1;
	o.ensure_tables = false;
	o.settings = true;
	migrate__pg_step(&b, &names, &st, &o, &lay);
	ck_assert_uint_eq(lay.n_before, 1);
	ck_assert_str_eq(b.data, "SET LOCAL statement_timeout = '0ms';\n"
				 "SELECT 1 -- c\n;\n");
	buf_free(&b);
}

END_TEST

START_TEST(test_pg_sql_read_state_read_only)
{
	struct buf b = BUF_INIT;
	const char *want = "SET TRANSACTION READ ONLY;\nSELECT version_num "
			   "FROM \"public\".\"alembic_version\";\n";

	migrate__pg_read_state(&b, &names, true, false);
	ck_assert(strncmp(b.data, want, strlen(want)) == 0);
	ck_assert_uint_eq(count(b.data, ";\n"), 3);
	ck_assert_ptr_null(strstr(b.data, "CREATE"));
	ck_assert_ptr_null(strstr(b.data, "lock"));
	buf_free(&b);
}

END_TEST

START_TEST(test_pg_sql_numbers_ignore_locale)
{
	struct buf b = BUF_INIT;
	struct migrate_record rec;

	/* A decimal-comma locale. CI generates de_DE.UTF-8 (.ci/run, make
	 * deps-test) and sets MIGRATE_TEST_LOCALE_REQUIRED, so there a missing
	 * locale fails; elsewhere the test says plainly that it is skipped
	 * instead of passing in the C locale, where it proves nothing. */
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") &&
	    !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		ck_assert_msg(
			!getenv("MIGRATE_TEST_LOCALE_REQUIRED"),
			"no de_DE.UTF-8 or fr_FR.UTF-8 locale: run locale-gen");
		fprintf(stderr,
			"SKIP test_pg_sql_numbers_ignore_locale: no de_DE.UTF-8 or fr_FR.UTF-8 locale here (locale-gen de_DE.UTF-8)\n");
		return;
	}
	ck_assert_str_eq(localeconv()->decimal_point, ",");
	memset(&rec, 0, sizeof(rec));
	rec.revision = "x";
	rec.operation = "stamp";
	rec.started_at = 12.5;
	rec.duration_ms = 0.125;
	rec.success = 1;
	migrate__pg_bookkeeping(&b, &names, &rec, MIGRATE_PG_TIMING_RECORD);
	setlocale(LC_NUMERIC, "C");
	ck_assert_ptr_nonnull(strstr(b.data, "to_timestamp(12.500000), 0.125"));
	buf_free(&b);
}

END_TEST

START_TEST(test_pg_sql_lock_key_computed)
{
	/* The values of the server's expression (migrate__pg_lock_key()),
	 * SELECT ('x' || substr(encode(sha256(convert_to('public' || '.' ||
	 * 'alembic_version', 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint:
	 * negative when the first bit is set, positive otherwise. The
	 * pg_contract suite compares them with a live server too. */
	struct migrate_pg_names n = { "public", "alembic_version", "l", NULL };
	struct buf b = BUF_INIT;
	long long k = 0;

	ck_assert(migrate__pg_lock_key_compute(&k, &n));
	ck_assert(k == -7420887708451646878LL);
	n.version_table = "my_versions";
	ck_assert(migrate__pg_lock_key_compute(&k, &n));
	ck_assert(k == 6270854421873890622LL);
	migrate__pg_lock_key_value(&b, &n);
	ck_assert_str_eq(b.data, "'6270854421873890622'::bigint");
	buf_free(&b);

	/* Not ASCII, or no schema known: the server computes it. */
	n.schema = "sch\xc3\xa9ma";
	ck_assert(!migrate__pg_lock_key_compute(&k, &n));
	migrate__pg_lock_key_value(&b, &n);
	ck_assert_ptr_nonnull(strstr(b.data, "sha256(convert_to("));
	buf_free(&b);
	n.schema = NULL;
	ck_assert(!migrate__pg_lock_key_compute(&k, &n));
	migrate__pg_lock_key_value(&b, &n);
	ck_assert_ptr_nonnull(strstr(b.data, "current_schema()"));
	buf_free(&b);
}

END_TEST

Suite *
script_suite(void)
{
	Suite *s = suite_create("script");

	add_test(s, test_script_upgrade_structure);
	add_test(s, test_script_downgrade_from_heads);
	add_test(s, test_script_schema_and_names_quoted);
	add_test(s, test_script_single_transaction);
	add_test(s, test_script_refuses_c_revisions);
	add_test(s, test_script_bad_arguments);
	add_test(s, test_script_empty_plan);
	add_test(s, test_pg_sql_bookkeeping_merge);
	add_test(s, test_pg_sql_failed_record_changes_no_version);
	add_test(s, test_pg_sql_log_ids_and_error_length);
	add_test(s, test_pg_sql_dollar_tag_avoids_names);
	add_test(s, test_pg_sql_step_layout);
	add_test(s, test_pg_sql_pkey_name_fits);
	add_test(s, test_script_refuses_long_names);
	add_test(s, test_pg_sql_read_state_read_only);
	add_test(s, test_pg_sql_numbers_ignore_locale);
	add_test(s, test_pg_sql_lock_key_computed);
	return s;
}
