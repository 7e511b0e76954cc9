/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#ifndef LIBMIGRATE_TEST_COMMON_H
#define LIBMIGRATE_TEST_COMMON_H

#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "test-assert.h"

/* One TCase per test, named after the function, so that
 * CK_RUN_CASE=test_name runs exactly one test. */
#define add_test(suite, fn)                                                    \
	do {                                                                   \
		TCase *tc_ = tcase_create(#fn);                                \
		tcase_add_test(tc_, fn);                                       \
		suite_add_tcase((suite), tc_);                                 \
	} while (0)

/* A chain 001 <- 002 <- ... of @n revisions creating tables t1..tn (with
 * @variant appended to 002's column list, or NULL); NULL on failure.
 * Safe off the main thread (asserts nothing). */
struct migrate_registry *test_chain(int n, const char *variant);

#endif
