/* SPDX-License-Identifier: MIT */
/*
 * `migrate lint` and the pre-flight parse of upgrade/downgrade, on top of
 * the lint component (libmigrate/lint/migrate-lint.h). Built only with the
 * meson feature `lint`; without it cli_preflight() does nothing.
 *
 * JSON output: json_string() below is this file's own escaper, kept to
 * the one function so that it can be folded into a shared CLI JSON writer
 * when one exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "cli.h"

#ifdef MIGRATE_HAVE_LINT

#include "migrate-lint.h"

/* @s as a JSON string (RFC 8259): quotes, backslash and control
 * characters escaped; other bytes (UTF-8) as they are. */
static void
json_string(FILE *out, const char *s)
{
	const unsigned char *p;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* "FILE:LINE:COL", "FILE:LINE", "revision ID (upgrade)" */
static void
where(const struct migrate_lint_finding *f, char *out, size_t n)
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

static void
print_text(const struct migrate_lint *l, bool verbose)
{
	size_t i;

	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);
		char loc[1024];

		if (f->waiver && !verbose)
			continue;
		where(f, loc, sizeof(loc));
		if (strcmp(f->rule->id, "syntax-error") == 0) {
			/* The compiler-style line of a parse error. */
			printf("%s: %s\n", loc, f->message);
			continue;
		}
		printf("%s: %s: %s: %s\n", loc,
		       migrate_lint_severity_name(f->severity), f->rule->id,
		       f->message);
		if (f->statement[0])
			printf("    statement: %s\n", f->statement);
		printf("    fix: %s\n", f->rule->fix);
		if (f->waiver)
			printf("    waived: %s\n", f->waiver);
	}
}

static void
print_json(const struct migrate_lint *l, size_t n_revs)
{
	size_t i;

	fputs("{\"revisions\":", stdout);
	printf("%zu,\"errors\":%zu,\"warnings\":%zu,\"info\":%zu,"
	       "\"findings\":[",
	       n_revs, migrate_lint_count_severity(l, MIGRATE_LINT_ERROR),
	       migrate_lint_count_severity(l, MIGRATE_LINT_WARNING),
	       migrate_lint_count_severity(l, MIGRATE_LINT_INFO));
	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		printf("%s{\"rule\":", i ? "," : "");
		json_string(stdout, f->rule->id);
		fputs(",\"severity\":", stdout);
		json_string(stdout, migrate_lint_severity_name(f->severity));
		fputs(",\"revision\":", stdout);
		json_string(stdout, f->revision);
		fputs(",\"direction\":", stdout);
		json_string(stdout, f->direction == MIGRATE_DOWN ? "downgrade"
								 : "upgrade");
		fputs(",\"file\":", stdout);
		json_string(stdout, f->file);
		printf(",\"line\":%zu,\"column\":%zu,\"message\":", f->line,
		       f->column);
		json_string(stdout, f->message);
		fputs(",\"statement\":", stdout);
		json_string(stdout, f->statement);
		fputs(",\"fix\":", stdout);
		json_string(stdout, f->rule->fix);
		fputs(",\"waived\":", stdout);
		json_string(stdout, f->waiver);
		fputs("}", stdout);
	}
	fputs("]}\n", stdout);
}

int
cmd_lint(struct cli *c)
{
	const struct migrate_revision **revs = NULL;
	struct migrate_lint *l = NULL;
	bool json = c->format && strcmp(c->format, "json") == 0;
	size_t i, n_revs, errors, warnings;
	int rc = cli_load_registry(c, false), code = CLI_EXIT_OK;

	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->nargs) {
		revs = calloc(c->nargs, sizeof(*revs));
		if (!revs) {
			cli_errorf("out of memory");
			return CLI_EXIT_DATABASE;
		}
		for (i = 0; i < c->nargs; i++) {
			rc = migrate_registry_find(c->reg, c->args[i],
						   &revs[i]);
			if (rc < 0) {
				cli_print_error(migrate_registry_errmsg(c->reg),
						NULL, rc);
				free(revs);
				return CLI_EXIT_USAGE;
			}
		}
	}
	n_revs = c->nargs ? c->nargs : migrate_registry_count(c->reg);
	rc = migrate_lint_new(&l);
	if (rc == 0)
		rc = migrate_lint_run(l, c->reg, revs, c->nargs, 0);
	free(revs);
	if (rc < 0) {
		cli_errorf("lint: %s", migrate_strerror(rc));
		migrate_lint_free(l);
		return CLI_EXIT_DATABASE;
	}
	errors = migrate_lint_count_severity(l, MIGRATE_LINT_ERROR);
	warnings = migrate_lint_count_severity(l, MIGRATE_LINT_WARNING);
	if (json) {
		print_json(l, n_revs);
	} else {
		print_text(l, c->verbose > 0);
		if (!c->quiet)
			printf("lint: %zu revision%s, %zu error%s, %zu "
			       "warning%s, %zu info\n",
			       n_revs, n_revs == 1 ? "" : "s", errors,
			       errors == 1 ? "" : "s", warnings,
			       warnings == 1 ? "" : "s",
			       migrate_lint_count_severity(l,
							   MIGRATE_LINT_INFO));
	}
	if (errors || (warnings && CLI_GIVEN(c, OPT_STRICT)))
		code = CLI_EXIT_CHECK;
	migrate_lint_free(l);
	return code;
}

int
cli_preflight(struct cli *c, int direction, const char *target)
{
	struct migrate_plan *plan = NULL;
	struct migrate_lint *l = NULL;
	size_t i, n;
	int rc, version, code = CLI_EXIT_OK;

	rc = migrate_plan(&plan, c->m, direction, target);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	rc = migrate_lint_new(&l);
	for (i = 0; rc == 0 && i < migrate_plan_count(plan); i++) {
		int dir;
		const struct migrate_revision *rev =
			migrate_plan_step(plan, i, &dir);

		rc = migrate_lint_parse_section(l, rev, dir);
	}
	migrate_plan_free(plan);
	if (rc < 0) {
		migrate_lint_free(l);
		cli_errorf("pre-flight parse: %s", migrate_strerror(rc));
		return CLI_EXIT_DATABASE;
	}
	n = migrate_lint_count(l);
	if (n == 0) {
		migrate_lint_free(l);
		return CLI_EXIT_OK;
	}
	version = migrate_lint_server_version(c->m);
	for (i = 0; i < n; i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);
		char loc[1024];

		where(f, loc, sizeof(loc));
		if (version >= 160000)
			cli_errorf("warning: %s: %s (PostgreSQL 15's parser; "
				   "the server is newer: going on)",
				   loc, f->message);
		else
			cli_errorf("%s: %s", loc, f->message);
	}
	if (version < 160000) {
		cli_errorf("nothing applied: %zu pending section%s do%s not "
			   "parse (--no-parse skips this check)",
			   n, n == 1 ? "" : "s", n == 1 ? "es" : "");
		code = CLI_EXIT_REVISIONS;
	}
	migrate_lint_free(l);
	return code;
}

#else /* !MIGRATE_HAVE_LINT */

int
cmd_lint(struct cli *c)
{
	(void)c;
	cli_errorf("this migrate was built without the lint component "
		   "(meson -Dlint=disabled)");
	return CLI_EXIT_USAGE;
}

int
cli_preflight(struct cli *c, int direction, const char *target)
{
	(void)c;
	(void)direction;
	(void)target;
	return CLI_EXIT_OK;
}

#endif
