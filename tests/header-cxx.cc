// SPDX-License-Identifier: MIT
// Compile-only: the public headers must be usable from C++.
#include <libmigrate-backend.h>
#include <libmigrate.h>

int
main()
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend be = MIGRATE_BACKEND_INIT;

	return opts.version == MIGRATE_OPTIONS_VERSION &&
			       be.version == MIGRATE_BACKEND_VERSION && !be.free
		       ? 0
		       : 1;
}
