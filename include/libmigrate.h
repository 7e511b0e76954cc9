/* SPDX-License-Identifier: MIT */
/*
 * libmigrate: versioned PostgreSQL schema migrations, embeddable in C.
 *
 * Everything declared in this file is the public API; anything missing from
 * it is not. Conventions, as in libgit2 and SQLite:
 *
 *  - Every fallible function returns 0 on success or a negative
 *    enum migrate_error value. Getters return their value directly.
 *  - An out-parameter `T **out` comes first and is owned by the caller, who
 *    releases it with the matching *_free() (migrate_close() for a handle).
 *  - A pointer returned as a function result is borrowed; its documentation
 *    says how long it lives.
 *  - Every destructor accepts NULL.
 *  - A struct migrate may be used by one thread at a time. Different handles
 *    may be used from different threads concurrently: the library has no
 *    global mutable state and needs no global initialisation.
 */
#ifndef LIBMIGRATE_H
#define LIBMIGRATE_H

#include <stddef.h>

#include <libmigrate-version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MIGRATE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MIGRATE_PRINTF(a, b)
#endif

/** A migration context bound to one database connection. */
struct migrate;
/** A set of revisions: loaded from files, from memory, or added in C. */
struct migrate_registry;
/** One revision of a registry. Owned by its registry. */
struct migrate_revision;
/** The ordered steps that take a database from its state to a target. */
struct migrate_plan;
/** A storage backend (libpq, in-memory fake, or your own). */
struct migrate_backend;

/**
 * Return codes. Append-only: values are never renumbered or reused.
 */
enum migrate_error {
	MIGRATE_OK = 0,
	/** Unexpected failure; see the handle's error message. */
	MIGRATE_ERROR = -1,
	/** Memory allocation failed. */
	MIGRATE_ENOMEM = -2,
	/** Invalid argument or API misuse (e.g. a malformed target). */
	MIGRATE_EINVAL = -3,
	/** No revision with the given id or prefix. */
	MIGRATE_ENOTFOUND = -4,
	/** Registry is inconsistent: duplicate id, unknown parent, cycle. */
	MIGRATE_ECONFLICT = -5,
	/** An applied revision's content differs from the one known here. */
	MIGRATE_EVERIFY = -6,
	/** A downgrade would pass through a revision without downgrade. */
	MIGRATE_EIRREVERSIBLE = -7,
	/** Another migrator holds the migration lock. */
	MIGRATE_ELOCKED = -8,
	/** SQL failure or connection failure; see errmsg and sqlstate. */
	MIGRATE_EBACKEND = -9,
	/** A revision file is malformed; the message names file and line. */
	MIGRATE_EPARSE = -10,
	/** The handle was opened read-only and the call would write. */
	MIGRATE_EREADONLY = -11,
	/** An id prefix or `head` matches several revisions. */
	MIGRATE_EAMBIGUOUS = -12,
	/** An earlier non-transactional revision failed part-way; the
	 * database needs an operator (see migrate_resolve()). */
	MIGRATE_EDIRTY = -13,
	/** The database is at a revision this registry does not know. */
	MIGRATE_EUNKNOWN = -14,
	/** The operation was stopped by migrate_cancel() (or a signal the
	 * application turned into one); the message says where the
	 * database now is. */
	MIGRATE_ECANCELED = -15,
};

/** Direction of a plan step. */
enum migrate_direction {
	MIGRATE_UP = 1,
	MIGRATE_DOWN = 2,
};

/**
 * Static English text for a return code (never NULL, never freed).
 */
const char *migrate_strerror(int code);

/** Library version as MAJOR*10000 + MINOR*100 + MICRO. */
int migrate_version_number(void);

/** Library version as a string such as "0.1.0" (static). */
const char *migrate_version_string(void);

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

/**
 * Run a revision in C (data migrations). Called inside the step's
 * transaction (unless the revision is non-transactional); use migrate_exec()
 * or migrate_native_connection() to talk to the database.
 *
 * @return 0 to go on, or any negative value to fail the step (the
 *         transaction is rolled back). Set a message with migrate_set_error().
 */
typedef int (*migrate_step_fn)(struct migrate *m, void *payload);

/** Revision flags for struct migrate_revision_def. */
enum migrate_revision_flags {
	/** Run the upgrade section outside a transaction, statement by
	 * statement (CREATE INDEX CONCURRENTLY and friends). */
	MIGRATE_REV_UP_NO_TRANSACTION = 1u << 0,
	/** Same, for the downgrade section. */
	MIGRATE_REV_DOWN_NO_TRANSACTION = 1u << 1,
};

#define MIGRATE_REVISION_DEF_VERSION 1

/**
 * Description of a revision added with migrate_registry_add(). All strings
 * are copied; none needs to outlive the call.
 *
 * Timeouts are in milliseconds; -1 means "use the handle's setting",
 * 0 means "no timeout".
 */
struct migrate_revision_def {
	unsigned int version; /**< MIGRATE_REVISION_DEF_VERSION */
	const char *id;       /**< 1-32 characters of [A-Za-z0-9_]. */
	/** Parent ids; NULL/0 for a root, several for a merge. */
	const char *const *parents;
	size_t n_parents;
	const char *message;       /**< One-line description, may be NULL. */
	const char *upgrade_sql;   /**< Required unless upgrade_fn is set. */
	const char *downgrade_sql; /**< NULL (and no downgrade_fn) means the
				       revision is irreversible. */
	unsigned int flags;        /**< enum migrate_revision_flags */
	int up_lock_timeout_ms;
	int up_statement_timeout_ms;
	int down_lock_timeout_ms;
	int down_statement_timeout_ms;
	migrate_step_fn upgrade_fn;   /**< Instead of upgrade_sql. */
	migrate_step_fn downgrade_fn; /**< Instead of downgrade_sql. */
	void *payload;                /**< Passed to the two callbacks. */
};

#define MIGRATE_REVISION_DEF_INIT                                              \
	{                                                                      \
		MIGRATE_REVISION_DEF_VERSION, NULL, NULL, 0, NULL, NULL, NULL, \
			0, -1, -1, -1, -1, NULL, NULL, NULL                    \
	}

/**
 * Create an empty registry.
 *
 * @param[out] out The registry; free with migrate_registry_free().
 * @return 0 or MIGRATE_ENOMEM.
 */
int migrate_registry_new(struct migrate_registry **out);

/** Free a registry and all its revisions. NULL is a no-op. */
void migrate_registry_free(struct migrate_registry *reg);

/**
 * Message describing the last failed call on @p reg: never NULL, "" when
 * the last call succeeded. Valid until the next call on @p reg. Errors that
 * come from a revision file start with "FILE:LINE: ".
 */
const char *migrate_registry_errmsg(const struct migrate_registry *reg);

/**
 * Add a revision described in memory (SQL text or C callbacks).
 *
 * @return 0, MIGRATE_EINVAL (bad id, no upgrade), MIGRATE_ECONFLICT
 *         (duplicate id) or MIGRATE_ENOMEM.
 */
int migrate_registry_add(struct migrate_registry *reg,
			 const struct migrate_revision_def *def);

/**
 * Parse one revision file held in memory and add it.
 *
 * @param filename Name used in error messages and reported by
 *                 migrate_revision_file(); copied.
 * @param buf      File content (UTF-8, optional BOM, LF or CRLF). Need not
 *                 be NUL-terminated; a NUL byte inside is an error.
 * @param len      Length of @p buf in bytes.
 * @return 0, MIGRATE_EPARSE, MIGRATE_ECONFLICT (duplicate id) or
 *         MIGRATE_ENOMEM.
 */
int migrate_registry_parse(struct migrate_registry *reg,
			   const char *filename,
			   const char *buf,
			   size_t len);

/**
 * Load every regular `*.sql` file of directory @p path (not recursive, in
 * name order) with migrate_registry_parse().
 *
 * @note From a few dozen files on, the files are read and parsed on up to
 *       8 threads of the library's own (no more than the CPUs the process
 *       may run on), with every signal blocked, joined before the call
 *       returns; the registry takes the revisions in name order on the
 *       calling thread, so the result and the error (the first bad file in
 *       name order) are those of reading one file after the other.
 * @return 0, MIGRATE_EPARSE, MIGRATE_ECONFLICT, MIGRATE_ENOTFOUND (no such
 *         directory), MIGRATE_ERROR (I/O) or MIGRATE_ENOMEM.
 */
int migrate_registry_load_dir(struct migrate_registry *reg, const char *path);

/**
 * Check the graph: every parent exists, there is no cycle, there is at least
 * one revision. Computes the topological order and the heads. Functions
 * below that need the graph validate implicitly; call this to get the error
 * early. Linear in the number of revisions; never recursive.
 *
 * @return 0, MIGRATE_ECONFLICT (unknown parent, cycle), MIGRATE_EINVAL
 *         (empty registry) or MIGRATE_ENOMEM.
 */
int migrate_registry_validate(struct migrate_registry *reg);

/** Number of revisions in @p reg. */
size_t migrate_registry_count(const struct migrate_registry *reg);

/**
 * The @p i-th revision in topological order (parents before children;
 * ties in insertion order), or NULL when @p i is out of range or the
 * registry does not validate. Borrowed: valid until the registry is freed.
 */
const struct migrate_revision *migrate_registry_at(struct migrate_registry *reg,
						   size_t i);

/** Number of heads (revisions that are nobody's parent); 0 if invalid. */
size_t migrate_registry_head_count(struct migrate_registry *reg);

/** The @p i-th head (in topological order) or NULL. Borrowed. */
const struct migrate_revision *
migrate_registry_head(struct migrate_registry *reg, size_t i);

/**
 * Find a revision by full id or by unique prefix.
 *
 * @param[out] out Borrowed revision, valid until the registry is freed.
 * @return 0, MIGRATE_ENOTFOUND, or MIGRATE_EAMBIGUOUS (the message lists the
 *         candidates).
 */
int migrate_registry_find(const struct migrate_revision **out,
			  struct migrate_registry *reg,
			  const char *id_or_prefix);

/**
 * The revision whose id is exactly @p id (no prefixes, no "head"), or NULL.
 * A getter: O(1), never fails, never touches the registry's message.
 * Borrowed, valid until the registry is freed.
 */
const struct migrate_revision *
migrate_registry_get(const struct migrate_registry *reg, const char *id);

/* Revision getters. Strings are borrowed from the registry. */

/** The revision id. */
const char *migrate_revision_id(const struct migrate_revision *rev);
/** The one-line message, or "" when there is none. */
const char *migrate_revision_message(const struct migrate_revision *rev);
/** The Create Date header, or "" when there is none. */
const char *migrate_revision_create_date(const struct migrate_revision *rev);
/** File the revision came from, or NULL when it was added in memory. */
const char *migrate_revision_file(const struct migrate_revision *rev);
/** Number of parents (0 for a root, 2+ for a merge). */
size_t migrate_revision_parent_count(const struct migrate_revision *rev);
/** The @p i-th parent id, or NULL. */
const char *migrate_revision_parent(const struct migrate_revision *rev,
				    size_t i);
/**
 * Upgrade SQL, or NULL for a C-callback revision.
 *
 * @note The registry of migrate_registry_load_dir() keeps no file's SQL:
 *       the first call for a section reads it from the revision's file,
 *       which must still have the checksum it had when it was loaded, and
 *       the text is kept from then on (until the registry is freed). NULL
 *       too when the file can no longer be read or changed since it was
 *       loaded; migrate_registry_read_sql() says why, and keeps nothing.
 *       Safe to call from several threads at once.
 */
const char *migrate_revision_upgrade_sql(const struct migrate_revision *rev);
/** Downgrade SQL, or NULL; read from the file as migrate_revision_upgrade_sql()
 * says. */
const char *migrate_revision_downgrade_sql(const struct migrate_revision *rev);
/**
 * A copy of the SQL of one section of @p rev, a revision of @p reg, for a
 * tool that goes over many revisions once (a linter): nothing is kept in
 * the registry. For a revision of migrate_registry_load_dir() the text is
 * read from its file now, and only if the file still has the checksum it
 * had when it was loaded.
 *
 * @param[out] out  NUL-terminated text, the caller's (migrate_free()); NULL
 *                  when the section has no SQL (a C callback, no downgrade).
 * @param direction MIGRATE_UP or MIGRATE_DOWN.
 * @return 0, MIGRATE_EINVAL, MIGRATE_EVERIFY (the file changed since it was
 *         loaded), MIGRATE_ERROR (it cannot be read), MIGRATE_EPARSE (it no
 *         longer parses) or MIGRATE_ENOMEM; the registry's message names the
 *         file.
 */
int migrate_registry_read_sql(char **out,
			      struct migrate_registry *reg,
			      const struct migrate_revision *rev,
			      int direction);
/** 1 if the revision can be downgraded, else 0. */
int migrate_revision_is_reversible(const struct migrate_revision *rev);
/**
 * File line of the first SQL byte of a section, for tools that report
 * positions in revision files (e.g. a linter).
 *
 * @param direction MIGRATE_UP or MIGRATE_DOWN.
 * @return The 1-based line, or 0 when the section has no SQL or the
 *         revision was not loaded from a file.
 */
size_t migrate_revision_sql_line(const struct migrate_revision *rev,
				 int direction);
/**
 * Whether a section runs inside a transaction.
 *
 * @param direction MIGRATE_UP or MIGRATE_DOWN.
 * @return 0 for a `transaction=false` section, else 1 (also for a missing
 *         section or a NULL @p rev).
 */
int migrate_revision_is_transactional(const struct migrate_revision *rev,
				      int direction);
/**
 * Lower-case hex SHA-256 (64 characters) of the revision's SQL sections,
 * with line endings and trailing white space normalised; "" for a C-callback
 * revision.
 */
const char *migrate_revision_checksum(const struct migrate_revision *rev);

/* ------------------------------------------------------------------ */
/* Database handle                                                     */
/* ------------------------------------------------------------------ */

/** Flags for struct migrate_options. */
enum migrate_open_flags {
	/** Only verify/current/plan: upgrade, downgrade, stamp and resolve
	 * fail with MIGRATE_EREADONLY, and reads run read-only. */
	MIGRATE_OPEN_READONLY = 1u << 0,
	/** Run a whole upgrade/downgrade plan in one transaction instead of
	 * one transaction per revision. */
	MIGRATE_OPEN_SINGLE_TRANSACTION = 1u << 1,
};

/** Phase reported to the progress callback. */
enum migrate_progress_phase {
	MIGRATE_PROGRESS_START = 1,
	MIGRATE_PROGRESS_DONE = 2,
	MIGRATE_PROGRESS_FAILED = 3,
	/** A lock timeout made the step roll back; it will be retried. */
	MIGRATE_PROGRESS_RETRY = 4,
};

/**
 * Progress callback: called before and after every step.
 *
 * @param revision   The revision id (borrowed for the call only).
 * @param direction  MIGRATE_UP or MIGRATE_DOWN.
 * @param phase      enum migrate_progress_phase.
 * @param elapsed_ms Time spent on the step so far (0 at START).
 */
typedef void (*migrate_progress_fn)(const char *revision,
				    int direction,
				    int phase,
				    double elapsed_ms,
				    void *payload);

/**
 * Plan check: called by migrate_upgrade(), migrate_downgrade() and
 * migrate_apply() under the migration lock with the plan about to run
 * (never an empty one), before anything changes.
 *
 * @return 0 to run the plan, or a negative enum migrate_error, which the
 *         call returns without running a step (the lock released, the
 *         message the one set with migrate_set_error(), if any).
 */
typedef int (*migrate_plan_check_fn)(struct migrate *m,
				     const struct migrate_plan *plan,
				     void *payload);

/**
 * Plan preview: called by migrate_upgrade(), migrate_downgrade() and
 * migrate_apply() before the migration lock is taken, with the plan the
 * state read without the lock leads to (never an empty one), so that a
 * slow plan check can start on it while the lock is taken (e.g. a parse in
 * another process). The plan check is still called under the lock with the
 * plan that runs, which may differ (another migrator ran meanwhile), or
 * not at all (the run stops before it).
 *
 * @param plan Borrowed for the call only.
 */
typedef void (*migrate_plan_preview_fn)(struct migrate *m,
					const struct migrate_plan *plan,
					void *payload);

#define MIGRATE_OPTIONS_VERSION 4

/**
 * Options for migrate_open(). Initialise with MIGRATE_OPTIONS_INIT or
 * migrate_options_init(); fields are only ever added at the end. Strings
 * are copied by migrate_open().
 */
struct migrate_options {
	unsigned int version; /**< MIGRATE_OPTIONS_VERSION */
	/** URL (postgresql://, postgres://, postgresql+driver://) or libpq
	 * conninfo; NULL/"" means libpq's PG* environment defaults. Used only
	 * when no backend is passed to migrate_open(). */
	const char *database_url;
	/** Version table; NULL means "alembic_version". This name, log_table
	 * and schema are at most 63 bytes (PostgreSQL's NAMEDATALEN - 1, in
	 * bytes of UTF-8): a longer one makes migrate_open() and
	 * migrate_plan_sql() fail with MIGRATE_EINVAL, as PostgreSQL would cut
	 * it. */
	const char *version_table;
	/** History table; NULL means "migrate_log". */
	const char *log_table;
	/** Schema of both tables; NULL means the connection's default
	 * (first schema of search_path, normally "public"). */
	const char *schema;
	unsigned int flags; /**< enum migrate_open_flags */
	/** How long to wait for the migration lock; default 60000. */
	int lock_wait_ms;
	/** lock_timeout for each step; default 5000, 0 = none. */
	int lock_timeout_ms;
	/** statement_timeout for each step; default 0 = none. */
	int statement_timeout_ms;
	/** Retries of a step that hit lock_timeout; default 3. */
	int lock_retries;
	migrate_progress_fn progress;
	void *progress_payload;

	/* Version 2. */

	/** How long to wait for the server's answer to one round trip that
	 * is not revision SQL (reading the state, verify, the lock, the
	 * bookkeeping), and to connect unless the URL sets
	 * connect_timeout. Past it the connection is closed and the call
	 * fails (a service gets MIGRATE_STATUS_CANNOT_CONNECT). 0 means
	 * the default: 5000 for read-only handles (services' verify), 30000
	 * otherwise. Revision SQL is bounded by its statement_timeout
	 * instead (plus this much); without one, by the server alone. A
	 * writer's server session is ended by the server when the client
	 * stays silent longer than this (idle_session_timeout), so that a
	 * vanished migrator's lock is released: a revision callback must
	 * not pause longer than this between its statements. */
	int io_timeout_ms;

	/* Version 3. */

	/** Checks the plan under the lock before it runs (e.g. a parse of
	 * its SQL), so that the check sees the plan that really runs and
	 * costs no round trip of its own; NULL: none. */
	migrate_plan_check_fn plan_check;
	void *plan_check_payload;

	/* Version 4. */

	/** Sees the plan before the lock is taken (see
	 * migrate_plan_preview_fn), with plan_check_payload; NULL: none. */
	migrate_plan_preview_fn plan_preview;
};

#define MIGRATE_OPTIONS_INIT                                                   \
	{                                                                      \
		MIGRATE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 60000,     \
			5000, 0, 3, NULL, NULL, 0, NULL, NULL, NULL            \
	}

/**
 * Initialise @p opts to the defaults (same as MIGRATE_OPTIONS_INIT).
 *
 * @return 0, or MIGRATE_EINVAL if @p version is not one this library knows.
 */
int migrate_options_init(struct migrate_options *opts, unsigned int version);

/**
 * Create a libpq backend. Only stores the connection string: the
 * connection is made by migrate_open().
 *
 * @param url URL or conninfo as in struct migrate_options, copied.
 * @return 0, MIGRATE_EINVAL (malformed URL) or MIGRATE_ENOMEM.
 */
int migrate_backend_pq_new(struct migrate_backend **out, const char *url);

/**
 * Create an in-memory backend: a fake database for tests that keeps the
 * version table and history in memory, honours transactions and records
 * every SQL text. Fault injection is in libmigrate-backend.h.
 *
 * @return 0 or MIGRATE_ENOMEM.
 */
int migrate_backend_memory_new(struct migrate_backend **out);

/** Free a backend that was never passed to migrate_open(). NULL ok. */
void migrate_backend_free(struct migrate_backend *be);

/**
 * Open a migration context and connect.
 *
 * Takes ownership of @p registry and @p backend, also on failure.
 *
 * @param[out] out Set to the new handle. On any failure except
 *                 MIGRATE_ENOMEM it is a handle whose migrate_errmsg()
 *                 explains the failure (and on which migrate_verify()
 *                 reports MIGRATE_STATUS_CANNOT_CONNECT); release it with
 *                 migrate_close() in every case.
 * @param registry Known revisions (validated here).
 * @param backend  NULL for libpq on opts->database_url.
 * @param opts     NULL for defaults.
 * @return 0, MIGRATE_EBACKEND (cannot connect), MIGRATE_ECONFLICT /
 *         MIGRATE_EINVAL (registry invalid), MIGRATE_ENOMEM.
 */
int migrate_open(struct migrate **out,
		 struct migrate_registry *registry,
		 struct migrate_backend *backend,
		 const struct migrate_options *opts);

/**
 * migrate_open() on the revision files of the directory @p dir (as
 * migrate_registry_load_dir() reads them), loaded while the connection is
 * being made: with a backend that can connect in two halves (libpq can),
 * the server starts the session while the files are read.
 *
 * The directory's errors come first: when a file or the graph is bad, or
 * the directory cannot be read, that is the error (whatever the options,
 * the backend or the server), a connection already begun is dropped
 * without waiting, and migrate_registry_errmsg() of migrate_registry() on
 * the handle is the message (it is "" for every other failure).
 *
 * Takes ownership of @p backend, also on failure.
 *
 * @param[out] out As for migrate_open().
 * @param dir      Directory of revision files (not kept).
 * @param backend  NULL for libpq on opts->database_url.
 * @param opts     NULL for defaults.
 * @return 0, MIGRATE_EPARSE / MIGRATE_ECONFLICT / MIGRATE_ENOTFOUND /
 *         MIGRATE_ERROR / MIGRATE_EINVAL (the directory, as
 *         migrate_registry_load_dir() and migrate_registry_validate()
 *         return them), MIGRATE_EBACKEND (cannot connect), MIGRATE_EINVAL
 *         (options), MIGRATE_ENOMEM.
 */
int migrate_open_dir(struct migrate **out,
		     const char *dir,
		     struct migrate_backend *backend,
		     const struct migrate_options *opts);

/** Disconnect and free everything @p m owns. NULL is a no-op. */
void migrate_close(struct migrate *m);

/**
 * Message describing the last failed call on @p m: never NULL, "" when it
 * succeeded, a static "out of memory" when @p m is NULL. May hold further
 * lines (DETAIL:, HINT:) after the first. Valid until the next call on @p m.
 */
const char *migrate_errmsg(const struct migrate *m);

/**
 * Ask the operation running on @p m to stop, as soon as it can: a
 * statement running on the server is cancelled (as PQcancel() does), a
 * transactional step rolls back, the migration lock is released, and the
 * operation returns MIGRATE_ECANCELED with a message naming the
 * interrupted revision and where the database now is. A non-transactional
 * section stopped part-way leaves the database dirty (see
 * migrate_resolve()). A request made while no operation runs stops the
 * next one before it changes anything; the request is used up when an
 * operation returns MIGRATE_ECANCELED.
 *
 * Unlike every other function, this one may be called from another
 * thread or from a signal handler while @p m is in use: it is
 * async-signal-safe (it allocates nothing and only sends the cancel
 * request prepared at connect time). It must not race migrate_close().
 *
 * @param m The handle; NULL is accepted (does nothing).
 * @return 0, or MIGRATE_EINVAL when @p m is NULL.
 */
int migrate_cancel(struct migrate *m);

/** SQLSTATE of the last failure, or NULL when it did not come from SQL. */
const char *migrate_sqlstate(const struct migrate *m);

/**
 * Set the handle's error message (for migrate_step_fn callbacks).
 * @return @p code, so that `return migrate_set_error(m, -1, "...")` works.
 */
int migrate_set_error(struct migrate *m, int code, const char *fmt, ...)
	MIGRATE_PRINTF(3, 4);

/** The registry the handle was opened with. Borrowed. */
struct migrate_registry *migrate_registry(struct migrate *m);

/**
 * Revisions the database is at: none (base), one, or one per branch head.
 * Reads only; creates nothing.
 *
 * @param[out] out   Borrowed array of ids, valid until the next call on @p m.
 * @param[out] count Number of ids (0 = base).
 * @return 0 or MIGRATE_EBACKEND.
 */
int migrate_current(const char *const **out, size_t *count, struct migrate *m);

/**
 * Where the last migrate_upgrade(), migrate_downgrade(), migrate_apply(),
 * migrate_stamp(), migrate_stamp_purge() or migrate_resolve() on @p m left
 * the database, as the engine knew it under the migration lock at the end
 * of that call (or, for a call that found nothing to do and so took no
 * lock, as it read it). Sends nothing to the server.
 *
 * @param[out] out   Borrowed array of ids, valid until the next call on @p m.
 * @param[out] count Number of ids (0 = base).
 * @return 0, or MIGRATE_ENOTFOUND when no such call succeeded on @p m yet or
 *         the last one failed (migrate_current() reads the database).
 */
int migrate_last_position(const char *const **out,
			  size_t *count,
			  struct migrate *m);

/**
 * Plan the steps that take the database to @p target.
 *
 * Targets: "head", "heads", "base", a full id, a unique id prefix, "+N" /
 * "-N" relative to the current revision, "ID+N" / "ID-N". Upgrading to a
 * merge applies every branch first; downgrading below a branch point
 * leaves other branches' heads in place (Alembic semantics).
 *
 * @param[out] out Plan; free with migrate_plan_free(). May hold no step.
 * @param direction MIGRATE_UP or MIGRATE_DOWN.
 * @return 0, MIGRATE_EINVAL (bad target or wrong direction),
 *         MIGRATE_ENOTFOUND, MIGRATE_EAMBIGUOUS, MIGRATE_EIRREVERSIBLE,
 *         MIGRATE_EUNKNOWN (database at an unknown revision),
 *         MIGRATE_EBACKEND, MIGRATE_ENOMEM.
 */
int migrate_plan(struct migrate_plan **out,
		 struct migrate *m,
		 int direction,
		 const char *target);

/** Free a plan. NULL is a no-op. */
void migrate_plan_free(struct migrate_plan *plan);

/** Number of steps in @p plan. */
size_t migrate_plan_count(const struct migrate_plan *plan);

/**
 * The @p i-th step: its revision (borrowed from the registry) or NULL when
 * @p i is out of range; @p direction receives MIGRATE_UP or MIGRATE_DOWN
 * (may be NULL).
 */
const struct migrate_revision *
migrate_plan_step(const struct migrate_plan *plan, size_t i, int *direction);

/**
 * The plan as text, one line per step ("upgrade 001 -> 002, add foo"),
 * or "nothing to do\n". Borrowed: valid until the plan is freed.
 */
const char *migrate_plan_text(struct migrate_plan *plan);

/**
 * Upgrade to @p target (NULL = "head"). Takes the migration lock, runs each
 * step in its own transaction (or all in one: MIGRATE_OPEN_SINGLE_TRANSACTION)
 * together with its bookkeeping. A run with nothing to do (no step, the
 * database not dirty, the bookkeeping tables there, as read without the
 * lock) returns 0 without taking the lock. On failure the database is at the
 * last completed step, and the message names the revision, the statement
 * (FILE:LINE:COL) and what the server said.
 *
 * @return 0, MIGRATE_EREADONLY, MIGRATE_ELOCKED, MIGRATE_EDIRTY,
 *         MIGRATE_EBACKEND, any error of migrate_plan(), or one of
 *         migrate_registry_read_sql() when a step's revision file changed
 *         since it was loaded (MIGRATE_EVERIFY) or cannot be read: that
 *         step does not run, the steps before it stay done.
 */
int migrate_upgrade(struct migrate *m, const char *target);

/** Downgrade to @p target (required: e.g. "-1", "base", an id). As
 * migrate_upgrade(), plus MIGRATE_EIRREVERSIBLE. */
int migrate_downgrade(struct migrate *m, const char *target);

/** Run a plan made by migrate_plan() on this handle (re-checked against the
 * database under the lock; MIGRATE_ECONFLICT if the database moved). */
int migrate_apply(struct migrate *m, const struct migrate_plan *plan);

/**
 * Set the version table to @p target without running any SQL ("heads",
 * "base", an id...). Records a history row per step, marked as stamp.
 */
int migrate_stamp(struct migrate *m, const char *target);

/**
 * As migrate_stamp(), but first empty the version table, whatever it holds
 * (ids this build does not know too), then stamp from base to @p target
 * (Alembic's `stamp --purge`). One transaction; every removed row and every
 * step gets a history row, marked as stamp.
 *
 * @return 0, MIGRATE_EINVAL, MIGRATE_ENOTFOUND, MIGRATE_EAMBIGUOUS,
 *         MIGRATE_EREADONLY, MIGRATE_ELOCKED, MIGRATE_EDIRTY,
 *         MIGRATE_ECONFLICT (the database moved), MIGRATE_EBACKEND.
 */
int migrate_stamp_purge(struct migrate *m, const char *target);

/**
 * Clear the dirty mark left by a failed non-transactional revision.
 * @param undo 0: the revision is now complete (mark applied);
 *             1: it is not applied (mark not applied).
 * @return 0, MIGRATE_EINVAL (not dirty, or another revision is),
 *         MIGRATE_EREADONLY, MIGRATE_ELOCKED, MIGRATE_EBACKEND.
 */
int migrate_resolve(struct migrate *m, const char *revision, int undo);

/**
 * Run SQL on the handle's connection (for migrate_step_fn callbacks).
 * @return 0 or MIGRATE_EBACKEND.
 */
int migrate_exec(struct migrate *m, const char *sql);

/**
 * The backend's native connection (a PGconn * for libpq) or NULL. Borrowed;
 * do not close it.
 */
void *migrate_native_connection(struct migrate *m);

/**
 * Plan without a database ("offline" mode, for migrate_plan_sql()).
 *
 * @param from Comma-separated ids the database is assumed to be at, or
 *             NULL / "" / "base" for an empty database.
 * Other parameters and return values as migrate_plan(); relative targets
 * are relative to @p from.
 */
int migrate_plan_offline(struct migrate_plan **out,
			 struct migrate_registry *reg,
			 int direction,
			 const char *from,
			 const char *target);

/**
 * Render @p plan as a psql script that does what an online run would: takes
 * the same advisory lock, refuses to run (raises an error before any
 * change) unless the database is at the plan's starting point, runs every
 * step with its bookkeeping (version table and history) in the same
 * transaction structure. Only SQL revisions can be rendered.
 *
 * @param[out] out NUL-terminated script; free with migrate_free(). NULL
 *                 on failure.
 * @param plan  The plan; its registry's migrate_registry_errmsg() says why
 *              it cannot be rendered.
 * @param opts  Table/schema names and timeouts; NULL for defaults.
 * @return 0, MIGRATE_EINVAL (a C-callback revision in the plan, or a
 *         transaction=false one with MIGRATE_OPEN_SINGLE_TRANSACTION; the
 *         message is the registry's), MIGRATE_ENOMEM, or an error of
 *         migrate_registry_read_sql() (a revision file changed since it
 *         was loaded).
 */
int migrate_plan_sql(char **out,
		     const struct migrate_plan *plan,
		     const struct migrate_options *opts);

/** Free memory returned by the library through a `char **`. NULL ok. */
void migrate_free(void *p);

/** One row of the history table, as passed to migrate_history(). */
struct migrate_history_entry {
	const char *revision;
	int direction;          /**< MIGRATE_UP or MIGRATE_DOWN */
	const char *operation;  /**< "upgrade", "downgrade", "stamp",
				     "resolve", "dirty" */
	const char *checksum;   /**< hex SHA-256, or "" */
	const char *started_at; /**< ISO 8601 with time zone */
	double duration_ms;
	const char *db_user;
	int success;       /**< 1 or 0 */
	const char *error; /**< what failed, or "" */
};

/**
 * Called once per history row, oldest first. Strings are borrowed for the
 * call only. Return non-zero to stop; that value is returned by
 * migrate_history().
 */
typedef int (*migrate_history_fn)(const struct migrate_history_entry *e,
				  void *payload);

/**
 * Read the history table (who applied what, when, how long). Reads only.
 * A database without history table (e.g. migrated by Alembic) has no rows.
 *
 * @return 0, the callback's non-zero value, or MIGRATE_EBACKEND.
 */
int migrate_history(struct migrate *m, migrate_history_fn fn, void *payload);

/* ------------------------------------------------------------------ */
/* Verify: the startup check of services                               */
/* ------------------------------------------------------------------ */

/** Result of migrate_verify(). Append-only. */
enum migrate_status {
	/** The database is exactly at this build's head(s). */
	MIGRATE_STATUS_AT_HEAD = 0,
	/** Known revisions, some of this build's are not applied yet. */
	MIGRATE_STATUS_BEHIND = 1,
	/** Every revision this build knows is applied, plus newer ones. */
	MIGRATE_STATUS_AHEAD = 2,
	/** At a revision this build never heard of, head not applied. */
	MIGRATE_STATUS_UNKNOWN_REVISION = 3,
	/** No version table: never migrated. */
	MIGRATE_STATUS_UNINITIALISED = 4,
	/** A non-transactional revision failed part-way. */
	MIGRATE_STATUS_DIRTY = 5,
	/** The database cannot be reached. */
	MIGRATE_STATUS_CANNOT_CONNECT = 6,
	/** An applied revision changed since it was applied (checksums). */
	MIGRATE_STATUS_CHANGED = 7,
	/** A non-transactional revision is running now: its dirty mark
	 * belongs to a session that holds the migration lock (not an
	 * interruption: wait for it, do not resolve it). */
	MIGRATE_STATUS_IN_PROGRESS = 8,
};

/** Flags for migrate_verify(). */
enum migrate_verify_flags {
	/** Treat MIGRATE_STATUS_AHEAD as acceptable (rolling deploys). */
	MIGRATE_VERIFY_ALLOW_AHEAD = 1u << 0,
	/** Compare applied checksums with the registry. */
	MIGRATE_VERIFY_CHECKSUMS = 1u << 1,
	/** With CHECKSUMS: report but accept changed revisions. */
	MIGRATE_VERIFY_ALLOW_CHANGED = 1u << 2,
};

/**
 * Check that the database is at this registry's head. Plain reads in one
 * round trip: no DDL, no lock, no session state, never creates a table.
 *
 * @param[out] status  enum migrate_status.
 * @param[out] message Borrowed one-line explanation, e.g. "database is at
 *                     001, this build needs 003 (2 pending): run 'migrate
 *                     upgrade head'". Valid until the next call on @p m.
 *                     May be NULL.
 * @return 0 when the database is acceptable (at head, or ahead with
 *         MIGRATE_VERIFY_ALLOW_AHEAD, or changed with ALLOW_CHANGED),
 *         MIGRATE_EVERIFY when it is not (status and message say why),
 *         MIGRATE_EINVAL or MIGRATE_ENOMEM.
 */
int migrate_verify(int *status,
		   const char **message,
		   struct migrate *m,
		   unsigned int flags);

/** Number of pending upgrade steps found by the last migrate_verify(). */
size_t migrate_verify_pending(const struct migrate *m);

/**
 * Number of applied revisions that the last migrate_verify() with
 * MIGRATE_VERIFY_CHECKSUMS found changed (recorded checksum differs from
 * this build's); 0 when none or not checked. NULL gives 0.
 */
size_t migrate_verify_changed_count(const struct migrate *m);

/**
 * Id of the @p i-th changed revision found by the last migrate_verify(), in
 * the order of the applied set; NULL when @p i is out of range. Borrowed:
 * valid until the next migrate_verify() or migrate_close() on @p m.
 */
const char *migrate_verify_changed(const struct migrate *m, size_t i);

/**
 * The hex SHA-256 recorded when the @p i-th changed revision was applied
 * (this build's is migrate_revision_checksum()); NULL when @p i is out of
 * range. Borrowed, as migrate_verify_changed().
 */
const char *migrate_verify_changed_checksum(const struct migrate *m, size_t i);

/** Static name of a status ("at head", "behind", ...). */
const char *migrate_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* LIBMIGRATE_H */
