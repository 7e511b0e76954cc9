/* SPDX-License-Identifier: MIT */
/*
 * Handles used from several threads at once: independent handles on their
 * own fake databases, and handles on one shared fake database contending
 * for the migration lock. The library has no global state, so nothing but
 * the shared database itself is shared.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "backend-memory.h"
#include "suites.h"
#include "test-common.h"

#define N_REVS 12

static struct migrate_registry *
chain(int n)
{
	return test_chain(n, NULL);
}

/* What a worker did; checked by the main thread (Check assertions are
 * only safe there). */
struct worker {
	pthread_t thread;
	struct migrate *m;
	struct migrate_backend *be;
	int rounds;
	int rc;
	int status;
	char msg[512];
	size_t progress_events;
};

static void
count_progress(const char *revision,
	       int direction,
	       int phase,
	       double elapsed_ms,
	       void *payload)
{
	struct worker *w = payload;

	(void)revision;
	(void)direction;
	(void)phase;
	(void)elapsed_ms;
	w->progress_events++;
}

static int
open_worker(struct worker *w, struct migrate_backend *be, int lock_wait_ms)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;

	opts.lock_wait_ms = lock_wait_ms;
	opts.progress = count_progress;
	opts.progress_payload = w;
	w->be = be;
	w->m = NULL;
	return migrate_open(&w->m, chain(N_REVS), be, &opts);
}

static void
fail_worker(struct worker *w, int rc, const char *what)
{
	w->rc = rc;
	snprintf(w->msg, sizeof(w->msg), "%s: %s", what, migrate_errmsg(w->m));
}

/* Up and down and up again, verifying in between. */
static void *
up_and_down(void *arg)
{
	struct worker *w = arg;
	int i, rc, status;

	for (i = 0; i < w->rounds; i++) {
		rc = migrate_upgrade(w->m, NULL);
		if (rc) {
			fail_worker(w, rc, "upgrade");
			return NULL;
		}
		rc = migrate_verify(&status, NULL, w->m,
				    MIGRATE_VERIFY_CHECKSUMS);
		if (rc || status != MIGRATE_STATUS_AT_HEAD) {
			fail_worker(w, rc ? rc : -100, "verify at head");
			return NULL;
		}
		rc = migrate_downgrade(w->m, "base");
		if (rc) {
			fail_worker(w, rc, "downgrade");
			return NULL;
		}
		rc = migrate_verify(&status, NULL, w->m, 0);
		if (rc != MIGRATE_EVERIFY || status != MIGRATE_STATUS_BEHIND ||
		    migrate_verify_pending(w->m) != N_REVS) {
			fail_worker(w, -101, "verify behind");
			return NULL;
		}
	}
	w->rc = migrate_upgrade(w->m, "head");
	if (w->rc)
		fail_worker(w, w->rc, "final upgrade");
	return NULL;
}

START_TEST(test_threads_independent_handles)
{
	struct worker w[4];
	size_t i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		struct migrate_backend *be;

		ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
		assert_ok(w[i].m, open_worker(&w[i], be, 60000));
		w[i].rounds = 25;
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(
			pthread_create(&w[i].thread, NULL, up_and_down, &w[i]),
			0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(w[i].rc == 0, "worker %zu: %s", i, w[i].msg);
		/* 26 upgrades and 25 downgrades of N_REVS steps each. */
		ck_assert_uint_eq(w[i].progress_events, 2 * N_REVS * 51);
		ck_assert_uint_eq(
			migrate__backend_memory_history_count(w[i].be),
			N_REVS * 51);
		migrate_close(w[i].m);
	}
}

END_TEST

static void *
upgrade_once(void *arg)
{
	struct worker *w = arg;

	w->rc = migrate_upgrade(w->m, NULL);
	if (w->rc)
		fail_worker(w, w->rc, "upgrade");
	else
		w->rc = migrate_verify(&w->status, NULL, w->m, 0);
	return NULL;
}

/* Eight connections to one database upgrade at once: the lock makes them
 * take turns, each revision is applied exactly once. */
START_TEST(test_threads_shared_database_contention)
{
	struct migrate_backend *first;
	struct worker w[8];
	size_t i, sql = 0;

	memset(w, 0, sizeof(w));
	ck_assert_int_eq(migrate_backend_memory_new(&first), 0);
	for (i = 0; i < 8; i++) {
		struct migrate_backend *be = first;

		if (i)
			ck_assert_int_eq(
				migrate_backend_memory_new_shared(&be, first),
				0);
		assert_ok(w[i].m, open_worker(&w[i], be, 60000));
	}
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(
			pthread_create(&w[i].thread, NULL, upgrade_once, &w[i]),
			0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < 8; i++) {
		ck_assert_msg(w[i].rc == 0, "worker %zu: %s", i, w[i].msg);
		ck_assert_int_eq(w[i].status, MIGRATE_STATUS_AT_HEAD);
		sql += migrate__backend_memory_sql_count(w[i].be);
	}
	ck_assert_uint_eq(sql, N_REVS);
	ck_assert_uint_eq(migrate__backend_memory_history_count(first), N_REVS);
	for (i = 0; i < 8; i++)
		migrate_close(w[i].m);
}

END_TEST

/* A revision callback that holds the migration lock until told to go. */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool inside, go;

static int
wait_at_gate(struct migrate *m, void *payload)
{
	(void)m;
	(void)payload;
	pthread_mutex_lock(&gate_mutex);
	inside = true;
	pthread_cond_broadcast(&gate_cond);
	while (!go)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	pthread_mutex_unlock(&gate_mutex);
	return 0;
}

static void *
upgrade_gated(void *arg)
{
	struct worker *w = arg;

	w->rc = migrate_upgrade(w->m, NULL);
	if (w->rc)
		fail_worker(w, w->rc, "gated upgrade");
	return NULL;
}

START_TEST(test_threads_lock_held_while_running)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	struct migrate_registry *reg;
	struct migrate_backend *be1, *be2;
	struct worker a;
	struct migrate *b = NULL;
	int status;

	memset(&a, 0, sizeof(a));
	inside = go = false;
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	def.id = "001";
	def.upgrade_fn = wait_at_gate;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_int_eq(migrate_backend_memory_new(&be1), 0);
	assert_ok(a.m, migrate_open(&a.m, reg, be1, NULL));
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be1), 0);
	opts.lock_wait_ms = 100;
	assert_ok(b, migrate_open(&b, chain(2), be2, &opts));

	ck_assert_int_eq(pthread_create(&a.thread, NULL, upgrade_gated, &a), 0);
	pthread_mutex_lock(&gate_mutex);
	while (!inside)
		pthread_cond_wait(&gate_cond, &gate_mutex);
	pthread_mutex_unlock(&gate_mutex);

	/* A runs its revision under the lock: B cannot migrate, but can
	 * verify (no lock) and sees nothing committed yet. */
	ck_assert_int_eq(migrate_upgrade(b, NULL), MIGRATE_ELOCKED);
	ck_assert_str_eq(
		migrate_errmsg(b),
		"another migration holds the lock (waited 100 ms): the migration lock is held by another session");
	ck_assert_int_eq(migrate_stamp(b, "base"), MIGRATE_ELOCKED);
	ck_assert_int_eq(migrate_verify(&status, NULL, b, 0), MIGRATE_EVERIFY);
	ck_assert_int_eq(status, MIGRATE_STATUS_BEHIND);

	pthread_mutex_lock(&gate_mutex);
	go = true;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_mutex);
	ck_assert_int_eq(pthread_join(a.thread, NULL), 0);
	ck_assert_msg(a.rc == 0, "%s", a.msg);

	/* Released: B goes on (from A's 001, which B's registry shares). */
	assert_ok(b, migrate_upgrade(b, NULL));
	ck_assert_int_eq(migrate_verify(&status, NULL, b, 0), 0);
	migrate_close(a.m);
	migrate_close(b);
}

END_TEST

struct canceller {
	pthread_t thread;
	struct migrate *m;
};

/* The tries of the migration lock that were refused (the waiter's
 * backend, spied on). */
static atomic_int refused_tries;
static int (*real_lock)(struct migrate_backend *,
			int,
			struct migrate_backend_error *);

static int
spy_lock(struct migrate_backend *be,
	 int wait_ms,
	 struct migrate_backend_error *err)
{
	int rc = real_lock(be, wait_ms, err);

	if (rc == MIGRATE_ELOCKED)
		atomic_fetch_add(&refused_tries, 1);
	return rc;
}

/* Cancel @m from another thread once it waits for the lock: after its
 * first refused try, not after a fixed time (on a loaded machine the
 * waiter may not have begun by then, and a cancel before the lock is
 * another message). Bounded: cancel anyway after ~10 s (the test then
 * fails on the message, not by hanging). */
static void *
cancel_later(void *arg)
{
	struct canceller *c = arg;
	struct timespec ts = { 0, 1000000L };
	int i;

	for (i = 0; i < 10000 && atomic_load(&refused_tries) == 0; i++)
		nanosleep(&ts, NULL);
	migrate_cancel(c->m);
	return NULL;
}

START_TEST(test_threads_cancel_lock_wait)
{
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate_backend *be1, *be2;
	struct migrate_backend_config cfg;
	struct migrate_backend_error err;
	struct canceller c;
	struct migrate *b = NULL;

	ck_assert_int_eq(migrate_backend_memory_new(&be1), 0);
	ck_assert_int_eq(migrate_backend_memory_new_shared(&be2, be1), 0);
	/* Would wait an hour: only the cancel request ends the wait (the
	 * test's timeout catches a hang). */
	opts.lock_wait_ms = 3600 * 1000;
	atomic_init(&refused_tries, 0);
	real_lock = be2->lock;
	be2->lock = spy_lock;
	memset(&cfg, 0, sizeof(cfg));
	cfg.version_table = "alembic_version";
	cfg.log_table = "migrate_log";
	assert_ok(b, migrate_open(&b, chain(2), be2, &opts));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(be1->connect(be1, &cfg, &err), 0);
	ck_assert_int_eq(be1->lock(be1, 0, &err), 0);

	c.m = b;
	ck_assert_int_eq(pthread_create(&c.thread, NULL, cancel_later, &c), 0);
	ck_assert_int_eq(migrate_upgrade(b, NULL), MIGRATE_ECANCELED);
	ck_assert_int_eq(pthread_join(c.thread, NULL), 0);
	ck_assert_str_eq(
		migrate_errmsg(b),
		"cancelled while waiting for the migration lock: nothing was changed; the database is at <base>");
	ck_assert_uint_eq(migrate__backend_memory_sql_count(be2), 0);

	/* The request is used up: the next upgrade runs once the lock is
	 * free. */
	ck_assert_int_eq(be1->unlock(be1, &err), 0);
	assert_ok(b, migrate_upgrade(b, NULL));
	migrate_close(b);
	migrate_backend_free(be1);
}

END_TEST

Suite *
threads_suite(void)
{
	Suite *s = suite_create("threads");

	add_test(s, test_threads_independent_handles);
	add_test(s, test_threads_shared_database_contention);
	add_test(s, test_threads_lock_held_while_running);
	add_test(s, test_threads_cancel_lock_wait);
	return s;
}
