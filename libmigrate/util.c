/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return false;
	if (extra > (size_t)-1 / 2 - b->len) {
		b->oom = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static void
buf_quoted(struct buf *b, const char *s, char quote)
{
	const char *p;

	buf_append(b, &quote, 1);
	for (p = s; *p; p++) {
		if (*p == quote || (quote == '\'' && *p == '\\'))
			buf_append(b, p, 1);
		buf_append(b, p, 1);
	}
	buf_append(b, &quote, 1);
}

void
buf_sql_literal(struct buf *b, const char *s)
{
	/* E'' doubles backslashes, so the literal means the same whatever
	 * standard_conforming_strings says. */
	if (strchr(s, '\\'))
		buf_append(b, "E", 1);
	buf_quoted(b, s, '\'');
}

void
buf_sql_ident(struct buf *b, const char *s)
{
	buf_quoted(b, s, '"');
}

char *
buf_steal(struct buf *b)
{
	char *s;

	if (b->oom) {
		buf_free(b);
		return NULL;
	}
	s = b->data ? b->data : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

int
strv_pushn(struct strv *sv, const char *s, size_t n)
{
	char *copy;

	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v)
			return -1;
		sv->v = v;
		sv->cap = cap;
	}
	copy = xstrndup(s, n);
	if (!copy)
		return -1;
	sv->v[sv->n++] = copy;
	return 0;
}

int
strv_push(struct strv *sv, const char *s)
{
	return strv_pushn(sv, s, strlen(s));
}

long
strv_find(const struct strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (long)i;
	return -1;
}

void
strv_remove(struct strv *sv, size_t i)
{
	if (i >= sv->n)
		return;
	free(sv->v[i]);
	memmove(sv->v + i, sv->v + i + 1, (sv->n - i - 1) * sizeof(*sv->v));
	sv->n--;
}

int
strv_copy(struct strv *dst, const struct strv *src)
{
	struct strv tmp = STRV_INIT;
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (strv_push(&tmp, src->v[i]) < 0) {
			strv_clear(&tmp);
			return -1;
		}
	}
	strv_clear(dst);
	*dst = tmp;
	return 0;
}

void
strv_clear(struct strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xstrdup(const char *s)
{
	if (!s)
		return NULL;
	return xstrndup(s, strlen(s));
}

char *
xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!size)
		return buf;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

long
utf8_chars(const char *s, size_t n)
{
	long count = 0;
	size_t i;

	for (i = 0; i < n && s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}
