/* SPDX-License-Identifier: MIT */
/*
 * `migrate lint` and the pre-flight parse of upgrade/downgrade, on top of
 * the lint component (libmigrate/lint/migrate-lint.h). Built only with the
 * meson feature `lint`; without it cli_plan_check() does nothing.
 *
 * JSON output goes through the CLI's one JSON writer (json.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "cli.h"

#ifdef MIGRATE_HAVE_LINT

#include "migrate-lint.h"

static void
print_text(const struct migrate_lint *l, bool verbose)
{
	size_t i;

	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);
		char loc[1024];

		if (f->waiver && !verbose)
			continue;
		migrate_lint_where(f, loc, sizeof(loc));
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
print_json(struct cli *c, const struct migrate_lint *l, size_t n_revs)
{
	struct json j;
	size_t i;

	cli_json_begin(c, &j);
	json_int(&j, "revisions", (long long)n_revs);
	json_int(&j, "errors",
		 (long long)migrate_lint_count_severity(l, MIGRATE_LINT_ERROR));
	json_int(&j, "warnings",
		 (long long)migrate_lint_count_severity(l,
							MIGRATE_LINT_WARNING));
	json_int(&j, "info",
		 (long long)migrate_lint_count_severity(l, MIGRATE_LINT_INFO));
	json_begin_array(&j, "findings");
	for (i = 0; i < migrate_lint_count(l); i++) {
		const struct migrate_lint_finding *f = migrate_lint_at(l, i);

		json_begin_object(&j, NULL);
		json_string(&j, "rule", f->rule->id);
		json_string(&j, "severity",
			    migrate_lint_severity_name(f->severity));
		json_string(&j, "revision", f->revision);
		json_string(&j, "direction",
			    f->direction == MIGRATE_DOWN ? "downgrade"
							 : "upgrade");
		json_string(&j, "file", f->file);
		json_int(&j, "line", (long long)f->line);
		json_int(&j, "column", (long long)f->column);
		json_string(&j, "message", f->message);
		json_string(&j, "statement", f->statement);
		json_string(&j, "fix", f->rule->fix);
		json_string(&j, "waived", f->waiver);
		json_end_object(&j);
	}
	json_end_array(&j);
	cli_json_end(c, &j);
}

int
cmd_lint(struct cli *c)
{
	const struct migrate_revision **revs = NULL;
	struct migrate_lint *l = NULL;
	bool json = c->json;
	size_t i, n_revs, errors, warnings;
	int rc = cli_load_registry(c, false, false), code = CLI_EXIT_OK;

	if (rc != CLI_EXIT_OK)
		return rc;
	if (c->nargs) {
		revs = calloc(c->nargs, sizeof(*revs));
		if (!revs) {
			cli_errorf("out of memory");
			return CLI_EXIT_DATABASE;
		}
		for (i = 0; i < c->nargs; i++) {
			rc = migrate_registry_find(&revs[i], c->reg,
						   c->args[i]);
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
		print_json(c, l, n_revs);
	} else {
		print_text(l, c->verbose > 0);
		if (!c->quiet)
			printf("lint: %zu revision%s, %zu error%s, %zu warning%s, %zu info\n",
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

static void
preflight_line(const char *line, void *payload)
{
	(void)payload;
	cli_errorf("%s", line);
}

int
cli_preflight_plan(struct cli *c,
		   const struct migrate_plan *plan,
		   int server_version)
{
	struct migrate_lint *l = NULL;
	size_t i;
	int rc;

	(void)c;
	rc = migrate_lint_new(&l);
	for (i = 0; rc == 0 && i < migrate_plan_count(plan); i++) {
		int dir;
		const struct migrate_revision *rev =
			migrate_plan_step(plan, i, &dir);

		rc = migrate_lint_parse_section(l, rev, dir);
	}
	if (rc < 0) {
		migrate_lint_free(l);
		cli_errorf("pre-flight parse: %s", migrate_strerror(rc));
		return CLI_EXIT_DATABASE;
	}
	/* The policy (refuse below PostgreSQL 16, warn from 16 on) and its
	 * messages are the lint component's. */
	rc = migrate_lint_preflight(l, server_version, preflight_line, NULL);
	migrate_lint_free(l);
	return rc == MIGRATE_LINT_PREFLIGHT_REFUSE ? CLI_EXIT_REVISIONS
						   : CLI_EXIT_OK;
}

int
cli_plan_check(struct migrate *m,
	       const struct migrate_plan *plan,
	       void *payload)
{
	struct cli *c = payload;
	int code;

	/* Called by the library under the migration lock with the plan that
	 * is about to run, before its first step: the plan checked is the
	 * one that runs, and reading it costs no round trip of its own. */
	if (CLI_GIVEN(c, OPT_NO_PARSE))
		return 0;
	code = cli_preflight_plan(c, plan, migrate_lint_server_version(m));
	if (code == CLI_EXIT_OK)
		return 0;
	c->preflight_code = code;
	return migrate_set_error(m, MIGRATE_EINVAL,
				 "the pre-flight parse refused the plan");
}

#else /* !MIGRATE_HAVE_LINT */

int
cli_preflight_plan(struct cli *c,
		   const struct migrate_plan *plan,
		   int server_version)
{
	(void)c;
	(void)plan;
	(void)server_version;
	return CLI_EXIT_OK;
}

int
cmd_lint(struct cli *c)
{
	(void)c;
	cli_errorf(
		"this migrate was built without the lint component (meson -Dlint=disabled)");
	return CLI_EXIT_USAGE;
}

int
cli_plan_check(struct migrate *m,
	       const struct migrate_plan *plan,
	       void *payload)
{
	(void)m;
	(void)plan;
	(void)payload;
	return 0;
}

#endif
