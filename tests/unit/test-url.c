/* SPDX-License-Identifier: MIT */
/* URL -> conninfo conversion, password redaction, migrate_backend_pq_new
 * validation. No server is contacted. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "private.h"
#include "suites.h"
#include "test-common.h"

/* libpq's reading of @conninfo (a conninfo string or a URI), "" values
 * as unset, one "key='value'" per set option in libpq's order. */
static char *
libpq_reading(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	struct buf b = BUF_INIT;

	opts = PQconninfoParse(conninfo, &msg);
	ck_assert_msg(opts != NULL, "libpq refuses <%s>: %s", conninfo,
		      msg ? msg : "out of memory");
	for (o = opts; o->keyword; o++)
		if (o->val && *o->val)
			buf_printf(&b, "%s='%s' ", o->keyword, o->val);
	PQconninfoFree(opts);
	ck_assert(!b.oom);
	return b.data ? buf_steal(&b) : strdup("");
}

/* What libpq reads from @url after url.c (and the backend's checks)
 * equals what it reads from the conninfo @want. */
static void
expect_conninfo(const char *url, const char *want)
{
	char err[256] = "";
	struct migrate_diag diag;
	char *out = NULL, *got, *wanted;
	struct migrate_backend *be = NULL;
	int rc = migrate__url_to_conninfo(url, &out, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: rc %d: %s", url, rc, err);
	ck_assert_ptr_nonnull(out);
	rc = migrate__backend_pq_new(&be, url, &diag);
	ck_assert_msg(rc == 0, "%s: backend rc %d: %s", url, rc, diag.msg);
	be->free(be);
	got = libpq_reading(out);
	wanted = libpq_reading(want);
	ck_assert_msg(strcmp(got, wanted) == 0,
		      "%s:\n got  <%s> (%s)\n want <%s>", url, got, out,
		      wanted);
	free(got);
	free(wanted);
	free(out);
}

/* Expect the URL refused (MIGRATE_EINVAL) by url.c or the backend's
 * checks, with a message containing @needle and never @secret. */
static void
expect_invalid(const char *url, const char *needle, const char *secret)
{
	struct migrate_diag diag;
	struct migrate_backend *be = (struct migrate_backend *)1;
	int rc = migrate__backend_pq_new(&be, url, &diag);

	ck_assert_msg(rc == MIGRATE_EINVAL, "%s: rc %d", url, rc);
	ck_assert_ptr_null(be);
	ck_assert_msg(strstr(diag.msg, needle) != NULL, "%s: message <%s>", url,
		      diag.msg);
	ck_assert_msg(strchr(diag.msg, '\n') == NULL, "multi-line: <%s>",
		      diag.msg);
	if (secret)
		ck_assert_msg(strstr(diag.msg, secret) == NULL,
			      "password in message <%s>", diag.msg);
}

START_TEST(test_url_postgresql_scheme)
{
	expect_conninfo("postgresql://alice:s3cret@db.example.com:5433/app",
			"user='alice' password='s3cret' "
			"host='db.example.com' port='5433' dbname='app'");
	expect_conninfo("postgresql://db.example.com/app",
			"host='db.example.com' dbname='app'");
	expect_conninfo("postgresql://alice@localhost",
			"user='alice' host='localhost'");
}

END_TEST

START_TEST(test_url_postgres_scheme)
{
	expect_conninfo("postgres://bob:pw@127.0.0.1:5432/mirage",
			"user='bob' password='pw' host='127.0.0.1' "
			"port='5432' dbname='mirage'");
	expect_conninfo("POSTGRESQL://h/d", "host='h' dbname='d'");
}

END_TEST

START_TEST(test_url_driver_suffix)
{
	const char *want = "user='u' password='p' host='h' port='5432' "
			   "dbname='d'";

	expect_conninfo("postgresql+asyncpg://u:p@h:5432/d", want);
	expect_conninfo("postgresql+psycopg2://u:p@h:5432/d", want);
	expect_conninfo("postgresql+psycopg://u:p@h:5432/d", want);
	expect_conninfo("postgresql+pg8000://u:p@h:5432/d", want);
	expect_conninfo("postgres+asyncpg://u:p@h:5432/d", want);
}

END_TEST

START_TEST(test_url_bad_scheme)
{
	expect_invalid("mysql://u:hunter2@h/d",
		       "unsupported database URL "
		       "scheme \"mysql\"",
		       "hunter2");
	expect_invalid("postgresql+://u:hunter2@h/d", "unsupported", "hunter2");
	expect_invalid("postgresql+a-b://u:hunter2@h/d", "unsupported",
		       "hunter2");
	expect_invalid("postgresql:u:hunter2@h/d", "expected \"//\"",
		       "hunter2");
}

END_TEST

START_TEST(test_url_conninfo_passthrough)
{
	expect_conninfo("host=/tmp dbname=app user=x",
			"host=/tmp dbname=app user=x");
	expect_conninfo("  dbname='my db' password='a b'\n",
			"dbname='my db' password='a b'");
	expect_conninfo("", "");
	expect_conninfo(NULL, "");
	expect_conninfo("service=x:y", "service=x:y");
}

END_TEST

START_TEST(test_url_percent_decoding)
{
	expect_conninfo("postgresql://us%40er:p%3Aw%2F%40%25x@h/my%20db",
			"user='us@er' password='p:w/@%x' host='h' "
			"dbname='my db'");
	/* quotes and backslashes are escaped for conninfo */
	expect_conninfo("postgresql://u:it%27s%5C@h/d",
			"user='u' password='it\\'s\\\\' host='h' dbname='d'");
	expect_invalid("postgresql://u:hunter2@h/d%zz", "percent-encoding",
		       "hunter2");
	expect_invalid("postgresql://u:hunter2@h/d%2", "percent-encoding",
		       "hunter2");
	expect_invalid("postgresql://u:hun%00ter2@h/d", "percent-encoding",
		       "hun");
}

END_TEST

START_TEST(test_url_password_with_reserved_characters)
{
	/* SQLAlchemy's rule: the password runs to the first '@'. */
	expect_conninfo("postgresql://u:a/b?c:d@h/db",
			"user='u' password='a/b?c:d' host='h' dbname='db'");
	/* a raw '@' in the password leaves one in the host: refused,
	 * without quoting either part */
	expect_invalid("postgresql://u:hun@ter2@h/db", "'@' in the host",
		       "ter2");
}

END_TEST

START_TEST(test_url_ipv6)
{
	expect_conninfo("postgresql://u@[::1]:5433/d",
			"user='u' host='::1' port='5433' dbname='d'");
	expect_conninfo("postgresql://[fe80::1%25eth0]/d",
			"host='fe80::1%eth0' dbname='d'");
	expect_conninfo("postgresql://[2001:db8::7]/d",
			"host='2001:db8::7' dbname='d'");
	expect_invalid("postgresql://[::1/d", "unterminated '['", NULL);
	expect_invalid("postgresql://[::1]x/d", "after ']'", NULL);
}

END_TEST

START_TEST(test_url_unix_socket)
{
	expect_conninfo("postgresql://u@/app?host=/var/run/postgresql",
			"user='u' dbname='app' host='/var/run/postgresql'");
	expect_conninfo("postgresql://%2Fvar%2Frun%2Fpostgresql/app",
			"host='/var/run/postgresql' dbname='app'");
	expect_conninfo("postgresql:///app", "dbname='app'");
	expect_conninfo("postgresql://", "");
	/* a query host overrides the URL's */
	expect_conninfo("postgresql://h:1/d?host=/tmp",
			"host='/tmp' port='1' dbname='d'");
}

END_TEST

START_TEST(test_url_multiple_hosts)
{
	expect_conninfo("postgresql://a:1,b,[::1]:3/d",
			"host='a,b,::1' port='1,,3' dbname='d'");
	expect_conninfo("postgresql://a,b/d", "host='a,b' port=',' dbname='d'");
	/* libpq's grammar: an empty entry is the default host */
	expect_conninfo("postgresql://a,,b/d",
			"host='a,,b' port=',,' dbname='d'");
}

END_TEST

START_TEST(test_url_ports)
{
	expect_invalid("postgresql://u:hunter2@h:99999/d", "invalid port",
		       "hunter2");
	expect_invalid("postgresql://u:hunter2@h:0/d", "invalid port",
		       "hunter2");
	expect_invalid("postgresql://h:12a/d", "invalid port", NULL);
	expect_invalid("postgresql://h:123456789012345678901/d", "invalid port",
		       NULL);
	expect_conninfo("postgresql://h:/d", "host='h' dbname='d'");
}

END_TEST

START_TEST(test_url_ssl_mapping)
{
	expect_conninfo("postgresql+asyncpg://h/d?ssl=require",
			"host='h' dbname='d' sslmode='require'");
	expect_conninfo("postgresql+asyncpg://h/d?ssl=true",
			"host='h' dbname='d' sslmode='require'");
	expect_conninfo("postgresql+asyncpg://h/d?ssl=false",
			"host='h' dbname='d' sslmode='disable'");
	expect_conninfo("postgresql+asyncpg://h/d?ssl=verify-full",
			"host='h' dbname='d' sslmode='verify-full'");
	expect_conninfo("postgresql://h/d?sslmode=prefer",
			"host='h' dbname='d' sslmode='prefer'");
	expect_invalid("postgresql+asyncpg://h/d?ssl=maybe",
		       "parameter \"ssl\"", NULL);
}

END_TEST

START_TEST(test_url_driver_params)
{
	/* driver-only options are dropped */
	expect_conninfo(
		"postgresql+asyncpg://h/d?prepared_statement_cache_size="
		"0&command_timeout=60&application_name=svc",
		"host='h' dbname='d' application_name='svc'");
	/* asyncpg's timeout= (seconds, fractional) is connect_timeout */
	expect_conninfo("postgresql+asyncpg://h/d?timeout=2.5",
			"host='h' dbname='d' connect_timeout='3'");
	expect_conninfo("postgresql://h/d?connect_timeout=10",
			"host='h' dbname='d' connect_timeout='10'");
	expect_invalid("postgresql://h/d?timeout=soon", "number of seconds",
		       NULL);
	expect_invalid("postgresql+asyncpg://h/d?direct_tls=true",
		       "\"direct_tls\" has no libpq equivalent", NULL);
	/* unknown parameters reach libpq (the backend checks them) */
	expect_conninfo("postgresql://h/d?options=-c%20search_path%3Dx",
			"host='h' dbname='d' options='-c search_path=x'");
	expect_invalid("postgresql://h/d?sslmode", "without '=value'", NULL);
	expect_conninfo("postgresql://h/d?&application_name=a&",
			"host='h' dbname='d' application_name='a'");
	/* unknown ones: libpq refuses them, we name them (no password) */
	expect_invalid("postgresql://h/d?a=1", "unknown parameter \"a\"", NULL);
	/* a raw '@' in the query is no userinfo to libpq */
	expect_conninfo("postgresql://h?application_name=a@b",
			"host='h' application_name='a@b'");
}

END_TEST

START_TEST(test_url_query_password)
{
	expect_conninfo("postgresql://u@h/d?password=p%26q",
			"user='u' host='h' dbname='d' password='p&q'");
}

END_TEST

START_TEST(test_url_trailing_space)
{
	expect_conninfo(" postgresql://h/d\n", "host='h' dbname='d'");
}

END_TEST

/* ---- redaction ---------------------------------------------------- */

static void
expect_redacted(const char *in, const char *want)
{
	char out[512];

	migrate__redact(in, out, sizeof(out));
	ck_assert_msg(strcmp(out, want) == 0,
		      "redact <%s>:\n got  <%s>\n want <%s>", in, out, want);
}

START_TEST(test_redact_url)
{
	expect_redacted("postgresql://alice:s3cret@h:5432/d",
			"postgresql://alice:***@h:5432/d");
	expect_redacted("postgresql+asyncpg://u:a/b@c@h/d x",
			"postgresql+asyncpg://u:***@h/d x");
	expect_redacted("postgresql://alice@h/d", "postgresql://alice@h/d");
	expect_redacted("http://h:80/x", "http://h:80/x");
	expect_redacted("cannot use postgres://u:pw@h/d: refused",
			"cannot use postgres://u:***@h/d: refused");
	/* What the userinfo rule takes for the user name is not shown as it
	 * is when it holds a password=VALUE (found by fuzz-url) */
	expect_redacted("x://a&password=s3cret&b=1:pw@h",
			"x://a&password=***&b=1:***@h");
	expect_redacted("h://s0.0.1&password=s3cret:x@y",
			"h://s0.0.1&password=***:***@y");
}

END_TEST

START_TEST(test_redact_conninfo)
{
	expect_redacted("host=h password=s3cret dbname=d",
			"host=h password=*** dbname=d");
	expect_redacted("host=h password = 's3 cr\\'et' dbname=d",
			"host=h password = *** dbname=d");
	expect_redacted("PASSWORD='it''s' x", "PASSWORD=*** x");
	expect_redacted("sslpassword=k", "sslpassword=***");
	expect_redacted("PGPASSWORD=abc ./migrate", "PGPASSWORD=*** ./migrate");
}

END_TEST

START_TEST(test_redact_query)
{
	expect_redacted("postgresql://h/d?password=p&sslmode=require",
			"postgresql://h/d?password=***&sslmode=require");
	/* a '&' that does not start a parameter is part of the value */
	expect_redacted("password=a&b c", "password=*** c");
}

END_TEST

START_TEST(test_redact_free_text)
{
	expect_redacted("password authentication failed for user \"x\"",
			"password authentication failed for user \"x\"");
	expect_redacted("", "");
}

END_TEST

START_TEST(test_redact_truncates)
{
	char out[8];

	migrate__redact("password=secret-and-long", out, sizeof(out));
	ck_assert_str_eq(out, "passwor");
	migrate__redact("abc", out, 1);
	ck_assert_str_eq(out, "");
	migrate__redact(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
}

END_TEST

/* ---- the libpq backend's constructor ------------------------------- */

START_TEST(test_pq_new_stores_only)
{
	struct migrate_backend *be = NULL;

	/* nothing listens there: the constructor must not connect */
	ck_assert_int_eq(migrate_backend_pq_new(&be, "postgresql://u:p@"
						     "127.0.0.1:1/d"),
			 0);
	ck_assert_ptr_nonnull(be);
	ck_assert_str_eq(be->name, "postgresql");
	ck_assert_int_eq(be->version, MIGRATE_BACKEND_VERSION);
	ck_assert_ptr_null(be->native(be));
	be->free(be);

	ck_assert_int_eq(migrate_backend_pq_new(&be, NULL), 0);
	be->free(be);
	ck_assert_int_eq(migrate_backend_pq_new(&be, "host=/tmp port=1"), 0);
	be->free(be);
}

END_TEST

START_TEST(test_pq_new_rejects_malformed)
{
	struct migrate_backend *be = (struct migrate_backend *)1;
	struct migrate_diag diag;

	ck_assert_int_eq(migrate_backend_pq_new(&be, "mysql://h/d"),
			 MIGRATE_EINVAL);
	ck_assert_ptr_null(be);
	ck_assert_int_eq(
		migrate_backend_pq_new(&be, "postgresql://h/d?bogus=1"),
		MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_backend_pq_new(&be, "host='unterminated"),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(
		migrate__backend_pq_new(
			&be, "postgresql://u:hunter2@h/d?nope=1", &diag),
		MIGRATE_EINVAL);
	/* With a password in the text, the word is not named: it could be
	 * a part of the password. */
	ck_assert_msg(strstr(diag.msg, "unknown parameter") != NULL, "%s",
		      diag.msg);
	ck_assert_msg(strstr(diag.msg, "hunter2") == NULL, "%s", diag.msg);
	ck_assert_int_eq(
		migrate__backend_pq_new(&be, "password=hunter2 x=1", &diag),
		MIGRATE_EINVAL);
	ck_assert_msg(strstr(diag.msg, "hunter2") == NULL, "%s", diag.msg);
}

END_TEST

/* Malformed connection strings whose password holds the marker "Zq9w":
 * the constructor's message names the cause, never a part of it. */
START_TEST(test_pq_new_never_echoes_password)
{
	static const char *const bad[] = {
		"host=127.0.0.1 dbname=x user=u password=abc Zq9w/rd?#x=1",
		"host=127.0.0.1 dbname=x user=u password=abc Zq9w",
		"host=127.0.0.1 dbname=x user=u password=abc Zq9w=1",
		"host=127.0.0.1 dbname=x user=u password='abc Zq9w",
		"password=abc Zq9w dbname=x",
		"dbname='host=127.0.0.1 user=u password=abc Zq9w'",
		"dbname='host=127.0.0.1 user=u password=abc Zq9w=1'",
		"dbname='postgresql://u:abc Zq9w@127.0.0.1:1/x'",
		"dbname=postgresql://u:abcZq9w@127.0.0.1:1/x?bogus=1",
		"postgresql://127.0.0.1:1/x?user=u&password=abc&Zq9w=1",
		"postgresql://u:abc@Zq9w@127.0.0.1:1/x",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct migrate_backend *be = NULL;
		struct migrate_diag diag;
		int rc = migrate__backend_pq_new(&be, bad[i], &diag);

		ck_assert_msg(rc == MIGRATE_EINVAL, "%s: rc %d", bad[i], rc);
		ck_assert_ptr_null(be);
		ck_assert_msg(diag.msg[0] != '\0', "%s: no message", bad[i]);
		ck_assert_msg(strstr(diag.msg, "Zq9w") == NULL, "%s: <%s>",
			      bad[i], diag.msg);
	}
}

END_TEST

/* Without a password in the text, the unknown word is named. */
START_TEST(test_pq_new_names_unknown_keyword)
{
	struct migrate_backend *be = NULL;
	struct migrate_diag diag;

	ck_assert_int_eq(migrate__backend_pq_new(&be, "host=h dbnme=x", &diag),
			 MIGRATE_EINVAL);
	ck_assert_msg(strstr(diag.msg, "\"dbnme\"") != NULL, "%s", diag.msg);
	ck_assert_int_eq(migrate__backend_pq_new(&be, "host='h", &diag),
			 MIGRATE_EINVAL);
	ck_assert_msg(strstr(diag.msg, "unterminated") != NULL, "%s", diag.msg);
}

END_TEST

Suite *
url_suite(void)
{
	Suite *s = suite_create("url");

	add_test(s, test_url_postgresql_scheme);
	add_test(s, test_url_postgres_scheme);
	add_test(s, test_url_driver_suffix);
	add_test(s, test_url_bad_scheme);
	add_test(s, test_url_conninfo_passthrough);
	add_test(s, test_url_percent_decoding);
	add_test(s, test_url_password_with_reserved_characters);
	add_test(s, test_url_ipv6);
	add_test(s, test_url_unix_socket);
	add_test(s, test_url_multiple_hosts);
	add_test(s, test_url_ports);
	add_test(s, test_url_ssl_mapping);
	add_test(s, test_url_driver_params);
	add_test(s, test_url_query_password);
	add_test(s, test_url_trailing_space);
	add_test(s, test_redact_url);
	add_test(s, test_redact_conninfo);
	add_test(s, test_redact_query);
	add_test(s, test_redact_free_text);
	add_test(s, test_redact_truncates);
	add_test(s, test_pq_new_stores_only);
	add_test(s, test_pq_new_rejects_malformed);
	add_test(s, test_pq_new_never_echoes_password);
	add_test(s, test_pq_new_names_unknown_keyword);
	return s;
}
