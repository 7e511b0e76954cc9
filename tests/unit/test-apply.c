/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
apply_suite(void)
{
	return suite_create("apply");
}
