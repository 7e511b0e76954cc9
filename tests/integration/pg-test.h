/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the integration tests. They run under tests/pg-harness.sh
 * (PGHOST/PGPORT/PGUSER/PGDATABASE point at a throwaway server), use the
 * public ABI of libmigrate only, and libpq directly to look at the result.
 * Every test gets a database of its own (pgt_setup/pgt_teardown).
 */
#ifndef LIBMIGRATE_PG_TEST_H
#define LIBMIGRATE_PG_TEST_H

#include <stddef.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "test-assert.h"

/* One TCase per test, named after the function (CK_RUN_CASE=name). */
#define add_test(suite, fn)                                                    \
	do {                                                                   \
		TCase *tc_ = tcase_create(#fn);                                \
		tcase_add_checked_fixture(tc_, pgt_setup, pgt_teardown);       \
		tcase_add_test(tc_, fn);                                       \
		suite_add_tcase((suite), tc_);                                 \
	} while (0)

/* The test's own database and a conninfo for it (unix socket). */
extern char pgt_db[64];
extern char pgt_url[128];
/* The directory of the repository's revisions/ (argv[1]), or NULL. */
extern const char *pgt_revisions_dir;

void pgt_setup(void);
void pgt_teardown(void);

/* A connection to @db (NULL: the test's database) as the superuser. */
PGconn *pgt_connect(const char *db);

/* Run @sql, failing the test on error. */
void pgt_exec(PGconn *c, const char *sql);

/* First column of the first row as a malloc'ed string ("" for no row,
 * "<null>" for NULL); fails the test on error. */
char *pgt_value(PGconn *c, const char *sql);

/* Same, as a number. */
long pgt_long(PGconn *c, const char *sql);

/* All rows, columns separated by '|', rows by '\n' (malloc'ed). */
char *pgt_rows(PGconn *c, const char *sql);

/* A registry parsed from (filename, text) pairs, NULL-terminated. */
struct migrate_registry *pgt_registry(const char *const *files);

/* The three-revision chain 001 -> 002 -> 003 used by most tests. */
struct migrate_registry *pgt_chain(void);

/* Open a handle on @url (NULL: the test's database) with @opts (NULL:
 * defaults); fails the test unless it opens. */
struct migrate *pgt_open(struct migrate_registry *reg,
			 const char *url,
			 const struct migrate_options *opts);

/* Create and drop an extra database. */
void pgt_create_db(const char *name);
void pgt_drop_db(const char *name);

/* The environment variable @name or fail the test. */
const char *pgt_env(const char *name);

/* Milliseconds of a monotonic clock. */
double pgt_now_ms(void);

Suite *pg_apply_suite(void);
Suite *pg_backend_suite(void);
Suite *pg_url_suite(void);
Suite *pg_script_suite(void);
Suite *pg_contract_suite(void);

#endif
