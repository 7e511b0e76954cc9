/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
plan_suite(void)
{
	return suite_create("plan");
}
