/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
script_suite(void)
{
	return suite_create("script");
}
