/* SPDX-License-Identifier: CC0-1.0 */
/*
 * notes: an application that carries its own revisions (revisions/*.sql,
 * embedded at build time by migrate-embed-revisions) and migrates its
 * database to them, then checks at startup that it is at the head this
 * build needs, as a service would.
 *
 *   notes [CONNINFO]   CONNINFO: a URL or libpq conninfo; without it, the
 *                      in-memory backend (a fake database)
 *
 * Exit status: 0 at head, 1 on any error (the message says which).
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmigrate.h>

#include "embedded-revisions.h"

static void
check(struct migrate *m, int rc, const char *what)
{
	const char *sqlstate;

	if (rc >= 0)
		return;
	sqlstate = migrate_sqlstate(m);
	fprintf(stderr, "notes: %s failed: %s (%d): %s%s%s\n", what,
		migrate_strerror(rc), rc, migrate_errmsg(m),
		sqlstate ? ", SQLSTATE " : "", sqlstate ? sqlstate : "");
	migrate_close(m);
	exit(1);
}

int
main(int argc, char **argv)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_registry *reg = NULL;
	struct migrate_backend *be = NULL;
	struct migrate *m = NULL;
	const char *msg = NULL;
	int rc, status;

	rc = migrate_registry_new(&reg);
	if (rc == 0)
		rc = embedded_revisions_load(reg);
	if (rc < 0) {
		fprintf(stderr, "notes: revisions: %s\n",
			reg ? migrate_registry_errmsg(reg) : "out of memory");
		migrate_registry_free(reg);
		return 1;
	}
	if (argc > 1) {
		opts.database_url = argv[1];
	} else {
		rc = migrate_backend_memory_new(&be);
		if (rc < 0) {
			migrate_registry_free(reg);
			check(NULL, rc, "migrate_backend_memory_new");
		}
	}
	/* Takes the registry and the backend, even on failure. */
	check(m, migrate_open(&m, reg, be, &opts), "migrate_open");
	check(m, migrate_upgrade(m, "head"), "upgrade to head");

	/* What a service does at startup: is the schema the one it needs? */
	rc = migrate_verify(&status, &msg, m, 0);
	if (rc < 0) {
		fprintf(stderr, "notes: %s\n", msg ? msg : migrate_errmsg(m));
		migrate_close(m);
		return 1;
	}
	printf("notes: %zu embedded revisions, schema at head (%s)\n",
	       embedded_revisions_count, argc > 1 ? "PostgreSQL" : "memory");
	migrate_close(m);
	return 0;
}
