/* SPDX-License-Identifier: MIT */
/*
 * The baseline `migrate check` is compared with: connect with libpq (PG*
 * environment, or the conninfo in argv[1]), run SELECT 1, disconnect.
 */
#include <stdio.h>

#include <libpq-fe.h>

int
main(int argc, char **argv)
{
	PGconn *conn = PQconnectdb(argc > 1 ? argv[1] : "");
	PGresult *res;
	int ok;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "connect-select1: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "connect-select1: %s", PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
	return ok ? 0 : 1;
}
