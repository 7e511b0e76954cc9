/* SPDX-License-Identifier: MIT */
/*
 * Password redaction: the one owner of "where is a password in this text",
 * applied to every message the library produces (backend errors, libpq's
 * text, URLs a user typed). It knows three forms:
 *
 * - a URL's userinfo, "://user:PASSWORD@", by the same rule as url.c (the
 *   user name ends at the first ':', the password runs to the last '@'
 *   of the text: when a malformed URL holds several, hiding too much
 *   beats showing a part); a "password=VALUE" in what that rule takes
 *   for the user name (free text before a later ':') is hidden too;
 * - "password=VALUE" in conninfo strings and URL query strings, any case,
 *   blanks around '=' allowed; VALUE quoted ('..' with \' or '' inside,
 *   or ".."), or up to white space, or up to a '&' that starts the next
 *   query parameter.
 *
 * The fuzz target tests/fuzz/fuzz-url.c checks that a password plainly
 * written in the input never survives, in any output buffer size.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "private.h"

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

/* Copy the @n bytes at @s, the user name of a URL's userinfo, with any
 * "password=VALUE" in them hidden, the value ending with them at the
 * latest. */
static void
put_user(struct out *o, const char *s, size_t n)
{
	size_t i = 0, k, v;

	while (i < n) {
		k = password_key(s + i);
		if (k && k <= n - i) {
			out_put(o, s + i, k);
			out_put(o, "***", 3);
			i += k;
			v = password_value(s + i);
			i += v < n - i ? v : n - i;
			continue;
		}
		out_put(o, s + i, 1);
		i++;
	}
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
				/* s[pw_off - 1] is the ':' */
				put_user(&o, s, pw_off - 1);
				out_put(&o, ":***@", 5);
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
