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

/* ------------------------------------------------------------------ */
/* A small set of borrowed strings (open addressing, FNV-1a).          */
/* ------------------------------------------------------------------ */

struct idset {
	const char **slots;
	size_t cap; /* power of two */
	size_t n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
idset_init(struct idset *s, size_t expected)
{
	s->cap = 16;
	while (s->cap < expected * 2 + 2)
		s->cap *= 2;
	s->n = 0;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	return s->slots != NULL;
}

static void
idset_free(struct idset *s)
{
	free(s->slots);
	s->slots = NULL;
}

static bool
idset_has(const struct idset *s, const char *id)
{
	size_t i = (size_t)hash_str(id) & (s->cap - 1);

	while (s->slots[i]) {
		if (strcmp(s->slots[i], id) == 0)
			return true;
		i = (i + 1) & (s->cap - 1);
	}
	return false;
}

/* @id must outlive the set. The set is sized up front, so this never
 * grows (callers add at most as many ids as they announced). */
static void
idset_add(struct idset *s, const char *id)
{
	size_t i = (size_t)hash_str(id) & (s->cap - 1);

	if (s->n + 1 >= s->cap)
		return;
	while (s->slots[i]) {
		if (strcmp(s->slots[i], id) == 0)
			return;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = id;
	s->n++;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
report_oom(void)
{
	cli_errorf("out of memory");
	return CLI_EXIT_DATABASE;
}

/* The revision whose id is exactly @id (not a prefix), or NULL. */
static const struct migrate_revision *
find_exact(struct migrate_registry *reg, const char *id)
{
	const struct migrate_revision *rev = NULL;

	if (migrate_registry_find(reg, id, &rev) != 0 || !rev ||
	    strcmp(migrate_revision_id(rev), id) != 0)
		return NULL;
	return rev;
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
		else if (!find_exact(reg, ids[i]))
			unknown++;
	}
	if (unknown)
		fputs(" (not in this build)", out);
	else if (heads == n && n == migrate_registry_head_count(reg))
		fputs(n > 1 ? " (heads)" : " (head)", out);
}

/* Print where the database is now, after a successful change. */
static int
print_summary(struct cli *c, const char *what, double elapsed_ms)
{
	const char *const *ids;
	size_t n;
	int rc;

	if (c->quiet)
		return CLI_EXIT_OK;
	rc = migrate_current(c->m, &ids, &n);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (c->steps_done == 0 && what[0] == 'u') {
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

	code = cli_load_registry(c, false);
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
	if (!CLI_GIVEN(c, OPT_NO_PARSE)) {
		rc = cli_preflight(c, direction, target);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	t0 = cli_now_ms();
	if (direction == MIGRATE_UP)
		rc = migrate_upgrade(c->m, target);
	else
		rc = migrate_downgrade(c->m, target);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	return print_summary(
		c, direction == MIGRATE_UP ? "upgraded" : "downgraded",
		cli_now_ms() - t0);
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
	rc = migrate_stamp(c->m, c->args[0]);
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
	if (!c->quiet)
		printf("resolved %s: marked %s\n", c->args[0],
		       undo ? "not applied" : "applied");
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
	rc = migrate_current(c->m, &ids, &n);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	reg = migrate_registry(c->m);
	if (c->quiet) {
		for (i = 0; i < n; i++)
			printf("%s\n", ids[i]);
		return CLI_EXIT_OK;
	}
	if (n == 0)
		printf("<base>\n");
	for (i = 0; i < n; i++) {
		const struct migrate_revision *rev = find_exact(reg, ids[i]);

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
	int rc = cli_load_registry(c, false);

	if (rc != CLI_EXIT_OK)
		return rc;
	n = migrate_registry_head_count(c->reg);
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
	rc = migrate_verify(c->m, flags, &status, &msg);
	if (rc < 0 && rc != MIGRATE_EVERIFY)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	if (!msg || !*msg)
		msg = migrate_status_name(status);
	if (status == MIGRATE_STATUS_CANNOT_CONNECT) {
		cli_print_error(msg, migrate_sqlstate(c->m), MIGRATE_EBACKEND);
		return CLI_EXIT_DATABASE;
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
	fputs(migrate_plan_text(plan), stdout);
	migrate_plan_free(plan);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* history                                                             */
/* ------------------------------------------------------------------ */

struct hrow {
	char *revision;
	size_t seq;
	char *text;
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

static int
collect_row(const struct migrate_history_entry *e, void *payload)
{
	struct hrows *h = payload;
	struct hrow *r;
	char text[1024];
	int len;

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
	len = snprintf(text, sizeof(text), "%s by %s at %s, %.1f ms%s%s",
		       e->operation && *e->operation  ? e->operation
		       : e->direction == MIGRATE_DOWN ? "downgrade"
						      : "upgrade",
		       e->db_user && *e->db_user ? e->db_user : "?",
		       e->started_at && *e->started_at ? e->started_at : "?",
		       e->duration_ms, e->success ? "" : ", FAILED: ",
		       e->success ? "" : (e->error ? e->error : ""));
	if (len < 0)
		text[0] = '\0';
	r = &h->rows[h->n];
	r->revision = str_dup(e->revision);
	r->text = str_dup(text);
	r->seq = h->n;
	r->printed = false;
	if (!r->revision || !r->text) {
		free(r->revision);
		free(r->text);
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

static void
print_rows_for(struct hrows *h, const char *id)
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
	for (; lo < h->n && strcmp(h->rows[lo].revision, id) == 0; lo++) {
		printf("         %s\n", h->rows[lo].text);
		h->rows[lo].printed = true;
	}
}

static void
free_rows(struct hrows *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->rows[i].revision);
		free(h->rows[i].text);
	}
	free(h->rows);
}

int
cmd_history(struct cli *c)
{
	struct migrate_registry *reg;
	struct idset applied = { NULL, 0, 0 };
	struct hrows rows = { NULL, 0, 0, false };
	const char *const *ids;
	char **cur = NULL;
	size_t i, j, n_cur = 0, count;
	int width = 3, code = CLI_EXIT_OK, rc;

	rc = cli_open(c, true);
	if (rc != CLI_EXIT_OK)
		return rc;
	reg = migrate_registry(c->m);
	count = migrate_registry_count(reg);

	rc = migrate_current(c->m, &ids, &n_cur);
	if (rc < 0)
		return cli_fail(c, rc, CLI_PHASE_RUN);
	/* Copies: @ids lives only until the next call on the handle. */
	cur = calloc(n_cur + 1, sizeof(*cur));
	if (!cur || !idset_init(&applied, count + n_cur)) {
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
	/* Applied = the current revisions and all their ancestors: walk the
	 * topological order backwards (children before parents). */
	for (i = 0; i < n_cur; i++) {
		const struct migrate_revision *rev = find_exact(reg, cur[i]);

		if (rev)
			idset_add(&applied, migrate_revision_id(rev));
	}
	for (i = count; i-- > 0;) {
		const struct migrate_revision *rev =
			migrate_registry_at(reg, i);
		int w = (int)strlen(migrate_revision_id(rev));

		if (w > width)
			width = w;
		if (!idset_has(&applied, migrate_revision_id(rev)))
			continue;
		for (j = 0; j < migrate_revision_parent_count(rev); j++)
			idset_add(&applied, migrate_revision_parent(rev, j));
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

	for (i = 0; i < count; i++) {
		const struct migrate_revision *rev =
			migrate_registry_at(reg, i);
		const char *id = migrate_revision_id(rev);
		const char *msg = migrate_revision_message(rev);
		bool is_cur = false, head = is_head(reg, id);

		for (j = 0; j < n_cur; j++) {
			if (strcmp(cur[j], id) == 0)
				is_cur = true;
		}
		printf("%-7s  %-*s  %s",
		       idset_has(&applied, id) ? "applied" : "pending", width,
		       id, *msg ? msg : "(no message)");
		if (is_cur || head)
			printf("  (%s%s%s)", is_cur ? "current" : "",
			       is_cur && head ? ", " : "", head ? "head" : "");
		putchar('\n');
		if (c->verbose) {
			size_t np = migrate_revision_parent_count(rev);

			printf("         revises: ");
			if (np == 0)
				printf("<base>");
			for (j = 0; j < np; j++)
				printf("%s%s", j ? ", " : "",
				       migrate_revision_parent(rev, j));
			putchar('\n');
			print_rows_for(&rows, id);
		}
	}
	for (i = 0; i < n_cur; i++) {
		if (!find_exact(reg, cur[i]))
			printf("%-7s  %-*s  (current; not in this build)\n",
			       "unknown", width, cur[i]);
	}
	if (c->verbose) {
		bool header = false;

		for (i = 0; i < rows.n; i++) {
			if (rows.rows[i].printed)
				continue;
			if (!header) {
				printf("history of revisions not in this "
				       "build:\n");
				header = true;
			}
			printf("         %s: %s\n", rows.rows[i].revision,
			       rows.rows[i].text);
		}
	}
out:
	if (cur) {
		for (i = 0; i < n_cur; i++)
			free(cur[i]);
		free(cur);
	}
	idset_free(&applied);
	free_rows(&rows);
	return code;
}
