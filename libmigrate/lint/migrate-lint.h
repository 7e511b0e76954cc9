/* SPDX-License-Identifier: MIT */
/*
 * libmigrate's linter: PostgreSQL's own parser (libpg_query) over the SQL
 * sections of a registry, plus rules about what would hurt a live database
 * or the previous release of a rolling deploy (docs/lint.md).
 *
 * A separate component (meson feature `lint`): the `migrate-lint` static
 * library, which the tests and the fuzz target link, and the module
 * migrate-lint.so, which the `migrate` command loads when it parses
 * (migrate-lint-module.h); services that only verify never load the
 * parser. It uses the public API of libmigrate only. The header is not
 * installed; not part of the ABI.
 *
 * Error model as libmigrate: 0 or a negative enum migrate_error value
 * (MIGRATE_ENOMEM, MIGRATE_EINVAL). Findings are not errors.
 */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include <stddef.h>

#include <libmigrate.h>

enum migrate_lint_severity {
	MIGRATE_LINT_INFO = 0,
	MIGRATE_LINT_WARNING = 1,
	MIGRATE_LINT_ERROR = 2,
};

/* One rule: its id (used in waivers), severity, one-line reason and fix.
 * Each has an entry in docs/lint.md. */
struct migrate_lint_rule {
	const char *id;
	int severity; /* enum migrate_lint_severity */
	const char *reason;
	const char *fix;
};

/* Every rule, in documentation order; *count receives their number. */
const struct migrate_lint_rule *migrate_lint_rules(size_t *count);

/* The rule called @id, or NULL. */
const struct migrate_lint_rule *migrate_lint_rule_find(const char *id);

/* One finding. Strings are owned by the result set. */
struct migrate_lint_finding {
	const struct migrate_lint_rule *rule;
	int severity;          /* enum migrate_lint_severity */
	const char *revision;  /* revision id */
	const char *file;      /* NULL when the revision was added in memory */
	int direction;         /* MIGRATE_UP or MIGRATE_DOWN */
	size_t line;           /* 1-based file line (section line without a
				  file); 0 when unknown */
	size_t column;         /* 1-based, in characters; 0 when unknown */
	const char *message;   /* one line, e.g. syntax error at or near "x" */
	const char *statement; /* the statement on one line (shortened), or
				  "" for a finding about the revision */
	const char *waiver;    /* reason of the waiver, or NULL */
};

/* A set of findings. */
struct migrate_lint;

/* Flags for migrate_lint_run(). */
enum migrate_lint_flags {
	/* Parse only: syntax errors, no rules (the upgrade pre-flight). */
	MIGRATE_LINT_PARSE_ONLY = 1u << 0,
};

/* An empty result set; free with migrate_lint_free(). 0 or
 * MIGRATE_ENOMEM. */
int migrate_lint_new(struct migrate_lint **out);

/* Free a result set; NULL is a no-op. */
void migrate_lint_free(struct migrate_lint *l);

/*
 * Lint @revs (@n_revs revisions of @reg, which must validate; NULL and 0
 * = every revision): both sections of each, C-callback sections skipped,
 * with the facts (tables, column types, validated checks) that the
 * revision's ancestors establish. Findings are appended to @l in
 * revision (topological) order.
 *
 * @return 0, MIGRATE_EINVAL (the registry does not validate) or
 *         MIGRATE_ENOMEM.
 */
int migrate_lint_run(struct migrate_lint *l,
		     struct migrate_registry *reg,
		     const struct migrate_revision *const *revs,
		     size_t n_revs,
		     unsigned int flags);

/*
 * Parse one section (MIGRATE_UP/MIGRATE_DOWN) of @rev and add its syntax
 * error, if any, to @l (the pre-flight of upgrade/downgrade). A section
 * without SQL adds nothing. 0 or MIGRATE_ENOMEM.
 */
int migrate_lint_parse_section(struct migrate_lint *l,
			       const struct migrate_revision *rev,
			       int direction);

/*
 * migrate_lint_parse_section() of the text @sql of that section (NULL:
 * none), which the caller read (migrate_registry_read_sql()) and frees
 * after: the pre-flight parses one section at a time and keeps none.
 */
int migrate_lint_parse_sql(struct migrate_lint *l,
			   const struct migrate_revision *rev,
			   int direction,
			   const char *sql);

/* server_version_num of the database of @m, which must have been opened
 * with the libpq backend (no backend passed to migrate_open()); 0 when
 * unknown (not connected). The one place the pre-flight learns the
 * server's version: libpq's, from the server_version the server reports
 * at connection start. */
int migrate_lint_server_version(struct migrate *m);

/* libpg_query speaks PostgreSQL 15's grammar: from this server_version_num
 * on, the server may accept syntax the parser does not know. */
#define MIGRATE_LINT_NEWER_SERVER 160000

/* The pre-flight's verdict (migrate_lint_preflight()). */
enum migrate_lint_preflight_verdict {
	MIGRATE_LINT_PREFLIGHT_CLEAN = 0,  /* every section parses */
	MIGRATE_LINT_PREFLIGHT_WARN = 1,   /* reported; the run goes on */
	MIGRATE_LINT_PREFLIGHT_REFUSE = 2, /* reported; apply nothing */
};

/* Receives one line to report (no newline); @payload as passed. */
typedef void (*migrate_lint_line_fn)(const char *line, void *payload);

/*
 * The pre-flight policy of upgrade/downgrade (its one owner), over the
 * syntax errors in @l (from migrate_lint_parse_section()) for a server
 * whose server_version_num is @server_version (0: unknown, i.e. the
 * offline --sql script). Below MIGRATE_LINT_NEWER_SERVER a parse failure
 * refuses the run: one "FILE:LINE:COL: message" line per error, then a
 * summary ("nothing applied: ..." or, for 0, "no script written: ...").
 * At or above it, each is a "warning: ..." line and the run goes on (new
 * syntax must never be blocked by an old parser). Calls @emit for each
 * line, in order; @emit must not be NULL.
 *
 * @return an enum migrate_lint_preflight_verdict.
 */
int migrate_lint_preflight(const struct migrate_lint *l,
			   int server_version,
			   migrate_lint_line_fn emit,
			   void *payload);

/* Where @f is, into @out (@n bytes, truncated): "FILE:LINE:COL",
 * "FILE:LINE", "FILE", "revision ID (upgrade):LINE:COL" or "revision ID
 * (downgrade)". */
void
migrate_lint_where(const struct migrate_lint_finding *f, char *out, size_t n);

/* Number of findings, and the @i-th (NULL when out of range). Borrowed:
 * valid until @l is freed. */
size_t migrate_lint_count(const struct migrate_lint *l);
const struct migrate_lint_finding *migrate_lint_at(const struct migrate_lint *l,
						   size_t i);

/* Number of findings of @severity that are not waived. */
size_t migrate_lint_count_severity(const struct migrate_lint *l, int severity);

/* "error", "warning" or "info". */
const char *migrate_lint_severity_name(int severity);

#endif /* MIGRATE_LINT_H */
