/* SPDX-License-Identifier: MIT */
/*
 * The engine: upgrade, downgrade, apply, stamp and resolve.
 *
 * Every entry point takes the migration lock, reads the state and plans
 * under the lock, has the plan checked (the caller's plan_check), makes
 * sure the bookkeeping tables exist, runs the steps and always releases
 * the lock. A step is one transaction with its bookkeeping
 * (or part of the single plan-wide transaction); a non-transactional section
 * runs statement by statement between two history rows that mark the
 * database dirty and clean again, so that a crash in between is visible.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"
#include "sql-position.h"

/* Backoff between retries of a step that hit lock_timeout. */
#define RETRY_FIRST_MS 250
#define RETRY_MAX_MS   4000

/* "60 s", "1.5 s", "250 ms". */
static char *
fmt_ms(char *buf, size_t size, long ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		return xsnprintf(buf, size, "%ld s", ms / 1000);
	if (ms >= 1000)
		return xsnprintf(buf, size, "%.1f s", (double)ms / 1000.0);
	return xsnprintf(buf, size, "%ld ms", ms);
}

/* Append to a fixed, NUL-terminated buffer, truncating. */
static void msg_add(char *dst, size_t size, const char *fmt, ...)
	MIGRATE__PRINTF(3, 4);

static void
msg_add(char *dst, size_t size, const char *fmt, ...)
{
	size_t len = strlen(dst);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(dst + len, size - len, fmt, ap);
	va_end(ap);
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Sleep @ms, in short slices, returning early on a cancel request. */
static void
sleep_ms_cancellable(struct migrate *m, long ms)
{
	while (ms > 0 && !migrate__cancelled(m)) {
		long slice = ms > 20 ? 20 : ms;

		sleep_ms(slice);
		ms -= slice;
	}
}

static void
progress(struct migrate *m,
	 const struct migrate_step *st,
	 int phase,
	 double elapsed_ms)
{
	if (m->opts.progress)
		m->opts.progress(st->rev->id, st->direction, phase, elapsed_ms,
				 m->opts.progress_payload);
}

static int
lock_timeout_of(const struct migrate *m, const struct migrate_section *sec)
{
	return sec->lock_timeout_ms >= 0 ? sec->lock_timeout_ms
					 : m->opts.lock_timeout_ms;
}

static int
statement_timeout_of(const struct migrate *m, const struct migrate_section *sec)
{
	return sec->statement_timeout_ms >= 0 ? sec->statement_timeout_ms
					      : m->opts.statement_timeout_ms;
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

/* "FILE:LINE:COL: " / "FILE:LINE: " / "revision X (dir): " for a failure
 * whose server position, if any, is @pos characters into the section. */
static void
location(char *out,
	 size_t size,
	 const struct migrate_step *st,
	 bool with_position,
	 long pos)
{
	const struct migrate_section *sec = migrate__step_section(st);
	const char *dir = migrate__revision_dir(st->rev);
	const char *file = migrate__revision_file(st->rev);
	struct migrate_sql_ref ref;
	size_t line, col;
	bool found;

	if (!file) {
		xsnprintf(out, size, "revision %s (%s): ", st->rev->id,
			  migrate__direction_name(st->direction));
		return;
	}
	/* The text is read again for the position (a failure's path only);
	 * when that fails, the section's line is still said. */
	if (with_position && sec->first_line &&
	    migrate__section_sql(&ref, st->rev, st->direction, NULL) == 0) {
		found = migrate__sql_position(ref.sql, pos, sec->first_line,
					      &line, &col);
		migrate__sql_ref_drop(&ref);
		if (found) {
			xsnprintf(out, size, "%s%s:%zu:%zu: ", dir, file, line,
				  col);
			return;
		}
	}
	if (sec->first_line)
		xsnprintf(out, size, "%s%s:%zu: ", dir, file,
			  (size_t)sec->first_line);
	else
		xsnprintf(out, size, "%s%s: ", dir, file);
}

/*
 * Set the handle's message for a backend failure (the call returned @rc and
 * filled m->berr) during step @st, compiler style:
 *
 *   FILE:LINE:COL: ERROR: message (SQLSTATE xxxxx)
 *   DETAIL: ...
 *   HINT: ...
 *     in revision 003 (upgrade)EXTRA
 *
 * berr.position counts from @char_base characters into the section SQL when
 * @sql_failed (the failing call ran revision SQL). Returns the code to
 * report.
 */
static int
step_backend_error(struct migrate *m,
		   const struct migrate_step *st,
		   int rc,
		   bool sql_failed,
		   long char_base,
		   const char *extra)
{
	const struct migrate_backend_error *e = &m->berr;
	char where[512];
	char prefix[600];

	if (e->kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST) {
		/* Not a failure of the revision or of the bookkeeping: say
		 * what a lost connection means for the revision. */
		xsnprintf(
			prefix, sizeof(prefix),
			"revision %s (%s): the connection to the database was lost during this revision: ",
			st->rev->id, migrate__direction_name(st->direction));
		if (rc >= 0)
			rc = MIGRATE_EBACKEND;
		migrate__backend_error(m, rc, prefix);
		msg_add(m->diag.msg, sizeof(m->diag.msg), "\n  %s",
			migrate__step_section(st)->transactional
				? "its transaction either committed or rolled back as a whole: 'migrate current' shows which once the database is reachable"
				: "it ran outside a transaction and may have stopped part-way: 'migrate check' shows whether the database is dirty once it is reachable");
		return rc;
	}
	if (e->in_bookkeeping) {
		xsnprintf(where, sizeof(where),
			  "revision %s (%s): ", st->rev->id,
			  migrate__direction_name(st->direction));
		xsnprintf(prefix, sizeof(prefix),
			  "%sERROR in bookkeeping (version table or history): ",
			  where);
	} else {
		location(where, sizeof(where), st,
			 sql_failed && e->position > 0,
			 char_base + e->position);
		xsnprintf(prefix, sizeof(prefix), "%sERROR: ", where);
	}
	if (rc >= 0)
		rc = MIGRATE_EBACKEND;
	migrate__backend_error(m, rc, prefix);
	if (st->rev->has_file && !e->in_bookkeeping)
		msg_add(m->diag.msg, sizeof(m->diag.msg),
			"\n  in revision %s (%s)", st->rev->id,
			migrate__direction_name(st->direction));
	if (extra && *extra)
		msg_add(m->diag.msg, sizeof(m->diag.msg), "%s", extra);
	if (e->kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
		msg_add(m->diag.msg, sizeof(m->diag.msg),
			"\nthe connection to the database was lost");
	return rc;
}

/* A C callback failed with @rc; m->diag.msg is what it (or migrate_exec())
 * said. */
static int
step_callback_error(struct migrate *m,
		    const struct migrate_step *st,
		    int rc,
		    const char *extra)
{
	char said[MIGRATE_ERRMSG_SIZE];
	char state[sizeof(m->diag.sqlstate)];

	memcpy(said, m->diag.msg, sizeof(said));
	memcpy(state, m->diag.sqlstate, sizeof(state));
	if (!said[0])
		xsnprintf(said, sizeof(said),
			  "%s callback failed (returned %d)",
			  migrate__direction_name(st->direction), rc);
	xsnprintf(m->diag.msg, sizeof(m->diag.msg),
		  "revision %s (%s): ERROR: %s%s", st->rev->id,
		  migrate__direction_name(st->direction), said,
		  extra ? extra : "");
	memcpy(m->diag.sqlstate, state, sizeof(m->diag.sqlstate));
	/* Report what the callback returned when it is one of ours. */
	if (rc >= 0 || rc < MIGRATE_ECANCELED || rc == MIGRATE_OK)
		rc = MIGRATE_ERROR;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Backend calls                                                       */
/* ------------------------------------------------------------------ */

static void
berr_clear(struct migrate *m)
{
	memset(&m->berr, 0, sizeof(m->berr));
}

/* Best-effort calls (cleanup after a failure) report into a scratch error
 * so that m->berr and the message of the real failure survive. */
static void
quiet_rollback(struct migrate *m)
{
	struct migrate_backend_error err;

	if (m->poisoned)
		return;
	memset(&err, 0, sizeof(err));
	if (m->be->rollback(m->be, &err) < 0 &&
	    err.kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
		m->poisoned = true;
}

/* The transaction about to end is the last thing this run does under the
 * migration lock: the backend may release the lock with its commit, in
 * the same round trip (unlock_at_commit in libmigrate-backend.h);
 * release_lock() then sends nothing. Only where nothing but the unlock
 * follows a successful commit. */
static void
unlock_at_commit(struct migrate *m)
{
	if (m->be->version >= 5 && m->be->unlock_at_commit)
		m->be->unlock_at_commit(m->be);
}

/* Write one history row (no version table change) in its own transaction,
 * best effort. */
static void
quiet_record(struct migrate *m,
	     const struct migrate_step *st,
	     const char *operation,
	     double started_at,
	     double duration_ms,
	     const char *error)
{
	struct migrate_backend_error err;
	struct migrate_record rec;
	char hex[65];

	if (m->poisoned)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.revision = st->rev->id;
	rec.direction = st->direction;
	rec.operation = operation;
	migrate__revision_hex(st->rev, hex);
	rec.checksum = hex;
	rec.started_at = started_at;
	rec.duration_ms = duration_ms;
	rec.success = 0;
	rec.error = error;
	memset(&err, 0, sizeof(err));
	if (m->be->begin(m->be, &err) < 0)
		goto fail;
	if (m->be->record(m->be, &rec, &err) < 0 ||
	    m->be->commit(m->be, &err) < 0) {
		struct migrate_backend_error err2;

		memset(&err2, 0, sizeof(err2));
		if (err.kind != MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
			m->be->rollback(m->be, &err2);
		goto fail;
	}
	return;
fail:
	if (err.kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
		m->poisoned = true;
}

/* @hex holds the checksum's text for as long as @rec is used. */
static void
fill_record(struct migrate_record *rec,
	    const struct migrate_step *st,
	    const char *operation,
	    double started_at,
	    char hex[65])
{
	memset(rec, 0, sizeof(*rec));
	rec->revision = st->rev->id;
	rec->direction = st->direction;
	rec->operation =
		operation ? operation : migrate__direction_name(st->direction);
	migrate__step_heads(st, &rec->remove_heads, &rec->add_heads);
	rec->n_remove = st->n_remove;
	rec->n_add = st->n_add;
	migrate__revision_hex(st->rev, hex);
	rec->checksum = hex;
	rec->started_at = started_at;
	rec->success = 1;
	rec->error = "";
}

/* ------------------------------------------------------------------ */
/* Cancel requests                                                     */
/* ------------------------------------------------------------------ */

/* "the database is at 003" / "... is at <base>", read back from the
 * database itself (best effort: the handle's message is kept). */
static void
where_now(struct migrate *m, char *out, size_t size)
{
	char saved[MIGRATE_ERRMSG_SIZE];
	struct migrate_state st;
	char heads[256];

	memcpy(saved, m->diag.msg, sizeof(saved));
	migrate__state_init(&st);
	if (migrate__read_state(m, &st) < 0) {
		xsnprintf(out, size,
			  "where the database is now could not be read");
	} else {
		migrate__join_ids(heads, sizeof(heads),
				  (const char *const *)st.heads.v, st.heads.n,
				  ",", "<base>");
		xsnprintf(out, size, "the database is at %s", heads);
	}
	migrate__state_clear(&st);
	memcpy(m->diag.msg, saved, sizeof(m->diag.msg));
}

/*
 * The operation stops on a cancel request: set the one-line message (what
 * was interrupted, @how it ended, where the database is now), use up the
 * request, return MIGRATE_ECANCELED. @st may be NULL (before any step).
 */
static int
cancelled(struct migrate *m,
	  const struct migrate_step *st,
	  const char *when,
	  const char *how)
{
	char now[320];

	where_now(m, now, sizeof(now));
	m->cancel_requested = 0;
	m->diag.sqlstate[0] = '\0';
	if (!st)
		return migrate__set_error(
			m, MIGRATE_ECANCELED,
			"cancelled %s: nothing was changed; %s", when, now);
	return migrate__set_error(
		m, MIGRATE_ECANCELED, "cancelled %s revision %s (%s): %s; %s",
		when, st->rev->id, migrate__direction_name(st->direction), how,
		now);
}

/* ------------------------------------------------------------------ */
/* Running steps                                                       */
/* ------------------------------------------------------------------ */

/*
 * Run the transactional section of step @st. With @in_txn a transaction is
 * open (single-transaction plans) and stays open; otherwise the step begins
 * and commits its own, and rolls it back on failure. Sets the message on
 * failure.
 */
static int
run_tx_step(struct migrate *m,
	    const struct migrate_step *st,
	    bool in_txn,
	    double started_at,
	    double t0)
{
	const struct migrate_section *sec = migrate__step_section(st);
	migrate_step_fn fn = migrate__revision_fn(st->rev, st->direction);
	struct migrate_backend *be = m->be;
	struct migrate_sql_ref ref = { "", NULL };
	struct migrate_record rec;
	char hex[65];
	bool opened = false;
	bool sql_failed = false;
	int rc;

	/* Read from the file only now, and let go once the step is done. */
	if (!fn) {
		rc = migrate__section_sql(&ref, st->rev, st->direction,
					  &m->diag);
		if (rc < 0)
			return rc;
	}
	fill_record(&rec, st, NULL, started_at, hex);
	berr_clear(m);
	if (!fn && be->run_step) {
		struct migrate_backend_step bs;

		rec.duration_ms = clock_ms() - t0;
		bs.sql = ref.sql;
		bs.lock_timeout_ms = lock_timeout_of(m, sec);
		bs.statement_timeout_ms = statement_timeout_of(m, sec);
		bs.record = &rec;
		bs.in_transaction = in_txn ? 1 : 0;
		rc = be->run_step(be, &bs, &m->berr);
		migrate__sql_ref_drop(&ref);
		if (rc < 0)
			return step_backend_error(m, st, rc, true, 0, NULL);
		return 0;
	}
	if (!in_txn) {
		rc = be->begin(be, &m->berr);
		if (rc < 0)
			goto fail;
		opened = true;
	}
	if (be->set_timeouts) {
		rc = be->set_timeouts(be, lock_timeout_of(m, sec),
				      statement_timeout_of(m, sec), &m->berr);
		if (rc < 0)
			goto fail;
	}
	if (fn) {
		m->in_callback = true;
		rc = fn(m, migrate__revision_code(st->rev)->payload);
		m->in_callback = false;
		if (rc != 0) {
			rc = step_callback_error(m, st, rc, NULL);
			if (opened)
				quiet_rollback(m);
			return rc;
		}
	} else {
		sql_failed = true;
		rc = be->exec(be, ref.sql, &m->berr);
		migrate__sql_ref_drop(&ref);
		if (rc < 0)
			goto fail;
		sql_failed = false;
	}
	rec.duration_ms = clock_ms() - t0;
	berr_clear(m);
	rc = be->record(be, &rec, &m->berr);
	if (rc < 0) {
		/* Backends should say so; the engine knows it anyway. */
		m->berr.in_bookkeeping = 1;
		goto fail;
	}
	if (opened) {
		rc = be->commit(be, &m->berr);
		opened = false;
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	migrate__sql_ref_drop(&ref);
	rc = step_backend_error(m, st, rc, sql_failed, 0, NULL);
	if (opened)
		quiet_rollback(m);
	return rc;
}

/* Record a bookkeeping row in its own transaction; sets the message on
 * failure (a bookkeeping failure, whichever call failed). */
static int
record_alone(struct migrate *m,
	     const struct migrate_step *st,
	     const struct migrate_record *rec,
	     const char *extra)
{
	struct migrate_backend *be = m->be;
	bool opened = false;
	int rc;

	berr_clear(m);
	rc = be->begin(be, &m->berr);
	if (rc < 0)
		goto fail;
	opened = true;
	rc = be->record(be, rec, &m->berr);
	if (rc < 0)
		goto fail;
	opened = false;
	rc = be->commit(be, &m->berr);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	m->berr.in_bookkeeping = 1;
	rc = step_backend_error(m, st, rc, false, 0, extra);
	if (opened)
		quiet_rollback(m);
	return rc;
}

/* "statement 2 of 3 failed: FIRST LINE OF THE MESSAGE", for the dirty
 * history row. */
static char *
dirty_detail(const struct migrate *m, size_t i, size_t n)
{
	size_t len = strcspn(m->diag.msg, "\n");
	struct buf b = BUF_INIT;

	if (n)
		buf_printf(&b, "statement %zu of %zu failed: ", i + 1, n);
	else
		buf_puts(&b, "callback failed: ");
	buf_append(&b, m->diag.msg, len);
	return buf_steal(&b);
}

/* Switch off the session timeouts a non-transactional section set, best
 * effort and without touching the handle's error (the next step sets its
 * own anyway). */
static void
reset_session_timeouts(struct migrate *m, bool *set)
{
	struct migrate_backend_error ignored;

	if (!*set || m->poisoned)
		return;
	memset(&ignored, 0, sizeof(ignored));
	m->be->set_timeouts(m->be, 0, 0, &ignored);
	*set = false;
}

/*
 * Run a non-transactional section: a "dirty" history row first (so that a
 * crash leaves the database marked dirty), then each statement on its own
 * outside any transaction, then the normal bookkeeping row, which clears
 * the mark. Outside a transaction the backend's set_timeouts() applies to
 * the session, so the section's statements run with their lock and
 * statement timeouts (a CREATE INDEX CONCURRENTLY must not queue behind a
 * long query forever either); they are switched off again afterwards. A
 * lock timeout is not retried here: a statement may have left work behind
 * (an invalid index), which only an operator can judge.
 */
static int
run_nontx_step(struct migrate *m,
	       const struct migrate_step *st,
	       bool last,
	       double started_at,
	       double t0)
{
	const struct migrate_section *sec = migrate__step_section(st);
	migrate_step_fn fn = migrate__revision_fn(st->rev, st->direction);
	struct migrate_sql_ref ref = { "", NULL };
	const char *sql = "";
	struct migrate_sql_stmt *stmts = NULL;
	struct migrate_record rec;
	char extra[640], advice[512], hex[65];
	struct migrate_diag err;
	char *detail;
	size_t n = 0, i = 0, counted = 0;
	bool timeouts_set = false;
	long base = 0;
	int rc;

	if (!fn) {
		/* Before the "dirty" row: a file that cannot be used any more
		 * leaves the database as it was. */
		rc = migrate__section_sql(&ref, st->rev, st->direction,
					  &m->diag);
		if (rc < 0)
			return rc;
		sql = ref.sql;
		rc = migrate__sql_split(sql, strlen(sql), &stmts, &n, &err);
		if (rc < 0) {
			char where[512];

			migrate__sql_ref_drop(&ref);
			if (rc == MIGRATE_ENOMEM)
				return migrate__set_error(m, rc,
							  "out of memory");
			location(where, sizeof(where), st, false, 0);
			return migrate__set_error(
				m, rc,
				"%sERROR: cannot split the %s section into statements: %s\n  in revision %s (%s)",
				where, migrate__direction_name(st->direction),
				err.msg, st->rev->id,
				migrate__direction_name(st->direction));
		}
	}

	fill_record(&rec, st, "dirty", started_at, hex);
	rec.n_remove = rec.n_add = 0;
	rec.success = 0;
	rec.error = "started";
	rc = record_alone(m, st, &rec, NULL);
	if (rc < 0)
		goto out;

	migrate__dirty_advice(advice, sizeof(advice), st->rev->id,
			      st->direction);
	xsnprintf(extra, sizeof(extra), "\nthe database is now dirty: %s",
		  advice);
	if (fn) {
		m->in_callback = true;
		rc = fn(m, migrate__revision_code(st->rev)->payload);
		m->in_callback = false;
		if (rc != 0) {
			rc = step_callback_error(m, st, rc, NULL);
			goto dirty;
		}
	}
	if (n && m->be->set_timeouts) {
		berr_clear(m);
		rc = m->be->set_timeouts(m->be, lock_timeout_of(m, sec),
					 statement_timeout_of(m, sec),
					 &m->berr);
		if (rc < 0) {
			rc = migrate__backend_failed(
				m, rc, "cannot set the section's timeouts");
			goto dirty;
		}
		timeouts_set = true;
	}
	for (i = 0; i < n; i++) {
		char *text = xstrndup(sql + stmts[i].offset, stmts[i].len);

		/* Characters before this statement, counted from the last
		 * one: linear over the section, not quadratic. */
		base += utf8_chars(sql + counted, stmts[i].offset - counted);
		counted = stmts[i].offset;

		if (!text) {
			rc = migrate__set_error(m, MIGRATE_ENOMEM,
						"out of memory");
			goto dirty;
		}
		if (migrate__cancelled(m)) {
			free(text);
			rc = migrate__set_error(m, MIGRATE_ECANCELED,
						"cancelled");
			goto dirty;
		}
		berr_clear(m);
		rc = m->be->exec(m->be, text, &m->berr);
		free(text);
		if (rc < 0) {
			/* Without a server position, point at the
			 * statement. */
			if (m->berr.position <= 0)
				m->berr.position = 1;
			rc = step_backend_error(m, st, rc, true, base, NULL);
			goto dirty;
		}
	}

	reset_session_timeouts(m, &timeouts_set);
	fill_record(&rec, st, NULL, started_at, hex);
	rec.duration_ms = clock_ms() - t0;
	if (last)
		unlock_at_commit(m);
	rc = record_alone(
		m, st, &rec,
		"\nthe statements ran, but the database is still marked dirty");
	goto out;
dirty:
	reset_session_timeouts(m, &timeouts_set);
	/* Say where it stopped; best effort (the "started" row already marks
	 * the database dirty if this one cannot be written). */
	detail = dirty_detail(m, i, n);
	quiet_record(m, st, "dirty", started_at, clock_ms() - t0,
		     detail ? detail : "failed");
	free(detail);
	if (migrate__cancelled(m) && !m->poisoned) {
		char how[768];

		migrate__dirty_advice(advice, sizeof(advice), st->rev->id,
				      st->direction);
		xsnprintf(
			how, sizeof(how),
			"stopped at statement %zu of %zu, outside a transaction: the database is now dirty (%s)",
			i + 1, n, advice);
		rc = cancelled(m, st, "during non-transactional", how);
		goto out;
	}
	if (n)
		msg_add(m->diag.msg, sizeof(m->diag.msg),
			"\n  statement %zu of %zu, run outside a transaction",
			i + 1, n);
	msg_add(m->diag.msg, sizeof(m->diag.msg), "%s", extra);
out:
	free(stmts);
	migrate__sql_ref_drop(&ref);
	return rc;
}

static bool
is_lock_timeout(const struct migrate *m)
{
	return m->diag.kind == MIGRATE_BACKEND_ERROR_LOCK_TIMEOUT;
}

static void
gave_up(struct migrate *m, int attempts)
{
	char t[32];

	if (attempts > 1 && is_lock_timeout(m))
		msg_add(m->diag.msg, sizeof(m->diag.msg),
			"\n  gave up after %d attempts waiting for locks (lock_timeout %s)",
			attempts,
			fmt_ms(t, sizeof(t), m->opts.lock_timeout_ms));
}

static long
backoff_ms(int attempt)
{
	long ms = RETRY_FIRST_MS;

	while (--attempt > 0 && ms < RETRY_MAX_MS)
		ms *= 2;
	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

/* One step in its own transaction, retried on lock timeouts; @last: the
 * plan's last step (its commit may take the lock with it). */
static int
run_one_step(struct migrate *m, const struct migrate_step *st, bool last)
{
	const struct migrate_section *sec = migrate__step_section(st);
	double t0 = clock_ms();
	double started_at = clock_wall();
	int attempt, rc;

	progress(m, st, MIGRATE_PROGRESS_START, 0);
	if (!sec->transactional) {
		rc = run_nontx_step(m, st, last, started_at, t0);
		progress(m, st,
			 rc < 0 ? MIGRATE_PROGRESS_FAILED
				: MIGRATE_PROGRESS_DONE,
			 clock_ms() - t0);
		return rc;
	}
	for (attempt = 1;; attempt++) {
		if (last)
			unlock_at_commit(m);
		rc = run_tx_step(m, st, false, started_at, t0);
		if (rc == 0) {
			progress(m, st, MIGRATE_PROGRESS_DONE, clock_ms() - t0);
			return 0;
		}
		if (migrate__cancelled(m) && !m->poisoned) {
			rc = cancelled(m, st, "during",
				       "its transaction was rolled back");
			break;
		}
		if (!is_lock_timeout(m) || m->poisoned ||
		    attempt > m->opts.lock_retries)
			break;
		progress(m, st, MIGRATE_PROGRESS_RETRY, clock_ms() - t0);
		sleep_ms(backoff_ms(attempt));
	}
	if (rc != MIGRATE_ECANCELED)
		gave_up(m, attempt);
	quiet_record(m, st, migrate__direction_name(st->direction), started_at,
		     clock_ms() - t0, m->diag.msg);
	progress(m, st, MIGRATE_PROGRESS_FAILED, clock_ms() - t0);
	return rc;
}

/* Most steps a backend's run_steps() gets at once (bounds the arrays
 * below; the backend packs them into round trips as it likes). */
#define SQL_STEPS_CHUNK 256

/*
 * In a single transaction, the SQL steps of @plan from @from on (up to the
 * first step written in C) through the backend's run_steps(), several per
 * round trip. Sets *n_done to the steps it ran (0: none, the caller runs
 * step @from alone); on failure, *n_done is the index of the failed step
 * after @from and the message is set.
 */
static int
run_sql_steps(struct migrate *m,
	      const struct migrate_plan *plan,
	      size_t from,
	      bool report,
	      size_t *n_done)
{
	struct migrate_backend *be = m->be;
	struct migrate_backend_step *bs;
	struct migrate_sql_ref *refs;
	struct migrate_record *rec;
	char(*hex)[65];
	size_t n = 0, k, done = 0;
	double t0 = clock_ms(), started_at = clock_wall();
	int rc;

	*n_done = 0;
	if (be->version < 3 || !be->run_steps)
		return 0;
	while (from + n < plan->n_steps && n < SQL_STEPS_CHUNK &&
	       !migrate__revision_fn(plan->steps[from + n].rev,
				     plan->steps[from + n].direction))
		n++;
	if (n == 0)
		return 0;
	bs = calloc(n, sizeof(*bs));
	rec = calloc(n, sizeof(*rec));
	refs = calloc(n, sizeof(*refs));
	hex = calloc(n, sizeof(*hex));
	if (!bs || !rec || !refs || !hex) {
		free(bs);
		free(rec);
		free(refs);
		free(hex);
		return 0; /* one by one then */
	}
	/* The SQL of this chunk only (at most SQL_STEPS_CHUNK files read at
	 * once). A file that cannot be used any more ends the chunk before
	 * it; its step, run alone next, reports it. */
	for (k = 0; k < n; k++)
		if (migrate__section_sql(&refs[k], plan->steps[from + k].rev,
					 plan->steps[from + k].direction,
					 NULL) < 0)
			break;
	n = k;
	for (k = 0; k < n; k++) {
		const struct migrate_step *st = &plan->steps[from + k];
		const struct migrate_section *sec = migrate__step_section(st);

		fill_record(&rec[k], st, NULL, started_at, hex[k]);
		bs[k].sql = refs[k].sql;
		bs[k].lock_timeout_ms = lock_timeout_of(m, sec);
		bs[k].statement_timeout_ms = statement_timeout_of(m, sec);
		bs[k].record = &rec[k];
		bs[k].in_transaction = 1;
	}
	berr_clear(m);
	rc = n ? be->run_steps(be, bs, n, &done, &m->berr) : 0;
	for (k = 0; k < n; k++)
		migrate__sql_ref_drop(&refs[k]);
	free(refs);
	free(bs);
	free(rec);
	free(hex);
	if (n == 0)
		return 0; /* the first step's file: run alone, it says why */
	if (done > n)
		done = n;
	/* Reported once the backend answered: no step is said to start
	 * that did not run. */
	for (k = 0; k < done; k++) {
		if (report)
			progress(m, &plan->steps[from + k],
				 MIGRATE_PROGRESS_START, 0);
		progress(m, &plan->steps[from + k], MIGRATE_PROGRESS_DONE,
			 clock_ms() - t0);
	}
	if (rc < 0) {
		*n_done = done < n ? done : n - 1;
		if (report)
			progress(m, &plan->steps[from + *n_done],
				 MIGRATE_PROGRESS_START, 0);
		return step_backend_error(m, &plan->steps[from + *n_done], rc,
					  true, 0, NULL);
	}
	*n_done = n;
	return 0;
}

/* The whole plan in one transaction, retried as a whole on lock
 * timeouts. */
static int
run_single(struct migrate *m, const struct migrate_plan *plan)
{
	const struct migrate_step *failed = NULL;
	double t0 = 0, started_at = 0;
	int attempt, rc;
	size_t i;

	for (attempt = 1;; attempt++) {
		failed = NULL;
		berr_clear(m);
		rc = m->be->begin(m->be, &m->berr);
		if (rc < 0)
			return migrate__backend_failed(
				m, rc, "cannot begin a transaction");
		for (i = 0; i < plan->n_steps;) {
			const struct migrate_step *st = &plan->steps[i];
			size_t n_done = 0;

			t0 = clock_ms();
			started_at = clock_wall();
			rc = run_sql_steps(m, plan, i, attempt == 1, &n_done);
			if (n_done > 0 || rc < 0) {
				/* steps [i, i + n_done) ran together */
				i += n_done;
				if (rc < 0) {
					failed = &plan->steps[i];
					break;
				}
				continue;
			}
			if (attempt == 1)
				progress(m, st, MIGRATE_PROGRESS_START, 0);
			rc = run_tx_step(m, st, true, started_at, t0);
			if (rc < 0) {
				failed = st;
				break;
			}
			progress(m, st, MIGRATE_PROGRESS_DONE, clock_ms() - t0);
			i++;
		}
		if (rc == 0) {
			berr_clear(m);
			unlock_at_commit(m);
			rc = m->be->commit(m->be, &m->berr);
			if (rc == 0)
				return 0;
			rc = migrate__backend_failed(
				m, rc, "cannot commit the migration");
		}
		quiet_rollback(m);
		if (failed && migrate__cancelled(m) && !m->poisoned) {
			rc = cancelled(
				m, failed, "during",
				"the whole plan was rolled back (single transaction)");
			quiet_record(m, failed,
				     migrate__direction_name(failed->direction),
				     started_at, clock_ms() - t0, m->diag.msg);
			progress(m, failed, MIGRATE_PROGRESS_FAILED,
				 clock_ms() - t0);
			return rc;
		}
		if (!failed || !is_lock_timeout(m) || m->poisoned ||
		    attempt > m->opts.lock_retries)
			break;
		progress(m, failed, MIGRATE_PROGRESS_RETRY, clock_ms() - t0);
		sleep_ms(backoff_ms(attempt));
	}
	if (failed) {
		gave_up(m, attempt);
		msg_add(m->diag.msg, sizeof(m->diag.msg),
			"\nthe whole plan was rolled back (single transaction)");
		quiet_record(m, failed,
			     migrate__direction_name(failed->direction),
			     started_at, clock_ms() - t0, m->diag.msg);
		progress(m, failed, MIGRATE_PROGRESS_FAILED, clock_ms() - t0);
	}
	return rc;
}

static int
run_plan(struct migrate *m, const struct migrate_plan *plan)
{
	size_t i;
	int rc;

	if (plan->n_steps == 0)
		return 0;
	if (m->opts.flags & MIGRATE_OPEN_SINGLE_TRANSACTION) {
		for (i = 0; i < plan->n_steps; i++) {
			const struct migrate_step *st = &plan->steps[i];

			if (!migrate__step_section(st)->transactional)
				return migrate__set_error(
					m, MIGRATE_EINVAL,
					"revision %s cannot run in a single transaction: its %s section has transaction=false",
					st->rev->id,
					migrate__direction_name(st->direction));
		}
		return run_single(m, plan);
	}
	for (i = 0; i < plan->n_steps; i++) {
		if (migrate__cancelled(m))
			return cancelled(m, &plan->steps[i], "before",
					 "not started");
		rc = run_one_step(m, &plan->steps[i], i + 1 == plan->n_steps);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Stamp and resolve: only bookkeeping rows named @operation, all in one
 * transaction; progress is reported when @report. */
static int
run_bookkeeping(struct migrate *m,
		const struct migrate_plan *plan,
		const char *operation,
		bool report,
		const struct strv *purge)
{
	struct migrate_record rec;
	char hex[65];
	size_t i;
	int rc;

	if (plan->n_steps == 0 && (!purge || purge->n == 0))
		return 0;
	berr_clear(m);
	rc = m->be->begin(m->be, &m->berr);
	if (rc < 0)
		return migrate__backend_failed(m, rc,
					       "cannot begin a transaction");
	/* stamp --purge: first every version row goes, each with a history
	 * row (a stamp down of that id, known to this build or not); the plan
	 * then starts from base. One transaction for all of it. */
	for (i = 0; purge && i < purge->n; i++) {
		const struct migrate_revision *rev =
			migrate__registry_get(m->reg, purge->v[i]);
		const char *one[1];

		one[0] = purge->v[i];
		memset(&rec, 0, sizeof(rec));
		rec.revision = purge->v[i];
		rec.direction = MIGRATE_DOWN;
		rec.operation = operation;
		rec.remove_heads = one;
		rec.n_remove = 1;
		hex[0] = '\0';
		if (rev)
			migrate__revision_hex(rev, hex);
		rec.checksum = hex;
		rec.started_at = clock_wall();
		rec.success = 1;
		rec.error = "";
		rc = m->be->record(m->be, &rec, &m->berr);
		if (rc < 0) {
			m->berr.in_bookkeeping = 1;
			rc = migrate__backend_failed(
				m, rc, "cannot purge the version table");
			quiet_rollback(m);
			return rc;
		}
	}
	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_step *st = &plan->steps[i];
		double t0 = clock_ms();

		if (report)
			progress(m, st, MIGRATE_PROGRESS_START, 0);
		fill_record(&rec, st, operation, clock_wall(), hex);
		rc = m->be->record(m->be, &rec, &m->berr);
		if (rc < 0) {
			m->berr.in_bookkeeping = 1;
			rc = step_backend_error(m, st, rc, false, 0, NULL);
			quiet_rollback(m);
			if (report)
				progress(m, st, MIGRATE_PROGRESS_FAILED,
					 clock_ms() - t0);
			return rc;
		}
		if (report)
			progress(m, st, MIGRATE_PROGRESS_DONE, clock_ms() - t0);
	}
	unlock_at_commit(m);
	rc = m->be->commit(m->be, &m->berr);
	if (rc < 0) {
		char context[64];

		xsnprintf(context, sizeof(context), "cannot commit the %s",
			  operation);
		return migrate__backend_failed(m, rc, context);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

static int
check_writable(struct migrate *m)
{
	if (m->in_callback)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"cannot migrate from inside a revision callback");
	if (m->opts.flags & MIGRATE_OPEN_READONLY)
		return migrate__set_error(
			m, MIGRATE_EREADONLY,
			"the handle is read-only: upgrade, downgrade, stamp and resolve are refused");
	return migrate__check_usable(m);
}

/* Polling the migration lock: first pause, longest pause. */
#define LOCK_POLL_FIRST_MS 10
#define LOCK_POLL_MAX_MS   200

/*
 * Take the migration lock, waiting at most lock_wait_ms. The wait is a
 * loop of tries with growing, jittered pauses between them, never a wait
 * inside the database: a waiter must hold no transaction and no snapshot,
 * or the holder's CREATE INDEX CONCURRENTLY waits for the waiter, which
 * waits for the holder (deadlock). A cancel request ends the wait.
 */
static int
take_lock(struct migrate *m)
{
	double t0 = clock_ms();
	long pause = LOCK_POLL_FIRST_MS;
	unsigned int seed = (unsigned int)((unsigned long)(t0 * 1000.0) ^
					   (unsigned long)(uintptr_t)m);
	char t[32];
	int rc;

	for (;;) {
		double left;
		long nap;

		berr_clear(m);
		rc = m->be->lock(m->be, 0, &m->berr);
		if (rc != MIGRATE_ELOCKED)
			break;
		if (m->berr.kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST) {
			m->poisoned = true;
			break;
		}
		left = (double)m->opts.lock_wait_ms - (clock_ms() - t0);
		if (left <= 0 || migrate__cancelled(m))
			break;
		/* Jitter: half to one and a half times the pause. */
		seed = seed * 1103515245u + 12345u;
		nap = pause / 2 + (long)((seed >> 16) % (unsigned long)pause);
		sleep_ms_cancellable(m, (double)nap < left ? nap : (long)left);
		pause = pause * 2 > LOCK_POLL_MAX_MS ? LOCK_POLL_MAX_MS
						     : pause * 2;
	}
	if (rc == MIGRATE_ELOCKED) {
		if (migrate__cancelled(m))
			return cancelled(m, NULL,
					 "while waiting for the migration lock",
					 NULL);
		return migrate__set_error(
			m, MIGRATE_ELOCKED,
			"another migration holds the lock (waited %s): %s",
			fmt_ms(t, sizeof(t), m->opts.lock_wait_ms),
			m->berr.message[0]
				? m->berr.message
				: "the migration lock is held by another session");
	}
	if (rc < 0)
		return migrate__backend_failed(
			m, rc, "cannot take the migration lock");
	m->locked = true;
	return 0;
}

static void
release_lock(struct migrate *m)
{
	struct migrate_backend_error err;

	if (!m->locked)
		return;
	m->locked = false;
	if (m->poisoned)
		return;
	memset(&err, 0, sizeof(err));
	if (m->be->unlock(m->be, &err) < 0 &&
	    err.kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
		m->poisoned = true;
}

static int
dirty_error(struct migrate *m, const struct migrate_state *st)
{
	char msg[MIGRATE_ERRMSG_SIZE];

	migrate__dirty_message(msg, sizeof(msg), st);
	return migrate__set_error(m, MIGRATE_EDIRTY, "%s", msg);
}

/* What every run checks before it reads or locks anything. */
static int
check_run(struct migrate *m)
{
	int rc = check_writable(m);

	if (rc < 0)
		return rc;
	migrate__clear_error(m);
	rc = migrate_registry_validate(m->reg);
	if (rc < 0)
		return migrate__set_error(m, rc, "%s",
					  migrate_registry_errmsg(m->reg));
	if (migrate__cancelled(m))
		return cancelled(m, NULL, "before taking the migration lock",
				 NULL);
	return 0;
}

/* Lock, read the state (refusing a dirty database unless @allow_dirty).
 * On success the lock is held. The bookkeeping tables are made sure of
 * later (ensure_tables()), once the plan is made and checked: a run
 * refused before that leaves the database as it was. */
static int
begin_run(struct migrate *m, struct migrate_state *st, bool allow_dirty)
{
	int rc;

	migrate__state_init(st);
	rc = take_lock(m);
	if (rc < 0)
		return rc;
	rc = migrate__read_state(m, st);
	if (rc < 0)
		goto fail;
	if (migrate__cancelled(m)) {
		rc = cancelled(m, NULL, "before the first revision", NULL);
		goto fail;
	}
	if (st->dirty && !allow_dirty) {
		rc = dirty_error(m, st);
		goto fail;
	}
	return 0;
fail:
	/* A cancel request that stopped a bookkeeping statement. */
	if (rc != MIGRATE_ECANCELED && migrate__cancelled(m) && !m->poisoned)
		rc = cancelled(m, NULL, "before the first revision", NULL);
	release_lock(m);
	migrate__state_clear(st);
	return rc;
}

/* The version table as a set: same ids, whatever the order. */
static bool
same_heads(const struct strv *a, const struct strv *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strv_find(b, a->v[i]) < 0)
			return false;
	for (i = 0; i < b->n; i++)
		if (strv_find(a, b->v[i]) < 0)
			return false;
	return true;
}

/* What an entry point asks of the engine. */
struct job {
	/* The planner's question (see migrate__plan_move()), unless @plan
	 * is given. */
	int direction;
	const char *target;
	unsigned int flags;
	/* migrate_apply(): a plan made before the lock was ours. */
	const struct migrate_plan *plan;
	/* NULL: run the revisions; else write only bookkeeping rows with
	 * this operation (stamp, resolve). */
	const char *operation;
	/* migrate_resolve(): the revision the operator named, and whether
	 * the step is declared not done. */
	const char *resolve;
	int undo;
	/* migrate_stamp_purge(): empty the version table first, plan from
	 * base. */
	bool purge;
};

/* Resolve: check the operator's revision against the dirty mark and turn
 * the job into the planner's question. */
static int
resolve_job(struct migrate *m, const struct migrate_state *st, struct job *job)
{
	const struct migrate_revision *rev = NULL;
	int rc;

	if (!st->dirty)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "database is not dirty");
	rc = migrate_registry_find(&rev, m->reg, job->resolve);
	if (rc < 0 && strcmp(job->resolve, st->dirty_revision) != 0)
		return migrate__set_error(m, rc, "%s",
					  migrate_registry_errmsg(m->reg));
	if (rc < 0)
		return migrate__set_error(
			m, MIGRATE_ENOTFOUND,
			"database is dirty on %s, which this build does not know",
			st->dirty_revision);
	if (strcmp(rev->id, st->dirty_revision) != 0)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "database is dirty on %s, not %s",
					  st->dirty_revision, rev->id);
	job->target = rev->id;
	job->flags = MIGRATE__PLAN_ONE_STEP | MIGRATE__PLAN_BOOKKEEPING_ONLY;
	job->direction = st->dirty_direction;
	if (job->undo) {
		/* Not done: the opposite meaning, version table untouched. */
		job->flags |= MIGRATE__PLAN_NO_MOVE;
		job->direction = job->direction == MIGRATE_UP ? MIGRATE_DOWN
							      : MIGRATE_UP;
	}
	return 0;
}

static int
plan_job(struct migrate *m,
	 struct migrate_plan **out,
	 const struct migrate_state *st,
	 const struct job *job)
{
	int rc;

	*out = NULL;
	rc = migrate__plan_move(out, m->reg,
				job->purge ? NULL
					   : (const char *const *)st->heads.v,
				job->purge ? 0 : st->heads.n, job->direction,
				job->target, job->flags, &m->diag);
	if (rc == 0)
		return 0;
	*out = NULL;
	if (!m->diag.msg[0])
		return migrate__set_error(m, rc, "cannot plan to '%s': %s",
					  job->target, migrate_strerror(rc));
	if (job->resolve)
		return migrate__set_error(m, rc, "cannot resolve %s: %s",
					  job->target, m->diag.msg);
	return rc;
}

/* A plan made before the lock was ours runs only if the database is still
 * where the plan starts. */
static int
check_start(struct migrate *m,
	    const struct migrate_state *st,
	    const struct migrate_plan *plan)
{
	char now[256], from[256];

	if (same_heads(&st->heads, &plan->from_heads))
		return 0;
	migrate__join_ids(now, sizeof(now), (const char *const *)st->heads.v,
			  st->heads.n, ",", "<base>");
	migrate__join_ids(from, sizeof(from),
			  (const char *const *)plan->from_heads.v,
			  plan->from_heads.n, ",", "<base>");
	return migrate__set_error(
		m, MIGRATE_ECONFLICT,
		"the database moved since the plan was made: it is at %s, the plan starts at %s",
		now, from);
}

/* Make sure the bookkeeping tables exist (the backend may defer creating
 * them to the first write, or to unlock). */
static int
ensure_tables(struct migrate *m)
{
	int rc;

	berr_clear(m);
	rc = m->be->ensure_tables(m->be, &m->berr);
	if (rc < 0)
		return migrate__backend_failed(
			m, rc, "cannot create the bookkeeping tables");
	return 0;
}

/* The caller's plan check (struct migrate_options.plan_check), under the
 * lock, before the first step. */
static int
check_plan(struct migrate *m, const struct migrate_plan *plan)
{
	int rc;

	if (!m->opts.plan_check || plan->n_steps == 0)
		return 0;
	migrate__clear_error(m);
	rc = m->opts.plan_check(m, plan, m->opts.plan_check_payload);
	if (rc >= 0)
		return 0;
	if (!m->diag.msg[0])
		return migrate__set_error(m, rc,
					  "the plan check refused the plan");
	return rc;
}

/*
 * Nothing to do, seen without the lock (upgrade, downgrade and apply;
 * stamp and resolve always write): the state read without the lock is
 * clean, its bookkeeping tables need nothing (the backend says so), and
 * the plan from it has no step. The answer is then the state as it was
 * read, as if this run had taken the lock and read it just before
 * another migrator's run. Anything else (a step to run, a dirty mark,
 * tables to create or convert, a planning error, a failed read) takes
 * the locked path, which reads the state again under the lock and
 * decides as it always did, with the same messages: a migrator midway
 * through a run has moved the version table away from where the plan
 * would end, or left a dirty mark, so we wait for its lock. The plan
 * with steps seen here goes to the plan preview (struct
 * migrate_options.plan_preview) before the lock is taken. Returns 1
 * when done, 0 for the locked path, or a negative error when the
 * connection was lost.
 */
static int
done_unlocked(struct migrate *m, const struct job *job)
{
	struct migrate_plan *made = NULL;
	const struct migrate_plan *plan = job->plan;
	struct migrate_state st;
	bool done = false;
	int rc;

	if (job->operation)
		return 0;
	migrate__state_init(&st);
	rc = migrate__read_state(m, &st);
	if (rc < 0 && m->poisoned)
		return rc;
	/* A database never migrated (no tables: not ready) is planned from
	 * base, for the preview only. */
	if (rc == 0 && !st.dirty) {
		if (plan)
			done = st.ready && plan->n_steps == 0 &&
			       same_heads(&st.heads, &plan->from_heads);
		else if (plan_job(m, &made, &st, job) == 0)
			done = st.ready && made->n_steps == 0;
	}
	if (!plan)
		plan = made;
	if (done)
		m->have_last = strv_copy(&m->last_heads, &plan->to_heads) == 0;
	else
		migrate__clear_error(m);
	/* The plan the locked path will most likely check: the plan check
	 * may start on it while the lock is taken. */
	if (!done && plan && plan->n_steps > 0 && m->opts.plan_preview)
		m->opts.plan_preview(m, plan, m->opts.plan_check_payload);
	migrate_plan_free(made);
	migrate__state_clear(&st);
	return done ? 1 : 0;
}

/*
 * The one sequence of every entry point: lock, state, plan, (check,)
 * bookkeeping tables, run, unlock (always); or nothing at all when
 * done_unlocked() finds nothing to do.
 */
static int
run_job(struct migrate *m, struct job *job)
{
	struct migrate_plan *made = NULL;
	const struct migrate_plan *plan = job->plan;
	struct migrate_state st;
	int rc;

	m->have_last = false;
	rc = check_run(m);
	if (rc == 0)
		rc = done_unlocked(m, job);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = begin_run(m, &st, job->resolve != NULL);
	if (rc < 0)
		return rc;
	if (job->resolve)
		rc = resolve_job(m, &st, job);
	if (rc == 0 && plan)
		rc = check_start(m, &st, plan);
	else if (rc == 0)
		rc = plan_job(m, &made, &st, job);
	if (rc == 0 && made)
		plan = made;
	if (rc == 0 && !job->operation)
		rc = check_plan(m, plan);
	if (rc == 0)
		rc = ensure_tables(m);
	if (rc == 0 && job->operation)
		rc = run_bookkeeping(m, plan, job->operation,
				     job->resolve == NULL,
				     job->purge ? &st.heads : NULL);
	else if (rc == 0)
		rc = run_plan(m, plan);
	/* Where the run left the database, known under the lock. */
	if (rc == 0)
		m->have_last = strv_copy(&m->last_heads, &plan->to_heads) == 0;
	release_lock(m);
	migrate_plan_free(made);
	migrate__state_clear(&st);
	return rc;
}

MIGRATE_EXPORT
int
migrate_upgrade(struct migrate *m, const char *target)
{
	struct job job = { MIGRATE_UP, NULL, 0, NULL, NULL, NULL, 0, false };

	if (!m)
		return MIGRATE_EINVAL;
	job.target = target ? target : "head";
	return run_job(m, &job);
}

MIGRATE_EXPORT
int
migrate_downgrade(struct migrate *m, const char *target)
{
	struct job job = { MIGRATE_DOWN, NULL, 0, NULL, NULL, NULL, 0, false };

	if (!m)
		return MIGRATE_EINVAL;
	if (!target || !*target)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"downgrade needs a target (e.g. '-1', 'base' or a revision id)");
	job.target = target;
	return run_job(m, &job);
}

MIGRATE_EXPORT
int
migrate_apply(struct migrate *m, const struct migrate_plan *plan)
{
	struct job job = { 0, NULL, 0, NULL, NULL, NULL, 0, false };

	if (!m)
		return MIGRATE_EINVAL;
	if (!plan)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "migrate_apply: NULL plan");
	if (plan->reg != m->reg)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"the plan was made for another registry");
	job.plan = plan;
	return run_job(m, &job);
}

/* migrate_stamp() and migrate_stamp_purge(): the same arguments, checked
 * once; @purge empties the version table first and plans from base
 * (upward), else the planner moves either way. */
static int
stamp(struct migrate *m, const char *target, bool purge)
{
	struct job job = { 0, NULL, 0, NULL, "stamp", NULL, 0, purge };

	if (!m)
		return MIGRATE_EINVAL;
	if (!target || !*target)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "stamp needs a target");
	job.target = target;
	job.flags = MIGRATE__PLAN_BOOKKEEPING_ONLY;
	if (purge)
		job.direction = MIGRATE_UP;
	else
		job.flags |= MIGRATE__PLAN_EITHER_WAY;
	return run_job(m, &job);
}

MIGRATE_EXPORT
int
migrate_stamp(struct migrate *m, const char *target)
{
	return stamp(m, target, false);
}

MIGRATE_EXPORT
int
migrate_stamp_purge(struct migrate *m, const char *target)
{
	return stamp(m, target, true);
}

MIGRATE_EXPORT
int
migrate_resolve(struct migrate *m, const char *revision, int undo)
{
	struct job job = { 0, NULL, 0, NULL, "resolve", NULL, 0, false };

	if (!m)
		return MIGRATE_EINVAL;
	if (!revision || !*revision)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "resolve needs a revision");
	job.resolve = revision;
	job.undo = undo;
	return run_job(m, &job);
}
