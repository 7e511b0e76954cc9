/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL-aware statement splitter, used to run non-transactional
 * revisions (transaction=false) one statement at a time.
 *
 * It follows the lexical rules of the PostgreSQL server (scan.l) and the
 * statement-splitting heuristics of psql 15 (psqlscan.l):
 *
 * - '...' with '' escapes; B'', X'', N'' and U&'' strings lex the same way
 *   (their prefix is an ordinary word in front of the quote). With
 *   standard_conforming_strings off, backslashes escape in them too: a
 *   statement of its own "SET [SESSION|LOCAL] standard_conforming_strings
 *   {=|TO} off" turns that on for the statements after it in the same text,
 *   "= on", "TO DEFAULT", "RESET standard_conforming_strings" and "RESET
 *   ALL" off again (psql follows the server's setting the same way);
 * - E'...' / e'...' with backslash escapes (\' and \\) as well as '';
 * - a string literal continued after white space holding a newline ('a'
 *   NEWLINE 'b') goes on as the same kind of string, as the server reads
 *   it (psql 15 itself ends an E'' continuation at a \' and sends two
 *   broken statements);
 * - a numeric literal takes one identifier character glued to it, as
 *   psql 15 lexes "1e" (the server then rejects it as trailing junk), so
 *   1e'...' holds no E'' string;
 * - "..." quoted identifiers (also U&"...") with "" escapes;
 * - $$...$$ and $tag$...$tag$ dollar quoting; a tag follows identifier
 *   rules without '$' and cannot start with a digit, so $1 is a parameter;
 *   a '$' inside a word (a$b) belongs to the word;
 * - nested block comments (slash-star ... star-slash) and -- line
 *   comments (which end at CR or LF);
 * - like psql, a ';' inside parentheses does not end a statement, and in
 *   CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN ATOMIC ... END bodies
 *   (with CASE ... END nested inside) are kept whole. Keywords count only
 *   as whole words outside quotes, comments and parentheses. psql takes
 *   any such BEGIN for a body and reads on to an END (CREATE PROCEDURE
 *   begin() ... swallows the rest of the file there); a BEGIN that is not
 *   BEGIN ATOMIC is refused instead, with its line (quote a routine named
 *   "begin").
 *
 * A statement starts at its first byte that is not white space: comments
 * in front of it are kept (they may carry planner hints), and it ends at
 * its last non-blank byte before the ';' (or the end of the text).
 * Statements holding only white space and comments are dropped.
 * Columns count UTF-8 characters (a tab is one character); lines are
 * counted at LF, so CRLF text gets the same numbers as LF text.
 *
 * psql meta-commands cannot run through libpq: a backslash outside quotes
 * and comments, at the start of a line (\connect) or after a statement
 * (SELECT 1 \g, \;), is an error with its line. SQL itself has no
 * backslash there.
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
	bool check_only; /* count the statements, record none */

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

	if (sp->check_only) {
		sp->n++;
		return 0;
	}
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

/*
 * The end of a quoted string closed just before @j, continued as SQL
 * continues string literals (scan.l quotecontinue): white space that holds
 * a newline (-- comments allowed after the first newline), then a quote
 * opens more of the same string. Returns @j when nothing follows.
 */
static size_t
skip_continuations(const char *s,
		   size_t len,
		   size_t j,
		   bool backslash,
		   bool *ok)
{
	*ok = true;
	for (;;) {
		size_t k = j;
		bool newline = false;

		while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f'))
			k++;
		while (k < len) {
			if (s[k] == '\n' || s[k] == '\r') {
				newline = true;
				k++;
			} else if (s[k] == ' ' || s[k] == '\t' ||
				   s[k] == '\f' || s[k] == '\v') {
				k++;
			} else if (newline && s[k] == '-' && k + 1 < len &&
				   s[k + 1] == '-') {
				while (k < len && s[k] != '\n' && s[k] != '\r')
					k++;
			} else {
				break;
			}
		}
		if (!newline || k >= len || s[k] != '\'')
			return j;
		j = skip_quoted(s, len, k, '\'', backslash, ok);
		if (!*ok)
			return j;
	}
}

/* A numeric literal at @i (a digit, or '.' and a digit) as psql 15 and the
 * server lex it, with the one identifier character that scan.l's *_junk
 * rules glue to it: "1e" in 1e'x' is one token, not 1 and an E'' string. */
static size_t
skip_number(const char *s, size_t len, size_t i)
{
	size_t j = i;

	while (j < len && s[j] >= '0' && s[j] <= '9')
		j++;
	if (j < len && s[j] == '.' && !(j + 1 < len && s[j + 1] == '.')) {
		j++;
		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1;

		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < len && s[k] >= '0' && s[k] <= '9') {
			j = k;
			while (j < len && s[j] >= '0' && s[j] <= '9')
				j++;
		} else if (k > j + 1) {
			return k; /* realfail: "1e+" */
		}
	}
	if (j < len && is_ident_start((unsigned char)s[j]))
		j++;
	return j;
}

/* Next token of a statement for stmt_sets_scs(): a word, the inside of a
 * '...' literal, or one other byte; comments and blanks skipped. */
static bool
next_token(const char *s, size_t n, size_t *i, const char **t, size_t *tn)
{
	size_t j = *i;

	for (;;) {
		while (j < n && is_space((unsigned char)s[j]))
			j++;
		if (j + 1 < n && s[j] == '-' && s[j + 1] == '-') {
			while (j < n && s[j] != '\n')
				j++;
		} else if (j + 1 < n && s[j] == '/' && s[j + 1] == '*') {
			bool ok;

			j = skip_block_comment(s, n, j, &ok);
		} else {
			break;
		}
	}
	if (j >= n)
		return false;
	*t = s + j;
	if (is_ident_start((unsigned char)s[j])) {
		while (j < n && is_ident_cont((unsigned char)s[j]))
			j++;
		*tn = (size_t)(s + j - *t);
	} else if (s[j] == '\'') {
		const char *q = memchr(s + j + 1, '\'', n - j - 1);

		*t = s + j + 1;
		*tn = q ? (size_t)(q - *t) : n - j - 1;
		j = q ? (size_t)(q - s) + 1 : n;
	} else {
		*tn = 1;
		j++;
	}
	*i = j;
	return true;
}

/* PostgreSQL's parse_bool() for @n bytes at @w: 1 true, 0 false, -1 not
 * a boolean. */
static int
bool_word(const char *w, size_t n)
{
	static const char *const yes[] = { "true", "yes" };
	static const char *const no[] = { "false", "no" };
	char low[8];
	size_t i;

	if (n == 0 || n >= sizeof(low))
		return -1;
	for (i = 0; i < n; i++)
		low[i] = (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] - 'A' + 'a'
							     : w[i]);
	low[n] = '\0';
	for (i = 0; i < 2; i++) {
		if (strncmp(low, yes[i], n) == 0 && yes[i][n - 1])
			return 1;
		if (strncmp(low, no[i], n) == 0 && no[i][n - 1])
			return 0;
	}
	if (strcmp(low, "on") == 0 || strcmp(low, "1") == 0)
		return 1;
	if ((n >= 2 && strncmp(low, "off", n) == 0) || strcmp(low, "0") == 0)
		return 0;
	return -1;
}

/*
 * Does the statement of @n bytes at @s set standard_conforming_strings
 * (SET [SESSION|LOCAL] ... {=|TO} value, SET ... TO DEFAULT, RESET ...,
 * RESET ALL)? Then *@on is the new value. psql follows the server's value
 * for the statements after it; so does the splitter, within one text.
 */
static bool
stmt_sets_scs(const char *s, size_t n, bool *on)
{
	const char *t;
	size_t tn, i = 0;
	int v;

	if (!next_token(s, n, &i, &t, &tn))
		return false;
	if (word_is(t, tn, "reset")) {
		if (!next_token(s, n, &i, &t, &tn) ||
		    !(word_is(t, tn, "standard_conforming_strings") ||
		      word_is(t, tn, "all")) ||
		    next_token(s, n, &i, &t, &tn))
			return false;
		*on = true;
		return true;
	}
	if (!word_is(t, tn, "set") || !next_token(s, n, &i, &t, &tn))
		return false;
	if ((word_is(t, tn, "session") || word_is(t, tn, "local")) &&
	    !next_token(s, n, &i, &t, &tn))
		return false;
	if (!word_is(t, tn, "standard_conforming_strings") ||
	    !next_token(s, n, &i, &t, &tn) ||
	    !(word_is(t, tn, "to") || (tn == 1 && t[0] == '=')) ||
	    !next_token(s, n, &i, &t, &tn))
		return false;
	v = word_is(t, tn, "default") ? 1 : bool_word(t, tn);
	if (v < 0 || next_token(s, n, &i, &t, &tn))
		return false;
	*on = v == 1;
	return true;
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
begin_not_atomic(struct splitter *sp, size_t at)
{
	return fail(
		sp, at,
		"BEGIN in CREATE FUNCTION/PROCEDURE that is not BEGIN ATOMIC: psql would read on to a matching END; write \"begin\" in quotes if it is a name",
		NULL, 0, NULL);
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
	size_t begin_at = 0;
	bool scs = true; /* standard_conforming_strings */
	bool ok;
	int rc;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		bool was_begin;

		if (is_space(c)) {
			i++;
			continue;
		}
		/* Outside quotes and comments SQL has no backslash: it is a
		 * psql meta-command (\connect at a line's start, \g or \;
		 * after a statement), which libpq cannot run. */
		if (c == '\\') {
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
		/* psql takes any BEGIN of a routine statement (outside
		 * parentheses) for the start of a body and reads on to its
		 * END: CREATE PROCEDURE begin() ... would swallow the rest of
		 * the text there. Refuse what is not BEGIN ATOMIC. */
		if (was_begin && !(is_ident_start(c) && i + 6 <= len &&
				   word_is(s + i, 6, "atomic") &&
				   (i + 6 == len ||
				    !is_ident_cont((unsigned char)s[i + 6]))))
			return begin_not_atomic(sp, begin_at);

		if (c == ';' && parens == 0 && atomic == 0) {
			if (content) {
				rc = emit(sp, start, i);
				if (rc)
					return rc;
				stmt_sets_scs(s + start, i - start, &scs);
			}
			in_stmt = false;
			content = false;
			hdr = HDR_START;
			i++;
			continue;
		}
		content = true;

		if ((c >= '0' && c <= '9') ||
		    (c == '.' && i + 1 < len && s[i + 1] >= '0' &&
		     s[i + 1] <= '9')) {
			i = skip_number(s, len, i);
			continue;
		}
		if (is_ident_start(c)) {
			size_t j = i + 1;

			while (j < len && is_ident_cont((unsigned char)s[j]))
				j++;
			if (j - i == 1 && (c == 'e' || c == 'E') && j < len &&
			    s[j] == '\'') {
				size_t end =
					skip_quoted(s, len, j, '\'', true, &ok);

				if (ok)
					end = skip_continuations(s, len, end,
								 true, &ok);
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
				if (word_is(s + i, j - i, "begin")) {
					after_begin = true;
					begin_at = i;
				} else if (was_begin &&
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
			/* standard_conforming_strings off: backslashes escape
			 * in '' strings too. */
			bool bs = c == '\'' && !scs;
			size_t end = skip_quoted(s, len, i, (char)c, bs, &ok);

			if (ok && c == '\'')
				end = skip_continuations(s, len, end, bs, &ok);

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
	if (after_begin)
		return begin_not_atomic(sp, begin_at);
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
	sp.check_only = !out;
	migrate__diag_clear(diag);
	if (out)
		*out = NULL;
	if (n_out)
		*n_out = 0;

	rc = split(&sp);
	if (rc) {
		if (rc == MIGRATE_ENOMEM)
			migrate__fail(diag, rc, "out of memory");
		free(sp.v);
		return rc;
	}
	if (out)
		*out = sp.v;
	if (n_out)
		*n_out = sp.n;
	return 0;
}
