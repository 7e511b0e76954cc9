/* SPDX-License-Identifier: MIT */
/* Revision files: the parser, section options, and loading a directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "backend-memory.h"
#include "private.h"
#include "suites.h"
#include "test-common.h"

static const char sample[] = "-- Baseline: create all tables.\n"
			     "--\n"
			     "-- Revision ID: 001\n"
			     "-- Revises:\n"
			     "-- Create Date: 2026-01-31\n"
			     "\n"
			     "-- migrate:upgrade\n"
			     "CREATE TABLE t (id int);\n"
			     "\n"
			     "-- migrate:downgrade\n"
			     "DROP TABLE t;\n";

static struct migrate_registry *
new_reg(void)
{
	struct migrate_registry *reg = NULL;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	return reg;
}

static const struct migrate_revision *
get(struct migrate_registry *reg, const char *id)
{
	const struct migrate_revision *r = NULL;

	assert_reg_ok(reg, migrate_registry_find(&r, reg, id));
	return r;
}

/* Parse @text as the only revision of a fresh registry. */
static struct migrate_registry *
parse_one(const char *name, const char *text, size_t len)
{
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, migrate_registry_parse(reg, name, text, len));
	ck_assert_uint_eq(migrate_registry_count(reg), 1);
	return reg;
}

START_TEST(test_revfile_sample)
{
	struct migrate_registry *reg =
		parse_one("revisions/001_base.sql", sample, strlen(sample));
	const struct migrate_revision *r = get(reg, "001");

	ck_assert_str_eq(migrate_revision_id(r), "001");
	ck_assert_str_eq(migrate_revision_message(r),
			 "Baseline: create all tables.");
	ck_assert_str_eq(migrate_revision_create_date(r), "2026-01-31");
	ck_assert_str_eq(migrate_revision_file(r), "revisions/001_base.sql");
	ck_assert_uint_eq(migrate_revision_parent_count(r), 0);
	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 "CREATE TABLE t (id int);\n\n");
	ck_assert_str_eq(migrate_revision_downgrade_sql(r), "DROP TABLE t;\n");
	ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
	ck_assert_uint_eq(r->up.first_line, 8);
	ck_assert_uint_eq(r->down.first_line, 11);
	ck_assert(r->up.transactional);
	ck_assert(r->down.transactional);
	ck_assert_int_eq(r->up.lock_timeout_ms, -1);
	ck_assert_int_eq(r->up.statement_timeout_ms, -1);
	ck_assert_uint_eq(r->id_line, 3);
	ck_assert_uint_eq(r->revises_line, 4);
	ck_assert_uint_eq(strlen(migrate_revision_checksum(r)), 64);
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
	assert_reg_ok(reg, migrate_registry_validate(reg));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_merge)
{
	static const char f[] = "-- Merge the branches\n"
				"-- Revision ID: m1\n"
				"-- Revises:  a1 ,b_2,\tc3  \n"
				"-- migrate:upgrade\n"
				"SELECT 1;";
	struct migrate_registry *reg = parse_one("m1.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "m1");

	ck_assert_uint_eq(migrate_revision_parent_count(r), 3);
	ck_assert_str_eq(migrate_revision_parent(r, 0), "a1");
	ck_assert_str_eq(migrate_revision_parent(r, 1), "b_2");
	ck_assert_str_eq(migrate_revision_parent(r, 2), "c3");
	ck_assert_str_eq(migrate_revision_upgrade_sql(r), "SELECT 1;");
	/* no downgrade section: irreversible */
	ck_assert_int_eq(migrate_revision_is_reversible(r), 0);
	ck_assert_ptr_null(migrate_revision_downgrade_sql(r));
	ck_assert_str_eq(migrate_revision_create_date(r), "");
	migrate_registry_free(reg);
}

END_TEST

/* A merge needs no SQL and says so: empty=true on the sections. */
START_TEST(test_revfile_empty_marker)
{
	static const char f[] = "-- Merge a and b\n"
				"-- Revision ID: m1\n"
				"-- Revises: a, b\n"
				"-- migrate:upgrade empty=true\n"
				"-- (no SQL: a merge)\n"
				"\n"
				"-- migrate:downgrade empty=true\n";
	struct migrate_registry *reg = parse_one("m1.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "m1");

	ck_assert_uint_eq(migrate_revision_parent_count(r), 2);
	ck_assert_ptr_nonnull(migrate_revision_upgrade_sql(r));
	ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
	ck_assert(r->up.empty);
	ck_assert(r->down.empty);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_empty_downgrade)
{
	/* The second file ends on the marker, with no newline (found by the
	 * lint fuzzer): the empty section starts on the marker's line, not
	 * on a line the file does not have. */
	static const struct {
		const char *text;
		unsigned first_line;
	} files[] = {
		{ "-- Revision ID: 002\n-- Revises: 001\n"
		  "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n",
		  6 },
		{ "-- Revision ID: 002\n-- Revises: 001\n"
		  "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade",
		  5 },
	};

	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct migrate_registry *reg = parse_one(
			"002.sql", files[i].text, strlen(files[i].text));
		const struct migrate_revision *r = get(reg, "002");

		/* present but empty: a reversible no-op */
		ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
		ck_assert_str_eq(migrate_revision_downgrade_sql(r), "");
		ck_assert_str_eq(migrate_revision_message(r), "");
		ck_assert_uint_eq(r->down.first_line, files[i].first_line);
		migrate_registry_free(reg);
	}
}

END_TEST

START_TEST(test_revfile_downgrade_first)
{
	/* sections may come in either order */
	static const char f[] = "-- Revision ID: 002\n-- Revises: 001\n"
				"-- migrate:downgrade\nDROP TABLE t;\n"
				"-- migrate:upgrade\nCREATE TABLE t ();\n";
	struct migrate_registry *reg = parse_one("002.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "002");

	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 "CREATE TABLE t ();\n");
	ck_assert_str_eq(migrate_revision_downgrade_sql(r), "DROP TABLE t;\n");
	ck_assert_uint_eq(r->up.first_line, 6);
	ck_assert_uint_eq(r->down.first_line, 4);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_header_details)
{
	/* case-insensitive keys, blank lines and extra comments in the
	 * header, message after the fields, indented comments, "--x" */
	static const char f[] = "\n"
				"--revision id:abc\n"
				"   --  REVISES :  001  \n"
				"\n"
				"--\n"
				"-- Author: someone\n"
				"-- second comment\n"
				"\t-- migrate:upgrade\n"
				"  SELECT 1; -- trailing\n";
	struct migrate_registry *reg = parse_one("abc.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "abc");

	ck_assert_str_eq(migrate_revision_parent(r, 0), "001");
	/* "Author: someone" is not a field we know: it is the message */
	ck_assert_str_eq(migrate_revision_message(r), "Author: someone");
	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 "  SELECT 1; -- trailing\n");
	ck_assert_uint_eq(r->id_line, 2);
	ck_assert_uint_eq(r->revises_line, 3);
	ck_assert_uint_eq(r->up.first_line, 9);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_body_kept_exactly)
{
	/* comments, dollar quotes and odd white space survive byte for
	 * byte; only the section markers cut */
	static const char f[] = "-- Revision ID: 5\n-- Revises:\n"
				"-- migrate:upgrade   \n"
				"\n"
				"CREATE FUNCTION f() RETURNS int AS $$\n"
				"  -- not a marker\n"
				"  SELECT 1 /* c */;\n"
				"$$ LANGUAGE sql;  \t\n"
				"\n"
				"\n"
				"-- migrate:downgrade\n"
				"DROP FUNCTION f();";
	struct migrate_registry *reg = parse_one("5.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "5");

	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 "\n"
			 "CREATE FUNCTION f() RETURNS int AS $$\n"
			 "  -- not a marker\n"
			 "  SELECT 1 /* c */;\n"
			 "$$ LANGUAGE sql;  \t\n"
			 "\n"
			 "\n");
	ck_assert_str_eq(migrate_revision_downgrade_sql(r),
			 "DROP FUNCTION f();");
	ck_assert_uint_eq(r->up.first_line, 4);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_bom)
{
	char buf[512];
	struct migrate_registry *reg, *plain;
	const struct migrate_revision *r;

	snprintf(buf, sizeof(buf), "\xEF\xBB\xBF%s", sample);
	reg = parse_one("001.sql", buf, strlen(buf));
	plain = parse_one("001.sql", sample, strlen(sample));
	r = get(reg, "001");
	ck_assert_str_eq(migrate_revision_message(r),
			 "Baseline: create all tables.");
	ck_assert_uint_eq(r->up.first_line, 8);
	ck_assert_str_eq(migrate_revision_checksum(r),
			 migrate_revision_checksum(get(plain, "001")));
	migrate_registry_free(reg);
	migrate_registry_free(plain);

	/* a BOM does not shift line numbers in errors */
	reg = new_reg();
	snprintf(buf, sizeof(buf),
		 "\xEF\xBB\xBF-- Revision ID: 1\n-- Revises:\nSELECT;\n");
	ck_assert_int_eq(migrate_registry_parse(reg, "b.sql", buf, strlen(buf)),
			 MIGRATE_EPARSE);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "b.sql:3: "));
	/* a BOM alone is an empty file */
	ck_assert_int_eq(
		migrate_registry_parse(reg, "b.sql", "\xEF\xBB\xBF", 3),
		MIGRATE_EPARSE);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "b.sql:1: empty revision file");
	migrate_registry_free(reg);
}

END_TEST

/* psql's reading of what the splitter refuses (issue 11 §9) is found at
 * load time too, with the file's line: a meta-command after a statement,
 * a routine's BEGIN that is not BEGIN ATOMIC. */
START_TEST(test_revfile_psql_refusals_at_load)
{
	static const char meta[] = "-- Meta.\n"
				   "--\n"
				   "-- Revision ID: 001\n"
				   "-- Revises:\n"
				   "-- migrate:upgrade\n"
				   "SELECT 1;\n"
				   "SELECT 2 \\g\n";
	static const char begin[] = "-- Begin.\n"
				    "--\n"
				    "-- Revision ID: 002\n"
				    "-- Revises:\n"
				    "-- migrate:upgrade\n"
				    "SELECT 1;\n"
				    "\n"
				    "CREATE PROCEDURE begin() LANGUAGE sql\n"
				    "AS $$ SELECT 1 $$;\n";
	struct migrate_registry *reg = new_reg();

	ck_assert_int_eq(
		migrate_registry_parse(reg, "001_m.sql", meta, strlen(meta)),
		MIGRATE_EPARSE);
	ck_assert_msg(strcmp(migrate_registry_errmsg(reg),
			     "001_m.sql:7: upgrade section: psql meta-command "
			     "'\\g' is not supported") == 0,
		      "got: %s", migrate_registry_errmsg(reg));
	ck_assert_int_eq(
		migrate_registry_parse(reg, "002_b.sql", begin, strlen(begin)),
		MIGRATE_EPARSE);
	ck_assert_msg(strstr(migrate_registry_errmsg(reg),
			     "002_b.sql:8: upgrade section: BEGIN in CREATE "
			     "FUNCTION/PROCEDURE") ==
			      migrate_registry_errmsg(reg),
		      "got: %s", migrate_registry_errmsg(reg));
	migrate_registry_free(reg);
}

END_TEST

/* Unterminated quotes and comments are found at load time, with the line
 * of the file where they start, in either section, before any database is
 * touched. */
START_TEST(test_revfile_unterminated_sql_at_load)
{
	static const char up[] = "-- Quote.\n"
				 "--\n"
				 "-- Revision ID: 001\n"
				 "-- Revises:\n"
				 "\n"
				 "-- migrate:upgrade transaction=false\n"
				 "CREATE TABLE a (id int);\n"
				 "INSERT INTO a VALUES (1);\n"
				 "\n"
				 "SELECT 'oops;\n";
	static const char down[] = "-- Dollar.\n"
				   "--\n"
				   "-- Revision ID: 002\n"
				   "-- Revises:\n"
				   "-- migrate:upgrade\n"
				   "SELECT 1;\n"
				   "-- migrate:downgrade\n"
				   "DO $fn$ BEGIN NULL; END $f$;\n";
	struct migrate_registry *reg = new_reg();

	ck_assert_int_eq(
		migrate_registry_parse(reg, "001_q.sql", up, strlen(up)),
		MIGRATE_EPARSE);
	ck_assert_msg(strstr(migrate_registry_errmsg(reg),
			     "001_q.sql:10: upgrade section: ") ==
			      migrate_registry_errmsg(reg),
		      "got: %s", migrate_registry_errmsg(reg));
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "unterminated"));
	ck_assert_int_eq(
		migrate_registry_parse(reg, "002_d.sql", down, strlen(down)),
		MIGRATE_EPARSE);
	ck_assert_msg(strstr(migrate_registry_errmsg(reg),
			     "002_d.sql:8: downgrade section: ") ==
			      migrate_registry_errmsg(reg),
		      "got: %s", migrate_registry_errmsg(reg));
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg), "$fn$"));
	ck_assert_uint_eq(migrate_registry_count(reg), 0);
	migrate_registry_free(reg);
}

END_TEST

/* Replace every "\n" of @in by "\r\n". */
static void
to_crlf(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 3 < outlen; in++) {
		if (*in == '\n')
			out[o++] = '\r';
		out[o++] = *in;
	}
	out[o] = '\0';
}

START_TEST(test_revfile_crlf)
{
	char buf[1024];
	struct migrate_registry *reg, *lf;
	const struct migrate_revision *r, *l;

	to_crlf(sample, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "\r\n-- migrate:upgrade\r\n"));
	reg = parse_one("001.sql", buf, strlen(buf));
	lf = parse_one("001.sql", sample, strlen(sample));
	r = get(reg, "001");
	l = get(lf, "001");
	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 migrate_revision_upgrade_sql(l));
	ck_assert_str_eq(migrate_revision_downgrade_sql(r),
			 migrate_revision_downgrade_sql(l));
	ck_assert_ptr_null(strchr(migrate_revision_upgrade_sql(r), '\r'));
	ck_assert_str_eq(migrate_revision_message(r),
			 "Baseline: create all tables.");
	ck_assert_str_eq(migrate_revision_create_date(r), "2026-01-31");
	ck_assert_str_eq(migrate_revision_checksum(r),
			 migrate_revision_checksum(l));
	migrate_registry_free(reg);
	migrate_registry_free(lf);

	/* a lone CR is text, kept as it is */
	reg = parse_one("x.sql",
			"-- Revision ID: 1\n-- Revises:\n-- migrate:upgrade\n"
			"SELECT '\r';\n",
			strlen("-- Revision ID: 1\n-- Revises:\n"
			       "-- migrate:upgrade\nSELECT '\r';\n"));
	ck_assert_str_eq(migrate_revision_upgrade_sql(get(reg, "1")),
			 "SELECT '\r';\n");
	migrate_registry_free(reg);
}

END_TEST

static const char *
checksum_of(struct migrate_registry **keep, const char *text)
{
	*keep = parse_one("c.sql", text, strlen(text));
	return migrate_revision_checksum(get(*keep, "c"));
}

START_TEST(test_revfile_checksum_normalisation)
{
	struct migrate_registry *r1, *r2, *r3, *r4, *r5, *r6;
	const char *base = checksum_of(
		&r1, "-- Revision ID: c\n-- Revises:\n-- migrate:upgrade\n"
		     "CREATE TABLE t (id int);\nSELECT 1;\n"
		     "-- migrate:downgrade\nDROP TABLE t;\n");
	/* trailing white space, extra blank lines around, CRLF: same */
	const char *ws = checksum_of(
		&r2, "-- Revision ID: c\r\n-- Revises:\r\n"
		     "-- migrate:upgrade transaction=false\r\n\r\n"
		     "CREATE TABLE t (id int);  \t\r\nSELECT 1;\t\r\n\r\n\r\n"
		     "-- migrate:downgrade\r\n\r\nDROP TABLE t;   \r\n\r\n");
	/* a SQL change: different */
	const char *sql = checksum_of(
		&r3, "-- Revision ID: c\n-- Revises:\n-- migrate:upgrade\n"
		     "CREATE TABLE t (id bigint);\nSELECT 1;\n"
		     "-- migrate:downgrade\nDROP TABLE t;\n");
	/* leading white space is a change */
	const char *lead = checksum_of(
		&r4, "-- Revision ID: c\n-- Revises:\n-- migrate:upgrade\n"
		     " CREATE TABLE t (id int);\nSELECT 1;\n"
		     "-- migrate:downgrade\nDROP TABLE t;\n");
	/* dropping the downgrade is a change */
	const char *nodown = checksum_of(
		&r5, "-- Revision ID: c\n-- Revises:\n-- migrate:upgrade\n"
		     "CREATE TABLE t (id int);\nSELECT 1;\n");
	/* header changes (message, date) are not */
	const char *hdr = checksum_of(
		&r6, "-- Other message\n-- Revision ID: c\n-- Revises: \n"
		     "-- Create Date: 2020-01-01\n-- migrate:upgrade\n"
		     "CREATE TABLE t (id int);\nSELECT 1;\n"
		     "-- migrate:downgrade\nDROP TABLE t;");

	ck_assert_str_eq(base, ws);
	ck_assert_str_eq(base, hdr);
	ck_assert_str_ne(base, sql);
	ck_assert_str_ne(base, lead);
	ck_assert_str_ne(base, nodown);
	migrate_registry_free(r1);
	migrate_registry_free(r2);
	migrate_registry_free(r3);
	migrate_registry_free(r4);
	migrate_registry_free(r5);
	migrate_registry_free(r6);
}

END_TEST

START_TEST(test_revfile_options)
{
	static const char f[] =
		"-- Revision ID: 7\n-- Revises:\n"
		"-- migrate:upgrade transaction=false lock_timeout=5s statement_timeout=500ms\n"
		"CREATE INDEX CONCURRENTLY i ON t (a);\n"
		"--migrate:downgrade\tstatement_timeout=0  lock_timeout=2min transaction=true\n"
		"DROP INDEX CONCURRENTLY i;\n";
	struct migrate_registry *reg = parse_one("7.sql", f, strlen(f));
	const struct migrate_revision *r = get(reg, "7");

	ck_assert(!r->up.transactional);
	ck_assert_int_eq(r->up.lock_timeout_ms, 5000);
	ck_assert_int_eq(r->up.statement_timeout_ms, 500);
	ck_assert(r->down.transactional);
	ck_assert_int_eq(r->down.lock_timeout_ms, 120000);
	ck_assert_int_eq(r->down.statement_timeout_ms, 0);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_section_options_direct)
{
	struct {
		const char *text;
		int rc;
		const char *err;
	} cases[] = {
		{ "", 0, NULL },
		{ "   \t ", 0, NULL },
		{ "lock_timeout=250ms", 0, NULL },
		{ "lock_timeout=0", 0, NULL },
		/* A bare number could mean seconds or milliseconds. */
		{ "lock_timeout=250", MIGRATE_EPARSE,
		  "invalid value '250' for option 'lock_timeout' (expected a duration: 0, or a number with a unit: 500ms, 5s, 1.5s, 2min, 1h;" },
		{ "statement_timeout=2147483647ms", 0, NULL },
		{ "statement_timeout=2147483648ms", MIGRATE_EPARSE,
		  "invalid value '2147483648ms' for option 'statement_timeout'" },
		{ "lock_timeout=99999999999999999999", MIGRATE_EPARSE,
		  "invalid value" },
		{ "lock_timeout=40000min", MIGRATE_EPARSE, "invalid value" },
		{ "lock_timeout=600h", MIGRATE_EPARSE,
		  "invalid value '600h' for option 'lock_timeout'" },
		{ "lock_timeout=-5s", MIGRATE_EPARSE, "invalid value '-5s'" },
		{ "lock_timeout=", MIGRATE_EPARSE, "invalid value ''" },
		{ "lock_timeout=s", MIGRATE_EPARSE, "invalid value 's'" },
		{ "lock_timeout=5s s", MIGRATE_EPARSE,
		  "malformed section option 's' (expected name=value)" },
		{ "transaction=maybe", MIGRATE_EPARSE,
		  "invalid value 'maybe' for option 'transaction' (expected true or false)" },
		{ "transaction=FALSE", MIGRATE_EPARSE,
		  "invalid value 'FALSE'" },
		{ "transaction", MIGRATE_EPARSE,
		  "malformed section option 'transaction'" },
		{ "isolation=serializable", MIGRATE_EPARSE,
		  "unknown section option 'isolation' (known: transaction, lock_timeout, statement_timeout, empty)" },
		{ "transaction=false transaction=true", MIGRATE_EPARSE,
		  "section option 'transaction' given twice" },
		{ "lock_timeout=1s lock_timeout=2s", MIGRATE_EPARSE,
		  "section option 'lock_timeout' given twice" },
		{ "-- comment", MIGRATE_EPARSE,
		  "malformed section option '--'" },
	};

	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct migrate_section sec;
		struct migrate_diag err;
		int rc;

		memset(&sec, 0, sizeof(sec));
		sec.transactional = true;
		sec.lock_timeout_ms = -1;
		sec.statement_timeout_ms = -1;
		rc = migrate__section_options(&sec, cases[i].text,
					      strlen(cases[i].text), &err);
		ck_assert_msg(rc == cases[i].rc, "'%s': rc %d, err %s",
			      cases[i].text, rc, err.msg);
		if (cases[i].err)
			ck_assert_msg(strstr(err.msg, cases[i].err),
				      "'%s': got '%s', want '%s'",
				      cases[i].text, err.msg, cases[i].err);
		else
			ck_assert_str_eq(err.msg, "");
	}
}

END_TEST

START_TEST(test_revfile_section_options_values)
{
	struct migrate_section sec;
	struct migrate_diag err;
	const char *t = "statement_timeout=3min lock_timeout=1.5s";

	memset(&sec, 0, sizeof(sec));
	sec.transactional = true;
	sec.lock_timeout_ms = -1;
	sec.statement_timeout_ms = -1;
	ck_assert_int_eq(migrate__section_options(&sec, t, strlen(t), &err), 0);
	ck_assert_int_eq(sec.statement_timeout_ms, 180000);
	ck_assert_int_eq(sec.lock_timeout_ms, 1500);
	ck_assert(sec.transactional);
	/* only @len bytes count */
	ck_assert_int_eq(
		migrate__section_options(&sec, "transaction=falseXX", 17, &err),
		0);
	ck_assert(!sec.transactional);
	/* NULL diagnostics are allowed */
	ck_assert_int_eq(migrate__section_options(&sec, "x=1", 3, NULL),
			 MIGRATE_EPARSE);
}

END_TEST

#define CASE(name, text, code, want)                                           \
	{                                                                      \
		name, text, sizeof(text) - 1, code, want                       \
	}

static const struct bad_case {
	const char *name;
	const char *text;
	size_t len;
	int code;
	const char *want; /* must appear in the message */
} bad_cases[] = {
	CASE("missing id",
	     "-- msg\n-- Revises: 001\n\n-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: missing 'Revision ID:' header line"),
	CASE("missing revises",
	     "-- Revision ID: 003\n-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: missing 'Revises:' header line"),
	CASE("missing both, no markers",
	     "-- just a comment\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: missing 'Revision ID:'"),
	CASE("two ids",
	     "-- Revision ID: 003\n-- Revision ID: 004\n-- Revises:\n"
	     "-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: second 'Revision ID:' line (the first is on line 1)"),
	CASE("two revises",
	     "-- Revision ID: 003\n-- Revises:\n-- revises: 001\n"
	     "-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: second 'Revises:' line"),
	CASE("two dates",
	     "-- Revision ID: 003\n-- Revises:\n-- Create Date: 1\n"
	     "-- Create Date: 2\n-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: second 'Create Date:' line"),
	CASE("empty id",
	     "-- Revision ID:   \n",
	     MIGRATE_EPARSE,
	     "003.sql:1: empty 'Revision ID:'"),
	CASE("quoted id",
	     "-- Revision ID: '003'\n-- Revises:\n-- migrate:upgrade\nS;\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid revision id ''003'': ids are 1-32 characters of [A-Za-z0-9_]"),
	CASE("double-quoted id",
	     "-- x\n-- Revision ID: \"003\"\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: invalid revision id '\"003\"'"),
	CASE("id with space",
	     "-- Revision ID: 0 3\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid revision id '0 3'"),
	CASE("id too long",
	     "-- Revision ID: 123456789012345678901234567890123\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid revision id '123456789012345678901234567890123': too long (33 bytes, at most 32)"),
	CASE("id with escape",
	     "-- Revision ID: a\x1b[31m\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid revision id 'a?[31m'"),
	CASE("bad parent id",
	     "-- Revision ID: 003\n-- Revises: 001, 00-2\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: invalid revision id '00-2' in 'Revises:'"),
	CASE("stray comma",
	     "-- Revision ID: 003\n-- Revises: 001,\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: empty revision id in 'Revises:'"),
	CASE("double comma",
	     "-- Revision ID: 003\n-- Revises: 001,,002\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: empty revision id in 'Revises:'"),
	CASE("parent twice",
	     "-- Revision ID: 003\n-- Revises: 001, 001\n"
	     "-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: revision 003 lists parent '001' twice"),
	CASE("upgrade twice",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n"
	     "-- migrate:upgrade\nSELECT 2;\n",
	     MIGRATE_EPARSE,
	     "003.sql:5: second '-- migrate:upgrade' section (the first is on line 3)"),
	CASE("downgrade twice",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n"
	     "-- migrate:downgrade\n\n-- migrate:downgrade\n",
	     MIGRATE_EPARSE,
	     "003.sql:7: second '-- migrate:downgrade' section"),
	CASE("unknown marker",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n"
	     "-- migrate:sideways\n",
	     MIGRATE_EPARSE,
	     "003.sql:5: unknown section marker 'migrate:sideways' (expected 'migrate:upgrade' or 'migrate:downgrade')"),
	CASE("marker in header with typo",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:Upgrade\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: unknown section marker 'migrate:Upgrade'"),
	CASE("space after colon",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate: upgrade\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: unknown section marker 'migrate:'"),
	CASE("empty upgrade",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\n\n  \t\n"
	     "-- migrate:downgrade\nDROP TABLE t;\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: empty upgrade section"),
	CASE("empty=true with SQL",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade empty=true\n"
	     "CREATE TABLE t ();\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: the upgrade section is marked empty=true but holds SQL"),
	CASE("empty=true on a downgrade with SQL",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n"
	     "-- migrate:downgrade empty=true\nDROP TABLE t;\n",
	     MIGRATE_EPARSE,
	     "003.sql:5: the downgrade section is marked empty=true but holds SQL"),
	CASE("empty=false says it is unfinished",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade empty=false\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: empty upgrade section"),
	CASE("bad empty value",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade empty=yes\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: invalid value 'yes' for option 'empty' (expected true or false)"),
	CASE("comment-only upgrade",
	     "-- Revision ID: 003\n-- Revises:\n\n-- migrate:upgrade\n"
	     "-- nothing here\n/* nor /* nested */ here */\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: empty upgrade section"),
	CASE("upgrade marker at end of file",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade",
	     MIGRATE_EPARSE,
	     "003.sql:3: empty upgrade section"),
	CASE("no upgrade section",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:downgrade\n"
	     "DROP TABLE t;\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: no '-- migrate:upgrade' section"),
	CASE("header only",
	     "-- Revision ID: 003\n-- Revises: 002\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: no '-- migrate:upgrade' section"),
	CASE("truncated header",
	     "-- Revision ID: 003\n-- Revi",
	     MIGRATE_EPARSE,
	     "003.sql:1: missing 'Revises:' header line"),
	CASE("sql before marker",
	     "-- Revision ID: 003\n-- Revises:\nCREATE TABLE x ();\n"
	     "-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: text before the first section marker"),
	CASE("block comment before marker",
	     "/* Revision ID: 003 */\n-- migrate:upgrade\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: text before the first section marker"),
	CASE("bad UTF-8",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\n"
	     "SELECT 'caf\xe9';\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: invalid UTF-8 at byte column 12 (byte 0xE9)"),
	CASE("overlong UTF-8",
	     "-- Revision ID: 003\n-- \xc0\xaf\n",
	     MIGRATE_EPARSE,
	     "003.sql:2: invalid UTF-8 at byte column 4"),
	CASE("UTF-8 surrogate",
	     "-- \xed\xa0\x80\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid UTF-8 at byte column 4 (byte 0xED)"),
	CASE("UTF-8 above U+10FFFF",
	     "-- \xf4\x90\x80\x80\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid UTF-8 at byte column 4"),
	CASE("UTF-8 cut at end",
	     "-- x\n-- caf\xc3",
	     MIGRATE_EPARSE,
	     "003.sql:2: invalid UTF-8 at byte column 7 (byte 0xC3)"),
	CASE("lone continuation byte",
	     "-- \x80\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: invalid UTF-8 at byte column 4 (byte 0x80)"),
	CASE("NUL byte",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\n"
	     "SELECT 1;\0 DROP TABLE t;\n",
	     MIGRATE_EPARSE,
	     "003.sql:4: NUL byte at byte column 10"),
	CASE("bad option",
	     "-- Revision ID: 003\n-- Revises:\n"
	     "-- migrate:upgrade transaction=maybe\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: invalid value 'maybe' for option 'transaction'"),
	CASE("unknown option",
	     "-- Revision ID: 003\n-- Revises:\n-- migrate:upgrade\nSELECT 1;\n"
	     "-- migrate:downgrade isolation=serializable\n",
	     MIGRATE_EPARSE,
	     "003.sql:5: unknown section option 'isolation'"),
	CASE("bad duration",
	     "-- Revision ID: 003\n-- Revises:\n"
	     "-- migrate:upgrade lock_timeout=5\nSELECT 1;\n",
	     MIGRATE_EPARSE,
	     "003.sql:3: invalid value '5' for option 'lock_timeout'"),
	CASE("empty file",
	     "",
	     MIGRATE_EPARSE,
	     "003.sql:1: empty revision file"),
	CASE("blank file",
	     "\n \n\t\r\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: empty revision file"),
	CASE("only dashes",
	     "--\n--\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: empty revision file"),
	CASE("plain SQL file",
	     "CREATE TABLE t ();\n",
	     MIGRATE_EPARSE,
	     "003.sql:1: text before the first section marker"),
};

START_TEST(test_revfile_errors)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct migrate_registry *reg = new_reg();
		int rc = migrate_registry_parse(reg, "dir/003.sql", c->text,
						c->len);
		const char *msg = migrate_registry_errmsg(reg);

		ck_assert_msg(rc == c->code, "%s: rc %d (%s)", c->name, rc,
			      msg);
		ck_assert_msg(strstr(msg, c->want), "%s: got '%s', want '%s'",
			      c->name, msg, c->want);
		/* every message starts with FILE:LINE: */
		ck_assert_msg(strncmp(msg, "dir/003.sql:", 12) == 0, "%s: '%s'",
			      c->name, msg);
		/* one line, no control characters */
		ck_assert_msg(!strchr(msg, '\n') && !strchr(msg, '\x1b'),
			      "%s: '%s'", c->name, msg);
		ck_assert_uint_eq(migrate_registry_count(reg), 0);
		migrate_registry_free(reg);
	}
}

END_TEST

START_TEST(test_revfile_args)
{
	struct migrate_registry *reg = new_reg();
	static const char f[] = "-- Revision ID: 1\n-- Revises:\n"
				"-- migrate:upgrade\nSELECT 1;\n";
	static const char g[] = "-- Revision ID: 2\n-- Revises:\n"
				"-- migrate:upgrade\nSELECT 1;GARBAGE";

	ck_assert_int_eq(migrate_registry_parse(NULL, "x", f, strlen(f)),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_parse(reg, "x", NULL, 5),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_parse(reg, "x", NULL, 0),
			 MIGRATE_EPARSE);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "x:1: empty revision file");
	/* no file name: a placeholder in messages and in the revision */
	assert_reg_ok(reg, migrate_registry_parse(reg, NULL, f, strlen(f)));
	ck_assert_str_eq(migrate_revision_file(get(reg, "1")), "<input>");
	/* @len bounds the buffer: no NUL terminator needed */
	ck_assert_int_eq(migrate_registry_parse(reg, "y", g,
						strlen(g) - strlen("GARBAGE")),
			 0);
	ck_assert_str_eq(migrate_revision_upgrade_sql(get(reg, "2")),
			 "SELECT 1;");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_revfile_big_file)
{
	/* 10 MB of SQL: parsed (linearly) and kept exactly */
	static const char head[] = "-- Big\n-- Revision ID: big\n-- Revises:\n"
				   "-- migrate:upgrade\n";
	static const char line[] = "INSERT INTO t VALUES (1, 'x');\n";
	size_t n = 10 * 1024 * 1024 / (sizeof(line) - 1), i, len;
	struct migrate_registry *reg;
	const struct migrate_revision *r;
	char *buf, *p;

	len = sizeof(head) - 1 + n * (sizeof(line) - 1);
	buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, head, sizeof(head) - 1);
	p = buf + sizeof(head) - 1;
	for (i = 0; i < n; i++, p += sizeof(line) - 1)
		memcpy(p, line, sizeof(line) - 1);
	reg = parse_one("big.sql", buf, len);
	r = get(reg, "big");
	ck_assert_uint_eq(strlen(migrate_revision_upgrade_sql(r)),
			  n * (sizeof(line) - 1));
	ck_assert_uint_eq(strlen(migrate_revision_checksum(r)), 64);
	migrate_registry_free(reg);

	/* one 10 MB line with a bad byte at its end */
	memset(buf, 'a', len);
	memcpy(buf, "-- ", 3);
	buf[len - 1] = '\xff';
	reg = new_reg();
	ck_assert_int_eq(migrate_registry_parse(reg, "big.sql", buf, len),
			 MIGRATE_EPARSE);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg),
		       "big.sql:1: invalid UTF-8 at byte column"));
	migrate_registry_free(reg);
	free(buf);
}

END_TEST

START_TEST(test_revfile_many_markers_linear)
{
	/* 200,000 marker-like comment lines in the header stay linear and
	 * the error comes out at the right line */
	size_t n = 200000, i, len = 0;
	char *buf = malloc(n * 8 + 64);
	struct migrate_registry *reg = new_reg();
	char want[64];

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++) {
		memcpy(buf + len, "-- x: y\n", 8);
		len += 8;
	}
	memcpy(buf + len, "-- migrate:upgrade\n", 19);
	len += 19;
	ck_assert_int_eq(migrate_registry_parse(reg, "m.sql", buf, len),
			 MIGRATE_EPARSE);
	snprintf(want, sizeof(want), "m.sql:%zu: missing 'Revision ID:'",
		 n + 1);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg), want));
	migrate_registry_free(reg);
	free(buf);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Directories                                                         */
/* ------------------------------------------------------------------ */

struct tmp {
	char root[200];
	char made[32][400]; /* removed in reverse order */
	int n;
};

static void
tmp_init(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->root, sizeof(t->root), "%s/libmigrate-test-XXXXXX",
		 base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
	t->n = 0;
}

static const char *
tmp_path(struct tmp *t, const char *rel)
{
	char path[sizeof(t->made[0])];

	ck_assert_int_lt(t->n, 32);
	ck_assert_uint_lt(strlen(t->root) + strlen(rel) + 2, sizeof(path));
	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	memcpy(t->made[t->n], path, sizeof(path));
	return t->made[t->n++];
}

static void
tmp_dir(struct tmp *t, const char *rel)
{
	ck_assert_int_eq(mkdir(tmp_path(t, rel), 0700), 0);
}

static void
tmp_file(struct tmp *t, const char *rel, const char *content)
{
	FILE *f = fopen(tmp_path(t, rel), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(content, 1, strlen(content), f),
			  strlen(content));
	ck_assert_int_eq(fclose(f), 0);
}

static void
tmp_link(struct tmp *t, const char *target, const char *rel)
{
	ck_assert_int_eq(symlink(target, tmp_path(t, rel)), 0);
}

static void
tmp_cleanup(struct tmp *t)
{
	while (t->n > 0)
		ck_assert_msg(remove(t->made[--t->n]) == 0, "remove %s: %s",
			      t->made[t->n], strerror(errno));
	ck_assert_int_eq(rmdir(t->root), 0);
}

static const char rev001[] = "-- Base\n-- Revision ID: 001\n-- Revises:\n"
			     "-- migrate:upgrade\nCREATE TABLE a ();\n"
			     "-- migrate:downgrade\nDROP TABLE a;\n";
static const char rev002[] = "-- Users\n-- Revision ID: 002\n"
			     "-- Revises: 001\n"
			     "-- migrate:upgrade\nCREATE TABLE b ();\n";
static const char rev003[] = "-- Linked\n-- Revision ID: 003\n"
			     "-- Revises: 002\n"
			     "-- migrate:upgrade\nCREATE TABLE c ();\n";

START_TEST(test_revfile_load_dir)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256], want[1024];
	const struct migrate_revision *r;

	tmp_init(&t);
	tmp_file(&t, "outside.txt", rev003);
	tmp_dir(&t, "rev");
	/* written out of name order on purpose */
	tmp_file(&t, "rev/002_users.sql", rev002);
	tmp_file(&t, "rev/001_base.sql", rev001);
	tmp_link(&t, "../outside.txt", "rev/003_link.sql");
	tmp_file(&t, "rev/README.md", "not a revision\n");
	tmp_file(&t, "rev/.004_hidden.sql", "garbage\n");
	tmp_file(&t, "rev/005.sql~", "garbage\n");
	tmp_file(&t, "rev/.sql", "garbage\n");
	tmp_dir(&t, "rev/006_dir.sql");
	ck_assert_int_eq(mkfifo(tmp_path(&t, "rev/007_fifo.sql"), 0600), 0);

	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
	ck_assert_uint_eq(migrate_registry_count(reg), 3);
	assert_reg_ok(reg, migrate_registry_validate(reg));
	/* insertion order = name order */
	ck_assert_str_eq(reg->revs[0]->id, "001");
	ck_assert_str_eq(reg->revs[1]->id, "002");
	ck_assert_str_eq(reg->revs[2]->id, "003");
	r = get(reg, "003");
	snprintf(want, sizeof(want), "%s/003_link.sql", dir);
	ck_assert_str_eq(migrate_revision_file(r), want);
	/* a borrowed, stable pointer */
	ck_assert_ptr_eq(migrate_revision_file(r), migrate_revision_file(r));
	ck_assert_str_eq(migrate_revision_message(r), "Linked");
	ck_assert_str_eq(migrate_revision_id(migrate_registry_head(reg, 0)),
			 "003");
	/* issue 8: the directory is kept once, the revisions point to it
	 * and hold only their file's name */
	snprintf(want, sizeof(want), "%s/", dir);
	ck_assert_str_eq(r->dir, want);
	ck_assert_ptr_eq(get(reg, "001")->dir, r->dir);
	ck_assert_str_eq(migrate__revision_file(r), "003_link.sql");
	migrate_registry_free(reg);

	/* a trailing slash does not double */
	reg = new_reg();
	snprintf(dir, sizeof(dir), "%s/rev/", t.root);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	snprintf(want, sizeof(want), "%s/rev/001_base.sql", t.root);
	ck_assert_str_eq(migrate_revision_file(get(reg, "001")), want);
	/* loading again: duplicates, naming both files */
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir),
			 MIGRATE_ECONFLICT);
	snprintf(
		want, sizeof(want),
		"%s/rev/001_base.sql:2: duplicate revision id '001' (first defined at %s/rev/001_base.sql:2)",
		t.root, t.root);
	ck_assert_str_eq(migrate_registry_errmsg(reg), want);
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

/*
 * Issue 8 (peak RSS at N = 10,000): what a revision loaded from a
 * directory costs does not grow with the directory's name (the registry
 * keeps it once) and stays within its struct, its parent pointer and its
 * short strings (id, message, date, file name, parent id), whatever the
 * size of its SQL: the block of each one is measured (bench revisions,
 * bench/gen-revisions.sh).
 */
START_TEST(test_revfile_load_dir_compact)
{
#ifdef __GLIBC__
	static const char long_name[] =
		"a-revisions-directory-with-a-rather-long-name-"
		"0123456789012345678901234567890123456789012345678901234567";
	struct migrate_registry *reg = new_reg();
	char dir[400], name[256], text[1024], parent[8];
	size_t i, size;
	struct tmp t;

	tmp_init(&t);
	tmp_dir(&t, long_name);
	snprintf(dir, sizeof(dir), "%s/%s", t.root, long_name);
	for (i = 1; i <= 30; i++) {
		snprintf(name, sizeof(name), "%s/%04zu_bench_%04zu.sql",
			 long_name, i, i);
		snprintf(parent, sizeof(parent), "%04zu", i - 1);
		snprintf(
			text, sizeof(text),
			"-- bench revision %zu\n--\n-- Revision ID: %04zu\n"
			"-- Revises: %s\n-- Create Date: 2026-01-31\n\n"
			"-- migrate:upgrade\nCREATE TABLE bench_%04zu (\n"
			"    id bigint PRIMARY KEY,\n"
			"    name text NOT NULL\n);\n"
			"CREATE INDEX bench_%04zu_name ON bench_%04zu (name);\n"
			"\n-- migrate:downgrade\nDROP TABLE bench_%04zu;\n",
			i, i, i > 1 ? parent : "", i, i, i, i);
		tmp_file(&t, name, text);
	}
	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_uint_eq(migrate_registry_count(reg), 30);
	for (i = 0; i < reg->n_revs; i++) {
		const struct migrate_revision *r = reg->revs[i];

		/* At most "0030", "bench revision 30", "2026-01-31",
		 * "0030_bench_0030.sql" and "0029", each with its NUL (59
		 * bytes), and malloc's rounding. */
		size = malloc_usable_size((void *)(uintptr_t)r);
		ck_assert_msg(size <= sizeof(*r) +
					      r->n_parents * sizeof(char *) +
					      59 + 16,
			      "revision %s: a block of %zu bytes", r->id, size);
	}
	ck_assert_uint_le(sizeof(struct migrate_revision), 152);
	migrate_registry_free(reg);
	tmp_cleanup(&t);
#endif
}

END_TEST

/* ------------------------------------------------------------------ */
/* migrate_open_dir(): the load hidden behind the connection           */
/* ------------------------------------------------------------------ */

/* A memory backend that connects in two halves, counting its calls: what
 * libpq does, with a finish that fails as an unreachable server would
 * when split.fail_finish is set. */
static struct {
	int (*connect)(struct migrate_backend *,
		       const struct migrate_backend_config *,
		       struct migrate_backend_error *);
	void (*free)(struct migrate_backend *);
	const struct migrate_backend_config *cfg;
	int starts, finishes, frees, fail_start, fail_finish;
	int polls, polls_out_of_turn; /* connect_poll(): all, not between */
} split;

static void
split_poll(struct migrate_backend *be)
{
	(void)be;
	split.polls++;
	if (split.starts != 1 || split.finishes != 0 || split.frees != 0)
		split.polls_out_of_turn++;
}

static int
split_start(struct migrate_backend *be,
	    const struct migrate_backend_config *cfg,
	    struct migrate_backend_error *e)
{
	(void)be;
	split.starts++;
	split.cfg = cfg;
	if (split.fail_start)
		return migrate__backend_fail(e, MIGRATE_EBACKEND, NULL,
					     "no route to host");
	return 0;
}

static int
split_finish(struct migrate_backend *be, struct migrate_backend_error *e)
{
	split.finishes++;
	if (split.fail_finish)
		return migrate__backend_fail(e, MIGRATE_EBACKEND, NULL,
					     "timeout expired");
	return split.connect(be, split.cfg, e);
}

static void
split_free(struct migrate_backend *be)
{
	split.frees++;
	split.free(be);
}

static struct migrate_backend *
split_backend(int fail_start, int fail_finish)
{
	struct migrate_backend *be;

	memset(&split, 0, sizeof(split));
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_uint_ge(be->version, 4);
	split.connect = be->connect;
	split.free = be->free;
	split.fail_start = fail_start;
	split.fail_finish = fail_finish;
	be->connect_start = split_start;
	be->connect_finish = split_finish;
	be->connect_poll = split_poll;
	be->free = split_free;
	return be;
}

static const char bad002[] = "-- Users\n-- Revision ID: 002\n"
			     "-- Revises: 001\n"
			     "-- migrate:upgrade\nCREATE TABLE b ();\n"
			     "-- migrate:nonsense\n";

START_TEST(test_revfile_open_dir)
{
	struct tmp t;
	struct migrate *m = NULL;
	struct migrate_backend *be;
	const char *const *heads;
	size_t n;
	char dir[256];

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001_base.sql", rev001);
	tmp_file(&t, "rev/002_users.sql", rev002);
	snprintf(dir, sizeof(dir), "%s/rev", t.root);

	/* Connected in two halves, the files loaded in between. */
	be = split_backend(0, 0);
	assert_ok(m, migrate_open_dir(&m, dir, be, NULL));
	ck_assert_int_eq(split.starts, 1);
	ck_assert_int_eq(split.finishes, 1);
	ck_assert_int_eq(split.frees, 0);
	/* The connection went on while the files loaded, only then. */
	ck_assert_int_ge(split.polls, 1);
	ck_assert_int_eq(split.polls_out_of_turn, 0);
	ck_assert_uint_eq(migrate_registry_count(migrate_registry(m)), 2);
	ck_assert_str_eq(migrate_registry_errmsg(migrate_registry(m)), "");
	assert_ok(m, migrate_upgrade(m, "head"));
	assert_ok(m, migrate_current(&heads, &n, m));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(heads[0], "002");
	migrate_close(m);
	ck_assert_int_eq(split.frees, 1);

	/* A backend without the halves: load, then connect(). */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	assert_ok(m, migrate_open_dir(&m, dir, be, NULL));
	assert_ok(m, migrate_upgrade(m, "head"));
	migrate_close(m);

	/* A good directory, a failed connection: the connect error. */
	be = split_backend(0, 1);
	ck_assert_int_eq(migrate_open_dir(&m, dir, be, NULL), MIGRATE_EBACKEND);
	ck_assert_ptr_nonnull(m);
	assert_contains(migrate_errmsg(m), "cannot connect to the database");
	assert_contains(migrate_errmsg(m), "timeout expired");
	ck_assert_str_eq(migrate_registry_errmsg(migrate_registry(m)), "");
	migrate_close(m);
	ck_assert_int_eq(split.frees, 1);
	be = split_backend(1, 0);
	ck_assert_int_eq(migrate_open_dir(&m, dir, be, NULL), MIGRATE_EBACKEND);
	assert_contains(migrate_errmsg(m), "no route to host");
	ck_assert_int_eq(split.finishes, 0);
	migrate_close(m);

	/* Bad options, good files: the options' error, no connection. */
	{
		struct migrate_options opts = MIGRATE_OPTIONS_INIT;

		opts.lock_wait_ms = -1;
		be = split_backend(0, 0);
		ck_assert_int_eq(migrate_open_dir(&m, dir, be, &opts),
				 MIGRATE_EINVAL);
		assert_contains(migrate_errmsg(m), "lock_wait_ms");
		ck_assert_int_eq(split.starts, 0);
		migrate_close(m);
		ck_assert_int_eq(split.frees, 1);
	}

	/* No place for the handle: the backend is freed all the same. */
	be = split_backend(0, 0);
	ck_assert_int_eq(migrate_open_dir(NULL, dir, be, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(split.frees, 1);
	ck_assert_int_eq(split.starts, 0);
	tmp_cleanup(&t);
}

END_TEST

/* A bad file is the error, before any connection error, and a started
 * connection is dropped at once, never finished. */
START_TEST(test_revfile_open_dir_bad_file_first)
{
	struct migrate_registry *reg = new_reg();
	struct tmp t;
	struct migrate *m = NULL;
	struct migrate_backend *be;
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	char dir[256], want[1024];
	int status, fail_start;

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001_base.sql", rev001);
	tmp_file(&t, "rev/002_users.sql", bad002);
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	/* The message migrate_registry_load_dir() gives. */
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_EPARSE);
	snprintf(want, sizeof(want), "%s", migrate_registry_errmsg(reg));
	migrate_registry_free(reg);
	assert_contains(want, "002_users.sql:6");

	for (fail_start = 0; fail_start <= 1; fail_start++) {
		be = split_backend(fail_start, 1);
		ck_assert_int_eq(migrate_open_dir(&m, dir, be, NULL),
				 MIGRATE_EPARSE);
		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(migrate_errmsg(m), want);
		ck_assert_str_eq(migrate_registry_errmsg(migrate_registry(m)),
				 want);
		ck_assert_int_eq(split.starts, 1);
		ck_assert_int_eq(split.finishes, 0);
		/* A start that failed is not polled. */
		ck_assert_int_eq(split.polls > 0, !fail_start);
		ck_assert_int_eq(split.polls_out_of_turn, 0);
		/* Dropped before open returned. */
		ck_assert_int_eq(split.frees, 1);
		ck_assert_int_eq(migrate_verify(&status, NULL, m, 0),
				 MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
		ck_assert_int_eq(migrate_upgrade(m, NULL), MIGRATE_EBACKEND);
		ck_assert_int_eq(migrate_cancel(m), 0);
		ck_assert_ptr_null(migrate_native_connection(m));
		migrate_close(m);
		ck_assert_int_eq(split.frees, 1);
	}

	/* Bad options too: still the file first. */
	opts.lock_wait_ms = -1;
	be = split_backend(0, 0);
	ck_assert_int_eq(migrate_open_dir(&m, dir, be, &opts), MIGRATE_EPARSE);
	ck_assert_str_eq(migrate_errmsg(m), want);
	migrate_close(m);
	ck_assert_int_eq(split.frees, 1);

	/* Without the halves: the same error, connect() never called. */
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	ck_assert_int_eq(migrate_open_dir(&m, dir, be, NULL), MIGRATE_EPARSE);
	ck_assert_str_eq(migrate_errmsg(m), want);
	migrate_close(m);

	/* A graph error (an unknown parent) and a missing directory. */
	ck_assert_int_eq(remove(t.made[--t.n]), 0);
	tmp_file(&t, "rev/003_linked.sql", rev003);
	be = split_backend(0, 1);
	ck_assert_int_eq(migrate_open_dir(&m, dir, be, NULL),
			 MIGRATE_ECONFLICT);
	assert_contains(migrate_errmsg(m), "002");
	ck_assert_int_eq(split.finishes, 0);
	ck_assert_int_eq(split.frees, 1);
	migrate_close(m);
	be = split_backend(0, 1);
	snprintf(want, sizeof(want), "%s/nope", t.root);
	ck_assert_int_eq(migrate_open_dir(&m, want, be, NULL),
			 MIGRATE_ENOTFOUND);
	assert_contains(migrate_errmsg(m), "No such file or directory");
	migrate_close(m);
	ck_assert_int_eq(split.frees, 1);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_missing)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256], want[1024];

	tmp_init(&t);
	snprintf(dir, sizeof(dir), "%s/nope", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir),
			 MIGRATE_ENOTFOUND);
	snprintf(want, sizeof(want),
		 "revisions directory '%s': No such file or directory", dir);
	ck_assert_str_eq(migrate_registry_errmsg(reg), want);

	/* a file is not a directory */
	tmp_file(&t, "file", "x");
	snprintf(dir, sizeof(dir), "%s/file", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir),
			 MIGRATE_ENOTFOUND);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "Not a directory"));

	ck_assert_int_eq(migrate_registry_load_dir(reg, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_load_dir(reg, ""), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_load_dir(NULL, "x"), MIGRATE_EINVAL);
	ck_assert_uint_eq(migrate_registry_count(reg), 0);
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_empty)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256];

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/notes.txt", "nothing\n");
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	ck_assert_uint_eq(migrate_registry_count(reg), 0);
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_registry_errmsg(reg), "no revisions");
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_symlink_loop)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256], want[1024];
	const char *msg;

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001.sql", rev001);
	tmp_link(&t, "b.sql", "rev/a.sql");
	tmp_link(&t, "a.sql", "rev/b.sql");
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_ERROR);
	msg = migrate_registry_errmsg(reg);
	snprintf(want, sizeof(want), "%s/a.sql: cannot open: ", dir);
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "'%s'", msg);
	ck_assert_ptr_nonnull(strstr(msg, "(symbolic link loop)"));
	migrate_registry_free(reg);

	/* a link to itself */
	reg = new_reg();
	tmp_dir(&t, "self");
	tmp_link(&t, "s.sql", "self/s.sql");
	snprintf(dir, sizeof(dir), "%s/self", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_ERROR);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "self/s.sql: cannot open: "));
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_dangling)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256], want[1024];

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_link(&t, "gone.sql", "rev/009.sql");
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_ERROR);
	snprintf(
		want, sizeof(want),
		"%s/009.sql: cannot open: No such file or directory (dangling symbolic link)",
		dir);
	ck_assert_str_eq(migrate_registry_errmsg(reg), want);
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_parse_error)
{
	struct tmp t;
	struct migrate_registry *reg = new_reg();
	char dir[256], want[1024];

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001.sql", rev001);
	tmp_file(&t, "rev/003.sql",
		 "-- Revision ID: 003\n-- Revises: 001\n-- migrate:upgrade\n"
		 "SELECT 1;\n-- migrate:upgrade\n");
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_EPARSE);
	snprintf(
		want, sizeof(want),
		"%s/003.sql:5: second '-- migrate:upgrade' section (the first is on line 3)",
		dir);
	ck_assert_str_eq(migrate_registry_errmsg(reg), want);
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

START_TEST(test_revfile_load_dir_unreadable)
{
	struct tmp t;
	struct migrate_registry *reg;
	char dir[256];
	const char *p;

	/* root reads everything: nothing to test then */
	if (geteuid() == 0)
		return;
	reg = new_reg();
	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001.sql", rev001);
	p = t.made[t.n - 1];
	ck_assert_int_eq(chmod(p, 0), 0);
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	ck_assert_int_eq(migrate_registry_load_dir(reg, dir), MIGRATE_ERROR);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg),
		       "001.sql: cannot open: Permission denied"));
	migrate_registry_free(reg);
	tmp_cleanup(&t);
}

END_TEST

/* ------------------------------------------------------------------ */
/* Directories of many files (read on several threads)                 */
/* ------------------------------------------------------------------ */

#define MANY 300

/* Write @len bytes of @text to DIR/NAME. */
static void
many_write(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Revision @i of a chain: "NNNN_r.sql", id rNNNN revising rNNNN-1. */
static void
many_rev(const char *dir, size_t i)
{
	char name[64], text[512];

	snprintf(name, sizeof(name), "%04zu_r.sql", i);
	if (i == 0)
		snprintf(text, sizeof(text),
			 "-- Revision ID: r0000\n-- Revises:\n"
			 "-- migrate:upgrade\nCREATE TABLE t0 ();\n"
			 "-- migrate:downgrade\nDROP TABLE t0;\n");
	else
		snprintf(text, sizeof(text),
			 "-- Revision %zu\n-- Revision ID: r%04zu\n"
			 "-- Revises: r%04zu\n-- migrate:upgrade\n"
			 "CREATE TABLE t%zu ();\n"
			 "-- migrate:downgrade\nDROP TABLE t%zu;\n",
			 i, i, i - 1, i, i);
	many_write(dir, name, text, strlen(text));
}

/* A fresh directory under @t's root holding the chain r0000..r(MANY-1). */
static void
many_init(struct tmp *t, char *dir, size_t dirlen)
{
	size_t i;

	tmp_init(t);
	snprintf(dir, dirlen, "%s/many", t->root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (i = 0; i < MANY; i++)
		many_rev(dir, i);
}

/* Remove everything in @dir (flat), @dir and @t's root. */
static void
many_cleanup(struct tmp *t, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_msg(remove(path) == 0, "remove %s: %s", path,
			      strerror(errno));
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
	tmp_cleanup(t);
}

/* A revision rNNNN (revising rNNNN-1) of exactly @size bytes, padded in
 * a string literal. */
static char *
padded_rev(size_t i, size_t size)
{
	char head[256];
	size_t hlen, tail = strlen("';\n");
	char *text;

	snprintf(head, sizeof(head),
		 "-- Revision ID: r%04zu\n-- Revises: r%04zu\n"
		 "-- migrate:upgrade\nSELECT '",
		 i, i - 1);
	hlen = strlen(head);
	ck_assert_uint_gt(size, hlen + tail);
	text = malloc(size + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, head, hlen);
	memset(text + hlen, 'x', size - hlen - tail);
	memcpy(text + size - tail, "';\n", tail + 1);
	return text;
}

/* The checksum migrate_registry_parse() gives the bytes of @path. */
static void
reference_checksum(const char *path, char out[65])
{
	struct migrate_registry *reg = new_reg();
	FILE *f = fopen(path, "rb");
	char *text;
	long len;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_reg_ok(reg,
		      migrate_registry_parse(reg, path, text, (size_t)len));
	snprintf(out, 65, "%s", migrate_revision_checksum(reg->revs[0]));
	free(text);
	migrate_registry_free(reg);
}

START_TEST(test_revfile_load_dir_many)
{
	/* Files around and past the size the loader reads at once, and
	 * what is no regular file, among enough files to be read on several
	 * threads: every revision whole, in name order. */
	static const size_t sizes[] = { 65535, 65536, 65537, 3 * 65536 + 7 };
	struct migrate_registry *reg = new_reg();
	char dir[256], outside[400], path[400], sum[65];
	size_t i;
	struct tmp t;

	many_init(&t, dir, sizeof(dir));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[64], *text = padded_rev(100 + i, sizes[i]);

		snprintf(name, sizeof(name), "%04zu_r.sql", 100 + i);
		many_write(dir, name, text, sizes[i]);
		free(text);
	}
	snprintf(outside, sizeof(outside), "%s/outside.txt", t.root);
	many_write(t.root, "outside.txt",
		   "-- Revision ID: lnk\n-- Revises: r0299\n"
		   "-- migrate:upgrade\nSELECT 1;\n",
		   strlen("-- Revision ID: lnk\n-- Revises: r0299\n"
			  "-- migrate:upgrade\nSELECT 1;\n"));
	snprintf(path, sizeof(path), "%s/0202_link.sql", dir);
	ck_assert_int_eq(symlink(outside, path), 0);
	snprintf(path, sizeof(path), "%s/0200_fifo.sql", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/0201_dir.sql", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	ck_assert_uint_eq(migrate_registry_count(reg), MANY + 1);
	assert_reg_ok(reg, migrate_registry_validate(reg));
	for (i = 0; i < MANY + 1; i++) {
		const struct migrate_revision *r = reg->revs[i];

		/* insertion order = name order */
		if (i > 0)
			ck_assert_int_lt(
				strcmp(migrate_revision_file(reg->revs[i - 1]),
				       migrate_revision_file(r)),
				0);
		reference_checksum(migrate_revision_file(r), sum);
		ck_assert_str_eq(migrate_revision_checksum(r), sum);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char id[16];

		snprintf(id, sizeof(id), "r%04zu", 100 + i);
		ck_assert_uint_eq(
			strlen(migrate_revision_upgrade_sql(get(reg, id))),
			sizes[i] -
				strlen("-- Revision ID: r0100\n-- Revises: r0099\n-- migrate:upgrade\n"));
	}
	migrate_registry_free(reg);
	remove(outside);
	many_cleanup(&t, dir);
}

END_TEST

/* Load @dir into a fresh registry 20 times: every time @rc, a message
 * that is @want (or starts with it: @prefix) and @count revisions taken. */
static void
expect_load(const char *dir,
	    int rc,
	    const char *want,
	    bool prefix,
	    size_t count)
{
	int i;

	for (i = 0; i < 20; i++) {
		struct migrate_registry *reg = new_reg();
		const char *msg;

		ck_assert_int_eq(migrate_registry_load_dir(reg, dir), rc);
		msg = migrate_registry_errmsg(reg);
		if (prefix)
			ck_assert_msg(strncmp(msg, want, strlen(want)) == 0,
				      "'%s'", msg);
		else
			ck_assert_str_eq(msg, want);
		ck_assert_uint_eq(migrate_registry_count(reg), count);
		migrate_registry_free(reg);
	}
}

START_TEST(test_revfile_load_dir_first_bad_wins)
{
	/* Several bad files among many read on several threads: the first
	 * in name order is the one reported, every time, and the registry
	 * holds the files before it, as when read one after the other. */
	char dir[256], path[400], want[1024];
	struct tmp t;

	many_init(&t, dir, sizeof(dir));
	many_write(dir, "0100_r.sql", "nope\n", 5);
	snprintf(path, sizeof(path), "%s/0200_r.sql", dir);
	ck_assert_int_eq(remove(path), 0);
	ck_assert_int_eq(symlink("gone.sql", path), 0);
	many_write(dir, "0299_r.sql", "\xff\n", 2);

	snprintf(
		want, sizeof(want),
		"%s/0100_r.sql:1: text before the first section marker (only '--' comment lines may precede '-- migrate:upgrade')",
		dir);
	expect_load(dir, MIGRATE_EPARSE, want, false, 100);

	/* the first bad file slow to find bad (8 MB with a bad byte at its
	 * end), the next one quick: another thread fails first, on a file
	 * after it */
	{
		size_t big = (size_t)8 << 20;
		char *text = padded_rev(100, big);

		text[big - 2] = '\xff';
		many_write(dir, "0100_r.sql", text, big);
		free(text);
	}
	many_write(dir, "0101_r.sql", "nope\n", 5);
	snprintf(want, sizeof(want), "%s/0100_r.sql:4: invalid UTF-8", dir);
	expect_load(dir, MIGRATE_EPARSE, want, true, 100);
	many_rev(dir, 101);

	/* with that one fixed, the next */
	many_rev(dir, 100);
	snprintf(
		want, sizeof(want),
		"%s/0200_r.sql: cannot open: No such file or directory (dangling symbolic link)",
		dir);
	expect_load(dir, MIGRATE_ERROR, want, false, 200);

	/* a duplicate id before it is found when the registry takes the
	 * revision, and it comes first */
	many_write(dir, "0050_r.sql",
		   "-- Revision ID: r0010\n-- Revises: r0049\n"
		   "-- migrate:upgrade\nSELECT 1;\n",
		   strlen("-- Revision ID: r0010\n-- Revises: r0049\n"
			  "-- migrate:upgrade\nSELECT 1;\n"));
	snprintf(
		want, sizeof(want),
		"%s/0050_r.sql:1: duplicate revision id 'r0010' (first defined at %s/0010_r.sql:2)",
		dir, dir);
	expect_load(dir, MIGRATE_ECONFLICT, want, false, 50);

	/* the very first file bad, and the last */
	many_write(dir, "0000_r.sql", "", 0);
	snprintf(want, sizeof(want), "%s/0000_r.sql:1: empty revision file",
		 dir);
	expect_load(dir, MIGRATE_EPARSE, want, false, 0);
	many_cleanup(&t, dir);
}

END_TEST

/* ------------------------------------------------------------------ */
/* SQL read from the file when needed (issue 8)                        */
/* ------------------------------------------------------------------ */

static const char lazy001[] =
	"-- Base\r\n-- Revision ID: 001\r\n-- Revises:\r\n\r\n"
	"-- migrate:upgrade\r\nCREATE TABLE a ();  \r\n\r\n"
	"-- migrate:downgrade\r\nDROP TABLE a;\r\n";
static const char lazy002[] = "-- Users\n-- Revision ID: 002\n"
			      "-- Revises: 001\n\n"
			      "-- migrate:upgrade\nCREATE TABLE b ();\n";
static const char lazy002_same_sql[] =
	"-- Users, reworded\n--\n"
	"-- Revision ID: 002\n"
	"-- Revises: 001\n\n"
	"-- migrate:upgrade\nCREATE TABLE b ();\n";
static const char lazy002_changed[] =
	"-- Users\n-- Revision ID: 002\n"
	"-- Revises: 001\n\n"
	"-- migrate:upgrade\nCREATE TABLE c ();\n";
static const char lazy002_unterminated[] =
	"-- Users\n-- Revision ID: 002\n"
	"-- Revises: 001\n\n"
	"-- migrate:upgrade\nCREATE TABLE b ('\n";
static const char lazy003[] = "-- Index\n-- Revision ID: 003\n"
			      "-- Revises: 002\n\n"
			      "-- migrate:upgrade transaction=false\n"
			      "CREATE INDEX CONCURRENTLY i ON b (x);\n"
			      "SELECT 1;\n";

static void
rewrite(const char *path, const char *content)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(content, 1, strlen(content), f),
			  strlen(content));
	ck_assert_int_eq(fclose(f), 0);
}

/* Whether the memory backend ran SQL containing @text. */
static bool
ran(const struct migrate_backend *be, const char *text)
{
	size_t i;

	for (i = 0; i < migrate__backend_memory_sql_count(be); i++)
		if (strstr(migrate__backend_memory_sql(be, i), text))
			return true;
	return false;
}

/* A loaded directory holds no SQL; the getters read it from the file,
 * the same text, line and checksum as a file parsed in memory. */
START_TEST(test_revfile_load_dir_sql_in_file)
{
	struct migrate_registry *reg = new_reg(), *mem = new_reg();
	const struct migrate_revision *r, *e;
	const char *texts[] = { lazy001, lazy002, lazy003 };
	const char *names[] = { "001_base.sql", "002_users.sql",
				"003_index.sql" };
	char dir[256], rel[64], *copy = NULL;
	struct tmp t;
	size_t i;

	tmp_init(&t);
	tmp_dir(&t, "rev");
	for (i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "rev/%s", names[i]);
		tmp_file(&t, rel, texts[i]);
		assert_reg_ok(mem,
			      migrate_registry_parse(mem, names[i], texts[i],
						     strlen(texts[i])));
	}
	snprintf(dir, sizeof(dir), "%s/rev", t.root);
	assert_reg_ok(reg, migrate_registry_load_dir(reg, dir));
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_null(reg->revs[i]->up.sql);
		ck_assert(reg->revs[i]->up.in_file);
		ck_assert(!mem->revs[i]->up.in_file);
	}
	ck_assert(reg->revs[0]->down.in_file);
	ck_assert(!reg->revs[1]->down.in_file);
	/* a copy, and nothing kept */
	assert_reg_ok(reg, migrate_registry_read_sql(&copy, reg, reg->revs[0],
						     MIGRATE_DOWN));
	ck_assert_str_eq(copy, "DROP TABLE a;\n");
	migrate_free(copy);
	ck_assert_ptr_null(reg->revs[0]->down.sql);
	assert_reg_ok(reg, migrate_registry_read_sql(&copy, reg, reg->revs[1],
						     MIGRATE_DOWN));
	ck_assert_ptr_null(copy);
	ck_assert_int_eq(migrate_registry_read_sql(&copy, reg, reg->revs[1], 0),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(
		migrate_registry_read_sql(NULL, reg, reg->revs[1], MIGRATE_UP),
		MIGRATE_EINVAL);
	for (i = 0; i < 3; i++) {
		r = reg->revs[i];
		e = mem->revs[i];
		ck_assert_str_eq(migrate_revision_checksum(r),
				 migrate_revision_checksum(e));
		ck_assert_uint_eq(migrate_revision_sql_line(r, MIGRATE_UP),
				  migrate_revision_sql_line(e, MIGRATE_UP));
		ck_assert_uint_eq(migrate_revision_sql_line(r, MIGRATE_DOWN),
				  migrate_revision_sql_line(e, MIGRATE_DOWN));
		ck_assert_str_eq(migrate_revision_upgrade_sql(r),
				 migrate_revision_upgrade_sql(e));
		/* kept from then on: the same pointer */
		ck_assert_ptr_eq(migrate_revision_upgrade_sql(r),
				 reg->revs[i]->up.sql);
	}
	ck_assert_str_eq(migrate_revision_upgrade_sql(reg->revs[0]),
			 "CREATE TABLE a ();  \n\n");
	ck_assert_str_eq(migrate_revision_downgrade_sql(reg->revs[0]),
			 "DROP TABLE a;\n");
	ck_assert_ptr_null(migrate_revision_downgrade_sql(reg->revs[1]));
	ck_assert_uint_eq(migrate_revision_sql_line(reg->revs[0], MIGRATE_UP),
			  6);
	migrate_registry_free(reg);
	migrate_registry_free(mem);
	tmp_cleanup(&t);
}

END_TEST

/* A file that changed between load and step is refused, naming it, and
 * nothing of it runs; one whose SQL is the same (header reworded) runs. */
static void
changed_after_load_body(unsigned int flags, bool run_step)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be;
	struct migrate *m = NULL;
	const char *const *heads;
	char dir[256], want[512], *sql = NULL;
	const char *p002, *p003;
	struct tmp t;
	int status;
	size_t n;

	tmp_init(&t);
	tmp_dir(&t, "rev");
	tmp_file(&t, "rev/001_base.sql", lazy001);
	p002 = tmp_path(&t, "rev/002_users.sql");
	rewrite(p002, lazy002);
	p003 = tmp_path(&t, "rev/003_index.sql");
	rewrite(p003, lazy003);
	snprintf(dir, sizeof(dir), "%s/rev", t.root);

	opts.flags = flags;
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	if (!run_step)
		be->run_step = NULL;
	assert_ok(m, migrate_open_dir(&m, dir, be, &opts));
	rewrite(p002, lazy002_changed);
	/* the getter has nothing to give: NULL, never the new text */
	ck_assert_ptr_null(migrate_revision_upgrade_sql(
		migrate_registry_get(migrate_registry(m), "002")));
	ck_assert_int_eq(
		migrate_registry_read_sql(
			&sql, migrate_registry(m),
			migrate_registry_get(migrate_registry(m), "002"),
			MIGRATE_UP),
		MIGRATE_EVERIFY);
	ck_assert_ptr_null(sql);
	ck_assert_int_eq(migrate_upgrade(m, "002"), MIGRATE_EVERIFY);
	snprintf(
		want, sizeof(want),
		"%s: the file changed since the revisions were loaded (revision 002: checksum ",
		p002);
	ck_assert_msg(strncmp(migrate_errmsg(m), want, strlen(want)) == 0, "%s",
		      migrate_errmsg(m));
	ck_assert(!ran(be, "CREATE TABLE c"));
	ck_assert(!ran(be, "CREATE TABLE b"));
	assert_ok(m, migrate_current(&heads, &n, m));
	if (flags & MIGRATE_OPEN_SINGLE_TRANSACTION) {
		ck_assert_uint_eq(n, 0); /* rolled back as a whole */
	} else {
		ck_assert_uint_eq(n, 1); /* 001 ran, 002 did not */
		ck_assert_str_eq(heads[0], "001");
	}

	/* The offline script refuses it too, in the registry's message. */
	{
		struct migrate_plan *plan = NULL;
		const char *none = NULL;

		ck_assert_int_eq(migrate__plan_move(&plan, migrate_registry(m),
						    &none, 0, MIGRATE_UP, "002",
						    0, NULL),
				 0);
		ck_assert_int_eq(migrate_plan_sql(&sql, plan, NULL),
				 MIGRATE_EVERIFY);
		ck_assert_ptr_null(sql);
		assert_contains(migrate_registry_errmsg(migrate_registry(m)),
				want);
		migrate_plan_free(plan);
	}

	/* Read again, a file is not split again: SQL that would not split
	 * now is a changed file, said so. */
	rewrite(p002, lazy002_unterminated);
	ck_assert_int_eq(migrate_upgrade(m, "002"), MIGRATE_EVERIFY);
	ck_assert_msg(strncmp(migrate_errmsg(m), want, strlen(want)) == 0, "%s",
		      migrate_errmsg(m));

	/* Same SQL, other header: it runs. */
	rewrite(p002, lazy002_same_sql);
	assert_ok(m, migrate_upgrade(m, "002"));
	ck_assert(ran(be, "CREATE TABLE b"));

	/* A transaction=false section: refused before its dirty mark. */
	if (!(flags & MIGRATE_OPEN_SINGLE_TRANSACTION)) {
		ck_assert_int_eq(remove(p003), 0);
		ck_assert_int_eq(migrate_upgrade(m, "head"), MIGRATE_ERROR);
		snprintf(want, sizeof(want), "%s: cannot open: ", p003);
		ck_assert_msg(strncmp(migrate_errmsg(m), want, strlen(want)) ==
				      0,
			      "%s", migrate_errmsg(m));
		ck_assert(!ran(be, "CREATE INDEX"));
		/* behind, not dirty */
		ck_assert_int_eq(migrate_verify(&status, NULL, m, 0),
				 MIGRATE_EVERIFY);
		ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);
		rewrite(p003, lazy003);
	}
	migrate_close(m);
	tmp_cleanup(&t);
}

START_TEST(test_revfile_changed_after_load)
{
	changed_after_load_body(0, true);
	changed_after_load_body(0, false);
	changed_after_load_body(MIGRATE_OPEN_SINGLE_TRANSACTION, true);
	changed_after_load_body(MIGRATE_OPEN_SINGLE_TRANSACTION, false);
}

END_TEST

START_TEST(test_revfile_load_threads)
{
	ck_assert_uint_eq(migrate__load_threads(0), 1);
	ck_assert_uint_eq(migrate__load_threads(10), 1);
	ck_assert_uint_le(migrate__load_threads(100000), 8);
	ck_assert_uint_ge(migrate__load_threads(100000), 1);
	/* the tests above read MANY files on several threads where this
	 * process may use several CPUs (its affinity, as the loader counts
	 * them: not the CPUs online, which a CI job pinned to one of them
	 * also has) */
	if (migrate__cpus() >= 2)
		ck_assert_uint_ge(migrate__load_threads(MANY), 2);
}

END_TEST

Suite *
revision_file_suite(void)
{
	Suite *s = suite_create("revision_file");

	add_test(s, test_revfile_sample);
	add_test(s, test_revfile_unterminated_sql_at_load);
	add_test(s, test_revfile_psql_refusals_at_load);
	add_test(s, test_revfile_merge);
	add_test(s, test_revfile_empty_marker);
	add_test(s, test_revfile_empty_downgrade);
	add_test(s, test_revfile_downgrade_first);
	add_test(s, test_revfile_header_details);
	add_test(s, test_revfile_body_kept_exactly);
	add_test(s, test_revfile_bom);
	add_test(s, test_revfile_crlf);
	add_test(s, test_revfile_checksum_normalisation);
	add_test(s, test_revfile_options);
	add_test(s, test_revfile_section_options_direct);
	add_test(s, test_revfile_section_options_values);
	add_test(s, test_revfile_errors);
	add_test(s, test_revfile_args);
	add_test(s, test_revfile_big_file);
	add_test(s, test_revfile_many_markers_linear);
	add_test(s, test_revfile_load_dir);
	add_test(s, test_revfile_load_dir_compact);
	add_test(s, test_revfile_load_dir_missing);
	add_test(s, test_revfile_open_dir);
	add_test(s, test_revfile_open_dir_bad_file_first);
	add_test(s, test_revfile_load_dir_empty);
	add_test(s, test_revfile_load_dir_symlink_loop);
	add_test(s, test_revfile_load_dir_dangling);
	add_test(s, test_revfile_load_dir_parse_error);
	add_test(s, test_revfile_load_dir_unreadable);
	add_test(s, test_revfile_load_dir_many);
	add_test(s, test_revfile_load_dir_first_bad_wins);
	add_test(s, test_revfile_load_threads);
	add_test(s, test_revfile_load_dir_sql_in_file);
	add_test(s, test_revfile_changed_after_load);
	return s;
}
