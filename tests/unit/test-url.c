/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
url_suite(void)
{
	return suite_create("url");
}
