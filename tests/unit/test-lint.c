/* SPDX-License-Identifier: MIT */
/*
 * The lint component (libmigrate/lint/): each rule fires on a table that
 * exists before the revision (created by its ancestor, revision 001), does
 * not fire on the same statement against a table created in the same
 * revision, is waived by a comment with a reason, and names the exact
 * FILE:LINE:COL; syntax errors map libpg_query's cursor to the file like
 * the engine maps a server's error position.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate.h>

#include "migrate-lint.h"
#include "suites.h"
#include "test-common.h"

/* Revision 001 creates t; the SQL of revision 002 starts on file line 8. */
static const char base_file[] =
	"-- base\n--\n-- Revision ID: 001\n-- Revises:\n-- Create Date: 2026-01-01\n\n-- migrate:upgrade\nCREATE TABLE t (id int PRIMARY KEY, name varchar(10), v text,\n    n numeric(10,2), CONSTRAINT t_v_nn CHECK (v IS NOT NULL));\n\n-- migrate:downgrade\nDROP TABLE t;\n";

#define FIRST_LINE 8

static struct migrate_registry *
registry_with(const char *up, const char *down, const char *opts)
{
	struct migrate_registry *reg;
	char file[8192];
	int n;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	assert_reg_ok(reg,
		      migrate_registry_parse(reg, "001_base.sql", base_file,
					     strlen(base_file)));
	n = snprintf(
		file, sizeof(file),
		"-- under test\n--\n-- Revision ID: 002\n-- Revises: 001\n-- Create Date: 2026-01-01\n\n-- migrate:upgrade%s%s\n%s\n%s%s\n",
		opts ? " " : "", opts ? opts : "", up,
		down ? "\n-- migrate:downgrade\n" : "", down ? down : "");
	ck_assert(n > 0 && (size_t)n < sizeof(file));
	assert_reg_ok(reg, migrate_registry_parse(reg, "002_test.sql", file,
						  (size_t)n));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	return reg;
}

/* Lint revision 002 only (001 is still read for its facts). */
static struct migrate_lint *
lint_002(struct migrate_registry *reg)
{
	const struct migrate_revision *rev = NULL;
	struct migrate_lint *l = NULL;

	ck_assert_int_eq(migrate_registry_find(&rev, reg, "002"), 0);
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_lint_run(l, reg, &rev, 1, 0), 0);
	return l;
}

static const struct migrate_lint_finding *
find(const struct migrate_lint *l, const char *rule)
{
	size_t i;

	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		if (strcmp(f->rule->id, rule) == 0)
			return f;
	}
	return NULL;
}

static void
dump(const struct migrate_lint *l)
{
	size_t i;

	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		fprintf(stderr, "  %s:%zu:%zu %s: %s [%s]%s\n",
			f->file ? f->file : "-", f->line, f->column,
			f->rule->id, f->message, f->statement,
			f->waiver ? " (waived)" : "");
	}
}

/* One rule case: @fire (line @line, column @col of revision 002's file)
 * fires @rule on table t of revision 001; @quiet, the same statement on a
 * table created in the same revision, does not. */
struct rule_case {
	const char *rule;
	const char *fire;
	size_t line, col;
	const char *quiet;
	const char *opts; /* section options of the firing case */
};

static const struct rule_case cases[] = {
	{ "require-concurrent-index-creation",
	  "SELECT 1;\n  CREATE INDEX t_name ON t (name);", FIRST_LINE + 1, 3,
	  "CREATE TABLE t2 (name text);\nCREATE INDEX t2_name ON t2 (name);",
	  NULL },
	{ "require-concurrent-index-deletion", "DROP INDEX t_pkey;", FIRST_LINE,
	  1, "CREATE INDEX CONCURRENTLY i2 ON t (v);\nDROP INDEX i2;",
	  "transaction=false" },
	{ "transaction-incompatible", "CREATE INDEX CONCURRENTLY t_v ON t (v);",
	  FIRST_LINE, 1, "CREATE INDEX CONCURRENTLY t_v ON t (v);", NULL },
	{ "mixed-non-transactional",
	  "UPDATE t SET v = 'x' WHERE id = 1;\nCREATE INDEX CONCURRENTLY t_v ON t (v);",
	  FIRST_LINE + 1, 1, "CREATE INDEX CONCURRENTLY t_v ON t (v);",
	  "transaction=false" },
	{ "adding-required-field", "ALTER TABLE t ADD COLUMN c int NOT NULL;",
	  FIRST_LINE, 1,
	  "CREATE TABLE t2 (id int);\nALTER TABLE t2 ADD COLUMN c int NOT NULL;\nALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;",
	  NULL },
	{ "adding-field-with-default",
	  "ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid();",
	  FIRST_LINE, 1,
	  "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();\nALTER TABLE t ADD COLUMN d text DEFAULT 'x'::text;",
	  NULL },
	{ "changing-column-type",
	  "ALTER TABLE t ALTER COLUMN v TYPE int USING v::int;", FIRST_LINE, 1,
	  "ALTER TABLE t ALTER COLUMN name TYPE varchar(20);\nALTER TABLE t ALTER COLUMN n TYPE numeric(12,2);\nALTER TABLE t ALTER COLUMN name TYPE text;",
	  NULL },
	{ "adding-not-nullable-field",
	  "ALTER TABLE t ALTER COLUMN name SET NOT NULL;", FIRST_LINE, 1,
	  "ALTER TABLE t ALTER COLUMN v SET NOT NULL;\nCREATE TABLE t2 (a int);\nALTER TABLE t2 ALTER a SET NOT NULL;",
	  NULL },
	{ "constraint-missing-not-valid",
	  "ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0);", FIRST_LINE, 1,
	  "ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0) NOT VALID;", NULL },
	{ "adding-foreign-key-constraint",
	  "CREATE TABLE p (id int PRIMARY KEY);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES p;",
	  FIRST_LINE + 1, 1,
	  "CREATE TABLE p (id int PRIMARY KEY);\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES p NOT VALID;",
	  NULL },
	{ "disallowed-unique-constraint",
	  "ALTER TABLE t ADD CONSTRAINT u UNIQUE (name);", FIRST_LINE, 1,
	  "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_name_u;", NULL },
	{ "ban-drop-column", "ALTER TABLE t DROP COLUMN v;", FIRST_LINE, 1,
	  "ALTER TABLE t ADD COLUMN w int;\nALTER TABLE t DROP COLUMN w;",
	  NULL },
	{ "ban-drop-table", "DROP TABLE t;", FIRST_LINE, 1,
	  "CREATE TABLE t2 (a int);\nDROP TABLE t2;", NULL },
	{ "renaming-column", "ALTER TABLE t RENAME COLUMN v TO w;", FIRST_LINE,
	  1,
	  "ALTER TABLE t ADD COLUMN w int;\nALTER TABLE t RENAME COLUMN w TO w2;",
	  NULL },
	{ "renaming-table", "ALTER TABLE t RENAME TO t_old;", FIRST_LINE, 1,
	  "CREATE TABLE t2 (a int);\nALTER TABLE t2 RENAME TO t3;", NULL },
	{ "dml-without-where", "DELETE FROM t;", FIRST_LINE, 1,
	  "CREATE TABLE t2 (a int);\nUPDATE t2 SET a = 1;\nDELETE FROM t WHERE id < 0;",
	  NULL },
	{ "ban-truncate", "TRUNCATE t;", FIRST_LINE, 1,
	  "CREATE TABLE t2 (a int);\nTRUNCATE t2;", NULL },
	{ "session-timeout", "SET statement_timeout = '1min';", FIRST_LINE, 1,
	  "SET LOCAL statement_timeout = '1min';", NULL },
	{ "transaction-nesting", "SELECT 1;\nCOMMIT;", FIRST_LINE + 1, 1,
	  "SELECT 1;", NULL },
};

/* The firing case fires once, at its exact place, with the statement. */
START_TEST(test_lint_rule_fires)
{
	const struct rule_case *rc = &cases[_i];
	struct migrate_registry *reg =
		registry_with(rc->fire, "SELECT 1;", rc->opts);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, rc->rule);

	if (!f)
		dump(l);
	ck_assert_msg(f, "%s did not fire on: %s", rc->rule, rc->fire);
	ck_assert_str_eq(f->file, "002_test.sql");
	ck_assert_str_eq(f->revision, "002");
	ck_assert_uint_eq(f->line, rc->line);
	ck_assert_uint_eq(f->column, rc->col);
	ck_assert(f->statement[0] != '\0');
	ck_assert(f->message[0] != '\0');
	ck_assert_ptr_null(f->waiver);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* The same statement on a table of this revision (or its safe form)
 * does not fire. For transaction-incompatible the quiet case is the same
 * statement in a transaction=false section. */
START_TEST(test_lint_rule_quiet)
{
	const struct rule_case *rc = &cases[_i];
	bool notx = strcmp(rc->rule, "transaction-incompatible") == 0 ||
		    strcmp(rc->rule, "mixed-non-transactional") == 0 ||
		    strcmp(rc->rule, "require-concurrent-index-deletion") == 0;
	struct migrate_registry *reg = registry_with(
		rc->quiet, "SELECT 1;", notx ? "transaction=false" : NULL);
	struct migrate_lint *l = lint_002(reg);

	if (find(l, rc->rule))
		dump(l);
	ck_assert_msg(!find(l, rc->rule), "%s fired on: %s", rc->rule,
		      rc->quiet);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* A waiver comment with a reason, just above the statement, waives it;
 * the finding is kept (with its reason) but no longer counts. */
START_TEST(test_lint_rule_waived)
{
	const struct rule_case *rc = &cases[_i];
	char up[2048];
	struct migrate_registry *reg;
	struct migrate_lint *l;
	const struct migrate_lint_finding *f;
	const char *last = strrchr(rc->fire, '\n');
	size_t head = last ? (size_t)(last - rc->fire) + 1 : 0;

	/* The comment goes on the line above the firing statement. */
	snprintf(up, sizeof(up),
		 "%.*s-- migrate:lint ignore=%s -- reviewed: table is tiny\n%s",
		 (int)head, rc->fire, rc->rule, rc->fire + head);
	reg = registry_with(up, "SELECT 1;", rc->opts);
	l = lint_002(reg);
	f = find(l, rc->rule);
	if (!f || !f->waiver)
		dump(l);
	ck_assert_msg(f && f->waiver, "%s not waived in: %s", rc->rule, up);
	ck_assert_str_eq(f->waiver, "reviewed: table is tiny");
	ck_assert_uint_eq(migrate_lint_count_severity(l, f->severity), 0);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* VALIDATE CONSTRAINT in the transaction that added the constraint NOT
 * VALID holds the ADD's lock during the scan; in a later revision (or a
 * transaction=false section) it does not. */
START_TEST(test_lint_validate_same_transaction)
{
	static const char up[] =
		"ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;";
	struct migrate_registry *reg = registry_with(up, "SELECT 1;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f =
		find(l, "constraint-missing-not-valid");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, FIRST_LINE + 1);
	ck_assert_ptr_nonnull(strstr(f->message, "VALIDATE CONSTRAINT c"));
	migrate_lint_free(l);
	migrate_registry_free(reg);

	reg = registry_with(up, "SELECT 1;", "transaction=false");
	l = lint_002(reg);
	ck_assert_ptr_null(find(l, "constraint-missing-not-valid"));
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_lint_waiver_needs_reason)
{
	struct migrate_registry *reg = registry_with(
		"-- migrate:lint ignore=ban-truncate\nTRUNCATE t;", "SELECT 1;",
		NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, "waiver-without-reason");
	const struct migrate_lint_finding *t = find(l, "ban-truncate");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, FIRST_LINE);
	ck_assert_uint_eq(f->column, 1);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(t->waiver);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_lint_waiver_unknown_rule)
{
	struct migrate_registry *reg = registry_with(
		"TRUNCATE t; -- migrate:lint ignore=ban-trunc -- typo",
		"SELECT 1;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, "unknown-rule");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, FIRST_LINE);
	ck_assert_uint_eq(f->column, 13);
	ck_assert_ptr_nonnull(strstr(f->message, "ban-trunc"));
	ck_assert_ptr_null(find(l, "ban-truncate")->waiver);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* A waiver on the same line after the ';' counts for that statement, not
 * for the next one. */
START_TEST(test_lint_waiver_trailing)
{
	struct migrate_registry *reg = registry_with(
		"TRUNCATE t; -- migrate:lint ignore=ban-truncate -- empty\nDELETE FROM t;",
		"SELECT 1;", NULL);
	struct migrate_lint *l = lint_002(reg);

	ck_assert_str_eq(find(l, "ban-truncate")->waiver, "empty");
	ck_assert_ptr_null(find(l, "dml-without-where")->waiver);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* Syntax errors: libpg_query's cursor (characters) mapped to the file,
 * multi-byte characters before it counted once. */
START_TEST(test_lint_syntax_position)
{
	struct migrate_registry *reg = registry_with(
		"SELECT 'é';\n  SELECT 'ü', 'ß' FRM x;", "SELECT 1;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, "syntax-error");

	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->message, "syntax error at or near \"x\"");
	ck_assert_uint_eq(f->line, FIRST_LINE + 1);
	ck_assert_uint_eq(f->column, 23);
	ck_assert_int_eq(f->severity, MIGRATE_LINT_ERROR);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* Messages are one line even when a quoted identifier or the offending
 * token holds a line break (found by fuzz-lint). */
START_TEST(test_lint_message_one_line)
{
	struct migrate_registry *reg =
		registry_with("ALTER TABLE t RENAME TO \"a\nb\";",
			      "SELECT \"x\ny\" \"z\nw\" \"e\nf\";", NULL);
	struct migrate_lint *l = lint_002(reg);
	size_t i;

	ck_assert_ptr_nonnull(find(l, "renaming-table"));
	ck_assert_ptr_nonnull(find(l, "syntax-error"));
	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		ck_assert_msg(!strchr(f->message, '\n'), "message: %s",
			      f->message);
		ck_assert_msg(!strchr(f->statement, '\n'), "statement: %s",
			      f->statement);
	}
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* The downgrade section is parsed too, at its own lines. */
START_TEST(test_lint_syntax_downgrade)
{
	struct migrate_registry *reg =
		registry_with("SELECT 1;", "DROP TABEL t;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, "syntax-error");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->direction, MIGRATE_DOWN);
	/* upgrade on 8, blank 9, marker 10, downgrade SQL on 11 */
	ck_assert_uint_eq(f->line, FIRST_LINE + 3);
	ck_assert_uint_eq(f->column, 6);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* Pre-flight entry: only the syntax error, no rules; C callbacks are
 * skipped. */
static int
noop_step(struct migrate *m, void *payload)
{
	(void)m;
	(void)payload;
	return 0;
}

START_TEST(test_lint_parse_section)
{
	struct migrate_registry *reg =
		registry_with("TRUNCATE t;\nSELEC 1;", NULL, NULL);
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const struct migrate_revision *rev = NULL;
	struct migrate_lint *l = NULL;

	def.id = "003";
	def.parents = (const char *[]){ "002" };
	def.n_parents = 1;
	def.upgrade_fn = noop_step;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "002"), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_UP), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_DOWN), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "003"), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_UP), 0);
	ck_assert_uint_eq(migrate_lint_count(l), 1);
	ck_assert_str_eq(migrate_lint_at(l, 0)->rule->id, "syntax-error");
	ck_assert_uint_eq(migrate_lint_at(l, 0)->line, FIRST_LINE + 1);
	migrate_lint_free(l);

	/* The text the caller read (the pre-flight's way): its error at the
	 * section's lines; NULL text adds nothing. */
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "002"), 0);
	ck_assert_int_eq(
		migrate_lint_parse_sql(l, rev, MIGRATE_UP,
				       "SELECT 1;\nSELECT 2;\nSELEC 3;"),
		0);
	ck_assert_int_eq(migrate_lint_parse_sql(l, rev, MIGRATE_DOWN, NULL), 0);
	ck_assert_uint_eq(migrate_lint_count(l), 1);
	ck_assert_str_eq(migrate_lint_at(l, 0)->rule->id, "syntax-error");
	ck_assert_uint_eq(migrate_lint_at(l, 0)->line, FIRST_LINE + 2);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* The pre-flight policy (migrate_lint_preflight(), its one owner):
 * PostgreSQL 15's parser refuses a plan below server_version_num 160000
 * (and for the offline script, version 0), and only warns from 160000 on;
 * the exact lines it reports. */
struct lines {
	char text[4096];
	int n;
};

static void
collect_line(const char *line, void *payload)
{
	struct lines *out = payload;
	size_t len = strlen(out->text);

	snprintf(out->text + len, sizeof(out->text) - len, "%s\n", line);
	out->n++;
}

static const struct preflight_case {
	int server_version;
	int verdict;
	const char *text;
} preflight_cases[] = {
	{ 150000, MIGRATE_LINT_PREFLIGHT_REFUSE,
	  "002_test.sql:8:1: syntax error at or near \"SELEC\"\n"
	  "003_more.sql:9:8: syntax error at or near \"TABEL\"\n"
	  "nothing applied: 2 pending sections do not parse (--no-parse skips this check)\n" },
	{ 159999, MIGRATE_LINT_PREFLIGHT_REFUSE,
	  "002_test.sql:8:1: syntax error at or near \"SELEC\"\n"
	  "003_more.sql:9:8: syntax error at or near \"TABEL\"\n"
	  "nothing applied: 2 pending sections do not parse (--no-parse skips this check)\n" },
	{ 0, MIGRATE_LINT_PREFLIGHT_REFUSE,
	  "002_test.sql:8:1: syntax error at or near \"SELEC\"\n"
	  "003_more.sql:9:8: syntax error at or near \"TABEL\"\n"
	  "no script written: 2 sections do not parse (--no-parse skips this check)\n" },
	{ 160000, MIGRATE_LINT_PREFLIGHT_WARN,
	  "warning: 002_test.sql:8:1: syntax error at or near \"SELEC\" (PostgreSQL 15's parser; the server is newer: going on)\n"
	  "warning: 003_more.sql:9:8: syntax error at or near \"TABEL\" (PostgreSQL 15's parser; the server is newer: going on)\n" },
	{ 170000, MIGRATE_LINT_PREFLIGHT_WARN,
	  "warning: 002_test.sql:8:1: syntax error at or near \"SELEC\" (PostgreSQL 15's parser; the server is newer: going on)\n"
	  "warning: 003_more.sql:9:8: syntax error at or near \"TABEL\" (PostgreSQL 15's parser; the server is newer: going on)\n" },
};

static const char more_file[] =
	"-- more\n--\n-- Revision ID: 003\n-- Revises: 002\n-- Create Date: 2026-01-01\n\n-- migrate:upgrade\nSELECT 1;\nCREATE TABEL u (id int);\n";

START_TEST(test_lint_preflight_policy)
{
	const struct preflight_case *pc = &preflight_cases[_i];
	struct migrate_registry *reg = registry_with("SELEC 1;", NULL, NULL);
	const struct migrate_revision *rev = NULL;
	struct migrate_lint *l = NULL;
	struct lines got = { "", 0 };

	assert_reg_ok(reg,
		      migrate_registry_parse(reg, "003_more.sql", more_file,
					     strlen(more_file)));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "002"), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_UP), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "003"), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_UP), 0);
	ck_assert_int_eq(migrate_lint_preflight(l, pc->server_version,
						collect_line, &got),
			 pc->verdict);
	ck_assert_str_eq(got.text, pc->text);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* A plan that parses: nothing reported, whatever the server. */
START_TEST(test_lint_preflight_clean)
{
	struct migrate_registry *reg = registry_with("SELECT 1;", NULL, NULL);
	const struct migrate_revision *rev = NULL;
	struct migrate_lint *l = NULL;
	struct lines got = { "", 0 };
	const int versions[] = { 0, 150000, 160000, 170000 };
	size_t i;

	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "002"), 0);
	ck_assert_int_eq(migrate_lint_parse_section(l, rev, MIGRATE_UP), 0);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		ck_assert_int_eq(migrate_lint_preflight(l, versions[i],
							collect_line, &got),
				 MIGRATE_LINT_PREFLIGHT_CLEAN);
	ck_assert_int_eq(got.n, 0);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_lint_irreversible_and_incomplete_downgrade)
{
	struct migrate_registry *reg = registry_with(
		"CREATE TABLE a (x int);\nCREATE TABLE b (x int);",
		"DROP TABLE a;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f = find(l, "incomplete-downgrade");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->message, "\"b\""));
	ck_assert_ptr_null(find(l, "irreversible"));
	/* The downgrade drops a table of this revision: no ban-drop-table. */
	ck_assert_ptr_null(find(l, "ban-drop-table"));
	migrate_lint_free(l);
	migrate_registry_free(reg);

	reg = registry_with("CREATE TABLE a (x int);", NULL, NULL);
	l = lint_002(reg);
	f = find(l, "irreversible");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->severity, MIGRATE_LINT_INFO);
	ck_assert_ptr_null(find(l, "incomplete-downgrade"));
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* CREATE TABLE IF NOT EXISTS of a table an ancestor created creates
 * nothing: the index on it still blocks writes. */
START_TEST(test_lint_create_if_not_exists)
{
	struct migrate_registry *reg = registry_with(
		"CREATE TABLE IF NOT EXISTS t (id int);\nCREATE INDEX t_id ON t (id);\nCREATE TABLE IF NOT EXISTS n (id int);\nCREATE INDEX n_id ON n (id);",
		"DROP TABLE n;", NULL);
	struct migrate_lint *l = lint_002(reg);
	const struct migrate_lint_finding *f =
		find(l, "require-concurrent-index-creation");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->line, FIRST_LINE + 1);
	ck_assert_uint_eq(migrate_lint_count_severity(l, MIGRATE_LINT_ERROR),
			  1);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

static void
add_file(struct migrate_registry *reg,
	 const char *id,
	 const char *parents,
	 const char *up)
{
	char name[64], file[2048];
	int n = snprintf(
		file, sizeof(file),
		"-- %s\n--\n-- Revision ID: %s\n-- Revises: %s\n\n-- migrate:upgrade\n%s\n\n-- migrate:downgrade\nSELECT 1;\n",
		id, id, parents, up);

	ck_assert(n > 0 && (size_t)n < sizeof(file));
	snprintf(name, sizeof(name), "%s.sql", id);
	assert_reg_ok(reg, migrate_registry_parse(reg, name, file, (size_t)n));
}

/* Facts follow the graph, not the file order: a merge sees what both of
 * its parents did (the old type of a column), a sibling branch does not. */
START_TEST(test_lint_graph_facts)
{
	struct migrate_registry *reg;
	struct migrate_lint *l = NULL;
	size_t i, n_type = 0;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	add_file(reg, "a1", "", "CREATE TABLE t (id int);");
	add_file(reg, "b1", "a1", "CREATE TABLE u (name varchar(10));");
	add_file(reg, "c1", "a1",
		 "ALTER TABLE u ALTER COLUMN name TYPE varchar(20);");
	add_file(reg, "d1", "b1, c1",
		 "ALTER TABLE u ALTER COLUMN name TYPE varchar(30);");
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_lint_run(l, reg, NULL, 0, 0), 0);
	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		if (strcmp(f->rule->id, "changing-column-type") != 0)
			continue;
		/* c1 does not descend from b1: the old type is unknown. */
		ck_assert_str_eq(f->revision, "c1");
		n_type++;
	}
	ck_assert_uint_eq(n_type, 1);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

/* Every rule has an id, a reason, a fix and an entry in docs/lint.md with
 * its severity. */
START_TEST(test_lint_rule_table)
{
	size_t n, i, len;
	const struct migrate_lint_rule *r = migrate_lint_rules(&n);
	const char *src = getenv("SRCDIR");
	char path[4096], *doc;
	FILE *f;

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/docs/lint.md", src);
	f = fopen(path, "r");
	ck_assert_msg(f, "cannot open %s", path);
	doc = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(doc);
	len = fread(doc, 1, (1 << 20) - 1, f);
	fclose(f);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_ge(n, 20);
	for (i = 0; i < n; i++) {
		char entry[128];

		ck_assert(r[i].id[0] && r[i].reason[0] && r[i].fix[0]);
		ck_assert_ptr_eq(migrate_lint_rule_find(r[i].id), &r[i]);
		snprintf(entry, sizeof(entry), "%s (%s)", r[i].id,
			 migrate_lint_severity_name(r[i].severity));
		ck_assert_msg(strstr(doc, entry), "docs/lint.md lacks '%s'",
			      entry);
	}
	free(doc);
	ck_assert_ptr_null(migrate_lint_rule_find("no-such-rule"));
}

END_TEST

/* The Mirage baseline lints clean. */
START_TEST(test_lint_mirage_baseline)
{
	struct migrate_registry *reg;
	struct migrate_lint *l = NULL;
	char path[4096];
	const char *src = getenv("SRCDIR");

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/revisions", src);
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, path));
	ck_assert_int_eq(migrate_lint_new(&l), 0);
	ck_assert_int_eq(migrate_lint_run(l, reg, NULL, 0, 0), 0);
	if (migrate_lint_count(l))
		dump(l);
	ck_assert_uint_eq(migrate_lint_count(l), 0);
	migrate_lint_free(l);
	migrate_registry_free(reg);
}

END_TEST

Suite *
lint_suite(void)
{
	Suite *s = suite_create("lint");
	int n = (int)(sizeof(cases) / sizeof(cases[0]));
	TCase *tc;

	tc = tcase_create("test_lint_rule_fires");
	tcase_add_loop_test(tc, test_lint_rule_fires, 0, n);
	suite_add_tcase(s, tc);
	tc = tcase_create("test_lint_rule_quiet");
	tcase_add_loop_test(tc, test_lint_rule_quiet, 0, n);
	suite_add_tcase(s, tc);
	tc = tcase_create("test_lint_rule_waived");
	tcase_add_loop_test(tc, test_lint_rule_waived, 0, n);
	suite_add_tcase(s, tc);
	add_test(s, test_lint_validate_same_transaction);
	add_test(s, test_lint_waiver_needs_reason);
	add_test(s, test_lint_waiver_unknown_rule);
	add_test(s, test_lint_waiver_trailing);
	add_test(s, test_lint_syntax_position);
	add_test(s, test_lint_message_one_line);
	add_test(s, test_lint_syntax_downgrade);
	add_test(s, test_lint_parse_section);
	tc = tcase_create("test_lint_preflight_policy");
	tcase_add_loop_test(
		tc, test_lint_preflight_policy, 0,
		(int)(sizeof(preflight_cases) / sizeof(preflight_cases[0])));
	suite_add_tcase(s, tc);
	add_test(s, test_lint_preflight_clean);
	add_test(s, test_lint_irreversible_and_incomplete_downgrade);
	add_test(s, test_lint_graph_facts);
	add_test(s, test_lint_create_if_not_exists);
	add_test(s, test_lint_rule_table);
	add_test(s, test_lint_mirage_baseline);
	return s;
}
