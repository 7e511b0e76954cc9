/* SPDX-License-Identifier: MIT */
/*
 * Internals of the lint component shared by lint.c (driver: results,
 * parsing, waivers, revision graph, facts) and lint-rules.c (the rules
 * over libpg_query's protobuf parse tree).
 */
#ifndef MIGRATE_LINT_PRIVATE_H
#define MIGRATE_LINT_PRIVATE_H

#include <pg_query/pg_query.pb-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "migrate-lint.h"

#if defined(__GNUC__)
#define LINT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LINT_PRINTF(a, b)
#endif

/* What a revision's upgrade establishes, collected in topological order
 * so that a revision sees what its ancestors did. */
enum lint_fact_kind {
	FACT_TABLE_CREATED,
	FACT_TABLE_DROPPED,
	FACT_INDEX_CREATED,
	FACT_COLUMN_TYPE,     /* column added or retyped: text = type */
	FACT_CHECK_NOT_NULL,  /* CHECK (column IS NOT NULL), text = name */
	FACT_CHECK_VALIDATED, /* VALIDATE CONSTRAINT, text = name */
	FACT_COLUMN_DROPPED,
};

struct lint_fact {
	enum lint_fact_kind kind;
	size_t rev; /* topological index of the revision */
	char *table;
	char *column; /* or NULL */
	char *text;   /* or NULL */
	bool valid;   /* FACT_CHECK_NOT_NULL: built without NOT VALID;
			 FACT_TABLE_CREATED: really new (false: renamed);
			 FACT_COLUMN_TYPE: column added (false: retyped) */
	bool down;    /* from the downgrade section (only drops are kept,
			 for incomplete-downgrade; invisible elsewhere) */
};

/* One waiver comment of a statement. */
struct lint_waiver {
	char rules[256]; /* ",id,id," */
	char reason[256];
};

/* The statement being linted. */
struct lint_stmt {
	PgQuery__Node *node;
	size_t start; /* byte offset of its first token */
	size_t end;   /* byte offset just past its last token */
	struct lint_waiver waivers[4];
	size_t n_waivers;
};

/* The section being linted. */
struct lint_ctx {
	struct migrate_lint *l;
	const struct migrate_revision *rev;
	size_t rev_index; /* topological */
	int direction;
	const char *sql;
	size_t first_line;
	bool transactional;
	bool emit;        /* report findings (else only collect facts) */
	const bool *anc;  /* anc[i]: revision i is an ancestor of rev */
	size_t fact_base; /* this revision's facts start here */
	struct lint_stmt *stmt;
	size_t n_stmts;
	size_t n_nontx; /* statements that cannot run in a transaction */
	size_t first_nontx_start;
	struct lint_waiver nontx_waivers[4];
	size_t n_nontx_waivers;
	/* Constraints added NOT VALID earlier in this section. */
	char not_valid[8][64];
	size_t n_not_valid;
};

/* Report a finding of rule @id on the current statement (or at byte
 * @offset of the section when there is no statement). */
void lint_report(struct lint_ctx *c, const char *id, const char *fmt, ...)
	LINT_PRINTF(3, 4);

/* Facts. */
void lint_fact_add(struct lint_ctx *c,
		   enum lint_fact_kind kind,
		   const char *table,
		   const char *column,
		   const char *text,
		   bool valid);
/* The table was created by this revision's upgrade (so far) and not
 * dropped since: no lock problem, nobody else uses it yet. */
bool lint_table_is_new(const struct lint_ctx *c, const char *table);
/* The index was created by this revision (its upgrade, so far). */
bool lint_index_is_new(const struct lint_ctx *c, const char *index);
/* The column was added by this revision's upgrade (so far). */
bool lint_column_is_new(const struct lint_ctx *c,
			const char *table,
			const char *column);
/* The id of the ancestor revision that created @table, or NULL. */
const char *lint_table_creator(const struct lint_ctx *c, const char *table);
/* The type of @table.@column as known from the ancestors and this
 * revision, or NULL. */
const char *lint_column_type(const struct lint_ctx *c,
			     const char *table,
			     const char *column);
/* A validated CHECK (@column IS NOT NULL) exists on @table. */
bool lint_has_valid_not_null_check(const struct lint_ctx *c,
				   const char *table,
				   const char *column);
/* The name of the constraint @conname on @table when it is a
 * CHECK (col IS NOT NULL): its column, else NULL. */
const char *lint_check_column(const struct lint_ctx *c,
			      const char *table,
			      const char *conname);

/* Run every rule on c->stmt and record its facts (lint-rules.c). */
void lint_rules_statement(struct lint_ctx *c);
/* Rules about a whole section, after its statements. */
void lint_rules_section(struct lint_ctx *c);

#endif /* MIGRATE_LINT_PRIVATE_H */
