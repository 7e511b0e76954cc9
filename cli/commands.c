/* SPDX-License-Identifier: MIT */
/*
 * The commands of `migrate` that read or change a database, and the
 * offline (--sql) mode. Each returns an exit code (enum cli_exit).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "cli.h"
#include "json.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
report_oom(void)
{
	cli_errorf("out of memory");
	return CLI_EXIT_DATABASE;
}

static bool
is_head(struct migrate_registry *reg, const char *id)
{
	size_t i, n = migrate_registry_head_count(reg);

	for (i = 0; i < n; i++) {
		if (strcmp(migrate_revision_id(migrate_registry_head(reg, i)),
			   id) == 0)
			return true;
	}
	return false;
}

/* One revision of this build as a JSON object: id, message, parents,
 * head, file (null: built in), create_date (null: none); with @details
 * also children, checksum, reversible and the SQL of both sections. */
static void
json_revision(struct json *j,
	      const char *key,
	      struct migrate_registry *reg,
	      const struct migrate_revision *rev,
	      bool details)
{
	const char *date = migrate_revision_create_date(rev);
	size_t i, np = migrate_revision_parent_count(rev);

	json_begin_object(j, key);
	json_string(j, "id", migrate_revision_id(rev));
	json_string(j, "message", migrate_revision_message(rev));
	json_begin_array(j, "parents");
	for (i = 0; i < np; i++)
		json_string(j, NULL, migrate_revision_parent(rev, i));
	json_end_array(j);
	json_bool(j, "head", is_head(reg, migrate_revision_id(rev)));
	json_string(j, "file", migrate_revision_file(rev));
	json_string(j, "create_date", date && *date ? date : NULL);
	if (details) {
		size_t n = migrate_registry_count(reg);

		json_begin_array(j, "children");
		for (i = 0; i < n; i++) {
			const struct migrate_revision *r =
				migrate_registry_at(reg, i);
			size_t k, nk = migrate_revision_parent_count(r);

			for (k = 0; k < nk; k++) {
				if (strcmp(migrate_revision_parent(r, k),
					   migrate_revision_id(rev)) == 0)
					json_string(j, NULL,
						    migrate_revision_id(r));
			}
		}
		json_end_array(j);
		json_string(j, "checksum", migrate_revision_checksum(rev));
		json_bool(j, "reversible",
			  migrate_revision_is_reversible(rev) != 0);
		json_string(j, "upgrade_sql",
			    migrate_revision_upgrade_sql(rev));
		json_string(j, "downgrade_sql",
			    migrate_revision_downgrade_sql(rev));
	}
	json_end_object(j);
}

/* "001 (head)", "a, b (heads)", "<base>", "xyz (not in this build)". */
static void
print_position(FILE *out,
	       struct migrate_registry *reg,
	       const char *const *ids,
	       size_t n)
{
	size_t i, heads = 0, unknown = 0;

	if (n == 0) {
		fputs("<base>", out);
		return;
	}
	for (i = 0; i < n; i++) {
		fprintf(out, "%s%s", i ? ", " : "", ids[i]);
		if (is_head(reg, ids[i]))
			heads++;
		else if (!migrate_registry_get(reg, ids[i]))
			unknown++;
	}
	if (unknown)
		fputs(" (not in this build)", out);
	else if (heads == n && n == migrate_registry_head_count(reg))
		fputs(n > 1 ? " (heads)" : " (head)", out);
}

/* "current": [ids] */
static void
json_ids(struct json *j, const char *key, const char *const *ids, size_t n)
{
	size_t i;

	json_begin_array(j, key);
	for (i = 0; i < n; i++)
		json_string(j, NULL, ids[i]);
	json_end_array(j);
}

/* Print where the database is now, after a successful change. */
static int
print_summary(struct cli *c, const char *what, double elapsed_ms)
{
	const char *const *ids;
	size_t n;
	int rc;

	if (c->quiet && !c->json)
		return CLI_EXIT_OK;
	/* The engine's own answer from under the lock: no round trip. */
	rc = migrate_last_position(&ids, &n, c->m);
	if (rc == MIGRATE_ENOTFOUND)
		rc = migrate_current(&ids, &n, c->m);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_string(&j, "command", c->command);
		json_ids(&j, "current", ids, n);
		json_int(&j, "steps", (long long)c->steps_done);
		json_number(&j, "elapsed_ms", elapsed_ms);
		cli_json_end(c, &j);
		return CLI_EXIT_OK;
	}
	if (c->steps_done == 0 && what[0] != 's') {
		fputs("database is at ", stdout);
		print_position(stdout, migrate_registry(c->m), ids, n);
		fputs("; nothing to do\n", stdout);
		return CLI_EXIT_OK;
	}
	if (what[0] == 's') {
		fputs("stamped: the database is at ", stdout);
		print_position(stdout, migrate_registry(c->m), ids, n);
	} else {
		printf("%s to ", what);
		print_position(stdout, migrate_registry(c->m), ids, n);
		printf(": %zu revision%s in %.1f ms", c->steps_done,
		       c->steps_done == 1 ? "" : "s", elapsed_ms);
	}
	putchar('\n');
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Offline mode: upgrade/downgrade --sql [FROM:]TO                     */
/* ------------------------------------------------------------------ */

static char *
join_heads(struct migrate_registry *reg)
{
	size_t i, n = migrate_registry_head_count(reg), len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(migrate_revision_id(
			       migrate_registry_head(reg, i))) +
		       1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, migrate_revision_id(migrate_registry_head(reg, i)));
	}
	return s;
}

static int
offline(struct cli *c, int direction, const char *spec)
{
	struct migrate_plan *plan = NULL;
	struct migrate_options opts;
	const char *colon = strchr(spec, ':'), *to;
	char *from = NULL, *script = NULL;
	int rc, code;

	code = cli_load_registry(c, false, true);
	if (code != CLI_EXIT_OK)
		return code;
	if (colon) {
		from = malloc((size_t)(colon - spec) + 1);
		if (!from)
			return report_oom();
		memcpy(from, spec, (size_t)(colon - spec));
		from[colon - spec] = '\0';
		to = colon + 1;
	} else {
		to = spec;
		if (direction == MIGRATE_DOWN) {
			from = join_heads(c->reg);
			if (!from)
				return report_oom();
		}
	}
	if (!*to) {
		cli_errorf("missing target after ':' in '%s'", spec);
		code = CLI_EXIT_USAGE;
		goto out;
	}

	rc = migrate_plan_offline(&plan, c->reg, direction, from, to);
	if (rc < 0) {
		cli_print_error(migrate_registry_errmsg(c->reg), NULL, rc);
		code = cli_exit_code(rc, CLI_PHASE_RUN);
		goto out;
	}
	/* The script would stop at a revision that does not parse, after
	 * the ones before it: refuse it now (the server is unknown). */
	if (!CLI_GIVEN(c, OPT_NO_PARSE)) {
		code = cli_preflight_plan(c, plan, NULL);
		cli_preflight_discard(c);
		if (code != CLI_EXIT_OK)
			goto out;
	}
	cli_fill_options(c, &opts);
	rc = migrate_plan_sql(&script, plan, &opts);
	if (rc < 0) {
		cli_print_error(migrate_registry_errmsg(c->reg), NULL, rc);
		code = cli_exit_code(rc, CLI_PHASE_RUN);
		goto out;
	}
	fputs(script, stdout);
	code = CLI_EXIT_OK;
out:
	migrate_free(script);
	migrate_plan_free(plan);
	free(from);
	return code;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static int
run_change(struct cli *c, int direction, const char *target)
{
	double t0;
	int rc;

	if (strchr(target, ':')) {
		cli_errorf("FROM:TO targets need --sql (offline mode)");
		return CLI_EXIT_USAGE;
	}
	rc = cli_open(c, false);
	if (rc != CLI_EXIT_OK)
		return rc;
	cli_progress_begin(c, direction, target);
	t0 = migrate__clock_ms();
	if (direction == MIGRATE_UP)
		rc = migrate_upgrade(c->m, target);
	else
		rc = migrate_downgrade(c->m, target);
	cli_preflight_discard(c);
	cli_progress_end(c);
	/* The pre-flight (the plan check) refused: it said why. */
	if (rc < 0 && c->preflight_code != CLI_EXIT_OK)
		return c->preflight_code;
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	return print_summary(
		c, direction == MIGRATE_UP ? "upgraded" : "downgraded",
		migrate__clock_ms() - t0);
}

int
cmd_upgrade(struct cli *c)
{
	const char *target = c->nargs ? c->args[0] : "head";

	if (CLI_GIVEN(c, OPT_SQL))
		return offline(c, MIGRATE_UP, target);
	return run_change(c, MIGRATE_UP, target);
}

int
cmd_downgrade(struct cli *c)
{
	if (CLI_GIVEN(c, OPT_SQL))
		return offline(c, MIGRATE_DOWN, c->args[0]);
	return run_change(c, MIGRATE_DOWN, c->args[0]);
}

int
cmd_stamp(struct cli *c)
{
	int rc = cli_open(c, false);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = CLI_GIVEN(c, OPT_PURGE) ? migrate_stamp_purge(c->m, c->args[0])
				     : migrate_stamp(c->m, c->args[0]);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	return print_summary(c, "stamped", 0);
}

int
cmd_resolve(struct cli *c)
{
	bool undo = CLI_GIVEN(c, OPT_UNDO) != 0;
	int rc = cli_open(c, false);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = migrate_resolve(c->m, c->args[0], undo ? 1 : 0);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_string(&j, "command", c->command);
		json_string(&j, "revision", c->args[0]);
		json_bool(&j, "applied", !undo);
		cli_json_end(c, &j);
	} else if (!c->quiet) {
		printf("resolved %s: marked %s\n", c->args[0],
		       undo ? "not applied" : "applied");
	}
	return CLI_EXIT_OK;
}

int
cmd_current(struct cli *c)
{
	struct migrate_registry *reg;
	const char *const *ids;
	size_t i, n;
	int rc = cli_open(c, true);

	if (rc != CLI_EXIT_OK)
		return rc;
	rc = migrate_current(&ids, &n, c->m);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	reg = migrate_registry(c->m);
	if (c->json) {
		struct json j;
		size_t heads = 0;

		cli_json_begin(c, &j);
		json_begin_array(&j, "current");
		for (i = 0; i < n; i++) {
			const struct migrate_revision *rev =
				migrate_registry_get(reg, ids[i]);

			json_begin_object(&j, NULL);
			json_string(&j, "id", ids[i]);
			json_bool(&j, "known", rev != NULL);
			json_bool(&j, "head", is_head(reg, ids[i]));
			json_string(&j, "message",
				    rev ? migrate_revision_message(rev) : NULL);
			json_end_object(&j);
			heads += is_head(reg, ids[i]);
		}
		json_end_array(&j);
		json_bool(&j, "at_head",
			  n > 0 && heads == n &&
				  n == migrate_registry_head_count(reg));
		cli_json_end(c, &j);
		return CLI_EXIT_OK;
	}
	if (c->quiet) {
		for (i = 0; i < n; i++)
			printf("%s\n", ids[i]);
		return CLI_EXIT_OK;
	}
	if (n == 0)
		printf("<base>\n");
	for (i = 0; i < n; i++) {
		const struct migrate_revision *rev =
			migrate_registry_get(reg, ids[i]);

		printf("%s", ids[i]);
		if (!rev)
			printf(" (not in this build)");
		else if (is_head(reg, ids[i]))
			printf(" (head)");
		if (rev && c->verbose && *migrate_revision_message(rev))
			printf(", %s", migrate_revision_message(rev));
		putchar('\n');
	}
	return CLI_EXIT_OK;
}

int
cmd_heads(struct cli *c)
{
	size_t i, n;
	int rc = cli_load_registry(c, false, false);

	if (rc != CLI_EXIT_OK)
		return rc;
	n = migrate_registry_head_count(c->reg);
	if (c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_begin_array(&j, "heads");
		for (i = 0; i < n; i++)
			json_revision(&j, NULL, c->reg,
				      migrate_registry_head(c->reg, i), false);
		json_end_array(&j);
		cli_json_end(c, &j);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < n; i++) {
		const struct migrate_revision *rev =
			migrate_registry_head(c->reg, i);
		const char *msg = migrate_revision_message(rev);

		if (c->quiet) {
			printf("%s\n", migrate_revision_id(rev));
			continue;
		}
		printf("%s (head)%s%s\n", migrate_revision_id(rev),
		       *msg ? ", " : "", msg);
		if (c->verbose) {
			const char *file = migrate_revision_file(rev);

			printf("    file: %s\n", file ? file : "(built in)");
		}
	}
	return CLI_EXIT_OK;
}

int
cmd_check(struct cli *c)
{
	unsigned int flags = MIGRATE_VERIFY_CHECKSUMS;
	const char *msg = NULL;
	int status = MIGRATE_STATUS_CANNOT_CONNECT, rc;

	if (CLI_GIVEN(c, OPT_ALLOW_AHEAD))
		flags |= MIGRATE_VERIFY_ALLOW_AHEAD;
	if (CLI_GIVEN(c, OPT_ALLOW_CHANGED))
		flags |= MIGRATE_VERIFY_ALLOW_CHANGED;
	rc = cli_open(c, true);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = migrate_verify(&status, &msg, c->m, flags);
	if (rc < 0 && rc != MIGRATE_EVERIFY)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (!msg || !*msg)
		msg = migrate_status_name(status);
	if (status == MIGRATE_STATUS_CANNOT_CONNECT) {
		cli_print_error(msg, migrate_sqlstate(c->m), MIGRATE_EBACKEND);
		return CLI_EXIT_DATABASE;
	}
	if (c->json) {
		struct json j;
		size_t i, n = migrate_verify_changed_count(c->m);

		cli_json_begin(c, &j);
		json_string(&j, "status", migrate_status_name(status));
		json_bool(&j, "ok", rc == 0);
		json_int(&j, "pending",
			 (long long)migrate_verify_pending(c->m));
		json_string(&j, "message", msg);
		json_begin_array(&j, "changed");
		for (i = 0; i < n; i++) {
			const struct migrate_revision *rev =
				migrate_registry_get(
					migrate_registry(c->m),
					migrate_verify_changed(c->m, i));

			json_begin_object(&j, NULL);
			json_string(&j, "id", migrate_verify_changed(c->m, i));
			json_string(&j, "applied_checksum",
				    migrate_verify_changed_checksum(c->m, i));
			json_string(&j, "checksum",
				    rev ? migrate_revision_checksum(rev)
					: NULL);
			json_end_object(&j);
		}
		json_end_array(&j);
		cli_json_end(c, &j);
		return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_CHECK;
	}
	if (rc == 0) {
		if (!c->quiet)
			printf("%s\n", msg);
	} else {
		printf("%s\n", msg);
	}
	if (c->verbose)
		printf("status: %s, %zu pending\n", migrate_status_name(status),
		       migrate_verify_pending(c->m));
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_CHECK;
}

int
cmd_plan(struct cli *c)
{
	struct migrate_plan *plan = NULL;
	bool down = CLI_GIVEN(c, OPT_DOWN) != 0;
	const char *target = c->nargs ? c->args[0] : "head";
	int rc;

	if (down && c->nargs == 0) {
		cli_errorf("plan --down needs a TARGET (e.g. -1 or base)");
		return CLI_EXIT_USAGE;
	}
	rc = cli_open(c, true);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = migrate_plan(&plan, c->m, down ? MIGRATE_DOWN : MIGRATE_UP,
			  target);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (c->json) {
		struct json j;
		size_t i, n = migrate_plan_count(plan);

		cli_json_begin(c, &j);
		json_string(&j, "direction", down ? "downgrade" : "upgrade");
		json_string(&j, "target", target);
		json_begin_array(&j, "steps");
		for (i = 0; i < n; i++) {
			int dir = MIGRATE_UP;
			const struct migrate_revision *rev =
				migrate_plan_step(plan, i, &dir);

			json_begin_object(&j, NULL);
			json_string(&j, "direction",
				    dir == MIGRATE_DOWN ? "downgrade"
							: "upgrade");
			json_string(&j, "id", migrate_revision_id(rev));
			json_string(&j, "message",
				    migrate_revision_message(rev));
			json_end_object(&j);
		}
		json_end_array(&j);
		cli_json_end(c, &j);
	} else {
		fputs(migrate_plan_text(plan), stdout);
	}
	migrate_plan_free(plan);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* history                                                             */
/* ------------------------------------------------------------------ */

struct hrow {
	char *revision;
	char *operation;
	char *user;
	char *started_at;
	char *checksum;
	char *error;
	double duration_ms;
	bool success;
	size_t seq;
	bool printed;
};

struct hrows {
	struct hrow *rows;
	size_t n;
	size_t cap;
	bool oom;
};

static char *
str_dup(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s ? s : "", n);
	return d;
}

static void
free_row(struct hrow *r)
{
	free(r->revision);
	free(r->operation);
	free(r->user);
	free(r->started_at);
	free(r->checksum);
	free(r->error);
}

static int
collect_row(const struct migrate_history_entry *e, void *payload)
{
	struct hrows *h = payload;
	struct hrow *r;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct hrow *p = realloc(h->rows, cap * sizeof(*p));

		if (!p) {
			h->oom = true;
			return 1;
		}
		h->rows = p;
		h->cap = cap;
	}
	r = &h->rows[h->n];
	r->revision = str_dup(e->revision);
	r->operation = str_dup(e->operation && *e->operation  ? e->operation
			       : e->direction == MIGRATE_DOWN ? "downgrade"
							      : "upgrade");
	r->user = str_dup(e->db_user);
	r->started_at = str_dup(e->started_at);
	r->checksum = str_dup(e->checksum);
	r->error = str_dup(e->error);
	r->duration_ms = e->duration_ms;
	r->success = e->success != 0;
	r->seq = h->n;
	r->printed = false;
	if (!r->revision || !r->operation || !r->user || !r->started_at ||
	    !r->checksum || !r->error) {
		free_row(r);
		h->oom = true;
		return 1;
	}
	h->n++;
	return 0;
}

static int
cmp_hrow(const void *a, const void *b)
{
	const struct hrow *x = a, *y = b;
	int c = strcmp(x->revision, y->revision);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "upgrade by alice at 2026-01-31 10:00:00+00, 12.5 ms" */
static void
print_row(const struct hrow *r)
{
	printf("%s by %s at %s, %.1f ms", r->operation,
	       *r->user ? r->user : "?", *r->started_at ? r->started_at : "?",
	       r->duration_ms);
	if (!r->success)
		printf(", FAILED: %s", r->error);
	putchar('\n');
}

static void
json_row(struct json *j, const struct hrow *r, bool with_revision)
{
	json_begin_object(j, NULL);
	if (with_revision)
		json_string(j, "id", r->revision);
	json_string(j, "operation", r->operation);
	json_string(j, "user", *r->user ? r->user : NULL);
	json_string(j, "started_at", *r->started_at ? r->started_at : NULL);
	json_number(j, "duration_ms", r->duration_ms);
	json_bool(j, "success", r->success);
	json_string(j, "error", *r->error ? r->error : NULL);
	json_string(j, "checksum", *r->checksum ? r->checksum : NULL);
	json_end_object(j);
}

/* The rows of revision @id (sorted by revision, then age), marked
 * printed; through @j as a "log" array when given, else as text. */
static void
rows_for(struct hrows *h, const char *id, struct json *j)
{
	size_t lo = 0, hi = h->n;

	/* Lower bound of @id in the sorted rows. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(h->rows[mid].revision, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (j)
		json_begin_array(j, "log");
	for (; lo < h->n && strcmp(h->rows[lo].revision, id) == 0; lo++) {
		if (j) {
			json_row(j, &h->rows[lo], false);
		} else {
			printf("         ");
			print_row(&h->rows[lo]);
		}
		h->rows[lo].printed = true;
	}
	if (j)
		json_end_array(j);
}

static void
free_rows(struct hrows *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free_row(&h->rows[i]);
	free(h->rows);
}

/* Mark in @set @id and every ancestor of it (walking the topological
 * order backwards: children before parents). @id must be in the set's
 * registry. */
static void
add_ancestors(struct migrate_registry *reg,
	      struct migrate__idset *set,
	      const char *id)
{
	size_t i, j;

	migrate__idset_add(set, id);
	for (i = migrate_registry_count(reg); i-- > 0;) {
		const struct migrate_revision *rev =
			migrate_registry_at(reg, i);

		if (!migrate__idset_has(set, migrate_revision_id(rev)))
			continue;
		for (j = 0; j < migrate_revision_parent_count(rev); j++)
			migrate__idset_add(set,
					   migrate_revision_parent(rev, j));
	}
}

/* Mark in @set @id and every descendant of it (parents first). */
static void
add_descendants(struct migrate_registry *reg,
		struct migrate__idset *set,
		const char *id)
{
	size_t i, j, n = migrate_registry_count(reg);

	migrate__idset_add(set, id);
	for (i = 0; i < n; i++) {
		const struct migrate_revision *rev =
			migrate_registry_at(reg, i);

		for (j = 0; j < migrate_revision_parent_count(rev); j++) {
			if (migrate__idset_has(set,
					       migrate_revision_parent(rev, j)))
				migrate__idset_add(set,
						   migrate_revision_id(rev));
		}
	}
}

/*
 * One end of `history -r FROM:TO` into @set: empty, "base" (FROM) or
 * "head"/"heads" (TO) leave *bounded false; "current" is the revisions the
 * database is at; else an id or unique prefix. Returns an exit code.
 */
static int
range_end(struct cli *c,
	  const char *spec,
	  bool lower,
	  const char *const *cur,
	  size_t n_cur,
	  struct migrate__idset *set,
	  bool *bounded)
{
	struct migrate_registry *reg = migrate_registry(c->m);
	const struct migrate_revision *rev = NULL;
	size_t i;
	int rc;

	*bounded = false;
	if (!*spec || strcmp(spec, lower ? "base" : "head") == 0 ||
	    (!lower && strcmp(spec, "heads") == 0))
		return CLI_EXIT_OK;
	*bounded = true;
	if (strcmp(spec, "current") == 0) {
		for (i = 0; i < n_cur; i++) {
			if (!migrate_registry_get(reg, cur[i]))
				continue;
			if (lower)
				add_descendants(reg, set, cur[i]);
			else
				add_ancestors(reg, set, cur[i]);
		}
		return CLI_EXIT_OK;
	}
	rc = migrate_registry_find(&rev, reg, spec);
	if (rc < 0 || !rev) {
		cli_print_error(migrate_registry_errmsg(reg), NULL,
				rc < 0 ? rc : MIGRATE_ENOTFOUND);
		return CLI_EXIT_USAGE;
	}
	if (lower)
		add_descendants(reg, set, migrate_revision_id(rev));
	else
		add_ancestors(reg, set, migrate_revision_id(rev));
	return CLI_EXIT_OK;
}

int
cmd_history(struct cli *c)
{
	struct migrate_registry *reg;
	struct migrate__idset applied = { NULL, 0, 0 }, from = { NULL, 0, 0 },
			      to = { NULL, 0, 0 };
	struct hrows rows = { NULL, 0, 0, false };
	struct json j;
	const char *const *ids;
	char **cur = NULL, *lo = NULL;
	const char *hi = "";
	bool has_from = false, has_to = false;
	size_t i, k, n_cur = 0, count;
	int width = 3, code = CLI_EXIT_OK, rc;

	if (c->rev_range) {
		const char *colon = strchr(c->rev_range, ':');

		if (!colon || strchr(colon + 1, ':')) {
			cli_errorf(
				"-r/--rev-range: expected FROM:TO (either may be empty), not '%s'",
				c->rev_range);
			return CLI_EXIT_USAGE;
		}
		lo = str_dup(c->rev_range);
		if (!lo)
			return report_oom();
		lo[colon - c->rev_range] = '\0';
		hi = colon + 1;
	}
	rc = cli_open(c, true);
	if (rc != CLI_EXIT_OK) {
		free(lo);
		return rc;
	}
	reg = migrate_registry(c->m);
	count = migrate_registry_count(reg);

	rc = migrate_current(&ids, &n_cur, c->m);
	if (rc < 0) {
		free(lo);
		return cli_fail(c, rc, CLI_PHASE_RUN);
	}
	/* Copies: @ids lives only until the next call on the handle. */
	cur = calloc(n_cur + 1, sizeof(*cur));
	if (!cur || !migrate__idset_init(&applied, count + n_cur) ||
	    !migrate__idset_init(&from, count) ||
	    !migrate__idset_init(&to, count)) {
		code = report_oom();
		goto out;
	}
	for (i = 0; i < n_cur; i++) {
		cur[i] = str_dup(ids[i]);
		if (!cur[i]) {
			code = report_oom();
			goto out;
		}
	}
	/* Applied = the current revisions and all their ancestors. */
	for (i = 0; i < n_cur; i++) {
		if (migrate_registry_get(reg, cur[i]))
			add_ancestors(reg, &applied, cur[i]);
	}
	if (lo) {
		code = range_end(c, lo, true, (const char *const *)cur, n_cur,
				 &from, &has_from);
		if (code == CLI_EXIT_OK)
			code = range_end(c, hi, false, (const char *const *)cur,
					 n_cur, &to, &has_to);
		if (code != CLI_EXIT_OK)
			goto out;
	}
	for (i = 0; i < count; i++) {
		int w = (int)strlen(
			migrate_revision_id(migrate_registry_at(reg, i)));

		if (w > width)
			width = w;
	}

	if (c->verbose) {
		rc = migrate_history(c->m, collect_row, &rows);
		if (rows.oom) {
			code = report_oom();
			goto out;
		}
		if (rc < 0) {
			code = cli_fail(c, rc, CLI_PHASE_RUN);
			goto out;
		}
		if (rows.n > 1)
			qsort(rows.rows, rows.n, sizeof(*rows.rows), cmp_hrow);
	}

	if (c->json) {
		cli_json_begin(c, &j);
		json_begin_array(&j, "revisions");
	}
	for (i = 0; i < count; i++) {
		const struct migrate_revision *rev =
			migrate_registry_at(reg, i);
		const char *id = migrate_revision_id(rev);
		const char *msg = migrate_revision_message(rev);
		bool is_cur = false, head = is_head(reg, id);

		if ((has_from && !migrate__idset_has(&from, id)) ||
		    (has_to && !migrate__idset_has(&to, id)))
			continue;
		for (k = 0; k < n_cur; k++) {
			if (strcmp(cur[k], id) == 0)
				is_cur = true;
		}
		if (c->json) {
			size_t np = migrate_revision_parent_count(rev);

			json_begin_object(&j, NULL);
			json_string(&j, "id", id);
			json_string(&j, "message", msg);
			json_begin_array(&j, "parents");
			for (k = 0; k < np; k++)
				json_string(&j, NULL,
					    migrate_revision_parent(rev, k));
			json_end_array(&j);
			json_bool(&j, "applied",
				  migrate__idset_has(&applied, id));
			json_bool(&j, "current", is_cur);
			json_bool(&j, "head", head);
			if (c->verbose)
				rows_for(&rows, id, &j);
			json_end_object(&j);
			continue;
		}
		printf("%-7s  %-*s  %s",
		       migrate__idset_has(&applied, id) ? "applied" : "pending",
		       width, id, *msg ? msg : "(no message)");
		if (is_cur || head)
			printf("  (%s%s%s)", is_cur ? "current" : "",
			       is_cur && head ? ", " : "", head ? "head" : "");
		putchar('\n');
		if (c->verbose) {
			size_t np = migrate_revision_parent_count(rev);

			printf("         revises: ");
			if (np == 0)
				printf("<base>");
			for (k = 0; k < np; k++)
				printf("%s%s", k ? ", " : "",
				       migrate_revision_parent(rev, k));
			putchar('\n');
			rows_for(&rows, id, NULL);
		}
	}
	if (c->json) {
		json_end_array(&j);
		json_begin_array(&j, "unknown_current");
		for (i = 0; i < n_cur; i++) {
			if (!migrate_registry_get(reg, cur[i]))
				json_string(&j, NULL, cur[i]);
		}
		json_end_array(&j);
		if (c->verbose) {
			json_begin_array(&j, "log_not_in_build");
			for (i = 0; i < rows.n; i++) {
				if (!migrate_registry_get(
					    reg, rows.rows[i].revision))
					json_row(&j, &rows.rows[i], true);
			}
			json_end_array(&j);
		}
		cli_json_end(c, &j);
		goto out;
	}
	for (i = 0; i < n_cur; i++) {
		if (!migrate_registry_get(reg, cur[i]))
			printf("%-7s  %-*s  (current; not in this build)\n",
			       "unknown", width, cur[i]);
	}
	if (c->verbose) {
		bool header = false;

		for (i = 0; i < rows.n; i++) {
			if (rows.rows[i].printed ||
			    migrate_registry_get(reg, rows.rows[i].revision))
				continue;
			if (!header) {
				printf("history of revisions not in this build:\n");
				header = true;
			}
			printf("         %s: ", rows.rows[i].revision);
			print_row(&rows.rows[i]);
		}
	}
out:
	if (cur) {
		for (i = 0; i < n_cur; i++)
			free(cur[i]);
		free(cur);
	}
	free(lo);
	migrate__idset_free(&applied);
	migrate__idset_free(&from);
	migrate__idset_free(&to);
	free_rows(&rows);
	return code;
}

/* ------------------------------------------------------------------ */
/* show, branches: this build's revisions; no database                 */
/* ------------------------------------------------------------------ */

/* REV for show: an id, a unique prefix, or head (when there is one). */
static const struct migrate_revision *
find_for_show(struct cli *c, const char *spec, int *code)
{
	const struct migrate_revision *rev = NULL;
	size_t n = migrate_registry_head_count(c->reg);
	int rc;

	if (strcmp(spec, "head") == 0) {
		if (n != 1) {
			cli_errorf(
				"this build has %zu heads; name one (see 'migrate heads')",
				n);
			*code = CLI_EXIT_USAGE;
			return NULL;
		}
		return migrate_registry_head(c->reg, 0);
	}
	rc = migrate_registry_find(&rev, c->reg, spec);
	if (rc < 0 || !rev) {
		cli_print_error(migrate_registry_errmsg(c->reg), NULL,
				rc < 0 ? rc : MIGRATE_ENOTFOUND);
		*code = CLI_EXIT_USAGE;
		return NULL;
	}
	return rev;
}

int
cmd_show(struct cli *c)
{
	const struct migrate_revision *rev;
	const char *file, *date, *down;
	size_t i, n, np;
	int code = cli_load_registry(c, false, false);

	if (code != CLI_EXIT_OK)
		return code;
	rev = find_for_show(c, c->args[0], &code);
	if (!rev)
		return code;
	if (c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_revision(&j, "revision", c->reg, rev, true);
		cli_json_end(c, &j);
		return CLI_EXIT_OK;
	}
	file = migrate_revision_file(rev);
	date = migrate_revision_create_date(rev);
	down = migrate_revision_downgrade_sql(rev);
	np = migrate_revision_parent_count(rev);
	printf("Rev: %s%s\n", migrate_revision_id(rev),
	       is_head(c->reg, migrate_revision_id(rev)) ? " (head)" : "");
	printf("Parent: ");
	if (np == 0)
		printf("<base>");
	for (i = 0; i < np; i++)
		printf("%s%s", i ? ", " : "", migrate_revision_parent(rev, i));
	putchar('\n');
	printf("Children:");
	n = migrate_registry_count(c->reg);
	np = 0;
	for (i = 0; i < n; i++) {
		const struct migrate_revision *r =
			migrate_registry_at(c->reg, i);
		size_t k;

		for (k = 0; k < migrate_revision_parent_count(r); k++) {
			if (strcmp(migrate_revision_parent(r, k),
				   migrate_revision_id(rev)) == 0) {
				printf("%s %s", np ? "," : "",
				       migrate_revision_id(r));
				np++;
			}
		}
	}
	printf("%s\n", np ? "" : " (none)");
	printf("Path: %s\n", file ? file : "(built in)");
	if (date && *date)
		printf("Create Date: %s\n", date);
	printf("Checksum: sha256:%s\n", migrate_revision_checksum(rev));
	printf("Downgrade: %s\n", !down   ? "none (irreversible)"
				  : *down ? "yes"
					  : "empty");
	printf("\n    %s\n", *migrate_revision_message(rev)
				     ? migrate_revision_message(rev)
				     : "(no message)");
	if (c->verbose) {
		/* NULL: written in C, or its file changed since the load. */
		const char *up = migrate_revision_upgrade_sql(rev);

		printf("\n-- migrate:upgrade\n%s\n", up ? up : "");
		if (down)
			printf("\n-- migrate:downgrade\n%s\n", down);
	}
	return CLI_EXIT_OK;
}

/* Revisions that more than one revision revises: where branches start. */
int
cmd_branches(struct cli *c)
{
	struct json j;
	size_t i, k, n;
	int code = cli_load_registry(c, false, false);

	if (code != CLI_EXIT_OK)
		return code;
	n = migrate_registry_count(c->reg);
	if (c->json) {
		cli_json_begin(c, &j);
		json_begin_array(&j, "branch_points");
	}
	for (i = 0; i < n; i++) {
		const struct migrate_revision *rev =
			migrate_registry_at(c->reg, i);
		const char *id = migrate_revision_id(rev);
		size_t children = 0, pass;

		for (k = 0; k < n; k++) {
			const struct migrate_revision *r =
				migrate_registry_at(c->reg, k);
			size_t p;

			for (p = 0; p < migrate_revision_parent_count(r); p++)
				children +=
					strcmp(migrate_revision_parent(r, p),
					       id) == 0;
		}
		if (children < 2)
			continue;
		if (c->json) {
			json_begin_object(&j, NULL);
			json_string(&j, "id", id);
			json_string(&j, "message",
				    migrate_revision_message(rev));
			json_begin_array(&j, "children");
		} else if (c->quiet) {
			printf("%s\n", id);
			continue;
		} else {
			printf("%s (branch point)%s%s\n", id,
			       *migrate_revision_message(rev) ? ", " : "",
			       migrate_revision_message(rev));
		}
		for (pass = 0, k = 0; k < n; k++) {
			const struct migrate_revision *r =
				migrate_registry_at(c->reg, k);
			size_t p;

			for (p = 0; p < migrate_revision_parent_count(r); p++) {
				if (strcmp(migrate_revision_parent(r, p), id))
					continue;
				if (c->json)
					json_string(&j, NULL,
						    migrate_revision_id(r));
				else
					printf("    -> %s%s%s\n",
					       migrate_revision_id(r),
					       *migrate_revision_message(r)
						       ? ", "
						       : "",
					       migrate_revision_message(r));
				pass++;
			}
		}
		if (c->json) {
			json_end_array(&j);
			json_end_object(&j);
		}
	}
	if (c->json) {
		json_end_array(&j);
		cli_json_end(c, &j);
	}
	return CLI_EXIT_OK;
}
