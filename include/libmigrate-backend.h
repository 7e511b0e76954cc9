/* SPDX-License-Identifier: MIT */
/*
 * libmigrate backend API: for authors of storage backends, and for tests
 * that share the in-memory backend between handles. Applications that
 * only migrate need libmigrate.h alone. (The memory backend's fault
 * injection is internal: libmigrate/backend-memory.h, for the unit tests.)
 *
 * A backend is a struct migrate_backend, usually the first member of a
 * larger private struct, whose callbacks the library calls from one thread
 * at a time. The library checks `version` before touching any field.
 * Every fallible callback returns 0 or a negative enum migrate_error and
 * describes a failure in the struct migrate_backend_error it is given
 * (fixed buffers: reporting never allocates).
 */
#ifndef LIBMIGRATE_BACKEND_H
#define LIBMIGRATE_BACKEND_H

#include <libmigrate.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MIGRATE_BACKEND_VERSION 5

/**
 * What kind of failure a backend call met, so that the library decides
 * (retry, poison the handle, ...) without knowing any server's error
 * codes. Append-only: values are never renumbered or reused.
 */
enum migrate_backend_error_kind {
	/** Anything else (a syntax error, a constraint, ...). */
	MIGRATE_BACKEND_ERROR_OTHER = 0,
	/** A lock could not be had within the lock timeout (PostgreSQL
	 * 55P03); retrying later may succeed. */
	MIGRATE_BACKEND_ERROR_LOCK_TIMEOUT = 1,
	/** The connection is gone; the handle becomes unusable. */
	MIGRATE_BACKEND_ERROR_CONNECTION_LOST = 2,
	/** The transaction lost a serialization conflict (40001) or a
	 * deadlock (40P01); it was rolled back. */
	MIGRATE_BACKEND_ERROR_SERIALIZATION = 3,
};

/** What went wrong in a backend call. Cleared by the library before each. */
struct migrate_backend_error {
	char sqlstate[6];   /**< "" when not from the server; for messages
				 only: the library never branches on it */
	char message[1024]; /**< primary message, one line, no password */
	char detail[512];   /**< server DETAIL or "" */
	char hint[512];     /**< server HINT or "" */
	/** 1-based character position of the error in the SQL text given to
	 * exec() or in migrate_backend_step.sql, 0 when unknown. */
	long position;
	/** 1 when the failure was in bookkeeping, not in the revision SQL. */
	int in_bookkeeping;
	/** An enum migrate_backend_error_kind: what the library acts on. */
	int kind;
};

/** Settings given to connect(). Strings live until free(). */
struct migrate_backend_config {
	const char *version_table; /**< never NULL */
	const char *log_table;     /**< never NULL */
	const char *schema;        /**< NULL: the connection's default */
	int read_only;             /**< 1: reads only, in read-only txns */
	/** Version 2: the longest silence of the server in one round trip
	 * that is not revision SQL, and the connect timeout unless the URL
	 * sets one; ms, > 0. Past it the backend closes the connection and
	 * fails with kind MIGRATE_BACKEND_ERROR_CONNECTION_LOST. */
	int io_timeout_ms;
};

/**
 * What the database holds, filled by read_state() through the
 * migrate_state_* functions below (the library owns the memory). The
 * backend only reports rows; the library works out the applied set and the
 * dirty mark from them (one rule, whatever the backend).
 */
struct migrate_state;

/** No version table exists (a never-migrated database). */
int migrate_state_set_uninitialised(struct migrate_state *st);
/** One row of the version table. */
int migrate_state_add_head(struct migrate_state *st, const char *id);
/**
 * One row of the history table. read_state() must report at least every
 * successful row and every row whose operation is "dirty", in any order;
 * other rows may be reported and are ignored. @p seq orders the rows
 * (larger is newer; the history table's id). Of @p row, the library reads
 * revision, direction, operation, checksum (may be NULL), success and
 * error (may be NULL); the strings are copied.
 */
int migrate_state_add_history(struct migrate_state *st,
			      long long seq,
			      const struct migrate_history_entry *row);

/** Bookkeeping for one step: version table change plus a history row. */
struct migrate_record {
	const char *revision;
	int direction;         /**< MIGRATE_UP or MIGRATE_DOWN */
	const char *operation; /**< "upgrade", "downgrade", "stamp",
				    "resolve", "dirty" */
	/** Version table rows to remove and to add. One of each is an
	 * UPDATE, which must affect exactly one row (else the database moved
	 * under us: fail with MIGRATE_ECONFLICT). */
	const char *const *remove_heads;
	size_t n_remove;
	const char *const *add_heads;
	size_t n_add;
	const char *checksum; /**< of the revision, or "" */
	double started_at;    /**< seconds since the epoch */
	double duration_ms;
	int success;       /**< 0 for a failed step's history row
				(then no version table change) */
	const char *error; /**< for failed/dirty rows, else "" */
};

/** One step for run_step(): its SQL and its bookkeeping together. */
struct migrate_backend_step {
	const char *sql;          /**< revision SQL (never NULL) */
	int lock_timeout_ms;      /**< 0 = none */
	int statement_timeout_ms; /**< 0 = none */
	const struct migrate_record *record;
	/** 1: a transaction is already open (single-transaction plans):
	 * neither begin nor commit; 0: begin and commit around the step. */
	int in_transaction;
};

struct migrate_backend {
	unsigned int version; /**< MIGRATE_BACKEND_VERSION */
	const char *name;     /**< "postgresql", "memory", ... */

	/** Must provide. Connect; the config lives until free(). */
	int (*connect)(struct migrate_backend *be,
		       const struct migrate_backend_config *cfg,
		       struct migrate_backend_error *err);
	/** Must provide. Report the version table rows and the history rows
	 * (see migrate_state_add_history()) with plain reads (ideally one
	 * round trip), never creating anything. A missing history table is
	 * not an error. */
	int (*read_state)(struct migrate_backend *be,
			  struct migrate_state *st,
			  struct migrate_backend_error *err);
	/** Must provide. Take the migration lock if it is free, without
	 * waiting: MIGRATE_ELOCKED when another session holds it, with
	 * err->message naming the holder when the backend knows it. The
	 * library waits by calling it again with backoff, so that a waiting
	 * migrator holds no transaction and no snapshot (CREATE INDEX
	 * CONCURRENTLY waits for every snapshot). @p wait_ms is always 0. */
	int (*lock)(struct migrate_backend *be,
		    int wait_ms,
		    struct migrate_backend_error *err);
	/** Must provide. Release the migration lock. */
	int (*unlock)(struct migrate_backend *be,
		      struct migrate_backend_error *err);
	/** Must provide. Create version and history tables if missing. May
	 * defer the creation to the next write of the session (begin,
	 * run_step, record, exec), in that write's transaction, or to
	 * unlock when nothing was written (the libpq backend does: no
	 * commit of their own). */
	int (*ensure_tables)(struct migrate_backend *be,
			     struct migrate_backend_error *err);
	/** Must provide. Transactions. */
	int (*begin)(struct migrate_backend *be,
		     struct migrate_backend_error *err);
	int (*commit)(struct migrate_backend *be,
		      struct migrate_backend_error *err);
	int (*rollback)(struct migrate_backend *be,
			struct migrate_backend_error *err);
	/** May provide. lock_timeout and statement_timeout in ms (0: none):
	 * for the current transaction only when one is open; outside a
	 * transaction (non-transactional sections), for the session until
	 * the next call. */
	int (*set_timeouts)(struct migrate_backend *be,
			    int lock_timeout_ms,
			    int statement_timeout_ms,
			    struct migrate_backend_error *err);
	/** Must provide. Run SQL text (one or more statements). */
	int (*exec)(struct migrate_backend *be,
		    const char *sql,
		    struct migrate_backend_error *err);
	/** Must provide. Write bookkeeping, inside the open transaction if
	 * there is one. */
	int (*record)(struct migrate_backend *be,
		      const struct migrate_record *rec,
		      struct migrate_backend_error *err);
	/** May provide. Do begin, set_timeouts, exec, record and commit as
	 * one unit in as few round trips as possible; on failure nothing of
	 * the step remains and no transaction is left open (unless
	 * in_transaction, where the caller rolls back). */
	int (*run_step)(struct migrate_backend *be,
			const struct migrate_backend_step *step,
			struct migrate_backend_error *err);
	/** May provide. Rows of the history table, oldest first. */
	int (*read_history)(struct migrate_backend *be,
			    migrate_history_fn fn,
			    void *payload,
			    struct migrate_backend_error *err);
	/** May provide. The native connection handle. */
	void *(*native)(struct migrate_backend *be);
	/** Must provide. Disconnect and free the backend itself. */
	void (*free)(struct migrate_backend *be);

	/* Version 2. */

	/** May provide. Ask the server to stop what this connection runs
	 * now (PQcancel()). Called from another thread or a signal handler
	 * while other callbacks run: async-signal-safe, no allocation, no
	 * lock; a no-op when nothing runs or before connect(). Returns 0 or
	 * a negative migrate_error (ignored). */
	int (*cancel)(struct migrate_backend *be);

	/* Version 3. */

	/** May provide. Run the @p n steps (each in_transaction: the caller
	 * owns the transaction) as run_step() would, in as few round trips
	 * as it likes; their bookkeeping may wait for commit(). Sets
	 * *@p n_done to the steps that ran; on failure, to the index of the
	 * step that failed, with @p err as run_step() fills it for that
	 * step (the caller rolls back). */
	int (*run_steps)(struct migrate_backend *be,
			 const struct migrate_backend_step *steps,
			 size_t n,
			 size_t *n_done,
			 struct migrate_backend_error *err);

	/** May provide. Who holds the migration lock now: 1 with a one-line
	 * description in @p out ("pid 42, application "migrate", ..."), 0
	 * when nobody does, or a negative migrate_error. Never takes the
	 * lock; a plain read. */
	int (*lock_holder)(struct migrate_backend *be,
			   char *out,
			   size_t size,
			   struct migrate_backend_error *err);

	/* Version 4. */

	/** May provide, with connect_finish(): connect() in two halves, so
	 * that the library does other work (loading revision files) while
	 * the server answers. connect_start() begins the connection
	 * without waiting for the server; connect_finish() waits for it and
	 * does the rest of what connect() does, with the same bounds and
	 * errors. The library calls either connect() or connect_start()
	 * then, if that succeeded, connect_poll() any number of times and
	 * connect_finish() or free() (free() must drop a started connection
	 * without waiting). */
	int (*connect_start)(struct migrate_backend *be,
			     const struct migrate_backend_config *cfg,
			     struct migrate_backend_error *err);
	int (*connect_finish)(struct migrate_backend *be,
			      struct migrate_backend_error *err);
	/** May provide (with the two above). Between them: take the
	 * connection as far as it goes without waiting (answer what the
	 * server sent); a failure is kept for connect_finish(). */
	void (*connect_poll)(struct migrate_backend *be);

	/* Version 5. */

	/** May provide. The transaction that the next commit() or run_step()
	 * (one not in_transaction) ends is the last thing the library does
	 * under the migration lock: the backend may release the lock in the
	 * same round trip, after the commit and only if it committed (never
	 * before: another migrator would read the state as it was). The hint
	 * holds until that commit() or run_step(), or a rollback(), unlock()
	 * or lock(). The library calls unlock() all the same, which then
	 * releases the lock only if it is still held. */
	void (*unlock_at_commit)(struct migrate_backend *be);
};

/**
 * Initialiser for a struct migrate_backend: the version set, the name and
 * every callback NULL. Set them after it (libgit2's *_BACKEND_INIT).
 */
#define MIGRATE_BACKEND_INIT                                                   \
	{                                                                      \
		MIGRATE_BACKEND_VERSION, NULL, NULL, NULL, NULL, NULL, NULL,   \
			NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,  \
			NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL         \
	}

/* ------------------------------------------------------------------ */
/* In-memory backend: sharing                                          */
/* ------------------------------------------------------------------ */

/**
 * Create an in-memory backend that shares the fake database of @p other
 * (another memory backend), as two connections to one server would: the
 * migration lock is shared, and committed changes are seen by both. The
 * database lives until the last backend using it is freed. Thread-safe.
 *
 * @return 0, MIGRATE_EINVAL (@p other is not a memory backend) or
 *         MIGRATE_ENOMEM.
 */
int migrate_backend_memory_new_shared(struct migrate_backend **out,
				      struct migrate_backend *other);

#ifdef __cplusplus
}
#endif
#endif /* LIBMIGRATE_BACKEND_H */
