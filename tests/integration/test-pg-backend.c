/* SPDX-License-Identifier: MIT */
/*
 * The libpq backend's vtable, called directly: run_step's single round
 * trip (positions, bookkeeping, conflicts, rollback), record, lock, exec
 * error fields, timeouts, lost connections, read-only connections.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libpq-fe.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "pg-test.h"

static struct migrate_backend_config cfg_rw = { "alembic_version",
						"migrate_log", NULL, 0, 0 };
static struct migrate_backend_config cfg_ro = { "alembic_version",
						"migrate_log", NULL, 1, 0 };

static struct migrate_backend *
be_open(const char *url, const struct migrate_backend_config *cfg)
{
	struct migrate_backend_error err;
	struct migrate_backend *be = NULL;
	int rc;

	ck_assert_int_eq(migrate_backend_pq_new(&be, url ? url : pgt_url), 0);
	memset(&err, 0, sizeof(err));
	rc = be->connect(be, cfg, &err);
	ck_assert_msg(rc == 0, "connect: %d: %s", rc, err.message);
	return be;
}

static struct migrate_backend *
be_ready(void)
{
	struct migrate_backend *be = be_open(NULL, &cfg_rw);
	struct migrate_backend_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(be->ensure_tables(be, &err) == 0, "%s", err.message);
	/* The tables come with the first write (in its transaction). */
	ck_assert_msg(be->begin(be, &err) == 0, "%s", err.message);
	ck_assert_msg(be->commit(be, &err) == 0, "%s", err.message);
	return be;
}

static void
init_record(struct migrate_record *rec,
	    const char *rev,
	    const char *const *rm,
	    size_t n_rm,
	    const char *const *add,
	    size_t n_add)
{
	memset(rec, 0, sizeof(*rec));
	rec->revision = rev;
	rec->direction = MIGRATE_UP;
	rec->operation = "upgrade";
	rec->remove_heads = rm;
	rec->n_remove = n_rm;
	rec->add_heads = add;
	rec->n_add = n_add;
	rec->checksum = "abc123";
	rec->started_at = 1700000000.25;
	rec->duration_ms = 12.5;
	rec->success = 1;
	rec->error = "";
}

static int
run(struct migrate_backend *be,
    const char *sql,
    const struct migrate_record *rec,
    struct migrate_backend_error *err)
{
	struct migrate_backend_step st;

	memset(err, 0, sizeof(*err));
	st.sql = sql;
	st.lock_timeout_ms = 0;
	st.statement_timeout_ms = 0;
	st.record = rec;
	st.in_transaction = 0;
	return be->run_step(be, &st, err);
}

static PGTransactionStatusType
txn_status(struct migrate_backend *be)
{
	return PQtransactionStatus(be->native(be));
}

START_TEST(test_be_run_step_success)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const add[] = { "r1" };
	PGconn *c = pgt_connect(NULL);
	char *v;

	init_record(&rec, "r1", NULL, 0, add, 1);
	/* ends in a line comment, without ';' */
	ck_assert_msg(run(be, "CREATE TABLE rs (x integer)\n-- done", &rec,
			  &err) == 0,
		      "%s", err.message);
	ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "r1\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM rs"), 0);
	/* timing measured by the server, not rec's */
	v = pgt_rows(c, "SELECT revision, direction, operation, checksum, "
			"success, error, duration_ms >= 0 AND duration_ms < "
			"60000, started_at > now() - interval '1 minute' FROM "
			"migrate_log");
	ck_assert_str_eq(v, "r1|up|upgrade|abc123|t||t|t\n");
	free(v);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_run_step_conflict)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const rm[] = { "zz" };
	const char *const add[] = { "r2" };
	PGconn *c = pgt_connect(NULL);

	init_record(&rec, "r2", rm, 1, add, 1);
	ck_assert_int_eq(run(be, "CREATE TABLE gone (x integer);", &rec, &err),
			 MIGRATE_ECONFLICT);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_str_eq(err.sqlstate, "40001");
	ck_assert_msg(strstr(err.message, "zz") != NULL, "%s", err.message);
	ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_SERIALIZATION);
	ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename = 'gone'"),
			 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM migrate_log"), 0);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_run_step_positions)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const add[] = { "r1" };

	init_record(&rec, "r1", NULL, 0, add, 1);
	/* a syntax error: the server's position, minus our prefix */
	ck_assert_int_eq(run(be, "SELECT 1;\nSELEC 2;", &rec, &err),
			 MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42601");
	ck_assert_int_eq(err.position, 11);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);

	/* characters, not bytes */
	ck_assert_int_eq(run(be, "SELECT 'é€';\nSELECT nope;", &rec, &err),
			 MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42703");
	ck_assert_int_eq(err.position, 21);

	/* no server position: the failing statement's start */
	ck_assert_int_eq(run(be,
			     "CREATE TABLE p (x integer);\n  INSERT INTO "
			     "p VALUES (1 / 0)",
			     &rec, &err),
			 MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "22012");
	ck_assert_int_eq(err.position, 31);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);
	be->free(be);
}

END_TEST

START_TEST(test_be_run_step_bookkeeping_error)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const add[] = { "r1" };
	PGconn *c = pgt_connect(NULL);

	/* the history table is gone: the step fails in bookkeeping */
	pgt_exec(c, "DROP TABLE migrate_log");
	init_record(&rec, "r1", NULL, 0, add, 1);
	ck_assert_int_eq(run(be, "CREATE TABLE bk (x integer);", &rec, &err),
			 MIGRATE_EBACKEND);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	ck_assert_str_eq(err.sqlstate, "42P01");
	ck_assert_int_eq(err.position, 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 0);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_run_step_in_transaction)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_backend_step st;
	struct migrate_record rec;
	const char *const add[] = { "r1" };
	PGconn *c = pgt_connect(NULL);

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->begin(be, &err), 0);
	init_record(&rec, "r1", NULL, 0, add, 1);
	st.sql = "CREATE TABLE it (x integer)";
	st.lock_timeout_ms = 1000;
	st.statement_timeout_ms = 0;
	st.record = &rec;
	st.in_transaction = 1;
	ck_assert_int_eq(be->run_step(be, &st, &err), 0);
	ck_assert_int_eq(txn_status(be), PQTRANS_INTRANS);
	/* invisible to others until the caller commits */
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 0);
	ck_assert_int_eq(be->commit(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 1);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM migrate_log"), 1);
	PQfinish(c);
	be->free(be);
}

END_TEST

/* A single-transaction run: the steps' SQL only, the bookkeeping of the
 * whole run written once with the COMMIT (net version change, one row per
 * step); a version table moved under the run fails the commit, and
 * nothing of the run remains. */
START_TEST(test_be_run_steps_deferred_bookkeeping)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_backend_step st;
	struct migrate_record r1, r2;
	const char *const h1[] = { "r1" };
	const char *const h2[] = { "r2" };
	PGconn *c = pgt_connect(NULL);
	char *v;

	memset(&err, 0, sizeof(err));
	init_record(&r1, "r1", NULL, 0, h1, 1);
	init_record(&r2, "r2", h1, 1, h2, 1);
	ck_assert_int_eq(be->begin(be, &err), 0);
	st.lock_timeout_ms = 1000;
	st.statement_timeout_ms = 0;
	st.in_transaction = 1;
	st.sql = "CREATE TABLE d1 (x integer)";
	st.record = &r1;
	ck_assert_msg(be->run_step(be, &st, &err) == 0, "%s", err.message);
	st.sql = "CREATE TABLE d2 (x integer);";
	st.record = &r2;
	ck_assert_msg(be->run_step(be, &st, &err) == 0, "%s", err.message);
	ck_assert_int_eq(be->commit(be, &err), 0);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "r2\n");
	free(v);
	v = pgt_rows(c, "SELECT revision, success, duration_ms >= 0 FROM "
			"migrate_log ORDER BY id");
	ck_assert_str_eq(v, "r1|t|t\nr2|t|t\n");
	free(v);

	/* r3 expects r2, but another tool moves the version meanwhile */
	{
		const char *const h3[] = { "r3" };
		struct migrate_record r3;

		init_record(&r3, "r3", h2, 1, h3, 1);
		ck_assert_int_eq(be->begin(be, &err), 0);
		st.sql = "CREATE TABLE d3 (x integer)";
		st.record = &r3;
		ck_assert_msg(be->run_step(be, &st, &err) == 0, "%s",
			      err.message);
		pgt_exec(c, "UPDATE alembic_version SET version_num = 'zz'");
		ck_assert_int_eq(be->commit(be, &err), MIGRATE_ECONFLICT);
		ck_assert_int_eq(err.in_bookkeeping, 1);
		ck_assert_str_eq(err.sqlstate, "40001");
		ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_SERIALIZATION);
		ck_assert_str_eq(
			err.message,
			"libmigrate: version table \"public\".\"alembic_version\" does not hold r2: the database was changed by another migration or tool");
		ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);
		ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables "
					     "WHERE tablename = 'd3'"),
				 0);
		ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM "
					     "migrate_log"),
				 2);
	}
	PQfinish(c);
	be->free(be);
}

END_TEST

/* run_steps(): several steps per round trip in the caller's transaction;
 * a failure names its step, with the position inside that step's SQL
 * (from the server's position, or from the statements before the error),
 * also when earlier steps of the batch hold non-ASCII text and when the
 * steps span several round trips. */
START_TEST(test_be_run_steps_batched)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_backend_step st[3];
	struct migrate_record rec[3];
	const char *const h1[] = { "s1" };
	const char *const h2[] = { "s2" };
	const char *const h3[] = { "s3" };
	PGconn *c = pgt_connect(NULL);
	size_t done, i;
	char *big, *v;

	init_record(&rec[0], "s1", NULL, 0, h1, 1);
	init_record(&rec[1], "s2", h1, 1, h2, 1);
	init_record(&rec[2], "s3", h2, 1, h3, 1);
	for (i = 0; i < 3; i++) {
		st[i].lock_timeout_ms = 1000;
		st[i].statement_timeout_ms = 0;
		st[i].record = &rec[i];
		st[i].in_transaction = 1;
	}
	memset(&err, 0, sizeof(err));

	/* a runtime error (no server position) in the second step */
	st[0].sql = "CREATE TABLE b1 (x text DEFAULT 'é€');";
	st[1].sql = "SELECT 1;\n  SELECT 1 / 0;";
	st[2].sql = "CREATE TABLE b3 (x integer)";
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->run_steps(be, st, 3, &done, &err),
			 MIGRATE_EBACKEND);
	ck_assert_uint_eq(done, 1);
	ck_assert_str_eq(err.sqlstate, "22012");
	ck_assert_int_eq(err.position, 13);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_int_eq(be->rollback(be, &err), 0);

	/* a syntax error (server position) in the third step */
	st[1].sql = "SELECT 'ü';";
	st[2].sql = "SELECT 1;\nSELEC 2;";
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->run_steps(be, st, 3, &done, &err),
			 MIGRATE_EBACKEND);
	ck_assert_uint_eq(done, 2);
	ck_assert_str_eq(err.sqlstate, "42601");
	ck_assert_int_eq(err.position, 11);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_int_eq(be->rollback(be, &err), 0);

	/* a first step bigger than one round trip's worth: three round
	 * trips, the error still in the last step */
	big = malloc(200 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, '-', 200 * 1024 - 40);
	strcpy(big + 200 * 1024 - 40, "\nCREATE TABLE b1 (x integer);");
	st[0].sql = big;
	st[2].sql = "SELECT nope";
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->run_steps(be, st, 3, &done, &err),
			 MIGRATE_EBACKEND);
	ck_assert_uint_eq(done, 2);
	ck_assert_str_eq(err.sqlstate, "42703");
	ck_assert_int_eq(err.position, 8);
	ck_assert_int_eq(be->rollback(be, &err), 0);

	/* all three, committed with one bookkeeping statement */
	st[2].sql = "CREATE TABLE b3 (x integer)";
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_msg(be->run_steps(be, st, 3, &done, &err) == 0, "%s",
		      err.message);
	ck_assert_uint_eq(done, 3);
	ck_assert_int_eq(be->commit(be, &err), 0);
	free(big);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "s3\n");
	free(v);
	v = pgt_rows(c, "SELECT revision FROM migrate_log ORDER BY id");
	ck_assert_str_eq(v, "s1\ns2\ns3\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "tablename IN ('b1', 'b3')"),
			 2);
	PQfinish(c);
	be->free(be);
}

END_TEST

/* A long single-transaction run keeps a bounded number of history rows
 * for commit(): the rest travel ahead with a later batch, in order. */
START_TEST(test_be_run_steps_rows_ahead)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_backend_step st[300];
	struct migrate_record rec[300];
	static char ids[301][8];
	const char *heads[301];
	PGconn *c = pgt_connect(NULL);
	size_t done, i;
	char *v;

	memset(&err, 0, sizeof(err));
	for (i = 0; i <= 300; i++) {
		snprintf(ids[i], sizeof(ids[i]), "r%03zu", i);
		heads[i] = ids[i];
	}
	for (i = 0; i < 300; i++) {
		init_record(&rec[i], ids[i + 1], i ? &heads[i] : NULL,
			    i ? 1 : 0, &heads[i + 1], 1);
		st[i].sql = "SELECT 1";
		st[i].lock_timeout_ms = 1000;
		st[i].statement_timeout_ms = 0;
		st[i].record = &rec[i];
		st[i].in_transaction = 1;
	}
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_msg(be->run_steps(be, st, 270, &done, &err) == 0, "%s",
		      err.message);
	ck_assert_uint_eq(done, 270);
	ck_assert_msg(be->run_steps(be, st + 270, 30, &done, &err) == 0, "%s",
		      err.message);
	ck_assert_uint_eq(done, 30);
	ck_assert_int_eq(be->commit(be, &err), 0);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "r300\n");
	free(v);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM migrate_log"), 300);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM (SELECT revision, "
				     "row_number() OVER (ORDER BY id) AS k "
				     "FROM migrate_log) t WHERE revision <> "
				     "'r' || lpad(k::text, 3, '0')"),
			 0);
	PQfinish(c);
	be->free(be);
}

END_TEST

/* No commit of their own for the bookkeeping tables: they come with the
 * first write, in its transaction (gone with it when it fails), or at
 * unlock when nothing was written. */
START_TEST(test_be_tables_with_first_write)
{
	struct migrate_backend *be = be_open(NULL, &cfg_rw);
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const add[] = { "r1" };
	PGconn *c = pgt_connect(NULL);
	const char *tables = "SELECT count(*) FROM pg_tables WHERE tablename "
			     "IN ('alembic_version', 'migrate_log')";

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->ensure_tables(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, tables), 0);
	init_record(&rec, "r1", NULL, 0, add, 1);
	ck_assert_int_eq(run(be, "SELECT nope", &rec, &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.position, 8);
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_int_eq(pgt_long(c, tables), 0);
	ck_assert_msg(run(be, "CREATE TABLE fw (x integer)", &rec, &err) == 0,
		      "%s", err.message);
	ck_assert_int_eq(pgt_long(c, tables), 2);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM alembic_version"),
			 1);
	be->free(be);

	/* nothing written: unlock leaves them */
	pgt_exec(c, "DROP TABLE alembic_version, migrate_log");
	be = be_open(NULL, &cfg_rw);
	ck_assert_int_eq(be->lock(be, 0, &err), 0);
	ck_assert_int_eq(be->ensure_tables(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, tables), 0);
	ck_assert_int_eq(be->unlock(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, tables), 2);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_record_merge_and_conflict)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const ab[] = { "a", "b" };
	const char *const mg[] = { "m" };
	PGconn *c = pgt_connect(NULL);
	char *v;

	memset(&err, 0, sizeof(err));
	/* two branches: two INSERTs */
	init_record(&rec, "a", NULL, 0, ab, 2);
	ck_assert_msg(be->record(be, &rec, &err) == 0, "%s", err.message);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version ORDER BY 1");
	ck_assert_str_eq(v, "a\nb\n");
	free(v);
	/* the same again: "already holds" */
	ck_assert_int_eq(be->record(be, &rec, &err), MIGRATE_ECONFLICT);
	ck_assert_int_eq(err.in_bookkeeping, 1);
	/* a merge: UPDATE a -> m, DELETE b */
	init_record(&rec, "m", ab, 2, mg, 1);
	ck_assert_msg(be->record(be, &rec, &err) == 0, "%s", err.message);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version ORDER BY 1");
	ck_assert_str_eq(v, "m\n");
	free(v);
	/* the recorded time is the record's */
	v = pgt_value(c, "SELECT extract(epoch FROM started_at)::text || '/' "
			 "|| duration_ms FROM migrate_log WHERE revision = "
			 "'m'");
	ck_assert_str_eq(v, "1700000000.250000/12.5");
	free(v);
	/* a failed step's row changes no version */
	init_record(&rec, "x", mg, 1, ab, 1);
	rec.success = 0;
	rec.error = "it broke";
	ck_assert_int_eq(be->record(be, &rec, &err), 0);
	v = pgt_rows(c, "SELECT version_num FROM alembic_version");
	ck_assert_str_eq(v, "m\n");
	free(v);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_exec_error_fields)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(
		be->exec(be, "SELECT 1;\nSELECT nope FROM pg_class", &err),
		MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "42703");
	ck_assert_int_eq(err.position, 18);
	ck_assert_msg(strstr(err.message, "nope") != NULL, "%s", err.message);
	ck_assert_msg(strncmp(err.message, "ERROR", 5) != 0, "%s", err.message);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->exec(be,
				  "CREATE TABLE u (x integer UNIQUE); "
				  "INSERT INTO u VALUES (1), (1)",
				  &err),
			 MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "23505");
	ck_assert_msg(strstr(err.detail, "(x)=(1)") != NULL, "%s", err.detail);
	/* a COMMIT of a failed transaction is no success */
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->exec(be, "SELECT nope", &err), MIGRATE_EBACKEND);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->commit(be, &err), MIGRATE_EBACKEND);
	ck_assert_msg(strstr(err.message, "rolled back") != NULL, "%s",
		      err.message);
	ck_assert_int_eq(txn_status(be), PQTRANS_IDLE);
	be->free(be);
}

END_TEST

START_TEST(test_be_lock)
{
	struct migrate_backend *a = be_open(NULL, &cfg_rw);
	struct migrate_backend *b = be_open(NULL, &cfg_rw);
	struct migrate_backend_error err;
	double t0, ms;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(a->lock(a, 0, &err), 0);
	ck_assert_int_eq(b->lock(b, 0, &err), MIGRATE_ELOCKED);
	/* the holder: pid, application, user, since when */
	ck_assert_msg(strstr(err.message, "is held by pid ") != NULL &&
			      strstr(err.message, "application \"") != NULL &&
			      strstr(err.message, "connected since ") != NULL,
		      "%s", err.message);
	/* a try never waits, and leaves no transaction (the library polls:
	 * a waiter must hold no snapshot) */
	memset(&err, 0, sizeof(err));
	t0 = pgt_now_ms();
	ck_assert_int_eq(b->lock(b, 0, &err), MIGRATE_ELOCKED);
	ms = pgt_now_ms() - t0;
	ck_assert_msg(ms < 3000, "a try took %.0f ms", ms);
	ck_assert_int_eq(txn_status(b), PQTRANS_IDLE);
	ck_assert_int_eq(a->unlock(a, &err), 0);
	ck_assert_int_eq(b->lock(b, 0, &err), 0);
	ck_assert_int_eq(txn_status(b), PQTRANS_IDLE);
	/* a different version table is a different lock */
	{
		static struct migrate_backend_config other = { "other_version",
							       "migrate_log",
							       NULL, 0, 0 };
		struct migrate_backend *o = be_open(NULL, &other);

		ck_assert_int_eq(o->lock(o, 0, &err), 0);
		o->free(o);
	}
	ck_assert_int_eq(b->unlock(b, &err), 0);
	a->free(a);
	b->free(b);
}

END_TEST

/* The first lock try also reads the state (one round trip); on a fresh
 * database that read fails (no tables), which must not undo the session
 * settings the try made, nor leave a transaction. */
START_TEST(test_be_lock_on_fresh_database)
{
	struct migrate_backend *a = be_open(NULL, &cfg_rw);
	struct migrate_backend *b = be_open(NULL, &cfg_rw);
	struct migrate_backend_error err;
	PGresult *res;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(a->lock(a, 0, &err), 0);
	ck_assert_int_eq(txn_status(a), PQTRANS_IDLE);
	ck_assert_int_eq(b->lock(b, 0, &err), MIGRATE_ELOCKED);
	res = PQexec(a->native(a), "SHOW idle_session_timeout");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "30s");
	PQclear(res);
	ck_assert_int_eq(a->unlock(a, &err), 0);
	a->free(a);
	b->free(b);
}

END_TEST

START_TEST(test_be_lock_timeout_in_step)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_backend_step st;
	struct migrate_record rec;
	const char *const add[] = { "r1" };
	PGconn *c = pgt_connect(NULL);
	double t0, ms;

	pgt_exec(c, "CREATE TABLE busy (x integer)");
	pgt_exec(c, "BEGIN");
	pgt_exec(c, "LOCK TABLE busy IN ACCESS EXCLUSIVE MODE");
	init_record(&rec, "r1", NULL, 0, add, 1);
	memset(&err, 0, sizeof(err));
	st.sql = "ALTER TABLE busy ADD COLUMN y integer;";
	st.lock_timeout_ms = 150;
	st.statement_timeout_ms = 0;
	st.record = &rec;
	st.in_transaction = 0;
	t0 = pgt_now_ms();
	ck_assert_int_eq(be->run_step(be, &st, &err), MIGRATE_EBACKEND);
	ms = pgt_now_ms() - t0;
	ck_assert_str_eq(err.sqlstate, "55P03");
	ck_assert_int_eq(err.in_bookkeeping, 0);
	ck_assert_msg(ms < 3000, "took %.0f ms", ms);
	pgt_exec(c, "ROLLBACK");

	/* statement_timeout */
	st.sql = "SELECT pg_sleep(5)";
	st.lock_timeout_ms = 0;
	st.statement_timeout_ms = 150;
	ck_assert_int_eq(be->run_step(be, &st, &err), MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "57014");
	/* the settings lasted for the step only */
	ck_assert_int_eq(be->exec(be, "SELECT pg_sleep(0.3)", &err), 0);
	PQfinish(c);
	be->free(be);
}

END_TEST

static int
stop_at_two(const struct migrate_history_entry *e, void *payload)
{
	int *n = payload;

	(void)e;
	return ++*n == 2 ? 42 : 0;
}

START_TEST(test_be_read_history_stops)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	struct migrate_record rec;
	const char *const a[] = { "a" }, *const b[] = { "b" },
			  *const c3[] = { "c" };
	int n = 0;

	memset(&err, 0, sizeof(err));
	init_record(&rec, "a", NULL, 0, a, 1);
	ck_assert_int_eq(be->record(be, &rec, &err), 0);
	init_record(&rec, "b", a, 1, b, 1);
	ck_assert_int_eq(be->record(be, &rec, &err), 0);
	init_record(&rec, "c", b, 1, c3, 1);
	ck_assert_int_eq(be->record(be, &rec, &err), 0);
	ck_assert_int_eq(be->read_history(be, stop_at_two, &n, &err), 42);
	ck_assert_int_eq(n, 2);
	be->free(be);
}

END_TEST

START_TEST(test_be_connection_lost)
{
	struct migrate_backend *be = be_ready();
	struct migrate_backend_error err;
	PGconn *c = pgt_connect(NULL);
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)",
		 PQbackendPID(be->native(be)));
	pgt_exec(c, sql);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->exec(be, "SELECT 1", &err), MIGRATE_EBACKEND);
	ck_assert_int_eq(err.kind, MIGRATE_BACKEND_ERROR_CONNECTION_LOST);
	ck_assert_msg(err.message[0] && strchr(err.message, '\n') == NULL,
		      "<%s>", err.message);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_read_only)
{
	struct migrate_backend *be = be_open(NULL, &cfg_ro);
	struct migrate_backend_error err;
	PGconn *c = pgt_connect(NULL);

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->ensure_tables(be, &err), MIGRATE_EREADONLY);
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->exec(be, "CREATE TABLE nope (x integer)", &err),
			 MIGRATE_EBACKEND);
	ck_assert_str_eq(err.sqlstate, "25006");
	ck_assert_int_eq(be->rollback(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "schemaname = 'public'"),
			 0);
	PQfinish(c);
	be->free(be);
}

END_TEST

START_TEST(test_be_application_name_and_schema)
{
	struct migrate_backend *be;
	struct migrate_backend_error err;
	PGconn *c = pgt_connect(NULL);
	char url[256];
	char sql[128];
	char *v;

	pgt_exec(c, "CREATE SCHEMA app");
	/* the schema comes from the connection's search_path */
	snprintf(url, sizeof(url), "%s options='-c search_path=app,public'",
		 pgt_url);
	be = be_open(url, &cfg_rw);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be->ensure_tables(be, &err), 0);
	ck_assert_int_eq(be->begin(be, &err), 0);
	ck_assert_int_eq(be->commit(be, &err), 0);
	ck_assert_int_eq(pgt_long(c, "SELECT count(*) FROM pg_tables WHERE "
				     "schemaname = 'app'"),
			 2);
	snprintf(sql, sizeof(sql),
		 "SELECT application_name FROM pg_stat_activity WHERE pid = %d",
		 PQbackendPID(be->native(be)));
	v = pgt_value(c, sql);
	ck_assert_str_eq(v, "migrate");
	free(v);
	be->free(be);

	/* a URL's own application_name wins */
	snprintf(url, sizeof(url), "%s application_name=svc", pgt_url);
	be = be_open(url, &cfg_rw);
	snprintf(sql, sizeof(sql),
		 "SELECT application_name FROM pg_stat_activity WHERE pid = %d",
		 PQbackendPID(be->native(be)));
	v = pgt_value(c, sql);
	ck_assert_str_eq(v, "svc");
	free(v);
	be->free(be);
	PQfinish(c);
}

END_TEST

Suite *
pg_backend_suite(void)
{
	Suite *s = suite_create("pg_backend");

	add_test(s, test_be_run_step_success);
	add_test(s, test_be_run_step_conflict);
	add_test(s, test_be_run_step_positions);
	add_test(s, test_be_run_step_bookkeeping_error);
	add_test(s, test_be_run_step_in_transaction);
	add_test(s, test_be_run_steps_deferred_bookkeeping);
	add_test(s, test_be_tables_with_first_write);
	add_test(s, test_be_run_steps_batched);
	add_test(s, test_be_run_steps_rows_ahead);
	add_test(s, test_be_record_merge_and_conflict);
	add_test(s, test_be_exec_error_fields);
	add_test(s, test_be_lock);
	add_test(s, test_be_lock_on_fresh_database);
	add_test(s, test_be_lock_timeout_in_step);
	add_test(s, test_be_read_history_stops);
	add_test(s, test_be_connection_lost);
	add_test(s, test_be_read_only);
	add_test(s, test_be_application_name_and_schema);
	return s;
}
