/* SPDX-License-Identifier: MIT */
/*
 * Every URL form over TCP on 127.0.0.1 with the password user
 * (scram-sha-256), and connection failures: one clear line, never the
 * password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate.h>

#include "pg-test.h"

/* The password as the harness encoded it in MIGRATE_TEST_PW_URL. */
static void
encoded_password(char *out, size_t outlen)
{
	const char *url = pgt_env("MIGRATE_TEST_PW_URL");
	const char *user = pgt_env("MIGRATE_TEST_PW_USER");
	const char *p = strstr(url, "://");
	const char *at;

	ck_assert_ptr_nonnull(p);
	p += 3 + strlen(user) + 1;
	at = strrchr(url, '@');
	ck_assert_ptr_nonnull(at);
	snprintf(out, outlen, "%.*s", (int)(at - p), p);
}

/* Fail when @msg leaks the password in any spelling. */
static void
assert_no_password(const char *msg)
{
	const char *pw = pgt_env("MIGRATE_TEST_PW_PASSWORD");
	char enc[128];
	const char *tail = strrchr(pw, '-');

	encoded_password(enc, sizeof(enc));
	ck_assert_msg(strstr(msg, pw) == NULL, "password in <%s>", msg);
	ck_assert_msg(strstr(msg, enc) == NULL, "password in <%s>", msg);
	/* the random part alone */
	ck_assert_ptr_nonnull(tail);
	ck_assert_msg(strstr(msg, tail + 1) == NULL, "password in <%s>", msg);
}

static void
connect_and_check(const char *url)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	const char *msg = NULL;
	int status = -1, rc;
	char *v;

	o.database_url = url;
	o.flags = MIGRATE_OPEN_READONLY;
	o.schema = "url_test";
	rc = migrate_open(&m, pgt_chain(), NULL, &o);
	ck_assert_msg(rc == 0, "%s: %s", url, migrate_errmsg(m));
	rc = migrate_verify(&status, &msg, m, 0);
	ck_assert_int_eq(rc, MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_UNINITIALISED);
	assert_no_password(msg);
	/* really over TCP, as the password user */
	v = pgt_rows(migrate_native_connection(m),
		     "SELECT current_user, inet_server_addr(), "
		     "current_setting('application_name')");
	ck_assert_str_eq(v, "migrate_pw|127.0.0.1|migrate\n");
	free(v);
	migrate_close(m);
}

START_TEST(test_url_every_form_connects)
{
	const char *port = pgt_env("MIGRATE_TEST_PORT");
	const char *pw = pgt_env("MIGRATE_TEST_PW_PASSWORD");
	static const char *const schemes[] = {
		"postgresql",         "postgres",
		"postgresql+asyncpg", "postgresql+psycopg2",
		"postgresql+psycopg", "postgres+pg8000",
	};
	char enc[128], url[512];
	size_t i;

	encoded_password(enc, sizeof(enc));
	connect_and_check(pgt_env("MIGRATE_TEST_PW_URL"));
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		snprintf(url, sizeof(url),
			 "%s://migrate_pw:%s@127.0.0.1:%s/postgres", schemes[i],
			 enc, port);
		connect_and_check(url);
	}
	/* asyncpg's query options */
	snprintf(
		url, sizeof(url),
		"postgresql+asyncpg://migrate_pw:%s@127.0.0.1:%s/postgres?ssl=prefer&prepared_statement_cache_size=0&timeout=10",
		enc, port);
	connect_and_check(url);
	/* the host as a query parameter, IPv4 in brackets is not IPv6:
	 * use the plain form */
	snprintf(url, sizeof(url),
		 "postgresql://migrate_pw:%s@/postgres?host=127.0.0.1&port=%s",
		 enc, port);
	connect_and_check(url);
	/* libpq conninfo */
	snprintf(
		url, sizeof(url),
		"host=127.0.0.1 port=%s user=migrate_pw password='%s' dbname=postgres",
		port, pw);
	connect_and_check(url);
}

END_TEST

static void
expect_connect_failure(const char *url, const char *needle)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	const char *msg = NULL;
	int status = -1;

	o.database_url = url;
	ck_assert_int_eq(migrate_open(&m, pgt_chain(), NULL, &o),
			 MIGRATE_EBACKEND);
	ck_assert_ptr_nonnull(m);
	msg = migrate_errmsg(m);
	ck_assert_msg(strchr(msg, '\n') == NULL, "not one line: <%s>", msg);
	ck_assert_msg(strstr(msg, needle) != NULL, "<%s> lacks <%s>", msg,
		      needle);
	assert_no_password(msg);
	ck_assert_int_eq(migrate_verify(&status, &msg, m, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_CANNOT_CONNECT);
	ck_assert_msg(strchr(msg, '\n') == NULL, "not one line: <%s>", msg);
	assert_no_password(msg);
	migrate_close(m);
}

START_TEST(test_url_connect_failures)
{
	const char *port = pgt_env("MIGRATE_TEST_PORT");
	const char *pw = pgt_env("MIGRATE_TEST_PW_PASSWORD");
	char enc[128], url[512];

	encoded_password(enc, sizeof(enc));
	/* wrong password */
	snprintf(url, sizeof(url),
		 "postgresql://migrate_pw:%sX@127.0.0.1:%s/postgres", enc,
		 port);
	expect_connect_failure(url, "password authentication failed");
	snprintf(
		url, sizeof(url),
		"host=127.0.0.1 port=%s user=migrate_pw password='%sX' dbname=postgres",
		port, pw);
	expect_connect_failure(url, "password authentication failed");
	/* nothing listens on port 1 of 127.0.0.1 */
	snprintf(url, sizeof(url),
		 "postgresql+asyncpg://migrate_pw:%s@127.0.0.1:1/postgres",
		 enc);
	expect_connect_failure(url, "Connection refused");
	/* unknown database */
	snprintf(url, sizeof(url),
		 "postgresql://migrate_pw:%s@127.0.0.1:%s/no_such_db", enc,
		 port);
	expect_connect_failure(url, "\"no_such_db\" does not exist");
}

END_TEST

START_TEST(test_url_malformed_is_einval)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	const char *msg;

	o.database_url = "postgresql://u:Sekrit99@127.0.0.1:99999/x";
	ck_assert_int_eq(migrate_open(&m, pgt_chain(), NULL, &o),
			 MIGRATE_EINVAL);
	msg = migrate_errmsg(m);
	ck_assert_msg(strstr(msg, "port") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, "Sekrit99") == NULL, "%s", msg);
	migrate_close(m);
}

END_TEST

Suite *
pg_url_suite(void)
{
	Suite *s = suite_create("pg_url");

	add_test(s, test_url_every_form_connects);
	add_test(s, test_url_connect_failures);
	add_test(s, test_url_malformed_is_einval);
	return s;
}
