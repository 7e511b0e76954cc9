/* SPDX-License-Identifier: MIT */
/* Every unit suite; main.c runs them, meson runs each as its own test. */
#ifndef LIBMIGRATE_TEST_SUITES_H
#define LIBMIGRATE_TEST_SUITES_H

#include <check.h>

Suite *util_suite(void);
Suite *registry_suite(void);
Suite *revision_file_suite(void);
Suite *plan_suite(void);
Suite *apply_suite(void);
Suite *verify_suite(void);
Suite *memory_suite(void);
Suite *threads_suite(void);
Suite *sql_split_suite(void);
Suite *url_suite(void);
Suite *script_suite(void);
Suite *contract_memory_suite(void);
#ifdef MIGRATE_HAVE_LINT
Suite *lint_suite(void);
#endif

#endif
