/* SPDX-License-Identifier: MIT */
/*
 * Small internal helpers: growable strings, string vectors, SQL quoting,
 * clocks. Every function that allocates reports failure instead of
 * aborting, so that the library can turn it into MIGRATE_ENOMEM.
 */
#ifndef LIBMIGRATE_UTIL_H
#define LIBMIGRATE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "migrate-util.h"

/*
 * The static library exposes every non-static symbol to the program that
 * links it, so the short names below are spelled with the library's prefix
 * in the object files (an application may well have its own xstrdup or
 * buf_append). The code keeps the short names.
 */
#define buf_append      migrate__buf_append
#define buf_free        migrate__buf_free
#define buf_printf      migrate__buf_printf
#define buf_puts        migrate__buf_puts
#define buf_sql_ident   migrate__buf_sql_ident
#define buf_sql_literal migrate__buf_sql_literal
#define buf_steal       migrate__buf_steal
#define buf_vprintf     migrate__buf_vprintf
#define strv_clear      migrate__strv_clear
#define strv_copy       migrate__strv_copy
#define strv_find       migrate__strv_find
#define strv_push       migrate__strv_push
#define strv_pushn      migrate__strv_pushn
#define strv_remove     migrate__strv_remove
#define utf8_chars      migrate__utf8_chars
#define xsnprintf       migrate__xsnprintf
#define xstrdup         migrate__xstrdup
#define xstrndup        migrate__xstrndup

#if defined(__GNUC__)
#define MIGRATE__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MIGRATE__PRINTF(a, b)
#endif

/* A growable, always NUL-terminated byte string. After an allocation
 * failure `oom` is set and every later append is a no-op, so callers can
 * append freely and check once at the end. */
struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
	bool oom;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0, false                                              \
	}

void buf_append(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) MIGRATE__PRINTF(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	MIGRATE__PRINTF(2, 0);
/* Append @s as a SQL string literal ('it''s'), or E'...' when it holds a
 * backslash. */
void buf_sql_literal(struct buf *b, const char *s);
/* Append @s as a quoted SQL identifier ("my ""table""). */
void buf_sql_ident(struct buf *b, const char *s);
/* Hand the string over (caller frees) or NULL on OOM; resets @b. A buffer
 * that never had anything appended yields "". */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/* A growable array of owned strings. */
struct strv {
	char **v;
	size_t n;
	size_t cap;
};

#define STRV_INIT                                                              \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Append a copy of @s. Returns 0 or -1 on OOM. */
int strv_push(struct strv *sv, const char *s);
/* Append a copy of the first @n bytes of @s. */
int strv_pushn(struct strv *sv, const char *s, size_t n);
/* Index of @s in @sv or -1. */
long strv_find(const struct strv *sv, const char *s);
/* Remove entry @i (order kept). */
void strv_remove(struct strv *sv, size_t i);
/* Replace @dst's content by a copy of @src. */
int strv_copy(struct strv *dst, const struct strv *src);
void strv_clear(struct strv *sv);

/* strdup/strndup that return NULL on OOM (and on NULL input for xstrdup). */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* snprintf into a fixed buffer, truncating safely; returns @buf. */
char *xsnprintf(char *buf, size_t size, const char *fmt, ...)
	MIGRATE__PRINTF(3, 4);

/* UTF-8 characters (not bytes) in the first @n bytes of @s, stopping at a
 * NUL: the server's error positions count characters. */
long utf8_chars(const char *s, size_t n);

/* The clocks, the duration grammar, the id set and joiner live in the
 * utility library shared with the CLI (util/migrate-util.h). */
#define clock_ms   migrate__clock_ms
#define clock_wall migrate__clock_wall

#endif /* LIBMIGRATE_UTIL_H */
