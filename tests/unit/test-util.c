/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
util_suite(void)
{
	return suite_create("util");
}
