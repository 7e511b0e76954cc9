/* SPDX-License-Identifier: MIT */
/*
 * The server version for the upgrade pre-flight: libpg_query speaks
 * PostgreSQL 15's grammar, so against a newer server a parse failure is
 * only a warning. The lint component sits outside the library and sees
 * the connection through migrate_native_connection() only, hence this one
 * libpq call here rather than in backend-pq.c.
 */
#include <libpq-fe.h>

#include "migrate-lint.h"

int
migrate_lint_server_version(struct migrate *m)
{
	PGconn *conn = migrate_native_connection(m);

	return conn ? PQserverVersion(conn) : 0;
}
