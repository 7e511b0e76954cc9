/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
sql_split_suite(void)
{
	return suite_create("sql_split");
}
