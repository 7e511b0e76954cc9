/* SPDX-License-Identifier: MIT */
/* The internal helpers every other file builds on: buf, strv, quoting. */
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

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");

	add_test(s, test_buf_grows_and_terminates);
	add_test(s, test_buf_steal_empty_is_empty_string);
	add_test(s, test_sql_quoting);
	add_test(s, test_strv_push_find_remove_copy);
	add_test(s, test_utf8_chars);
	add_test(s, test_xsnprintf_truncates);
	add_test(s, test_strerror_and_status_names);
	return s;
}
