/* SPDX-License-Identifier: MIT */
/*
 * The handle: options, open/close, and the small calls that go straight to
 * the backend (current, exec, native connection, history).
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* The size of struct migrate_options as version @version knew it. */
static size_t
options_size(unsigned int version)
{
	if (version < 2)
		return offsetof(struct migrate_options, io_timeout_ms);
	if (version < 3)
		return offsetof(struct migrate_options, plan_check);
	if (version < 4)
		return offsetof(struct migrate_options, plan_preview);
	return sizeof(struct migrate_options);
}

MIGRATE_EXPORT
int
migrate_options_init(struct migrate_options *opts, unsigned int version)
{
	const struct migrate_options def = MIGRATE_OPTIONS_INIT;

	if (!opts || !migrate__version_ok(version, MIGRATE_OPTIONS_VERSION))
		return MIGRATE_EINVAL;
	/* A caller built against an older header has a shorter struct. */
	memcpy(opts, &def, options_size(version));
	opts->version = version;
	return 0;
}

/* The library may only touch a backend's fields once it knows the layout
 * (sqlite3_vfs iVersion rule). */
static bool
backend_version_ok(const struct migrate_backend *be)
{
	return be && migrate__version_ok(be->version, MIGRATE_BACKEND_VERSION);
}

MIGRATE_EXPORT
int
migrate_cancel(struct migrate *m)
{
	struct migrate_backend *be;

	if (!m)
		return MIGRATE_EINVAL;
	/* Async-signal-safe: a flag, then the backend's prepared request. */
	m->cancel_requested = 1;
	be = m->be;
	if (be && m->connected && be->version >= 2 && be->cancel)
		be->cancel(be);
	return 0;
}

MIGRATE_EXPORT
void
migrate_backend_free(struct migrate_backend *be)
{
	if (backend_version_ok(be) && be->free)
		be->free(be);
}

static const char *
missing_callback(const struct migrate_backend *be)
{
	if (!be->connect)
		return "connect";
	if (!be->read_state)
		return "read_state";
	if (!be->lock)
		return "lock";
	if (!be->unlock)
		return "unlock";
	if (!be->ensure_tables)
		return "ensure_tables";
	if (!be->begin)
		return "begin";
	if (!be->commit)
		return "commit";
	if (!be->rollback)
		return "rollback";
	if (!be->exec)
		return "exec";
	if (!be->record)
		return "record";
	if (!be->free)
		return "free";
	return NULL;
}

static int
copy_options(struct migrate *m, const struct migrate_options *opts)
{
	const struct migrate_options def = MIGRATE_OPTIONS_INIT;

	m->opts = def;
	memcpy(&m->opts, opts, options_size(opts->version));
	if (m->opts.io_timeout_ms == 0)
		m->opts.io_timeout_ms =
			(opts->flags & MIGRATE_OPEN_READONLY) ? 5000 : 30000;
	m->opts.database_url = NULL;
	m->opts.version_table = NULL;
	m->opts.log_table = NULL;
	m->opts.schema = NULL;
	if (opts->database_url) {
		m->database_url = xstrdup(opts->database_url);
		if (!m->database_url)
			return MIGRATE_ENOMEM;
	}
	m->version_table = xstrdup(opts->version_table && *opts->version_table
					   ? opts->version_table
					   : "alembic_version");
	m->log_table =
		xstrdup(opts->log_table && *opts->log_table ? opts->log_table
							    : "migrate_log");
	if (!m->version_table || !m->log_table)
		return MIGRATE_ENOMEM;
	if (opts->schema && *opts->schema) {
		m->schema = xstrdup(opts->schema);
		if (!m->schema)
			return MIGRATE_ENOMEM;
	}
	m->opts.database_url = m->database_url;
	m->opts.version_table = m->version_table;
	m->opts.log_table = m->log_table;
	m->opts.schema = m->schema;
	m->cfg.version_table = m->version_table;
	m->cfg.log_table = m->log_table;
	m->cfg.schema = m->schema;
	m->cfg.read_only = (opts->flags & MIGRATE_OPEN_READONLY) ? 1 : 0;
	m->cfg.io_timeout_ms = m->opts.io_timeout_ms;
	return 0;
}

static int
check_name(const char *what, const char *name, struct migrate_diag *diag)
{
	size_t n = name ? strlen(name) : 0, shown = 24;

	if (n <= MIGRATE_NAME_MAX)
		return 0;
	while (shown > 0 && ((unsigned char)name[shown] & 0xC0) == 0x80)
		shown--;
	return migrate__fail(
		diag, MIGRATE_EINVAL,
		"%s name \"%.*s...\" is %zu bytes long: PostgreSQL keeps at most 63 bytes of a name and would cut it (two names could become one); choose a shorter one",
		what, (int)shown, name, n);
}

int
migrate__check_names(const struct migrate_options *opts,
		     struct migrate_diag *diag)
{
	int rc = check_name("version table", opts->version_table, diag);

	if (rc == 0)
		rc = check_name("history table", opts->log_table, diag);
	if (rc == 0)
		rc = check_name("schema", opts->schema, diag);
	return rc;
}

static int
check_options(struct migrate *m, const struct migrate_options *opts)
{
	if (migrate__check_names(opts, &m->diag) < 0)
		return MIGRATE_EINVAL;
	if (opts->lock_wait_ms < 0)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "lock_wait_ms must not be negative");
	if (opts->lock_timeout_ms < 0)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"lock_timeout_ms must not be negative");
	if (opts->statement_timeout_ms < 0)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"statement_timeout_ms must not be negative");
	if (opts->lock_retries < 0)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "lock_retries must not be negative");
	if (m->opts.io_timeout_ms < 0)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "io_timeout_ms must not be negative");
	if (opts->flags & ~(unsigned int)(MIGRATE_OPEN_READONLY |
					  MIGRATE_OPEN_SINGLE_TRANSACTION))
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "unknown flags 0x%x in options",
					  opts->flags);
	return 0;
}

/* Create the libpq backend for opts->database_url, with a message that
 * says what is wrong with the URL when it is malformed. */
static int
default_backend(struct migrate *m)
{
	struct migrate_diag err;
	int rc;

	rc = migrate__backend_pq_new(&m->be, m->database_url, &err);
	if (rc == 0)
		return 0;
	m->be = NULL;
	if (rc == MIGRATE_ENOMEM)
		return rc;
	return migrate__set_error(m, rc, "invalid database URL: %s",
				  err.msg[0] ? err.msg : migrate_strerror(rc));
}

/* Open's failures leave the handle unconnected; migrate_verify() reports
 * them as "cannot connect" from verify_msg, and every other call from
 * migrate__check_usable(). */
static int
open_failed(struct migrate *m, int rc)
{
	xsnprintf(m->verify_msg, sizeof(m->verify_msg), "%s", m->diag.msg);
	return rc;
}

/*
 * What every open does before it needs the revisions: a handle in *@out
 * that owns @registry and @backend, with the options copied and checked
 * and the backend made (or checked). 0, or a negative code: *@out is NULL
 * for MIGRATE_ENOMEM and a missing @out (both freed), else a failed
 * handle (open_failed()).
 */
static int
open_handle(struct migrate **out,
	    struct migrate_registry *registry,
	    struct migrate_backend *backend,
	    const struct migrate_options *opts)
{
	const struct migrate_options def = MIGRATE_OPTIONS_INIT;
	const char *missing;
	struct migrate *m;
	int rc;

	if (!out) {
		migrate_registry_free(registry);
		migrate_backend_free(backend);
		return MIGRATE_EINVAL;
	}
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		migrate_registry_free(registry);
		migrate_backend_free(backend);
		return MIGRATE_ENOMEM;
	}
	/* From here on the handle owns both, whatever happens. */
	m->reg = registry;
	m->be = backend;
	if (!opts)
		opts = &def;
	if (!migrate__version_ok(opts->version, MIGRATE_OPTIONS_VERSION)) {
		rc = copy_options(m, &def);
		if (rc < 0)
			goto oom;
		*out = m;
		return open_failed(
			m, migrate__set_error(m, MIGRATE_EINVAL,
					      "unsupported options version %u",
					      opts->version));
	}
	rc = copy_options(m, opts);
	if (rc < 0)
		goto oom;
	*out = m;
	rc = check_options(m, opts);
	if (rc < 0)
		return open_failed(m, rc);

	if (backend && !backend_version_ok(backend)) {
		/* Unknown layout: not even free() may be called. */
		m->be = NULL;
		return open_failed(
			m,
			migrate__set_error(
				m, MIGRATE_EINVAL,
				"backend version %u is not supported (this library knows version %d)",
				backend->version, MIGRATE_BACKEND_VERSION));
	}
	if (!backend) {
		rc = default_backend(m);
		if (rc == MIGRATE_ENOMEM)
			goto oom;
		if (rc < 0)
			return open_failed(m, rc);
	}
	missing = missing_callback(m->be);
	if (missing)
		return open_failed(
			m, migrate__set_error(
				   m, MIGRATE_EINVAL,
				   "backend '%s' does not provide %s()",
				   m->be->name ? m->be->name : "?", missing));
	return 0;
oom:
	migrate_close(m);
	*out = NULL;
	return MIGRATE_ENOMEM;
}

/* The registry's failure (migrate_registry_validate() or a load) as the
 * handle's. */
static int
registry_failed(struct migrate *m, int rc)
{
	return open_failed(m,
			   migrate__set_error(m, rc, "%s",
					      migrate_registry_errmsg(m->reg)));
}

/* Out of memory after open_handle(): nothing is handed out. */
static int
open_oom(struct migrate **out)
{
	migrate_close(*out);
	*out = NULL;
	return MIGRATE_ENOMEM;
}

/* The end of every open: @rc of connect() or connect_finish(). */
static int
connected(struct migrate **out, int rc)
{
	struct migrate *m = *out;

	if (rc == MIGRATE_ENOMEM)
		return open_oom(out);
	if (rc < 0) {
		migrate__backend_failed(m, MIGRATE_EBACKEND,
					"cannot connect to the database");
		/* A connect failure is no lost connection: the handle stays
		 * closed, not poisoned, so the message stays the reason. */
		m->poisoned = false;
		return open_failed(m, MIGRATE_EBACKEND);
	}
	m->connected = true;
	migrate__clear_error(m);
	return 0;
}

MIGRATE_EXPORT
int
migrate_open(struct migrate **out,
	     struct migrate_registry *registry,
	     struct migrate_backend *backend,
	     const struct migrate_options *opts)
{
	struct migrate *m;
	int rc = open_handle(out, registry, backend, opts);

	if (rc < 0)
		return rc;
	m = *out;
	if (!registry)
		return open_failed(m, migrate__set_error(m, MIGRATE_EINVAL,
							 "no registry given"));
	rc = migrate_registry_validate(registry);
	if (rc == MIGRATE_ENOMEM)
		return open_oom(out);
	if (rc < 0)
		return registry_failed(m, rc);
	memset(&m->berr, 0, sizeof(m->berr));
	return connected(out, m->be->connect(m->be, &m->cfg, &m->berr));
}

/* While the files load: the connection goes on (connect_poll()). */
static void
poll_connection(void *arg)
{
	struct migrate *m = arg;

	if (m->be->connect_poll)
		m->be->connect_poll(m->be);
}

MIGRATE_EXPORT
int
migrate_open_dir(struct migrate **out,
		 const char *dir,
		 struct migrate_backend *backend,
		 const struct migrate_options *opts)
{
	struct migrate_registry *reg = NULL;
	struct migrate *m;
	int rc, load_rc, start_rc = 0;
	bool started = false;

	rc = migrate_registry_new(&reg);
	if (rc < 0) {
		migrate_backend_free(backend);
		if (out)
			*out = NULL;
		return rc;
	}
	rc = open_handle(out, reg, backend, opts);
	if (!out || !*out)
		return rc;
	m = *out;
	/* The server forks and authenticates while the files load. */
	if (rc == 0 && m->be->version >= 4 && m->be->connect_start &&
	    m->be->connect_finish) {
		memset(&m->berr, 0, sizeof(m->berr));
		start_rc = m->be->connect_start(m->be, &m->cfg, &m->berr);
		started = true;
	}
	load_rc = migrate__registry_load_dir(
		reg, dir, started && start_rc == 0 ? poll_connection : NULL, m);
	if (load_rc == 0)
		load_rc = migrate_registry_validate(reg);
	if (load_rc < 0) {
		/* The revisions' error comes first; a started connection
		 * is dropped at once, not waited for. */
		if (started) {
			migrate_backend_free(m->be);
			m->be = NULL;
		}
		if (load_rc == MIGRATE_ENOMEM)
			return open_oom(out);
		return registry_failed(m, load_rc);
	}
	if (rc < 0)
		return rc;
	if (!started) {
		memset(&m->berr, 0, sizeof(m->berr));
		rc = m->be->connect(m->be, &m->cfg, &m->berr);
	} else if (start_rc < 0) {
		rc = start_rc;
	} else {
		memset(&m->berr, 0, sizeof(m->berr));
		rc = m->be->connect_finish(m->be, &m->berr);
	}
	return connected(out, rc);
}

MIGRATE_EXPORT
void
migrate_close(struct migrate *m)
{
	if (!m)
		return;
	if (m->be) {
		if (m->locked && m->connected && !m->poisoned) {
			struct migrate_backend_error err;

			memset(&err, 0, sizeof(err));
			m->be->unlock(m->be, &err);
		}
		migrate_backend_free(m->be);
	}
	migrate_registry_free(m->reg);
	strv_clear(&m->current);
	strv_clear(&m->last_heads);
	strv_clear(&m->verify_changed);
	free(m->database_url);
	free(m->version_table);
	free(m->log_table);
	free(m->schema);
	free(m);
}

MIGRATE_EXPORT
struct migrate_registry *
migrate_registry(struct migrate *m)
{
	return m ? m->reg : NULL;
}

MIGRATE_EXPORT
int
migrate_current(const char *const **out, size_t *count, struct migrate *m)
{
	struct migrate_state st;
	int rc;

	if (!m)
		return MIGRATE_EINVAL;
	if (!out || !count)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "migrate_current: NULL argument");
	*out = NULL;
	*count = 0;
	migrate__clear_error(m);
	migrate__state_init(&st);
	rc = migrate__read_state(m, &st);
	if (rc < 0)
		return rc;
	if (strv_copy(&m->current, &st.heads) < 0) {
		migrate__state_clear(&st);
		return migrate__set_error(m, MIGRATE_ENOMEM, "out of memory");
	}
	migrate__state_clear(&st);
	*out = (const char *const *)m->current.v;
	*count = m->current.n;
	return 0;
}

MIGRATE_EXPORT
int
migrate_last_position(const char *const **out, size_t *count, struct migrate *m)
{
	if (!m)
		return MIGRATE_EINVAL;
	if (!out || !count)
		return migrate__set_error(
			m, MIGRATE_EINVAL,
			"migrate_last_position: NULL argument");
	*out = NULL;
	*count = 0;
	migrate__clear_error(m);
	if (!m->have_last)
		return migrate__set_error(
			m, MIGRATE_ENOTFOUND,
			"no migration ran to its end on this handle");
	if (strv_copy(&m->current, &m->last_heads) < 0)
		return migrate__set_error(m, MIGRATE_ENOMEM, "out of memory");
	*out = (const char *const *)m->current.v;
	*count = m->current.n;
	return 0;
}

MIGRATE_EXPORT
int
migrate_exec(struct migrate *m, const char *sql)
{
	int rc;

	if (!m)
		return MIGRATE_EINVAL;
	if (!sql)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "migrate_exec: NULL SQL");
	migrate__clear_error(m);
	rc = migrate__check_usable(m);
	if (rc < 0)
		return rc;
	memset(&m->berr, 0, sizeof(m->berr));
	rc = m->be->exec(m->be, sql, &m->berr);
	if (rc < 0)
		return migrate__backend_failed(m, rc, NULL);
	return 0;
}

MIGRATE_EXPORT
void *
migrate_native_connection(struct migrate *m)
{
	if (!m || !m->connected || m->poisoned || !m->be->native)
		return NULL;
	return m->be->native(m->be);
}

/* Tells the callback's own stop value apart from a backend failure,
 * whatever the backend returns after the callback stopped it. */
struct history_call {
	migrate_history_fn fn;
	void *payload;
	int stop;
};

static int
history_trampoline(const struct migrate_history_entry *e, void *payload)
{
	struct history_call *hc = payload;
	int rc = hc->fn(e, hc->payload);

	if (rc != 0)
		hc->stop = rc;
	return rc;
}

MIGRATE_EXPORT
int
migrate_history(struct migrate *m, migrate_history_fn fn, void *payload)
{
	struct history_call hc;
	int rc;

	if (!m)
		return MIGRATE_EINVAL;
	if (!fn)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "migrate_history: NULL callback");
	migrate__clear_error(m);
	rc = migrate__check_usable(m);
	if (rc < 0)
		return rc;
	if (!m->be->read_history)
		return 0;
	hc.fn = fn;
	hc.payload = payload;
	hc.stop = 0;
	memset(&m->berr, 0, sizeof(m->berr));
	rc = m->be->read_history(m->be, history_trampoline, &hc, &m->berr);
	if (hc.stop)
		return hc.stop;
	if (rc < 0)
		return migrate__backend_failed(m, rc,
					       "cannot read the history");
	return 0;
}
