/* SPDX-License-Identifier: MIT */
/*
 * The backend contract suite: the same scenarios (state reading, steps, a
 * failure in the middle, dirty and resolve, stamp, a concurrent writer)
 * against every backend, through the public API only, so that the memory
 * backend of the unit tests and the libpq backend of the integration tests
 * cannot drift apart (SQLite's permutations.test idea). The unit tests run
 * it against the memory backend, the integration tests against PostgreSQL.
 */
#ifndef LIBMIGRATE_CONTRACT_H
#define LIBMIGRATE_CONTRACT_H

#include <check.h>

#include <libmigrate-backend.h>

struct contract_backend {
	/* A new backend on the test's own, empty database. */
	struct migrate_backend *(*create)(void);
	/* A second connection to the database of @first. */
	struct migrate_backend *(*create_second)(struct migrate_backend *first);
	/* Make every SQL text containing @substring fail as the server
	 * would fail it. Backends that run SQL do nothing: the scenarios'
	 * failing SQL ("SELECT 1/0") fails by itself. */
	void (*arm_failure)(struct migrate_backend *be, const char *substring);
	/* Checked fixture around every test (NULL: none). */
	void (*setup)(void);
	void (*teardown)(void);
};

/* The contract scenarios as suite @name, run against @cb (which must live
 * as long as the suite). */
Suite *contract_suite(const char *name, const struct contract_backend *cb);

#endif
