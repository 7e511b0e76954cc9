/* SPDX-License-Identifier: MIT */
/*
 * The planner: registry + the database's version table -> ordered steps.
 *
 * Semantics are Alembic's. The applied set A is every ancestor-or-self of
 * the revisions in the version table. Upgrading to a target set T applies
 * (ancestors-or-self of T) minus A in topological order; downgrading to t
 * unapplies the applied strict descendants of t in reverse topological
 * order, so other branches keep their heads. Every step also carries the
 * version-table change it makes, found by simulating the head set.
 *
 * Everything is iterative and linear in the size of the graph: walks use an
 * explicit stack, per-revision state lives in arrays indexed by rev->topo,
 * and each simulated step costs O(number of parents).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmigrate.h>

#include "private.h"

/* How many revisions an error message lists before "...". */
#define LIST_MAX 8

/* What a target resolves to. */
enum target_kind {
	TARGET_REV,   /* one revision */
	TARGET_BASE,  /* nothing applied */
	TARGET_HEADS, /* every head of the registry */
	TARGET_HERE,  /* where the database is: no step */
};

struct planner {
	struct migrate_registry *reg;
	size_t n;
	bool *applied; /* by topo: in the applied set */
	bool *in_h;    /* by topo: in the simulated version table */
	bool *mark;    /* by topo: scratch for walks */
	uint32_t *applied_children; /* by topo: number of applied children */
	/* Revisions by topo (4 bytes, not a pointer: issue 8). n + 1
	 * entries: the walks' stack, then simulate()'s added rows. */
	uint32_t *stack;
	struct migrate_revision **cur; /* version table rows, deduplicated */
	size_t n_cur;
	uint32_t *order; /* revisions of the steps, in order, by topo */
	size_t n_order;
	struct migrate_diag *diag; /* where a failure is reported */
};

static int fail(struct planner *p, int code, const char *fmt, ...)
	MIGRATE_PRINTF(3, 4);

static int
fail(struct planner *p, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = migrate__vfail(p->diag, code, fmt, ap);
	va_end(ap);
	return code;
}

/* Write "a, b, c" (at most LIST_MAX names, then "...") into @dst. */
static void
list_revs(char *dst, size_t dstlen, struct migrate_revision *const *v, size_t n)
{
	size_t i, len = 0;

	dst[0] = '\0';
	for (i = 0; i < n && len < dstlen; i++) {
		int w;

		if (i == LIST_MAX) {
			snprintf(dst + len, dstlen - len, ", ...");
			return;
		}
		w = snprintf(dst + len, dstlen - len, "%s%s", i ? ", " : "",
			     v[i]->id);
		if (w < 0)
			return;
		len += (size_t)w;
	}
}

/* list_revs() of @r's children (@children) or parents. */
static void
list_edges(char *dst,
	   size_t dstlen,
	   const struct migrate_registry *reg,
	   const struct migrate_revision *r,
	   bool children)
{
	struct migrate_revision *v[LIST_MAX + 1];
	size_t n = children ? r->n_children : r->n_parents, i;

	for (i = 0; i < n && i <= LIST_MAX; i++)
		v[i] = children ? migrate__child(reg, r, i)
				: migrate__parent(reg, r, i);
	list_revs(dst, dstlen, v, i);
}

static const char *
plural(unsigned long n)
{
	return n == 1 ? "" : "s";
}

static void
planner_free(struct planner *p)
{
	free(p->applied);
	free(p->in_h);
	free(p->mark);
	free(p->applied_children);
	free(p->stack);
	free(p->cur);
	free(p->order);
}

/* ------------------------------------------------------------------ */
/* Current state                                                       */
/* ------------------------------------------------------------------ */

/* Resolve the version table rows, fill plan->from_heads, the applied set
 * and the applied-children counters. */
static int
load_current(struct planner *p,
	     struct migrate_plan *plan,
	     const char *const *current,
	     size_t n_current)
{
	size_t i, sp = 0;

	for (i = 0; i < n_current; i++) {
		struct migrate_revision *r;

		if (!current[i])
			return fail(p, MIGRATE_EINVAL,
				    "current revision %zu is NULL", i);
		r = migrate__registry_get(p->reg, current[i]);
		if (!r) {
			char shown[64];

			migrate__printable(shown, sizeof(shown), current[i],
					   strlen(current[i]));
			return fail(
				p, MIGRATE_EUNKNOWN,
				"database is at '%s', which these revisions do not know",
				shown);
		}
		if (p->in_h[r->topo])
			continue; /* duplicate row */
		p->in_h[r->topo] = true;
		p->cur[p->n_cur++] = r;
		if (strv_push(&plan->from_heads, r->id) < 0)
			return fail(p, MIGRATE_ENOMEM, "out of memory");
		if (!p->applied[r->topo]) {
			p->applied[r->topo] = true;
			p->stack[sp++] = r->topo;
		}
	}

	/* Ancestors of the rows; the applied set is closed downwards. */
	while (sp) {
		struct migrate_revision *r = p->reg->topo[p->stack[--sp]];

		for (i = 0; i < r->n_parents; i++) {
			struct migrate_revision *par =
				migrate__parent(p->reg, r, i);

			if (!p->applied[par->topo]) {
				p->applied[par->topo] = true;
				p->stack[sp++] = par->topo;
			}
		}
	}

	for (i = 0; i < p->n; i++) {
		struct migrate_revision *r = p->reg->topo[i];
		size_t j;

		if (!p->applied[i])
			continue;
		for (j = 0; j < r->n_parents; j++)
			p->applied_children[migrate__parent(p->reg, r, j)
						    ->topo]++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */
/* ------------------------------------------------------------------ */

static bool
is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* The unique head of the registry, or EAMBIGUOUS listing them. */
static int
unique_head(struct planner *p, struct migrate_revision **out)
{
	char names[512];

	if (p->reg->n_heads == 1) {
		*out = p->reg->heads[0];
		return 0;
	}
	list_revs(names, sizeof(names), p->reg->heads, p->reg->n_heads);
	return fail(p, MIGRATE_EAMBIGUOUS,
		    "several heads: %s; name one or use 'heads'", names);
}

/* Full id or unique prefix of @len bytes at @s. */
static int
find_rev(struct planner *p,
	 const char *s,
	 size_t len,
	 struct migrate_revision **out)
{
	char id[MIGRATE_ID_MAX + 1];
	const struct migrate_revision *found = NULL;
	int rc;

	if (len > MIGRATE_ID_MAX) {
		char shown[64];

		migrate__printable(shown, sizeof(shown), s, len);
		return fail(p, MIGRATE_ENOTFOUND, "unknown revision '%s'",
			    shown);
	}
	memcpy(id, s, len);
	id[len] = '\0';
	rc = migrate_registry_find(&found, p->reg, id);
	if (rc < 0)
		return fail(p, rc, "%s", migrate_registry_errmsg(p->reg));
	*out = migrate__registry_get(p->reg, found->id);
	if (!*out)
		return fail(p, MIGRATE_ERROR, "revision '%s' vanished",
			    found->id);
	return 0;
}

/* The version table's true heads (rows without an applied child). */
static size_t
current_heads(struct planner *p, struct migrate_revision **v, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_cur; i++) {
		if (p->applied_children[p->cur[i]->topo])
			continue;
		if (n < max)
			v[n] = p->cur[i];
		n++;
	}
	return n;
}

/* The database is exactly at the registry's head(s). */
static bool
at_registry_heads(struct planner *p)
{
	struct migrate_revision *v[LIST_MAX + 1];
	size_t i, j, n = current_heads(p, v, LIST_MAX + 1);

	if (n != p->reg->n_heads || n > LIST_MAX + 1 || n == 0)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && v[j] != p->reg->heads[i]; j++)
			;
		if (j == n)
			return false;
	}
	return true;
}

/*
 * Move @steps steps up (along children) or down (along parents) from
 * @*pos (NULL = base), requiring a single way at each step. @from names the
 * starting point in messages.
 */
static int
walk(struct planner *p,
     struct migrate_revision **pos,
     bool up,
     unsigned long steps,
     const char *from)
{
	struct migrate_revision *r = *pos;
	char names[512];
	unsigned long i;

	for (i = 0; i < steps; i++) {
		if (up && !r) {
			struct migrate_revision *roots[LIST_MAX + 1];
			size_t j, n_roots = 0;

			for (j = 0; j < p->n; j++) {
				if (p->reg->topo[j]->n_parents)
					continue;
				if (n_roots <= LIST_MAX)
					roots[n_roots] = p->reg->topo[j];
				n_roots++;
			}
			if (n_roots > 1) {
				list_revs(names, sizeof(names), roots,
					  n_roots > LIST_MAX + 1 ? LIST_MAX + 1
								 : n_roots);
				return fail(
					p, MIGRATE_EAMBIGUOUS,
					"cannot go up from base: several roots: %s; name one",
					names);
			}
			r = roots[0];
		} else if (up) {
			if (r->n_children == 0)
				return fail(
					p, MIGRATE_EINVAL,
					"cannot go %lu step%s up from %s: %s is a head",
					steps, plural(steps), from, r->id);
			if (r->n_children > 1) {
				list_edges(names, sizeof(names), p->reg, r,
					   true);
				return fail(
					p, MIGRATE_EAMBIGUOUS,
					"cannot go %lu step%s up from %s: %s branches into %s; name one",
					steps, plural(steps), from, r->id,
					names);
			}
			r = migrate__child(p->reg, r, 0);
		} else {
			if (!r)
				return fail(
					p, MIGRATE_EINVAL,
					"cannot go %lu step%s down from %s: only %lu step%s down to base",
					steps, plural(steps), from, i,
					plural(i));
			if (r->n_parents > 1) {
				list_edges(names, sizeof(names), p->reg, r,
					   false);
				return fail(
					p, MIGRATE_EAMBIGUOUS,
					"cannot go %lu step%s down from %s: %s merges %s; name one",
					steps, plural(steps), from, r->id,
					names);
			}
			r = r->n_parents ? migrate__parent(p->reg, r, 0) : NULL;
		}
	}
	*pos = r;
	return 0;
}

/*
 * Parse and resolve @target. Grammar:
 *   head | heads | base | ID | [ID](+|-)N
 * where ID is a full id, a unique prefix, "head" or "base", and N is 1 to
 * 999999999 (at most 9 decimal digits). Without ID the move is relative
 * to the database's current revision, which makes "+N" an upgrade-only and
 * "-N" a downgrade-only target.
 */
static int
resolve_target(struct planner *p,
	       const char *target,
	       int direction,
	       enum target_kind *kind,
	       struct migrate_revision **rev)
{
	const char *sign, *s;
	size_t id_len, n_digits = 0;
	unsigned long steps = 0;
	char shown[64];
	bool up;
	int rc;

	*rev = NULL;
	if (!target || !*target)
		return fail(p, MIGRATE_EINVAL, "no target given");
	migrate__printable(shown, sizeof(shown), target, strlen(target));

	if (!strcmp(target, "head") || !strcmp(target, "heads")) {
		/* Alembic: "downgrade head" at head does nothing. */
		if (direction != MIGRATE_UP && at_registry_heads(p)) {
			*kind = TARGET_HERE;
			return 0;
		}
		if (direction != MIGRATE_UP)
			return fail(
				p, MIGRATE_EINVAL,
				"'%s' is not a downgrade target; use upgrade",
				target);
		if (target[4] == 's') {
			*kind = TARGET_HEADS;
			return 0;
		}
		*kind = TARGET_REV;
		return unique_head(p, rev);
	}
	if (!strcmp(target, "base")) {
		/* Alembic: "upgrade base" at base does nothing. */
		if (direction != MIGRATE_DOWN && p->n_cur == 0) {
			*kind = TARGET_HERE;
			return 0;
		}
		if (direction != MIGRATE_DOWN)
			return fail(
				p, MIGRATE_EINVAL,
				"'base' is not an upgrade target; use downgrade");
		*kind = TARGET_BASE;
		return 0;
	}

	for (s = target; is_id_char(*s); s++)
		;
	id_len = (size_t)(s - target);
	if (!*s) {
		*kind = TARGET_REV;
		return find_rev(p, target, id_len, rev);
	}
	if (*s != '+' && *s != '-')
		return fail(p, MIGRATE_EINVAL, "malformed target '%s'", shown);
	sign = s;
	up = *sign == '+';
	for (s = sign + 1; *s >= '0' && *s <= '9'; s++) {
		steps = steps * 10 + (unsigned long)(*s - '0');
		n_digits++;
	}
	if (*s || n_digits == 0 || n_digits > 9 || steps == 0)
		return fail(
			p, MIGRATE_EINVAL,
			"malformed target '%s': expected [ID]+N or [ID]-N with N from 1 to 999999999",
			shown);

	if (id_len == 0) {
		struct migrate_revision *heads[LIST_MAX + 1];
		char names[512];
		size_t n_heads;

		if (up && direction != MIGRATE_UP)
			return fail(
				p, MIGRATE_EINVAL,
				"'%s' is not a downgrade target; use upgrade",
				shown);
		if (!up && direction != MIGRATE_DOWN)
			return fail(
				p, MIGRATE_EINVAL,
				"'%s' is not an upgrade target; use downgrade",
				shown);
		n_heads = current_heads(p, heads, LIST_MAX + 1);
		if (n_heads > 1) {
			list_revs(names, sizeof(names), heads,
				  n_heads > LIST_MAX + 1 ? LIST_MAX + 1
							 : n_heads);
			return fail(
				p, MIGRATE_EAMBIGUOUS,
				"database has several heads: %s; name one as ID%cN",
				names, *sign);
		}
		*rev = n_heads ? heads[0] : NULL;
		rc = walk(p, rev, up, steps, *rev ? (*rev)->id : "base");
	} else if (id_len == 4 && !strncmp(target, "base", 4)) {
		rc = walk(p, rev, up, steps, "base");
	} else {
		if (id_len == 4 && !strncmp(target, "head", 4))
			rc = unique_head(p, rev);
		else
			rc = find_rev(p, target, id_len, rev);
		if (rc == 0)
			rc = walk(p, rev, up, steps, (*rev)->id);
	}
	if (rc < 0)
		return rc;
	*kind = *rev ? TARGET_REV : TARGET_BASE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

/* Upgrade: (ancestors-or-self of @targets) minus the applied set. */
static void
order_up(struct planner *p, struct migrate_revision *const *targets, size_t n)
{
	size_t i, sp = 0, count = 0;

	for (i = 0; i < n; i++) {
		struct migrate_revision *t = targets[i];

		if (p->applied[t->topo] || p->mark[t->topo])
			continue;
		p->mark[t->topo] = true;
		p->stack[sp++] = t->topo;
		count++;
	}
	while (sp) {
		struct migrate_revision *r = p->reg->topo[p->stack[--sp]];

		for (i = 0; i < r->n_parents; i++) {
			struct migrate_revision *par =
				migrate__parent(p->reg, r, i);

			/* Ancestors of applied revisions are applied. */
			if (p->applied[par->topo] || p->mark[par->topo])
				continue;
			p->mark[par->topo] = true;
			p->stack[sp++] = par->topo;
			count++;
		}
	}
	for (i = 0; i < p->n && p->n_order < count; i++)
		if (p->mark[i])
			p->order[p->n_order++] = (uint32_t)i;
}

/*
 * Downgrade to @t (NULL = base): the applied strict descendants of @t,
 * children before parents. Applied descendants are reached through applied
 * revisions only, since the applied set is closed downwards.
 */
static void
order_down(struct planner *p, struct migrate_revision *t)
{
	size_t i, sp = 0, count = 0, lo;

	if (!t) {
		for (i = p->n; i-- > 0;)
			if (p->applied[i])
				p->order[p->n_order++] = (uint32_t)i;
		return;
	}
	p->stack[sp++] = t->topo;
	while (sp) {
		struct migrate_revision *r = p->reg->topo[p->stack[--sp]];

		for (i = 0; i < r->n_children; i++) {
			struct migrate_revision *c =
				migrate__child(p->reg, r, i);

			if (!p->applied[c->topo] || p->mark[c->topo])
				continue;
			p->mark[c->topo] = true;
			p->stack[sp++] = c->topo;
			count++;
		}
	}
	lo = t->topo + 1;
	for (i = p->n; i-- > lo && p->n_order < count;)
		if (p->mark[i])
			p->order[p->n_order++] = (uint32_t)i;
}

/* Whether parent @par of a step's revision changes rows: up, a parent that
 * is a row is replaced; down, an applied parent left without an applied
 * child (its count is about to drop by one) becomes a row again (a branch
 * point that still has another applied child does not). */
static bool
parent_moves(const struct planner *p,
	     const struct migrate_revision *par,
	     int direction)
{
	uint32_t t = par->topo;

	if (direction == MIGRATE_UP)
		return p->in_h[t];
	return p->applied_children[t] == 1 && p->applied[t] && !p->in_h[t];
}

/* Fill step @st for revision @r, updating the simulated version table;
 * revisions that become rows are appended to @added. The ids go to *@pool
 * (plan->heads) only when some but not all of several parents change rows;
 * otherwise the step names its revision's own (migrate__step_heads()). */
static void
simulate_step(struct planner *p,
	      struct migrate_step *st,
	      struct migrate_revision *r,
	      int direction,
	      uint32_t *added,
	      size_t *n_added,
	      char ***pool)
{
	uint32_t j, np = r->n_parents, moving = 0;
	bool up = direction == MIGRATE_UP;

	st->rev = r;
	st->direction = direction;
	for (j = 0; j < np; j++)
		moving += parent_moves(p, migrate__parent(p->reg, r, j),
				       direction);
	if (moving && moving < np) {
		st->ids = *pool;
		*pool += np; /* at most np - 1 parents and the revision */
	}

	/* Up: the rows among the parents go (one is an UPDATE, several a
	 * merge, none a new branch), the revision is a row. */
	if (up) {
		for (j = 0; j < np; j++) {
			struct migrate_revision *par =
				migrate__parent(p->reg, r, j);

			p->applied_children[par->topo]++;
			if (!p->in_h[par->topo])
				continue;
			p->in_h[par->topo] = false;
			if (st->ids)
				st->ids[st->n_remove] = par->id;
			st->n_remove++;
		}
		p->applied[r->topo] = true;
		p->in_h[r->topo] = true;
		added[(*n_added)++] = r->topo;
		if (st->ids)
			st->ids[st->n_remove] = r->id;
		st->n_add = 1;
		return;
	}

	/* Down: the row goes; the parents that moving says become rows. */
	p->applied[r->topo] = false;
	if (p->in_h[r->topo]) {
		p->in_h[r->topo] = false;
		if (st->ids)
			st->ids[0] = r->id;
		st->n_remove = 1;
	}
	for (j = 0; j < np; j++) {
		struct migrate_revision *par = migrate__parent(p->reg, r, j);
		bool moves = parent_moves(p, par, direction);

		p->applied_children[par->topo]--;
		if (!moves)
			continue;
		p->in_h[par->topo] = true;
		added[(*n_added)++] = par->topo;
		if (st->ids)
			st->ids[st->n_remove + st->n_add] = par->id;
		st->n_add++;
	}
}

/* Turn p->order into plan steps, simulating the version table, and fill
 * plan->to_heads. */
static int
simulate(struct planner *p, struct migrate_plan *plan, int direction)
{
	uint32_t *added;
	size_t i, n_added = 0, slots = 0;
	char **pool;
	int rc = MIGRATE_ENOMEM;

	/* A revision becomes a row at most once per plan: up adds each
	 * step's revision, down adds a parent when its last applied child
	 * goes, and an unapplied revision never comes back. The walks are
	 * over: their stack (n + 1 entries) holds them. */
	added = p->stack;
	/* Only a step of a revision with several parents may need slots
	 * (simulate_step()); at most n + edges: the graph block of
	 * build_graph() is larger and did not overflow. */
	for (i = 0; i < p->n_order; i++)
		if (p->reg->topo[p->order[i]]->n_parents > 1)
			slots += p->reg->topo[p->order[i]]->n_parents;
	if (slots) {
		plan->heads = malloc(slots * sizeof(char *));
		if (!plan->heads)
			goto out;
	}
	pool = plan->heads;
	if (p->n_order) {
		plan->steps = calloc(p->n_order, sizeof(*plan->steps));
		if (!plan->steps)
			goto out;
	}
	for (i = 0; i < p->n_order; i++) {
		plan->n_steps = i + 1;
		simulate_step(p, &plan->steps[i], p->reg->topo[p->order[i]],
			      direction, added, &n_added, &pool);
	}

	/* Rows that stay keep their order; new rows follow in the order the
	 * steps added them. Clearing in_h while emitting drops duplicates. */
	for (i = 0; i < p->n_cur; i++) {
		struct migrate_revision *r = p->cur[i];

		if (!p->in_h[r->topo])
			continue;
		p->in_h[r->topo] = false;
		if (strv_push(&plan->to_heads, r->id) < 0)
			goto out;
	}
	for (i = 0; i < n_added; i++) {
		struct migrate_revision *r = p->reg->topo[added[i]];

		if (!p->in_h[r->topo])
			continue;
		p->in_h[r->topo] = false;
		if (strv_push(&plan->to_heads, r->id) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		return fail(p, rc, "out of memory");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/*
 * The plan of exactly one step, @t in @direction (resolve: a step that
 * stopped part-way is declared complete, or with MIGRATE__PLAN_NO_MOVE
 * declared not done, which leaves the version table as it is).
 */
static int
one_step(struct planner *p,
	 struct migrate_plan *plan,
	 enum target_kind kind,
	 struct migrate_revision *t,
	 int direction,
	 unsigned int flags)
{
	struct migrate_step *st;

	if (kind != TARGET_REV || !t)
		return fail(p, MIGRATE_EINVAL,
			    "a single step needs a revision");
	if (flags & MIGRATE__PLAN_NO_MOVE) {
		plan->steps = calloc(1, sizeof(*plan->steps));
		if (!plan->steps)
			return fail(p, MIGRATE_ENOMEM, "out of memory");
		plan->n_steps = 1;
		st = &plan->steps[0];
		st->rev = t;
		st->direction = direction;
		/* No ids: n_remove and n_add stay 0. */
		if (strv_copy(&plan->to_heads, &plan->from_heads) < 0)
			return fail(p, MIGRATE_ENOMEM, "out of memory");
		return 0;
	}
	/* The version table must still be where the step starts. */
	if ((direction == MIGRATE_UP) == p->in_h[t->topo])
		return fail(p, MIGRATE_ECONFLICT,
			    "the version table already shows the %s of %s",
			    migrate__direction_name(direction), t->id);
	p->order[p->n_order++] = t->topo;
	return simulate(p, plan, direction);
}

static int
plan_one_way(struct migrate_plan **out,
	     struct migrate_registry *reg,
	     const char *const *current,
	     size_t n_current,
	     int direction,
	     const char *target,
	     unsigned int flags,
	     struct migrate_diag *diag)
{
	struct planner p;
	struct migrate_plan *plan = NULL;
	struct migrate_revision *t = NULL;
	enum target_kind kind = TARGET_REV;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	p.diag = diag;
	migrate__diag_clear(diag);
	if (!out)
		return fail(&p, MIGRATE_EINVAL, "no plan pointer given");
	*out = NULL;
	if (!reg)
		return fail(&p, MIGRATE_EINVAL, "no registry given");
	if (direction != MIGRATE_UP && direction != MIGRATE_DOWN)
		return fail(&p, MIGRATE_EINVAL, "invalid direction %d",
			    direction);
	if (n_current && !current)
		return fail(&p, MIGRATE_EINVAL, "no current revisions given");

	rc = migrate_registry_validate(reg);
	if (rc < 0)
		return fail(&p, rc, "%s", migrate_registry_errmsg(reg));

	p.reg = reg;
	p.n = reg->n_revs;
	p.applied = calloc(p.n, sizeof(*p.applied));
	p.in_h = calloc(p.n, sizeof(*p.in_h));
	p.mark = calloc(p.n, sizeof(*p.mark));
	p.applied_children = calloc(p.n, sizeof(*p.applied_children));
	p.stack = malloc((p.n + 1) * sizeof(*p.stack));
	p.cur = malloc((n_current ? n_current : 1) * sizeof(*p.cur));
	p.order = malloc(p.n * sizeof(*p.order));
	plan = calloc(1, sizeof(*plan));
	if (!p.applied || !p.in_h || !p.mark || !p.applied_children ||
	    !p.stack || !p.cur || !p.order || !plan) {
		rc = fail(&p, MIGRATE_ENOMEM, "out of memory");
		goto out;
	}
	plan->reg = reg;
	plan->direction = direction;

	rc = load_current(&p, plan, current, n_current);
	if (rc < 0)
		goto out;
	rc = resolve_target(&p, target, direction, &kind, &t);
	if (rc < 0)
		goto out;

	if (flags & MIGRATE__PLAN_ONE_STEP) {
		rc = one_step(&p, plan, kind, t, direction, flags);
		if (rc == 0) {
			*out = plan;
			plan = NULL;
		}
		goto out;
	}
	if (kind == TARGET_HERE) {
		/* No step. */
	} else if (direction == MIGRATE_UP) {
		/* A target at or below the current state (an applied
		 * revision, or base via "ID-N") is simply reached. */
		if (kind == TARGET_HEADS)
			order_up(&p, reg->heads, reg->n_heads);
		else if (kind == TARGET_REV)
			order_up(&p, &t, 1);
	} else {
		/*
		 * Downgrading to a revision that is not applied is refused
		 * rather than treated as a no-op: the applied set is closed
		 * downwards, so such a target is on a branch the database
		 * never took or above its heads, and an empty plan would
		 * hide a typo or a wrong idea of where the database is
		 * (Alembic refuses it too).
		 */
		if (kind == TARGET_REV && !p.applied[t->topo]) {
			rc = fail(&p, MIGRATE_EINVAL,
				  "%s is not applied; nothing to downgrade to",
				  t->id);
			goto out;
		}
		order_down(&p, kind == TARGET_REV ? t : NULL);
		for (i = 0; i < p.n_order; i++) {
			if (reg->topo[p.order[i]]->down.present ||
			    (flags & MIGRATE__PLAN_BOOKKEEPING_ONLY))
				continue;
			rc = fail(
				&p, MIGRATE_EIRREVERSIBLE,
				"revision %s has no downgrade; cannot downgrade through it",
				reg->topo[p.order[i]]->id);
			goto out;
		}
	}

	rc = simulate(&p, plan, direction);
	if (rc < 0)
		goto out;
	*out = plan;
	plan = NULL;
out:
	planner_free(&p);
	migrate_plan_free(plan);
	return rc;
}

/* Stamp: up when the target is above the current state, down when it is
 * below; what was wrong with the up plan is reported unless down says
 * something better (e.g. an irreversible revision). */
static int
plan_either_way(struct migrate_plan **out,
		struct migrate_registry *reg,
		const char *const *current,
		size_t n_current,
		const char *target,
		unsigned int flags,
		struct migrate_diag *diag)
{
	struct migrate_plan *up = NULL, *down = NULL;
	struct migrate_diag downerr;
	int uprc, rc;

	uprc = plan_one_way(&up, reg, current, n_current, MIGRATE_UP, target,
			    flags, diag);
	if (uprc != MIGRATE_EINVAL && !(uprc == 0 && up->n_steps == 0)) {
		*out = up;
		return uprc;
	}
	rc = plan_one_way(&down, reg, current, n_current, MIGRATE_DOWN, target,
			  flags, &downerr);
	if (rc == 0 && down->n_steps > 0) {
		migrate_plan_free(up);
		*out = down;
		return 0;
	}
	migrate_plan_free(down);
	if (uprc < 0 && rc < 0 && rc != MIGRATE_EINVAL) {
		if (diag)
			*diag = downerr;
		uprc = rc;
	}
	*out = up;
	return uprc;
}

int
migrate__plan_move(struct migrate_plan **out,
		   struct migrate_registry *reg,
		   const char *const *current,
		   size_t n_current,
		   int direction,
		   const char *target,
		   unsigned int flags,
		   struct migrate_diag *diag)
{
	if (flags & MIGRATE__PLAN_EITHER_WAY) {
		if (out)
			*out = NULL;
		if (!out)
			return plan_one_way(out, reg, current, n_current,
					    MIGRATE_UP, target, flags, diag);
		return plan_either_way(out, reg, current, n_current, target,
				       flags, diag);
	}
	return plan_one_way(out, reg, current, n_current, direction, target,
			    flags, diag);
}

MIGRATE_EXPORT
int
migrate_plan(struct migrate_plan **out,
	     struct migrate *m,
	     int direction,
	     const char *target)
{
	struct migrate_state st;
	int rc;

	if (out)
		*out = NULL;
	if (!m)
		return MIGRATE_EINVAL;
	if (!out)
		return migrate__set_error(m, MIGRATE_EINVAL,
					  "no plan pointer given");
	migrate__clear_error(m);

	migrate__state_init(&st);
	rc = migrate__read_state(m, &st);
	if (rc < 0) {
		if (!m->diag.msg[0])
			migrate__set_error(m, rc,
					   "cannot read the database state: %s",
					   migrate_strerror(rc));
		goto out;
	}
	rc = migrate__plan_move(out, m->reg, (const char *const *)st.heads.v,
				st.heads.n, direction, target, 0, &m->diag);
out:
	migrate__state_clear(&st);
	return rc;
}

MIGRATE_EXPORT
int
migrate_plan_offline(struct migrate_plan **out,
		     struct migrate_registry *reg,
		     int direction,
		     const char *from,
		     const char *target)
{
	struct strv heads = STRV_INIT;
	const char *s;
	int rc;

	if (out)
		*out = NULL;
	if (!reg)
		return MIGRATE_EINVAL;
	if (!out)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "no plan pointer given");
	migrate__registry_clear_error(reg);

	/* "a, b" -> {a, b}; each may be a unique prefix, stored in full
	 * since the plan's starting point is compared with the database. */
	if (from && *from && strcmp(from, "base") != 0) {
		for (s = from;;) {
			const struct migrate_revision *r = NULL;
			const char *e;
			char id[MIGRATE_ID_MAX + 1], shown[64];
			size_t len;

			while (*s == ' ' || *s == '\t')
				s++;
			for (e = s; is_id_char(*e); e++)
				;
			len = (size_t)(e - s);
			while (*e == ' ' || *e == '\t')
				e++;
			if (len == 0 || (*e && *e != ',')) {
				migrate__printable(shown, sizeof(shown), from,
						   strlen(from));
				rc = migrate__registry_error(
					reg, MIGRATE_EINVAL,
					"malformed starting point '%s': expected comma-separated revision ids or 'base'",
					shown);
				goto out;
			}
			if (len > MIGRATE_ID_MAX) {
				migrate__printable(shown, sizeof(shown), s,
						   len);
				rc = migrate__registry_error(
					reg, MIGRATE_ENOTFOUND,
					"unknown revision '%s'", shown);
				goto out;
			}
			memcpy(id, s, len);
			id[len] = '\0';
			rc = migrate_registry_find(&r, reg, id);
			if (rc < 0)
				goto out; /* the registry has the message */
			if (strv_push(&heads, r->id) < 0) {
				rc = migrate__registry_error(
					reg, MIGRATE_ENOMEM, "out of memory");
				goto out;
			}
			if (!*e)
				break;
			s = e + 1;
		}
	}

	rc = migrate__plan_move(out, reg, (const char *const *)heads.v, heads.n,
				direction, target, 0, &reg->diag);
	if (rc == 0)
		migrate__registry_clear_error(reg);
out:
	strv_clear(&heads);
	return rc;
}

MIGRATE_EXPORT
void
migrate_plan_free(struct migrate_plan *plan)
{
	if (!plan)
		return;
	free(plan->heads);
	free(plan->steps);
	strv_clear(&plan->from_heads);
	strv_clear(&plan->to_heads);
	free(plan->text);
	free(plan);
}

MIGRATE_EXPORT
size_t
migrate_plan_count(const struct migrate_plan *plan)
{
	return plan ? plan->n_steps : 0;
}

MIGRATE_EXPORT
const struct migrate_revision *
migrate_plan_step(const struct migrate_plan *plan, size_t i, int *direction)
{
	if (!plan || i >= plan->n_steps)
		return NULL;
	if (direction)
		*direction = plan->steps[i].direction;
	return plan->steps[i].rev;
}

static void
text_parents(struct buf *b, const struct migrate_revision *r)
{
	size_t i;

	if (r->n_parents == 0)
		buf_puts(b, "<base>");
	for (i = 0; i < r->n_parents; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, r->parents[i]);
	}
}

/*
 * "upgrade 001 -> 002, add users", "downgrade 002 -> 001, add users",
 * "upgrade <base> -> 001, ...", "upgrade 002a, 002b -> 003 (merge), ...".
 * The message is omitted when the revision has none. Returns "" when @plan
 * is NULL or memory runs out.
 */
MIGRATE_EXPORT
const char *
migrate_plan_text(struct migrate_plan *plan)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (!plan)
		return "";
	if (plan->text)
		return plan->text;
	if (plan->n_steps == 0)
		buf_puts(&b, "nothing to do\n");
	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_revision *r = plan->steps[i].rev;

		if (plan->steps[i].direction == MIGRATE_UP) {
			buf_puts(&b, "upgrade ");
			text_parents(&b, r);
			buf_printf(&b, " -> %s", r->id);
		} else {
			buf_printf(&b, "downgrade %s -> ", r->id);
			text_parents(&b, r);
		}
		if (r->n_parents > 1)
			buf_puts(&b, " (merge)");
		if (*migrate__revision_message(r))
			buf_printf(&b, ", %s", migrate__revision_message(r));
		buf_puts(&b, "\n");
	}
	plan->text = buf_steal(&b);
	return plan->text ? plan->text : "";
}
