/* SPDX-License-Identifier: MIT */
/*
 * migrate__sql_split(): every quoting construct, comments, BEGIN ATOMIC
 * bodies, positions, errors and large inputs. Every input is copied into a
 * heap buffer of exactly its length (no NUL), so that ASan catches any
 * read past the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate.h>

#include "private.h"
#include "suites.h"
#include "test-common.h"

struct split {
	char *buf; /* exact-size copy of the input, not NUL-terminated */
	size_t len;
	struct migrate_sql_stmt *v;
	size_t n;
	int rc;
	struct migrate_diag err;
};

static void
split_n(struct split *sp, const char *sql, size_t len)
{
	memset(sp, 0, sizeof(*sp));
	sp->len = len;
	sp->buf = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(sp->buf);
	if (len)
		memcpy(sp->buf, sql, len);
	sp->n = 12345;
	sp->rc = migrate__sql_split(sp->buf, len, &sp->v, &sp->n, &sp->err);
}

static void
split_str(struct split *sp, const char *sql)
{
	split_n(sp, sql, strlen(sql));
}

static void
split_free(struct split *sp)
{
	free(sp->buf);
	free(sp->v);
	memset(sp, 0, sizeof(*sp));
}

/* Split @sql, which must succeed with @n statements. */
#define split_ok(sp, sql, count)                                               \
	do {                                                                   \
		split_str((sp), (sql));                                        \
		ck_assert_msg((sp)->rc == 0, "rc %d: %s", (sp)->rc,            \
			      (sp)->err.msg);                                  \
		ck_assert_msg((sp)->n == (size_t)(count),                      \
			      "expected %zu statements, got %zu",              \
			      (size_t)(count), (sp)->n);                       \
	} while (0)

/* Statement @i has text @text at @line:@col. */
#define expect_stmt(sp, i, text, line, col)                                    \
	expect_stmt_((sp), (i), (text), (line), (col), "line", __LINE__)

static void
expect_stmt_(const struct split *sp,
	     size_t i,
	     const char *text,
	     size_t line,
	     size_t col,
	     const char *what,
	     int at)
{
	const struct migrate_sql_stmt *st;
	size_t tlen = strlen(text);

	ck_assert_msg(i < sp->n, "%s %d: no statement %zu (n=%zu)", what, at, i,
		      sp->n);
	st = &sp->v[i];
	ck_assert_msg(st->offset <= sp->len && st->len <= sp->len - st->offset,
		      "%s %d: statement %zu out of bounds", what, at, i);
	ck_assert_msg(st->len == tlen &&
			      memcmp(sp->buf + st->offset, text, tlen) == 0,
		      "%s %d: statement %zu is \"%.*s\", expected \"%s\"", what,
		      at, i, (int)st->len, sp->buf + st->offset, text);
	ck_assert_msg(st->line == line && st->column == col,
		      "%s %d: statement %zu at %zu:%zu, expected %zu:%zu", what,
		      at, i, st->line, st->column, line, col);
}

/* Input -> statements (text, line, column), one row per case; the name is
 * the behaviour it pins down. */
struct split_case {
	const char *name;
	const char *sql;
	size_t n;

	struct {
		size_t i; /* which statement */
		const char *text;
		size_t line, col;
	} stmt[6];
};

static const struct split_case split_cases[] = {
	{ "empty", " \t\r\n\f\v \n", 0, { { 0, NULL, 0, 0 } } },
	{ "only_comments", "-- just a comment", 0, { { 0, NULL, 0, 0 } } },
	{ "only_comments",
	  "-- one\n/* two; */\n  /* three /* nested; */ */ --x\n",
	  0,
	  { { 0, NULL, 0, 0 } } },
	{ "only_comments",
	  "SELECT 1; -- a\n; /* b */ ; SELECT 2",
	  2,
	  { { 0, "SELECT 1", 1, 1 }, { 1, "SELECT 2", 2, 13 } } },
	{ "semicolons_only", ";;;", 0, { { 0, NULL, 0, 0 } } },
	{ "semicolons_only", " ; ;\n;\t; ", 0, { { 0, NULL, 0, 0 } } },
	{ "trailing_without_semicolon",
	  "SELECT 1;\n  SELECT 2  \n",
	  2,
	  { { 0, "SELECT 1", 1, 1 }, { 1, "SELECT 2", 2, 3 } } },
	{ "trailing_without_semicolon",
	  "SELECT 3 -- no semicolon",
	  1,
	  { { 0, "SELECT 3 -- no semicolon", 1, 1 } } },
	{ "trailing_without_semicolon",
	  "SELECT 4 \t\n ;",
	  1,
	  { { 0, "SELECT 4", 1, 1 } } },
	{ "leading_comments_kept",
	  "SELECT 1; -- done\n/* really */\n",
	  1,
	  { { 0, "SELECT 1", 1, 1 } } },
	{ "single_quotes",
	  "SELECT 'a;b', 'it''s; fine', '';SELECT ''';'",
	  2,
	  { { 0, "SELECT 'a;b', 'it''s; fine', ''", 1, 1 },
	    { 1, "SELECT ''';'", 1, 33 } } },
	{ "single_quotes",
	  "SELECT 'C:\\';SELECT 2",
	  2,
	  { { 0, "SELECT 'C:\\'", 1, 1 }, { 1, "SELECT 2", 1, 14 } } },
	{ "single_quotes",
	  "INSERT INTO t VALUES ('a\n;\nb');\nSELECT 1;",
	  2,
	  { { 0, "INSERT INTO t VALUES ('a\n;\nb')", 1, 1 },
	    { 1, "SELECT 1", 4, 1 } } },
	{ "e_strings",
	  "SELECT E'it\\'s; here';"
	  "SELECT e'\\\\';"
	  "SELECT E'a''b;c', E'\\\\\\'';"
	  "SELECT 4",
	  4,
	  { { 0, "SELECT E'it\\'s; here'", 1, 1 },
	    { 1, "SELECT e'\\\\'", 1, 23 },
	    { 2, "SELECT E'a''b;c', E'\\\\\\''", 1, 36 },
	    { 3, "SELECT 4", 1, 62 } } },
	{ "e_strings",
	  "SELECT fe'a\\';SELECT 2",
	  2,
	  { { 0, "SELECT fe'a\\'", 1, 1 } } },
	{ "e_strings",
	  "SELECT 1,E'\\';x';SELECT 2",
	  2,
	  { { 0, "SELECT 1,E'\\';x'", 1, 1 } } },
	{ "e_strings",
	  "SELECT E 'x;y'; SELECT E",
	  2,
	  { { 0, "SELECT E 'x;y'", 1, 1 }, { 1, "SELECT E", 1, 17 } } },
	{ "u_strings",
	  "SELECT U&'d\\0061t\\+000061;\\';"
	  "SELECT u&'!0441;' UESCAPE '!';"
	  "SELECT U&\"a;\"\"b\"",
	  3,
	  { { 0, "SELECT U&'d\\0061t\\+000061;\\'", 1, 1 },
	    { 1, "SELECT u&'!0441;' UESCAPE '!'", 1, 30 },
	    { 2, "SELECT U&\"a;\"\"b\"", 1, 60 } } },
	{ "quoted_identifiers",
	  "CREATE TABLE \"a;\"\"b\" (\"x'\" int);\n"
	  "SELECT \"--\", \"/*\" FROM \"$$\";",
	  2,
	  { { 0, "CREATE TABLE \"a;\"\"b\" (\"x'\" int)", 1, 1 },
	    { 1, "SELECT \"--\", \"/*\" FROM \"$$\"", 2, 1 } } },
	{ "dollar_quotes",
	  "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ "
	  "LANGUAGE sql;\n"
	  "CREATE FUNCTION g() RETURNS void AS $fn$\n"
	  "BEGIN\n"
	  "  PERFORM 1; RAISE NOTICE $$x;$$;\n"
	  "END;\n"
	  "$fn$ LANGUAGE plpgsql;\n"
	  "DO $_x1$ BEGIN NULL; END $_x1$;",
	  3,
	  { { 0,
	      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ "
	      "LANGUAGE sql",
	      1, 1 },
	    { 1,
	      "CREATE FUNCTION g() RETURNS void AS $fn$\n"
	      "BEGIN\n"
	      "  PERFORM 1; RAISE NOTICE $$x;$$;\n"
	      "END;\n"
	      "$fn$ LANGUAGE plpgsql",
	      2, 1 },
	    { 2, "DO $_x1$ BEGIN NULL; END $_x1$", 7, 1 } } },
	{ "dollar_quotes",
	  "SELECT $A$ ; $a$ ; $A$;SELECT 2",
	  2,
	  { { 0, "SELECT $A$ ; $a$ ; $A$", 1, 1 } } },
	{ "dollar_quotes",
	  "SELECT $é$;$é$;SELECT 2",
	  2,
	  { { 0, "SELECT $é$;$é$", 1, 1 }, { 1, "SELECT 2", 1, 16 } } },
	{ "dollar_lookalikes",
	  "SELECT $ab$ $a$ ; $ab ; $abc$ ; $ab$;SELECT 2",
	  2,
	  { { 0, "SELECT $ab$ $a$ ; $ab ; $abc$ ; $ab$", 1, 1 } } },
	{ "dollar_lookalikes",
	  "SELECT $b$ $a$ ; $b$, $a$ $b$ ; $a$;SELECT 2",
	  2,
	  { { 0, "SELECT $b$ $a$ ; $b$, $a$ $b$ ; $a$", 1, 1 } } },
	{ "dollar_lookalikes",
	  "SELECT $a$x$$a$;SELECT 2",
	  2,
	  { { 0, "SELECT $a$x$$a$", 1, 1 } } },
	{ "dollar_lookalikes",
	  "SELECT $q$abc$q$;SELECT 2",
	  2,
	  { { 0, "SELECT $q$abc$q$", 1, 1 } } },
	{ "dollar_not_quotes",
	  "PREPARE p AS SELECT $1, $2;SELECT $1$;SELECT 3",
	  3,
	  { { 0, "PREPARE p AS SELECT $1, $2", 1, 1 },
	    { 1, "SELECT $1$", 1, 28 },
	    { 2, "SELECT 3", 1, 39 } } },
	{ "dollar_not_quotes",
	  "SELECT a$b$ FROM t;SELECT $b$;$b$",
	  2,
	  { { 0, "SELECT a$b$ FROM t", 1, 1 },
	    { 1, "SELECT $b$;$b$", 1, 20 } } },
	{ "dollar_not_quotes",
	  "SELECT $;SELECT $ a;SELECT $",
	  3,
	  { { 2, "SELECT $", 1, 21 } } },
	{ "block_comments",
	  "/* a /* b; */ ; */ SELECT 1; SELECT /* ; */ 2",
	  2,
	  { { 0, "/* a /* b; */ ; */ SELECT 1", 1, 1 },
	    { 1, "SELECT /* ; */ 2", 1, 30 } } },
	{ "block_comments",
	  "/* it's */ SELECT 1;\n"
	  "/* \"x /* $$ */ ' */ SELECT 2;\n"
	  "-- don't\n"
	  "SELECT 3;",
	  3,
	  { { 0, "/* it's */ SELECT 1", 1, 1 },
	    { 1, "/* \"x /* $$ */ ' */ SELECT 2", 2, 1 },
	    { 2, "-- don't\nSELECT 3", 3, 1 } } },
	{ "block_comments",
	  "SELECT 1 /*/ ; */;SELECT 2 */ 3",
	  2,
	  { { 0, "SELECT 1 /*/ ; */", 1, 1 }, { 1, "SELECT 2 */ 3", 1, 19 } } },
	{ "line_comments",
	  "SELECT 1 -- a;b\n;SELECT 2 --;\n",
	  2,
	  { { 0, "SELECT 1 -- a;b", 1, 1 }, { 1, "SELECT 2 --;", 2, 2 } } },
	{ "line_comments",
	  "SELECT 1+--2;\n3;SELECT 4",
	  2,
	  { { 0, "SELECT 1+--2;\n3", 1, 1 } } },
	{ "line_comments",
	  "SELECT 4-2/1;SELECT -1",
	  2,
	  { { 1, "SELECT -1", 1, 14 } } },
	{ "strings_with_comment_markers",
	  "SELECT '--', '/*';\n"
	  "SELECT \"/*\";\n"
	  "SELECT $$--$$, E'/*\\'';\n"
	  "SELECT '*/';",
	  4,
	  { { 0, "SELECT '--', '/*'", 1, 1 },
	    { 1, "SELECT \"/*\"", 2, 1 },
	    { 2, "SELECT $$--$$, E'/*\\''", 3, 1 },
	    { 3, "SELECT '*/'", 4, 1 } } },
	{ "begin_atomic",
	  "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
	  "BEGIN ATOMIC\n"
	  "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
	  "  SELECT CASE WHEN a > 1 THEN CASE WHEN a > 2 THEN 3 END "
	  "END;\n"
	  "  SELECT (CASE a WHEN 1 THEN 1 END);\n"
	  "END;\n"
	  "SELECT f(1);",
	  2,
	  { { 0,
	      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
	      "BEGIN ATOMIC\n"
	      "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
	      "  SELECT CASE WHEN a > 1 THEN CASE WHEN a > 2 THEN 3 END "
	      "END;\n"
	      "  SELECT (CASE a WHEN 1 THEN 1 END);\n"
	      "END",
	      1, 1 },
	    { 1, "SELECT f(1)", 7, 1 } } },
	{ "begin_atomic",
	  "create or replace procedure p() language sql\n"
	  "begin /* c */ atomic\n"
	  "  insert into legend values ('end;'); -- end;\n"
	  "  update \"end\" set end_ = 1, x_case = 2;\n"
	  "end ;\n"
	  "CALL p()",
	  2,
	  { { 1, "CALL p()", 6, 1 } } },
	{ "begin_not_atomic",
	  "BEGIN; SELECT 1; END;",
	  3,
	  { { 0, "BEGIN", 1, 1 }, { 2, "END", 1, 18 } } },
	{ "begin_not_atomic",
	  "SELECT CASE WHEN true THEN 1 END; SELECT 2",
	  2,
	  { { 0, NULL, 0, 0 } } },
	{ "begin_not_atomic",
	  "CREATE FUNCTION \"begin\"() RETURNS int LANGUAGE sql "
	  "AS 'SELECT 1'; SELECT \"begin\"();",
	  2,
	  { { 0, NULL, 0, 0 } } },
	{ "begin_not_atomic",
	  "SELECT begin atomic; SELECT 2",
	  2,
	  { { 0, NULL, 0, 0 } } },
	{ "begin_not_atomic",
	  "CREATE FUNCTION f(begin int, atomic int) RETURNS int "
	  "RETURN 1; SELECT 2",
	  2,
	  { { 0, NULL, 0, 0 } } },
	{ "begin_not_atomic",
	  "CREATE TABLE begin (atomic int); SELECT 1",
	  2,
	  { { 0, NULL, 0, 0 } } },
	{ "combined",
	  "/* header; 'x' */\n"
	  "CREATE INDEX CONCURRENTLY \"i;1\" ON t (lower(name)) "
	  "WHERE note <> 'a;b' AND tag <> E'\\';';\n"
	  "-- comment; with $$ and '\n"
	  "ALTER TYPE mood ADD VALUE 'it''s;';\n"
	  "DO $do$ BEGIN EXECUTE $x$SELECT ';'$x$; END $do$;\n"
	  "CREATE FUNCTION h() RETURNS text LANGUAGE sql\n"
	  "BEGIN ATOMIC SELECT $$;$$ || ';' /* ; */; END;\n"
	  "VACUUM t",
	  5,
	  { { 0,
	      "/* header; 'x' */\n"
	      "CREATE INDEX CONCURRENTLY \"i;1\" ON t (lower(name)) "
	      "WHERE note <> 'a;b' AND tag <> E'\\';'",
	      1, 1 },
	    { 1,
	      "-- comment; with $$ and '\n"
	      "ALTER TYPE mood ADD VALUE 'it''s;'",
	      3, 1 },
	    { 2, "DO $do$ BEGIN EXECUTE $x$SELECT ';'$x$; END $do$", 5, 1 },
	    { 3,
	      "CREATE FUNCTION h() RETURNS text LANGUAGE sql\n"
	      "BEGIN ATOMIC SELECT $$;$$ || ';' /* ; */; END",
	      6, 1 },
	    { 4, "VACUUM t", 8, 1 } } },
	{ "crlf",
	  "SELECT 1;\r\nSELECT 'a\r\nb';\r\n  SELECT 3 -- x\r\n;\r\n"
	  "\r\n\tSELECT 4\r\n",
	  4,
	  { { 0, "SELECT 1", 1, 1 },
	    { 1, "SELECT 'a\r\nb'", 2, 1 },
	    { 2, "SELECT 3 -- x", 4, 3 },
	    { 3, "SELECT 4", 7, 2 } } },
	{ "meta_commands",
	  "SELECT '\n\\x';\n"
	  "SELECT E'\n\\\\';\n"
	  "/*\n\\x */ SELECT $$\n\\y\n$$;\n"
	  "-- \\z\n"
	  "SELECT \"\n\\\"",
	  4,
	  { { 0, NULL, 0, 0 } } },
};

/* Input -> the one-line error, one row per case. */
static const struct {
	const char *name;
	const char *sql;
	const char *msg;
} error_cases[] = {
	{ "dollar_lookalikes", "SELECT 1;\nSELECT 'abc;\n",
	  "line 2: unterminated quoted string" },
	{ "dollar_lookalikes", "SELECT 1;\n\nSELECT E'abc\\';",
	  "line 3: unterminated E'' string" },
	{ "dollar_lookalikes", "SELECT \"abc;",
	  "line 1: unterminated quoted identifier" },
	{ "dollar_lookalikes",
	  "SELECT 1;\nCREATE FUNCTION f() AS\n$fn$ SELECT 1;\n$fn",
	  "line 3: unterminated dollar-quoted string starting with "
	  "$fn$" },
	{ "dollar_lookalikes", "SELECT $$ x",
	  "line 1: unterminated dollar-quoted string starting with $$" },
	{ "dollar_lookalikes", "SELECT $A$ x $a$",
	  "line 1: unterminated dollar-quoted string starting with $A$" },
	{ "dollar_lookalikes", "SELECT 1;\n/* a /* b */\nSELECT 2;",
	  "line 2: unterminated /* comment" },
	{ "dollar_not_quotes", "SELECT 'it''",
	  "line 1: unterminated quoted string" },
	{ "dollar_not_quotes", "'", "line 1: unterminated quoted string" },
	{ "dollar_not_quotes", "SELECT U&'x",
	  "line 1: unterminated quoted string" },
	{ "block_comments", "SELECT 1;\n\\connect other\nSELECT 2;",
	  "line 2: psql meta-command '\\connect' is not supported" },
	{ "block_comments", "\\set ON_ERROR_STOP on",
	  "line 1: psql meta-command '\\set' is not supported" },
	{ "block_comments", "SELECT 1;\r\n  \t\\i file.sql\r\n",
	  "line 2: psql meta-command '\\i' is not supported" },
	{ "block_comments", "/* x */\n\\",
	  "line 2: psql meta-command '\\' is not supported" },
	{ "line_comments", "SELECT 1\n\\gexec\\g",
	  "line 2: psql meta-command '\\gexec' is not supported" },
};

START_TEST(test_split_table)
{
	size_t i, k;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		const struct split_case *c = &split_cases[i];
		struct split sp;

		split_str(&sp, c->sql);
		ck_assert_msg(sp.rc == 0, "%s (row %zu): rc %d: %s", c->name, i,
			      sp.rc, sp.err.msg);
		ck_assert_msg(sp.n == c->n,
			      "%s (row %zu): %zu statements, expected %zu",
			      c->name, i, sp.n, c->n);
		for (k = 0; k < 6 && c->stmt[k].text; k++)
			expect_stmt_(&sp, c->stmt[k].i, c->stmt[k].text,
				     c->stmt[k].line, c->stmt[k].col, c->name,
				     (int)i);
		split_free(&sp);
		/* checked only (the load of a file): the same count */
		ck_assert_int_eq(migrate__sql_split(c->sql, strlen(c->sql),
						    NULL, &k, NULL),
				 0);
		ck_assert_msg(k == c->n, "%s (row %zu): counted %zu", c->name,
			      i, k);
	}
}

END_TEST

START_TEST(test_split_error_table)
{
	size_t i;

	for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		struct split sp;

		split_str(&sp, error_cases[i].sql);
		ck_assert_msg(sp.rc == MIGRATE_EPARSE,
			      "%s (row %zu): rc %d, expected EPARSE",
			      error_cases[i].name, i, sp.rc);
		ck_assert_msg(strcmp(sp.err.msg, error_cases[i].msg) == 0,
			      "%s (row %zu): message \"%s\", expected \"%s\"",
			      error_cases[i].name, i, sp.err.msg,
			      error_cases[i].msg);
		ck_assert_ptr_null(sp.v);
		ck_assert_uint_eq(sp.n, 0);
		split_free(&sp);
		/* checked only: the same error */
		ck_assert_int_eq(migrate__sql_split(error_cases[i].sql,
						    strlen(error_cases[i].sql),
						    NULL, NULL, &sp.err),
				 MIGRATE_EPARSE);
		ck_assert_str_eq(sp.err.msg, error_cases[i].msg);
	}
}

END_TEST

START_TEST(test_split_empty)
{
	struct migrate_sql_stmt *v = (void *)&v;
	size_t n = 7;
	struct migrate_diag err;
	struct split sp;

	strcpy(err.msg, "junk");
	ck_assert_int_eq(migrate__sql_split(NULL, 0, &v, &n, &err), 0);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err.msg, "");

	split_ok(&sp, "", 0);
	ck_assert_ptr_null(sp.v);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_semicolons_only)
{
	struct split sp;

	split_ok(&sp, ";;SELECT 1;;;SELECT 2;;", 2);
	expect_stmt(&sp, 0, "SELECT 1", 1, 3);
	expect_stmt(&sp, 1, "SELECT 2", 1, 14);
	ck_assert_uint_eq(sp.v[0].offset, 2);
	ck_assert_uint_eq(sp.v[1].offset, 13);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_simple)
{
	struct split sp;

	split_ok(&sp,
		 "CREATE TABLE a (x int);\n"
		 "CREATE TABLE b (y int);\n"
		 "\n"
		 "    INSERT INTO a VALUES (1);   \n",
		 3);
	expect_stmt(&sp, 0, "CREATE TABLE a (x int)", 1, 1);
	expect_stmt(&sp, 1, "CREATE TABLE b (y int)", 2, 1);
	expect_stmt(&sp, 2, "INSERT INTO a VALUES (1)", 4, 5);
	ck_assert_uint_eq(sp.v[0].offset, 0);
	ck_assert_uint_eq(sp.v[0].len, 22);
	ck_assert_uint_eq(sp.v[1].offset, 24);
	ck_assert_uint_eq(sp.v[2].offset, 53);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_leading_comments_kept)
{
	struct split sp;

	split_ok(&sp, "  /*+ SeqScan(t) */ SELECT 1;\n-- why\nSELECT 2;", 2);
	expect_stmt(&sp, 0, "/*+ SeqScan(t) */ SELECT 1", 1, 3);
	expect_stmt(&sp, 1, "-- why\nSELECT 2", 2, 1);
	ck_assert_uint_eq(sp.v[0].offset, 2);
	split_free(&sp);

	/* A comment after the last ';' is not a statement. */
}

END_TEST

START_TEST(test_split_parentheses)
{
	struct split sp;

	/* Like psql: ';' inside parentheses does not end a statement
	 * (multi-action rules). */
	split_ok(&sp,
		 "CREATE RULE r AS ON INSERT TO t DO ALSO "
		 "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n"
		 "SELECT (1));SELECT 3",
		 3);
	expect_stmt(&sp, 0,
		    "CREATE RULE r AS ON INSERT TO t DO ALSO "
		    "(INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))",
		    1, 1);
	/* A stray ')' does not make the depth negative. */
	expect_stmt(&sp, 1, "SELECT (1))", 2, 1);
	expect_stmt(&sp, 2, "SELECT 3", 2, 13);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_utf8_columns)
{
	struct split sp;

	/* Columns count characters, offsets count bytes. */
	split_ok(&sp, "SELECT 'é';  SELECT '日本';SELECT 3;\n  SELECT 'ü'", 4);
	expect_stmt(&sp, 0, "SELECT 'é'", 1, 1);
	expect_stmt(&sp, 1, "SELECT '日本'", 1, 14);
	ck_assert_uint_eq(sp.v[1].offset, 14);
	expect_stmt(&sp, 2, "SELECT 3", 1, 26);
	ck_assert_uint_eq(sp.v[2].offset, 30);
	expect_stmt(&sp, 3, "SELECT 'ü'", 2, 3);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_not_nul_terminated)
{
	struct split sp;

	/* Only the first @len bytes count. */
	split_n(&sp, "SELECT 1;SELECT 2", 8);
	ck_assert_int_eq(sp.rc, 0);
	ck_assert_uint_eq(sp.n, 1);
	expect_stmt(&sp, 0, "SELECT 1", 1, 1);
	split_free(&sp);

	split_n(&sp, "SELECT 'abc';", 11);
	ck_assert_int_eq(sp.rc, MIGRATE_EPARSE);
	split_free(&sp);

	/* Constructs cut right at the end. */
	split_n(&sp, "SELECT $a$ x $a$", 15);
	ck_assert_int_eq(sp.rc, MIGRATE_EPARSE);
	split_free(&sp);
	split_n(&sp, "SELECT E'\\'", 10);
	ck_assert_int_eq(sp.rc, MIGRATE_EPARSE);
	split_free(&sp);
	split_n(&sp, "SELECT /* */", 11);
	ck_assert_int_eq(sp.rc, MIGRATE_EPARSE);
	split_free(&sp);
	split_n(&sp, "SELECT $a$", 9);
	ck_assert_int_eq(sp.rc, 0);
	ck_assert_uint_eq(sp.n, 1);
	split_free(&sp);
	split_n(&sp, "SELECT 1 -", 10);
	ck_assert_int_eq(sp.rc, 0);
	split_free(&sp);
	split_n(&sp, "SELECT 1 /", 10);
	ck_assert_int_eq(sp.rc, 0);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_long_tag_in_message)
{
	char sql[200];
	char expect[200];
	struct split sp;

	/* A 60-character tag is cut in the message. */
	snprintf(
		sql, sizeof(sql), "SELECT $%s$ x",
		"aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff");
	snprintf(
		expect, sizeof(expect),
		"line 1: unterminated dollar-quoted string starting with $%.*s...",
		39, "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee");
	split_str(&sp, sql);
	ck_assert_int_eq(sp.rc, MIGRATE_EPARSE);
	ck_assert_str_eq(sp.err.msg, expect);
	split_free(&sp);
}

END_TEST

START_TEST(test_split_error_buffer)
{
	struct migrate_sql_stmt *v = NULL;
	size_t n = 3;
	struct migrate_diag err;

	/* No diagnostics at all: still a clean error. */
	ck_assert_int_eq(migrate__sql_split("'", 1, &v, &n, NULL),
			 MIGRATE_EPARSE);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(migrate__sql_split("$$", 2, &v, &n, &err),
			 MIGRATE_EPARSE);
	assert_contains(err.msg, "line 1:");
}

END_TEST

/*
 * Where the splitter used to differ from psql 15 (issue 11 §9), psql being
 * the reference: each row is a text and either its statements (separated
 * by "|") or, when @err is set, the splitter's message.
 */
static const struct psql_case {
	const char *sql;
	const char *stmts;
	const char *err;
} psql_cases[] = {
	/* standard_conforming_strings = off: backslashes escape in ''. */
	{ "SET standard_conforming_strings = off;\nSELECT 'x\\'; y\\'';\n"
	  "SELECT 2;",
	  "SET standard_conforming_strings = off|SELECT 'x\\'; y\\''|"
	  "SELECT 2",
	  NULL },
	{ "set session Standard_Conforming_Strings to 'OFF'; SELECT 'a\\';b';"
	  " SELECT 1",
	  "set session Standard_Conforming_Strings to 'OFF'|SELECT 'a\\';b'|"
	  "SELECT 1",
	  NULL },
	{ "SET LOCAL standard_conforming_strings = false; SELECT 'a\\';'",
	  "SET LOCAL standard_conforming_strings = false|SELECT 'a\\';'",
	  NULL },
	/* ... and back on: RESET, RESET ALL, = on, TO DEFAULT. */
	{ "SET standard_conforming_strings = off; RESET "
	  "standard_conforming_strings; SELECT 'a\\'; SELECT 2",
	  "SET standard_conforming_strings = off|RESET "
	  "standard_conforming_strings|SELECT 'a\\'|SELECT 2",
	  NULL },
	{ "SET standard_conforming_strings = off; RESET ALL; SELECT 'a\\';",
	  "SET standard_conforming_strings = off|RESET ALL|SELECT 'a\\'",
	  NULL },
	{ "SET standard_conforming_strings = of; SET "
	  "standard_conforming_strings TO DEFAULT; SELECT 'a\\';",
	  "SET standard_conforming_strings = of|SET standard_conforming_strings "
	  "TO DEFAULT|SELECT 'a\\'",
	  NULL },
	{ "SET standard_conforming_strings = off; SET "
	  "standard_conforming_strings = on; SELECT 'a\\';",
	  "SET standard_conforming_strings = off|SET "
	  "standard_conforming_strings = on|SELECT 'a\\'",
	  NULL },
	/* Only a statement of its own counts, not one inside a body. */
	{ "DO $$BEGIN SET standard_conforming_strings = off; END$$; "
	  "SELECT 'a\\';",
	  "DO $$BEGIN SET standard_conforming_strings = off; END$$|"
	  "SELECT 'a\\'",
	  NULL },
	/* An E'' string continued on the next line keeps its escapes. */
	{ "SELECT E'a'\n'\\''';';\nSELECT 2;", "SELECT E'a'\n'\\''';'|SELECT 2",
	  NULL },
	{ "SELECT E'a'  \n -- note\n  '\\';';\nSELECT 2;",
	  "SELECT E'a'  \n -- note\n  '\\';'|SELECT 2", NULL },
	/* Without a newline in between it is no continuation. */
	{ "SELECT E'a' '\\'; SELECT 2", "SELECT E'a' '\\'|SELECT 2", NULL },
	/* psql 15 lexes 1e as one token (integer_junk): no E'' string. */
	{ "SELECT 1e'\\';\nSELECT 2;", "SELECT 1e'\\'|SELECT 2", NULL },
	{ "SELECT 1.5e'\\';SELECT 2", "SELECT 1.5e'\\'|SELECT 2", NULL },
	{ "SELECT 1e5e'\\';SELECT 2", "SELECT 1e5e'\\'|SELECT 2", NULL },
	{ "SELECT .5E'\\';SELECT 2", "SELECT .5E'\\'|SELECT 2", NULL },
	{ "SELECT $1e'\\';SELECT 2", "SELECT $1e'\\'|SELECT 2", NULL },
	{ "SELECT x1e'a';SELECT e'\\';'", "SELECT x1e'a'|SELECT e'\\';'",
	  NULL },
	/* A routine whose unquoted BEGIN is not BEGIN ATOMIC: psql reads
	 * on to an END; refused rather than split either way. */
	{ "SELECT 1;\nCREATE PROCEDURE begin() LANGUAGE sql AS $$ SELECT 1 "
	  "$$;\nSELECT 2;",
	  NULL,
	  "line 2: BEGIN in CREATE FUNCTION/PROCEDURE that is not BEGIN "
	  "ATOMIC: psql would read on to a matching END; write \"begin\" in "
	  "quotes if it is a name" },
	{ "CREATE OR REPLACE FUNCTION f() RETURNS int BEGIN", NULL,
	  "line 1: BEGIN in CREATE FUNCTION/PROCEDURE that is not BEGIN "
	  "ATOMIC: psql would read on to a matching END; write \"begin\" in "
	  "quotes if it is a name" },
	{ "CREATE PROCEDURE \"begin\"() LANGUAGE sql AS $$ SELECT 1 $$;\n"
	  "SELECT 2;",
	  "CREATE PROCEDURE \"begin\"() LANGUAGE sql AS $$ SELECT 1 $$|"
	  "SELECT 2",
	  NULL },
	{ "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; SELECT 2",
	  "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END|SELECT 2", NULL },
	/* psql meta-commands in the middle of a line. */
	{ "SELECT 1 \\g\nSELECT 2;", NULL,
	  "line 1: psql meta-command '\\g' is not supported" },
	{ "SELECT 1;\nSELECT 1 \\; SELECT 2;", NULL,
	  "line 2: psql meta-command '\\;' is not supported" },
	{ "SELECT 1;\n\nSELECT x FROM t \\gset\n", NULL,
	  "line 3: psql meta-command '\\gset' is not supported" },
};

START_TEST(test_split_psql_differences)
{
	size_t k;

	for (k = 0; k < sizeof(psql_cases) / sizeof(psql_cases[0]); k++) {
		const struct psql_case *pc = &psql_cases[k];
		struct split sp;
		const char *want = pc->stmts;
		size_t i;

		split_str(&sp, pc->sql);
		if (pc->err) {
			ck_assert_msg(sp.rc == MIGRATE_EPARSE,
				      "row %zu: rc %d, expected EPARSE", k,
				      sp.rc);
			ck_assert_msg(strcmp(sp.err.msg, pc->err) == 0,
				      "row %zu: message \"%s\"", k, sp.err.msg);
			split_free(&sp);
			continue;
		}
		ck_assert_msg(sp.rc == 0, "row %zu: rc %d: %s", k, sp.rc,
			      sp.err.msg);
		for (i = 0; i < sp.n; i++) {
			const char *bar = strchr(want, '|');
			size_t wl = bar ? (size_t)(bar - want) : strlen(want);

			ck_assert_msg(sp.v[i].len == wl &&
					      memcmp(sp.buf + sp.v[i].offset,
						     want, wl) == 0,
				      "row %zu, statement %zu: \"%.*s\"", k, i,
				      (int)sp.v[i].len,
				      sp.buf + sp.v[i].offset);
			ck_assert_msg(bar || i + 1 == sp.n,
				      "row %zu: more statements than expected",
				      k);
			want = bar ? bar + 1 : want + wl;
		}
		ck_assert_msg(*want == '\0', "row %zu: missing \"%s\"", k,
			      want);
		split_free(&sp);
	}
}

END_TEST

/* Repeat @unit until @size bytes. */
static char *
repeat(const char *unit, size_t size, size_t *count)
{
	size_t ul = strlen(unit), n = size / ul, i;
	char *s = malloc(n * ul);

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	*count = n;
	return s;
}

START_TEST(test_split_1mb_mixed)
{
	static const char unit[] =
		"CREATE TABLE \"t;\" (a text DEFAULT 'x;''y');\n"
		"/* c /* ; */ */ INSERT INTO t VALUES (E'\\';', $$;$$);\n"
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
		"BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END;\n"
		"-- done;\n";
	size_t count, n, i;
	char *s = repeat(unit, 1024 * 1024, &count);
	struct migrate_sql_stmt *v = NULL;
	struct migrate_diag err;

	ck_assert_int_eq(
		migrate__sql_split(s, count * strlen(unit), &v, &n, &err), 0);
	ck_assert_uint_eq(n, 3 * count);
	for (i = 0; i < n; i++) {
		size_t k = i / 3;

		/* The "-- done;" comment of the previous unit is kept in
		 * front of each unit's first statement. */
		if (i % 3 == 0 && k > 0)
			ck_assert_uint_eq(v[i].line, k * 5);
		else
			ck_assert_uint_eq(v[i].line, k * 5 + 1 + (i % 3));
		ck_assert_uint_eq(v[i].column, 1);
	}
	ck_assert_uint_eq(v[n - 1].offset, (count - 1) * strlen(unit) + 98);
	ck_assert_uint_eq(v[n - 1].len, 95);
	free(v);
	free(s);
}

END_TEST

START_TEST(test_split_1mb_one_line)
{
	/* 100,000+ statements on one line: columns must be computed in
	 * linear time. */
	size_t count, n;
	char *s = repeat("SELECT 1;  ", 1024 * 1024, &count);
	struct migrate_sql_stmt *v = NULL;
	struct migrate_diag err;

	ck_assert_int_eq(migrate__sql_split(s, count * 11, &v, &n, &err), 0);
	ck_assert_uint_eq(n, count);
	ck_assert_uint_eq(v[n - 1].line, 1);
	ck_assert_uint_eq(v[n - 1].column, (count - 1) * 11 + 1);
	ck_assert_uint_eq(v[n - 1].len, 8);
	free(v);
	free(s);
}

END_TEST

START_TEST(test_split_1mb_constructs)
{
	size_t len = 1024 * 1024, i, n;
	char *s = malloc(len);
	struct migrate_sql_stmt *v = NULL;
	struct migrate_diag err;

	ck_assert_ptr_nonnull(s);

	/* 512 KB of nested comment openers, then as many closers: no
	 * recursion, one statement. */
	for (i = 0; i < len / 2; i += 2)
		memcpy(s + i, "/*", 2);
	for (; i < len; i += 2)
		memcpy(s + i, "*/", 2);
	memcpy(s + len - 2, "1;", 2);
	ck_assert_int_eq(migrate__sql_split(s, len, &v, &n, &err),
			 MIGRATE_EPARSE);
	ck_assert_str_eq(err.msg, "line 1: unterminated /* comment");
	ck_assert_ptr_null(v);
	/* One opener less: balanced. */
	memcpy(s, "  ", 2);
	ck_assert_int_eq(migrate__sql_split(s, len, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].offset, 2);
	ck_assert_uint_eq(v[0].len, len - 3);
	ck_assert_uint_eq(v[0].column, 3);
	free(v);

	/* One huge dollar-quoted string full of near-miss tags. */
	memcpy(s, "SELECT $abcd$", 13);
	for (i = 13; i + 5 <= len - 20; i += 5)
		memcpy(s + i, "$abc;", 5);
	for (; i < len - 20; i++)
		s[i] = ';';
	memcpy(s + len - 20, "$abcd$;\n SELECT 2  \n", 20);
	ck_assert_int_eq(migrate__sql_split(s, len, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(v[0].offset, 0);
	ck_assert_uint_eq(v[0].len, len - 14);
	ck_assert_uint_eq(v[1].line, 2);
	ck_assert_uint_eq(v[1].column, 2);
	ck_assert_uint_eq(v[1].len, 8);
	free(v);

	/* 1 MB of ';' and blanks: nothing. */
	for (i = 0; i < len; i++)
		s[i] = (i % 3) ? ';' : '\n';
	ck_assert_int_eq(migrate__sql_split(s, len, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);

	/* 1 MB of '(' : one statement. */
	memset(s, '(', len);
	ck_assert_int_eq(migrate__sql_split(s, len, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].len, len);
	free(v);
	free(s);
}

END_TEST

Suite *
sql_split_suite(void)
{
	Suite *s = suite_create("sql_split");

	add_test(s, test_split_table);
	add_test(s, test_split_error_table);

	add_test(s, test_split_empty);
	add_test(s, test_split_semicolons_only);
	add_test(s, test_split_simple);
	add_test(s, test_split_leading_comments_kept);
	add_test(s, test_split_parentheses);
	add_test(s, test_split_utf8_columns);
	add_test(s, test_split_not_nul_terminated);
	add_test(s, test_split_long_tag_in_message);
	add_test(s, test_split_error_buffer);
	add_test(s, test_split_psql_differences);
	add_test(s, test_split_1mb_mixed);
	add_test(s, test_split_1mb_one_line);
	add_test(s, test_split_1mb_constructs);
	return s;
}
