/* SPDX-License-Identifier: MIT */
/*
 * SQL texts of the PostgreSQL bookkeeping, shared by the libpq backend
 * (backend-pq.c) and the offline psql script (script.c), so that an online
 * run and a script write exactly the same tables and rows.
 *
 * Every builder appends to a struct buf; callers check buf.oom once at the
 * end. Identifiers are always quoted (buf_sql_ident) and literals always
 * quoted (buf_sql_literal); numbers are printed without the C locale's
 * help, so that a host application's LC_NUMERIC cannot break the SQL.
 *
 * The migration lock is a session advisory lock whose key is the first 8
 * bytes of SHA-256(UTF-8 of SCHEMA || '.' || VERSION_TABLE) read as a
 * big-endian signed 64-bit integer. The psql script has the server compute
 * it (sha256() exists since PostgreSQL 11): it may not know the schema
 * before it runs. Online, the library computes the same value itself when
 * the names are ASCII (a literal is cheaper for a fresh server session). The
 * names are the ones PostgreSQL uses: longer ones than it keeps are refused
 * (migrate__check_names), never cut, so two names that PostgreSQL would
 * make one cannot get two keys. migrate__pg_lock_key() is the only place
 * that derives the key.
 */
#ifndef LIBMIGRATE_PG_SQL_H
#define LIBMIGRATE_PG_SQL_H

#include <stdbool.h>

#include "private.h"

/*
 * Where a history row's id comes from. The id orders a version table's
 * history rows (the newest success of a revision decides, see state.c).
 * The history table this library creates has a plain "id bigint" (no
 * sequence, no key: two relations fewer to create in a first run, about
 * 5 ms of a fresh database's first commit): its writers hold the
 * migration lock of their version table, and rows are only compared with
 * rows of the same version table, so the next id is one more than the
 * largest id of the version table's rows, which every writer has just read
 * under the lock (or, in the script, reads itself). A history table of the
 * format before has "id bigserial PRIMARY KEY": its rows keep taking
 * their id from its sequence, as the writers before did.
 */
enum migrate_pg_id_source {
	MIGRATE_PG_ID_SEQUENCE, /* the column default (old format) */
	MIGRATE_PG_ID_COUNTER,  /* struct migrate_pg_log_ids.next, counted up */
	/* the session setting migrate.log_id, counted up by the statement
	 * itself (the script: see migrate__pg_log_id_start()) */
	MIGRATE_PG_ID_SETTING,
};

struct migrate_pg_log_ids {
	enum migrate_pg_id_source source;
	long long next; /* MIGRATE_PG_ID_COUNTER: the next row's id */
};

/* Where the bookkeeping lives. */
struct migrate_pg_names {
	/* NULL: unqualified names, found through search_path, and
	 * current_schema() in the lock key (the script without a schema). */
	const char *schema;
	const char *version_table;
	const char *log_table;
	/* How the bookkeeping writes history ids (counted up as rows are
	 * written). */
	struct migrate_pg_log_ids *log_ids;
};

/* The longest error message a history row keeps, in characters: the
 * history table has no TOAST table, so its rows have a bounded size. */
#define MIGRATE_PG_LOG_ERROR_MAX 300

/* Message prefix of the errors our own bookkeeping raises (SQLSTATE
 * 40001) when the version table is not what the step expects. */
#define MIGRATE_PG_CONFLICT_PREFIX "libmigrate: version table"
#define MIGRATE_PG_CONFLICT_STATE  "40001"

/* "schema"."table", or "table" without a schema. */
void migrate__pg_version_table(struct buf *b, const struct migrate_pg_names *n);
void migrate__pg_log_table(struct buf *b, const struct migrate_pg_names *n);

/*
 * History rows belong to their version table: two applications with
 * different version tables in one schema share the history table, never
 * each other's rows. The one owner of that rule: the condition
 * "version_table = '<table>'" that every read of the history applies, and
 * the value every bookkeeping INSERT writes. A history table of the format
 * before (no version_table column) is read whole (@legacy in the readers
 * below) until migrate__pg_ensure_tables() converts it.
 */
void migrate__pg_log_scope(struct buf *b, const struct migrate_pg_names *n);

/* A boolean SQL expression: the history table has the version_table
 * column (false when the table does not exist). */
void migrate__pg_log_is_scoped(struct buf *b, const struct migrate_pg_names *n);

/* A boolean SQL expression: NULL when the history table does not exist,
 * true when its id has a default (the format before: a sequence), false
 * when it is this format's plain id. */
void migrate__pg_log_id_has_default(struct buf *b,
				    const struct migrate_pg_names *n);

/* A boolean SQL expression: whether the history table exists. Unlike
 * migrate__pg_log_id_has_default() it plans no query of pg_attribute
 * (which costs a fresh server session about 1 ms). */
void migrate__pg_log_exists(struct buf *b, const struct migrate_pg_names *n);

/* A boolean SQL expression: whether the version table exists. */
void migrate__pg_version_table_exists(struct buf *b,
				      const struct migrate_pg_names *n);

/* A boolean SQL expression: whether @table exists in current_schema()
 * (false when no schema of the search_path exists), for the connect query,
 * which learns the schema in the same statement. */
void migrate__pg_exists_in_current_schema(struct buf *b, const char *table);

/* One statement (the script's, with its ';', no result row) that starts
 * MIGRATE_PG_ID_SETTING: migrate.log_id becomes the largest id of this
 * version table's history rows, or '' when the history table takes its
 * ids from a sequence. After migrate__pg_ensure_tables(). */
void migrate__pg_log_id_start(struct buf *b, const struct migrate_pg_names *n);

/* Wrap @body (PL/pgSQL statements, each line ending in '\n') and the
 * optional @declare section into "DO $tag$ ... $tag$;\n", with a dollar
 * tag that does not occur in them. */
void migrate__pg_do_block(struct buf *b,
			  const char *declare,
			  const struct buf *body);

/* A bigint SQL expression: the advisory lock key (see above), computed
 * by the server (the psql script). */
void migrate__pg_lock_key(struct buf *b, const struct migrate_pg_names *n);

/* The same key computed here, into *@out: true when the names allow it (a
 * schema is known and both names are ASCII, so that their bytes are the
 * same whatever the server's encoding), else false (use the server's
 * expression). */
bool migrate__pg_lock_key_compute(long long *out,
				  const struct migrate_pg_names *n);

/* The key as SQL: a bigint literal when migrate__pg_lock_key_compute()
 * can, else migrate__pg_lock_key()'s expression. Online. */
void migrate__pg_lock_key_value(struct buf *b,
				const struct migrate_pg_names *n);

/*
 * One DO statement (with its ';') that creates what is missing: the schema
 * (when @create_schema and n->schema), the version table with Alembic's
 * exact DDL, and the history table; and converts a history table of the
 * format before version_table (see migrate__pg_log_scope). Needs no CREATE
 * privilege when everything exists. Run under the migration lock.
 */
void migrate__pg_ensure_tables(struct buf *b,
			       const struct migrate_pg_names *n,
			       bool create_schema);

/*
 * The same tables with plain DDL (no PL/pgSQL to load and compile: about
 * 2 ms of a fresh server session): CREATE TABLE IF NOT EXISTS of each,
 * MIGRATE_PG_CREATE_TABLES_STATEMENTS statements. Only where the history
 * table is known to be missing (nothing to convert; the CREATE privilege
 * on the schema is needed anyway) and the schema to exist, under the
 * migration lock.
 */
void migrate__pg_create_tables(struct buf *b, const struct migrate_pg_names *n);
#define MIGRATE_PG_CREATE_TABLES_STATEMENTS 2

/*
 * The state query: two statements, sent as one simple query.
 *  1. SELECT version_num FROM version table
 *     (42P01/3F000: no version table: uninitialised)
 *  2. the history rows (id, revision, direction, operation, success,
 *     checksum, error), in no order (42P01: no history), for
 *     migrate_state_add_history(), which keeps successes and dirty
 *     marks.
 * With @read_only it starts with SET TRANSACTION READ ONLY (three results).
 * Only this version table's history rows, unless @legacy (a history table
 * without the version_table column: 42703 without @legacy).
 */
void migrate__pg_read_state(struct buf *b,
			    const struct migrate_pg_names *n,
			    bool read_only,
			    bool legacy);

/* The history query: revision, direction, operation, checksum,
 * started_at (ISO 8601, UTC), duration_ms, db_user, success ('t'/'f'),
 * error; oldest first; this version table's rows only, unless @legacy (as
 * in migrate__pg_read_state). With @read_only, SET TRANSACTION READ ONLY
 * first. */
void migrate__pg_read_history(struct buf *b,
			      const struct migrate_pg_names *n,
			      bool read_only,
			      bool legacy);

/* How a bookkeeping row gets its start time and duration. */
enum migrate_pg_timing {
	/* rec->started_at and rec->duration_ms */
	MIGRATE_PG_TIMING_RECORD,
	/* measured by the server from the arrival of the current query
	 * message (statement_timestamp()): a step sent as one simple query */
	MIGRATE_PG_TIMING_MESSAGE,
	/* from the start of the transaction (now()): a step that psql sends
	 * statement by statement in a transaction of its own */
	MIGRATE_PG_TIMING_TRANSACTION,
	/* from the migrate.step_start setting of migrate__pg_step_start() */
	MIGRATE_PG_TIMING_SETTING,
};

/*
 * The bookkeeping of @rec as one plain SQL statement (with its ';'), no
 * PL/pgSQL: see migrate__pg_bookkeeping_rows(); a failed step's row
 * changes no version.
 */
void migrate__pg_bookkeeping(struct buf *b,
			     const struct migrate_pg_names *n,
			     const struct migrate_record *rec,
			     enum migrate_pg_timing timing);

/*
 * One statement (with its ';'): the version table change of @heads (NULL:
 * none; one removed + one added is an UPDATE, further removals DELETE,
 * further additions INSERT), each of which must touch exactly one row,
 * else the statement fails with a message starting with
 * MIGRATE_PG_CONFLICT_PREFIX (as an invalid boolean: SQLSTATE 22P02; the
 * libpq backend reports it as MIGRATE_PG_CONFLICT_STATE with the bare
 * message); and the @n_rows history rows @rows (their own success, error,
 * revision...; their version changes are not looked at).
 */
void migrate__pg_bookkeeping_rows(struct buf *b,
				  const struct migrate_pg_names *n,
				  const struct migrate_record *heads,
				  const struct migrate_record *rows,
				  size_t n_rows,
				  enum migrate_pg_timing timing);

/*
 * Plain SET statements (each with its ';') for lock_timeout and
 * statement_timeout (0 = none; a negative value leaves the setting alone
 * and writes no statement); @local: SET LOCAL (this transaction only),
 * else for the session. migrate__pg_step_settings_count() says how many.
 */
void migrate__pg_step_settings(struct buf *b,
			       int lock_timeout_ms,
			       int statement_timeout_ms,
			       bool local);
size_t migrate__pg_step_settings_count(int lock_timeout_ms,
				       int statement_timeout_ms);

/* One statement that stores the step's start time in the session setting
 * migrate.step_start, for MIGRATE_PG_TIMING_SETTING. */
void migrate__pg_step_start(struct buf *b);

/* What migrate__pg_step() puts around the SQL. */
struct migrate_pg_step_opts {
	bool ensure_tables; /* migrate__pg_ensure_tables() first */
	bool ensure_plain;  /* ... as migrate__pg_create_tables() */
	bool settings;      /* the step's timeouts (SET LOCAL) */
	/* ... as one SELECT set_config(...), set_config(...): one statement
	 * instead of two (online; psql would print its row) */
	bool settings_select;
	/* no BEGIN/COMMIT around a step of its own: the batch is sent as one
	 * simple query, which the server runs as one (implicit) transaction
	 * (online; psql sends statement by statement) */
	bool implicit_txn;
	bool bookkeeping; /* the step's bookkeeping after the SQL */
	enum migrate_pg_timing timing; /* of the bookkeeping */
};

/* Where the parts of a step batch are. */
struct migrate_pg_step_layout {
	size_t sql_offset; /* byte offset of step->sql in the batch */
	size_t n_before;   /* statements (results) before step->sql */
	bool has_commit;   /* the batch ends with COMMIT */
};

/*
 * A whole transactional step as one text:
 *   BEGIN;                  (unless step->in_transaction or
 *                            o->implicit_txn)
 *   <ensure tables>         (o->ensure_tables; o->ensure_plain: plain
 *                            DDL)
 *   SET LOCAL ...;          (o->settings: 0-2 statements)
 *   <step->sql>
 *   ;                       (on its own line: the SQL may end in a line
 *                            comment or without ';')
 *   <bookkeeping>           (o->bookkeeping, with o->timing)
 *   COMMIT;                 (as BEGIN)
 */
void migrate__pg_step(struct buf *b,
		      const struct migrate_pg_names *n,
		      const struct migrate_backend_step *step,
		      const struct migrate_pg_step_opts *o,
		      struct migrate_pg_step_layout *layout);

#endif /* LIBMIGRATE_PG_SQL_H */
