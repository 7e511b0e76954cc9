/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
verify_suite(void)
{
	return suite_create("verify");
}
