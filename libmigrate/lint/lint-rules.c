/* SPDX-License-Identifier: MIT */
/*
 * The lint rules over libpg_query's protobuf parse tree, one function per
 * kind of statement, and the facts each statement establishes (tables,
 * column types, validated NOT NULL checks) for later statements and
 * descendant revisions. The rule table (ids, reasons, fixes) is in lint.c;
 * docs/lint.md explains each rule.
 *
 * "Existing" table: one that this revision did not create (so far in its
 * upgrade; in a downgrade, what the upgrade created counts as created).
 * Lock and rolling-deploy rules apply to existing tables only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint-private.h"

/* ------------------------------------------------------------------ */
/* Tree helpers                                                        */
/* ------------------------------------------------------------------ */

static const char *
str_of(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string
		       ? n->string->sval
		       : NULL;
}

static const char *
rel_of(const PgQuery__RangeVar *rv)
{
	return rv && rv->relname && rv->relname[0] ? rv->relname : NULL;
}

/* The last name of a qualified name list (List of String). */
static const char *
last_name(PgQuery__Node **names, size_t n)
{
	return n ? str_of(names[n - 1]) : NULL;
}

/* "varchar(36)", "numeric(10,2)", "text", "int4[]" */
static void
type_text(const PgQuery__TypeName *tn, char *out, size_t size)
{
	const char *name = tn ? last_name(tn->names, tn->n_names) : NULL;
	size_t i, o;

	snprintf(out, size, "%s", name ? name : "?");
	o = strlen(out);
	for (i = 0; tn && i < tn->n_typmods && o + 16 < size; i++) {
		const PgQuery__Node *m = tn->typmods[i];
		long v = -1;

		if (m && m->node_case == PG_QUERY__NODE__NODE_A_CONST &&
		    m->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
			v = m->a_const->ival->ival;
		o += (size_t)snprintf(out + o, size - o, "%s%ld", i ? "," : "(",
				      v);
		if (i + 1 == tn->n_typmods)
			o += (size_t)snprintf(out + o, size - o, ")");
	}
	if (tn && tn->n_array_bounds && o + 3 < size)
		snprintf(out + o, size - o, "[]");
}

/* Parse "name(a,b)" into name and up to two modifiers (-1: none). */
static void
type_split(const char *t, char *name, size_t size, long mods[2])
{
	const char *p = strchr(t, '(');
	size_t n = p ? (size_t)(p - t) : strlen(t);

	mods[0] = mods[1] = -1;
	snprintf(name, size, "%.*s", (int)n, t);
	if (p) {
		mods[0] = strtol(p + 1, (char **)&p, 10);
		if (*p == ',')
			mods[1] = strtol(p + 1, NULL, 10);
	}
}

/* Is @to a widening of @from that PostgreSQL does without a rewrite
 * (varchar(n) -> varchar(m >= n) / varchar / text, numeric(p,s) ->
 * numeric(q >= p, s) / numeric)? *narrowing: a length or precision
 * shrinks. */
static bool
safe_widening(const char *from, const char *to, bool *narrowing)
{
	char fn[64], tn[64];
	long fm[2], tm[2];

	*narrowing = false;
	type_split(from, fn, sizeof(fn), fm);
	type_split(to, tn, sizeof(tn), tm);
	if (strchr(from, '[') || strchr(to, '['))
		return strcmp(from, to) == 0;
	if (strcmp(fn, "varchar") == 0 || strcmp(fn, "bpchar") == 0 ||
	    strcmp(fn, "varbit") == 0) {
		if (strcmp(tn, "text") == 0 && strcmp(fn, "varchar") == 0)
			return true;
		if (strcmp(tn, fn) != 0)
			return false;
		if (tm[0] < 0)
			return strcmp(fn, "bpchar") != 0;
		if (fm[0] < 0 || tm[0] < fm[0]) {
			*narrowing = true;
			return false;
		}
		return strcmp(fn, "bpchar") != 0 || tm[0] == fm[0];
	}
	if (strcmp(fn, "text") == 0)
		return strcmp(tn, "text") == 0 ||
		       (strcmp(tn, "varchar") == 0 && tm[0] < 0);
	if (strcmp(fn, "numeric") == 0 && strcmp(tn, "numeric") == 0) {
		if (tm[0] < 0)
			return true;
		if (fm[0] < 0 || tm[0] < fm[0] ||
		    (tm[1] < 0 ? 0 : tm[1]) != (fm[1] < 0 ? 0 : fm[1])) {
			*narrowing = fm[0] < 0 || tm[0] < fm[0];
			return false;
		}
		return true;
	}
	return strcmp(from, to) == 0;
}

/* A default expression that needs no table rewrite: constants, casts
 * of constants, CURRENT_TIMESTAMP and friends, now(), and operators over
 * those. Anything else may be volatile (random(), gen_random_uuid(),
 * nextval(), clock_timestamp(), an unknown function). */
static bool
default_is_stable(const PgQuery__Node *e)
{
	static const char *const stable[] = {
		"now",
		"transaction_timestamp",
		"statement_timestamp",
		"current_date",
		"current_timestamp",
		"localtimestamp",
		"current_setting",
		"current_user",
		"session_user",
		"lower",
		"upper",
		"jsonb_build_object",
		"json_build_object",
		"jsonb_build_array",
		"json_build_array",
		"array",
		"concat",
	};
	const PgQuery__FuncCall *f;
	const char *name;
	size_t i;

	if (!e)
		return true;
	switch (e->node_case) {
	case PG_QUERY__NODE__NODE_A_CONST:
	case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
		return true;
	case PG_QUERY__NODE__NODE_TYPE_CAST:
		return default_is_stable(e->type_cast->arg);
	case PG_QUERY__NODE__NODE_A_EXPR:
		return default_is_stable(e->a_expr->lexpr) &&
		       default_is_stable(e->a_expr->rexpr);
	case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
		for (i = 0; i < e->a_array_expr->n_elements; i++)
			if (!default_is_stable(e->a_array_expr->elements[i]))
				return false;
		return true;
	case PG_QUERY__NODE__NODE_FUNC_CALL:
		f = e->func_call;
		name = last_name(f->funcname, f->n_funcname);
		for (i = 0; name && i < sizeof(stable) / sizeof(stable[0]); i++)
			if (strcmp(name, stable[i]) == 0)
				break;
		if (!name || i == sizeof(stable) / sizeof(stable[0]))
			return false;
		for (i = 0; i < f->n_args; i++)
			if (!default_is_stable(f->args[i]))
				return false;
		return true;
	default:
		return false;
	}
}

/* CHECK (col IS NOT NULL): the column, else NULL. */
static const char *
not_null_check_column(const PgQuery__Constraint *k)
{
	const PgQuery__Node *e = k->raw_expr;
	const PgQuery__NullTest *nt;
	const PgQuery__ColumnRef *cr;

	if (k->contype != PG_QUERY__CONSTR_TYPE__CONSTR_CHECK || !e ||
	    e->node_case != PG_QUERY__NODE__NODE_NULL_TEST)
		return NULL;
	nt = e->null_test;
	if (nt->nulltesttype != PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL ||
	    !nt->arg || nt->arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
		return NULL;
	cr = nt->arg->column_ref;
	return last_name(cr->fields, cr->n_fields);
}

static const PgQuery__Constraint *
as_constraint(const PgQuery__Node *n)
{
	return n && n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT
		       ? n->constraint
		       : NULL;
}

/* " (created by revision X)" or "" */
static void
created_by(const struct lint_ctx *c, const char *table, char *out, size_t n)
{
	const char *who = lint_table_creator(c, table);

	if (who)
		snprintf(out, n, " (created by revision %s)", who);
	else
		snprintf(out, n, " (exists before this revision)");
}

/* ------------------------------------------------------------------ */
/* Statements that cannot run in a transaction block                   */
/* ------------------------------------------------------------------ */

static bool
has_option(PgQuery__Node **opts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (opts[i] &&
		    opts[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM &&
		    opts[i]->def_elem->defname &&
		    strcmp(opts[i]->def_elem->defname, name) == 0)
			return true;
	return false;
}

/* What the statement is when it cannot run in a transaction, else NULL. */
static const char *
non_transactional(const PgQuery__Node *n)
{
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_INDEX_STMT:
		return n->index_stmt->concurrent ? "CREATE INDEX CONCURRENTLY"
						 : NULL;
	case PG_QUERY__NODE__NODE_DROP_STMT:
		return n->drop_stmt->concurrent ? "DROP INDEX CONCURRENTLY"
						: NULL;
	case PG_QUERY__NODE__NODE_REINDEX_STMT:
		return has_option(n->reindex_stmt->params,
				  n->reindex_stmt->n_params, "concurrently")
			       ? "REINDEX CONCURRENTLY"
			       : (n->reindex_stmt->kind ==
							  PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SYSTEM ||
						  n->reindex_stmt->kind ==
							  PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_DATABASE ||
						  n->reindex_stmt->kind ==
							  PG_QUERY__REINDEX_OBJECT_TYPE__REINDEX_OBJECT_SCHEMA
					  ? "REINDEX SCHEMA/DATABASE/SYSTEM"
					  : NULL);
	case PG_QUERY__NODE__NODE_VACUUM_STMT:
		return n->vacuum_stmt->is_vacuumcmd ? "VACUUM" : NULL;
	case PG_QUERY__NODE__NODE_CREATEDB_STMT:
		return "CREATE DATABASE";
	case PG_QUERY__NODE__NODE_DROPDB_STMT:
		return "DROP DATABASE";
	case PG_QUERY__NODE__NODE_CREATE_TABLE_SPACE_STMT:
		return "CREATE TABLESPACE";
	case PG_QUERY__NODE__NODE_DROP_TABLE_SPACE_STMT:
		return "DROP TABLESPACE";
	case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT:
		return "ALTER SYSTEM";
	case PG_QUERY__NODE__NODE_CLUSTER_STMT:
		return rel_of(n->cluster_stmt->relation)
			       ? NULL
			       : "CLUSTER without a table";
	case PG_QUERY__NODE__NODE_CREATE_SUBSCRIPTION_STMT:
		return "CREATE SUBSCRIPTION";
	case PG_QUERY__NODE__NODE_DROP_SUBSCRIPTION_STMT:
		return "DROP SUBSCRIPTION";
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Rules by statement                                                  */
/* ------------------------------------------------------------------ */

static void
rule_create_table(struct lint_ctx *c, const PgQuery__CreateStmt *s)
{
	const char *t = rel_of(s->relation);
	size_t i, k;

	if (!t)
		return;
	/* IF NOT EXISTS on a table that an ancestor created creates
	 * nothing: the table stays an existing one. */
	if (s->if_not_exists && lint_table_creator(c, t))
		return;
	lint_fact_add(c, FACT_TABLE_CREATED, t, NULL, NULL, true);
	for (i = 0; i < s->n_table_elts; i++) {
		const PgQuery__Node *e = s->table_elts[i];
		char type[128];

		if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
			const PgQuery__ColumnDef *cd = e->column_def;

			type_text(cd->type_name, type, sizeof(type));
			lint_fact_add(c, FACT_COLUMN_TYPE, t, cd->colname, type,
				      true);
			for (k = 0; k < cd->n_constraints; k++) {
				const PgQuery__Constraint *ks =
					as_constraint(cd->constraints[k]);
				const char *col =
					ks ? not_null_check_column(ks) : NULL;

				if (col)
					lint_fact_add(c, FACT_CHECK_NOT_NULL, t,
						      col, ks->conname, true);
			}
		} else {
			const PgQuery__Constraint *ks = as_constraint(e);
			const char *col = ks ? not_null_check_column(ks) : NULL;

			if (col)
				lint_fact_add(c, FACT_CHECK_NOT_NULL, t, col,
					      ks->conname, true);
		}
	}
}

static void
rule_index(struct lint_ctx *c, const PgQuery__IndexStmt *s)
{
	const char *t = rel_of(s->relation);
	char why[160];

	if (!t)
		return;
	if (s->idxname && s->idxname[0])
		lint_fact_add(c, FACT_INDEX_CREATED, s->idxname, NULL, t, true);
	if (s->concurrent || lint_table_is_new(c, t))
		return;
	created_by(c, t, why, sizeof(why));
	lint_report(
		c, "require-concurrent-index-creation",
		"CREATE INDEX on \"%s\" without CONCURRENTLY blocks its writes%s",
		t, why);
}

static void
rule_drop(struct lint_ctx *c, const PgQuery__DropStmt *s)
{
	size_t i;

	for (i = 0; i < s->n_objects; i++) {
		const PgQuery__Node *o = s->objects[i];
		const char *name = NULL;
		char why[160];

		if (o && o->node_case == PG_QUERY__NODE__NODE_LIST)
			name = last_name(o->list->items, o->list->n_items);
		if (!name)
			continue;
		if (s->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
			bool is_new = lint_table_is_new(c, name);

			lint_fact_add(c, FACT_TABLE_DROPPED, name, NULL, NULL,
				      true);
			if (is_new)
				continue;
			created_by(c, name, why, sizeof(why));
			lint_report(
				c, "ban-drop-table",
				"DROP TABLE \"%s\" breaks the previous release during a rolling deploy%s; expand/contract: add first, switch the code, drop in a later release",
				name, why);
		} else if (s->remove_type ==
				   PG_QUERY__OBJECT_TYPE__OBJECT_INDEX &&
			   !s->concurrent) {
			if (lint_index_is_new(c, name))
				continue;
			lint_report(
				c, "require-concurrent-index-deletion",
				"DROP INDEX \"%s\" without CONCURRENTLY locks its table",
				name);
		}
	}
}

static void
add_column(struct lint_ctx *c,
	   const char *t,
	   const PgQuery__ColumnDef *cd,
	   bool existing,
	   const char *why)
{
	bool not_null = cd->is_not_null, has_default = false;
	bool volatile_default = false, generated = false;
	const PgQuery__Node *def = cd->raw_default;
	char type[128];
	size_t k;

	type_text(cd->type_name, type, sizeof(type));
	for (k = 0; k < cd->n_constraints; k++) {
		const PgQuery__Constraint *ks =
			as_constraint(cd->constraints[k]);

		if (!ks)
			continue;
		switch (ks->contype) {
		case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
			not_null = true;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
			has_default = true;
			def = ks->raw_expr;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
			has_default = true;
			volatile_default = true;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
			has_default = true;
			generated = true;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
		case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
			if (existing && !(ks->indexname && ks->indexname[0]))
				lint_report(
					c, "disallowed-unique-constraint",
					"ADD COLUMN \"%s\" %s on \"%s\" builds a unique index under an ACCESS EXCLUSIVE lock%s",
					cd->colname,
					ks->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY
						? "PRIMARY KEY"
						: "UNIQUE",
					t, why);
			not_null =
				not_null ||
				ks->contype ==
					PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY;
			break;
		case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
			if (existing && !ks->skip_validation)
				lint_report(
					c, "adding-foreign-key-constraint",
					"ADD COLUMN \"%s\" REFERENCES on \"%s\" validates under a lock on both tables%s",
					cd->colname, t, why);
			break;
		default:
			break;
		}
	}
	if (def && !default_is_stable(def))
		volatile_default = true;
	if (strcmp(type, "serial") == 0 || strcmp(type, "bigserial") == 0 ||
	    strcmp(type, "smallserial") == 0 || strcmp(type, "serial4") == 0 ||
	    strcmp(type, "serial8") == 0 || strcmp(type, "serial2") == 0) {
		has_default = true;
		volatile_default = true;
	}
	lint_fact_add(c, FACT_COLUMN_TYPE, t, cd->colname, type, true);
	if (!existing)
		return;
	if (not_null && !has_default)
		lint_report(
			c, "adding-required-field",
			"ADD COLUMN \"%s\" NOT NULL without a default on \"%s\" fails when it has rows and breaks the previous release's INSERTs%s",
			cd->colname, t, why);
	if (volatile_default || generated)
		lint_report(
			c, "adding-field-with-default",
			"ADD COLUMN \"%s\" on \"%s\" with %s rewrites the table under an ACCESS EXCLUSIVE lock%s",
			cd->colname, t,
			generated ? "a stored generated value"
				  : "a volatile default",
			why);
}

static void
add_constraint(struct lint_ctx *c,
	       const char *t,
	       const PgQuery__Constraint *k,
	       bool existing,
	       const char *why)
{
	const char *col = not_null_check_column(k);

	if (col)
		lint_fact_add(c, FACT_CHECK_NOT_NULL, t, col, k->conname,
			      !k->skip_validation);
	if (k->skip_validation && k->conname && k->conname[0] &&
	    c->n_not_valid < sizeof(c->not_valid) / sizeof(c->not_valid[0]))
		snprintf(c->not_valid[c->n_not_valid++],
			 sizeof(c->not_valid[0]), "%s", k->conname);
	if (!existing)
		return;
	switch (k->contype) {
	case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
		if (!k->skip_validation)
			lint_report(
				c, "constraint-missing-not-valid",
				"ADD CONSTRAINT %s CHECK on \"%s\" without NOT VALID scans it under an ACCESS EXCLUSIVE lock%s",
				k->conname && k->conname[0] ? k->conname : "",
				t, why);
		break;
	case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
		if (!k->skip_validation)
			lint_report(
				c, "adding-foreign-key-constraint",
				"ADD FOREIGN KEY on \"%s\" without NOT VALID validates under a lock on both tables%s",
				t, why);
		break;
	case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
	case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
	case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
		if (!(k->indexname && k->indexname[0]))
			lint_report(
				c, "disallowed-unique-constraint",
				"ADD %s on \"%s\" builds its index under an ACCESS EXCLUSIVE lock%s",
				k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY
					? "PRIMARY KEY"
				: k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE
					? "UNIQUE"
					: "EXCLUDE",
				t, why);
		break;
	default:
		break;
	}
}

static void
rule_alter_table(struct lint_ctx *c, const PgQuery__AlterTableStmt *s)
{
	const char *t = rel_of(s->relation);
	bool existing;
	char why[160];
	size_t i;

	if (!t || s->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
		return;
	existing = !lint_table_is_new(c, t);
	created_by(c, t, why, sizeof(why));
	for (i = 0; i < s->n_cmds; i++) {
		const PgQuery__AlterTableCmd *cmd;
		const char *col;

		if (s->cmds[i]->node_case !=
		    PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
			continue;
		cmd = s->cmds[i]->alter_table_cmd;
		col = cmd->name && cmd->name[0] ? cmd->name : NULL;
		switch (cmd->subtype) {
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
			if (cmd->def && cmd->def->node_case ==
						PG_QUERY__NODE__NODE_COLUMN_DEF)
				add_column(c, t, cmd->def->column_def, existing,
					   why);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
			if (as_constraint(cmd->def))
				add_constraint(c, t, cmd->def->constraint,
					       existing, why);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_ValidateConstraint: {
			const char *nc =
				col ? lint_check_column(c, t, col) : NULL;
			size_t k;

			/* Validated in the transaction that added it NOT
			 * VALID: the ADD's lock is held during the scan. */
			for (k = 0;
			     col && c->transactional && k < c->n_not_valid; k++)
				if (strcmp(c->not_valid[k], col) == 0) {
					lint_report(
						c,
						"constraint-missing-not-valid",
						"VALIDATE CONSTRAINT %s in the transaction that added it NOT VALID holds that lock during the scan of \"%s\"",
						col, t);
					break;
				}

			if (nc)
				lint_fact_add(c, FACT_CHECK_VALIDATED, t, nc,
					      col, true);
			break;
		}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
			if (existing && col && !lint_column_is_new(c, t, col) &&
			    !lint_has_valid_not_null_check(c, t, col))
				lint_report(
					c, "adding-not-nullable-field",
					"SET NOT NULL on \"%s\".\"%s\" scans the table under an ACCESS EXCLUSIVE lock (no validated CHECK (%s IS NOT NULL)), and the previous release may still write NULLs%s",
					t, col, col, why);
			break;
		case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType: {
			const PgQuery__ColumnDef *cd =
				cmd->def && cmd->def->node_case ==
							PG_QUERY__NODE__NODE_COLUMN_DEF
					? cmd->def->column_def
					: NULL;
			const char *old =
				col ? lint_column_type(c, t, col) : NULL;
			char to[128];
			bool narrowing = false;

			if (!cd || !col)
				break;
			type_text(cd->type_name, to, sizeof(to));
			if (existing &&
			    !(old && safe_widening(old, to, &narrowing)))
				lint_report(
					c, "changing-column-type",
					"ALTER COLUMN \"%s\".\"%s\" TYPE %s%s%s%s rewrites the table under an ACCESS EXCLUSIVE lock%s",
					t, col, to, old ? " (was " : "",
					old ? old : "", old ? ")" : "",
					narrowing
						? "; narrowing breaks the previous release"
						: "");
			lint_fact_add(c, FACT_COLUMN_TYPE, t, col, to, false);
			break;
		}
		case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
			if (existing && col && !lint_column_is_new(c, t, col))
				lint_report(
					c, "ban-drop-column",
					"DROP COLUMN \"%s\".\"%s\" breaks the previous release during a rolling deploy%s; expand/contract: add first, switch the code, drop in a later release",
					t, col, why);
			lint_fact_add(c, FACT_COLUMN_DROPPED, t, col, NULL,
				      true);
			break;
		default:
			break;
		}
	}
}

static void
rule_rename(struct lint_ctx *c, const PgQuery__RenameStmt *s)
{
	const char *t = rel_of(s->relation);
	char why[160];

	if (!t)
		return;
	created_by(c, t, why, sizeof(why));
	if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) {
		bool is_new = lint_table_is_new(c, t);

		/* The new name is new to this revision only when the table
		 * was (valid = false: it exists, under another name). */
		lint_fact_add(c, FACT_TABLE_DROPPED, t, NULL, NULL, true);
		lint_fact_add(c, FACT_TABLE_CREATED, s->newname, NULL, NULL,
			      is_new);
		if (is_new)
			return;
		lint_report(
			c, "renaming-table",
			"RENAME of table \"%s\" to \"%s\" breaks the previous release during a rolling deploy%s; expand/contract: add first, switch the code, drop in a later release",
			t, s->newname, why);
	} else if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
		   s->subname) {
		const char *type = lint_column_type(c, t, s->subname);

		if (!lint_column_is_new(c, t, s->subname))
			lint_report(
				c, "renaming-column",
				"RENAME COLUMN \"%s\".\"%s\" to \"%s\" breaks the previous release during a rolling deploy%s; expand/contract: add first, switch the code, drop in a later release",
				t, s->subname, s->newname, why);
		if (type) {
			char copy[128];

			snprintf(copy, sizeof(copy), "%s", type);
			lint_fact_add(c, FACT_COLUMN_DROPPED, t, s->subname,
				      NULL, true);
			lint_fact_add(c, FACT_COLUMN_TYPE, t, s->newname, copy,
				      false);
		}
	}
}

static void
rule_dml(struct lint_ctx *c,
	 const char *what,
	 const PgQuery__RangeVar *rv,
	 const PgQuery__Node *where)
{
	const char *t = rel_of(rv);
	char why[160];

	if (!t || where || lint_table_is_new(c, t))
		return;
	created_by(c, t, why, sizeof(why));
	lint_report(c, "dml-without-where",
		    "%s without WHERE touches every row of \"%s\"%s", what, t,
		    why);
}

static void
rule_truncate(struct lint_ctx *c, const PgQuery__TruncateStmt *s)
{
	size_t i;

	for (i = 0; i < s->n_relations; i++) {
		const PgQuery__Node *n = s->relations[i];
		const char *t =
			n && n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR
				? rel_of(n->range_var)
				: NULL;
		char why[160];

		if (!t || lint_table_is_new(c, t))
			continue;
		created_by(c, t, why, sizeof(why));
		lint_report(
			c, "ban-truncate",
			"TRUNCATE \"%s\" deletes every row under an ACCESS EXCLUSIVE lock%s",
			t, why);
	}
}

static void
rule_set(struct lint_ctx *c, const PgQuery__VariableSetStmt *s)
{
	static const char *const timeouts[] = {
		"lock_timeout",
		"statement_timeout",
		"idle_in_transaction_session_timeout",
	};
	size_t i;

	if (s->is_local || !s->name)
		return;
	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if (strcmp(s->name, timeouts[i]) == 0)
			lint_report(c, "session-timeout",
				    "session-level SET %s leaks past this step",
				    s->name);
}

static void
rule_transaction(struct lint_ctx *c, const PgQuery__TransactionStmt *s)
{
	static const char *const names[] = {
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN] = "BEGIN",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START] =
			"START TRANSACTION",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT] = "COMMIT",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK] =
			"ROLLBACK",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE] =
			"PREPARE TRANSACTION",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED] =
			"COMMIT PREPARED",
		[PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED] =
			"ROLLBACK PREPARED",
	};
	size_t k = (size_t)s->kind;

	if (k < sizeof(names) / sizeof(names[0]) && names[k])
		lint_report(c, "transaction-nesting",
			    "%s inside a section breaks the step's transaction",
			    names[k]);
}

void
lint_rules_statement(struct lint_ctx *c)
{
	const PgQuery__Node *n = c->stmt->node;
	const char *nontx;

	if (!n)
		return;
	nontx = non_transactional(n);
	if (nontx) {
		if (c->n_nontx++ == 0) {
			c->first_nontx_start = c->stmt->start;
			memcpy(c->nontx_waivers, c->stmt->waivers,
			       sizeof(c->nontx_waivers));
			c->n_nontx_waivers = c->stmt->n_waivers;
		}
		if (c->transactional)
			lint_report(
				c, "transaction-incompatible",
				"%s cannot run inside a transaction block; this section runs in one",
				nontx);
	}
	switch (n->node_case) {
	case PG_QUERY__NODE__NODE_CREATE_STMT:
		rule_create_table(c, n->create_stmt);
		break;
	case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
		if (n->create_table_as_stmt->into)
			lint_fact_add(
				c, FACT_TABLE_CREATED,
				rel_of(n->create_table_as_stmt->into->rel),
				NULL, NULL, true);
		break;
	case PG_QUERY__NODE__NODE_INDEX_STMT:
		rule_index(c, n->index_stmt);
		break;
	case PG_QUERY__NODE__NODE_DROP_STMT:
		rule_drop(c, n->drop_stmt);
		break;
	case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
		rule_alter_table(c, n->alter_table_stmt);
		break;
	case PG_QUERY__NODE__NODE_RENAME_STMT:
		rule_rename(c, n->rename_stmt);
		break;
	case PG_QUERY__NODE__NODE_UPDATE_STMT:
		rule_dml(c, "UPDATE", n->update_stmt->relation,
			 n->update_stmt->where_clause);
		break;
	case PG_QUERY__NODE__NODE_DELETE_STMT:
		rule_dml(c, "DELETE", n->delete_stmt->relation,
			 n->delete_stmt->where_clause);
		break;
	case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
		rule_truncate(c, n->truncate_stmt);
		break;
	case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
		rule_set(c, n->variable_set_stmt);
		break;
	case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
		rule_transaction(c, n->transaction_stmt);
		break;
	default:
		break;
	}
}

void
lint_rules_section(struct lint_ctx *c)
{
	struct lint_stmt st;

	if (c->transactional || c->n_nontx == 0 || c->n_stmts < 2)
		return;
	/* Point at the first statement that needs transaction=false. */
	memset(&st, 0, sizeof(st));
	st.start = st.end = c->first_nontx_start;
	memcpy(st.waivers, c->nontx_waivers, sizeof(st.waivers));
	st.n_waivers = c->n_nontx_waivers;
	while (c->sql[st.end] && c->sql[st.end] != ';' &&
	       c->sql[st.end] != '\n')
		st.end++;
	c->stmt = &st;
	lint_report(
		c, "mixed-non-transactional",
		"this transaction=false section has %zu statements, %zu of them cannot run in a transaction",
		c->n_stmts, c->n_nontx);
	c->stmt = NULL;
}
