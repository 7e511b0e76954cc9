/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
threads_suite(void)
{
	return suite_create("threads");
}
