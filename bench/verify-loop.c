/* SPDX-License-Identifier: MIT */
/*
 * Micro-benchmark: in-process migrate_verify() on an open connection, as a
 * service calls it, against the floor of one round trip (PQexec "SELECT 1"
 * on a connection of its own).
 *
 *   usage: verify-loop REVISIONS_DIR [ITERATIONS]
 *
 * Connects through libpq's PG* environment, opens a read-only handle on
 * REVISIONS_DIR, runs ITERATIONS (default 2000) verifies and as many
 * SELECT 1, after 50 warm-up calls of each, and prints one line:
 *   verify p50 P p90 P p99 P ms; SELECT 1 p50 P p90 P p99 P ms
 * Exit status 1 when a call fails or the database is not at head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libpq-fe.h>

#include <libmigrate.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static void
report(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_value);
	printf("%s p50 %.3f p90 %.3f p99 %.3f ms", what, pct(v, n, 0.50),
	       pct(v, n, 0.90), pct(v, n, 0.99));
}

int
main(int argc, char **argv)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_registry *reg = NULL;
	struct migrate *m = NULL;
	PGconn *conn = NULL;
	double *tv = NULL, *ts = NULL;
	long iters = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
	int rc = 1, status;
	long i;

	if (argc < 2 || iters < 1) {
		fprintf(stderr,
			"usage: verify-loop REVISIONS_DIR [ITERATIONS]\n");
		return 2;
	}
	if (migrate_registry_new(&reg) < 0 ||
	    migrate_registry_load_dir(reg, argv[1]) < 0) {
		fprintf(stderr, "verify-loop: %s\n",
			reg ? migrate_registry_errmsg(reg) : "out of memory");
		migrate_registry_free(reg);
		return 1;
	}
	opts.flags = MIGRATE_OPEN_READONLY;
	if (migrate_open(&m, reg, NULL, &opts) < 0) {
		fprintf(stderr, "verify-loop: %s\n", migrate_errmsg(m));
		goto out;
	}
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "verify-loop: %s", PQerrorMessage(conn));
		goto out;
	}
	tv = calloc((size_t)iters, sizeof(*tv));
	ts = calloc((size_t)iters, sizeof(*ts));
	if (!tv || !ts)
		goto out;
	for (i = -50; i < iters; i++) {
		double t0 = now_ms(), t1, t2;
		PGresult *res;

		if (migrate_verify(&status, NULL, m, 0) != 0) {
			fprintf(stderr, "verify-loop: %s\n", migrate_errmsg(m));
			goto out;
		}
		t1 = now_ms();
		res = PQexec(conn, "SELECT 1");
		t2 = now_ms();
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(stderr, "verify-loop: %s",
				PQerrorMessage(conn));
			PQclear(res);
			goto out;
		}
		PQclear(res);
		if (i >= 0) {
			tv[i] = t1 - t0;
			ts[i] = t2 - t1;
		}
	}
	report("verify", tv, (size_t)iters);
	printf("; ");
	report("SELECT 1", ts, (size_t)iters);
	printf("\n");
	rc = 0;
out:
	free(tv);
	free(ts);
	PQfinish(conn);
	migrate_close(m);
	return rc;
}
