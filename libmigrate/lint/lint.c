/* SPDX-License-Identifier: MIT */
/*
 * The lint driver: the rule table, the result set, parsing a section with
 * libpg_query (syntax errors mapped to FILE:LINE:COL by the engine's own
 * position owner, sql-position.h), statement boundaries and waiver comments
 * from libpg_query's scanner, and the facts that the revision graph gives
 * each revision (what its ancestors created). The rules themselves are in
 * lint-rules.c.
 */
#include <ctype.h>
#include <pg_query.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint-private.h"
#include "sql-position.h"

/* ------------------------------------------------------------------ */
/* Rules (one entry per rule; docs/lint.md documents each)             */
/* ------------------------------------------------------------------ */

static const struct migrate_lint_rule rules[] = {
	{ "syntax-error", MIGRATE_LINT_ERROR,
	  "PostgreSQL's parser (version 15) rejects the statement",
	  "fix the SQL; syntax newer than PostgreSQL 15 is only a warning at upgrade time against a newer server" },
	{ "require-concurrent-index-creation", MIGRATE_LINT_ERROR,
	  "CREATE INDEX without CONCURRENTLY blocks writes to an existing table while the index builds",
	  "CREATE INDEX CONCURRENTLY, in a transaction=false section of its own" },
	{ "require-concurrent-index-deletion", MIGRATE_LINT_WARNING,
	  "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table",
	  "DROP INDEX CONCURRENTLY, in a transaction=false section of its own" },
	{ "transaction-incompatible", MIGRATE_LINT_ERROR,
	  "the statement cannot run inside a transaction block, and this section runs in one: it fails at run time",
	  "move it to a revision whose section is marked `-- migrate:upgrade transaction=false`" },
	{ "mixed-non-transactional", MIGRATE_LINT_WARNING,
	  "a transaction=false section runs statement by statement: when a later one fails, the earlier ones stay applied and the revision is left dirty part-way",
	  "give the non-transactional statement a revision of its own" },
	{ "adding-required-field", MIGRATE_LINT_ERROR,
	  "ADD COLUMN ... NOT NULL without a default fails on a table that has rows, and breaks the previous release's INSERTs",
	  "add the column nullable (or with a constant DEFAULT), backfill, then add the constraint" },
	{ "adding-field-with-default", MIGRATE_LINT_WARNING,
	  "ADD COLUMN with a volatile default (or serial, or a stored generated column) rewrites the whole table under an ACCESS EXCLUSIVE lock",
	  "add the column without a default (or with a constant one), set the default, backfill in batches" },
	{ "changing-column-type", MIGRATE_LINT_ERROR,
	  "ALTER COLUMN ... TYPE rewrites the table under an ACCESS EXCLUSIVE lock (safe widenings excepted), and a narrower type breaks the previous release",
	  "expand/contract: add a new column, backfill, switch the code, drop the old column in a later release" },
	{ "adding-not-nullable-field", MIGRATE_LINT_ERROR,
	  "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) exists, and the previous release may still write NULLs",
	  "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later step, then SET NOT NULL" },
	{ "constraint-missing-not-valid", MIGRATE_LINT_ERROR,
	  "ADD CONSTRAINT ... CHECK without NOT VALID scans the whole table under an ACCESS EXCLUSIVE lock",
	  "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate step" },
	{ "adding-foreign-key-constraint", MIGRATE_LINT_ERROR,
	  "a FOREIGN KEY without NOT VALID is validated under a lock that blocks writes to both tables",
	  "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a separate step" },
	{ "disallowed-unique-constraint", MIGRATE_LINT_ERROR,
	  "a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
	  "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX" },
	{ "ban-drop-column", MIGRATE_LINT_WARNING,
	  "the previous release keeps running against this schema during a rolling deploy and still reads the column",
	  "expand/contract: stop using the column in one release, drop it in a later one" },
	{ "ban-drop-table", MIGRATE_LINT_WARNING,
	  "the previous release keeps running against this schema during a rolling deploy and still uses the table",
	  "expand/contract: stop using the table in one release, drop it in a later one" },
	{ "renaming-column", MIGRATE_LINT_WARNING,
	  "the previous release keeps running during a rolling deploy and still uses the old name",
	  "expand/contract: add the new column, write both, switch the code, drop the old one in a later release" },
	{ "renaming-table", MIGRATE_LINT_WARNING,
	  "the previous release keeps running during a rolling deploy and still uses the old name",
	  "expand/contract: create the new table (or a view under the old name), switch the code, drop the old one in a later release" },
	{ "dml-without-where", MIGRATE_LINT_WARNING,
	  "UPDATE or DELETE without WHERE touches every row of an existing table in one transaction (locks, WAL, bloat)",
	  "add the WHERE you mean, or batch the change in a C revision (upgrade_fn)" },
	{ "ban-truncate", MIGRATE_LINT_WARNING,
	  "TRUNCATE takes an ACCESS EXCLUSIVE lock and deletes every row of an existing table",
	  "delete what you mean with a WHERE, in batches" },
	{ "session-timeout", MIGRATE_LINT_WARNING,
	  "a session-level SET of a timeout leaks past the step into every later revision of the run",
	  "use the section options (`lock_timeout=2s statement_timeout=1min`) or SET LOCAL" },
	{ "transaction-nesting", MIGRATE_LINT_ERROR,
	  "BEGIN/COMMIT/ROLLBACK inside a section breaks the transaction that migrate runs each step and its bookkeeping in",
	  "remove it; use transaction=false for a section that must not run in a transaction" },
	{ "irreversible", MIGRATE_LINT_INFO,
	  "the revision has no downgrade section: a downgrade stops before it",
	  "add a `-- migrate:downgrade` section, or keep it irreversible on purpose" },
	{ "incomplete-downgrade", MIGRATE_LINT_WARNING,
	  "the downgrade does not drop a table that the upgrade creates: upgrading again after a downgrade fails",
	  "DROP the table in the downgrade section" },
	{ "waiver-without-reason", MIGRATE_LINT_ERROR,
	  "a waiver must say why the finding does not apply",
	  "write `-- migrate:lint ignore=RULE -- the reason`" },
	{ "unknown-rule", MIGRATE_LINT_ERROR,
	  "the waiver names a rule that does not exist",
	  "use a rule id from docs/lint.md" },
};

const struct migrate_lint_rule *
migrate_lint_rules(size_t *count)
{
	*count = sizeof(rules) / sizeof(rules[0]);
	return rules;
}

const struct migrate_lint_rule *
migrate_lint_rule_find(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].id, id) == 0)
			return &rules[i];
	return NULL;
}

const char *
migrate_lint_severity_name(int severity)
{
	switch (severity) {
	case MIGRATE_LINT_ERROR:
		return "error";
	case MIGRATE_LINT_WARNING:
		return "warning";
	default:
		return "info";
	}
}

void
migrate_lint_where(const struct migrate_lint_finding *f, char *out, size_t n)
{
	const char *dir =
		f->direction == MIGRATE_DOWN ? "downgrade" : "upgrade";

	if (f->file && f->line && f->column)
		snprintf(out, n, "%s:%zu:%zu", f->file, f->line, f->column);
	else if (f->file && f->line)
		snprintf(out, n, "%s:%zu", f->file, f->line);
	else if (f->file)
		snprintf(out, n, "%s", f->file);
	else if (f->line && f->column)
		snprintf(out, n, "revision %s (%s):%zu:%zu", f->revision, dir,
			 f->line, f->column);
	else
		snprintf(out, n, "revision %s (%s)", f->revision, dir);
}

/* ------------------------------------------------------------------ */
/* Result set                                                          */
/* ------------------------------------------------------------------ */

struct migrate_lint {
	struct migrate_lint_finding *v;
	size_t n, cap;
	bool oom;

	struct lint_fact *facts;
	size_t n_facts, cap_facts;
	/* The id of each revision by topological index (borrowed). */
	const struct migrate_revision **topo;
	size_t n_topo;
	/* Ids of the findings' revisions (owned strings are in findings). */
};

int
migrate_lint_new(struct migrate_lint **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : MIGRATE_ENOMEM;
}

static void
facts_clear(struct migrate_lint *l)
{
	size_t i;

	for (i = 0; i < l->n_facts; i++) {
		free(l->facts[i].table);
		free(l->facts[i].column);
		free(l->facts[i].text);
	}
	free(l->facts);
	l->facts = NULL;
	l->n_facts = l->cap_facts = 0;
}

void
migrate_lint_free(struct migrate_lint *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free((char *)l->v[i].message);
		free((char *)l->v[i].statement);
		free((char *)l->v[i].waiver);
	}
	free(l->v);
	facts_clear(l);
	free(l->topo);
	free(l);
}

size_t
migrate_lint_count(const struct migrate_lint *l)
{
	return l ? l->n : 0;
}

const struct migrate_lint_finding *
migrate_lint_at(const struct migrate_lint *l, size_t i)
{
	return l && i < l->n ? &l->v[i] : NULL;
}

size_t
migrate_lint_count_severity(const struct migrate_lint *l, int severity)
{
	size_t i, n = 0;

	for (i = 0; l && i < l->n; i++)
		if (l->v[i].severity == severity && !l->v[i].waiver)
			n++;
	return n;
}

/* @s[0..n) on one line: runs of white space become one space, cut at
 * about 100 characters (on a character boundary) with "...". */
static char *
one_line(const char *s, size_t n)
{
	const size_t max = 100;
	char *out = malloc(max + 8);
	size_t o = 0, i;
	bool space = false;

	if (!out)
		return NULL;
	for (i = 0; i < n && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (isspace(ch)) {
			space = o > 0;
			continue;
		}
		if (o >= max && (ch & 0xC0) != 0x80) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (space) {
			out[o++] = ' ';
			space = false;
		}
		out[o++] = (char)(ch < 0x20 ? '?' : ch);
	}
	out[o] = '\0';
	return out;
}

/* A message on one line: control characters (a line break inside a
 * quoted identifier or token) become '?'. Returns a malloc'ed copy. */
static char *
one_line_message(const char *msg)
{
	char *out = strdup(msg);
	char *p;

	for (p = out; p && *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	return out;
}

static struct migrate_lint_finding *
finding_add(struct migrate_lint *l)
{
	if (l->oom)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct migrate_lint_finding *v =
			realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/* The waiver of @id among @w, or NULL. */
static const struct lint_waiver *
waiver_for(const struct lint_waiver *w, size_t n, const char *id)
{
	char key[96];
	size_t i;

	snprintf(key, sizeof(key), ",%s,", id);
	for (i = 0; i < n; i++)
		if (strstr(w[i].rules, key) && w[i].reason[0])
			return &w[i];
	return NULL;
}

/* Add a finding at byte @offset of the section (SIZE_MAX: the section's
 * first line, no column), about the text [@s_from, @s_to). */
static void
report_at(struct lint_ctx *c,
	  const struct migrate_lint_rule *rule,
	  size_t offset,
	  size_t s_from,
	  size_t s_to,
	  const struct lint_waiver *w,
	  size_t n_w,
	  const char *msg)
{
	struct migrate_lint_finding *f;
	const struct lint_waiver *waiver;
	size_t line = 0, col = 0;

	if (!c->emit)
		return;
	f = finding_add(c->l);
	if (!f)
		return;
	f->rule = rule;
	f->severity = rule->severity;
	f->revision = migrate_revision_id(c->rev);
	f->file = migrate_revision_file(c->rev);
	f->direction = c->direction;
	if (offset != (size_t)-1 && c->sql &&
	    migrate__sql_position(
		    c->sql, migrate__sql_char_position(c->sql, offset),
		    c->first_line ? c->first_line : 1, &line, &col)) {
		f->line = line;
		f->column = col;
	} else {
		f->line = c->first_line;
	}
	f->message = msg ? one_line_message(msg) : NULL;
	f->statement = c->sql && s_to > s_from
			       ? one_line(c->sql + s_from, s_to - s_from)
			       : strdup("");
	waiver = waiver_for(w, n_w, rule->id);
	if (waiver)
		f->waiver = strdup(waiver->reason);
	if (!f->message || !f->statement || (waiver && !f->waiver))
		c->l->oom = true;
}

void
lint_report(struct lint_ctx *c, const char *id, const char *fmt, ...)
{
	const struct migrate_lint_rule *rule = migrate_lint_rule_find(id);
	char msg[512];
	va_list ap;

	if (!rule || !c->emit)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->stmt)
		report_at(c, rule, c->stmt->start, c->stmt->start, c->stmt->end,
			  c->stmt->waivers, c->stmt->n_waivers, msg);
	else
		report_at(c, rule, (size_t)-1, 0, 0, NULL, 0, msg);
}

/* ------------------------------------------------------------------ */
/* Facts                                                               */
/* ------------------------------------------------------------------ */

void
lint_fact_add(struct lint_ctx *c,
	      enum lint_fact_kind kind,
	      const char *table,
	      const char *column,
	      const char *text,
	      bool valid)
{
	struct migrate_lint *l = c->l;
	struct lint_fact *f;

	if (!table || l->oom || c->rev_index >= l->n_topo)
		return;
	if (c->direction == MIGRATE_DOWN && kind != FACT_TABLE_DROPPED)
		return;
	if (l->n_facts == l->cap_facts) {
		size_t cap = l->cap_facts ? l->cap_facts * 2 : 64;
		struct lint_fact *v = realloc(l->facts, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->facts = v;
		l->cap_facts = cap;
	}
	f = &l->facts[l->n_facts];
	f->kind = kind;
	f->rev = c->rev_index;
	f->valid = valid;
	f->down = c->direction == MIGRATE_DOWN;
	f->table = strdup(table);
	f->column = column ? strdup(column) : NULL;
	f->text = text ? strdup(text) : NULL;
	if (!f->table || (column && !f->column) || (text && !f->text)) {
		free(f->table);
		free(f->column);
		free(f->text);
		l->oom = true;
		return;
	}
	l->n_facts++;
}

static bool
same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Facts visible to the section: the ancestors' and this revision's. */
static bool
visible(const struct lint_ctx *c, const struct lint_fact *f)
{
	if (f->down)
		return false;
	return f->rev == c->rev_index || (c->anc && c->anc[f->rev]);
}

bool
lint_table_is_new(const struct lint_ctx *c, const char *table)
{
	const struct migrate_lint *l = c->l;
	bool is_new = false;
	size_t i;

	for (i = c->fact_base; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (f->rev != c->rev_index || !same(f->table, table) ||
		    (f->down && c->direction != MIGRATE_DOWN))
			continue;
		if (f->kind == FACT_TABLE_CREATED)
			is_new = f->valid;
		else if (f->kind == FACT_TABLE_DROPPED)
			is_new = false;
	}
	return is_new;
}

bool
lint_index_is_new(const struct lint_ctx *c, const char *index)
{
	const struct migrate_lint *l = c->l;
	size_t i;

	for (i = c->fact_base; i < l->n_facts; i++)
		if (l->facts[i].rev == c->rev_index && !l->facts[i].down &&
		    l->facts[i].kind == FACT_INDEX_CREATED &&
		    same(l->facts[i].table, index))
			return true;
	return false;
}

bool
lint_column_is_new(const struct lint_ctx *c,
		   const char *table,
		   const char *column)
{
	const struct migrate_lint *l = c->l;
	size_t i;

	if (lint_table_is_new(c, table))
		return true;
	for (i = c->fact_base; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (f->rev == c->rev_index && f->kind == FACT_COLUMN_TYPE &&
		    !f->down && f->valid && same(f->table, table) &&
		    same(f->column, column))
			return true;
	}
	return false;
}

const char *
lint_table_creator(const struct lint_ctx *c, const char *table)
{
	const struct migrate_lint *l = c->l;
	const char *who = NULL;
	size_t i;

	for (i = 0; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (f->rev == c->rev_index || !visible(c, f) ||
		    !same(f->table, table))
			continue;
		if (f->kind == FACT_TABLE_CREATED && f->rev < l->n_topo)
			who = migrate_revision_id(l->topo[f->rev]);
		else if (f->kind == FACT_TABLE_DROPPED)
			who = NULL;
	}
	return who;
}

const char *
lint_column_type(const struct lint_ctx *c,
		 const char *table,
		 const char *column)
{
	const struct migrate_lint *l = c->l;
	const char *type = NULL;
	size_t i;

	for (i = 0; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (!visible(c, f) || !same(f->table, table))
			continue;
		if (f->kind == FACT_TABLE_DROPPED ||
		    (f->kind == FACT_COLUMN_DROPPED && same(f->column, column)))
			type = NULL;
		else if (f->kind == FACT_COLUMN_TYPE && same(f->column, column))
			type = f->text;
	}
	return type;
}

const char *
lint_check_column(const struct lint_ctx *c,
		  const char *table,
		  const char *conname)
{
	const struct migrate_lint *l = c->l;
	const char *col = NULL;
	size_t i;

	for (i = 0; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (visible(c, f) && f->kind == FACT_CHECK_NOT_NULL &&
		    same(f->table, table) && same(f->text, conname))
			col = f->column;
	}
	return col;
}

bool
lint_has_valid_not_null_check(const struct lint_ctx *c,
			      const char *table,
			      const char *column)
{
	const struct migrate_lint *l = c->l;
	size_t i;

	for (i = 0; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];

		if (!visible(c, f) || !same(f->table, table) ||
		    !same(f->column, column))
			continue;
		if ((f->kind == FACT_CHECK_NOT_NULL && f->valid) ||
		    f->kind == FACT_CHECK_VALIDATED)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Parsing a section                                                   */
/* ------------------------------------------------------------------ */

static bool
is_comment(const PgQuery__ScanToken *t)
{
	return t->token == PG_QUERY__TOKEN__SQL_COMMENT ||
	       t->token == PG_QUERY__TOKEN__C_COMMENT;
}

/*
 * Parse "-- migrate:lint ignore=RULE[,RULE...] -- reason" at @s (@n bytes,
 * a whole line comment). Returns false when it is not a waiver comment.
 * Sets *unknown to the first unknown rule id (in @unknown_buf) and leaves
 * w->reason empty when there is no reason.
 */
static bool
parse_waiver(const char *s,
	     size_t n,
	     struct lint_waiver *w,
	     char *unknown_buf,
	     size_t unknown_len)
{
	static const char tag[] = "migrate:lint";
	size_t i = 2, k;

	unknown_buf[0] = '\0';
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < sizeof(tag) - 1 || memcmp(s + i, tag, sizeof(tag) - 1))
		return false;
	i += sizeof(tag) - 1;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 7 || memcmp(s + i, "ignore=", 7))
		return false;
	i += 7;
	memset(w, 0, sizeof(*w));
	w->rules[0] = ',';
	k = 1;
	while (i < n) {
		size_t b = i;
		char id[96];

		while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		if (i == b || i - b >= sizeof(id))
			break;
		memcpy(id, s + b, i - b);
		id[i - b] = '\0';
		if (!migrate_lint_rule_find(id) && !unknown_buf[0])
			snprintf(unknown_buf, unknown_len, "%s", id);
		if (k + (i - b) + 2 < sizeof(w->rules)) {
			memcpy(w->rules + k, id, i - b);
			k += i - b;
			w->rules[k++] = ',';
			w->rules[k] = '\0';
		}
		if (i < n && s[i] == ',')
			i++;
		else
			break;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
		size_t e = n;

		i += 2;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		while (e > i && isspace((unsigned char)s[e - 1]))
			e--;
		if (e > i)
			snprintf(w->reason, sizeof(w->reason), "%.*s",
				 (int)(e - i), s + i);
	}
	return true;
}

/* Collect the waivers among the comments in [@from, @to) into @st; report
 * malformed ones. */
static void
collect_waivers(struct lint_ctx *c,
		const PgQuery__ScanResult *scan,
		size_t from,
		size_t to,
		struct lint_stmt *st)
{
	size_t i;

	for (i = 0; scan && i < scan->n_tokens; i++) {
		const PgQuery__ScanToken *t = scan->tokens[i];
		struct lint_waiver w;
		char unknown[96];
		size_t s = (size_t)t->start, e = (size_t)t->end;

		if (s < from || s >= to || !is_comment(t) ||
		    t->token != PG_QUERY__TOKEN__SQL_COMMENT)
			continue;
		if (!parse_waiver(c->sql + s, e - s, &w, unknown,
				  sizeof(unknown)))
			continue;
		if (unknown[0])
			report_at(c, migrate_lint_rule_find("unknown-rule"), s,
				  s, e, NULL, 0, "");
		if (!w.reason[0]) {
			report_at(
				c,
				migrate_lint_rule_find("waiver-without-reason"),
				s, s, e, NULL, 0, "");
			continue;
		}
		if (st->n_waivers <
		    sizeof(st->waivers) / sizeof(st->waivers[0]))
			st->waivers[st->n_waivers++] = w;
	}
}

/* The message of a finding about an unknown rule / missing reason names
 * the comment; fill in those messages now that we know the text. */
static void
fix_waiver_messages(struct migrate_lint *l, size_t from)
{
	size_t i;

	for (i = from; i < l->n; i++) {
		struct migrate_lint_finding *f = &l->v[i];
		char msg[256];

		if (!f->message || f->message[0])
			continue;
		if (strcmp(f->rule->id, "unknown-rule") == 0)
			snprintf(msg, sizeof(msg),
				 "waiver names an unknown rule: %s",
				 f->statement);
		else
			snprintf(msg, sizeof(msg),
				 "waiver without a reason: %s", f->statement);
		free((char *)f->message);
		f->message = one_line_message(msg);
		if (!f->message)
			l->oom = true;
	}
}

static const char *
section_sql(const struct migrate_revision *rev, int direction)
{
	return direction == MIGRATE_DOWN ? migrate_revision_downgrade_sql(rev)
					 : migrate_revision_upgrade_sql(rev);
}

/* Report libpg_query's parse error @e for the section. */
static void
report_syntax(struct lint_ctx *c, const PgQueryError *e)
{
	const struct migrate_lint_rule *rule =
		migrate_lint_rule_find("syntax-error");
	struct migrate_lint_finding *f;
	size_t line = 0, col = 0;

	if (!c->emit || !(f = finding_add(c->l)))
		return;
	f->rule = rule;
	f->severity = rule->severity;
	f->revision = migrate_revision_id(c->rev);
	f->file = migrate_revision_file(c->rev);
	f->direction = c->direction;
	/* cursorpos counts characters from 1, as a server's error
	 * position: the same mapping as the engine's. */
	if (e->cursorpos > 0 &&
	    migrate__sql_position(c->sql, e->cursorpos,
				  c->first_line ? c->first_line : 1, &line,
				  &col)) {
		f->line = line;
		f->column = col;
	} else {
		f->line = c->first_line;
	}
	f->message = one_line_message(e->message ? e->message : "syntax error");
	f->statement = strdup("");
	if (!f->message || !f->statement)
		c->l->oom = true;
}

/*
 * Parse the section of @c and, unless @parse_only, run the rules on each
 * statement. Returns false on a syntax error.
 */
static bool
lint_section(struct lint_ctx *c, bool parse_only)
{
	PgQueryProtobufParseResult pr;
	PgQueryScanResult sr;
	PgQuery__ParseResult *tree = NULL;
	PgQuery__ScanResult *scan = NULL;
	size_t i, t = 0, first_finding = c->l->n;
	bool ok = true;

	if (parse_only) {
		/* Syntax only: the raw parser without an output tree. */
		PgQuerySplitResult split = pg_query_split_with_parser(c->sql);

		if (split.error)
			report_syntax(c, split.error);
		ok = !split.error;
		pg_query_free_split_result(split);
		return ok;
	}
	pr = pg_query_parse_protobuf(c->sql);
	if (pr.error) {
		report_syntax(c, pr.error);
		pg_query_free_protobuf_parse_result(pr);
		return false;
	}
	tree = pg_query__parse_result__unpack(
		NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
	sr = pg_query_scan(c->sql);
	if (!sr.error)
		scan = pg_query__scan_result__unpack(
			NULL, sr.pbuf.len, (const uint8_t *)sr.pbuf.data);
	if (!tree || !scan) {
		c->l->oom = true;
		ok = false;
		goto out;
	}
	c->n_stmts = tree->n_stmts;
	c->n_nontx = 0;
	for (i = 0; i < tree->n_stmts; i++) {
		const PgQuery__RawStmt *raw = tree->stmts[i];
		size_t from = (size_t)raw->stmt_location;
		size_t to = raw->stmt_len ? from + (size_t)raw->stmt_len
					  : strlen(c->sql);
		size_t wto = to;
		struct lint_stmt st;

		memset(&st, 0, sizeof(st));
		st.node = raw->stmt;
		st.start = st.end = from;
		/* The first and last tokens that are not comments. */
		while (t < scan->n_tokens &&
		       (size_t)scan->tokens[t]->start < from)
			t++;
		while (t < scan->n_tokens && is_comment(scan->tokens[t]))
			t++;
		if (t < scan->n_tokens)
			st.start = (size_t)scan->tokens[t]->start;
		while (t < scan->n_tokens &&
		       (size_t)scan->tokens[t]->start < to) {
			if (!is_comment(scan->tokens[t]))
				st.end = (size_t)scan->tokens[t]->end;
			t++;
		}
		if (st.end < st.start)
			st.end = st.start;
		/* Waivers: comments before the statement (after the previous
		 * one), inside it, and on the line of its ';'. */
		while (c->sql[wto] && c->sql[wto] != '\n')
			wto++;
		collect_waivers(c, scan, from, wto, &st);
		c->stmt = &st;
		lint_rules_statement(c);
		c->stmt = NULL;
	}
	lint_rules_section(c);
	fix_waiver_messages(c->l, first_finding);
out:
	if (tree)
		pg_query__parse_result__free_unpacked(tree, NULL);
	if (scan)
		pg_query__scan_result__free_unpacked(scan, NULL);
	pg_query_free_protobuf_parse_result(pr);
	pg_query_free_scan_result(sr);
	return ok;
}

/* A context for the section of @rev in @direction whose text is @sql. */
static void
ctx_init_sql(struct lint_ctx *c,
	     struct migrate_lint *l,
	     const struct migrate_revision *rev,
	     int direction,
	     const char *sql)
{
	memset(c, 0, sizeof(*c));
	c->l = l;
	c->rev = rev;
	c->direction = direction;
	c->sql = sql;
	c->first_line = migrate_revision_sql_line(rev, direction);
	c->transactional =
		migrate_revision_is_transactional(rev, direction) != 0;
	c->emit = true;
	c->rev_index = (size_t)-1;
}

/* ctx_init_sql() with the text the revision's getter gives. */
static void
ctx_init(struct lint_ctx *c,
	 struct migrate_lint *l,
	 const struct migrate_revision *rev,
	 int direction)
{
	ctx_init_sql(c, l, rev, direction, section_sql(rev, direction));
}

int
migrate_lint_parse_section(struct migrate_lint *l,
			   const struct migrate_revision *rev,
			   int direction)
{
	if (!l || !rev)
		return MIGRATE_EINVAL;
	return migrate_lint_parse_sql(l, rev, direction,
				      section_sql(rev, direction));
}

int
migrate_lint_parse_sql(struct migrate_lint *l,
		       const struct migrate_revision *rev,
		       int direction,
		       const char *sql)
{
	struct lint_ctx c;

	if (!l || !rev)
		return MIGRATE_EINVAL;
	ctx_init_sql(&c, l, rev, direction, sql);
	if (c.sql)
		lint_section(&c, true);
	return l->oom ? MIGRATE_ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* Revisions and their graph                                           */
/* ------------------------------------------------------------------ */

struct rev_index {
	const struct migrate_revision *rev;
	size_t index;
};

static int
cmp_rev_index(const void *a, const void *b)
{
	const struct rev_index *x = a, *y = b;

	if (x->rev == y->rev)
		return 0;
	return (uintptr_t)x->rev < (uintptr_t)y->rev ? -1 : 1;
}

static size_t
index_of(const struct rev_index *idx,
	 size_t n,
	 const struct migrate_revision *rev)
{
	struct rev_index key = { rev, 0 };
	const struct rev_index *hit =
		bsearch(&key, idx, n, sizeof(*idx), cmp_rev_index);

	return hit ? hit->index : (size_t)-1;
}

/* Mark the ancestors of revision @i in @anc (cleared first); parents of
 * revision k are par[off[k] .. off[k + 1]) (topological indices). */
static void
mark_ancestors(const size_t *off,
	       const size_t *par,
	       size_t n,
	       size_t i,
	       bool *anc,
	       size_t *stack)
{
	size_t sp = 0, k;

	memset(anc, 0, n * sizeof(*anc));
	stack[sp++] = i;
	while (sp) {
		size_t r = stack[--sp];

		for (k = off[r]; k < off[r + 1]; k++) {
			if (!anc[par[k]]) {
				anc[par[k]] = true;
				stack[sp++] = par[k];
			}
		}
	}
}

/* The parents of every revision as topological indices (see
 * mark_ancestors()); 0 or MIGRATE_ENOMEM. */
static int
parent_indices(struct migrate_registry *reg,
	       const struct migrate_revision **topo,
	       size_t n,
	       size_t **off_out,
	       size_t **par_out)
{
	struct rev_index *idx = calloc(n ? n : 1, sizeof(*idx));
	size_t *off = calloc(n + 1, sizeof(*off));
	size_t *par = NULL, total = 0, i, k;

	if (!idx || !off)
		goto oom;
	for (i = 0; i < n; i++) {
		idx[i].rev = topo[i];
		idx[i].index = i;
		total += migrate_revision_parent_count(topo[i]);
	}
	qsort(idx, n, sizeof(*idx), cmp_rev_index);
	par = calloc(total ? total : 1, sizeof(*par));
	if (!par)
		goto oom;
	for (i = 0; i < n; i++) {
		off[i + 1] = off[i];
		for (k = 0; k < migrate_revision_parent_count(topo[i]); k++) {
			const struct migrate_revision *p = NULL;
			size_t pi;

			if (migrate_registry_find(
				    &p, reg,
				    migrate_revision_parent(topo[i], k)) < 0)
				continue;
			pi = index_of(idx, n, p);
			if (pi < n)
				par[off[i + 1]++] = pi;
		}
	}
	free(idx);
	*off_out = off;
	*par_out = par;
	return 0;
oom:
	free(idx);
	free(off);
	free(par);
	return MIGRATE_ENOMEM;
}

static bool
wanted(const struct migrate_revision *rev,
       const struct migrate_revision *const *revs,
       size_t n_revs)
{
	size_t i;

	if (!revs)
		return true;
	for (i = 0; i < n_revs; i++)
		if (revs[i] == rev)
			return true;
	return false;
}

/* Fact @i (a table created by revision @ri's upgrade) is not dropped
 * later in that upgrade. */
static bool
upgrade_keeps(const struct migrate_lint *l, size_t ri, size_t i)
{
	size_t j;

	for (j = i + 1; j < l->n_facts; j++)
		if (l->facts[j].rev == ri && !l->facts[j].down &&
		    l->facts[j].kind == FACT_TABLE_DROPPED &&
		    same(l->facts[j].table, l->facts[i].table))
			return false;
	return true;
}

/* Revision-level rules: irreversibility, tables the downgrade leaves. */
static void
revision_rules(struct migrate_lint *l,
	       const struct migrate_revision *rev,
	       size_t ri,
	       size_t base,
	       const bool *anc,
	       bool down_parsed,
	       const struct lint_waiver *w,
	       size_t n_w)
{
	struct lint_ctx c;
	size_t i, j;

	ctx_init(&c, l, rev, MIGRATE_DOWN);
	c.rev_index = ri;
	c.anc = anc;
	c.fact_base = base;
	if (!migrate_revision_is_reversible(rev)) {
		c.direction = MIGRATE_UP;
		c.sql = NULL;
		c.first_line = migrate_revision_sql_line(rev, MIGRATE_UP);
		report_at(&c, migrate_lint_rule_find("irreversible"),
			  (size_t)-1, 0, 0, w, n_w,
			  "revision has no downgrade section");
		return;
	}
	if (!c.sql || !down_parsed)
		return;
	/* Tables the upgrade creates and keeps, that the downgrade does not
	 * drop (the downgrade's drops are its only facts). */
	for (i = base; i < l->n_facts; i++) {
		const struct lint_fact *f = &l->facts[i];
		bool dropped = false;

		if (f->rev != ri || f->kind != FACT_TABLE_CREATED ||
		    !f->valid || f->down || !upgrade_keeps(l, ri, i))
			continue;
		for (j = base; j < l->n_facts; j++)
			if (l->facts[j].rev == ri && l->facts[j].down &&
			    l->facts[j].kind == FACT_TABLE_DROPPED &&
			    same(l->facts[j].table, f->table))
				dropped = true;
		if (!dropped) {
			char msg[256];

			snprintf(
				msg, sizeof(msg),
				"the upgrade creates table \"%.100s\"; the downgrade does not drop it",
				f->table);
			report_at(
				&c,
				migrate_lint_rule_find("incomplete-downgrade"),
				(size_t)-1, 0, 0, w, n_w, msg);
		}
	}
}

/* Every waiver comment of a section (for revision-level findings). */
static size_t
section_waivers(const char *sql, struct lint_waiver *w, size_t max)
{
	PgQueryScanResult sr;
	PgQuery__ScanResult *scan;
	size_t i, n = 0;

	if (!sql)
		return 0;
	sr = pg_query_scan(sql);
	scan = sr.error ? NULL
			: pg_query__scan_result__unpack(
				  NULL, sr.pbuf.len,
				  (const uint8_t *)sr.pbuf.data);
	for (i = 0; scan && i < scan->n_tokens && n < max; i++) {
		const PgQuery__ScanToken *t = scan->tokens[i];
		char unknown[96];

		if (t->token == PG_QUERY__TOKEN__SQL_COMMENT &&
		    parse_waiver(sql + t->start, (size_t)(t->end - t->start),
				 &w[n], unknown, sizeof(unknown)) &&
		    w[n].reason[0])
			n++;
	}
	if (scan)
		pg_query__scan_result__free_unpacked(scan, NULL);
	pg_query_free_scan_result(sr);
	return n;
}

int
migrate_lint_run(struct migrate_lint *l,
		 struct migrate_registry *reg,
		 const struct migrate_revision *const *revs,
		 size_t n_revs,
		 unsigned int flags)
{
	bool parse_only = (flags & MIGRATE_LINT_PARSE_ONLY) != 0;
	size_t *off = NULL, *par = NULL, *stack = NULL;
	bool *anc = NULL;
	size_t n, i;
	int rc = 0;

	if (!l || !reg || migrate_registry_validate(reg) < 0)
		return MIGRATE_EINVAL;
	n = migrate_registry_count(reg);
	facts_clear(l);
	free(l->topo);
	l->topo = calloc(n ? n : 1, sizeof(*l->topo));
	anc = calloc(n ? n : 1, sizeof(*anc));
	stack = calloc(n ? n : 1, sizeof(*stack));
	if (!l->topo || !anc || !stack) {
		rc = MIGRATE_ENOMEM;
		goto out;
	}
	l->n_topo = n;
	for (i = 0; i < n; i++)
		l->topo[i] = migrate_registry_at(reg, i);
	rc = parent_indices(reg, l->topo, n, &off, &par);
	if (rc < 0)
		goto out;

	/* Every revision in topological order, so that each one sees the
	 * facts of its ancestors; only the wanted ones report. */
	for (i = 0; i < n && !l->oom; i++) {
		const struct migrate_revision *rev = l->topo[i];
		bool emit = wanted(rev, revs, n_revs);
		bool down_parsed = false;
		struct lint_waiver w[16];
		size_t n_w = 0, base = l->n_facts;
		struct lint_ctx c;
		int d;

		if (parse_only && !emit)
			continue;
		mark_ancestors(off, par, n, i, anc, stack);
		for (d = 0; d < 2; d++) {
			int dir = d ? MIGRATE_DOWN : MIGRATE_UP;

			ctx_init(&c, l, rev, dir);
			c.rev_index = i;
			c.anc = anc;
			c.emit = emit;
			c.fact_base = base;
			if (!c.sql)
				continue; /* no section, or a C callback */
			if (lint_section(&c, parse_only) && dir == MIGRATE_DOWN)
				down_parsed = true;
		}
		if (!emit || parse_only)
			continue;
		n_w = section_waivers(migrate_revision_upgrade_sql(rev), w, 16);
		n_w += section_waivers(migrate_revision_downgrade_sql(rev),
				       w + n_w, 16 - n_w);
		revision_rules(l, rev, i, base, anc, down_parsed, w, n_w);
	}
	if (l->oom)
		rc = MIGRATE_ENOMEM;
out:
	free(off);
	free(par);
	free(anc);
	free(stack);
	return rc;
}
