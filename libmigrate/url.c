/* SPDX-License-Identifier: MIT */
/*
 * Database URLs: what libpq cannot do itself. The same URL serves Python
 * tooling, so SQLAlchemy's spellings are turned into a URI libpq reads:
 *
 * - the scheme: postgresql://, postgres:// and postgresql+DRIVER://
 *   (asyncpg, psycopg2, psycopg, pg8000, ...) become postgresql://;
 * - userinfo follows SQLAlchemy's rule, so that both sides read a URL the
 *   same way: the user name ends at the first ':' or '@'; after a ':' the
 *   password runs to the first '@' and may hold '/', '?' or ':' (libpq
 *   would end it at a '/': such characters are percent-encoded for it);
 * - query parameters of the drivers: asyncpg's ssl= (a boolean or an
 *   sslmode) becomes sslmode=, its timeout= (seconds, fractional)
 *   connect_timeout=; driver-only options are dropped, and those that
 *   change how a connection is made without a libpq equivalent refused.
 *
 * Everything else (hosts, ports, IPv6, percent-decoding, the database,
 * libpq's own query parameters) is left to libpq: the backend checks the
 * result with PQconninfoParse() and connects with it (backend-pq.c), with
 * messages of our own (libpq's quote the URL, password included). Messages
 * here never quote a part of the URL that could hold a password either.
 * A conninfo string ("host=... dbname=...") is passed on as it is.
 *
 * Redaction of passwords in any text lives in redact.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "private.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

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
in_list(const char *key, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && strncmp(key, list[i], n) == 0)
			return true;
	return false;
}

static int
url_error(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return MIGRATE_EINVAL;
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

/* Is every '%' of the @n bytes at @s followed by two hex digits, and
 * none of them %00? (libpq's own message would quote the text.) */
static bool
pct_valid(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		if (i + 2 >= n)
			return false;
		if (hexval((unsigned char)s[i + 1]) < 0 ||
		    hexval((unsigned char)s[i + 2]) < 0 ||
		    (s[i + 1] == '0' && s[i + 2] == '0'))
			return false;
		i += 2;
	}
	return true;
}

/* The @n bytes at @s percent-decoded into @out (at most @outlen - 1
 * bytes), or false when malformed or too long. For the short values of
 * the parameters we map. */
static bool
pct_decode_small(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, j = 0;

	if (!pct_valid(s, n))
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			c = (char)(hexval((unsigned char)s[i + 1]) * 16 +
				   hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		if (j + 1 >= outlen)
			return false;
		out[j++] = c;
	}
	out[j] = '\0';
	return true;
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

/* Append @n bytes at @s with '@' percent-encoded: libpq looks for the
 * end of the userinfo at the first '@' before a '/', and a query holds
 * none for it to find ("postgresql://h?application_name=a@b"). */
static void
put_no_at(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '@')
			buf_puts(b, "%40");
		else
			buf_append(b, s + i, 1);
	}
}

/*
 * Append the query parameter "key=value" (@n bytes at @s, no '&') to @b,
 * mapped for libpq. Parameters of libpq's own, and unknown ones, go on as
 * they are: libpq checks them.
 */
static int
add_query_param(struct buf *b,
		const char *s,
		size_t n,
		char *err,
		size_t errlen)
{
	const char *eq = memchr(s, '=', n);
	size_t kn = eq ? (size_t)(eq - s) : n;
	char key[40], val[64], msg[200];

	if (!eq || !pct_decode_small(s, kn, key, sizeof(key))) {
		/* libpq reports a parameter without '=' (as we would) and
		 * malformed or long names; pass them on. */
		buf_append(b, b->len ? "&" : "?", 1);
		put_no_at(b, s, n);
		return 0;
	}
	if (in_list(key, strlen(key), dropped_params, N_ELEMS(dropped_params)))
		return 0;
	if (in_list(key, strlen(key), unmappable_params,
		    N_ELEMS(unmappable_params))) {
		snprintf(msg, sizeof(msg),
			 "database URL parameter \"%s\" has no libpq "
			 "equivalent; remove it from the URL",
			 key);
		return url_error(err, errlen, msg);
	}
	if (strcmp(key, "ssl") == 0) {
		const char *mode = NULL;

		if (pct_decode_small(eq + 1, n - kn - 1, val, sizeof(val)))
			mode = map_ssl(val);
		if (!mode)
			return url_error(
				err, errlen,
				"database URL parameter \"ssl\" has an "
				"unsupported value (use true, false or an "
				"sslmode: disable, allow, prefer, require, "
				"verify-ca, verify-full)");
		buf_printf(b, "%ssslmode=%s", b->len ? "&" : "?", mode);
		return 0;
	}
	if (strcmp(key, "timeout") == 0 ||
	    strcmp(key, "connect_timeout") == 0) {
		char secs[32];

		if (!pct_decode_small(eq + 1, n - kn - 1, val, sizeof(val)) ||
		    !map_seconds(val, secs, sizeof(secs))) {
			snprintf(msg, sizeof(msg),
				 "database URL parameter \"%s\" must be a "
				 "number of seconds",
				 key);
			return url_error(err, errlen, msg);
		}
		buf_printf(b, "%sconnect_timeout=%s", b->len ? "&" : "?", secs);
		return 0;
	}
	buf_append(b, b->len ? "&" : "?", 1);
	put_no_at(b, s, n);
	return 0;
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

/* Append @n bytes of userinfo at @s, with the characters that would end
 * libpq's userinfo early ('/', and '@' which cannot occur here) or that
 * it would read as the password separator in a user name (':', which
 * cannot occur in one either) percent-encoded. */
static void
put_userinfo(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '/')
			buf_puts(b, "%2F");
		else
			buf_append(b, s + i, 1);
	}
}

/* The part after "scheme://" (@n bytes at @s) into @b as libpq's URI. */
static int
rewrite_url(struct buf *b, const char *s, size_t n, char *err, size_t errlen)
{
	size_t i = 0, user_end, q, k;
	const char *at = NULL;
	struct buf query = BUF_INIT;
	int rc = 0;

	buf_puts(b, "postgresql://");
	/* Userinfo (SQLAlchemy's rule, see the top of the file). */
	for (user_end = 0; user_end < n; user_end++) {
		char c = s[user_end];

		if (c == ':' || c == '@' || c == '/' || c == '?')
			break;
	}
	if (user_end < n && s[user_end] == '@')
		at = s + user_end;
	else if (user_end < n && s[user_end] == ':')
		at = memchr(s + user_end, '@', n - user_end);
	if (at) {
		size_t at_off = (size_t)(at - s);

		if (!pct_valid(s, user_end))
			return url_error(err, errlen,
					 "malformed database URL: invalid "
					 "percent-encoding in the user name");
		if (user_end < at_off &&
		    !pct_valid(s + user_end + 1, at_off - user_end - 1))
			return url_error(err, errlen,
					 "malformed database URL: invalid "
					 "percent-encoding in the password");
		put_userinfo(b, s, at_off + 1);
		i = at_off + 1;
	}
	/* A second '@' in the host part is one that belonged to the
	 * password (write it as %40): refused before libpq reads it as a
	 * host or port. */
	for (q = i; q < n && s[q] != '/' && s[q] != '?'; q++)
		if (s[q] == '@')
			return url_error(err, errlen,
					 "malformed database URL: '@' in the "
					 "host part (write '@' in a user name "
					 "or password as %40)");
	for (q = i; q < n && s[q] != '?'; q++)
		;
	put_no_at(b, s + i, q - i);
	/* Query parameters, one by one; empty ones ("a=1&&b=2", a trailing
	 * '&') are skipped. */
	for (k = q + 1; k < n && rc == 0;) {
		size_t end = k;

		while (end < n && s[end] != '&')
			end++;
		if (end > k)
			rc = add_query_param(&query, s + k, end - k, err,
					     errlen);
		k = end + 1;
	}
	if (rc == 0 && query.len)
		buf_puts(b, query.data);
	if (query.oom)
		b->oom = true;
	buf_free(&query);
	return rc;
}

int
migrate__url_to_conninfo(const char *url, char **out, char *err, size_t errlen)
{
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

	rc = rewrite_url(&b, s + slen + 3, n - slen - 3, err, errlen);
	if (rc == 0) {
		*out = buf_steal(&b);
		if (!*out)
			rc = MIGRATE_ENOMEM;
	}
	if (rc == MIGRATE_ENOMEM && err && errlen)
		snprintf(err, errlen, "out of memory");
	buf_free(&b);
	return rc;
}
