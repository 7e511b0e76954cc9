/* SPDX-License-Identifier: MIT */
/* The backend contract suite (tests/contract) against the memory backend. */
#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "backend-memory.h"
#include "contract.h"
#include "private.h"
#include "suites.h"

static struct migrate_backend *
create(void)
{
	struct migrate_backend *be = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	return be;
}

static struct migrate_backend *
create_second(struct migrate_backend *first)
{
	struct migrate_backend *be = NULL;

	ck_assert_int_eq(migrate_backend_memory_new_shared(&be, first), 0);
	return be;
}

/* The fake runs no SQL: it fails what the server would (22012 is
 * division_by_zero). */
static void
arm_failure(struct migrate_backend *be, const char *substring)
{
	ck_assert_int_eq(
		migrate__backend_memory_fail_match(be, substring, "22012"), 0);
}

static const struct contract_backend memory = {
	create, create_second, arm_failure, NULL, NULL,
};

Suite *
contract_memory_suite(void)
{
	return contract_suite("contract", &memory);
}
