/* SPDX-License-Identifier: MIT */
/*
 * The libpq backend: the only file that includes <libpq-fe.h>.
 *
 * Round trips are the cost that matters: read_state() is one simple query
 * of plain reads (it works through pgbouncer in transaction pooling mode),
 * and run_step() sends BEGIN, the timeouts, the revision SQL, the
 * bookkeeping and COMMIT as one simple query. The SQL texts come from
 * pg-sql.c, which the offline script shares.
 *
 * Messages are one line (libpq's multi-line messages are joined), and
 * every message goes through migrate__redact(): no password ever leaves.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libpq-fe.h>

#include "pg-sql.h"
#include "private.h"

/* The bookkeeping tables: created with the first write that needs them,
 * in its transaction (no commit of their own). */
enum ensure_state {
	ENSURE_DONE,    /* they exist (or were created and committed) */
	ENSURE_PENDING, /* to be created with the next write */
	ENSURE_IN_TXN,  /* created in the open transaction */
};

/* A single-transaction run's bookkeeping, written once at commit: the net
 * version table change and every step's history row. */
struct deferred {
	struct migrate_record *rows; /* strings owned (see keep_row()) */
	size_t n, cap;
	struct strv removed; /* heads the run removes (that it did not add) */
	struct strv added;   /* heads the run adds (that it did not remove) */
};

struct pq_backend {
	struct migrate_backend base;
	char *conninfo;
	/* Given to connect_start(), lives until free(). */
	const struct migrate_backend_config *cfg;
	/* What the connection being made waits for (PQconnectPoll()). */
	PostgresPollingStatusType connect_st;
	PGconn *conn;
	PGcancel *cancel;    /* prepared at connect, for pq_cancel() */
	int io_timeout_ms;   /* cfg->io_timeout_ms (or the default) */
	int stmt_timeout_ms; /* last statement_timeout set, 0: none */
	long silent_ms;      /* > 0: we closed a connection that was
				silent this long */
	char token[20];      /* names our server session (writers) */
	bool read_only;
	char *schema; /* cfg->schema, or current_schema() at connect */
	struct migrate_pg_names names;
	enum ensure_state ensure;
	/* read_state found both tables since the lock was taken. */
	bool tables_seen;
	struct deferred dfr;
	/* The timeouts set (SET LOCAL) in the open transaction; -2: none. */
	int txn_lock_ms, txn_stmt_ms;
	/* Queries sent on this connection (send_query()). */
	unsigned long n_sent;
	/* The state read with the lock try that took the lock (pq_lock()),
	 * for the read_state() right after it: valid while @n_sent is
	 * @pre_sent. */
	struct migrate_state pre;
	bool pre_valid;
	unsigned long pre_sent;
	/* The last lock try was refused: the next one reads nothing. */
	bool lock_refused;
	/* cfg->schema was given (it may not exist yet). */
	bool schema_given;
	/* The last state read found no version table: the next lock try
	 * asks whether the history table exists. */
	bool vt_missing_seen;
	/* The connect query found no version table (open_session()): the
	 * read_state() right after it, nothing sent since (@connect_sent),
	 * says so without a round trip, and without the error that reading
	 * a missing table logs on the server. */
	bool vt_missing_at_connect;
	unsigned long connect_sent;
	/* Under the lock: the history table does not exist, so the tables
	 * are created with plain DDL (ensure_sql()). */
	bool log_missing;
	/* How history rows get their ids (names.log_ids): the format of the
	 * history table, learnt with the lock (lock_rows(); @log_ids_known
	 * until the unlock), else before a write (learn_log_ids()); the next
	 * id from the last state read (state_rows()). */
	struct migrate_pg_log_ids log_ids;
	bool log_ids_known;
	/* unlock_at_commit(): the next commit (commit(), or run_step() of a
	 * step of its own) may release the lock after it... */
	bool unlock_hint;
	/* ... and did: unlock() has nothing to send. */
	bool unlocked;
	/* begin() sent nothing yet: BEGIN goes first in run_steps()' next
	 * batch, or alone before any other query (flush_begin()). */
	bool begin_pending;
};

static int ensure_now(struct pq_backend *pq, struct migrate_backend_error *err);
static int flush_begin(struct pq_backend *pq,
		       struct migrate_backend_error *err,
		       bool tables);
static int talk_ready(struct pq_backend *pq, struct migrate_backend_error *err);
static int open_conn(struct pq_backend *pq,
		     PGconn **out,
		     struct migrate_backend_error *err);

static struct pq_backend *
pq_of(struct migrate_backend *be)
{
	return (struct pq_backend *)be;
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/*
 * Copy @in to @out as one line: lines are trimmed and joined (with "; "
 * where a new sentence starts, else a space), repeated lines dropped
 * (libpq repeats its hint for every address it tried), "FATAL:  " style
 * double blanks collapsed, then passwords redacted.
 */
/* memmem() is a GNU extension. */
static bool
contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	for (i = 0; i + nlen <= hlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

static void
one_line(const char *in, char *out, size_t outlen)
{
	struct buf b = BUF_INIT;
	const char *p = in ? in : "";

	while (*p) {
		const char *end = strchr(p, '\n');
		const char *s = p, *e;
		size_t len;

		if (!end)
			end = p + strlen(p);
		e = end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		len = (size_t)(e - s);
		/* Skip a line already said (libpq repeats its hint for
		 * every address it tried). */
		if (len &&
		    !(b.data && len > 20 && contains(b.data, b.len, s, len))) {
			if (b.len) {
				char last = b.data[b.len - 1];

				if (isupper((unsigned char)*s) &&
				    !strchr(".:;?!", last))
					buf_puts(&b, "; ");
				else
					buf_puts(&b, " ");
			}
			for (; s < e; s++) {
				char c = (*s == '\t' || *s == '\r') ? ' ' : *s;

				if (c == ' ' && b.len &&
				    b.data[b.len - 1] == ' ')
					continue;
				buf_append(&b, &c, 1);
			}
		}
		p = *end ? end + 1 : end;
	}
	if (b.oom)
		migrate__redact("out of memory", out, outlen);
	else
		migrate__redact(b.data ? b.data : "", out, outlen);
	buf_free(&b);
}

static bool
conn_lost(const struct pq_backend *pq)
{
	return !pq->conn || PQstatus(pq->conn) == CONNECTION_BAD;
}

static void
copy_field(char *dst, size_t size, const char *src)
{
	if (src)
		one_line(src, dst, size);
	else
		dst[0] = '\0';
}

/* The kind of a failure, for the library: this file is the one place that
 * knows PostgreSQL's error codes. */
static int
error_kind(const struct pq_backend *pq, const char *sqlstate)
{
	if (conn_lost(pq))
		return MIGRATE_BACKEND_ERROR_CONNECTION_LOST;
	if (strcmp(sqlstate, "55P03") == 0)
		return MIGRATE_BACKEND_ERROR_LOCK_TIMEOUT;
	if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
		return MIGRATE_BACKEND_ERROR_SERIALIZATION;
	return MIGRATE_BACKEND_ERROR_OTHER;
}

/* Our bookkeeping found the version table moved under us. */
static bool
is_conflict(const struct migrate_backend_error *err)
{
	return strcmp(err->sqlstate, MIGRATE_PG_CONFLICT_STATE) == 0 &&
	       strncmp(err->message, MIGRATE_PG_CONFLICT_PREFIX,
		       strlen(MIGRATE_PG_CONFLICT_PREFIX)) == 0;
}

/*
 * Our bookkeeping raises its conflict as an invalid boolean whose text is
 * the message (see migrate__pg_bookkeeping_rows()): 22P02 with
 * 'invalid input syntax for type boolean: "libmigrate: version table ..."'.
 * Report it as what it is: MIGRATE_PG_CONFLICT_STATE and the bare message.
 */
static void
unwrap_conflict(struct migrate_backend_error *err)
{
	char *start = strstr(err->message, MIGRATE_PG_CONFLICT_PREFIX);
	size_t len;

	if (strcmp(err->sqlstate, "22P02") != 0 || !start)
		return;
	len = strlen(start);
	if (len && start[len - 1] == '"')
		len--;
	memmove(err->message, start, len);
	err->message[len] = '\0';
	memcpy(err->sqlstate, MIGRATE_PG_CONFLICT_STATE, 6);
}

/* Fill @err from the error result @res (or from the connection when @res
 * is NULL). */
static void
fill_error(struct pq_backend *pq,
	   const PGresult *res,
	   struct migrate_backend_error *err)
{
	const char *state = NULL, *primary = NULL, *pos = NULL;

	if (res) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
		copy_field(err->detail, sizeof(err->detail),
			   PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
		copy_field(err->hint, sizeof(err->hint),
			   PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
		if (!primary || !*primary)
			primary = PQresultErrorMessage(res);
	}
	if ((!primary || !*primary) && pq->conn)
		primary = PQerrorMessage(pq->conn);
	if (!res && !pq->conn && pq->silent_ms > 0) {
		err->sqlstate[0] = '\0';
		err->position = 0;
		err->kind = MIGRATE_BACKEND_ERROR_CONNECTION_LOST;
		migrate__backend_fail(
			err, 0, NULL,
			"no answer from the server for %ld ms: the connection was closed (a stalled network, proxy or server)",
			pq->silent_ms);
		return;
	}
	if (!primary || !*primary)
		primary = "unknown libpq error";
	one_line(primary, err->message, sizeof(err->message));
	if (state && strlen(state) == 5)
		memcpy(err->sqlstate, state, 6);
	else
		err->sqlstate[0] = '\0';
	err->position = pos ? strtol(pos, NULL, 10) : 0;
	unwrap_conflict(err);
	err->kind = error_kind(pq, err->sqlstate);
	if (err->kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST &&
	    !strstr(err->message, "connection"))
		migrate__backend_fail(err, 0, NULL,
				      "connection to the server lost: %s",
				      err->message);
}

static bool
sqlstate_is(const PGresult *res, const char *state)
{
	const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return s && strcmp(s, state) == 0;
}

/* A missing table (or schema) in a read. */
static bool
is_missing_relation(const PGresult *res)
{
	return sqlstate_is(res, "42P01") || sqlstate_is(res, "3F000");
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */
/* ------------------------------------------------------------------ */

/* Called for every row-returning result of a batch, by statement index. */
typedef int (*rows_fn)(struct pq_backend *pq,
		       const PGresult *res,
		       size_t index,
		       void *payload);

/* Default of io_timeout_ms when the config leaves it 0. */
#define PQ_IO_TIMEOUT_DEFAULT_MS 30000

/*
 * Every round trip has a deadline (clock_ms() time, 0: none), enforced
 * here with a non-blocking connection and poll(): a server, network or
 * proxy that goes silent cannot hang us. Past the deadline the connection
 * is closed (a cancel request could hang on the same stalled path), and
 * the call fails as a lost connection saying how long it waited.
 */
static double
io_deadline(const struct pq_backend *pq)
{
	return clock_ms() + pq->io_timeout_ms;
}

/* How long revision SQL may take: its statement_timeout per statement
 * (plus one for our own statements around it); -1 without a
 * statement_timeout (then only the server bounds it). */
static double
sql_budget_ms(const char *sql, int stmt_ms)
{
	struct migrate_sql_stmt *stmts = NULL;
	size_t n = 1;

	if (stmt_ms <= 0)
		return -1;
	if (migrate__sql_split(sql, strlen(sql), &stmts, &n, NULL) < 0 ||
	    n == 0)
		n = 1;
	free(stmts);
	return (double)stmt_ms * (double)(n + 1);
}

/* Revision SQL: its budget plus the I/O timeout; 0 (none) without a
 * statement_timeout. */
static double
sql_deadline(const struct pq_backend *pq, const char *sql, int stmt_ms)
{
	double budget = sql_budget_ms(sql, stmt_ms);

	return budget < 0 ? 0 : io_deadline(pq) + budget;
}

/* Close a connection that stayed silent past its deadline; the round
 * trip started at @t0 (clock_ms()). */
static void
drop_silent(struct pq_backend *pq, double t0)
{
	pq->silent_ms = (long)(clock_ms() - t0);
	PQfinish(pq->conn);
	pq->conn = NULL;
}

/* Wait until @sock is ready (for writing: or readable): 1, 0 when
 * @deadline passed, -1 error. A signal does not end the wait (as libpq's
 * own waits). */
static int
wait_fd(int sock, bool for_write, double deadline)
{
	struct pollfd p;

	if (sock < 0)
		return -1;
	for (;;) {
		int ms = -1, rc;

		if (deadline > 0) {
			double left = deadline - clock_ms();

			if (left <= 0)
				return 0;
			ms = left > (double)INT_MAX ? INT_MAX : (int)left + 1;
		}
		p.fd = sock;
		p.events = (short)(for_write ? POLLIN | POLLOUT : POLLIN);
		p.revents = 0;
		rc = poll(&p, 1, ms);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Wait until the connection's socket is ready (wait_fd()). */
static int
wait_socket(struct pq_backend *pq, bool for_write, double deadline)
{
	return wait_fd(PQsocket(pq->conn), for_write, deadline);
}

/* Send @sql; false on failure (*timed_out when the deadline passed). */
static bool
send_query(struct pq_backend *pq,
	   const char *sql,
	   double deadline,
	   bool *timed_out)
{
	pq->n_sent++;
	if (!PQsendQuery(pq->conn, sql))
		return false;
	for (;;) {
		int f = PQflush(pq->conn), w;

		if (f == 0)
			return true;
		if (f < 0)
			return false;
		w = wait_socket(pq, true, deadline);
		if (w == 0)
			*timed_out = true;
		if (w <= 0 || !PQconsumeInput(pq->conn))
			return false;
	}
}

/* The next result, NULL at the end or when the deadline passed
 * (*timed_out). */
static PGresult *
next_result(struct pq_backend *pq, double deadline, bool *timed_out)
{
	while (PQisBusy(pq->conn)) {
		int w = wait_socket(pq, false, deadline);

		if (w == 0) {
			*timed_out = true;
			return NULL;
		}
		if (w < 0 || !PQconsumeInput(pq->conn))
			break; /* PQgetResult() reports the failure */
	}
	return PQgetResult(pq->conn);
}

/* One statement with the I/O deadline; its (last) result, or NULL when
 * the connection was closed for silence. */
static PGresult *
query1(struct pq_backend *pq, const char *sql)
{
	double t0 = clock_ms(), deadline = io_deadline(pq);
	bool timed_out = false;
	PGresult *res, *last = NULL;

	if (!send_query(pq, sql, deadline, &timed_out)) {
		if (timed_out) {
			drop_silent(pq, t0);
			return NULL;
		}
		return PQgetResult(pq->conn);
	}
	while ((res = next_result(pq, deadline, &timed_out)) != NULL) {
		PQclear(last);
		last = res;
	}
	if (timed_out) {
		PQclear(last);
		drop_silent(pq, t0);
		return NULL;
	}
	return last;
}

/*
 * Run the one statement built in @b (freed) with the I/O deadline: its
 * rows (@n_rows of them unless < 0), or NULL with @err filled and *@rc the
 * code.
 */
static PGresult *
query_rows(struct pq_backend *pq,
	   struct buf *b,
	   int n_rows,
	   struct migrate_backend_error *err,
	   int *rc)
{
	PGresult *res;

	if (b->oom) {
		buf_free(b);
		*rc = migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					    "out of memory");
		return NULL;
	}
	res = query1(pq, b->data);
	buf_free(b);
	if (PQresultStatus(res) != PGRES_TUPLES_OK ||
	    (n_rows >= 0 && PQntuples(res) != n_rows)) {
		fill_error(pq, res, err);
		PQclear(res);
		*rc = MIGRATE_EBACKEND;
		return NULL;
	}
	return res;
}

struct batch {
	size_t n_ok;     /* results before the first error */
	PGresult *error; /* the first error result (caller clears), or
			    NULL with failed set: a connection failure */
	bool failed;
	int cb_rc;         /* first non-zero return of the rows callback */
	char last_tag[16]; /* command tag of the last command result */
};

/*
 * Send @sql (one or more statements) as one simple query and read every
 * result. Statements after a failing one are not run by the server.
 * COPY is not supported (ended with an error).
 */
static void
run_batch(struct pq_backend *pq,
	  const char *sql,
	  double deadline,
	  rows_fn fn,
	  void *payload,
	  struct batch *bt)
{
	double t0 = clock_ms();
	bool timed_out = false;
	PGresult *res;

	memset(bt, 0, sizeof(*bt));
	if (!send_query(pq, sql, deadline, &timed_out)) {
		bt->failed = true;
		if (timed_out)
			drop_silent(pq, t0);
		return;
	}
	while ((res = next_result(pq, deadline, &timed_out)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		switch (st) {
		case PGRES_TUPLES_OK:
			if (fn && !bt->failed && bt->cb_rc == 0)
				bt->cb_rc = fn(pq, res, bt->n_ok, payload);
			if (!bt->failed)
				bt->n_ok++;
			PQclear(res);
			break;
		case PGRES_COMMAND_OK:
			xsnprintf(bt->last_tag, sizeof(bt->last_tag), "%s",
				  PQcmdStatus(res));
			if (!bt->failed)
				bt->n_ok++;
			PQclear(res);
			break;
		case PGRES_EMPTY_QUERY:
			if (!bt->failed)
				bt->n_ok++;
			PQclear(res);
			break;
		case PGRES_COPY_IN:
			PQputCopyEnd(pq->conn,
				     "COPY FROM STDIN is not supported here");
			PQclear(res);
			break;
		case PGRES_COPY_OUT: {
			char *row;

			while (PQgetCopyData(pq->conn, &row, 0) > 0)
				PQfreemem(row);
			PQclear(res);
			break;
		}
		default:
			if (!bt->failed) {
				bt->failed = true;
				bt->error = res;
			} else {
				PQclear(res);
			}
			break;
		}
	}
	if (timed_out) {
		PQclear(bt->error);
		bt->error = NULL;
		bt->failed = true;
		drop_silent(pq, t0);
		return;
	}
	if (PQstatus(pq->conn) == CONNECTION_BAD)
		bt->failed = true;
}

/* Run @sql for its effect, answered by @deadline; 0 or MIGRATE_EBACKEND
 * with @err filled. */
static int
exec_until(struct pq_backend *pq,
	   const char *sql,
	   double deadline,
	   struct migrate_backend_error *err)
{
	struct batch bt;

	if (!pq->conn)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
					     "not connected");
	run_batch(pq, sql, deadline, NULL, NULL, &bt);
	if (!bt.failed)
		return 0;
	fill_error(pq, bt.error, err);
	PQclear(bt.error);
	return MIGRATE_EBACKEND;
}

/* Our own SQL (not a revision's): the I/O deadline. */
static int
exec_sql(struct pq_backend *pq,
	 const char *sql,
	 struct migrate_backend_error *err)
{
	return pq->conn ? exec_until(pq, sql, io_deadline(pq), err)
			: migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
						"not connected");
}

static int
exec_buf(struct pq_backend *pq,
	 struct buf *b,
	 struct migrate_backend_error *err)
{
	int rc;

	if (b->oom) {
		buf_free(b);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	rc = exec_sql(pq, b->data ? b->data : "", err);
	buf_free(b);
	return rc;
}

/* Roll back whatever transaction the connection is in, best effort. */
static void
rollback_if_open(struct pq_backend *pq)
{
	PGTransactionStatusType ts;

	if (conn_lost(pq))
		return;
	ts = PQtransactionStatus(pq->conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(query1(pq, "ROLLBACK"));
}

/* ------------------------------------------------------------------ */
/* Connect                                                             */
/* ------------------------------------------------------------------ */

static void
ignore_notice(void *arg, const char *message)
{
	/* A library must not write to stderr: notices such as "relation
	 * already exists, skipping" are dropped. */
	(void)arg;
	(void)message;
}

/* A random token that names our server session (session_is_ours()). */
static void
make_token(char *out, size_t size)
{
	unsigned char r[8];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t i, got = 0;

	if (f) {
		got = fread(r, 1, sizeof(r), f);
		fclose(f);
	}
	if (got != sizeof(r)) {
		unsigned long x = (unsigned long)(clock_ms() * 1000.0) ^
				  (unsigned long)(uintptr_t)out;

		for (i = 0; i < sizeof(r);
		     i++, x = x * 6364136223846793005UL + 1)
			r[i] = (unsigned char)(x >> 33);
	}
	for (i = 0; i < sizeof(r) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Our end of the connection: 0 for a unix socket, else the TCP port; -1
 * unknown. */
static long
local_port(PGconn *conn)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(PQsocket(conn), (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_UNIX)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/* Run @sql on *@conn (one statement, the I/O deadline): the values of
 * row 0, columns 0 and 1, malloc'ed (NULL when missing). A connection that
 * stayed silent is closed and *@conn set to NULL. */
static void
values_on(struct pq_backend *pq,
	  PGconn **conn,
	  const char *sql,
	  char **v0,
	  char **v1)
{
	PGconn *saved = pq->conn;
	bool same = saved == *conn;
	PGresult *res;

	*v0 = *v1 = NULL;
	pq->conn = *conn;
	res = query1(pq, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) >= 2) {
		if (!PQgetisnull(res, 0, 0))
			*v0 = xstrdup(PQgetvalue(res, 0, 0));
		if (!PQgetisnull(res, 0, 1))
			*v1 = xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	*conn = pq->conn; /* NULL when it was closed for silence */
	pq->conn = same ? *conn : saved;
}

/*
 * Does every transaction of this connection run on one server session?
 * Not behind a transaction (or statement) pooler such as PgBouncer in
 * pool_mode=transaction: there, the session advisory lock would stay on a
 * pooled server connection and other clients' transactions would run on
 * the session that holds it. When the server sees the connection from
 * where we see it (TCP: the client port the server sees is our local
 * port; a unix socket: at both ends, and the port we connected to is the
 * server's own), there is nothing in between: the connect query asks only
 * that. Otherwise something is (a proxy, a pooler): our session gets a
 * token, a second connection asks for it (a pooler that reuses server
 * connections, as PgBouncer does last in first out, hands it our
 * session), and ours asks again (a pooler hands it another one). Only an
 * unstable session fails, so TCP proxies and session pooling are fine.
 *
 * One such probe can miss a pooler that other clients use at the same
 * time: one of them has our server session while the second connection
 * asks, and gives it back, token untouched, before ours asks again (seen
 * with four migrate runs at once through PgBouncer). Each probe, with a
 * token of its own, is another chance to see the session move;
 * SESSION_PROBES of them, unless one already has.
 */
#define SESSION_PROBES 3

static int
check_session(struct pq_backend *pq,
	      long port,
	      const char *server_port,
	      const char *listen_port,
	      struct migrate_backend_error *err)
{
	static const char sql[] =
		"SELECT current_setting('migrate.session', true), "
		"pg_backend_pid()";
	PGconn *other = NULL;
	bool moved = false;
	int rc, probe;

	const char *dialled = PQport(pq->conn);

	if ((port == 0 && !*server_port && dialled &&
	     strcmp(dialled, listen_port) == 0) ||
	    (port > 0 && *server_port && strtol(server_port, NULL, 10) == port))
		return 0;
	rc = open_conn(pq, &other, err);
	if (rc < 0)
		return rc;
	for (probe = 0; probe < SESSION_PROBES && !moved && other; probe++) {
		char *seen, *ignored, *again, *pid2, *pid, *token;
		struct buf b = BUF_INIT;

		make_token(pq->token, sizeof(pq->token));
		buf_printf(&b,
			   "SELECT pg_backend_pid(), "
			   "set_config('migrate.session', '%s', false)",
			   pq->token);
		if (b.oom) {
			buf_free(&b);
			PQfinish(other);
			return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
						     "out of memory");
		}
		values_on(pq, &pq->conn, b.data, &pid, &token);
		buf_free(&b);
		free(token);
		if (!pq->conn || !pid) {
			free(pid);
			PQfinish(other);
			if (!pq->conn)
				fill_error(pq, NULL, err);
			else
				migrate__backend_fail(
					err, MIGRATE_EBACKEND, NULL,
					"cannot name the server session");
			return MIGRATE_EBACKEND;
		}
		values_on(pq, &other, sql, &seen, &ignored);
		values_on(pq, &pq->conn, sql, &again, &pid2);
		moved = (seen && strcmp(seen, pq->token) == 0) || !again ||
			strcmp(again, pq->token) != 0 || !pid2 ||
			strcmp(pid2, pid) != 0;
		free(pid);
		free(seen);
		free(ignored);
		free(again);
		free(pid2);
		if (!pq->conn)
			break;
	}
	PQfinish(other);
	if (!pq->conn) {
		fill_error(pq, NULL, err);
		return MIGRATE_EBACKEND;
	}
	if (moved)
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, NULL,
			"the connection does not keep one server session (its transactions run on different server connections): the database URL leads to a transaction pooler such as PgBouncer with pool_mode=transaction; migrate needs one session for its lock and its non-transactional revisions: point it at the database itself (or a session-pooled port), not at the pool; nothing was changed");
	return 0;
}

/* Writers: pin the schema, make sure the session stays ours. The
 * connect query asks only what a direct connection needs (each function
 * costs a fresh server session its catalog lookups); check_session() asks
 * the rest where something is in between. */
static int
open_session(struct pq_backend *pq,
	     const struct migrate_backend_config *cfg,
	     struct migrate_backend_error *err)
{
	struct buf b = BUF_INIT;
	long port = local_port(pq->conn);
	bool probe = !(cfg->schema && *cfg->schema);
	PGresult *res;
	int rc;

	buf_puts(&b, "SELECT current_schema(), "
		     "coalesce(inet_client_port()::text, '')");
	/* A unix socket: the port we dialled is the server's own? */
	if (port == 0)
		buf_puts(&b, ", current_setting('port')");
	/* Last: whether the version table exists (a first run then skips
	 * its unlocked read); a schema given may not exist yet, so only in
	 * current_schema(), as the lock try's probe (lock_try()). */
	if (probe) {
		buf_puts(&b, ", ");
		migrate__pg_exists_in_current_schema(&b, cfg->version_table);
	}
	res = query_rows(pq, &b, 1, err, &rc);
	if (!res)
		return rc;
	if (cfg->schema && *cfg->schema) {
		pq->schema = xstrdup(cfg->schema);
	} else if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return migrate__backend_fail(
			err, MIGRATE_EBACKEND, NULL,
			"no schema to keep the version table in: no schema of search_path exists (give a schema)");
	} else {
		pq->schema = xstrdup(PQgetvalue(res, 0, 0));
	}
	if (!pq->schema) {
		PQclear(res);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	pq->vt_missing_at_connect =
		probe && PQgetvalue(res, 0, PQnfields(res) - 1)[0] != 't';
	rc = check_session(pq, port, PQgetvalue(res, 0, 1),
			   port == 0 ? PQgetvalue(res, 0, 2) : "", err);
	PQclear(res);
	pq->connect_sent = pq->n_sent;
	return rc;
}

/* A failed connection's message into @err, and the connection closed. */
static int
conn_failed(PGconn *conn, struct migrate_backend_error *err)
{
	one_line(PQerrorMessage(conn), err->message, sizeof(err->message));
	if (!err->message[0])
		migrate__backend_fail(err, 0, NULL, "connection failed");
	PQfinish(conn);
	return MIGRATE_EBACKEND;
}

/* Our connection parameters: keys and values for PQconnectStartParams(). */
struct conn_params {
	const char *keys[12], *vals[12];
	char connect_s[16], user_s[16];
};

static void
conn_params(const struct pq_backend *pq, struct conn_params *p)
{
	/*
	 * dbname is expanded as a conninfo: what comes before it are
	 * defaults that the URL may override, what comes after it is fixed.
	 * Defaults: a connect timeout (the I/O timeout, unless
	 * PGCONNECT_TIMEOUT says otherwise), and TCP keepalives plus
	 * tcp_user_timeout, so that a dead peer is noticed while a long
	 * revision statement runs (a stalled proxy is not: see
	 * struct migrate_options.io_timeout_ms). Fixed: revision files are
	 * UTF-8, and error positions count characters of what we send;
	 * fallback_application_name only names us when the URL does not.
	 */
	size_t k = 0;

	if (!getenv("PGCONNECT_TIMEOUT")) {
		/* libpq counts whole seconds, at least 2. */
		snprintf(p->connect_s, sizeof(p->connect_s), "%d",
			 pq->io_timeout_ms < 2000
				 ? 2
				 : (pq->io_timeout_ms + 999) / 1000);
		p->keys[k] = "connect_timeout";
		p->vals[k++] = p->connect_s;
	}
	snprintf(p->user_s, sizeof(p->user_s), "%d", pq->io_timeout_ms);
	p->keys[k] = "keepalives_idle";
	p->vals[k++] = "10";
	p->keys[k] = "keepalives_interval";
	p->vals[k++] = "5";
	p->keys[k] = "keepalives_count";
	p->vals[k++] = "3";
	p->keys[k] = "tcp_user_timeout";
	p->vals[k++] = p->user_s;
	p->keys[k] = "dbname";
	p->vals[k++] = pq->conninfo;
	p->keys[k] = "fallback_application_name";
	p->vals[k++] = "migrate";
	p->keys[k] = "client_encoding";
	p->vals[k++] = "UTF8";
	p->keys[k] = NULL;
	p->vals[k] = NULL;
}

/* Does the URL (or PGHOST, PGHOSTADDR) name several servers? */
static bool
several_hosts(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL), *o;
	const char *host = NULL, *hostaddr = NULL;
	bool several;

	for (o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
	}
	if (!host)
		host = getenv("PGHOST");
	if (!hostaddr)
		hostaddr = getenv("PGHOSTADDR");
	several = (host && strchr(host, ',')) ||
		  (hostaddr && strchr(hostaddr, ','));
	PQconninfoFree(opts);
	return several;
}

/*
 * Start a connection with our parameters into *@out without waiting for
 * the server (PQconnectStartParams()); open_finish() completes it. With
 * several servers, *@out stays NULL and open_finish() connects: libpq's
 * own connect moves on to the next server when connect_timeout passes,
 * which PQconnectPoll() cannot be told to do.
 */
/*
 * Take the connection being made as far as it goes without waiting: where
 * it is made at once (a unix socket, loopback), the startup packet goes
 * out and the server authenticates and starts the session meanwhile. *@st
 * is what PQconnectPoll() last said (what it waits for).
 */
static void
advance(PGconn *conn, PostgresPollingStatusType *st)
{
	int i;

	for (i = 0; i < 8 && (*st == PGRES_POLLING_READING ||
			      *st == PGRES_POLLING_WRITING);
	     i++) {
		struct pollfd pfd;

		pfd.fd = PQsocket(conn);
		pfd.events = (short)(*st == PGRES_POLLING_WRITING ? POLLOUT
								  : POLLIN);
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1)
			return;
		*st = PQconnectPoll(conn);
	}
}

static int
open_start(struct pq_backend *pq,
	   PGconn **out,
	   PostgresPollingStatusType *st,
	   struct migrate_backend_error *err)
{
	struct conn_params p;
	PGconn *conn;

	*out = NULL;
	*st = PGRES_POLLING_WRITING;
	if (several_hosts(pq->conninfo))
		return 0;
	conn_params(pq, &p);
	conn = PQconnectStartParams(p.keys, p.vals, 1);
	if (!conn)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	advance(conn, st);
	if (PQstatus(conn) == CONNECTION_BAD)
		return conn_failed(conn, err);
	*out = conn;
	return 0;
}

/* The connect_timeout libpq took (the URL's, PGCONNECT_TIMEOUT or ours),
 * in ms, as libpq counts it: at least 2 s; 0: none. */
static double
connect_timeout_ms(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	long s = 0;

	for (o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val)
			s = strtol(o->val, NULL, 10);
	}
	PQconninfoFree(opts);
	if (s <= 0)
		return 0;
	return (double)(s < 2 ? 2 : s) * 1000.0;
}

/*
 * Complete the connection *@conn that open_start() began (closed and
 * NULL on failure), as PQconnectdbParams() would: connect_timeout bounds
 * each server address tried, signals do not interrupt the wait; with
 * several servers (*@conn NULL), PQconnectdbParams() itself. Then
 * non-blocking.
 */
static int
open_finish(struct pq_backend *pq,
	    PGconn **conn,
	    PostgresPollingStatusType st,
	    struct migrate_backend_error *err)
{
	double timeout, deadline = 0;
	const char *host = NULL, *port = NULL;
	int sock = -1;
	PGconn *c = *conn;

	*conn = NULL;
	if (!c) {
		struct conn_params p;

		conn_params(pq, &p);
		c = PQconnectdbParams(p.keys, p.vals, 1);
		if (!c)
			return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
						     "out of memory");
		if (PQstatus(c) != CONNECTION_OK)
			return conn_failed(c, err);
		st = PGRES_POLLING_OK;
	}
	timeout = connect_timeout_ms(c);
	while (st != PGRES_POLLING_OK) {
		int w;

		if (st != PGRES_POLLING_READING && st != PGRES_POLLING_WRITING)
			return conn_failed(c, err);
		/* A new address or host: a new connect_timeout. */
		if (timeout > 0 && (PQsocket(c) != sock || PQhost(c) != host ||
				    PQport(c) != port)) {
			sock = PQsocket(c);
			host = PQhost(c);
			port = PQport(c);
			deadline = clock_ms() + timeout;
		}
		w = wait_fd(PQsocket(c), st == PGRES_POLLING_WRITING, deadline);
		if (w == 0) {
			size_t n;

			one_line(PQerrorMessage(c), err->message,
				 sizeof(err->message));
			n = strlen(err->message);
			snprintf(err->message + n, sizeof(err->message) - n,
				 "%stimeout expired", n ? " " : "");
			PQfinish(c);
			return MIGRATE_EBACKEND;
		}
		if (w < 0)
			return conn_failed(c, err);
		st = PQconnectPoll(c);
	}
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	/* Round trips wait in poll() with a deadline (run_batch()). */
	if (PQsetnonblocking(c, 1) != 0)
		return conn_failed(c, err);
	*conn = c;
	return 0;
}

/*
 * Open a connection with our parameters into *@out (blocking connect,
 * bounded by connect_timeout), non-blocking afterwards.
 */
static int
open_conn(struct pq_backend *pq,
	  PGconn **out,
	  struct migrate_backend_error *err)
{
	PostgresPollingStatusType st;
	int rc = open_start(pq, out, &st, err);

	return rc < 0 ? rc : open_finish(pq, out, st, err);
}

/* connect_start(): the connection begun, not waited for. */
static int
pq_connect_start(struct migrate_backend *be,
		 const struct migrate_backend_config *cfg,
		 struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);

	if (pq->conn)
		return migrate__backend_fail(err, MIGRATE_EINVAL, NULL,
					     "already connected");
	pq->cfg = cfg;
	pq->io_timeout_ms = cfg->io_timeout_ms > 0 ? cfg->io_timeout_ms
						   : PQ_IO_TIMEOUT_DEFAULT_MS;
	return open_start(pq, &pq->conn, &pq->connect_st, err);
}

/* connect_poll(): what can be done without waiting. */
static void
pq_connect_poll(struct migrate_backend *be)
{
	struct pq_backend *pq = pq_of(be);

	if (pq->conn && !pq->cancel)
		advance(pq->conn, &pq->connect_st);
}

/* connect_finish(): wait for the connection, then make the session
 * ours. */
static int
pq_connect_finish(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	const struct migrate_backend_config *cfg = pq->cfg;
	int rc;

	if (!cfg || pq->cancel)
		return migrate__backend_fail(err, MIGRATE_EINVAL, NULL,
					     "no connection started");
	rc = open_finish(pq, &pq->conn, pq->connect_st, err);
	if (rc < 0)
		return rc;
	pq->cancel = PQgetCancel(pq->conn);
	pq->read_only = cfg->read_only != 0;
	pq->schema_given = cfg->schema && *cfg->schema;
	/*
	 * A read-only handle (a service's startup verify) keeps the names
	 * unqualified when no schema is given, as Alembic does, so that it
	 * costs the connect plus the one read_state round trip and nothing
	 * more. Writers pin current_schema() once, so that every table they
	 * create and the lock key name the same schema.
	 */
	if (!pq->read_only) {
		rc = open_session(pq, cfg, err);
	} else if (cfg->schema && *cfg->schema) {
		pq->schema = xstrdup(cfg->schema);
		rc = pq->schema ? 0
				: migrate__backend_fail(err, MIGRATE_ENOMEM,
							NULL, "out of memory");
	} else {
		rc = 0;
	}
	if (rc < 0) {
		PQfreeCancel(pq->cancel);
		pq->cancel = NULL;
		PQfinish(pq->conn);
		pq->conn = NULL;
		return rc;
	}
	pq->names.schema = pq->schema;
	pq->names.version_table = cfg->version_table;
	pq->names.log_table = cfg->log_table;
	pq->names.log_ids = &pq->log_ids;
	pq->log_ids.source = MIGRATE_PG_ID_SEQUENCE;
	pq->log_ids.next = 1;
	return 0;
}

/* connect(): start and finish. */
static int
pq_connect(struct migrate_backend *be,
	   const struct migrate_backend_config *cfg,
	   struct migrate_backend_error *err)
{
	int rc = pq_connect_start(be, cfg, err);

	return rc < 0 ? rc : pq_connect_finish(be, err);
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

struct state_read {
	struct migrate_state *st;
	size_t version_index; /* statement index of each SELECT */
	size_t history_index;
};

static int
direction_of(const char *s)
{
	return strcmp(s, "down") == 0 ? MIGRATE_DOWN : MIGRATE_UP;
}

/* Report the rows of migrate__pg_read_state()'s history query (see
 * there); the library works out the state from them. The next history
 * id is one more than the largest read. */
static int
history_rows_to_state(struct migrate_state *st,
		      const PGresult *res,
		      struct migrate_pg_log_ids *ids)
{
	int i, n = PQntuples(res), rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		struct migrate_history_entry e;
		long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);

		if (id >= ids->next)
			ids->next = id + 1;
		memset(&e, 0, sizeof(e));
		e.revision = PQgetvalue(res, i, 1);
		e.direction = direction_of(PQgetvalue(res, i, 2));
		e.operation = PQgetvalue(res, i, 3);
		e.success = PQgetvalue(res, i, 4)[0] == 't' ? 1 : 0;
		e.checksum = PQgetvalue(res, i, 5);
		e.error = PQgetvalue(res, i, 6);
		rc = migrate_state_add_history(st, id, &e);
	}
	return rc;
}

static int
state_rows(struct pq_backend *pq,
	   const PGresult *res,
	   size_t index,
	   void *payload)
{
	struct state_read *sr = payload;
	int i, n = PQntuples(res), rc = 0;

	if (index == sr->version_index) {
		for (i = 0; i < n && rc == 0; i++)
			rc = migrate_state_add_head(sr->st,
						    PQgetvalue(res, i, 0));
	} else if (index == sr->history_index) {
		rc = history_rows_to_state(sr->st, res, &pq->log_ids);
	}
	return rc;
}

/* A history table of the format before version_table (see
 * migrate__pg_log_scope): SQLSTATE 42703, undefined column. */
static bool
is_unscoped_log(const PGresult *res)
{
	return sqlstate_is(res, "42703");
}

/* Statement index of the first SELECT of a read (after SET TRANSACTION
 * READ ONLY on a read-only handle). */
static size_t
pq_first_index(const struct pq_backend *pq)
{
	return pq->read_only ? 1 : 0;
}

/* A state read whose version table SELECT is statement @first of @bt
 * failed in a way that says something about the state: a missing version
 * table (never migrated; the history query did not run) or a missing
 * history table (no history). */
static bool
state_missing_table(const struct batch *bt, size_t first)
{
	return bt->failed && bt->error && is_missing_relation(bt->error) &&
	       (bt->n_ok == first || bt->n_ok == first + 1);
}

/* What the state read of @bt (see state_missing_table()) says, into
 * @st. */
static int
state_outcome(struct pq_backend *pq,
	      struct migrate_state *st,
	      const struct batch *bt,
	      size_t first,
	      bool legacy,
	      struct migrate_backend_error *err)
{
	int rc = 0;

	pq->vt_missing_seen =
		state_missing_table(bt, first) && bt->n_ok == first;
	/* Both tables are there, in today's format: nothing to create. */
	if (!bt->failed && !legacy && pq->ensure == ENSURE_PENDING)
		pq->ensure = ENSURE_DONE;
	if (!bt->failed && !legacy) {
		pq->tables_seen = true;
		migrate__state_set_ready(st);
	}
	if (bt->cb_rc < 0)
		return migrate__backend_fail(err, bt->cb_rc, NULL,
					     "out of memory");
	if (!bt->failed)
		return 0;
	if (!state_missing_table(bt, first)) {
		fill_error(pq, bt->error, err);
		return MIGRATE_EBACKEND;
	}
	if (bt->n_ok == first) {
		rc = migrate_state_set_uninitialised(st);
		if (rc < 0)
			migrate__backend_fail(err, rc, NULL, "out of memory");
	}
	return rc;
}

static int
pq_read_state(struct migrate_backend *be,
	      struct migrate_state *st,
	      struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	struct state_read sr;
	struct batch bt;
	bool legacy = false;
	int rc = 0;

	rc = talk_ready(pq, err);
	if (rc < 0)
		return rc;
	/* Read with the lock try, nothing sent since: the rows move. */
	if (pq->pre_valid && pq->pre_sent == pq->n_sent) {
		pq->pre_valid = false;
		*st = pq->pre;
		migrate__state_init(&pq->pre);
		return 0;
	}
	/* What reading no version table says (state_outcome()); a table
	 * made since is found by the lock try, which looks again. */
	if (pq->vt_missing_at_connect && pq->connect_sent == pq->n_sent) {
		pq->vt_missing_at_connect = false;
		pq->vt_missing_seen = true;
		pq->log_ids.next = 1;
		rc = migrate_state_set_uninitialised(st);
		return rc < 0 ? migrate__backend_fail(err, rc, NULL,
						      "out of memory")
			      : 0;
	}
	pq->vt_missing_at_connect = false;
	sr.st = st;
	sr.version_index = pq->read_only ? 1 : 0;
	sr.history_index = sr.version_index + 1;
again:
	pq->log_ids.next = 1;
	migrate__pg_read_state(&b, &pq->names, pq->read_only, legacy);
	if (b.oom) {
		buf_free(&b);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	run_batch(pq, b.data, io_deadline(pq), state_rows, &sr, &bt);
	buf_free(&b);
	/* An old-format history table: read it whole (its rows become this
	 * version table's when a write converts it), the version rows are
	 * in already. Not inside a transaction of the caller's: the failed
	 * statement ended the simple query's own. */
	if (bt.failed && !legacy && bt.cb_rc == 0 && bt.error &&
	    bt.n_ok == sr.history_index && is_unscoped_log(bt.error) &&
	    PQtransactionStatus(pq->conn) == PQTRANS_IDLE) {
		PQclear(bt.error);
		legacy = true;
		sr.version_index = (size_t)-1;
		goto again;
	}
	rc = state_outcome(pq, st, &bt, pq_first_index(pq), legacy, err);
	PQclear(bt.error);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Lock                                                                */
/* ------------------------------------------------------------------ */

/*
 * "(SELECT pid, app, usr, since, state ... LIMIT 1)": the session that
 * holds the migration lock (key k.k of a CTE k), when @cond (SQL ending in
 * AND, or "") holds.
 */
static void
holder_subquery(struct buf *b, const char *cond)
{
	buf_puts(b, "(SELECT a.pid, coalesce(a.application_name, '') AS app, "
		    "coalesce(a.usename::text, '') AS usr, "
		    "to_char(a.backend_start AT TIME ZONE 'UTC', "
		    "'YYYY-MM-DD HH24:MI:SS \"UTC\"') AS since, "
		    "coalesce(a.state, '') AS state FROM pg_locks l JOIN "
		    "pg_stat_activity a ON a.pid = l.pid, k WHERE ");
	buf_puts(b, cond);
	buf_puts(
		b,
		"l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
		"AND l.database = (SELECT oid FROM pg_database WHERE "
		"datname = current_database()) AND l.classid = ((k.k >> 32) & 4294967295)::text::oid AND l.objid = (k.k & 4294967295)::text::oid LIMIT 1)");
}

/* "pid 42 (application "migrate", user "u", connected since T, active)"
 * from the five holder columns starting at @col; "another session" when
 * they are NULL. */
static void
describe_holder(const PGresult *res, int col, char *out, size_t size)
{
	if (PQgetisnull(res, 0, col)) {
		snprintf(out, size, "another session");
		return;
	}
	snprintf(
		out, size,
		"pid %s (application \"%s\", user \"%s\", connected since %s, %s)",
		PQgetvalue(res, 0, col), PQgetvalue(res, 0, col + 1),
		PQgetvalue(res, 0, col + 2), PQgetvalue(res, 0, col + 3),
		PQgetvalue(res, 0, col + 4));
}

static int
pq_lock_holder(struct migrate_backend *be,
	       char *out,
	       size_t size,
	       struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	PGresult *res;
	int rc;

	rc = talk_ready(pq, err);
	if (rc < 0)
		return rc;
	buf_puts(&b, "WITH k AS (SELECT ");
	migrate__pg_lock_key_value(&b, &pq->names);
	buf_puts(&b, " AS k) SELECT h.* FROM ");
	holder_subquery(&b, "");
	buf_puts(&b, " h");
	res = query_rows(pq, &b, -1, err, &rc);
	if (!res)
		return rc;
	rc = PQntuples(res) > 0 ? 1 : 0;
	if (rc)
		describe_holder(res, 0, out, size);
	PQclear(res);
	return rc;
}

/* The lock try's batch: the try (statement 1, after BEGIN), the state
 * read from statement 3 (after COMMIT). */
#define LOCK_TRY_INDEX   1
#define LOCK_STATE_INDEX 3

struct lock_read {
	bool granted;
	bool probe;       /* whether to learn if the tables are missing */
	bool log_missing; /* ... the history table is */
	bool vt_missing;  /* ... the version table is */
	struct state_read sr;
};

static int
lock_rows(struct pq_backend *pq,
	  const PGresult *res,
	  size_t index,
	  void *payload)
{
	struct lock_read *lr = payload;

	if (index == LOCK_TRY_INDEX) {
		/* The last columns: migrate__pg_log_exists() and
		 * migrate__pg_version_table_exists() when probing, else
		 * migrate__pg_log_id_has_default(). */
		int last = PQnfields(res) - 1;
		bool missing;

		lr->granted =
			PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		if (!lr->granted)
			return 0;
		if (lr->probe) {
			/* A missing table is created in this format; the
			 * format of one that exists is learnt before the
			 * first write (learn_log_ids()). */
			lr->log_missing =
				PQgetvalue(res, 0, last - 1)[0] != 't';
			lr->vt_missing = PQgetvalue(res, 0, last)[0] != 't';
			pq->log_ids.source = MIGRATE_PG_ID_COUNTER;
			pq->log_ids_known = lr->log_missing;
			return 0;
		}
		missing = PQgetisnull(res, 0, last);
		/* A missing table is created in this format. */
		pq->log_ids.source = MIGRATE_PG_ID_COUNTER;
		if (!missing && PQgetvalue(res, 0, last)[0] == 't')
			pq->log_ids.source = MIGRATE_PG_ID_SEQUENCE;
		pq->log_ids_known = true;
		return 0;
	}
	return lr->granted ? state_rows(pq, res, index, &lr->sr) : 0;
}

/*
 * One try of the lock, MIGRATE_ELOCKED when it is taken. The first try
 * (not one after a refusal: a waiter reads nothing) also reads the state
 * in the same round trip, kept in pq->pre for the read_state() that
 * follows: the try commits on its own (BEGIN ... COMMIT), so that a read
 * that fails (no version table yet) does not roll back the session
 * settings, and the session lock outlives any transaction anyway.
 */
static int
lock_try(struct pq_backend *pq, struct migrate_backend_error *err)
{
	struct buf b = BUF_INIT;
	struct lock_read lr;
	struct batch bt;
	bool read = !pq->lock_refused && !pq->read_only;

	buf_puts(&b, "BEGIN; SELECT pg_try_advisory_lock(");
	migrate__pg_lock_key_value(&b, &pq->names);
	buf_puts(&b, ")");
	/* The server ends our session when we go silent (a vanished client,
	 * a stalled network): the lock it holds cannot outlive us for
	 * longer than the I/O timeout. */
	if (PQserverVersion(pq->conn) >= 140000)
		buf_printf(
			&b,
			", set_config('idle_session_timeout', '%d', false), set_config('idle_in_transaction_session_timeout', '%d', false)",
			pq->io_timeout_ms, pq->io_timeout_ms);
	/* The format of the history table (how its rows get their ids); in
	 * a first run (the last read found no version table), whether each
	 * table is missing instead: the tables are then made with plain DDL
	 * (see ensure_sql()), the format of a history table that exists
	 * (another version table's) is learnt before the first write, so
	 * that a first run does not plan a query of pg_attribute (~1 ms in
	 * a fresh session), and the state is read only if the version table
	 * exists by now (reading a missing one logs an error on the
	 * server). */
	memset(&lr, 0, sizeof(lr));
	lr.probe = read && pq->vt_missing_seen && !pq->schema_given;
	buf_puts(&b, ", ");
	if (lr.probe) {
		migrate__pg_log_exists(&b, &pq->names);
		buf_puts(&b, ", ");
		migrate__pg_version_table_exists(&b, &pq->names);
	} else {
		migrate__pg_log_id_has_default(&b, &pq->names);
	}
	buf_puts(&b, ";\nCOMMIT;\n");
	if (read && !lr.probe) {
		pq->log_ids.next = 1;
		migrate__pg_read_state(&b, &pq->names, false, false);
	}
	if (b.oom) {
		buf_free(&b);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	lr.sr.st = &pq->pre;
	lr.sr.version_index = LOCK_STATE_INDEX;
	lr.sr.history_index = LOCK_STATE_INDEX + 1;
	run_batch(pq, b.data, io_deadline(pq), lock_rows, &lr, &bt);
	buf_free(&b);
	if (bt.failed && bt.n_ok <= LOCK_STATE_INDEX - 1) {
		/* The try itself failed: its transaction is left aborted. */
		fill_error(pq, bt.error, err);
		PQclear(bt.error);
		rollback_if_open(pq);
		return MIGRATE_EBACKEND;
	}
	if (!lr.granted) {
		PQclear(bt.error);
		migrate__state_clear(&pq->pre);
		return MIGRATE_ELOCKED;
	}
	pq->log_missing = lr.log_missing;
	if (lr.probe) {
		/* Still no version table: what reading it would say. One made
		 * since the last read is read by read_state(). */
		pq->pre_valid = lr.vt_missing &&
				migrate_state_set_uninitialised(&pq->pre) == 0;
		pq->pre_sent = pq->n_sent;
	} else if (read &&
		   (!bt.failed || state_missing_table(&bt, LOCK_STATE_INDEX))) {
		/* Kept when it says what read_state() would; anything else
		 * (an old history table, no privilege, ...) is read again
		 * there. */
		struct migrate_backend_error ignored;

		memset(&ignored, 0, sizeof(ignored));
		pq->pre_valid =
			state_outcome(pq, &pq->pre, &bt, LOCK_STATE_INDEX,
				      false, &ignored) == 0 &&
			!pq->pre.oom;
		pq->pre_sent = pq->n_sent;
	}
	if (!pq->pre_valid)
		migrate__state_clear(&pq->pre);
	PQclear(bt.error);
	return 0;
}

/*
 * Try the migration lock once, without waiting, in one statement: waiting
 * is the library's loop of such tries (a wait inside the server, even a
 * plain SELECT pg_advisory_lock(), holds a snapshot, and CREATE INDEX
 * CONCURRENTLY of the lock's holder waits for every snapshot: a deadlock).
 * The try is a bare function call (lock_try()): asking who holds the lock
 * (a join of pg_locks and pg_stat_activity, whose planning costs a fresh
 * session milliseconds) is a second statement, sent only when the lock is
 * taken.
 */
static int
pq_lock(struct migrate_backend *be,
	int wait_ms,
	struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf name = BUF_INIT;
	char holder[512];
	int rc;

	(void)wait_ms;
	rc = talk_ready(pq, err);
	if (rc < 0)
		return rc;
	pq->tables_seen = false;
	pq->log_missing = false;
	pq->pre_valid = false;
	pq->unlock_hint = false;
	pq->unlocked = false;
	migrate__state_clear(&pq->pre);
	rc = lock_try(pq, err);
	if (rc != MIGRATE_ELOCKED) {
		pq->lock_refused = false;
		return rc;
	}
	pq->lock_refused = true;
	/* Who holds it: "another session" when it went meanwhile. A lost
	 * connection is that failure, not a busy lock. */
	rc = pq_lock_holder(be, holder, sizeof(holder), err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		snprintf(holder, sizeof(holder), "another session");
	migrate__pg_version_table(&name, &pq->names);
	migrate__backend_fail(err, MIGRATE_ELOCKED, NULL,
			      "the migration lock of %s is held by %s",
			      name.data ? name.data : "the version table",
			      holder);
	buf_free(&name);
	return MIGRATE_ELOCKED;
}

/* "SELECT pg_advisory_unlock(KEY)": the release of the migration lock,
 * sent alone by unlock() or after the last commit (unlock_at_commit()). */
static void
unlock_sql(struct pq_backend *pq, struct buf *b)
{
	buf_puts(b, "SELECT pg_advisory_unlock(");
	migrate__pg_lock_key_value(b, &pq->names);
	buf_puts(b, ")");
}

static void
pq_unlock_at_commit(struct migrate_backend *be)
{
	pq_of(be)->unlock_hint = true;
}

static int
pq_unlock(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	int rc;

	rc = talk_ready(pq, err);
	if (rc < 0)
		return rc;
	pq->unlock_hint = false;
	/* Known under the lock only. */
	pq->log_missing = false;
	pq->log_ids_known = false;
	/* Released with the last commit (unlock_sql()). */
	if (pq->unlocked) {
		pq->unlocked = false;
		return 0;
	}
	/* A run that wrote nothing still leaves the tables it was asked to
	 * create. */
	rc = ensure_now(pq, err);
	unlock_sql(pq, &b);
	if (rc < 0) {
		struct migrate_backend_error ignored;

		memset(&ignored, 0, sizeof(ignored));
		exec_buf(pq, &b, &ignored);
		return rc;
	}
	return exec_buf(pq, &b, err);
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */
/* ------------------------------------------------------------------ */

static void
row_free(struct migrate_record *r)
{
	free((char *)r->revision);
	free((char *)r->operation);
	free((char *)r->checksum);
}

static void
deferred_clear(struct deferred *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		row_free(&d->rows[i]);
	free(d->rows);
	d->rows = NULL;
	d->n = d->cap = 0;
	strv_clear(&d->removed);
	strv_clear(&d->added);
}

/* Forget the first @n kept rows (written ahead). */
static void
deferred_drop(struct deferred *d, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		row_free(&d->rows[i]);
	memmove(d->rows, d->rows + n, (d->n - n) * sizeof(*d->rows));
	d->n -= n;
}

/* The transaction ended (@committed or not). */
static void
txn_ended(struct pq_backend *pq, bool committed)
{
	if (pq->ensure == ENSURE_IN_TXN)
		pq->ensure = committed ? ENSURE_DONE : ENSURE_PENDING;
	deferred_clear(&pq->dfr);
	pq->txn_lock_ms = pq->txn_stmt_ms = -2;
}

/* Each of @heads leaves @cancel if it is there (undoing an earlier
 * change of the run), else joins @into. */
static int
net_heads(struct strv *cancel,
	  struct strv *into,
	  const char *const *heads,
	  size_t n)
{
	size_t i;
	long k;

	for (i = 0; i < n; i++) {
		k = strv_find(cancel, heads[i]);
		if (k >= 0)
			strv_remove(cancel, (size_t)k);
		else if (strv_push(into, heads[i]) < 0)
			return MIGRATE_ENOMEM;
	}
	return 0;
}

/* Apply one step's version change to the run's net change. */
static int
deferred_heads(struct deferred *d, const struct migrate_record *rec)
{
	int rc = net_heads(&d->added, &d->removed, rec->remove_heads,
			   rec->n_remove);

	return rc < 0 ? rc
		      : net_heads(&d->removed, &d->added, rec->add_heads,
				  rec->n_add);
}

/* Keep a copy of @rec's history row, with @duration_ms. */
static int
deferred_keep(struct deferred *d,
	      const struct migrate_record *rec,
	      double duration_ms)
{
	struct migrate_record *r;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct migrate_record *v = realloc(d->rows, cap * sizeof(*v));

		if (!v)
			return MIGRATE_ENOMEM;
		d->rows = v;
		d->cap = cap;
	}
	r = &d->rows[d->n];
	memset(r, 0, sizeof(*r));
	r->revision = xstrdup(rec->revision ? rec->revision : "");
	r->operation = xstrdup(rec->operation ? rec->operation : "");
	r->checksum = xstrdup(rec->checksum ? rec->checksum : "");
	r->error = "";
	r->direction = rec->direction;
	r->started_at = rec->started_at;
	r->duration_ms = duration_ms;
	r->success = 1;
	d->n++;
	if (!r->revision || !r->operation || !r->checksum)
		return MIGRATE_ENOMEM;
	return deferred_heads(d, rec);
}

/* Append the deferred bookkeeping (one statement), if any. */
static void
deferred_sql(struct pq_backend *pq, struct buf *b)
{
	struct deferred *d = &pq->dfr;
	struct migrate_record heads;

	if (d->n == 0)
		return;
	memset(&heads, 0, sizeof(heads));
	heads.remove_heads = (const char *const *)d->removed.v;
	heads.n_remove = d->removed.n;
	heads.add_heads = (const char *const *)d->added.v;
	heads.n_add = d->added.n;
	migrate__pg_bookkeeping_rows(b, &pq->names, &heads, d->rows, d->n,
				     MIGRATE_PG_TIMING_RECORD);
}

/* The pending tables can be created with plain DDL: under the lock, no
 * history table (nothing to convert), the connection's own schema
 * (current_schema() exists by definition; one that was asked for may
 * have to be created). */
static bool
ensure_plain(const struct pq_backend *pq)
{
	return pq->log_missing && !pq->schema_given;
}

/* Append the creation of the bookkeeping tables when they are pending;
 * the number of statements appended (0: none). */
static size_t
ensure_sql(struct pq_backend *pq, struct buf *b)
{
	if (pq->ensure != ENSURE_PENDING)
		return 0;
	if (ensure_plain(pq)) {
		migrate__pg_create_tables(b, &pq->names);
		return MIGRATE_PG_CREATE_TABLES_STATEMENTS;
	}
	migrate__pg_ensure_tables(b, &pq->names, true);
	return 1;
}

static int
refuse_read_only(struct pq_backend *pq, struct migrate_backend_error *err)
{
	if (pq->read_only)
		return migrate__backend_fail(err, MIGRATE_EREADONLY, NULL,
					     "the connection is read-only");
	return 0;
}

/*
 * Before a write: how history rows get their ids, when no lock try has
 * said (a caller that writes without the lock, as the backend's tests
 * do): the same probe as the lock try's, and the largest id of this
 * version table's rows.
 */
static int
learn_log_ids(struct pq_backend *pq, struct migrate_backend_error *err)
{
	struct buf b = BUF_INIT;
	PGresult *res;
	int rc = 0;

	if (pq->log_ids_known)
		return 0;
	buf_puts(&b, "SELECT ");
	migrate__pg_log_id_has_default(&b, &pq->names);
	res = query_rows(pq, &b, 1, err, &rc);
	if (!res)
		return rc;
	pq->log_ids.source = MIGRATE_PG_ID_COUNTER;
	pq->log_ids.next = 1;
	if (!PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 0)[0] == 't')
		pq->log_ids.source = MIGRATE_PG_ID_SEQUENCE;
	else if (!PQgetisnull(res, 0, 0)) {
		PQclear(res);
		buf_puts(&b, "SELECT coalesce(max(id), 0) + 1 FROM ");
		migrate__pg_log_table(&b, &pq->names);
		buf_puts(&b, " WHERE ");
		migrate__pg_log_scope(&b, &pq->names);
		res = query_rows(pq, &b, 1, err, &rc);
		if (!res)
			return rc;
		pq->log_ids.next = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	pq->log_ids_known = true;
	return 0;
}

/* What every write checks first. */
static int
ready_to_write(struct pq_backend *pq, struct migrate_backend_error *err)
{
	int rc = refuse_read_only(pq, err);

	if (rc == 0 && !pq->conn)
		rc = migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
					   "not connected");
	return rc < 0 ? rc : learn_log_ids(pq, err);
}

/* Create the pending bookkeeping tables now, on their own (in the open
 * transaction, if any). */
static int
ensure_now(struct pq_backend *pq, struct migrate_backend_error *err)
{
	struct buf b = BUF_INIT;
	bool in_txn;
	int rc;

	if (!ensure_sql(pq, &b))
		return 0;
	in_txn = pq->conn && PQtransactionStatus(pq->conn) != PQTRANS_IDLE;
	rc = exec_buf(pq, &b, err);
	if (rc == 0)
		pq->ensure = in_txn ? ENSURE_IN_TXN : ENSURE_DONE;
	return rc;
}

static int
pq_ensure_tables(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	int rc = refuse_read_only(pq, err);

	if (rc < 0)
		return rc;
	if (!pq->conn)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
					     "not connected");
	/* Created with the first write, in its transaction (no commit of
	 * their own), unless read_state finds them first (or found them
	 * since the lock was taken). */
	if (pq->ensure == ENSURE_DONE && !pq->tables_seen)
		pq->ensure = ENSURE_PENDING;
	return 0;
}

static int
pq_begin(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);

	txn_ended(pq, false);
	if (pq->read_only)
		return exec_sql(pq, "BEGIN READ ONLY", err);
	if (!pq->conn)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
					     "not connected");
	/* Sent with the next query: a single-transaction run's first batch
	 * of steps carries it, with the pending tables (one round trip
	 * less); anything else sends it first, with them, as begin() did
	 * (flush_begin()). */
	pq->begin_pending = true;
	return 0;
}

/* Send the BEGIN that begin() left pending, alone: with the pending
 * tables as begin() made them before (@tables), or bare (it then fails
 * only with the connection; the transaction's first write makes the
 * tables). */
static int
flush_begin(struct pq_backend *pq,
	    struct migrate_backend_error *err,
	    bool tables)
{
	struct buf b = BUF_INIT;
	int rc;

	if (!pq->begin_pending)
		return 0;
	pq->begin_pending = false;
	buf_puts(&b, "BEGIN;\n");
	if (tables && ensure_sql(pq, &b))
		pq->ensure = ENSURE_IN_TXN;
	rc = exec_buf(pq, &b, err);
	if (rc < 0) {
		rollback_if_open(pq);
		txn_ended(pq, false);
	}
	return rc;
}

/* What every call that talks to the server needs before its own query:
 * the connection, and the BEGIN that begin() left pending sent first. */
static int
talk_ready(struct pq_backend *pq, struct migrate_backend_error *err)
{
	if (!pq->conn)
		return migrate__backend_fail(err, MIGRATE_EBACKEND, NULL,
					     "not connected");
	return flush_begin(pq, err, true);
}

static int
pq_commit(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	struct batch bt;
	size_t n_bk;
	bool unlock;
	int rc = 0;

	rc = talk_ready(pq, err);
	if (rc < 0) {
		pq->unlock_hint = false;
		return rc;
	}
	/* The lock goes with the last COMMIT (unlock_at_commit()), only
	 * after it, so only when the transaction can commit (one that
	 * failed would "commit" as ROLLBACK and the unlock run all the same)
	 * and no table waits for its creation (unlock() makes them). */
	unlock = pq->unlock_hint &&
		 PQtransactionStatus(pq->conn) == PQTRANS_INTRANS &&
		 pq->ensure != ENSURE_PENDING;
	pq->unlock_hint = false;
	/* A single-transaction run's bookkeeping travels with its COMMIT. */
	deferred_sql(pq, &b);
	n_bk = b.len ? 1 : 0;
	buf_puts(&b, "COMMIT");
	if (unlock) {
		buf_puts(&b, ";\n");
		unlock_sql(pq, &b);
	}
	if (b.oom) {
		buf_free(&b);
		rollback_if_open(pq);
		txn_ended(pq, false);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	run_batch(pq, b.data, io_deadline(pq), NULL, NULL, &bt);
	buf_free(&b);
	if (unlock && bt.failed && bt.n_ok == n_bk + 1) {
		/* Committed; the unlock failed (cancelled): unlock() sends
		 * it again. */
		PQclear(bt.error);
	} else if (bt.failed) {
		fill_error(pq, bt.error, err);
		PQclear(bt.error);
		rc = MIGRATE_EBACKEND;
		if (bt.n_ok < n_bk) {
			err->in_bookkeeping = 1;
			if (is_conflict(err))
				rc = MIGRATE_ECONFLICT;
		}
		rollback_if_open(pq);
	} else if (strcmp(bt.last_tag, "COMMIT") != 0) {
		/* COMMIT of a failed transaction "succeeds" as ROLLBACK. */
		rc = migrate__backend_fail(
			err, MIGRATE_EBACKEND, NULL,
			"the transaction was rolled back (an earlier statement in it failed)");
	} else if (unlock) {
		pq->unlocked = true;
	}
	txn_ended(pq, rc == 0);
	return rc;
}

static int
pq_rollback(struct migrate_backend *be, struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);

	pq->unlock_hint = false;
	txn_ended(pq, false);
	/* A BEGIN never sent: nothing to roll back. */
	if (pq->begin_pending) {
		pq->begin_pending = false;
		return 0;
	}
	return exec_sql(pq, "ROLLBACK", err);
}

static int
pq_set_timeouts(struct migrate_backend *be,
		int lock_timeout_ms,
		int statement_timeout_ms,
		struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	/* SET LOCAL inside a transaction (the pending BEGIN sent first); a
	 * session setting outside one (a transaction=false section), which
	 * the engine resets after the section. */
	int rc = flush_begin(pq, err, true);
	bool local = pq->conn && PQtransactionStatus(pq->conn) != PQTRANS_IDLE;

	int lock_ms = lock_timeout_ms < 0 ? 0 : lock_timeout_ms;
	int stmt_ms = statement_timeout_ms < 0 ? 0 : statement_timeout_ms;

	if (rc < 0)
		return rc;
	pq->stmt_timeout_ms = stmt_ms;
	migrate__pg_step_settings(&b, lock_ms, stmt_ms, local);
	rc = exec_buf(pq, &b, err);
	if (local) {
		pq->txn_lock_ms = rc == 0 ? lock_ms : -2;
		pq->txn_stmt_ms = rc == 0 ? stmt_ms : -2;
	}
	return rc;
}

/*
 * After a lock timeout, say who probably held the lock: the cancelled wait
 * is gone from pg_locks by now, but the culprit is nearly always one of the
 * oldest open transactions of the database (an idle-in-transaction session,
 * a long report). Only outside a transaction (the failed one is rolled
 * back), only when the server left DETAIL empty; best effort.
 */
static void
describe_lock_holders(struct pq_backend *pq, struct migrate_backend_error *err)
{
	static const char sql[] =
		"SELECT string_agg(format('pid %s (%s, %s for %s s%s)', pid, "
		"coalesce(nullif(application_name, ''), 'no name'), state, "
		"round(extract(epoch FROM now() - xact_start)::numeric, 1), "
		"': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 80)), "
		"'; ' ORDER BY xact_start) FROM (SELECT * FROM pg_stat_activity "
		"WHERE datname = current_database() AND pid <> pg_backend_pid() "
		"AND xact_start IS NOT NULL AND backend_type = 'client backend' "
		"ORDER BY xact_start LIMIT 3) oldest";
	PGresult *res;

	if (err->kind != MIGRATE_BACKEND_ERROR_LOCK_TIMEOUT || err->detail[0] ||
	    conn_lost(pq) || PQtransactionStatus(pq->conn) != PQTRANS_IDLE)
		return;
	res = query1(pq, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		snprintf(
			err->detail, sizeof(err->detail),
			"oldest open transactions here, likely holding the lock: %s",
			PQgetvalue(res, 0, 0));
	PQclear(res);
}

static int
pq_exec(struct migrate_backend *be,
	const char *sql,
	struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	int rc = flush_begin(pq, err, true);

	if (rc == 0)
		rc = ensure_now(pq, err);
	if (rc < 0)
		return rc;
	rc = exec_until(pq, sql ? sql : "",
			sql_deadline(pq, sql ? sql : "", pq->stmt_timeout_ms),
			err);
	if (rc < 0)
		describe_lock_holders(pq, err);
	return rc;
}

static int
pq_record(struct migrate_backend *be,
	  const struct migrate_record *rec,
	  struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct buf b = BUF_INIT;
	bool in_txn;
	int rc = ready_to_write(pq, err);

	if (rc == 0)
		rc = flush_begin(pq, err, true);
	if (rc < 0)
		return rc;
	in_txn = PQtransactionStatus(pq->conn) != PQTRANS_IDLE;
	/* What is pending goes first: the tables, then the run's deferred
	 * bookkeeping (this record builds on its version change). */
	if (ensure_sql(pq, &b))
		pq->ensure = in_txn ? ENSURE_IN_TXN : ENSURE_DONE;
	deferred_sql(pq, &b);
	deferred_clear(&pq->dfr);
	migrate__pg_bookkeeping(&b, &pq->names, rec, MIGRATE_PG_TIMING_RECORD);
	rc = exec_buf(pq, &b, err);
	if (rc == MIGRATE_EBACKEND) {
		if (!in_txn && pq->ensure == ENSURE_DONE)
			pq->ensure = ENSURE_PENDING;
		err->in_bookkeeping = 1;
		err->position = 0;
		if (is_conflict(err))
			rc = MIGRATE_ECONFLICT;
	}
	return rc;
}

/* Results that @sql (plus our "\n;\n") gives: its statements. */
static int
count_results(const char *sql, size_t *out)
{
	struct migrate_sql_stmt *stmts = NULL;
	int rc;

	rc = migrate__sql_split(sql, strlen(sql), &stmts, out, NULL);
	free(stmts);
	return rc;
}

/*
 * Where did a step batch fail? The server's position counts from the start
 * of the batch: subtract what precedes the SQL. Without a position (most
 * run-time errors), the number of statements that completed says which
 * statement failed, and the statement splitter where it starts.
 */
static void
locate_step_error(const struct migrate_backend_step *step,
		  const struct migrate_pg_step_layout *lay,
		  size_t n_ok,
		  struct migrate_backend_error *err)
{
	long sql_chars = utf8_chars(step->sql, strlen(step->sql));
	struct migrate_sql_stmt *stmts = NULL;
	size_t n_stmts = 0;

	if (err->position > 0) {
		long rel = err->position - (long)lay->sql_offset;

		if (rel >= 1 && rel <= sql_chars) {
			err->position = rel;
			err->in_bookkeeping = 0;
		} else {
			err->position = 0;
			err->in_bookkeeping = 1;
		}
		return;
	}
	err->position = 0;
	if (migrate__sql_split(step->sql, strlen(step->sql), &stmts, &n_stmts,
			       NULL) < 0) {
		/* Cannot count: only our own conflict error is known. */
		err->in_bookkeeping = is_conflict(err) ? 1 : 0;
		return;
	}
	if (n_ok < lay->n_before) {
		err->in_bookkeeping = 1;
	} else if (n_ok < lay->n_before + n_stmts) {
		err->in_bookkeeping = 0;
		err->position = utf8_chars(step->sql,
					   stmts[n_ok - lay->n_before].offset) +
				1;
	} else if (n_ok == lay->n_before + n_stmts) {
		err->in_bookkeeping = 1;
	} else {
		/* COMMIT: deferred constraints of the revision's own
		 * changes. */
		err->in_bookkeeping = 0;
	}
	free(stmts);
}

static int
pq_run_step(struct migrate_backend *be,
	    const struct migrate_backend_step *step,
	    struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct migrate_pg_step_layout lay;
	struct migrate_pg_step_opts o;
	struct buf b = BUF_INIT;
	struct batch bt;
	bool unlock = false;
	size_t n_results;
	double t0;
	int rc;

	/* The last step under the lock (unlock_at_commit()). */
	if (!step->in_transaction) {
		unlock = pq->unlock_hint;
		pq->unlock_hint = false;
	}
	rc = ready_to_write(pq, err);
	if (rc == 0)
		rc = flush_begin(pq, err, true);
	if (rc < 0)
		return rc;
	if (!step->sql || !step->record)
		return migrate__backend_fail(err, MIGRATE_EINVAL, NULL,
					     "run_step: no SQL or record");
	/*
	 * A step of its own, one simple query (so one transaction, without
	 * BEGIN and COMMIT): the tables if pending, the timeouts (local to
	 * the transaction: a revision that changes a session setting cannot
	 * change the next step's), the SQL, the bookkeeping timed by the
	 * server; one round trip, as many statements as psql's BEGIN, SQL,
	 * COMMIT. In the caller's transaction (a
	 * single-transaction run): the tables if pending, the timeouts only
	 * when they change, the SQL; the bookkeeping is kept for commit(),
	 * which writes it once for the whole run. The last step under the
	 * lock ends with BEGIN ... COMMIT and the unlock after it, still
	 * one round trip: a failure before the COMMIT skips the rest of
	 * the query, so the lock is released only with the commit.
	 */
	memset(&o, 0, sizeof(o));
	o.ensure_tables = pq->ensure == ENSURE_PENDING;
	o.ensure_plain = ensure_plain(pq);
	o.settings = !step->in_transaction ||
		     step->lock_timeout_ms != pq->txn_lock_ms ||
		     step->statement_timeout_ms != pq->txn_stmt_ms;
	o.bookkeeping = !step->in_transaction;
	o.timing = MIGRATE_PG_TIMING_MESSAGE;
	/* One simple query is one transaction: no BEGIN/COMMIT needed; the
	 * two timeouts in one statement. */
	o.implicit_txn = !unlock;
	o.settings_select = true;
	migrate__pg_step(&b, &pq->names, step, &o, &lay);
	if (unlock)
		unlock_sql(pq, &b);
	if (b.oom) {
		buf_free(&b);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	t0 = clock_ms();
	run_batch(pq, b.data,
		  sql_deadline(pq, step->sql, step->statement_timeout_ms), NULL,
		  NULL, &bt);
	/* Every statement but the unlock ran: committed; the unlock failed
	 * (cancelled), unlock() sends it again. */
	if (unlock && bt.failed && count_results(b.data, &n_results) == 0 &&
	    bt.n_ok + 1 == n_results) {
		PQclear(bt.error);
		memset(&bt, 0, sizeof(bt));
		unlock = false;
	}
	buf_free(&b);
	if (!bt.failed) {
		if (!step->in_transaction) {
			if (o.ensure_tables)
				pq->ensure = ENSURE_DONE;
			pq->unlocked = unlock;
			return 0;
		}
		if (o.ensure_tables)
			pq->ensure = ENSURE_IN_TXN;
		if (o.settings) {
			pq->txn_lock_ms = step->lock_timeout_ms;
			pq->txn_stmt_ms = step->statement_timeout_ms;
		}
		rc = deferred_keep(&pq->dfr, step->record, clock_ms() - t0);
		return rc < 0 ? migrate__backend_fail(err, rc, NULL,
						      "out of memory")
			      : 0;
	}
	fill_error(pq, bt.error, err);
	PQclear(bt.error);
	locate_step_error(step, &lay, bt.n_ok, err);
	rc = MIGRATE_EBACKEND;
	if (err->in_bookkeeping && is_conflict(err))
		rc = MIGRATE_ECONFLICT;
	/* Nothing of the step may remain, and no transaction stay open,
	 * unless the caller owns the transaction. */
	if (!step->in_transaction) {
		rollback_if_open(pq);
		describe_lock_holders(pq, err);
	}
	return rc;
}

/* Bytes of steps' SQL sent per round trip by run_steps() (a step larger
 * than this goes alone). */
#define STEPS_BATCH_BYTES (32 * 1024)

/* History rows a run keeps for commit() at most: more travel ahead with
 * the next batch (memory stays bounded whatever the run's length). */
#define DEFERRED_ROWS_MAX 128

/* Where a step sits in a run_steps() batch. */
struct step_slot {
	size_t sql_at;   /* byte offset of its SQL in the batch */
	size_t n_before; /* results of the batch before its SQL */
};

/*
 * Steps @steps[0..@n) of a single-transaction run, packed into simple
 * queries of about STEPS_BATCH_BYTES: per step the tables if pending, the
 * timeouts when they change (SET LOCAL), the SQL; the bookkeeping is kept
 * for commit(). A failure is mapped back to its step: by the server's
 * position when it gives one, else by the results before the error
 * (statements counted with the splitter, only then).
 */
static int
pq_run_steps(struct migrate_backend *be,
	     const struct migrate_backend_step *steps,
	     size_t n,
	     size_t *n_done,
	     struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct step_slot *slot;
	struct buf b = BUF_INIT;
	size_t first = 0, k;
	int rc;

	*n_done = 0;
	rc = ready_to_write(pq, err);
	if (rc < 0)
		return rc;
	slot = calloc(n ? n : 1, sizeof(*slot));
	if (!slot)
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	while (first < n) {
		size_t last = first, n_pre = 0, results = 0, ahead = 0;
		bool ensure = false, begin = pq->begin_pending;
		struct batch bt;
		double t0, budget = 0;

		b.len = 0;
		/* The BEGIN that begin() left pending: this batch's first
		 * statement (a failure here is the batch's, and the caller
		 * rolls back). */
		if (begin) {
			buf_puts(&b, "BEGIN;\n");
			n_pre++;
			pq->begin_pending = false;
		}
		/* Kept history rows beyond DEFERRED_ROWS_MAX go ahead, all
		 * but the last (commit() needs a row to carry the version
		 * check). */
		if (pq->dfr.n > DEFERRED_ROWS_MAX) {
			ahead = pq->dfr.n - 1;
			migrate__pg_bookkeeping_rows(&b, &pq->names, NULL,
						     pq->dfr.rows, ahead,
						     MIGRATE_PG_TIMING_RECORD);
			n_pre++;
		}
		/* One batch: steps [first, last). */
		do {
			const struct migrate_backend_step *st = &steps[last];
			size_t here = 0;
			double need =
				st->sql ? sql_budget_ms(
						  st->sql,
						  st->statement_timeout_ms)
					: -1;

			budget = budget < 0 || need < 0 ? -1 : budget + need;

			if (!st->sql || !st->record) {
				rc = migrate__backend_fail(
					err, MIGRATE_EINVAL, NULL,
					"run_steps: no SQL or record");
				goto out;
			}
			if (pq->ensure == ENSURE_PENDING && !ensure) {
				here += ensure_sql(pq, &b);
				ensure = true;
			}
			if (st->lock_timeout_ms != pq->txn_lock_ms ||
			    st->statement_timeout_ms != pq->txn_stmt_ms) {
				migrate__pg_step_settings(
					&b, st->lock_timeout_ms,
					st->statement_timeout_ms, true);
				here += migrate__pg_step_settings_count(
					st->lock_timeout_ms,
					st->statement_timeout_ms);
				pq->txn_lock_ms = st->lock_timeout_ms;
				pq->txn_stmt_ms = st->statement_timeout_ms;
			}
			n_pre += here;
			slot[last].sql_at = b.len;
			slot[last].n_before = n_pre; /* + SQL results, below */
			buf_puts(&b, st->sql);
			buf_puts(&b, "\n;\n");
			last++;
		} while (last < n && b.len < STEPS_BATCH_BYTES);
		if (b.oom) {
			rc = migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
						   "out of memory");
			goto out;
		}
		t0 = clock_ms();
		run_batch(pq, b.data, budget < 0 ? 0 : io_deadline(pq) + budget,
			  NULL, NULL, &bt);
		if (!bt.failed) {
			double each =
				(clock_ms() - t0) / (double)(last - first);

			if (ensure)
				pq->ensure = ENSURE_IN_TXN;
			deferred_drop(&pq->dfr, ahead);
			for (k = first; k < last; k++) {
				rc = deferred_keep(&pq->dfr, steps[k].record,
						   each);
				if (rc < 0) {
					rc = migrate__backend_fail(
						err, rc, NULL, "out of memory");
					goto out;
				}
			}
			first = last;
			*n_done = first;
			continue;
		}
		/* Which step failed: the server's position, else the
		 * results before the error. */
		fill_error(pq, bt.error, err);
		PQclear(bt.error);
		pq->txn_lock_ms = pq->txn_stmt_ms = -2;
		{
			struct migrate_pg_step_layout lay;
			long pos = err->position;
			size_t at = last - 1;

			for (k = first; k < last; k++) {
				size_t mine = 0;

				if (pos > 0) {
					long end = (long)utf8_chars(
						b.data,
						k + 1 < last
							? slot[k + 1].sql_at
							: b.len);

					if (pos <= end) {
						at = k;
						break;
					}
					continue;
				}
				/* slot[k].n_before holds the SET/ensure
				 * results up to k; add the SQL results of
				 * the steps before k. */
				slot[k].n_before += results;
				if (count_results(steps[k].sql, &mine) < 0) {
					at = k;
					break;
				}
				if (bt.n_ok < slot[k].n_before + mine) {
					at = k;
					break;
				}
				results += mine;
			}
			lay.sql_offset =
				(size_t)utf8_chars(b.data, slot[at].sql_at);
			lay.n_before = pos > 0 ? 0 : slot[at].n_before;
			lay.has_commit = false;
			locate_step_error(&steps[at], &lay,
					  pos > 0 ? 0 : bt.n_ok, err);
			*n_done = at;
			rc = MIGRATE_EBACKEND;
			if (err->in_bookkeeping && is_conflict(err))
				rc = MIGRATE_ECONFLICT;
		}
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	free(slot);
	return rc;
}

/* ------------------------------------------------------------------ */
/* History                                                             */
/* ------------------------------------------------------------------ */

struct history_read {
	migrate_history_fn fn;
	void *payload;
	size_t index; /* statement index of the SELECT */
	int stop;
};

static int
history_rows(struct pq_backend *pq,
	     const PGresult *res,
	     size_t index,
	     void *payload)
{
	struct history_read *hr = payload;
	int i, n = PQntuples(res);

	(void)pq;
	if (index != hr->index)
		return 0;
	for (i = 0; i < n; i++) {
		struct migrate_history_entry e;

		e.revision = PQgetvalue(res, i, 0);
		e.direction = direction_of(PQgetvalue(res, i, 1));
		e.operation = PQgetvalue(res, i, 2);
		e.checksum = PQgetvalue(res, i, 3);
		e.started_at = PQgetvalue(res, i, 4);
		e.duration_ms =
			(double)strtoll(PQgetvalue(res, i, 5), NULL, 10) /
			1000.0;
		e.db_user = PQgetvalue(res, i, 6);
		e.success = PQgetvalue(res, i, 7)[0] == 't' ? 1 : 0;
		e.error = PQgetvalue(res, i, 8);
		hr->stop = hr->fn(&e, hr->payload);
		if (hr->stop != 0)
			return hr->stop;
	}
	return 0;
}

static int
pq_read_history(struct migrate_backend *be,
		migrate_history_fn fn,
		void *payload,
		struct migrate_backend_error *err)
{
	struct pq_backend *pq = pq_of(be);
	struct history_read hr;
	struct buf b = BUF_INIT;
	struct batch bt;
	bool legacy = false;
	int rc = 0;

	rc = talk_ready(pq, err);
	if (rc < 0)
		return rc;
	hr.fn = fn;
	hr.payload = payload;
	hr.index = pq_first_index(pq);
	hr.stop = 0;
again:
	migrate__pg_read_history(&b, &pq->names, pq->read_only, legacy);
	if (b.oom) {
		buf_free(&b);
		return migrate__backend_fail(err, MIGRATE_ENOMEM, NULL,
					     "out of memory");
	}
	run_batch(pq, b.data, io_deadline(pq), history_rows, &hr, &bt);
	buf_free(&b);
	/* An old-format history table: read whole (see pq_read_state). */
	if (bt.failed && !legacy && bt.error && bt.n_ok == hr.index &&
	    is_unscoped_log(bt.error) &&
	    PQtransactionStatus(pq->conn) == PQTRANS_IDLE) {
		PQclear(bt.error);
		legacy = true;
		goto again;
	}
	if (bt.failed && !(bt.error && bt.n_ok == hr.index &&
			   is_missing_relation(bt.error))) {
		fill_error(pq, bt.error, err);
		rc = MIGRATE_EBACKEND;
	} else if (hr.stop != 0) {
		rc = hr.stop;
	}
	PQclear(bt.error);
	return rc;
}

static void *
pq_native(struct migrate_backend *be)
{
	struct pq_backend *pq = pq_of(be);
	struct migrate_backend_error ignored;

	/* A step callback runs its SQL in the open transaction; a bare
	 * BEGIN fails only with the connection, which the next call
	 * reports. */
	memset(&ignored, 0, sizeof(ignored));
	flush_begin(pq, &ignored, false);
	return pq->conn;
}

/* Async-signal-safe (PQcancel() is, with a PGcancel made beforehand). */
static int
pq_cancel(struct migrate_backend *be)
{
	struct pq_backend *pq = pq_of(be);
	char errbuf[256];

	if (!pq->cancel)
		return 0;
	return PQcancel(pq->cancel, errbuf, (int)sizeof(errbuf))
		       ? 0
		       : MIGRATE_EBACKEND;
}

static void
pq_free(struct migrate_backend *be)
{
	struct pq_backend *pq = pq_of(be);

	if (!pq)
		return;
	if (pq->cancel)
		PQfreeCancel(pq->cancel);
	if (pq->conn)
		PQfinish(pq->conn);
	deferred_clear(&pq->dfr);
	migrate__state_clear(&pq->pre);
	free(pq->conninfo);
	free(pq->schema);
	free(pq);
}

/* ------------------------------------------------------------------ */
/* Construction                                                        */
/* ------------------------------------------------------------------ */

/* A construction failure into @diag, as one line. */
static int
refuse(struct migrate_diag *diag, const char *msg)
{
	char line[512];

	one_line(msg, line, sizeof(line));
	return migrate__fail(diag, MIGRATE_EINVAL, "%s", line);
}

/* Does @text hold a password anywhere (as the redactor reads it)? */
static bool
holds_password(const char *text)
{
	size_t n = strlen(text) + 1;
	char *red = malloc(n + 64);
	bool differs;

	if (!red)
		return true;
	migrate__redact(text, red, n + 64);
	differs = strcmp(red, text) != 0;
	free(red);
	return differs;
}

/*
 * Our own message for libpq's refusal @msg of @conninfo. libpq's messages
 * quote the offending part of the input, and in a malformed string that
 * part may be a piece of a password ("password=abc def" makes "def" an
 * unknown keyword): a word is named only when the text holds no password
 * at all; otherwise the message says what kind of mistake it is.
 */
static int
conninfo_refused(const char *conninfo,
		 const char *msg,
		 struct migrate_diag *diag)
{
	/* libpq's messages, the URI ones first (url.c hands libpq a
	 * postgresql:// URI), each with ours. */
	static const struct {
		const char *libpq;
		const char *ours;
	} map[] = {
		{ "percent-encoded",
		  "malformed database URL: invalid percent-encoding (write % as %25)" },
		{ "matching \"]\"",
		  "malformed database URL: unterminated '[' in the host" },
		{ "IPv6 host address may not be empty",
		  "malformed database URL: empty IPv6 address" },
		{ "unexpected character",
		  "malformed database URL: unexpected text after the host or after ']' (expected ':' and a port, or '/')" },
		{ "missing key/value separator",
		  "malformed database URL: query parameter without '=value'" },
		{ "extra key/value separator",
		  "malformed database URL: query parameter with a second '='" },
		{ "missing \"=\"",
		  "malformed connection parameters: a word without '=value' (quote values that hold spaces)" },
		{ "unterminated quoted string",
		  "malformed connection parameters: an unterminated quoted value" },
	};

	const char *q = strchr(msg, '"');
	const char *e = q ? strchr(q + 1, '"') : NULL;
	char word[64] = "";
	size_t i;

	if (q && e && (size_t)(e - q - 1) < sizeof(word) &&
	    !holds_password(conninfo))
		snprintf(word, sizeof(word), "%.*s", (int)(e - q - 1), q + 1);
	if (strstr(msg, "invalid connection option") ||
	    strstr(msg, "invalid URI query parameter")) {
		if (word[0]) {
			char tmp[160];

			snprintf(
				tmp, sizeof(tmp),
				"malformed connection parameters: unknown parameter \"%s\"",
				word);
			return refuse(diag, tmp);
		}
		return refuse(
			diag,
			"malformed connection parameters: an unknown parameter name (quote values that hold spaces)");
	}
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(msg, map[i].libpq))
			return refuse(diag, map[i].ours);
	return refuse(diag, "malformed connection parameters");
}

/* libpq expands dbname once: a dbname value that is itself connection
 * parameters or a URL would be taken as a database name (and sent to the
 * server, which quotes it back). */
static bool
looks_like_connection_string(const char *v)
{
	return strchr(v, '=') || strncasecmp(v, "postgresql:", 11) == 0 ||
	       strncasecmp(v, "postgres:", 9) == 0;
}

/* libpq checks port numbers only when it connects: a comma-separated
 * list of empty entries or numbers 1-65535 (a bad one is a usage error,
 * not a failed connection). */
static bool
ports_valid(const char *v)
{
	while (*v) {
		unsigned long port = 0;
		const char *start = v;

		for (; *v >= '0' && *v <= '9'; v++) {
			port = port * 10 + (unsigned long)(*v - '0');
			if (port > 65535)
				return false;
		}
		if (*v && *v != ',')
			return false;
		if (v > start && port == 0)
			return false;
		if (*v == ',')
			v++;
	}
	return true;
}

static bool
is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

/* Let libpq parse a conninfo string or URI (from url.c), with messages of
 * our own. */
static int
check_conninfo(const char *conninfo, struct migrate_diag *diag)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	const char *p = conninfo;
	int rc = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return 0;
	if (!is_uri(p) && !strchr(p, '='))
		return refuse(
			diag,
			"expected a postgresql:// URL or keyword=value connection parameters");
	opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		if (!msg)
			return MIGRATE_ENOMEM;
		rc = conninfo_refused(conninfo, msg, diag);
		PQfreemem(msg);
		return rc;
	}
	for (o = opts; o->keyword && rc == 0; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "dbname") == 0 &&
		    looks_like_connection_string(o->val))
			rc = refuse(
				diag,
				"malformed connection parameters: dbname holds connection parameters or a URL (give them directly)");
		else if (strcmp(o->keyword, "port") == 0 &&
			 !ports_valid(o->val))
			rc = refuse(
				diag,
				"malformed connection parameters: invalid port number (1-65535)");
	}
	PQconninfoFree(opts);
	return rc;
}

static const struct migrate_backend backend_init = MIGRATE_BACKEND_INIT;

int
migrate__backend_pq_new(struct migrate_backend **out,
			const char *url,
			struct migrate_diag *diag)
{
	struct pq_backend *pq;
	char *conninfo = NULL;
	char tmp[512];
	int rc;

	migrate__diag_clear(diag);
	if (!out)
		return refuse(diag, "no place for the backend");
	*out = NULL;
	tmp[0] = '\0';
	rc = migrate__url_to_conninfo(url, &conninfo, tmp, sizeof(tmp));
	if (rc < 0)
		return migrate__fail(diag, rc, "%s", tmp);
	rc = check_conninfo(conninfo, diag);
	if (rc < 0) {
		free(conninfo);
		return rc;
	}
	pq = calloc(1, sizeof(*pq));
	if (!pq) {
		free(conninfo);
		return MIGRATE_ENOMEM;
	}
	pq->conninfo = conninfo;
	pq->ensure = ENSURE_DONE;
	pq->txn_lock_ms = pq->txn_stmt_ms = -2;
	pq->base = backend_init;
	pq->base.name = "postgresql";
	pq->base.connect = pq_connect;
	pq->base.connect_start = pq_connect_start;
	pq->base.connect_finish = pq_connect_finish;
	pq->base.connect_poll = pq_connect_poll;
	pq->base.read_state = pq_read_state;
	pq->base.lock = pq_lock;
	pq->base.unlock = pq_unlock;
	pq->base.ensure_tables = pq_ensure_tables;
	pq->base.begin = pq_begin;
	pq->base.commit = pq_commit;
	pq->base.rollback = pq_rollback;
	pq->base.set_timeouts = pq_set_timeouts;
	pq->base.exec = pq_exec;
	pq->base.record = pq_record;
	pq->base.run_step = pq_run_step;
	pq->base.run_steps = pq_run_steps;
	pq->base.read_history = pq_read_history;
	pq->base.native = pq_native;
	pq->base.free = pq_free;
	pq->base.cancel = pq_cancel;
	pq->base.lock_holder = pq_lock_holder;
	pq->base.unlock_at_commit = pq_unlock_at_commit;
	*out = &pq->base;
	return 0;
}

MIGRATE_EXPORT
int
migrate_backend_pq_new(struct migrate_backend **out, const char *url)
{
	return migrate__backend_pq_new(out, url, NULL);
}
