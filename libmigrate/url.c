/* SPDX-License-Identifier: MIT */
/*
 * Database URLs: turn postgresql://, postgres:// and SQLAlchemy's
 * postgresql+DRIVER:// URLs into libpq conninfo ("keyword='value' ..."),
 * and redact passwords from any text.
 *
 * We convert URLs ourselves instead of handing them to libpq because the
 * same URL serves Python tooling: SQLAlchemy spellings (the "+driver"
 * part, asyncpg's ?ssl=require, driver-only options) must be translated,
 * and libpq's own URI errors may quote the URL, password included. Error
 * messages here never quote a part of the URL that could hold a password.
 *
 * Userinfo follows SQLAlchemy's rule, so that both sides read a URL the
 * same way: the user name ends at the first ':' or '@'; after a ':' the
 * password runs to the first '@' (it may hold '/', '?' or ':').
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* An ordered keyword=value list; setting a keyword again replaces it (a
 * query parameter overrides the URL's own host, port...). */
struct kvlist {
	struct strv keys;
	struct strv vals;
};

static int
kv_set(struct kvlist *kv, const char *key, const char *val)
{
	long i = strv_find(&kv->keys, key);
	char *copy;

	if (i >= 0) {
		copy = xstrdup(val);
		if (!copy)
			return -1;
		free(kv->vals.v[i]);
		kv->vals.v[i] = copy;
		return 0;
	}
	if (strv_push(&kv->keys, key) < 0)
		return -1;
	if (strv_push(&kv->vals, val) < 0) {
		strv_remove(&kv->keys, kv->keys.n - 1);
		return -1;
	}
	return 0;
}

static void
kv_clear(struct kvlist *kv)
{
	strv_clear(&kv->keys);
	strv_clear(&kv->vals);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum decode_result {
	DECODE_OK = 0,
	DECODE_BAD = -1, /* malformed %XX or %00 */
	DECODE_NOMEM = -2,
};

/* Percent-decode @n bytes of @s into a new string. */
static enum decode_result
pct_decode(const char *s, size_t n, char **out)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;

	*out = NULL;
	if (!d)
		return DECODE_NOMEM;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(d);
				return DECODE_BAD;
			}
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(d);
				return DECODE_BAD;
			}
			d[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	*out = d;
	return DECODE_OK;
}

static bool
is_ident_text(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Driver options SQLAlchemy dialects and drivers accept in the query
 * string that mean nothing to the server connection: dropped. */
static const char *const dropped_params[] = {
	"prepared_statement_cache_size",
	"prepared_statement_name_func",
	"statement_cache_size",
	"max_cached_statement_lifetime",
	"max_cacheable_statement_size",
	"command_timeout",
	"async_fallback",
	"executemany_mode",
	"executemany_batch_page_size",
	"executemany_values_page_size",
	"insertmanyvalues_page_size",
	"use_native_hstore",
	"use_native_unicode",
	"use_native_uuid",
	"server_side_cursors",
	"json_serializer",
	"json_deserializer",
};

/* Options that change how the connection is made but have no libpq
 * equivalent: refusing is safer than connecting differently. */
static const char *const unmappable_params[] = {
	"direct_tls",
	"server_settings",
	"ssl_context",
	"krbsrvname_asyncpg",
};

static bool
in_list(const char *key, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int
url_error(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return MIGRATE_EINVAL;
}

/* asyncpg's ssl= takes booleans and sslmode names. */
static const char *
map_ssl(const char *v)
{
	static const char *const modes[] = { "disable",   "allow",
					     "prefer",    "require",
					     "verify-ca", "verify-full" };
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t i;

	for (i = 0; i < N_ELEMS(modes); i++)
		if (strcmp(v, modes[i]) == 0)
			return modes[i];
	for (i = 0; i < N_ELEMS(yes); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return "require";
	for (i = 0; i < N_ELEMS(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return "disable";
	return NULL;
}

/* A timeout in (possibly fractional) seconds, as asyncpg's timeout=, to
 * libpq's whole seconds (rounded up: never shorter than asked). */
static bool
map_seconds(const char *v, char *out, size_t outlen)
{
	unsigned long whole = 0;
	bool frac = false, any = false;
	const char *p = v;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > 100000000UL)
			return false;
		whole = whole * 10 + (unsigned long)(*p - '0');
		any = true;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			any = true;
			if (*p != '0')
				frac = true;
		}
	}
	if (*p || !any)
		return false;
	if (frac)
		whole++;
	snprintf(out, outlen, "%lu", whole);
	return true;
}

static int
add_query_param(struct kvlist *kv,
		const char *key,
		const char *val,
		char *err,
		size_t errlen)
{
	char msg[256];
	const char *shown =
		is_ident_text(key) && strlen(key) < 64 ? key : "(unprintable)";

	if (!*key)
		return url_error(err, errlen,
				 "malformed database URL: query parameter "
				 "without a name");
	if (in_list(key, dropped_params, N_ELEMS(dropped_params)))
		return 0;
	if (in_list(key, unmappable_params, N_ELEMS(unmappable_params))) {
		snprintf(msg, sizeof(msg),
			 "database URL parameter \"%s\" has no libpq "
			 "equivalent; remove it from the URL",
			 shown);
		return url_error(err, errlen, msg);
	}
	if (strcmp(key, "ssl") == 0) {
		const char *mode = map_ssl(val);

		if (!mode)
			return url_error(
				err, errlen,
				"database URL parameter \"ssl\" has an "
				"unsupported value (use true, false or an "
				"sslmode: disable, allow, prefer, require, "
				"verify-ca, verify-full)");
		return kv_set(kv, "sslmode", mode) < 0 ? MIGRATE_ENOMEM : 0;
	}
	if (strcmp(key, "timeout") == 0 ||
	    strcmp(key, "connect_timeout") == 0) {
		char secs[32];

		if (!map_seconds(val, secs, sizeof(secs))) {
			snprintf(msg, sizeof(msg),
				 "database URL parameter \"%s\" must be a "
				 "number of seconds",
				 key);
			return url_error(err, errlen, msg);
		}
		return kv_set(kv, "connect_timeout", secs) < 0 ? MIGRATE_ENOMEM
							       : 0;
	}
	/* Everything else is given to libpq as it is; unknown keywords are
	 * rejected when the backend checks the conninfo. */
	return kv_set(kv, key, val) < 0 ? MIGRATE_ENOMEM : 0;
}

static int
decode_into(const char *s,
	    size_t n,
	    char **out,
	    const char *what,
	    char *err,
	    size_t errlen)
{
	char msg[160];

	switch (pct_decode(s, n, out)) {
	case DECODE_OK:
		return 0;
	case DECODE_NOMEM:
		return MIGRATE_ENOMEM;
	case DECODE_BAD:
	default:
		snprintf(msg, sizeof(msg),
			 "malformed database URL: invalid percent-encoding "
			 "in the %s",
			 what);
		return url_error(err, errlen, msg);
	}
}

/* Parse "host[:port]" or "[v6]:port" entries separated by ','. */
static int
parse_hosts(struct kvlist *kv,
	    const char *s,
	    size_t n,
	    char *err,
	    size_t errlen)
{
	struct buf hosts = BUF_INIT, ports = BUF_INIT;
	bool any_host = false, any_port = false;
	size_t i = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	while (i <= n) {
		size_t end = i, hs, he, ps = 0, pe = 0;
		char *host = NULL;

		while (end < n && s[end] != ',')
			end++;
		if (s[i] == '[' && i < end) {
			const char *rb = memchr(s + i, ']', end - i);

			if (!rb) {
				rc = url_error(err, errlen,
					       "malformed database URL: "
					       "unterminated '[' in the host");
				goto out;
			}
			hs = i + 1;
			he = (size_t)(rb - s);
			if (he + 1 < end) {
				if (s[he + 1] != ':') {
					rc = url_error(
						err, errlen,
						"malformed database URL: "
						"unexpected text after ']' in "
						"the host");
					goto out;
				}
				ps = he + 2;
				pe = end;
			}
			if (he == hs) {
				rc = url_error(err, errlen,
					       "malformed database URL: empty "
					       "IPv6 address");
				goto out;
			}
		} else {
			const char *colon = memchr(s + i, ':', end - i);

			hs = i;
			he = colon ? (size_t)(colon - s) : end;
			if (colon) {
				ps = he + 1;
				pe = end;
			}
			if (memchr(s + hs, '@', he - hs)) {
				rc = url_error(err, errlen,
					       "malformed database URL: '@' in "
					       "the host part (write '@' in a "
					       "user name or password as %40)");
				goto out;
			}
		}
		if (he == hs && n > 0 && (end < n || i > 0)) {
			rc = url_error(err, errlen,
				       "malformed database URL: empty host in "
				       "the host list");
			goto out;
		}
		rc = decode_into(s + hs, he - hs, &host, "host", err, errlen);
		if (rc < 0)
			goto out;
		if (i > 0) {
			buf_puts(&hosts, ",");
			buf_puts(&ports, ",");
		}
		if (*host)
			any_host = true;
		buf_puts(&hosts, host);
		free(host);
		if (pe > ps) {
			size_t k;
			unsigned long port = 0;

			for (k = ps; k < pe; k++) {
				if (s[k] < '0' || s[k] > '9' || port > 65535) {
					rc = url_error(err, errlen,
						       "malformed database "
						       "URL: invalid port "
						       "number");
					goto out;
				}
				port = port * 10 + (unsigned long)(s[k] - '0');
			}
			if (port == 0 || port > 65535) {
				rc = url_error(
					err, errlen,
					"malformed database URL: invalid "
					"port number");
				goto out;
			}
			buf_printf(&ports, "%lu", port);
			any_port = true;
		}
		i = end + 1;
	}
	if (hosts.oom || ports.oom) {
		rc = MIGRATE_ENOMEM;
		goto out;
	}
	if (any_host && kv_set(kv, "host", hosts.data) < 0)
		rc = MIGRATE_ENOMEM;
	if (rc == 0 && any_port && kv_set(kv, "port", ports.data) < 0)
		rc = MIGRATE_ENOMEM;
out:
	buf_free(&hosts);
	buf_free(&ports);
	return rc;
}

static int
parse_query(struct kvlist *kv,
	    const char *s,
	    size_t n,
	    char *err,
	    size_t errlen)
{
	size_t i = 0;
	int rc = 0;

	while (i < n) {
		size_t end = i, eq;
		char *key = NULL, *val = NULL;

		while (end < n && s[end] != '&')
			end++;
		if (end == i) { /* "a=1&&b=2" or a trailing '&' */
			i = end + 1;
			continue;
		}
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (eq == end)
			return url_error(err, errlen,
					 "malformed database URL: query "
					 "parameter without '=value'");
		rc = decode_into(s + i, eq - i, &key, "query parameters", err,
				 errlen);
		if (rc == 0)
			rc = decode_into(s + eq + 1, end - eq - 1, &val,
					 "query parameters", err, errlen);
		if (rc == 0)
			rc = add_query_param(kv, key, val, err, errlen);
		free(key);
		free(val);
		if (rc < 0)
			return rc;
		i = end + 1;
	}
	return 0;
}

/* Append @v as a conninfo value: always single-quoted, ' and \ escaped. */
static void
conninfo_value(struct buf *b, const char *v)
{
	buf_puts(b, "'");
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			buf_append(b, "\\", 1);
		buf_append(b, v, 1);
	}
	buf_puts(b, "'");
}

/* Length of a URL scheme at @s ("postgresql+asyncpg") followed by ':',
 * or 0 when @s does not start with one. */
static size_t
scheme_len(const char *s)
{
	size_t i = 0;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '.' ||
	       s[i] == '-')
		i++;
	return s[i] == ':' ? i : 0;
}

static bool
scheme_is_postgres(const char *s, size_t len)
{
	size_t base = 0, i;

	while (base < len && s[base] != '+')
		base++;
	if (!((base == 10 && strncasecmp(s, "postgresql", 10) == 0) ||
	      (base == 8 && strncasecmp(s, "postgres", 8) == 0)))
		return false;
	if (base == len)
		return true;
	/* "+driver": asyncpg, psycopg2, psycopg, pg8000, ... */
	if (base + 1 == len)
		return false;
	for (i = base + 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int
parse_url(struct kvlist *kv, const char *s, size_t n, char *err, size_t errlen)
{
	size_t i = 0, auth_end, user_end;
	const char *at = NULL;
	int rc;

	/* Userinfo (SQLAlchemy's rule, see the top of the file). */
	for (user_end = 0; user_end < n; user_end++) {
		char c = s[user_end];

		if (c == ':' || c == '@' || c == '/' || c == '?')
			break;
	}
	if (user_end < n && s[user_end] == '@') {
		at = s + user_end;
	} else if (user_end < n && s[user_end] == ':') {
		at = memchr(s + user_end, '@', n - user_end);
	}
	if (at) {
		char *user = NULL, *pw = NULL;
		size_t at_off = (size_t)(at - s);

		rc = decode_into(s, user_end, &user, "user name", err, errlen);
		if (rc < 0)
			return rc;
		if (*user && kv_set(kv, "user", user) < 0) {
			free(user);
			return MIGRATE_ENOMEM;
		}
		free(user);
		if (user_end < at_off) {
			rc = decode_into(s + user_end + 1,
					 at_off - user_end - 1, &pw, "password",
					 err, errlen);
			if (rc < 0)
				return rc;
			if (*pw && kv_set(kv, "password", pw) < 0) {
				free(pw);
				return MIGRATE_ENOMEM;
			}
			free(pw);
		}
		i = at_off + 1;
	}

	for (auth_end = i; auth_end < n; auth_end++)
		if (s[auth_end] == '/' || s[auth_end] == '?')
			break;
	rc = parse_hosts(kv, s + i, auth_end - i, err, errlen);
	if (rc < 0)
		return rc;
	i = auth_end;
	if (i < n && s[i] == '/') {
		size_t end = ++i;
		char *db = NULL;

		while (end < n && s[end] != '?')
			end++;
		rc = decode_into(s + i, end - i, &db, "database name", err,
				 errlen);
		if (rc < 0)
			return rc;
		if (*db && kv_set(kv, "dbname", db) < 0)
			rc = MIGRATE_ENOMEM;
		free(db);
		if (rc < 0)
			return rc;
		i = end;
	}
	if (i < n && s[i] == '?')
		return parse_query(kv, s + i + 1, n - i - 1, err, errlen);
	return 0;
}

int
migrate__url_to_conninfo(const char *url, char **out, char *err, size_t errlen)
{
	struct kvlist kv = { STRV_INIT, STRV_INIT };
	struct buf b = BUF_INIT;
	const char *s = url ? url : "";
	size_t n, slen, k;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	/* Surrounding white space (a trailing newline from a file or an
	 * environment variable) means nothing in either form. */
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;

	slen = scheme_len(s);
	if (slen == 0 || slen >= n) {
		/* A conninfo string ("host=... dbname=...") or "": libpq
		 * reads it; the backend validates it with PQconninfoParse. */
		*out = xstrndup(s, n);
		return *out ? 0 : MIGRATE_ENOMEM;
	}
	if (!scheme_is_postgres(s, slen)) {
		char msg[200];

		/* "word:..." without "//" but with '=' is conninfo. */
		if (s[slen + 1] != '/' && memchr(s, '=', n)) {
			*out = xstrndup(s, n);
			return *out ? 0 : MIGRATE_ENOMEM;
		}
		snprintf(msg, sizeof(msg),
			 "unsupported database URL scheme \"%.*s\" (use "
			 "postgresql://, postgres:// or postgresql+DRIVER://)",
			 (int)(slen > 40 ? 40 : slen), s);
		return url_error(err, errlen, msg);
	}
	if (n < slen + 3 || s[slen + 1] != '/' || s[slen + 2] != '/')
		return url_error(err, errlen,
				 "malformed database URL: expected \"//\" "
				 "after the scheme");
	/* RFC 3986 has no raw white space or control characters in a URL.
	 * Refusing them keeps the parser and migrate__redact() in agreement
	 * on where the password is (a space in the user name once made the
	 * redactor miss it). The message names the position only. */
	for (k = slen + 3; k < n; k++) {
		unsigned char c = (unsigned char)s[k];

		if (c <= 0x20 || c == 0x7f) {
			char msg[160];

			snprintf(msg, sizeof(msg),
				 "malformed database URL: white space or a "
				 "control character at position %zu "
				 "(percent-encode it, e.g. %%20 for a space)",
				 k + 1);
			return url_error(err, errlen, msg);
		}
	}

	rc = parse_url(&kv, s + slen + 3, n - slen - 3, err, errlen);
	if (rc < 0)
		goto out;
	for (k = 0; k < kv.keys.n; k++) {
		if (k)
			buf_puts(&b, " ");
		buf_puts(&b, kv.keys.v[k]);
		buf_puts(&b, "=");
		conninfo_value(&b, kv.vals.v[k]);
	}
	*out = buf_steal(&b);
	if (!*out)
		rc = MIGRATE_ENOMEM;
out:
	if (rc == MIGRATE_ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
	buf_free(&b);
	kv_clear(&kv);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Redaction                                                           */
/* ------------------------------------------------------------------ */

struct out {
	char *p;
	size_t left; /* bytes left, the NUL included */
};

static void
out_put(struct out *o, const char *s, size_t n)
{
	if (o->left <= 1)
		return;
	if (n > o->left - 1)
		n = o->left - 1;
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
	*o->p = '\0';
}

/* After "://" at @s: the length of "user:password@" per the userinfo rule
 * and the offset of the password in it, or 0 when there is no password. */
static size_t
url_userinfo(const char *s, size_t *pw_off)
{
	size_t i = 0, j, last;

	/* Neither white space nor a line break ends the user name here: a
	 * malformed URL with "a b:secret@" must not show "secret". */
	while (s[i] && s[i] != ':' && s[i] != '@' && s[i] != '/' && s[i] != '?')
		i++;
	if (s[i] != ':')
		return 0;
	/* The last '@' of the text: when the password holds a raw '@',
	 * white space or a line break (a malformed URL), hiding too much
	 * beats showing a part of it. */
	last = 0;
	for (j = i + 1; s[j]; j++)
		if (s[j] == '@')
			last = j;
	if (!last)
		return 0;
	*pw_off = i + 1;
	return last + 1;
}

/* At @s, "password" (any case) then optional blanks, '=' and blanks:
 * the length up to the value, else 0. */
static size_t
password_key(const char *s)
{
	size_t i = 8;

	if (strncasecmp(s, "password", 8) != 0)
		return 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (s[i] != '=')
		return 0;
	i++;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

/* Length of the value at @s: a quoted conninfo value ('..' with \' or ''
 * inside, or ".."), or up to white space, or up to a '&' that starts the
 * next URL query parameter. */
static size_t
password_value(const char *s)
{
	size_t i = 0;

	if (s[0] == '\'' || s[0] == '"') {
		char q = s[0];

		for (i = 1; s[i]; i++) {
			if (s[i] == '\\' && s[i + 1]) {
				i++;
			} else if (s[i] == q) {
				if (s[i + 1] == q) {
					i++;
					continue;
				}
				return i + 1;
			}
		}
		return i;
	}
	for (; s[i] && !isspace((unsigned char)s[i]); i++) {
		if (s[i] == '&') {
			size_t k = i + 1;

			while (isalnum((unsigned char)s[k]) || s[k] == '_')
				k++;
			if (k > i + 1 && s[k] == '=')
				break;
		}
	}
	return i;
}

void
migrate__redact(const char *in, char *out, size_t outlen)
{
	struct out o = { out, outlen };
	const char *s = in ? in : "";

	if (!out || !outlen)
		return;
	out[0] = '\0';
	while (*s) {
		size_t k, pw_off = 0;

		if (s[0] == ':' && s[1] == '/' && s[2] == '/') {
			out_put(&o, s, 3);
			s += 3;
			k = url_userinfo(s, &pw_off);
			if (k) {
				out_put(&o, s, pw_off);
				out_put(&o, "***@", 4);
				s += k;
			}
			continue;
		}
		if ((k = password_key(s)) != 0) {
			out_put(&o, s, k);
			out_put(&o, "***", 3);
			s += k;
			s += password_value(s);
			continue;
		}
		out_put(&o, s, 1);
		s++;
	}
}
