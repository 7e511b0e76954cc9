/* SPDX-License-Identifier: MIT */
/*
 * Assertions shared by the unit, integration and contract tests. Each
 * macro evaluates every argument exactly once (libevdev's assert_event
 * pattern): the call under test runs once, and a failure is reported from
 * that one run, not from a second call that may behave differently.
 */
#ifndef LIBMIGRATE_TEST_ASSERT_H
#define LIBMIGRATE_TEST_ASSERT_H

#include <string.h>

#include <check.h>

#include <libmigrate.h>

/* Fail the test with the handle's message when @call does not return 0.
 * @m is read after the call (the call may be what sets it). */
#define assert_ok(m, call)                                                     \
	do {                                                                   \
		int rc_ = (call);                                              \
		ck_assert_msg(rc_ == 0, "%s returned %d: %s", #call, rc_,      \
			      migrate_errmsg(m));                              \
	} while (0)

/* Same for registry calls. */
#define assert_reg_ok(reg, call)                                               \
	do {                                                                   \
		int rc_ = (call);                                              \
		ck_assert_msg(rc_ == 0, "%s returned %d: %s", #call, rc_,      \
			      migrate_registry_errmsg(reg));                   \
	} while (0)

/* Fail unless string @hay contains @needle. */
#define assert_contains(hay, needle)                                           \
	do {                                                                   \
		const char *hay_ = (hay);                                      \
		const char *needle_ = (needle);                                \
		ck_assert_msg(hay_ &&strstr(hay_, needle_) != NULL,            \
			      "'%s' does not contain '%s'",                    \
			      hay_ ? hay_ : "(null)", needle_);                \
	} while (0)

#endif
