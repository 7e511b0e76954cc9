/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
registry_suite(void)
{
	return suite_create("registry");
}
