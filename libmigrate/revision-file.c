/* SPDX-License-Identifier: MIT */
/*
 * Revision files: parse one file (header in `--` comments, Alembic
 * docstring style, then `-- migrate:upgrade` / `-- migrate:downgrade`
 * sections). Loading a directory of them is revision-dir.c.
 *
 * Rules the parser applies, beyond the format in the issue:
 *  - A line is a section marker when, after optional spaces/tabs, it
 *    starts with "--", optional spaces/tabs and "migrate:". This holds
 *    inside sections too (like dbmate), so a marker-like line inside a
 *    dollar-quoted body ends the section.
 *  - Header field names are matched case-insensitively; the message is the
 *    first non-empty header comment that is not one of the three fields.
 *  - The two sections may come in either order.
 *  - Only CR LF is a line ending besides LF; a lone CR is kept as text.
 * The parser reads every byte a bounded number of times and never
 * recurses, so it is linear in the size of the file.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

enum { SEC_UP = 0, SEC_DOWN = 1, SEC_NONE = -1 };

static const char *const section_names[2] = { "upgrade", "downgrade" };

struct span {
	const char *s;
	size_t len;
	size_t line; /* 0: not seen */
};

struct section_info {
	size_t marker_line; /* 0: no such section */
	size_t body_start;  /* byte offsets into the buffer */
	size_t body_end;
	struct migrate_section opts;
};

struct parser {
	struct migrate_diag *diag; /* where a failure is described */
	const char *file;
	const char *dir; /* how file starts, kept by the registry; or NULL */
	const char *buf; /* after the BOM */
	size_t len;
	struct span id, revises, date, message;
	struct strv parents;
	struct section_info sec[2];
	int cur; /* SEC_NONE while in the header */
	size_t first_marker_line;
	size_t lines;
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static int perr(struct parser *p, size_t line, const char *fmt, ...)
	MIGRATE_PRINTF(3, 4);

/* Set "FILE:LINE: cause" and return MIGRATE_EPARSE. */
static int
perr(struct parser *p, size_t line, const char *fmt, ...)
{
	char cause[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	return migrate__fail(p->diag, MIGRATE_EPARSE, "%s:%zu: %s", p->file,
			     line ? line : 1, cause);
}

/* Length of the valid UTF-8 sequence at @s (1-4), 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Line (1-based) and byte column of offset @at of @s, for a message. */
static void
line_col(const char *s, size_t at, size_t *line, size_t *col)
{
	const char *p = s, *end = s + at, *nl;

	*line = 1;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		(*line)++;
		p = nl + 1;
	}
	*col = (size_t)(end - p) + 1;
}

/* Reject NUL bytes and invalid UTF-8, naming line and byte column. */
static int
check_bytes(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->buf;
	size_t i = 0, line, col;

	while (i < p->len) {
		size_t n;

		/* Eight bytes at a time while they are ASCII and not NUL:
		 * (w - 0x01..) | w has the high bit of a byte set when the
		 * byte is 0 or >= 0x80 (a borrow only follows such a byte). */
		while (i + 8 <= p->len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (((w - 0x0101010101010101ULL) | w) &
			    0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= p->len)
			break;
		if (s[i] == 0) {
			line_col(p->buf, i, &line, &col);
			return perr(p, line, "NUL byte at byte column %zu",
				    col);
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(s + i, p->len - i);
		if (!n) {
			line_col(p->buf, i, &line, &col);
			return perr(
				p, line,
				"invalid UTF-8 at byte column %zu (byte 0x%02X)",
				col, s[i]);
		}
		i += n;
	}
	return 0;
}

/* Case-insensitive (ASCII) comparison of a span with a word. */
static bool
span_eq_ci(const char *s, size_t len, const char *word)
{
	size_t i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++) {
		char a = s[i], b = word[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static int
check_id(struct parser *p,
	 size_t line,
	 const char *s,
	 size_t len,
	 const char *what)
{
	char shown[64];

	if (migrate__id_is_valid(s, len))
		return 0;
	migrate__printable(shown, sizeof(shown), s, len);
	if (len > MIGRATE_ID_MAX)
		return perr(
			p, line,
			"invalid revision id '%s'%s: too long (%zu bytes, at most %d)",
			shown, what, len, MIGRATE_ID_MAX);
	return perr(
		p, line,
		"invalid revision id '%s'%s: ids are 1-32 characters of [A-Za-z0-9_]",
		shown, what);
}

static int
parse_revises(struct parser *p)
{
	const char *s = p->revises.s, *end = s + p->revises.len;
	size_t line = p->revises.line;

	if (p->revises.len == 0)
		return 0; /* a root */
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *item = s;
		size_t n = (size_t)((comma ? comma : end) - s);
		int rc;

		trim(&item, &n);
		if (n == 0)
			return perr(
				p, line,
				"empty revision id in 'Revises:' (stray comma?)");
		rc = check_id(p, line, item, n, " in 'Revises:'");
		if (rc)
			return rc;
		if (strv_pushn(&p->parents, item, n) < 0)
			return migrate__fail(p->diag, MIGRATE_ENOMEM,
					     "out of memory");
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* A header comment line; @s/@len is what follows "--", trimmed. */
static int
header_line(struct parser *p, size_t line, const char *s, size_t len)
{
	static const char *const keys[] = { "Revision ID", "Revises",
					    "Create Date" };
	struct span *fields[] = { &p->id, &p->revises, &p->date };
	const char *colon = memchr(s, ':', len);
	size_t i;

	if (!len)
		return 0;
	if (colon) {
		const char *key = s, *val = colon + 1;
		size_t klen = (size_t)(colon - s);
		size_t vlen = len - klen - 1;

		trim(&key, &klen);
		trim(&val, &vlen);
		for (i = 0; i < 3; i++) {
			if (!span_eq_ci(key, klen, keys[i]))
				continue;
			if (fields[i]->line)
				return perr(
					p, line,
					"second '%s:' line (the first is on line %zu)",
					keys[i], fields[i]->line);
			fields[i]->s = val;
			fields[i]->len = vlen;
			fields[i]->line = line;
			if (i == 0 && vlen == 0)
				return perr(p, line, "empty 'Revision ID:'");
			if (i == 0)
				return check_id(p, line, val, vlen, "");
			if (i == 1)
				return parse_revises(p);
			return 0;
		}
	}
	if (!p->message.line) {
		p->message.s = s;
		p->message.len = len;
		p->message.line = line;
	}
	return 0;
}

/* A marker line; @s/@len is what follows "migrate:". */
static int
marker_line(struct parser *p,
	    size_t line,
	    const char *s,
	    size_t len,
	    size_t body_start)
{
	struct section_info *sec;
	struct migrate_diag err;
	char shown[64];
	size_t n = 0;
	int which;

	while (n < len && !is_space(s[n]))
		n++;
	if (n == 7 && memcmp(s, "upgrade", 7) == 0) {
		which = SEC_UP;
	} else if (n == 9 && memcmp(s, "downgrade", 9) == 0) {
		which = SEC_DOWN;
	} else {
		migrate__printable(shown, sizeof(shown), s, n);
		return perr(
			p, line,
			"unknown section marker 'migrate:%s' (expected 'migrate:upgrade' or 'migrate:downgrade')",
			shown);
	}
	sec = &p->sec[which];
	if (sec->marker_line)
		return perr(
			p, line,
			"second '-- migrate:%s' section (the first is on line %zu)",
			section_names[which], sec->marker_line);
	sec->marker_line = line;
	sec->body_start = body_start;
	sec->opts.present = true;
	sec->opts.transactional = true;
	sec->opts.lock_timeout_ms = -1;
	sec->opts.statement_timeout_ms = -1;
	/* The body starts on the next line, or at the end of this one when
	 * the file ends without its newline (an empty last section). */
	sec->opts.first_line = p->buf[body_start - 1] == '\n' ? line + 1 : line;
	if (migrate__section_options(&sec->opts, s + n, len - n, &err) != 0)
		return perr(p, line, "%s", err.msg);
	if (!p->first_marker_line)
		p->first_marker_line = line;
	p->cur = which;
	return 0;
}

/* Go over the lines once: header fields, markers, section bounds. */
static int
scan_lines(struct parser *p)
{
	size_t pos = 0, line = 0;
	int rc;

	while (pos < p->len) {
		const char *start = p->buf + pos, *s, *nl;
		size_t len, next, slen;

		nl = memchr(start, '\n', p->len - pos);
		len = nl ? (size_t)(nl - start) : p->len - pos;
		next = pos + len + (nl ? 1 : 0);
		if (len && start[len - 1] == '\r')
			len--;
		line++;

		s = start;
		slen = len;
		while (slen && is_space(*s)) {
			s++;
			slen--;
		}
		if (slen >= 2 && s[0] == '-' && s[1] == '-') {
			const char *c = s + 2;
			size_t clen = slen - 2;

			while (clen && is_space(*c)) {
				c++;
				clen--;
			}
			/* "-- migrate:lint ..." is a lint waiver (see
			 * docs/lint.md): SQL comment, not a marker. */
			if (clen >= 8 && memcmp(c, "migrate:", 8) == 0 &&
			    !(clen >= 12 && memcmp(c + 8, "lint", 4) == 0 &&
			      (clen == 12 || is_space(c[12])))) {
				/* The section before ends where this line
				 * starts. */
				if (p->cur != SEC_NONE)
					p->sec[p->cur].body_end = pos;
				rc = marker_line(p, line, c + 8, clen - 8,
						 next);
				if (rc)
					return rc;
			} else if (p->cur == SEC_NONE) {
				trim(&c, &clen);
				rc = header_line(p, line, c, clen);
				if (rc)
					return rc;
			}
		} else if (p->cur == SEC_NONE && slen) {
			return perr(
				p, line,
				"text before the first section marker (only '--' comment lines may precede '-- migrate:upgrade')");
		}
		pos = next;
	}
	if (p->cur != SEC_NONE)
		p->sec[p->cur].body_end = p->len;
	p->lines = line;
	return 0;
}

/* true when @s holds only white space and SQL comments. */
static bool
sql_is_blank(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			i++;
		} else if (c == '-' && i + 1 < len && s[i + 1] == '-') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			/* PostgreSQL block comments nest. */
			size_t depth = 1;

			i += 2;
			while (i < len && depth) {
				if (s[i] == '/' && i + 1 < len &&
				    s[i + 1] == '*') {
					depth++;
					i += 2;
				} else if (s[i] == '*' && i + 1 < len &&
					   s[i + 1] == '/') {
					depth--;
					i += 2;
				} else {
					i++;
				}
			}
		} else {
			return false;
		}
	}
	return true;
}

/* Copy a section body to *@at (NUL-terminated), turning CR LF into LF;
 * advance *@at past it. The copy. */
static char *
copy_body(char **at, const char *s, size_t len)
{
	char *out = *at, *o = out;
	const char *end = s + len, *cr;

	while ((cr = memchr(s, '\r', (size_t)(end - s))) != NULL) {
		memcpy(o, s, (size_t)(cr - s));
		o += cr - s;
		if (cr + 1 == end || cr[1] != '\n')
			*o++ = '\r';
		s = cr + 1;
	}
	memcpy(o, s, (size_t)(end - s));
	o += end - s;
	*o = '\0';
	*at = o + 1;
	return out;
}

/*
 * Split a section's SQL once at load time, so that an unterminated quote,
 * dollar quote or comment is reported with its file line before anything
 * touches a database (and not only when a transaction=false section runs,
 * or as a server error after the bookkeeping tables were created).
 */
static int
check_section_sql(struct parser *p,
		  const char *sql,
		  size_t len,
		  size_t first_line,
		  const char *name)
{
	size_t line = 0;
	struct migrate_diag err;
	const char *cause = err.msg;
	int rc;

	/* Checked only: no statement array, no positions. */
	rc = migrate__sql_split(sql, len, NULL, NULL, &err);
	if (rc == MIGRATE_ENOMEM)
		return migrate__fail(p->diag, rc, "out of memory");
	if (rc == 0)
		return 0;
	/* The splitter says "line N: cause", N counted in the section. */
	if (sscanf(err.msg, "line %zu:", &line) == 1) {
		cause = strchr(err.msg, ':') + 1;
		while (*cause == ' ')
			cause++;
	}
	return perr(p, first_line + (line ? line - 1 : 0), "%s section: %s",
		    name, cause);
}

/*
 * The revision of @p. Its SQL is kept (copied, CR LF turned into LF)
 * unless MIGRATE__PARSE_SQL_IN_FILE; either way it is hashed, and split
 * (but for MIGRATE__PARSE_RELOAD) so that an unterminated quote, dollar
 * quote or comment is reported with its file line before anything touches
 * a database. The file's text itself is both split and hashed (CR LF and
 * LF alike: the splitter counts lines by LF and treats CR as space; the
 * hash normalises line ends).
 */
static int
build_revision(struct migrate_revision **out,
	       struct parser *p,
	       unsigned int flags)
{
	bool sql_in_file = (flags & MIGRATE__PARSE_SQL_IN_FILE) != 0;
	struct migrate_revision *rev;
	const char *body[2] = { NULL, NULL }, *name;
	size_t body_len[2] = { 0, 0 };
	size_t len, j;
	char *at;
	int i, rc;

	for (i = 0; i < 2; i++) {
		const struct section_info *si = &p->sec[i];

		if (!si->marker_line)
			continue;
		body[i] = p->buf + si->body_start;
		body_len[i] = si->body_end - si->body_start;
		if (flags & MIGRATE__PARSE_RELOAD)
			continue;
		rc = check_section_sql(p, body[i], body_len[i],
				       si->opts.first_line, section_names[i]);
		if (rc < 0)
			return rc;
	}
	/* One block (migrate__revision_alloc()): the sizes first. Every
	 * span lies in the buffer, so the sum cannot overflow. */
	name = p->dir ? p->file + strlen(p->dir) : p->file;
	len = p->id.len + p->message.len + p->date.len + strlen(name) + 4;
	for (j = 0; j < p->parents.n; j++)
		len += strlen(p->parents.v[j]) + 1;
	for (i = 0; i < 2 && !sql_in_file; i++)
		if (body[i])
			len += body_len[i] + 1;
	rev = migrate__revision_alloc(p->parents.n, NULL, len, &at);
	if (!rev)
		return migrate__fail(p->diag, MIGRATE_ENOMEM, "out of memory");
	/* In the order of struct migrate_revision. */
	rev->id = migrate__revision_put(&at, p->id.s, p->id.len);
	migrate__revision_put(&at, p->message.s ? p->message.s : "",
			      p->message.len);
	migrate__revision_put(&at, p->date.s ? p->date.s : "", p->date.len);
	migrate__revision_put(&at, name, strlen(name));
	rev->has_file = true;
	rev->dir = p->dir;
	rev->n_parents = p->parents.n;
	for (j = 0; j < p->parents.n; j++)
		rev->parents[j] = migrate__revision_put(
			&at, p->parents.v[j], strlen(p->parents.v[j]));
	for (i = 0; i < 2; i++) {
		struct migrate_section *sec =
			i == SEC_UP ? &rev->up : &rev->down;

		if (!body[i])
			continue;
		*sec = p->sec[i].opts;
		if (sql_in_file)
			sec->in_file = true;
		else
			sec->sql = copy_body(&at, body[i], body_len[i]);
	}
	rev->id_line = p->id.line;
	rev->revises_line = p->revises.line;
	/* Here rather than when the registry takes it: the hash is the most
	 * work per file, and revision-dir.c runs this on several threads. */
	rev->has_checksum = migrate__checksum_spans(
		body[SEC_UP], body_len[SEC_UP], body[SEC_DOWN],
		body_len[SEC_DOWN], rev->checksum);
	*out = rev;
	return 0;
}

int
migrate__revision_parse(struct migrate_revision **out,
			const char *filename,
			const char *dir,
			const char *buf,
			size_t len,
			unsigned int flags,
			struct migrate_diag *diag)
{
	struct parser p;
	size_t header_end, i;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.diag = diag;
	p.file = filename ? filename : "<input>";
	if (filename && dir && strncmp(filename, dir, strlen(dir)) == 0)
		p.dir = dir;
	p.cur = SEC_NONE;
	if (!buf && len)
		return migrate__fail(diag, MIGRATE_EINVAL,
				     "%s: no buffer given", p.file);
	/* Lines are 32 bits (struct migrate_revision); a directory's files
	 * are refused from 1 GB on already. */
	if (len >= UINT32_MAX)
		return migrate__fail(
			diag, MIGRATE_EPARSE,
			"%s: file too large (%zu bytes, at most %u)", p.file,
			len, UINT32_MAX - 1);
	p.buf = buf ? buf : "";
	p.len = len;
	if (p.len >= 3 && memcmp(p.buf, "\xEF\xBB\xBF", 3) == 0) {
		p.buf += 3;
		p.len -= 3;
	}

	rc = check_bytes(&p);
	if (rc)
		goto out;
	rc = scan_lines(&p);
	if (rc)
		goto out;
	if (!p.first_marker_line && !p.id.line && !p.revises.line &&
	    !p.message.line) {
		rc = perr(&p, 1, "empty revision file");
		goto out;
	}
	header_end = p.first_marker_line ? p.first_marker_line : 1;
	if (!p.id.line) {
		rc = perr(&p, header_end, "missing 'Revision ID:' header line");
		goto out;
	}
	if (!p.revises.line) {
		rc = perr(
			&p, header_end,
			"missing 'Revises:' header line (leave it empty for the first revision)");
		goto out;
	}
	if (!p.sec[SEC_UP].marker_line) {
		rc = perr(&p, p.lines, "no '-- migrate:upgrade' section");
		goto out;
	}
	/* An unfinished revision has a blank upgrade section; one that needs
	 * no SQL (a merge) says so with empty=true, which then must hold. */
	for (i = 0; i < 2; i++) {
		const struct section_info *sec = &p.sec[i];
		bool blank;

		if (!sec->marker_line)
			continue;
		blank = sql_is_blank(p.buf + sec->body_start,
				     sec->body_end - sec->body_start);
		if (blank && i == SEC_UP && !sec->opts.empty) {
			rc = perr(
				&p, sec->marker_line,
				"empty upgrade section (a revision that needs no SQL, such as a merge, says so: '-- migrate:upgrade empty=true')");
			goto out;
		}
		if (!blank && sec->opts.empty) {
			rc = perr(
				&p, sec->marker_line,
				"the %s section is marked empty=true but holds SQL",
				section_names[i]);
			goto out;
		}
	}
	rc = build_revision(out, &p, flags);

out:
	strv_clear(&p.parents);
	return rc;
}

MIGRATE_EXPORT
int
migrate_registry_parse(struct migrate_registry *reg,
		       const char *filename,
		       const char *buf,
		       size_t len)
{
	struct migrate_revision *rev;
	int rc;

	if (!reg)
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	rc = migrate__revision_parse(&rev, filename, NULL, buf, len, 0,
				     &reg->diag);
	if (rc)
		return rc;
	return migrate__registry_add_rev(reg, rev);
}

/* ------------------------------------------------------------------ */
/* Section options                                                     */
/* ------------------------------------------------------------------ */

int
migrate__section_options(struct migrate_section *sec,
			 const char *text,
			 size_t len,
			 struct migrate_diag *diag)
{
	bool seen_tx = false, seen_lock = false, seen_stmt = false,
	     seen_empty = false;
	char shown[64], shown2[64];
	size_t i = 0;

	migrate__diag_clear(diag);
	while (i < len) {
		const char *tok, *eq, *val;
		size_t tlen, klen, vlen;
		bool *seen;
		int ms;

		if (is_space(text[i])) {
			i++;
			continue;
		}
		tok = text + i;
		while (i < len && !is_space(text[i]))
			i++;
		tlen = (size_t)(text + i - tok);
		migrate__printable(shown, sizeof(shown), tok, tlen);
		eq = memchr(tok, '=', tlen);
		if (!eq) {
			return migrate__fail(
				diag, MIGRATE_EPARSE,
				"malformed section option '%s' (expected name=value)",
				shown);
		}
		klen = (size_t)(eq - tok);
		val = eq + 1;
		vlen = tlen - klen - 1;
		migrate__printable(shown2, sizeof(shown2), val, vlen);
		if ((klen == 11 && memcmp(tok, "transaction", 11) == 0) ||
		    (klen == 5 && memcmp(tok, "empty", 5) == 0)) {
			bool tx = klen == 11, v;

			seen = tx ? &seen_tx : &seen_empty;
			if (vlen == 4 && memcmp(val, "true", 4) == 0) {
				v = true;
			} else if (vlen == 5 && memcmp(val, "false", 5) == 0) {
				v = false;
			} else {
				return migrate__fail(
					diag, MIGRATE_EPARSE,
					"invalid value '%s' for option '%s' (expected true or false)",
					shown2, tx ? "transaction" : "empty");
			}
			if (tx)
				sec->transactional = v;
			else
				sec->empty = v;
		} else if ((klen == 12 &&
			    memcmp(tok, "lock_timeout", 12) == 0) ||
			   (klen == 17 &&
			    memcmp(tok, "statement_timeout", 17) == 0)) {
			bool lock = klen == 12;

			seen = lock ? &seen_lock : &seen_stmt;
			if (!migrate__duration_parse(val, vlen, &ms)) {
				return migrate__fail(
					diag, MIGRATE_EPARSE,
					"invalid value '%s' for option '%s' (expected a duration: %s; at most %d ms)",
					shown2,
					lock ? "lock_timeout"
					     : "statement_timeout",
					MIGRATE_DURATION_HINT, INT_MAX);
			}
			if (lock)
				sec->lock_timeout_ms = ms;
			else
				sec->statement_timeout_ms = ms;
		} else {
			migrate__printable(shown, sizeof(shown), tok, klen);
			return migrate__fail(
				diag, MIGRATE_EPARSE,
				"unknown section option '%s' (known: transaction, lock_timeout, statement_timeout, empty)",
				shown);
		}
		if (*seen) {
			migrate__printable(shown, sizeof(shown), tok, klen);
			return migrate__fail(diag, MIGRATE_EPARSE,
					     "section option '%s' given twice",
					     shown);
		}
		*seen = true;
	}
	return 0;
}
