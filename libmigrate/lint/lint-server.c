/* SPDX-License-Identifier: MIT */
/*
 * The upgrade pre-flight's server side: the server's version and the
 * policy on it. libpg_query speaks PostgreSQL 15's grammar, so against a
 * newer server a parse failure is only a warning. The lint component sits
 * outside the library and sees the connection through
 * migrate_native_connection() only, hence this one libpq call here rather
 * than in backend-pq.c.
 */
#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "migrate-lint.h"

int
migrate_lint_server_version(struct migrate *m)
{
	PGconn *conn = migrate_native_connection(m);

	return conn ? PQserverVersion(conn) : 0;
}

int
migrate_lint_preflight(const struct migrate_lint *l,
		       int server_version,
		       migrate_lint_line_fn emit,
		       void *payload)
{
	bool newer = server_version >= MIGRATE_LINT_NEWER_SERVER;
	size_t i, n = migrate_lint_count(l);
	char line[2048];

	for (i = 0; i < n; i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);
		char loc[1024];

		migrate_lint_where(f, loc, sizeof(loc));
		if (newer)
			snprintf(
				line, sizeof(line),
				"warning: %s: %s (PostgreSQL 15's parser; the server is newer: going on)",
				loc, f->message);
		else
			snprintf(line, sizeof(line), "%s: %s", loc, f->message);
		emit(line, payload);
	}
	if (n == 0)
		return MIGRATE_LINT_PREFLIGHT_CLEAN;
	if (newer)
		return MIGRATE_LINT_PREFLIGHT_WARN;
	if (server_version == 0)
		snprintf(
			line, sizeof(line),
			"no script written: %zu section%s do%s not parse (--no-parse skips this check)",
			n, n == 1 ? "" : "s", n == 1 ? "es" : "");
	else
		snprintf(
			line, sizeof(line),
			"nothing applied: %zu pending section%s do%s not parse (--no-parse skips this check)",
			n, n == 1 ? "" : "s", n == 1 ? "es" : "");
	emit(line, payload);
	return MIGRATE_LINT_PREFLIGHT_REFUSE;
}
