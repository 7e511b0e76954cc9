/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL-aware statement splitter, used to run non-transactional
 * revisions (transaction=false) one statement at a time.
 *
 * It follows the lexical rules of the PostgreSQL server (scan.l) and the
 * statement-splitting heuristics of psql (psqlscan.l), with
 * standard_conforming_strings on (the default since 9.1):
 *
 * - '...' with '' escapes; B'', X'', N'' and U&'' strings lex the same way
 *   (their prefix is an ordinary word in front of the quote);
 * - E'...' / e'...' with backslash escapes (\' and \\) as well as '';
 * - "..." quoted identifiers (also U&"...") with "" escapes;
 * - $$...$$ and $tag$...$tag$ dollar quoting; a tag follows identifier
 *   rules without '$' and cannot start with a digit, so $1 is a parameter;
 *   a '$' inside a word (a$b) belongs to the word;
 * - nested block comments (slash-star ... star-slash) and -- line
 *   comments (which end at CR or LF);
 * - like psql, a ';' inside parentheses does not end a statement, and in
 *   CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN ATOMIC ... END bodies
 *   (with CASE ... END nested inside) are kept whole. Keywords count only
 *   as whole words outside quotes, comments and parentheses.
 *
 * A statement starts at its first byte that is not white space: comments
 * in front of it are kept (they may carry planner hints), and it ends at
 * its last non-blank byte before the ';' (or the end of the text).
 * Statements holding only white space and comments are dropped.
 * Columns count UTF-8 characters (a tab is one character); lines are
 * counted at LF, so CRLF text gets the same numbers as LF text.
 *
 * psql meta-commands cannot run through libpq: a backslash that is the
 * first non-blank character of a line, outside quotes and comments, is an
 * error.
 *
 * One forward pass, no recursion, lookahead bounded by @len (the text need
 * not be NUL-terminated); the only allocation is the doubling result array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "private.h"

/* Longest dollar-quote tag or meta-command quoted in a message. */
#define SHOW_MAX 40

struct splitter {
	const char *s;
	size_t len;

	/* Line/column of byte `at`; only ever moves forward, so computing
	 * the position of every statement stays linear. */
	size_t at;
	size_t line;
	size_t col;

	struct migrate_sql_stmt *v;
	size_t n;
	size_t cap;

	struct migrate_diag *diag; /* where a failure is reported */
};

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* ident_start / dolq_start of scan.l: letters, '_' and any byte >= 0x80. */
static bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

/* dolq_cont: ident_start plus digits. */
static bool
is_tag_cont(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* ident_cont: dolq_cont plus '$'. */
static bool
is_ident_cont(unsigned char c)
{
	return is_tag_cont(c) || c == '$';
}

/* Case-insensitive match of a word against a lower-case ASCII keyword. */
static bool
word_is(const char *w, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (kw[i] == '\0' || c != (unsigned char)kw[i])
			return false;
	}
	return kw[n] == '\0';
}

/* Move the line/column tracker to byte @off. */
static void
track_to(struct splitter *sp, size_t off)
{
	if (off < sp->at) {
		/* Never happens (positions are asked for in order), but
		 * stay correct if it ever does. */
		sp->at = 0;
		sp->line = 1;
		sp->col = 1;
	}
	for (; sp->at < off; sp->at++) {
		unsigned char c = (unsigned char)sp->s[sp->at];

		if (c == '\n') {
			sp->line++;
			sp->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			/* Not a UTF-8 continuation byte: a new character. */
			sp->col++;
		}
	}
}

/* Copy up to SHOW_MAX bytes of @p for a message, without cutting a UTF-8
 * character and with control bytes replaced by '?'. */
static void
show(char *out, size_t outlen, const char *p, size_t n)
{
	size_t i, k = 0;
	bool cut = false;

	if (n > SHOW_MAX) {
		n = SHOW_MAX;
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	for (i = 0; i < n && k + 4 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];

		out[k++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	if (cut && k + 4 < outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	if (outlen)
		out[k] = '\0';
}

/* Report "line N: WHAT[SHOWN SUFFIX]" where N is the line of byte @where
 * and SHOWN the @n bytes at @p (if @p). */
static int
fail(struct splitter *sp,
     size_t where,
     const char *what,
     const char *p,
     size_t n,
     const char *suffix)
{
	char shown[SHOW_MAX * 2 + 8] = "";

	track_to(sp, where);
	if (p)
		show(shown, sizeof(shown), p, n);
	return migrate__fail(sp->diag, MIGRATE_EPARSE, "line %zu: %s%s%s",
			     sp->line, what, shown, suffix ? suffix : "");
}

static int
emit(struct splitter *sp, size_t start, size_t end)
{
	struct migrate_sql_stmt *st;

	while (end > start && is_space((unsigned char)sp->s[end - 1]))
		end--;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 16;
		struct migrate_sql_stmt *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return MIGRATE_ENOMEM;
		v = realloc(sp->v, cap * sizeof(*v));
		if (!v)
			return MIGRATE_ENOMEM;
		sp->v = v;
		sp->cap = cap;
	}
	track_to(sp, start);
	st = &sp->v[sp->n++];
	st->offset = start;
	st->len = end - start;
	st->line = sp->line;
	st->column = sp->col;
	return 0;
}

/* Skip a '...' or "..." token whose opening quote is at @i; a doubled
 * quote is an escape and, when @backslash, so is a backslash (E'').
 * Returns the index after the closing quote, or @len when unterminated. */
static size_t
skip_quoted(const char *s,
	    size_t len,
	    size_t i,
	    char q,
	    bool backslash,
	    bool *ok)
{
	size_t j = i + 1;

	while (j < len) {
		char c = s[j];

		if (backslash && c == '\\') {
			j += 2;
			continue;
		}
		if (c == q) {
			if (j + 1 < len && s[j + 1] == q) {
				j += 2;
				continue;
			}
			*ok = true;
			return j + 1;
		}
		j++;
	}
	*ok = false;
	return len;
}

/* Skip a block comment opening at @i, counting nesting like the server.
 * Returns the index after the final "*" "/", or @len when unterminated. */
static size_t
skip_block_comment(const char *s, size_t len, size_t i, bool *ok)
{
	size_t depth = 1, j = i + 2;

	while (j < len) {
		if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') {
			depth++;
			j += 2;
		} else if (s[j] == '*' && j + 1 < len && s[j + 1] == '/') {
			j += 2;
			if (--depth == 0) {
				*ok = true;
				return j;
			}
		} else {
			j++;
		}
	}
	*ok = false;
	return len;
}

/* Length of the dollar-quote opener ("$$" or "$tag$") at @i, 0 if the '$'
 * at @i does not open one ($1, a lone '$'). */
static size_t
dollar_tag_len(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;

	if (j < len && s[j] == '$')
		return 2;
	if (j >= len || !is_ident_start((unsigned char)s[j]))
		return 0;
	while (j < len && is_tag_cont((unsigned char)s[j]))
		j++;
	if (j < len && s[j] == '$')
		return j + 1 - i;
	return 0;
}

/* Skip the body of a dollar-quoted string whose tag (@tlen bytes, both
 * '$' included) starts at @i. Linear: a failed comparison at a '$' can
 * only run over tag characters, which hold no '$', so the next candidate
 * lies beyond the bytes it compared. */
static size_t
skip_dollar(const char *s, size_t len, size_t i, size_t tlen, bool *ok)
{
	size_t j = i + tlen;

	while (j < len) {
		const char *d = memchr(s + j, '$', len - j);

		if (!d)
			break;
		j = (size_t)(d - s);
		if (len - j >= tlen && memcmp(s + j, s + i, tlen) == 0) {
			*ok = true;
			return j + tlen;
		}
		j++;
	}
	*ok = false;
	return len;
}

/* A backslash at @i is a psql meta-command when only blanks precede it on
 * its line. */
static bool
at_line_start(const char *s, size_t i)
{
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	return i == 0 || s[i - 1] == '\n' || s[i - 1] == '\r';
}

/* Where the routine header CREATE [OR REPLACE] FUNCTION|PROCEDURE stands
 * after the words seen so far in the statement. */
enum header {
	HDR_START,   /* no word yet */
	HDR_CREATE,  /* CREATE */
	HDR_OR,      /* CREATE OR */
	HDR_REPLACE, /* CREATE OR REPLACE */
	HDR_ROUTINE, /* a function or procedure definition */
	HDR_OTHER,   /* any other statement */
};

static enum header
header_routine(const char *w, size_t n)
{
	if (word_is(w, n, "function") || word_is(w, n, "procedure"))
		return HDR_ROUTINE;
	return HDR_OTHER;
}

static enum header
header_next(enum header h, const char *w, size_t n)
{
	switch (h) {
	case HDR_START:
		return word_is(w, n, "create") ? HDR_CREATE : HDR_OTHER;
	case HDR_CREATE:
		if (word_is(w, n, "or"))
			return HDR_OR;
		return header_routine(w, n);
	case HDR_REPLACE:
		return header_routine(w, n);
	case HDR_OR:
		return word_is(w, n, "replace") ? HDR_REPLACE : HDR_OTHER;
	case HDR_ROUTINE:
	case HDR_OTHER:
		break;
	}
	return h;
}

static int
split(struct splitter *sp)
{
	const char *s = sp->s;
	size_t len = sp->len;
	size_t i = 0, start = 0;
	bool in_stmt = false; /* start is set (comments count) */
	bool content = false; /* seen something other than comments */
	size_t parens = 0, atomic = 0;
	enum header hdr = HDR_START;
	bool after_begin = false;
	bool ok;
	int rc;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		bool was_begin;

		if (is_space(c)) {
			i++;
			continue;
		}
		if (c == '\\' && at_line_start(s, i)) {
			size_t j = i + 1;

			while (j < len && j - i <= SHOW_MAX &&
			       !is_space((unsigned char)s[j]) && s[j] != '\\')
				j++;
			return fail(sp, i, "psql meta-command '", s + i, j - i,
				    "' is not supported");
		}
		if (!in_stmt) {
			start = i;
			in_stmt = true;
		}
		if (c == '-' && i + 1 < len && s[i + 1] == '-') {
			while (i < len && s[i] != '\n' && s[i] != '\r')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t end = skip_block_comment(s, len, i, &ok);

			if (!ok)
				return fail(sp, i, "unterminated /* comment",
					    NULL, 0, NULL);
			i = end;
			continue;
		}

		/* A token: BEGIN only counts when ATOMIC comes next. */
		was_begin = after_begin;
		after_begin = false;

		if (c == ';' && parens == 0 && atomic == 0) {
			if (content) {
				rc = emit(sp, start, i);
				if (rc)
					return rc;
			}
			in_stmt = false;
			content = false;
			hdr = HDR_START;
			i++;
			continue;
		}
		content = true;

		if (is_ident_start(c)) {
			size_t j = i + 1;

			while (j < len && is_ident_cont((unsigned char)s[j]))
				j++;
			if (j - i == 1 && (c == 'e' || c == 'E') && j < len &&
			    s[j] == '\'') {
				size_t end =
					skip_quoted(s, len, j, '\'', true, &ok);

				if (!ok)
					return fail(sp, i,
						    "unterminated E'' string",
						    NULL, 0, NULL);
				i = end;
				continue;
			}
			if (hdr != HDR_ROUTINE) {
				hdr = header_next(hdr, s + i, j - i);
			} else if (parens == 0) {
				if (word_is(s + i, j - i, "begin"))
					after_begin = true;
				else if (was_begin &&
					 word_is(s + i, j - i, "atomic"))
					atomic++;
				else if (atomic > 0 &&
					 word_is(s + i, j - i, "case"))
					atomic++;
				else if (atomic > 0 &&
					 word_is(s + i, j - i, "end"))
					atomic--;
			}
			i = j;
			continue;
		}
		switch (c) {
		case '\'':
		case '"': {
			size_t end =
				skip_quoted(s, len, i, (char)c, false, &ok);

			if (!ok)
				return fail(
					sp, i,
					c == '"'
						? "unterminated quoted identifier"
						: "unterminated quoted string",
					NULL, 0, NULL);
			i = end;
			break;
		}
		case '$': {
			size_t tlen = dollar_tag_len(s, len, i);
			size_t end;

			if (!tlen) {
				i++;
				break;
			}
			end = skip_dollar(s, len, i, tlen, &ok);
			if (!ok)
				return fail(
					sp, i,
					"unterminated dollar-quoted string starting with ",
					s + i, tlen, NULL);
			i = end;
			break;
		}
		case '(':
			parens++;
			i++;
			break;
		case ')':
			if (parens > 0)
				parens--;
			i++;
			break;
		default:
			i++;
			break;
		}
	}
	if (content)
		return emit(sp, start, len);
	return 0;
}

int
migrate__sql_split(const char *sql,
		   size_t len,
		   struct migrate_sql_stmt **out,
		   size_t *n_out,
		   struct migrate_diag *diag)
{
	struct splitter sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.s = sql;
	sp.len = sql ? len : 0;
	sp.line = 1;
	sp.col = 1;
	sp.diag = diag;
	migrate__diag_clear(diag);
	*out = NULL;
	*n_out = 0;

	rc = split(&sp);
	if (rc) {
		if (rc == MIGRATE_ENOMEM)
			migrate__fail(diag, rc, "out of memory");
		free(sp.v);
		return rc;
	}
	*out = sp.v;
	*n_out = sp.n;
	return 0;
}
