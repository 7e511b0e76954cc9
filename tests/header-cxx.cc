// SPDX-License-Identifier: MIT
// Compile-only: the public headers must be usable from C++.
#include <libmigrate-backend.h>
#include <libmigrate.h>

int
main()
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;

	return opts.version == MIGRATE_OPTIONS_VERSION ? 0 : 1;
}
