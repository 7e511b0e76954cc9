/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. */
#include "test-common.h"

#include <stdio.h>

struct migrate_registry *
test_chain(int n, const char *variant)
{
	struct migrate_registry *reg;
	int i;

	/* No ck_assert here: the threads suite calls this off the main
	 * thread. */
	if (migrate_registry_new(&reg) != 0)
		return NULL;
	for (i = 1; i <= n; i++) {
		struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
		char id[16], parent[16], up[96], down[64];
		const char *parents[1];

		snprintf(id, sizeof(id), "%03d", i);
		snprintf(parent, sizeof(parent), "%03d", i - 1);
		snprintf(up, sizeof(up), "CREATE TABLE t%d (id int%s);", i,
			 i == 2 && variant ? variant : "");
		snprintf(down, sizeof(down), "DROP TABLE t%d;", i);
		parents[0] = parent;
		def.id = id;
		def.parents = i > 1 ? parents : NULL;
		def.n_parents = i > 1 ? 1 : 0;
		def.upgrade_sql = up;
		def.downgrade_sql = down;
		if (migrate_registry_add(reg, &def) != 0) {
			migrate_registry_free(reg);
			return NULL;
		}
	}
	return reg;
}
