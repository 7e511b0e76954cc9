/* SPDX-License-Identifier: MIT */
/*
 * SQL texts of the PostgreSQL bookkeeping (see pg-sql.h), shared by the
 * libpq backend and the offline psql script.
 */
#include "pg-sql.h"

#include <string.h>

static void
qualified(struct buf *b, const struct migrate_pg_names *n, const char *table)
{
	if (n->schema) {
		buf_sql_ident(b, n->schema);
		buf_puts(b, ".");
	}
	buf_sql_ident(b, table);
}

void
migrate__pg_version_table(struct buf *b, const struct migrate_pg_names *n)
{
	qualified(b, n, n->version_table);
}

void
migrate__pg_log_table(struct buf *b, const struct migrate_pg_names *n)
{
	qualified(b, n, n->log_table);
}

/* Append the text of a qualified name as a string literal (for
 * to_regclass() and messages). */
static void
qualified_literal(struct buf *b,
		  const struct migrate_pg_names *n,
		  const char *table)
{
	struct buf name = BUF_INIT;

	qualified(&name, n, table);
	if (name.oom) {
		b->oom = true;
		buf_free(&name);
		return;
	}
	buf_sql_literal(b, name.data);
	buf_free(&name);
}

void
migrate__pg_lock_key(struct buf *b, const struct migrate_pg_names *n)
{
	buf_puts(b, "('x' || substr(encode(sha256(convert_to(");
	if (n->schema)
		buf_sql_literal(b, n->schema);
	else
		buf_puts(b, "coalesce(current_schema(), '')");
	buf_puts(b, " || '.' || ");
	buf_sql_literal(b, n->version_table);
	buf_puts(b, ", 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint");
}

/*
 * Wrap @body (PL/pgSQL statements) into "DO $tag$ ... $tag$;" with a tag
 * that does not occur in the body (a table name could hold "$migrate$").
 */
void
migrate__pg_do_block(struct buf *b, const char *declare, const struct buf *body)
{
	char tag[32] = "$migrate$";
	unsigned int i = 0;

	if (body->oom) {
		b->oom = true;
		return;
	}
	while (body->data && strstr(body->data, tag))
		xsnprintf(tag, sizeof(tag), "$migrate%u$", ++i);
	buf_printf(b, "DO %s\n", tag);
	if (declare && *declare)
		buf_printf(b, "DECLARE\n%s", declare);
	buf_puts(b, "BEGIN\n");
	if (body->data)
		buf_puts(b, body->data);
	buf_printf(b, "END\n%s;\n", tag);
}

void
migrate__pg_ensure_tables(struct buf *b,
			  const struct migrate_pg_names *n,
			  bool create_schema)
{
	struct buf body = BUF_INIT;
	struct buf pkc = BUF_INIT;

	/* Checked before creating: CREATE ... IF NOT EXISTS wants the CREATE
	 * privilege even when the object exists. */
	if (create_schema && n->schema) {
		buf_puts(&body, "\tIF to_regnamespace(");
		{
			struct buf s = BUF_INIT;

			buf_sql_ident(&s, n->schema);
			if (s.oom)
				body.oom = true;
			else
				buf_sql_literal(&body, s.data);
			buf_free(&s);
		}
		buf_puts(&body, ") IS NULL THEN\n\t\tCREATE SCHEMA IF NOT "
				"EXISTS ");
		buf_sql_ident(&body, n->schema);
		buf_puts(&body, ";\n\tEND IF;\n");
	}

	/* Alembic's DDL, constraint name included. */
	buf_puts(&pkc, n->version_table);
	buf_puts(&pkc, "_pkc");
	buf_puts(&body, "\tIF to_regclass(");
	qualified_literal(&body, n, n->version_table);
	buf_puts(&body, ") IS NULL THEN\n\t\tCREATE TABLE IF NOT EXISTS ");
	migrate__pg_version_table(&body, n);
	buf_puts(&body, " (\n\t\t\tversion_num VARCHAR(32) NOT NULL,\n"
			"\t\t\tCONSTRAINT ");
	if (pkc.oom)
		body.oom = true;
	else
		buf_sql_ident(&body, pkc.data);
	buf_puts(&body, " PRIMARY KEY (version_num)\n\t\t);\n\tEND IF;\n");

	buf_puts(&body, "\tIF to_regclass(");
	qualified_literal(&body, n, n->log_table);
	buf_puts(&body, ") IS NULL THEN\n\t\tCREATE TABLE IF NOT EXISTS ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body,
		 " (\n"
		 "\t\t\tid bigserial PRIMARY KEY,\n"
		 "\t\t\trevision varchar(32) NOT NULL,\n"
		 "\t\t\tdirection text NOT NULL CHECK (direction IN ('up', "
		 "'down')),\n"
		 "\t\t\toperation text NOT NULL,\n"
		 "\t\t\tchecksum text,\n"
		 "\t\t\tstarted_at timestamptz,\n"
		 "\t\t\tduration_ms double precision,\n"
		 "\t\t\tdb_user text DEFAULT current_user,\n"
		 "\t\t\tsuccess boolean NOT NULL,\n"
		 "\t\t\terror text\n"
		 "\t\t);\n\tEND IF;\n");
	migrate__pg_do_block(b, NULL, &body);
	buf_free(&body);
	buf_free(&pkc);
}

void
migrate__pg_read_state(struct buf *b,
		       const struct migrate_pg_names *n,
		       bool read_only)
{
	if (read_only)
		buf_puts(b, "SET TRANSACTION READ ONLY;\n");
	buf_puts(b, "SELECT version_num FROM ");
	migrate__pg_version_table(b, n);
	buf_puts(b, ";\n");
	/*
	 * The rows that decide the state, in no order: every success (the
	 * last one of each revision says whether it is applied) and every
	 * dirty mark (the newest of all these rows says whether the database
	 * is dirty). The backend works both out itself: a plain scan costs a
	 * fresh server backend about half a millisecond less to plan than
	 * DISTINCT ON and a UNION, and verify runs at every service start.
	 */
	buf_puts(b, "SELECT id, revision, direction, operation, success, "
		    "coalesce(checksum, ''), coalesce(error, '') FROM ");
	migrate__pg_log_table(b, n);
	buf_puts(b, " WHERE success OR operation = 'dirty';\n");
}

void
migrate__pg_read_history(struct buf *b,
			 const struct migrate_pg_names *n,
			 bool read_only)
{
	if (read_only)
		buf_puts(b, "SET TRANSACTION READ ONLY;\n");
	/* Duration as whole microseconds: integers parse the same in every
	 * C locale, decimal fractions do not. */
	buf_puts(b,
		 "SELECT revision, direction, operation, "
		 "coalesce(checksum, ''), coalesce(to_char(started_at AT "
		 "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
		 "''), coalesce(round(duration_ms * 1000)::bigint, 0), "
		 "coalesce(db_user, ''), success, coalesce(error, '') FROM ");
	migrate__pg_log_table(b, n);
	buf_puts(b, " ORDER BY id;\n");
}

/* @v with @decimals (3 or 6) decimals, '.' whatever the locale. */
static void
fixed(struct buf *b, double v, int decimals)
{
	long long scale = decimals >= 6 ? 1000000LL : 1000LL;
	long long t;

	if (!(v >= 0)) /* negative or NaN */
		v = 0;
	if (v > 1e12)
		v = 1e12;
	t = (long long)(v * (double)scale + 0.5);
	buf_printf(b, "%lld.%0*lld", t / scale, decimals >= 6 ? 6 : 3,
		   t % scale);
}

/* PL/pgSQL: fail unless the last statement touched exactly one row. */
static void
expect_one_row(struct buf *body,
	       const struct migrate_pg_names *n,
	       const char *what,
	       const char *id)
{
	struct buf msg = BUF_INIT;

	buf_puts(&msg, MIGRATE_PG_CONFLICT_PREFIX " ");
	migrate__pg_version_table(&msg, n);
	buf_printf(&msg,
		   " %s %s: the database was changed by another "
		   "migration or tool",
		   what, id);
	buf_puts(
		body,
		"\tGET DIAGNOSTICS migrate_rows = ROW_COUNT;\n"
		"\tIF migrate_rows <> 1 THEN\n"
		"\t\tRAISE EXCEPTION USING ERRCODE = '" MIGRATE_PG_CONFLICT_STATE
		"', MESSAGE = ");
	if (msg.oom)
		body->oom = true;
	else
		buf_sql_literal(body, msg.data);
	buf_puts(body, ";\n\tEND IF;\n");
	buf_free(&msg);
}

static void
update_head(struct buf *body,
	    const struct migrate_pg_names *n,
	    const char *from,
	    const char *to)
{
	buf_puts(body, "\tUPDATE ");
	migrate__pg_version_table(body, n);
	buf_puts(body, " SET version_num = ");
	buf_sql_literal(body, to);
	buf_puts(body, " WHERE version_num = ");
	buf_sql_literal(body, from);
	buf_puts(body, ";\n");
	expect_one_row(body, n, "does not hold", from);
}

static void
delete_head(struct buf *body, const struct migrate_pg_names *n, const char *id)
{
	buf_puts(body, "\tDELETE FROM ");
	migrate__pg_version_table(body, n);
	buf_puts(body, " WHERE version_num = ");
	buf_sql_literal(body, id);
	buf_puts(body, ";\n");
	expect_one_row(body, n, "does not hold", id);
}

static void
insert_head(struct buf *body, const struct migrate_pg_names *n, const char *id)
{
	buf_puts(body, "\tINSERT INTO ");
	migrate__pg_version_table(body, n);
	buf_puts(body, " (version_num) SELECT ");
	buf_sql_literal(body, id);
	buf_puts(body, " WHERE NOT EXISTS (SELECT 1 FROM ");
	migrate__pg_version_table(body, n);
	buf_puts(body, " WHERE version_num = ");
	buf_sql_literal(body, id);
	buf_puts(body, ");\n");
	expect_one_row(body, n, "already holds", id);
}

void
migrate__pg_bookkeeping(struct buf *b,
			const struct migrate_pg_names *n,
			const struct migrate_record *rec,
			enum migrate_pg_timing timing)
{
	struct buf body = BUF_INIT;
	size_t i = 0, j = 0;

	/* Alembic's shape: one removed + one added is an UPDATE (a linear
	 * step, or a merge's last parent); the rest are DELETEs and
	 * INSERTs. A failed step's row changes no version. */
	if (rec->success) {
		if (rec->n_remove > 0 && rec->n_add > 0) {
			update_head(&body, n, rec->remove_heads[0],
				    rec->add_heads[0]);
			i = j = 1;
		}
		for (; i < rec->n_remove; i++)
			delete_head(&body, n, rec->remove_heads[i]);
		for (; j < rec->n_add; j++)
			insert_head(&body, n, rec->add_heads[j]);
	}

	buf_puts(&body, "\tINSERT INTO ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body, " (revision, direction, operation, checksum, "
			"started_at, duration_ms, success, error)\n\tVALUES (");
	buf_sql_literal(&body, rec->revision ? rec->revision : "");
	buf_puts(&body,
		 rec->direction == MIGRATE_DOWN ? ", 'down', " : ", 'up', ");
	buf_sql_literal(&body, rec->operation ? rec->operation : "");
	buf_puts(&body, ", ");
	buf_sql_literal(&body, rec->checksum ? rec->checksum : "");
	buf_puts(&body, ",\n\t\t");
	if (timing == MIGRATE_PG_TIMING_SERVER) {
		buf_puts(&body,
			 "to_timestamp(current_setting('migrate.step_start')"
			 "::double precision),\n\t\t(extract(epoch FROM "
			 "clock_timestamp())::double precision - "
			 "current_setting('migrate.step_start')::double "
			 "precision) * 1000");
	} else {
		buf_puts(&body, "to_timestamp(");
		fixed(&body, rec->started_at, 6);
		buf_puts(&body, "), ");
		fixed(&body, rec->duration_ms, 3);
	}
	buf_puts(&body, rec->success ? ",\n\t\ttrue, " : ",\n\t\tfalse, ");
	buf_sql_literal(&body, rec->error ? rec->error : "");
	buf_puts(&body, ");\n");
	migrate__pg_do_block(b,
			     (rec->success && (rec->n_remove || rec->n_add))
				     ? "\tmigrate_rows bigint;\n"
				     : NULL,
			     &body);
	buf_free(&body);
}

void
migrate__pg_step_settings(struct buf *b,
			  int lock_timeout_ms,
			  int statement_timeout_ms,
			  bool local)
{
	const char *is_local = local ? "true" : "false";

	/* A DO block rather than a SELECT: the same statement in the psql
	 * script then prints no result table. */
	buf_printf(
		b,
		"DO $migrate$ BEGIN PERFORM set_config('migrate.step_start', "
		"extract(epoch FROM clock_timestamp())::text, %s)",
		is_local);
	if (lock_timeout_ms >= 0)
		buf_printf(b, ", set_config('lock_timeout', '%dms', %s)",
			   lock_timeout_ms, is_local);
	if (statement_timeout_ms >= 0)
		buf_printf(b, ", set_config('statement_timeout', '%dms', %s)",
			   statement_timeout_ms, is_local);
	buf_puts(b, "; END $migrate$;\n");
}

void
migrate__pg_step(struct buf *b,
		 const struct migrate_pg_names *n,
		 const struct migrate_backend_step *step,
		 struct migrate_pg_step_layout *layout)
{
	size_t start = b->len;

	layout->n_before = 0;
	if (!step->in_transaction) {
		buf_puts(b, "BEGIN;\n");
		layout->n_before++;
	}
	migrate__pg_step_settings(b, step->lock_timeout_ms,
				  step->statement_timeout_ms, true);
	layout->n_before++;
	layout->sql_offset = b->len - start;
	buf_puts(b, step->sql);
	/* A newline ends a trailing line comment, the ';' a statement
	 * without one; an extra empty statement is harmless. */
	buf_puts(b, "\n;\n");
	migrate__pg_bookkeeping(b, n, step->record, MIGRATE_PG_TIMING_SERVER);
	layout->has_commit = !step->in_transaction;
	if (layout->has_commit)
		buf_puts(b, "COMMIT;\n");
}
