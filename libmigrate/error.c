/* SPDX-License-Identifier: MIT */
/*
 * Return codes, their text, and the per-handle / per-registry error
 * messages. Messages live in fixed buffers so that reporting an error never
 * allocates (and so never fails).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate-version.h>

#include "private.h"

MIGRATE_EXPORT
const char *
migrate_strerror(int code)
{
	switch (code) {
	case MIGRATE_OK:
		return "success";
	case MIGRATE_ERROR:
		return "error";
	case MIGRATE_ENOMEM:
		return "out of memory";
	case MIGRATE_EINVAL:
		return "invalid argument";
	case MIGRATE_ENOTFOUND:
		return "revision not found";
	case MIGRATE_ECONFLICT:
		return "conflict";
	case MIGRATE_EVERIFY:
		return "database is not at the expected revision";
	case MIGRATE_EIRREVERSIBLE:
		return "revision cannot be downgraded";
	case MIGRATE_ELOCKED:
		return "migration lock not obtained";
	case MIGRATE_EBACKEND:
		return "database error";
	case MIGRATE_EPARSE:
		return "malformed revision file";
	case MIGRATE_EREADONLY:
		return "handle is read-only";
	case MIGRATE_EAMBIGUOUS:
		return "ambiguous revision";
	case MIGRATE_EDIRTY:
		return "database is dirty";
	case MIGRATE_EUNKNOWN:
		return "database is at an unknown revision";
	case MIGRATE_ECANCELED:
		return "operation cancelled";
	default:
		return "unknown error code";
	}
}

MIGRATE_EXPORT
const char *
migrate_status_name(int status)
{
	switch (status) {
	case MIGRATE_STATUS_AT_HEAD:
		return "at head";
	case MIGRATE_STATUS_BEHIND:
		return "behind";
	case MIGRATE_STATUS_AHEAD:
		return "ahead";
	case MIGRATE_STATUS_UNKNOWN_REVISION:
		return "unknown revision";
	case MIGRATE_STATUS_UNINITIALISED:
		return "uninitialised";
	case MIGRATE_STATUS_DIRTY:
		return "dirty";
	case MIGRATE_STATUS_CANNOT_CONNECT:
		return "cannot connect";
	case MIGRATE_STATUS_CHANGED:
		return "changed";
	case MIGRATE_STATUS_IN_PROGRESS:
		return "in progress";
	default:
		return "unknown status";
	}
}

MIGRATE_EXPORT
int
migrate_version_number(void)
{
	return MIGRATE_VERSION_MAJOR * 10000 + MIGRATE_VERSION_MINOR * 100 +
	       MIGRATE_VERSION_MICRO;
}

MIGRATE_EXPORT
const char *
migrate_version_string(void)
{
	return MIGRATE_VERSION_STRING;
}

MIGRATE_EXPORT
void
migrate_free(void *p)
{
	free(p);
}

int
migrate__vfail(struct migrate_diag *d, int code, const char *fmt, va_list ap)
{
	char tmp[sizeof(d->msg)];

	if (!d)
		return code;
	/* Through a copy: an argument may be d->msg itself (a registry
	 * message handed on into the registry's own diagnostics). */
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(d->msg, tmp, sizeof(d->msg));
	d->sqlstate[0] = '\0';
	d->kind = MIGRATE_BACKEND_ERROR_OTHER;
	return code;
}

int
migrate__fail(struct migrate_diag *d, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = migrate__vfail(d, code, fmt, ap);
	va_end(ap);
	return code;
}

void
migrate__diag_clear(struct migrate_diag *d)
{
	if (!d)
		return;
	d->msg[0] = '\0';
	d->sqlstate[0] = '\0';
	d->kind = MIGRATE_BACKEND_ERROR_OTHER;
}

int
migrate__set_error(struct migrate *m, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = migrate__vfail(m ? &m->diag : NULL, code, fmt, ap);
	va_end(ap);
	return code;
}

/* The public twin, for migrate_step_fn callbacks. */
MIGRATE_EXPORT
int
migrate_set_error(struct migrate *m, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = migrate__vfail(m ? &m->diag : NULL, code, fmt, ap);
	va_end(ap);
	return code;
}

void
migrate__clear_error(struct migrate *m)
{
	migrate__diag_clear(&m->diag);
}

int
migrate__backend_fail(struct migrate_backend_error *err,
		      int code,
		      const char *sqlstate,
		      const char *fmt,
		      ...)
{
	char tmp[sizeof(err->message)];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* The contract: one line, no password. */
	for (p = tmp; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	migrate__redact(tmp, err->message, sizeof(err->message));
	if (sqlstate)
		xsnprintf(err->sqlstate, sizeof(err->sqlstate), "%s", sqlstate);
	return code;
}

/* Append to @d's message, truncating. */
static void diag_add(struct migrate_diag *d, const char *fmt, ...)
	MIGRATE__PRINTF(2, 3);

static void
diag_add(struct migrate_diag *d, const char *fmt, ...)
{
	size_t len = strlen(d->msg);
	va_list ap;

	if (len + 1 >= sizeof(d->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(d->msg + len, sizeof(d->msg) - len, fmt, ap);
	va_end(ap);
}

int
migrate__backend_error(struct migrate *m, int code, const char *prefix)
{
	const struct migrate_backend_error *e = &m->berr;
	char msg[sizeof(e->message)];
	size_t len;

	/* Backends should never put a password in a message; redact anyway,
	 * since a server or libpq message can quote a connection string. */
	migrate__redact(e->message[0] ? e->message : migrate_strerror(code),
			msg, sizeof(msg));
	len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	migrate__fail(&m->diag, code, "%s%s", prefix ? prefix : "", msg);
	if (e->sqlstate[0])
		diag_add(&m->diag, " (SQLSTATE %s)", e->sqlstate);
	if (e->detail[0])
		diag_add(&m->diag, "\nDETAIL: %s", e->detail);
	if (e->hint[0])
		diag_add(&m->diag, "\nHINT: %s", e->hint);
	memcpy(m->diag.sqlstate, e->sqlstate, sizeof(m->diag.sqlstate));
	m->diag.sqlstate[sizeof(m->diag.sqlstate) - 1] = '\0';
	m->diag.kind = e->kind;
	if (e->kind == MIGRATE_BACKEND_ERROR_CONNECTION_LOST)
		m->poisoned = true;
	return code;
}

int
migrate__backend_failed(struct migrate *m, int code, const char *context)
{
	char prefix[256];

	xsnprintf(prefix, sizeof(prefix), "%s%s", context ? context : "",
		  context && *context ? ": " : "");
	return migrate__backend_error(m, code, prefix);
}

MIGRATE_EXPORT
const char *
migrate_errmsg(const struct migrate *m)
{
	if (!m)
		return "out of memory";
	return m->diag.msg;
}

MIGRATE_EXPORT
const char *
migrate_sqlstate(const struct migrate *m)
{
	if (!m || !m->diag.sqlstate[0])
		return NULL;
	return m->diag.sqlstate;
}

int
migrate__registry_error(struct migrate_registry *reg,
			int code,
			const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	code = migrate__vfail(reg ? &reg->diag : NULL, code, fmt, ap);
	va_end(ap);
	return code;
}

void
migrate__registry_clear_error(struct migrate_registry *reg)
{
	migrate__diag_clear(&reg->diag);
}

MIGRATE_EXPORT
const char *
migrate_registry_errmsg(const struct migrate_registry *reg)
{
	if (!reg)
		return "out of memory";
	return reg->diag.msg;
}
