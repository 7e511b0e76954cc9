/* SPDX-License-Identifier: MIT */
/* placeholder: tests not written yet */
#include "suites.h"

Suite *
revision_file_suite(void)
{
	return suite_create("revision_file");
}
