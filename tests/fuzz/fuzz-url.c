/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for migrate__url_to_conninfo() (url.c), the libpq
 * backend's checks of its result (PQconninfoParse with our messages, in
 * migrate__backend_pq_new) and migrate__redact() (redact.c). Besides
 * crashes, leaks and undefined behaviour it checks that messages and
 * redacted text stay inside their buffers and never show a password that
 * is plainly written in the input (user:PASSWORD@ in a URL, or
 * password=PASSWORD in a URL query or a conninfo string).
 */
/* memmem() */
#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate-backend.h>
#include <libmigrate.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Passwords shorter than this could appear in a message by chance. */
#define MIN_SECRET 6

static bool
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static size_t
count(const char *hay, const char *needle, size_t nlen)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = memmem(p, strlen(p), needle, nlen)) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* After "postgresql://", "postgres://" or "postgresql+DRIVER://", or
 * NULL. */
static const char *
url_scheme_end(const char *s)
{
	size_t n;

	if (strncmp(s, "postgresql", 10) == 0)
		n = 10;
	else if (strncmp(s, "postgres", 8) == 0)
		n = 8;
	else
		return NULL;
	if (s[n] == '+' && n == 10) {
		n++;
		while (alnum(s[n]) || s[n] == '_')
			n++;
	}
	return strncmp(s + n, "://", 3) == 0 ? s + n + 3 : NULL;
}

/* A password that must not show: an alphanumeric run of at least
 * MIN_SECRET characters with a digit and a letter, appearing exactly once
 * in @s, either between "user:" and '@' in the authority of a postgres URL
 * or right after a "password=" that starts a word. Copies it into @out and
 * returns true. */
static bool
find_secret(const char *s, char *out, size_t outlen)
{
	const char *p = NULL, *q;
	size_t n, k, l;

	if (url_scheme_end(s)) {
		const char *auth = url_scheme_end(s);
		const char *end = auth + strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		const char *colon =
			at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;

		if (at && colon && !memchr(at + 1, '@', (size_t)(end - at - 1)))
			p = colon + 1;
	}
	if (!p) {
		for (q = strstr(s, "password="); q;
		     q = strstr(q + 1, "password=")) {
			if (q == s || q[-1] == ' ' || q[-1] == '?' ||
			    q[-1] == '&') {
				p = q + 9;
				break;
			}
		}
	}
	if (!p)
		return false;
	for (n = 0; alnum(p[n]); n++)
		;
	/* The run must end the value (no quoting or escapes after it). */
	if (n < MIN_SECRET || n >= outlen ||
	    (p[n] != '\0' && p[n] != '@' && p[n] != ' ' && p[n] != '&'))
		return false;
	if (count(s, p, n) != 1)
		return false;
	/* A digit and a letter, so that it cannot be a word of the
	 * library's own messages ("postgresql"). */
	for (k = 0; k < n && !(p[k] >= '0' && p[k] <= '9'); k++)
		;
	for (l = 0; l < n && (p[l] >= '0' && p[l] <= '9'); l++)
		;
	if (k == n || l == n)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t outlens[] = { 1, 2, 9, 64, 4096 };
	char *s = malloc(size + 1);
	char *conninfo = NULL;
	char err[512], secret[128];
	bool has_secret;
	size_t i;
	int rc;

	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	has_secret = find_secret(s, secret, sizeof(secret));

	err[0] = '\0';
	rc = migrate__url_to_conninfo(s, &conninfo, err, sizeof(err));
	check(rc == 0 || rc == MIGRATE_EINVAL || rc == MIGRATE_ENOMEM);
	check(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0) {
		check(conninfo != NULL);
		free(conninfo);
	} else {
		check(conninfo == NULL);
		check(err[0] != '\0');
		if (has_secret && strstr(err, secret)) {
			fprintf(stderr, "password '%s' in message: %s\n",
				secret, err);
			abort();
		}
	}

	/* The whole constructor: url.c, then libpq's parse of the result
	 * with our own messages. */
	{
		struct migrate_backend *be = NULL;
		struct migrate_diag diag;

		rc = migrate__backend_pq_new(&be, s, &diag);
		check(rc == 0 || rc == MIGRATE_EINVAL || rc == MIGRATE_ENOMEM);
		check(memchr(diag.msg, '\0', sizeof(diag.msg)) != NULL);
		check((rc == 0) == (be != NULL));
		if (be)
			be->free(be);
		if (rc != 0 && has_secret && strstr(diag.msg, secret)) {
			fprintf(stderr, "password '%s' in message: %s\n",
				secret, diag.msg);
			abort();
		}
	}

	for (i = 0; i < sizeof(outlens) / sizeof(outlens[0]); i++) {
		size_t outlen = outlens[i];
		char *out = malloc(outlen); /* exact size: overflows show */

		check(out != NULL);
		migrate__redact(s, out, outlen);
		check(memchr(out, '\0', outlen) != NULL);
		if (has_secret && strstr(out, secret)) {
			fprintf(stderr, "password '%s' not redacted: %s\n",
				secret, out);
			abort();
		}
		free(out);
	}
	free(s);
	return 0;
}
