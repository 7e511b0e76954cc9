/* SPDX-License-Identifier: MIT */
/*
 * Internal structures and helpers shared by the files of libmigrate.
 * Nothing here is API. Non-static internal functions use the migrate__
 * prefix; exported definitions carry MIGRATE_EXPORT.
 */
#ifndef LIBMIGRATE_PRIVATE_H
#define LIBMIGRATE_PRIVATE_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "util.h"

#define MIGRATE_EXPORT __attribute__((visibility("default")))

/*
 * The one check of a versioned struct's version (options, revision
 * definitions, backends) before any other field is read: 0 < version <=
 * what this library knows (libgit2's git_error__check_version). Structs
 * only grow at the end, so an older caller's struct is read up to what its
 * version has.
 */
static inline bool
migrate__version_ok(unsigned int version, unsigned int max)
{
	return version > 0 && version <= max;
}

/* Revision ids are 1-32 characters of [A-Za-z0-9_] (alembic_version's
 * version_num is varchar(32)). */
#define MIGRATE_ID_MAX 32

/* The longest name PostgreSQL keeps, in bytes (NAMEDATALEN - 1); it cuts
 * longer ones. Version table, history table and schema names longer than
 * this are refused (migrate__check_names), never cut. */
#define MIGRATE_NAME_MAX 63

struct migrate_diag;

/*
 * The one check of the bookkeeping names in @opts (version table, history
 * table, schema): 0, or MIGRATE_EINVAL with the reason in @diag.
 */
int migrate__check_names(const struct migrate_options *opts,
			 struct migrate_diag *diag);

/* Size of the fixed error buffers of handles and registries. */
#define MIGRATE_ERRMSG_SIZE 2048

/*
 * Diagnostics: the one struct every internal failure is reported into
 * (error.c owns it). The handle and the registry each own one (the two
 * public channels); a layer that has neither (planner, splitter, section
 * options, URL) reports into the one its caller hands it, often the
 * handle's or registry's own. Fixed size: reporting never allocates.
 */
struct migrate_diag {
	char msg[MIGRATE_ERRMSG_SIZE];
	char sqlstate[6]; /* "" unless the failure came from the server */
	/* enum migrate_backend_error_kind of the failure (OTHER when it did
	 * not come from a backend): what the engine branches on, never the
	 * SQLSTATE. */
	int kind;
};

/* The one fail() helper: set @d's message (NULL @d: only return), clear
 * its SQLSTATE and kind; returns @code. */
int migrate__fail(struct migrate_diag *d, int code, const char *fmt, ...)
	MIGRATE_PRINTF(3, 4);
int
migrate__vfail(struct migrate_diag *d, int code, const char *fmt, va_list ap)
	MIGRATE_PRINTF(3, 0);
/* Empty @d (NULL is a no-op). */
void migrate__diag_clear(struct migrate_diag *d);

/* One section (upgrade or downgrade) of a revision. */
struct migrate_section {
	/* NUL-terminated SQL text, or NULL. With in_file, NULL until a getter
	 * asks (read then, kept in a block of its own; set atomically):
	 * read it with migrate__section_sql(). */
	char *sql;
	/* 1-based file line of sql[0]; 0 if not from a file (a file has at
	 * most 1 GB, so 32 bits hold it: issue 8, a smaller revision). */
	uint32_t first_line;
	int lock_timeout_ms;      /* -1: the handle's default */
	int statement_timeout_ms; /* -1: the handle's default */
	bool present;             /* the section exists (sql or a C callback) */
	bool transactional;
	bool empty; /* "empty=true": no SQL on purpose (a merge revision) */
	/* The SQL stays in the revision's file (loaded by
	 * migrate_registry_load_dir(), issue 8: the registry does not hold
	 * every revision's SQL): read when a step runs or a getter asks,
	 * checked against the revision's checksum. */
	bool in_file;
};

/* The section has SQL (held, or in its file). */
static inline bool
migrate__section_has_sql(const struct migrate_section *sec)
{
	return sec->sql || sec->in_file;
}

/* The C callbacks of a revision added in memory with them (in the
 * revision's block: migrate__revision_alloc()). */
struct migrate_revision_code {
	migrate_step_fn up;
	migrate_step_fn down;
	void *payload;
};

/*
 * A revision, in one block (migrate__revision_alloc()). Counts, indexes
 * and lines are 32 bits (issue 8: 272 -> 224 -> 152 bytes a revision): a
 * registry holds fewer than 2^32 revisions (migrate__registry_add_rev()
 * refuses more), a revision fewer than 2^32 parents (checked where it is
 * made) and a file at most 1 GB. The strings follow each other in the
 * block: id, message, create date, file (migrate__revision_message() and
 * the others below find them), then the parents.
 */
struct migrate_revision {
	char *id;
	char **parents; /* n_parents ids, in the order written */
	struct migrate_section up;
	struct migrate_section down; /* down.present == false: irreversible */
	/* The directory part of the file, its '/' included: one string of
	 * the registry for every revision of a migrate_registry_load_dir()
	 * (issue 8: not copied into each), or NULL (the block holds the
	 * whole file name). */
	const char *dir;
	/* The getters' texts (struct migrate_revision_text), made when
	 * migrate_revision_checksum() or migrate_revision_file() first asks
	 * (set atomically; freed with the revision), or NULL. */
	struct migrate_revision_text *text;

	/* Graph, filled by migrate_registry_validate(): where the revision's
	 * n_parents parents and n_children children start in the registry's
	 * edges (migrate__parent(), migrate__child()). */
	uint32_t parents_at;
	uint32_t children_at;

	uint32_t n_parents;
	uint32_t index; /* insertion index */
	uint32_t topo;  /* position in the topological order */
	uint32_t n_children;

	/* File lines of the Revision ID: and Revises: headers (0 when added
	 * in memory), for messages about duplicates and unknown parents. */
	uint32_t id_line;
	uint32_t revises_line;

	unsigned char checksum[32]; /* SHA-256 (migrate__checksum_spans()) */
	bool has_checksum;          /* false: a revision written in C */
	bool has_file;              /* loaded from a file */
	bool has_code;              /* C callbacks (migrate__revision_code()) */
};

/* What migrate_revision_checksum() and migrate_revision_file() return,
 * made on their first call. */
struct migrate_revision_text {
	char checksum[65]; /* hex, or "" */
	char file[];       /* dir and name, or "" */
};

/* The one-line message ("" if none), the Create Date ("" if none) and the
 * file (NULL when added in memory; after r->dir, see
 * migrate__revision_dir()) of @r: the strings after its id. */
static inline const char *
migrate__revision_message(const struct migrate_revision *r)
{
	return r->id + strlen(r->id) + 1;
}

static inline const char *
migrate__revision_date(const struct migrate_revision *r)
{
	const char *m = migrate__revision_message(r);

	return m + strlen(m) + 1;
}

static inline const char *
migrate__revision_file(const struct migrate_revision *r)
{
	const char *d;

	if (!r->has_file)
		return NULL;
	d = migrate__revision_date(r);
	return d + strlen(d) + 1;
}

/* The directory part of @r's file ("" when the file is whole in the
 * block): a message says "%s%s", dir, file. */
static inline const char *
migrate__revision_dir(const struct migrate_revision *r)
{
	return r->dir ? r->dir : "";
}

/* @r's file, its directory and its name (malloc'ed: free()), or NULL when
 * out of memory; "" when @r has no file. */
char *migrate__revision_path(const struct migrate_revision *r);

/* The C callbacks of @r (after its parents array in its block), or NULL. */
static inline const struct migrate_revision_code *
migrate__revision_code(const struct migrate_revision *r)
{
	if (!r->has_code)
		return NULL;
	return (const struct migrate_revision_code
			*)(const void *)((const char *)(r + 1) +
					 r->n_parents * sizeof(char *));
}

/* The C callback of @r's section in @direction, or NULL. */
static inline migrate_step_fn
migrate__revision_fn(const struct migrate_revision *r, int direction)
{
	const struct migrate_revision_code *code = migrate__revision_code(r);

	if (!code)
		return NULL;
	return direction == MIGRATE_DOWN ? code->down : code->up;
}

/* @r's checksum as 64 hex digits, or "" for a revision written in C. */
void migrate__revision_hex(const struct migrate_revision *r, char out[65]);

struct migrate_registry {
	struct migrate_revision **revs; /* insertion order */
	size_t n_revs;
	size_t cap_revs;
	/* Open-addressing hash table id -> revision (size a power of 2):
	 * index in revs + 1, 0 for a free slot (4 bytes a slot: issue 8). */
	uint32_t *table;
	size_t table_size;

	bool validated; /* graph below is valid for the current revs */
	struct migrate_revision **topo; /* n_revs entries */
	/* Every revision's parents, then every revision's children, as
	 * indexes in revs (4 bytes an edge: issue 8). */
	uint32_t *edges;
	struct migrate_revision **heads;
	size_t n_heads;

	/* The directories of migrate_registry_load_dir(), each with its
	 * '/', which revisions point to (struct migrate_revision.dir). */
	struct strv dirs;

	struct migrate_diag diag; /* migrate_registry_errmsg() */
};

/* The @j-th parent and child of @r, a revision of the validated @reg. */
static inline struct migrate_revision *
migrate__parent(const struct migrate_registry *reg,
		const struct migrate_revision *r,
		size_t j)
{
	return reg->revs[reg->edges[r->parents_at + j]];
}

static inline struct migrate_revision *
migrate__child(const struct migrate_registry *reg,
	       const struct migrate_revision *r,
	       size_t j)
{
	return reg->revs[reg->edges[r->children_at + j]];
}

/* Exact lookup by full id; NULL when absent. O(1). */
struct migrate_revision *
migrate__registry_get(const struct migrate_registry *reg, const char *id);

/* Set the registry's message; returns @code. */
int migrate__registry_error(struct migrate_registry *reg,
			    int code,
			    const char *fmt,
			    ...) MIGRATE_PRINTF(3, 4);

/* Clear the registry's message. */
void migrate__registry_clear_error(struct migrate_registry *reg);

/* true when @id is 1-32 characters of [A-Za-z0-9_]. */
bool migrate__id_is_valid(const char *id, size_t len);

/* Compute rev->checksum from its SQL sections (normalised). */
void migrate__revision_checksum(struct migrate_revision *rev);

/* The same checksum from the two sections' text as spans (@up NULL: no
 * upgrade SQL; @down NULL: none for downgrade); CR LF and lone CR count as
 * line ends, as in the copied text. false (@out untouched) when there is
 * neither: a revision written in C has no text whose changes we could
 * see. */
bool migrate__checksum_spans(const char *up,
			     size_t up_len,
			     const char *down,
			     size_t down_len,
			     unsigned char out[32]);

/*
 * Add a fully built revision (registry.c owns the duplicate check and the
 * hash table; it computes the checksum unless the parser already did).
 * Takes ownership of @rev in every case:
 * on failure it is freed. Returns 0, MIGRATE_ECONFLICT (duplicate id),
 * MIGRATE_EPARSE / MIGRATE_EINVAL (a parent listed twice; EPARSE when
 * rev->file is set) or MIGRATE_ENOMEM.
 */
int migrate__registry_add_rev(struct migrate_registry *reg,
			      struct migrate_revision *rev);

/* Room for @n more revisions (the arrays and the hash table sized once
 * for a directory's files, not doubled as they come: issue 8). 0 or
 * MIGRATE_ENOMEM with the registry's message. */
int migrate__registry_reserve(struct migrate_registry *reg, size_t n);

/* Free a revision and everything it owns. NULL is a no-op. */
void migrate__revision_free(struct migrate_revision *rev);

/*
 * Parse one revision file (revision-file.c, the owner of its syntax) into
 * a new revision with its checksum, added to no registry: *out is the
 * caller's (for migrate__registry_add_rev() or migrate__revision_free()).
 * On failure *out is NULL and @diag says "FILE:LINE: cause". It touches
 * nothing but its arguments, so revision-dir.c runs it on several files
 * at once, one diag per thread. @flags: MIGRATE__PARSE_* below. @dir, when
 * not NULL, is how @filename starts (a string that outlives the revision,
 * the registry's): the revision points to it and keeps only the rest.
 */
int migrate__revision_parse(struct migrate_revision **out,
			    const char *filename,
			    const char *dir,
			    const char *buf,
			    size_t len,
			    unsigned int flags,
			    struct migrate_diag *diag);

/* The sections' SQL is checked and hashed but not kept (in_file;
 * @filename must then name the file to read it from again). */
#define MIGRATE__PARSE_SQL_IN_FILE (1u << 0)
/* The file is read again for SQL whose checksum the caller compares with
 * the one of its load, which split it already: no split (an unterminated
 * quote now is a changed checksum). */
#define MIGRATE__PARSE_RELOAD (1u << 1)

/*
 * The SQL of one section, for as long as a step or a message needs it:
 * borrowed when the revision holds it, else read from the revision's file
 * (revision-dir.c) and owned by the ref (migrate__sql_ref_drop()).
 */
struct migrate_sql_ref {
	const char *sql;                /* "" when the section has no SQL */
	struct migrate_revision *owner; /* the file parsed again, or NULL */
};

/*
 * Fill @ref with the SQL of @rev's section in @direction. A section whose
 * SQL is in its file (in_file) is read now: the file parsed again, and
 * refused unless it still has the checksum it had when it was loaded.
 * Returns 0, MIGRATE_EVERIFY (the file changed), MIGRATE_EPARSE or
 * MIGRATE_ERROR (it cannot be read or parsed any more) or MIGRATE_ENOMEM,
 * with the cause in @diag (may be NULL), naming the file.
 */
int migrate__section_sql(struct migrate_sql_ref *ref,
			 const struct migrate_revision *rev,
			 int direction,
			 struct migrate_diag *diag);

/* Let go of what migrate__section_sql() read; @ref is empty after. */
void migrate__sql_ref_drop(struct migrate_sql_ref *ref);

/* How many threads (the calling one included) migrate_registry_load_dir()
 * reads @n files with: 1 below a few dozen files, at most one per online
 * CPU and at most 8. */
size_t migrate__load_threads(size_t n);

/* migrate_registry_load_dir(), calling @tick(@tick_arg) (when not NULL)
 * from the calling thread now and then while the files load: a backend
 * advances its connection there (migrate_open_dir()). */
int migrate__registry_load_dir(struct migrate_registry *reg,
			       const char *path,
			       void (*tick)(void *),
			       void *tick_arg);

/* CPUs this process may run on (its affinity mask where the system has
 * one, else the online count); at least 1. */
size_t migrate__cpus(void);

/*
 * A revision in one allocation (issue 8: ~1 KB a revision was the struct,
 * eight small strings and their malloc overhead): the zeroed struct, its
 * parents array (@n_parents entries, rev->parents set), with @code a
 * zeroed struct migrate_revision_code (*@code set, rev->has_code), and
 * @strings bytes for every string with its NUL, which *@at points to; fill
 * them with migrate__revision_put(), in the order struct migrate_revision
 * says. migrate__revision_free() frees it whole. NULL when out of memory
 * or when the size overflows.
 */
struct migrate_revision *
migrate__revision_alloc(size_t n_parents,
			struct migrate_revision_code **code,
			size_t strings,
			char **at);

/* Copy @len bytes of @s and a NUL to *@at, advance *@at; the copy. */
char *migrate__revision_put(char **at, const char *s, size_t len);

/* Lower-case hex SHA-256 of @len bytes (FIPS 180-4); with the CPU's SHA
 * instructions where it has them. _generic: the portable code only (for
 * the tests that compare both). migrate__hex(): @n bytes as 2 @n
 * lower-case hex digits and a NUL. */
void migrate__hex(const unsigned char *bytes, size_t n, char *out);
void migrate__sha256_hex(const void *data, size_t len, char out[65]);
void migrate__sha256_hex_generic(const void *data, size_t len, char out[65]);

/* Copy at most 40 characters of @s (@len bytes) into @out for a message,
 * control characters replaced by '?', "..." appended when cut. */
void migrate__printable(char *out, size_t outlen, const char *s, size_t len);

/* Parse the options after a section marker ("transaction=false
 * lock_timeout=2s statement_timeout=500ms") into @sec. Returns 0 or
 * MIGRATE_EPARSE with the cause in @diag (no file/line prefix; NULL ok). */
int migrate__section_options(struct migrate_section *sec,
			     const char *text,
			     size_t len,
			     struct migrate_diag *diag);

/* ------------------------------------------------------------------ */
/* Plans                                                               */
/* ------------------------------------------------------------------ */

/* One step: a revision, a direction and the version-table change it makes
 * (Alembic semantics: one removed + one added = UPDATE; a new branch only
 * adds; a merge removes several and adds one; ...). 32 bytes (issue 8:
 * 48, and two pool slots a step): the ids are read with
 * migrate__step_heads(). */
struct migrate_step {
	const struct migrate_revision *rev;
	/* n_remove then n_add ids in plan->heads; NULL in the usual case,
	 * where the change is the revision's own: up removes all its parents
	 * (n_remove = n_parents) or none and adds its id, down removes its id
	 * (n_remove 1) or nothing and adds all its parents or none. */
	char **ids;
	uint32_t n_remove;
	uint32_t n_add;
	int direction;
};

/* The version-table change of @st: the ids it removes and adds (borrowed
 * from the plan or the registry). */
static inline void
migrate__step_heads(const struct migrate_step *st,
		    const char *const **remove,
		    const char *const **add)
{
	const struct migrate_revision *r = st->rev;
	const char *const *parents = (const char *const *)r->parents;
	const char *const *self = (const char *const *)&r->id;

	if (st->ids) {
		*remove = (const char *const *)st->ids;
		*add = (const char *const *)st->ids + st->n_remove;
	} else if (st->direction == MIGRATE_DOWN) {
		*remove = self;
		*add = parents;
	} else {
		*remove = parents;
		*add = self;
	}
}

/* "upgrade" or "downgrade". */
static inline const char *
migrate__direction_name(int direction)
{
	return direction == MIGRATE_DOWN ? "downgrade" : "upgrade";
}

/* The section a step runs. */
static inline const struct migrate_section *
migrate__step_section(const struct migrate_step *st)
{
	return st->direction == MIGRATE_DOWN ? &st->rev->down : &st->rev->up;
}

struct migrate_plan {
	struct migrate_registry *reg; /* borrowed */
	int direction;
	struct migrate_step *steps;
	size_t n_steps;
	char **heads;           /* the ids of the steps whose change is not
				   their revision's own (struct migrate_step;
				   borrowed from the registry) */
	struct strv from_heads; /* version table before the plan */
	struct strv to_heads;   /* version table after the plan */
	char *text;             /* lazily built by migrate_plan_text() */
};

/*
 * The planner's one entry point, and the owner of every version-table
 * transition (upgrade, downgrade, stamp, resolve): the plan that moves a
 * database whose version table holds @current (n_current ids) to @target
 * in @direction. Pure: no I/O. @flags: MIGRATE__PLAN_* below. On failure
 * returns a negative code with the cause in @diag (may be NULL, may be the
 * registry's own); *out is left NULL.
 */
int migrate__plan_move(struct migrate_plan **out,
		       struct migrate_registry *reg,
		       const char *const *current,
		       size_t n_current,
		       int direction,
		       const char *target,
		       unsigned int flags,
		       struct migrate_diag *diag);

/* The plan only moves bookkeeping (stamp, resolve): no SQL runs, so a
 * revision without downgrade does not stop a downgrade (Alembic allows it
 * too). */
#define MIGRATE__PLAN_BOOKKEEPING_ONLY (1u << 0)
/* Either way (stamp): up when @target is above the current state, down
 * when it is below; @direction is ignored. */
#define MIGRATE__PLAN_EITHER_WAY (1u << 1)
/* Exactly one step: @target's revision in @direction, whose version-table
 * change is made (resolve: the step that stopped part-way is complete). */
#define MIGRATE__PLAN_ONE_STEP (1u << 2)
/* With MIGRATE__PLAN_ONE_STEP: the step leaves the version table as it is
 * (resolve --undo: the step is declared not done). */
#define MIGRATE__PLAN_NO_MOVE (1u << 3)

/* ------------------------------------------------------------------ */
/* Database state as read by a backend                                 */
/* ------------------------------------------------------------------ */

struct migrate_applied {
	char *id;       /* one block with checksum: free(id) frees both */
	char *checksum; /* "" when not recorded */
};

/* A history row as read_state() reported it (successes and dirty marks
 * only), until migrate__state_derive() consumes it: 24 bytes and one
 * block of text (issue 8: 48 bytes and four blocks, some 2 MB for the
 * 10,000 rows of a no-op run or check at N = 10,000). */
struct migrate_state_row {
	long long seq;
	char *revision; /* then its checksum and its error, each after the
			   NUL of the one before (state.c) */
	int direction;
	bool success;
	bool dirty;
};

struct migrate_state {
	bool uninitialised; /* no version table */
	/* The backend says both bookkeeping tables exist in the current
	 * format: ensure_tables() would do nothing. Internal backends only
	 * (migrate__state_set_ready()); another backend's runs all take the
	 * lock. */
	bool ready;
	struct strv heads;               /* version table rows */
	struct migrate_applied *applied; /* from history; may be empty */
	size_t n_applied;
	size_t cap_applied;
	struct migrate_state_row *rows; /* raw, until derived */
	size_t n_rows;
	size_t cap_rows;
	/* Derived by migrate__state_derive() (state.c owns the rule). */
	bool has_history; /* the history shows at least one applied revision */
	bool dirty;
	char *dirty_revision;
	int dirty_direction;
	char *dirty_detail;
	bool oom; /* an add failed for lack of memory */
};

void migrate__state_init(struct migrate_state *st);
/* read_state() of an internal backend: see struct migrate_state.ready. */
void migrate__state_set_ready(struct migrate_state *st);
void migrate__state_clear(struct migrate_state *st);
/* Work out the applied set and the dirty mark from the rows the backend
 * reported, then drop the rows. Returns 0 or MIGRATE_ENOMEM.
 * migrate__read_state() calls it; tests that drive a backend directly
 * call it themselves. */
int migrate__state_derive(struct migrate_state *st);

/* The one text about a dirty database (state.c owns it): what to do about
 * @revision stopped part-way in @direction, and the whole one-line message
 * for the dirty mark of @st. */
void migrate__dirty_advice(char *out,
			   size_t size,
			   const char *revision,
			   int direction);
void
migrate__dirty_message(char *out, size_t size, const struct migrate_state *st);

/* ------------------------------------------------------------------ */
/* Handle                                                              */
/* ------------------------------------------------------------------ */

struct migrate {
	struct migrate_registry *reg;
	struct migrate_backend *be;
	struct migrate_backend_config cfg;
	struct migrate_options opts; /* strings below are our copies */
	char *database_url;
	char *version_table;
	char *log_table;
	char *schema;

	bool connected;
	bool poisoned; /* connection lost: every call fails */
	bool locked;
	bool in_callback; /* inside a migrate_step_fn */
	/* Set by migrate_cancel() (any thread, a signal handler). */
	volatile sig_atomic_t cancel_requested;

	struct migrate_diag diag; /* migrate_errmsg(), migrate_sqlstate() */
	struct migrate_backend_error berr;

	struct strv current; /* storage behind migrate_current() */
	/* Where the last run left the database (migrate_last_position()). */
	struct strv last_heads;
	bool have_last;
	char verify_msg[512];
	size_t verify_pending;
	/* Changed revisions found by the last verify: id, applied checksum,
	 * id, applied checksum, ... (migrate_verify_changed()). */
	struct strv verify_changed;
};

/* A cancel request is pending (see migrate_cancel()). */
static inline bool
migrate__cancelled(const struct migrate *m)
{
	return m->cancel_requested != 0;
}

/* Set the handle's error; returns @code. */
int migrate__set_error(struct migrate *m, int code, const char *fmt, ...)
	MIGRATE_PRINTF(3, 4);
void migrate__clear_error(struct migrate *m);

/*
 * The one formatter of backend errors: m->berr (filled by a failed backend
 * call that returned @code) into the handle's diagnostics as
 * "@prefix MESSAGE (SQLSTATE xxxxx)\nDETAIL: ...\nHINT: ...", SQLSTATE and
 * kind copied; poisons the handle when the connection is lost. Returns
 * @code.
 */
int migrate__backend_error(struct migrate *m, int code, const char *prefix);

/*
 * The one fail() of backends (backend-pq.c, backend-memory.c): set
 * @err->message from @fmt as one line, passwords redacted, and the
 * SQLSTATE unless @sqlstate is NULL ("" clears it). Returns @code.
 */
int migrate__backend_fail(struct migrate_backend_error *err,
			  int code,
			  const char *sqlstate,
			  const char *fmt,
			  ...) MIGRATE_PRINTF(4, 5);

/* migrate__backend_error() with the prefix "@context: " (e.g. "cannot
 * connect"). */
int migrate__backend_failed(struct migrate *m, int code, const char *context);

/* Read the database state through the backend (clears @st first). */
int migrate__read_state(struct migrate *m, struct migrate_state *st);

/* 0 when @m has a live connection, else MIGRATE_EBACKEND with the reason
 * (connection lost, or the connect failure of migrate_open()). */
int migrate__check_usable(struct migrate *m);

/* ------------------------------------------------------------------ */
/* SQL text helpers (sql-split.c, pg-sql.c, url.c)                     */
/* ------------------------------------------------------------------ */

/* One statement found by migrate__sql_split(). */
struct migrate_sql_stmt {
	size_t offset; /* byte offset in the text */
	size_t len;    /* bytes, without the terminating ';' */
	size_t line;   /* 1-based line of the first byte */
	size_t column; /* 1-based column (in characters) of the first byte */
};

/*
 * Split PostgreSQL SQL text into statements, understanding quotes, E''
 * strings, quoted identifiers, dollar quoting, nested block comments, line
 * comments and BEGIN ATOMIC ... END bodies. Statements that hold only white
 * space and comments are dropped. *out is malloc'ed (free()); with @out
 * NULL the text is only checked (the load of a revision file) and *n_out,
 * if @n_out is not NULL, counts the statements, none recorded.
 * Returns 0, MIGRATE_EPARSE (unterminated quote/comment; cause in @diag
 * with the line; @diag may be NULL) or MIGRATE_ENOMEM.
 */
int migrate__sql_split(const char *sql,
		       size_t len,
		       struct migrate_sql_stmt **out,
		       size_t *n_out,
		       struct migrate_diag *diag);

/*
 * Turn a URL (postgresql://, postgres://, postgresql+DRIVER://) or a libpq
 * conninfo string into something PQconnectdb accepts. Returns 0,
 * MIGRATE_EINVAL (cause in @err, without any password) or MIGRATE_ENOMEM.
 * *out is malloc'ed.
 */
int
migrate__url_to_conninfo(const char *url, char **out, char *err, size_t errlen);

/* Copy @in to @out (size @outlen) with any password replaced by "***",
 * whether @in is a URL, a conninfo string or free text containing one. */
void migrate__redact(const char *in, char *out, size_t outlen);

/*
 * migrate_backend_pq_new() with the reason of a MIGRATE_EINVAL (malformed
 * URL, unknown conninfo keyword; never the password) in @err, for
 * migrate_open()'s message. *out is NULL on failure.
 */
int migrate__backend_pq_new(struct migrate_backend **out,
			    const char *url,
			    struct migrate_diag *diag);

#endif /* LIBMIGRATE_PRIVATE_H */
