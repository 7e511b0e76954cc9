/* SPDX-License-Identifier: MIT */
/*
 * The single Check runner of the unit tests. CK_RUN_SUITE / CK_RUN_CASE
 * select what runs (meson runs one suite per test()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

	srunner_add_suite(sr, util_suite());
	srunner_add_suite(sr, registry_suite());
	srunner_add_suite(sr, revision_file_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, apply_suite());
	srunner_add_suite(sr, verify_suite());
	srunner_add_suite(sr, memory_suite());
	srunner_add_suite(sr, threads_suite());
	srunner_add_suite(sr, sql_split_suite());
	srunner_add_suite(sr, url_suite());
	srunner_add_suite(sr, script_suite());
	srunner_add_suite(sr, contract_memory_suite());
#ifdef MIGRATE_HAVE_LINT
	srunner_add_suite(sr, lint_suite());
#endif
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
