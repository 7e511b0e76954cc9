/* SPDX-License-Identifier: MIT */
/*
 * SQL texts of the PostgreSQL bookkeeping (see pg-sql.h), shared by the
 * libpq backend and the offline psql script.
 */
#include "pg-sql.h"

#include <limits.h>
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

void
migrate__pg_log_scope(struct buf *b, const struct migrate_pg_names *n)
{
	buf_puts(b, "version_table = ");
	buf_sql_literal(b, n->version_table);
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

/* "(SELECT @what FROM pg_attribute ...)" for the history table's column
 * @column: no row when the table or the column does not exist. */
static void
log_column(struct buf *b,
	   const struct migrate_pg_names *n,
	   const char *what,
	   const char *column)
{
	buf_printf(b,
		   "(SELECT %s FROM pg_attribute WHERE attrelid = "
		   "to_regclass(",
		   what);
	qualified_literal(b, n, n->log_table);
	buf_printf(b, ") AND attname = '%s' AND NOT attisdropped)", column);
}

void
migrate__pg_log_is_scoped(struct buf *b, const struct migrate_pg_names *n)
{
	buf_puts(b, "EXISTS ");
	log_column(b, n, "1", "version_table");
}

void
migrate__pg_log_id_has_default(struct buf *b, const struct migrate_pg_names *n)
{
	log_column(b, n, "atthasdef", "id");
}

static void
table_exists(struct buf *b, const struct migrate_pg_names *n, const char *table)
{
	buf_puts(b, "to_regclass(");
	qualified_literal(b, n, table);
	buf_puts(b, ") IS NOT NULL");
}

void
migrate__pg_log_exists(struct buf *b, const struct migrate_pg_names *n)
{
	table_exists(b, n, n->log_table);
}

void
migrate__pg_version_table_exists(struct buf *b,
				 const struct migrate_pg_names *n)
{
	table_exists(b, n, n->version_table);
}

void
migrate__pg_exists_in_current_schema(struct buf *b, const char *table)
{
	struct buf name = BUF_INIT;

	/* quote_ident(NULL) is NULL, and so is the whole name then. */
	buf_sql_ident(&name, table);
	if (name.oom) {
		b->oom = true;
		buf_free(&name);
		return;
	}
	buf_puts(b, "to_regclass(quote_ident(current_schema()) || '.' || ");
	buf_sql_literal(b, name.data);
	buf_puts(b, ") IS NOT NULL");
	buf_free(&name);
}

void
migrate__pg_log_id_start(struct buf *b, const struct migrate_pg_names *n)
{
	struct buf body = BUF_INIT;

	buf_puts(&body, "\tPERFORM set_config('migrate.log_id', CASE WHEN ");
	migrate__pg_log_id_has_default(&body, n);
	buf_puts(&body, " THEN '' ELSE (SELECT coalesce(max(id), 0) FROM ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body, " WHERE ");
	migrate__pg_log_scope(&body, n);
	buf_puts(&body, ")::text END, false);\n");
	migrate__pg_do_block(b, NULL, &body);
	buf_free(&body);
}

/* The id of the next history row, counted up (see
 * struct migrate_pg_log_ids). */
static void
log_id_value(struct buf *b, const struct migrate_pg_names *n)
{
	struct migrate_pg_log_ids *ids = n->log_ids;

	switch (ids ? ids->source : MIGRATE_PG_ID_SEQUENCE) {
	case MIGRATE_PG_ID_COUNTER:
		buf_printf(b, "%lld", ids->next++);
		break;
	case MIGRATE_PG_ID_SETTING:
		buf_puts(b, "(CASE current_setting('migrate.log_id') WHEN '' "
			    "THEN nextval(pg_get_serial_sequence(");
		qualified_literal(b, n, n->log_table);
		buf_puts(b, ", 'id')) ELSE set_config('migrate.log_id', "
			    "(current_setting('migrate.log_id')::bigint + 1)"
			    "::text, false)::bigint END)");
		break;
	case MIGRATE_PG_ID_SEQUENCE:
	default:
		buf_puts(b, "DEFAULT");
		break;
	}
}

/* The first MIGRATE_PG_LOG_ERROR_MAX characters of UTF-8 @s, as a
 * literal. */
static void
log_error_literal(struct buf *b, const char *s)
{
	struct buf cut = BUF_INIT;
	size_t i = 0, chars = 0;

	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80 &&
		    chars++ == MIGRATE_PG_LOG_ERROR_MAX)
			break;
	if (!s[i]) {
		buf_sql_literal(b, s);
		return;
	}
	buf_append(&cut, s, i);
	if (cut.oom)
		b->oom = true;
	else
		buf_sql_literal(b, cut.data);
	buf_free(&cut);
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

static bool
ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

bool
migrate__pg_lock_key_compute(long long *out, const struct migrate_pg_names *n)
{
	struct buf text = BUF_INIT;
	char hex[65];
	unsigned long long k = 0;
	int i;

	/* ASCII is the same bytes in every server encoding and in UTF-8;
	 * the server's convert_to() is then a copy. */
	if (!n->schema || !ascii(n->schema) || !ascii(n->version_table))
		return false;
	buf_puts(&text, n->schema);
	buf_puts(&text, ".");
	buf_puts(&text, n->version_table);
	if (text.oom) {
		buf_free(&text);
		return false;
	}
	migrate__sha256_hex(text.data, text.len, hex);
	buf_free(&text);
	for (i = 0; i < 16; i++) {
		char c = hex[i];

		k = k << 4 |
		    (unsigned long long)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	/* bit(64)::bigint: two's complement, big-endian. */
	*out = k > (unsigned long long)LLONG_MAX ? -(long long)(~k) - 1
						 : (long long)k;
	return true;
}

void
migrate__pg_lock_key_value(struct buf *b, const struct migrate_pg_names *n)
{
	long long k;

	/* A literal costs a fresh server session nothing; the expression
	 * costs it the catalog lookups of sha256(), encode() and the casts
	 * (about half a millisecond per statement). */
	if (migrate__pg_lock_key_compute(&k, n))
		buf_printf(b, "'%lld'::bigint", k);
	else
		migrate__pg_lock_key(b, n);
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

/*
 * The version table's primary key: Alembic's "<table>_pkc". PostgreSQL
 * cuts names to NAMEDATALEN - 1 bytes, which would turn it into the
 * table's own name (42P07) for a table of 60 to 63 bytes; there the table
 * part is shortened, on a UTF-8 character boundary, as PostgreSQL
 * shortens the names it makes up itself.
 */
static void
pkey_name(struct buf *b, const char *table)
{
	size_t n = strlen(table);

	if (n + 4 > MIGRATE_NAME_MAX) {
		n = MIGRATE_NAME_MAX - 4;
		while (n > 0 && ((unsigned char)table[n] & 0xC0) == 0x80)
			n--;
	}
	buf_append(b, table, n);
	buf_puts(b, "_pkc");
}

/*
 * The history table's columns, in order. One relation: the id comes from
 * its writers (struct migrate_pg_log_ids), and every column is bounded,
 * so that no row can outgrow PostgreSQL's TOAST threshold (about 2 kB;
 * text in UTF-8 counts 4 bytes a character) and the table gets no TOAST
 * table and index. Identifiers are "name", as in PostgreSQL's catalogs.
 */
#define STR_(x) #x
#define STR(x)  STR_(x)
static const char *const log_columns[] = {
	"id bigint NOT NULL",
	"revision varchar(32) NOT NULL",
	"direction varchar(4) NOT NULL CHECK (direction IN ('up', 'down'))",
	"operation varchar(16) NOT NULL",
	"checksum varchar(64)",
	"started_at timestamptz",
	"duration_ms double precision",
	"db_user name DEFAULT current_user",
	"success boolean NOT NULL",
	"error varchar(" STR(MIGRATE_PG_LOG_ERROR_MAX) ")",
	"version_table name NOT NULL",
};

/* "CREATE TABLE IF NOT EXISTS <version table> (...);", Alembic's DDL,
 * constraint name included, each line after @indent. */
static void
create_version_table(struct buf *b,
		     const struct migrate_pg_names *n,
		     const char *indent)
{
	struct buf pkc = BUF_INIT;

	pkey_name(&pkc, n->version_table);
	buf_printf(b, "%sCREATE TABLE IF NOT EXISTS ", indent);
	migrate__pg_version_table(b, n);
	buf_printf(b,
		   " (\n%s\tversion_num VARCHAR(32) NOT NULL,\n%s\tCONSTRAINT ",
		   indent, indent);
	if (pkc.oom)
		b->oom = true;
	else
		buf_sql_ident(b, pkc.data);
	buf_printf(b, " PRIMARY KEY (version_num)\n%s);\n", indent);
	buf_free(&pkc);
}

/* "CREATE TABLE IF NOT EXISTS <history table> (...);", each line after
 * @indent. */
static void
create_log_table(struct buf *b,
		 const struct migrate_pg_names *n,
		 const char *indent)
{
	size_t i, k = sizeof(log_columns) / sizeof(log_columns[0]);

	buf_printf(b, "%sCREATE TABLE IF NOT EXISTS ", indent);
	migrate__pg_log_table(b, n);
	buf_puts(b, " (\n");
	for (i = 0; i < k; i++)
		buf_printf(b, "%s\t%s%s\n", indent, log_columns[i],
			   i + 1 < k ? "," : "");
	buf_printf(b, "%s);\n", indent);
}

void
migrate__pg_create_tables(struct buf *b, const struct migrate_pg_names *n)
{
	create_version_table(b, n, "");
	create_log_table(b, n, "");
}

void
migrate__pg_ensure_tables(struct buf *b,
			  const struct migrate_pg_names *n,
			  bool create_schema)
{
	struct buf body = BUF_INIT;

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

	buf_puts(&body, "\tIF to_regclass(");
	qualified_literal(&body, n, n->version_table);
	buf_puts(&body, ") IS NULL THEN\n");
	create_version_table(&body, n, "\t\t");
	buf_puts(&body, "\tEND IF;\n");

	buf_puts(&body, "\tIF to_regclass(");
	qualified_literal(&body, n, n->log_table);
	buf_puts(&body, ") IS NULL THEN\n");
	create_log_table(&body, n, "\t\t");
	buf_puts(&body, "\tEND IF;\n");
	/*
	 * A history table of the format before rows were kept per version
	 * table: its rows become this version table's (the tool that wrote
	 * them served one application in all but rare setups), the column
	 * last, as in a new table. Every statement is idempotent: another
	 * application (another version table, so another lock) may be doing
	 * the same at the same time.
	 */
	buf_puts(&body, "\tIF NOT ");
	migrate__pg_log_is_scoped(&body, n);
	buf_puts(&body, " THEN\n\t\tALTER TABLE ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body, " ADD COLUMN IF NOT EXISTS version_table text;\n"
			"\t\tUPDATE ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body, " SET ");
	migrate__pg_log_scope(&body, n);
	buf_puts(&body, " WHERE version_table IS NULL;\n\t\tALTER TABLE ");
	migrate__pg_log_table(&body, n);
	buf_puts(&body, " ALTER COLUMN version_table SET NOT NULL;\n"
			"\tEND IF;\n");
	migrate__pg_do_block(b, NULL, &body);
	buf_free(&body);
}

void
migrate__pg_read_state(struct buf *b,
		       const struct migrate_pg_names *n,
		       bool read_only,
		       bool legacy)
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
	 * is dirty), with the failed steps' rows, which the library skips
	 * (state.c). The library works it all out: a plain scan costs a fresh
	 * server backend about half a millisecond less to plan than DISTINCT
	 * ON and a UNION, and without "(success OR operation = 'dirty')"
	 * another 0.1 ms; verify runs at every service start. Failed rows are
	 * few next to the successes.
	 */
	buf_puts(b, "SELECT id, revision, direction, operation, success, "
		    "coalesce(checksum, ''), coalesce(error, '') FROM ");
	migrate__pg_log_table(b, n);
	if (!legacy) {
		buf_puts(b, " WHERE ");
		migrate__pg_log_scope(b, n);
	}
	buf_puts(b, ";\n");
}

void
migrate__pg_read_history(struct buf *b,
			 const struct migrate_pg_names *n,
			 bool read_only,
			 bool legacy)
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
	if (!legacy) {
		buf_puts(b, " WHERE ");
		migrate__pg_log_scope(b, n);
	}
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

/*
 * The version table change of a bookkeeping statement: one data-modifying
 * CTE per row change (they all see the same snapshot and touch different
 * rows), named migrate_h1, migrate_h2, ...; each RETURNs a row per row it
 * touched. @checks collects the matching SQL text that must be 'true':
 * "CASE WHEN (SELECT count(*) FROM migrate_hK) <> 1 THEN 'message' ...".
 */
struct head_changes {
	struct buf ctes;
	struct buf checks;
	unsigned int n;
};

static void
head_change_begin(struct head_changes *hc)
{
	buf_puts(&hc->ctes, hc->n ? ",\n     " : "WITH ");
	hc->n++;
	buf_printf(&hc->ctes, "migrate_h%u AS (", hc->n);
}

static void
head_change_end(struct head_changes *hc,
		const struct migrate_pg_names *n,
		const char *what,
		const char *id)
{
	struct buf msg = BUF_INIT;

	buf_puts(&hc->ctes, " RETURNING 1)");
	buf_puts(&msg, MIGRATE_PG_CONFLICT_PREFIX " ");
	migrate__pg_version_table(&msg, n);
	buf_printf(
		&msg,
		" %s %s: the database was changed by another migration or tool",
		what, id);
	buf_printf(&hc->checks,
		   " WHEN (SELECT count(*) FROM migrate_h%u) <> 1 THEN ",
		   hc->n);
	if (msg.oom)
		hc->checks.oom = true;
	else
		buf_sql_literal(&hc->checks, msg.data);
	buf_free(&msg);
}

static void
update_head(struct head_changes *hc,
	    const struct migrate_pg_names *n,
	    const char *from,
	    const char *to)
{
	head_change_begin(hc);
	buf_puts(&hc->ctes, "UPDATE ");
	migrate__pg_version_table(&hc->ctes, n);
	buf_puts(&hc->ctes, " SET version_num = ");
	buf_sql_literal(&hc->ctes, to);
	buf_puts(&hc->ctes, " WHERE version_num = ");
	buf_sql_literal(&hc->ctes, from);
	head_change_end(hc, n, "does not hold", from);
}

static void
delete_head(struct head_changes *hc,
	    const struct migrate_pg_names *n,
	    const char *id)
{
	head_change_begin(hc);
	buf_puts(&hc->ctes, "DELETE FROM ");
	migrate__pg_version_table(&hc->ctes, n);
	buf_puts(&hc->ctes, " WHERE version_num = ");
	buf_sql_literal(&hc->ctes, id);
	head_change_end(hc, n, "does not hold", id);
}

static void
insert_head(struct head_changes *hc,
	    const struct migrate_pg_names *n,
	    const char *id)
{
	head_change_begin(hc);
	buf_puts(&hc->ctes, "INSERT INTO ");
	migrate__pg_version_table(&hc->ctes, n);
	buf_puts(&hc->ctes, " (version_num) SELECT ");
	buf_sql_literal(&hc->ctes, id);
	buf_puts(&hc->ctes, " WHERE NOT EXISTS (SELECT 1 FROM ");
	migrate__pg_version_table(&hc->ctes, n);
	buf_puts(&hc->ctes, " WHERE version_num = ");
	buf_sql_literal(&hc->ctes, id);
	buf_puts(&hc->ctes, ")");
	head_change_end(hc, n, "already holds", id);
}

/* One history row's values, "(...)", with @success_sql as its success. */
static void
log_values(struct buf *b,
	   const struct migrate_pg_names *n,
	   const struct migrate_record *rec,
	   enum migrate_pg_timing timing,
	   const char *success_sql)
{
	buf_puts(b, "(");
	log_id_value(b, n);
	buf_puts(b, ", ");
	buf_sql_literal(b, rec->revision ? rec->revision : "");
	buf_puts(b, rec->direction == MIGRATE_DOWN ? ", 'down', " : ", 'up', ");
	buf_sql_literal(b, rec->operation ? rec->operation : "");
	buf_puts(b, ", ");
	buf_sql_literal(b, rec->checksum ? rec->checksum : "");
	buf_puts(b, ",\n\t");
	switch (timing) {
	case MIGRATE_PG_TIMING_MESSAGE:
		buf_puts(b, "statement_timestamp(), 1000 * extract(epoch FROM "
			    "clock_timestamp() - statement_timestamp())");
		break;
	case MIGRATE_PG_TIMING_TRANSACTION:
		buf_puts(b, "now(), 1000 * extract(epoch FROM "
			    "clock_timestamp() - now())");
		break;
	case MIGRATE_PG_TIMING_SETTING:
		buf_puts(b, "to_timestamp(current_setting('migrate.step_start')"
			    "::double precision),\n\t(extract(epoch FROM "
			    "clock_timestamp())::double precision - "
			    "current_setting('migrate.step_start')::double "
			    "precision) * 1000");
		break;
	case MIGRATE_PG_TIMING_RECORD:
	default:
		buf_puts(b, "to_timestamp(");
		fixed(b, rec->started_at, 6);
		buf_puts(b, "), ");
		fixed(b, rec->duration_ms, 3);
		break;
	}
	buf_printf(b, ",\n\t%s, ", success_sql);
	log_error_literal(b, rec->error ? rec->error : "");
	buf_puts(b, ", ");
	buf_sql_literal(b, n->version_table);
	buf_puts(b, ")");
}

void
migrate__pg_bookkeeping_rows(struct buf *b,
			     const struct migrate_pg_names *n,
			     const struct migrate_record *heads,
			     const struct migrate_record *rows,
			     size_t n_rows,
			     enum migrate_pg_timing timing)
{
	struct head_changes hc = { BUF_INIT, BUF_INIT, 0 };
	struct buf success = BUF_INIT;
	bool checked = false;
	size_t i = 0, j = 0;

	/* Alembic's shape: one removed + one added is an UPDATE (a linear
	 * step, or a merge's last parent); the rest are DELETEs and
	 * INSERTs. */
	if (heads) {
		if (heads->n_remove > 0 && heads->n_add > 0) {
			update_head(&hc, n, heads->remove_heads[0],
				    heads->add_heads[0]);
			i = j = 1;
		}
		for (; i < heads->n_remove; i++)
			delete_head(&hc, n, heads->remove_heads[i]);
		for (; j < heads->n_add; j++)
			insert_head(&hc, n, heads->add_heads[j]);
	}
	if (hc.n) {
		buf_puts(b, hc.ctes.data);
		buf_puts(b, "\n");
		/* A version table that is not what the plan expects fails
		 * the statement (and so the transaction) with the message:
		 * casting it to boolean is the one way plain SQL has to
		 * raise an error of our own text (the libpq backend turns
		 * it back into SQLSTATE 40001 and the bare message). */
		buf_puts(&success, "(CASE");
		buf_puts(&success, hc.checks.data ? hc.checks.data : "");
		buf_puts(&success, " ELSE 'true' END)::boolean");
		if (hc.checks.oom || hc.ctes.oom)
			b->oom = true;
	}
	buf_puts(b, "INSERT INTO ");
	migrate__pg_log_table(b, n);
	buf_puts(b,
		 " (id, revision, direction, operation, checksum, "
		 "started_at, duration_ms, success, error, version_table)\n");
	buf_puts(b, "VALUES ");
	for (i = 0; i < n_rows; i++) {
		const char *ok = "true";

		/* The first success row carries the check. */
		if (!rows[i].success)
			ok = "false";
		else if (hc.n && !checked) {
			ok = success.data ? success.data : "";
			checked = true;
		}
		if (i)
			buf_puts(b, ",\n");
		log_values(b, n, &rows[i], timing, ok);
	}
	buf_puts(b, ";\n");
	if (success.oom)
		b->oom = true;
	buf_free(&success);
	buf_free(&hc.ctes);
	buf_free(&hc.checks);
}

void
migrate__pg_bookkeeping(struct buf *b,
			const struct migrate_pg_names *n,
			const struct migrate_record *rec,
			enum migrate_pg_timing timing)
{
	/* A failed step's row changes no version. */
	migrate__pg_bookkeeping_rows(b, n, rec->success ? rec : NULL, rec, 1,
				     timing);
}

void
migrate__pg_step_settings(struct buf *b,
			  int lock_timeout_ms,
			  int statement_timeout_ms,
			  bool local)
{
	const char *set = local ? "SET LOCAL" : "SET";

	/* Plain SET: no PL/pgSQL to compile, nothing printed by psql. */
	if (lock_timeout_ms >= 0)
		buf_printf(b, "%s lock_timeout = '%dms';\n", set,
			   lock_timeout_ms);
	if (statement_timeout_ms >= 0)
		buf_printf(b, "%s statement_timeout = '%dms';\n", set,
			   statement_timeout_ms);
}

size_t
migrate__pg_step_settings_count(int lock_timeout_ms, int statement_timeout_ms)
{
	return (lock_timeout_ms >= 0 ? 1u : 0u) +
	       (statement_timeout_ms >= 0 ? 1u : 0u);
}

/* The step's timeouts for this transaction as one SELECT; false when
 * there is nothing to set (no statement written). */
static bool
step_settings_select(struct buf *b,
		     int lock_timeout_ms,
		     int statement_timeout_ms)
{
	const char *sep = "SELECT ";

	if (lock_timeout_ms >= 0) {
		buf_printf(b, "%sset_config('lock_timeout', '%dms', true)", sep,
			   lock_timeout_ms);
		sep = ", ";
	}
	if (statement_timeout_ms >= 0)
		buf_printf(b, "%sset_config('statement_timeout', '%dms', true)",
			   sep, statement_timeout_ms);
	if (lock_timeout_ms < 0 && statement_timeout_ms < 0)
		return false;
	buf_puts(b, ";\n");
	return true;
}

void
migrate__pg_step_start(struct buf *b)
{
	/* A DO block rather than a SELECT: psql then prints no result. */
	buf_puts(b,
		 "DO $migrate$ BEGIN PERFORM set_config('migrate.step_start', "
		 "extract(epoch FROM clock_timestamp())::text, false); END "
		 "$migrate$;\n");
}

void
migrate__pg_step(struct buf *b,
		 const struct migrate_pg_names *n,
		 const struct migrate_backend_step *step,
		 const struct migrate_pg_step_opts *o,
		 struct migrate_pg_step_layout *layout)
{
	size_t start = b->len;

	layout->n_before = 0;
	if (!step->in_transaction && !o->implicit_txn) {
		buf_puts(b, "BEGIN;\n");
		layout->n_before++;
	}
	if (o->ensure_tables && o->ensure_plain) {
		migrate__pg_create_tables(b, n);
		layout->n_before += MIGRATE_PG_CREATE_TABLES_STATEMENTS;
	} else if (o->ensure_tables) {
		migrate__pg_ensure_tables(b, n, true);
		layout->n_before++;
	}
	if (o->settings && o->settings_select) {
		if (step_settings_select(b, step->lock_timeout_ms,
					 step->statement_timeout_ms))
			layout->n_before++;
	} else if (o->settings) {
		migrate__pg_step_settings(b, step->lock_timeout_ms,
					  step->statement_timeout_ms, true);
		layout->n_before += migrate__pg_step_settings_count(
			step->lock_timeout_ms, step->statement_timeout_ms);
	}
	layout->sql_offset = b->len - start;
	buf_puts(b, step->sql);
	/* A newline ends a trailing line comment, the ';' a statement
	 * without one; the server skips an empty statement. */
	buf_puts(b, "\n;\n");
	if (o->bookkeeping)
		migrate__pg_bookkeeping(b, n, step->record, o->timing);
	layout->has_commit = !step->in_transaction && !o->implicit_txn;
	if (layout->has_commit)
		buf_puts(b, "COMMIT;\n");
}
