/* SPDX-License-Identifier: MIT */
/* Compile-only: the public headers must be clean C99 with -pedantic. */
#include <libmigrate-backend.h>
#include <libmigrate-version.h>
#include <libmigrate.h>

int
main(void)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	struct migrate_backend be = MIGRATE_BACKEND_INIT;

	(void)def;
	return opts.version == MIGRATE_OPTIONS_VERSION &&
			       be.version == MIGRATE_BACKEND_VERSION && !be.free
		       ? 0
		       : 1;
}
