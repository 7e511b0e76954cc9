/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
memory_suite(void)
{
	return suite_create("memory");
}
