/* SPDX-License-Identifier: MIT */
/* The backend contract suite (tests/contract) against PostgreSQL. */
#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "contract.h"
#include "pg-test.h"

static struct migrate_backend *
create(void)
{
	struct migrate_backend *be = NULL;

	ck_assert_int_eq(migrate_backend_pq_new(&be, pgt_url), 0);
	return be;
}

static struct migrate_backend *
create_second(struct migrate_backend *first)
{
	(void)first;
	return create();
}

/* The server fails the scenarios' SQL by itself. */
static void
arm_failure(struct migrate_backend *be, const char *substring)
{
	(void)be;
	(void)substring;
}

static const struct contract_backend postgres = {
	create, create_second, arm_failure, pgt_setup, pgt_teardown,
};

Suite *
pg_contract_suite(void)
{
	return contract_suite("pg_contract", &postgres);
}
