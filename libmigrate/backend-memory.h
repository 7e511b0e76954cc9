/* SPDX-License-Identifier: MIT */
/*
 * The in-memory backend's fault injection and inspection: internal, for
 * the unit tests (which link the internal library). Not API: applications
 * and downstream tests get migrate_backend_memory_new() and _new_shared()
 * from libmigrate-backend.h.
 */
#ifndef LIBMIGRATE_BACKEND_MEMORY_H
#define LIBMIGRATE_BACKEND_MEMORY_H

#include <stddef.h>

#include <libmigrate-backend.h>

/**
 * Fail the @p n-th exec()/run_step() SQL text from now on (1 = the next
 * one) with SQLSTATE @p sqlstate (copied; NULL means "42000"). 0 disarms.
 */
int migrate__backend_memory_fail_nth(struct migrate_backend *be,
				     unsigned long n,
				     const char *sqlstate);

/**
 * Fail every SQL text containing @p substring (NULL disarms) with
 * @p sqlstate (NULL means "42000"), reporting the error position at the
 * match as the server would.
 */
int migrate__backend_memory_fail_match(struct migrate_backend *be,
				       const char *substring,
				       const char *sqlstate);

/** Lose the connection at the @p n-th SQL text from now (0 disarms): that
 * call and every later one fail with kind
 * MIGRATE_BACKEND_ERROR_CONNECTION_LOST. Armed before
 * migrate_open(), the connect itself fails (SQLSTATE 08001), which is how
 * tests get MIGRATE_STATUS_CANNOT_CONNECT. */
int migrate__backend_memory_lose_connection(struct migrate_backend *be,
					    unsigned long n);

/** Make lock() report the migration lock as held by someone else. */
int migrate__backend_memory_set_lock_taken(struct migrate_backend *be,
					   int taken);

/** Number of SQL texts given to exec()/run_step() so far (committed or
 * not). */
size_t migrate__backend_memory_sql_count(const struct migrate_backend *be);

/** The @p i-th SQL text given so far, or NULL. Borrowed: valid until the
 * backend is freed. */
const char *migrate__backend_memory_sql(const struct migrate_backend *be,
					size_t i);

/**
 * Replace the fake database's version table (creating it), as if another
 * tool had written it. @p n == 0 with @p ids NULL drops the table
 * (uninitialised database). History is left as it is.
 */
int migrate__backend_memory_set_heads(struct migrate_backend *be,
				      const char *const *ids,
				      size_t n);

/** Number of committed history rows in the fake database. */
size_t migrate__backend_memory_history_count(const struct migrate_backend *be);

#endif /* LIBMIGRATE_BACKEND_MEMORY_H */
