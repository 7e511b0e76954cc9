/* SPDX-License-Identifier: CC0-1.0 */
/*
 * libmigrate without a database server: two revisions defined in C, the
 * in-memory backend (a fake database for tests), an upgrade to head, the
 * current revision, then a downgrade back to base.
 *
 * Build: cc memory.c $(pkg-config --cflags --libs libmigrate)
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmigrate.h>

/* The error idiom: every call returns 0 or a negative code; the handle
 * holds the message and, for SQL errors, the SQLSTATE. */
static void
check(struct migrate *m, int rc, const char *what)
{
	const char *sqlstate;

	if (rc >= 0)
		return;
	sqlstate = migrate_sqlstate(m);
	fprintf(stderr, "%s failed: %s (%d): %s%s%s\n", what,
		migrate_strerror(rc), rc, migrate_errmsg(m),
		sqlstate ? ", SQLSTATE " : "", sqlstate ? sqlstate : "");
	migrate_close(m);
	exit(1);
}

/* Same for registry calls, which report through the registry. */
static void
check_registry(struct migrate_registry *reg, int rc, const char *what)
{
	if (rc >= 0)
		return;
	fprintf(stderr, "%s failed: %s (%d): %s\n", what, migrate_strerror(rc),
		rc, reg ? migrate_registry_errmsg(reg) : "");
	migrate_registry_free(reg);
	exit(1);
}

static void
print_current(struct migrate *m)
{
	const char *const *ids;
	size_t i, n;

	check(m, migrate_current(&ids, &n, m), "migrate_current");
	printf("current:");
	if (n == 0)
		printf(" <base>");
	for (i = 0; i < n; i++)
		printf(" %s", ids[i]);
	printf("\n");
}

int
main(void)
{
	static const char *const after_001[] = { "001" };
	struct migrate_revision_def r1 = MIGRATE_REVISION_DEF_INIT;
	struct migrate_revision_def r2 = MIGRATE_REVISION_DEF_INIT;
	struct migrate_registry *reg = NULL;
	struct migrate_backend *be = NULL;
	struct migrate *m = NULL;
	int rc;

	check_registry(NULL, migrate_registry_new(&reg),
		       "migrate_registry_new");

	r1.id = "001";
	r1.message = "create projects";
	r1.upgrade_sql = "CREATE TABLE projects (id text PRIMARY KEY);";
	r1.downgrade_sql = "DROP TABLE projects;";
	check_registry(reg, migrate_registry_add(reg, &r1), "add 001");

	r2.id = "002";
	r2.parents = after_001;
	r2.n_parents = 1;
	r2.message = "add projects.name";
	r2.upgrade_sql = "ALTER TABLE projects ADD COLUMN name text;";
	r2.downgrade_sql = "ALTER TABLE projects DROP COLUMN name;";
	check_registry(reg, migrate_registry_add(reg, &r2), "add 002");

	rc = migrate_backend_memory_new(&be);
	if (rc < 0) {
		migrate_registry_free(reg);
		check(NULL, rc, "migrate_backend_memory_new");
	}
	/* migrate_open() takes the registry and the backend, even on
	 * failure; @m must be closed in every case. */
	check(m, migrate_open(&m, reg, be, NULL), "migrate_open");

	check(m, migrate_upgrade(m, "head"), "upgrade to head");
	print_current(m);
	check(m, migrate_downgrade(m, "base"), "downgrade to base");
	print_current(m);

	migrate_close(m);
	return 0;
}
