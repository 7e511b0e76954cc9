/* SPDX-License-Identifier: MIT */
/* The internal helpers every other file builds on: buf, strv, quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "test-common.h"
#include "util.h"

START_TEST(test_buf_grows_and_terminates)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	ck_assert(!b.oom);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	ck_assert(strcmp(b.data + b.len - 4, "999,") == 0);
	s = buf_steal(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_ptr_nonnull(s);
	free(s);
}

END_TEST

START_TEST(test_buf_steal_empty_is_empty_string)
{
	struct buf b = BUF_INIT;
	char *s = buf_steal(&b);

	ck_assert_str_eq(s, "");
	free(s);
}

END_TEST

START_TEST(test_sql_quoting)
{
	struct buf b = BUF_INIT;

	buf_sql_literal(&b, "it's");
	buf_puts(&b, " ");
	buf_sql_literal(&b, "back\\slash'");
	buf_puts(&b, " ");
	buf_sql_ident(&b, "my \"table\"");
	ck_assert_str_eq(b.data,
			 "'it''s' E'back\\\\slash''' \"my \"\"table\"\"\"");
	buf_free(&b);
}

END_TEST

START_TEST(test_strv_push_find_remove_copy)
{
	struct strv a = STRV_INIT, c = STRV_INIT;

	ck_assert_int_eq(strv_push(&a, "x"), 0);
	ck_assert_int_eq(strv_push(&a, "y"), 0);
	ck_assert_int_eq(strv_pushn(&a, "zzz", 1), 0);
	ck_assert_uint_eq(a.n, 3);
	ck_assert_int_eq(strv_find(&a, "z"), 2);
	ck_assert_int_eq(strv_find(&a, "nope"), -1);
	strv_remove(&a, 0);
	ck_assert_str_eq(a.v[0], "y");
	ck_assert_int_eq(strv_copy(&c, &a), 0);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_str_eq(c.v[1], "z");
	ck_assert_ptr_ne(c.v[1], a.v[1]);
	strv_clear(&a);
	strv_clear(&c);
	ck_assert_uint_eq(a.n, 0);
}

END_TEST

START_TEST(test_utf8_chars)
{
	ck_assert_int_eq(utf8_chars("abc", 3), 3);
	/* "é" is two bytes, "€" three: positions count characters. */
	ck_assert_int_eq(utf8_chars("\xc3\xa9t\xe2\x82\xac", 6), 3);
	ck_assert_int_eq(utf8_chars("\xc3\xa9t\xe2\x82\xac", 3), 2);
	ck_assert_int_eq(utf8_chars("ab\0cd", 5), 2);
}

END_TEST

START_TEST(test_xsnprintf_truncates)
{
	char small[4];

	xsnprintf(small, sizeof(small), "%s", "abcdef");
	ck_assert_str_eq(small, "abc");
}

END_TEST

START_TEST(test_strerror_and_status_names)
{
	ck_assert_str_eq(migrate_strerror(MIGRATE_ELOCKED),
			 "migration lock not obtained");
	ck_assert_str_eq(migrate_strerror(12345), "unknown error code");
	ck_assert_str_eq(migrate_status_name(MIGRATE_STATUS_BEHIND), "behind");
	ck_assert_str_eq(migrate_errmsg(NULL), "out of memory");
	ck_assert_int_eq(migrate_version_number() / 10000, 0);
	ck_assert_str_eq(migrate_version_string(), "0.1.0");
}

END_TEST

/* The one duration grammar (libmigrate/util/migrate-util.h), table-driven. */
START_TEST(test_duration_grammar)
{
	static const struct {
		const char *text;
		int ok;
		int ms;
	} cases[] = {
		{ "0", 1, 0 },
		{ "500ms", 1, 500 },
		{ "5s", 1, 5000 },
		{ "1.5s", 1, 1500 },
		{ "2min", 1, 120000 },
		{ "1h", 1, 3600000 },
		{ "0s", 1, 0 },
		{ "0.0001s", 1, 1 },
		{ "2147483647ms", 1, 2147483647 },
		/* refused: bare numbers, signs, blanks, exponents, junk */
		{ "500", 0, 0 },
		{ "00", 0, 0 },
		{ "-5s", 0, 0 },
		{ "+5s", 0, 0 },
		{ " 5s", 0, 0 },
		{ "5 s", 0, 0 },
		{ "5s ", 0, 0 },
		{ "1e3ms", 0, 0 },
		{ "5.s", 0, 0 },
		{ ".5s", 0, 0 },
		{ "5sec", 0, 0 },
		{ "5m", 0, 0 },
		{ "", 0, 0 },
		{ "s", 0, 0 },
		{ "2147483648ms", 0, 0 },
		{ "600h", 0, 0 },
		{ "99999999999999999999s", 0, 0 },
	};

	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ms = -7;
		bool ok = migrate__duration_parse(cases[i].text,
						  strlen(cases[i].text), &ms);

		ck_assert_msg(ok == (cases[i].ok != 0), "'%s': %s",
			      cases[i].text, ok ? "accepted" : "refused");
		if (ok)
			ck_assert_msg(ms == cases[i].ms, "'%s': %d ms, want %d",
				      cases[i].text, ms, cases[i].ms);
		else
			ck_assert_int_eq(ms, -7);
	}
	/* Only @len bytes count. */
	{
		int ms = 0;

		ck_assert(migrate__duration_parse("5sXX", 2, &ms));
		ck_assert_int_eq(ms, 5000);
	}
}

END_TEST

START_TEST(test_idset_and_join)
{
	struct migrate__idset set;
	const char *ids[] = { "a", "bb", "c" };
	char names[1000][8], out[16];
	size_t i;

	ck_assert(migrate__idset_init(&set, 2));
	for (i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "r%zu", i);
		ck_assert_int_eq(migrate__idset_add(&set, names[i]), 1);
	}
	ck_assert_int_eq(migrate__idset_add(&set, "r7"), 0);
	ck_assert(migrate__idset_has(&set, "r999"));
	ck_assert(!migrate__idset_has(&set, "r1000"));
	ck_assert_uint_eq(set.n, 1000);
	migrate__idset_free(&set);

	ck_assert_str_eq(migrate__join_ids(out, sizeof(out), ids, 3, ", ", "-"),
			 "a, bb, c");
	ck_assert_str_eq(
		migrate__join_ids(out, sizeof(out), ids, 0, ",", "<base>"),
		"<base>");
	ck_assert_str_eq(migrate__join_ids(out, 5, ids, 3, ",", ""), "a,bb");
	ck_assert(migrate__clock_ms() > 0);
	ck_assert(migrate__clock_wall() > 1e9);
}

END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");

	add_test(s, test_duration_grammar);
	add_test(s, test_idset_and_join);
	add_test(s, test_buf_grows_and_terminates);
	add_test(s, test_buf_steal_empty_is_empty_string);
	add_test(s, test_sql_quoting);
	add_test(s, test_strv_push_find_remove_copy);
	add_test(s, test_utf8_chars);
	add_test(s, test_xsnprintf_truncates);
	add_test(s, test_strerror_and_status_names);
	return s;
}
