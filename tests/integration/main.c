/* SPDX-License-Identifier: MIT */
/*
 * Runner of the integration tests (run it through tests/pg-harness.sh),
 * and the helpers of pg-test.h.
 *
 *   usage: test-pg [REVISIONS-DIR]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate.h>

#include "pg-test.h"

char pgt_db[64];
char pgt_url[128];
const char *pgt_revisions_dir;

static unsigned int db_counter;

const char *
pgt_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s is not set: run through tests/pg-harness.sh",
		      name);
	return v;
}

double
pgt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *
pgt_connect(const char *db)
{
	const char *const keys[] = { "dbname", "application_name", NULL };
	const char *const vals[] = { db ? db : pgt_db, "pg-test", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 0);

	ck_assert_msg(c && PQstatus(c) == CONNECTION_OK,
		      "cannot connect to %s: %s", vals[0],
		      c ? PQerrorMessage(c) : "out of memory");
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

void
pgt_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s",
		      sql, PQresultErrorMessage(res));
	PQclear(res);
}

char *
pgt_value(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	char *v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
		      PQresultErrorMessage(res));
	if (PQntuples(res) == 0)
		v = strdup("");
	else if (PQgetisnull(res, 0, 0))
		v = strdup("<null>");
	else
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	ck_assert_ptr_nonnull(v);
	return v;
}

long
pgt_long(PGconn *c, const char *sql)
{
	char *v = pgt_value(c, sql);
	long n = strtol(v, NULL, 10);

	free(v);
	return n;
}

char *
pgt_rows(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	size_t cap = 1, len = 0;
	char *out;
	int r, f;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
		      PQresultErrorMessage(res));
	for (r = 0; r < PQntuples(res); r++)
		for (f = 0; f < PQnfields(res); f++)
			cap += strlen(PQgetvalue(res, r, f)) + 1;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	out[0] = '\0';
	for (r = 0; r < PQntuples(res); r++) {
		for (f = 0; f < PQnfields(res); f++) {
			const char *v = PQgetvalue(res, r, f);
			size_t n = strlen(v);

			memcpy(out + len, v, n);
			len += n;
			out[len++] = f + 1 < PQnfields(res) ? '|' : '\n';
		}
	}
	out[len] = '\0';
	PQclear(res);
	return out;
}

void
pgt_create_db(const char *name)
{
	PGconn *c = pgt_connect("postgres");
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	pgt_exec(c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	pgt_exec(c, sql);
	PQfinish(c);
}

void
pgt_drop_db(const char *name)
{
	PGconn *c = pgt_connect("postgres");
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	pgt_exec(c, sql);
	PQfinish(c);
}

void
pgt_setup(void)
{
	snprintf(pgt_db, sizeof(pgt_db), "mt_%ld_%u", (long)getpid(),
		 ++db_counter);
	snprintf(pgt_url, sizeof(pgt_url), "dbname=%s", pgt_db);
	pgt_create_db(pgt_db);
}

void
pgt_teardown(void)
{
	pgt_drop_db(pgt_db);
}

struct migrate_registry *
pgt_registry(const char *const *files)
{
	struct migrate_registry *reg = NULL;
	size_t i;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	for (i = 0; files[i]; i += 2)
		assert_reg_ok(
			reg, migrate_registry_parse(reg, files[i], files[i + 1],
						    strlen(files[i + 1])));
	return reg;
}

struct migrate_registry *
pgt_chain(void)
{
	static const char *const files[] = {
		"revisions/001_items.sql",
		"-- Create items.\n"
		"--\n"
		"-- Revision ID: 001\n"
		"-- Revises:\n"
		"-- Create Date: 2026-01-01\n"
		"\n"
		"-- migrate:upgrade\n"
		"CREATE TABLE items (id integer PRIMARY KEY, name text NOT "
		"NULL);\n"
		"\n"
		"-- migrate:downgrade\n"
		"DROP TABLE items;\n",
		"revisions/002_price.sql",
		"-- Add a price.\n"
		"--\n"
		"-- Revision ID: 002\n"
		"-- Revises: 001\n"
		"\n"
		"-- migrate:upgrade\n"
		"ALTER TABLE items ADD COLUMN price numeric(10, 2);\n"
		"-- a trailing comment without a newline after it\n"
		"\n"
		"-- migrate:downgrade\n"
		"ALTER TABLE items DROP COLUMN price -- no semicolon here\n",
		"revisions/003_tags.sql",
		"-- Tags.\n"
		"--\n"
		"-- Revision ID: 003\n"
		"-- Revises: 002\n"
		"\n"
		"-- migrate:upgrade\n"
		"CREATE TABLE tags (item_id integer REFERENCES items (id) ON "
		"DELETE CASCADE, tag text NOT NULL);\n"
		"CREATE INDEX tags_tag ON tags (tag);\n"
		"\n"
		"-- migrate:downgrade\n"
		"DROP TABLE tags;\n",
		NULL,
	};

	return pgt_registry(files);
}

struct migrate *
pgt_open(struct migrate_registry *reg,
	 const char *url,
	 const struct migrate_options *opts)
{
	struct migrate_options o = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	int rc;

	if (opts)
		o = *opts;
	o.database_url = url ? url : pgt_url;
	rc = migrate_open(&m, reg, NULL, &o);
	ck_assert_msg(rc == 0, "migrate_open(%s): %d: %s", o.database_url, rc,
		      migrate_errmsg(m));
	return m;
}

int
main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc > 1 && argv[1][0])
		pgt_revisions_dir = argv[1];
	if (!getenv("PGHOST") || !getenv("MIGRATE_TEST_PORT")) {
		fprintf(stderr,
			"test-pg: run me through tests/pg-harness.sh\n");
		return 77;
	}
	sr = srunner_create(pg_apply_suite());
	srunner_add_suite(sr, pg_backend_suite());
	srunner_add_suite(sr, pg_url_suite());
	srunner_add_suite(sr, pg_script_suite());
	srunner_add_suite(sr, pg_contract_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
