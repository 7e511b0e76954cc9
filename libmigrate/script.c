/* SPDX-License-Identifier: MIT */
/*
 * migrate_plan_sql(): a plan as a psql script (offline mode, --sql).
 *
 * The script does what an online run does, with the same SQL (pg-sql.c):
 * it takes the same advisory lock, refuses to run unless the version table
 * holds exactly the plan's starting point (and the database is not dirty),
 * creates the bookkeeping tables if they are missing, runs every step with
 * its bookkeeping in the same transaction structure, and unlocks. A
 * non-transactional section is framed by a "dirty" history row and the
 * normal one, as online, so that a script stopped part-way leaves the
 * database marked dirty.
 */
#include <stdlib.h>
#include <string.h>

#include "pg-sql.h"
#include "private.h"

/* A revision message as a one-line SQL comment. */
static void
comment_text(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		char c = (*s == '\n' || *s == '\r') ? ' ' : *s;

		buf_append(b, &c, 1);
	}
}

static void
heads_text(struct buf *b, const struct strv *heads)
{
	size_t i;

	if (heads->n == 0) {
		buf_puts(b, "<base>");
		return;
	}
	for (i = 0; i < heads->n; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, heads->v[i]);
	}
}

static void
lock_stmt(struct buf *b,
	  const struct migrate_pg_names *n,
	  const char *fn,
	  int wait_ms)
{
	struct buf body = BUF_INIT;

	/* The same key as online; the wait is bounded like --lock-wait
	 * (lock_timeout applies to advisory locks too). */
	if (wait_ms >= 0)
		buf_printf(
			&body,
			"\tPERFORM set_config('lock_timeout', '%dms', true);\n",
			wait_ms);
	buf_printf(&body, "\tPERFORM %s(", fn);
	migrate__pg_lock_key(&body, n);
	buf_puts(&body, ");\n");
	migrate__pg_do_block(b, NULL, &body);
	buf_free(&body);
}

/* As a string literal: the query of the newest dirty mark's revision
 * (no row when the newest success or mark is not a dirty mark). */
static void
dirty_query(struct buf *b, const struct migrate_pg_names *n, bool legacy)
{
	struct buf q = BUF_INIT;

	buf_puts(&q, "SELECT revision FROM (SELECT id, revision, operation "
		     "FROM ");
	migrate__pg_log_table(&q, n);
	buf_puts(&q, " WHERE ");
	if (!legacy) {
		migrate__pg_log_scope(&q, n);
		buf_puts(&q, " AND ");
	}
	buf_puts(&q, "(success OR operation = 'dirty') ORDER BY id DESC "
		     "LIMIT 1) newest WHERE operation = 'dirty'");
	if (q.oom)
		b->oom = true;
	else
		buf_sql_literal(b, q.data);
	buf_free(&q);
}

/* Refuse (before any change) unless the version table holds exactly
 * @from (an absent table is <base>) and the database is not dirty. */
static void
guard_stmt(struct buf *b,
	   const struct migrate_pg_names *n,
	   const struct strv *from)
{
	struct buf body = BUF_INIT, q = BUF_INIT, name = BUF_INIT;
	struct buf expect = BUF_INIT, msg = BUF_INIT;
	size_t i;

	migrate__pg_version_table(&name, n);
	buf_puts(&expect, "ARRAY[");
	for (i = 0; i < from->n; i++) {
		if (i)
			buf_puts(&expect, ", ");
		buf_sql_literal(&expect, from->v[i]);
	}
	buf_puts(&expect, "]::text[]");
	heads_text(&msg, from);

	buf_puts(&q, "SELECT count(*), count(*) FILTER (WHERE version_num "
		     "<> ALL ($1)), coalesce(string_agg(version_num, ', ' "
		     "ORDER BY version_num COLLATE \"C\"), '') FROM ");
	buf_puts(&q, name.data ? name.data : "");
	if (q.oom || name.oom || expect.oom || msg.oom)
		body.oom = true;

	buf_puts(&body, "\tIF to_regclass(");
	buf_sql_literal(&body, name.data ? name.data : "");
	buf_puts(&body, ") IS NOT NULL THEN\n\t\tEXECUTE ");
	buf_sql_literal(&body, q.data ? q.data : "");
	buf_printf(
		&body,
		"\n\t\t\tINTO migrate_n, migrate_bad, migrate_at USING %s;\n\tEND IF;\n",
		expect.data ? expect.data : "");
	buf_printf(&body, "\tIF migrate_n <> %zu OR migrate_bad <> 0 THEN\n",
		   from->n);
	buf_puts(&body, "\t\tRAISE EXCEPTION USING MESSAGE = ");
	buf_puts(
		&body,
		"'libmigrate: the database is at ' || CASE WHEN migrate_at = '' THEN '<base>' ELSE migrate_at END || ', but this script starts from ' || ");
	buf_sql_literal(&body, msg.data ? msg.data : "");
	buf_puts(&body, " || ': nothing was changed';\n\tEND IF;\n");

	/* The dirty mark of this version table's history, as online (a
	 * history table of the format before version_table: all of it). */
	buf_free(&name);
	migrate__pg_log_table(&name, n);
	buf_puts(&body, "\tIF to_regclass(");
	buf_sql_literal(&body, name.data ? name.data : "");
	buf_puts(&body, ") IS NOT NULL THEN\n\t\tIF ");
	migrate__pg_log_is_scoped(&body, n);
	buf_puts(&body, " THEN\n\t\t\tEXECUTE ");
	dirty_query(&body, n, false);
	buf_puts(&body, " INTO migrate_dirty;\n\t\tELSE\n\t\t\tEXECUTE ");
	dirty_query(&body, n, true);
	if (name.oom)
		body.oom = true;
	buf_puts(&body, " INTO migrate_dirty;\n\t\tEND IF;\n"
			"\t\tIF migrate_dirty IS NOT NULL THEN\n"
			"\t\t\tRAISE EXCEPTION USING MESSAGE = ");
	buf_puts(
		&body,
		"'libmigrate: the database is dirty: revision ' || migrate_dirty || ' stopped part-way; fix the schema and run migrate resolve first: nothing was changed';\n");
	buf_puts(&body, "\t\tEND IF;\n\tEND IF;\n");
	migrate__pg_do_block(
		b,
		"\tmigrate_n bigint := 0;\n\tmigrate_bad bigint := 0;\n"
		"\tmigrate_at text := '';\n\tmigrate_dirty text;\n",
		&body);
	buf_free(&body);
	buf_free(&q);
	buf_free(&name);
	buf_free(&expect);
	buf_free(&msg);
}

/* @hex holds the checksum's text for as long as @rec is used. */
static void
fill_record(struct migrate_record *rec,
	    const struct migrate_step *st,
	    char hex[65])
{
	memset(rec, 0, sizeof(*rec));
	rec->revision = st->rev->id;
	rec->direction = st->direction;
	rec->operation = migrate__direction_name(st->direction);
	migrate__step_heads(st, &rec->remove_heads, &rec->add_heads);
	rec->n_remove = st->n_remove;
	rec->n_add = st->n_add;
	migrate__revision_hex(st->rev, hex);
	rec->checksum = hex;
	rec->success = 1;
	rec->error = "";
}

/* A non-transactional section: statements run one by one (psql sends
 * them separately, in autocommit), between a dirty mark and the normal
 * bookkeeping, as online: with the section's timeouts as session settings,
 * switched off again after its statements. */
static void
nontx_step(struct buf *b,
	   const struct migrate_pg_names *n,
	   const struct migrate_step *st,
	   const char *sql,
	   int lock_timeout_ms,
	   int statement_timeout_ms)
{
	struct migrate_record rec;
	char hex[65];

	migrate__pg_step_settings(b, lock_timeout_ms, statement_timeout_ms,
				  false);
	migrate__pg_step_start(b);
	fill_record(&rec, st, hex);
	rec.operation = "dirty";
	rec.success = 0;
	rec.error = "started";
	rec.n_remove = rec.n_add = 0;
	migrate__pg_bookkeeping(b, n, &rec, MIGRATE_PG_TIMING_SETTING);
	buf_puts(b, sql);
	buf_puts(b, "\n;\n");
	migrate__pg_step_settings(b, 0, 0, false);
	fill_record(&rec, st, hex);
	migrate__pg_bookkeeping(b, n, &rec, MIGRATE_PG_TIMING_SETTING);
}

MIGRATE_EXPORT
int
migrate_plan_sql(char **out,
		 const struct migrate_plan *plan,
		 const struct migrate_options *opts)
{
	const struct migrate_options def = MIGRATE_OPTIONS_INIT;
	struct migrate_pg_names names;
	struct migrate_pg_log_ids ids = { MIGRATE_PG_ID_SETTING, 0 };
	struct migrate_registry *reg = plan ? plan->reg : NULL;
	struct buf b = BUF_INIT;
	bool single;
	size_t i;

	if (out)
		*out = NULL;
	if (!plan || !out)
		return MIGRATE_EINVAL;
	if (!opts)
		opts = &def;
	if (!migrate__version_ok(opts->version, MIGRATE_OPTIONS_VERSION))
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"migrate_plan_sql: unsupported options version %u",
			opts->version);
	if (migrate__check_names(opts, &reg->diag) < 0)
		return MIGRATE_EINVAL;
	single = (opts->flags & MIGRATE_OPEN_SINGLE_TRANSACTION) != 0;
	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_step *st = &plan->steps[i];
		const struct migrate_section *sec = migrate__step_section(st);

		if (!migrate__section_has_sql(sec))
			return migrate__registry_error(
				reg, MIGRATE_EINVAL,
				"revision %s is written in C (a callback): it cannot be rendered as SQL",
				st->rev->id);
		if (single && !sec->transactional)
			return migrate__registry_error(
				reg, MIGRATE_EINVAL,
				"revision %s has transaction=false: it cannot run in a single transaction",
				st->rev->id);
	}
	migrate__registry_clear_error(reg);
	names.schema = opts->schema && *opts->schema ? opts->schema : NULL;
	names.version_table = opts->version_table && *opts->version_table
				      ? opts->version_table
				      : "alembic_version";
	names.log_table = opts->log_table && *opts->log_table ? opts->log_table
							      : "migrate_log";
	names.log_ids = &ids;

	buf_printf(&b, "-- Generated by libmigrate %s: %s from ",
		   migrate_version_string(),
		   migrate__direction_name(plan->direction));
	heads_text(&b, &plan->from_heads);
	buf_puts(&b, " to ");
	heads_text(&b, &plan->to_heads);
	buf_printf(&b, " (%zu step%s).\n", plan->n_steps,
		   plan->n_steps == 1 ? "" : "s");
	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_step *st = &plan->steps[i];

		buf_printf(&b, "--   %s %s",
			   migrate__direction_name(st->direction), st->rev->id);
		if (*migrate__revision_message(st->rev)) {
			buf_puts(&b, ": ");
			comment_text(&b, migrate__revision_message(st->rev));
		}
		buf_puts(&b, "\n");
	}
	buf_puts(
		&b,
		"-- Run it with psql (psql -X -f FILE). It takes the migration "
		"lock, stops\n-- before any change unless the database is at "
		"the starting point above,\n-- and keeps the version table "
		"and the history as an online run does.\n"
		"\\set ON_ERROR_STOP on\n\n");

	lock_stmt(&b, &names, "pg_advisory_lock", opts->lock_wait_ms);
	guard_stmt(&b, &names, &plan->from_heads);
	migrate__pg_ensure_tables(&b, &names, true);
	migrate__pg_log_id_start(&b, &names);
	if (single && plan->n_steps)
		buf_puts(&b, "\nBEGIN;\n");

	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_step *st = &plan->steps[i];
		const struct migrate_section *sec = migrate__step_section(st);
		struct migrate_backend_step bs;
		struct migrate_pg_step_layout lay;
		struct migrate_pg_step_opts o;
		struct migrate_record rec;
		char hex[65];
		struct migrate_sql_ref ref;
		int rc;

		buf_printf(&b, "\n-- %s %s",
			   migrate__direction_name(st->direction), st->rev->id);
		if (*migrate__revision_message(st->rev)) {
			buf_puts(&b, ": ");
			comment_text(&b, migrate__revision_message(st->rev));
		}
		buf_printf(&b, "\n\\echo %s %s\n",
			   migrate__direction_name(st->direction), st->rev->id);
		bs.lock_timeout_ms = sec->lock_timeout_ms >= 0
					     ? sec->lock_timeout_ms
					     : opts->lock_timeout_ms;
		bs.statement_timeout_ms = sec->statement_timeout_ms >= 0
						  ? sec->statement_timeout_ms
						  : opts->statement_timeout_ms;
		/* Read from its file now, and let go once written. */
		rc = migrate__section_sql(&ref, st->rev, st->direction,
					  &reg->diag);
		if (rc < 0) {
			buf_free(&b);
			return rc;
		}
		if (!sec->transactional) {
			nontx_step(&b, &names, st, ref.sql, bs.lock_timeout_ms,
				   bs.statement_timeout_ms);
			migrate__sql_ref_drop(&ref);
			continue;
		}
		fill_record(&rec, st, hex);
		bs.sql = ref.sql;
		bs.record = &rec;
		bs.in_transaction = single ? 1 : 0;
		/* psql sends statement by statement: a step of its own is
		 * timed from its transaction's start; in a single
		 * transaction, from a start mark of its own. */
		memset(&o, 0, sizeof(o));
		o.settings = true;
		o.bookkeeping = true;
		o.timing = MIGRATE_PG_TIMING_TRANSACTION;
		if (single) {
			migrate__pg_step_start(&b);
			o.timing = MIGRATE_PG_TIMING_SETTING;
		}
		migrate__pg_step(&b, &names, &bs, &o, &lay);
		migrate__sql_ref_drop(&ref);
	}
	if (single && plan->n_steps)
		buf_puts(&b, "COMMIT;\n");

	buf_puts(&b, "\n");
	lock_stmt(&b, &names, "pg_advisory_unlock", -1);
	*out = buf_steal(&b);
	if (!*out)
		return migrate__registry_error(reg, MIGRATE_ENOMEM,
					       "out of memory");
	return 0;
}
