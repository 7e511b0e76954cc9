/* SPDX-License-Identifier: MIT */
/*
 * The planner: targets, branches and merges in both directions, the
 * version-table change of every step, errors, and a 10,000-revision chain.
 * Plans are made offline or with migrate__plan_move(); one test goes
 * through a handle on the memory backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <libmigrate.h>

#include "private.h"
#include "suites.h"
#include "test-common.h"

static struct migrate_registry *reg;
static struct migrate_plan *plan;

static void
setup(void)
{
	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	plan = NULL;
}

static void
teardown(void)
{
	migrate_plan_free(plan);
	plan = NULL;
	migrate_registry_free(reg);
	reg = NULL;
}

/* Add revision @id with comma-separated @parents (NULL for a root). */
static void
add_rev_full(const char *id, const char *parents, const char *msg, bool down)
{
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *pv[8];
	char buf[256], *save = NULL, *tok;
	size_t n = 0;

	if (parents) {
		snprintf(buf, sizeof(buf), "%s", parents);
		for (tok = strtok_r(buf, ",", &save); tok && n < 8;
		     tok = strtok_r(NULL, ",", &save))
			pv[n++] = tok;
	}
	def.id = id;
	def.parents = n ? pv : NULL;
	def.n_parents = n;
	def.message = msg;
	def.upgrade_sql = "SELECT 1;";
	def.downgrade_sql = down ? "SELECT 2;" : NULL;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
}

static void
add_rev(const char *id, const char *parents)
{
	add_rev_full(id, parents, NULL, true);
}

/* 001 <- 002 <- 003 <- 004 */
static void
build_linear(void)
{
	add_rev_full("001", NULL, "Baseline: create all tables", true);
	add_rev_full("002", "001", "add users", true);
	add_rev_full("003", "002", "add orders", true);
	add_rev_full("004", "003", NULL, true);
}

/* 001 <- 002a, 001 <- 002b, 003 = merge(002a, 002b) <- 004 */
static void
build_merge(void)
{
	add_rev("001", NULL);
	add_rev("002a", "001");
	add_rev("002b", "001");
	add_rev_full("003", "002a,002b", "merge branches", true);
	add_rev("004", "003");
}

/* 001 <- 002a <- 003a, 001 <- 002b: two heads. Added so that every
 * topological order with insertion-order ties is 001 002a 002b 003a. */
static void
build_branches(void)
{
	add_rev("001", NULL);
	add_rev("002a", "001");
	add_rev("002b", "001");
	add_rev("003a", "002a");
}

/* Make a plan from @from (comma-separated or NULL); fail on error. */
static void
make(int direction, const char *from, const char *target)
{
	int rc;

	migrate_plan_free(plan);
	plan = NULL;
	rc = migrate_plan_offline(&plan, reg, direction, from, target);
	ck_assert_msg(rc == 0, "plan %s from %s to %s: %d: %s",
		      direction == MIGRATE_UP ? "up" : "down",
		      from ? from : "base", target, rc,
		      migrate_registry_errmsg(reg));
	ck_assert_ptr_nonnull(plan);
}

/* Expect failure @code with a message containing @needle. */
static void
make_fails(int direction,
	   const char *from,
	   const char *target,
	   int code,
	   const char *needle)
{
	struct migrate_plan *p = (struct migrate_plan *)&p;
	int rc;

	rc = migrate_plan_offline(&p, reg, direction, from, target);
	ck_assert_msg(rc == code, "target '%s' from %s: got %d (%s), want %d",
		      target ? target : "(null)", from ? from : "base", rc,
		      migrate_registry_errmsg(reg), code);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(migrate_registry_errmsg(reg), needle),
		      "message '%s' lacks '%s'", migrate_registry_errmsg(reg),
		      needle);
}

/* "+001 +002 -003": the steps with their directions. */
static const char *
steps(void)
{
	static char out[4096];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < migrate_plan_count(plan) && len < sizeof(out); i++) {
		int dir = 0;
		const struct migrate_revision *r =
			migrate_plan_step(plan, i, &dir);

		ck_assert_ptr_nonnull(r);
		len += (size_t)snprintf(
			out + len, sizeof(out) - len, "%s%c%s", i ? " " : "",
			dir == MIGRATE_UP ? '+' : '-', migrate_revision_id(r));
	}
	return out;
}

/* "-a -b +c": version-table change of step @i. */
static const char *
change(size_t i)
{
	static char out[512];
	const struct migrate_step *st;
	const char *const *rm, *const *add;
	size_t j, len = 0;

	ck_assert_uint_lt(i, plan->n_steps);
	st = &plan->steps[i];
	migrate__step_heads(st, &rm, &add);
	out[0] = '\0';
	for (j = 0; j < st->n_remove; j++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s-%s",
					len ? " " : "", rm[j]);
	for (j = 0; j < st->n_add; j++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s+%s",
					len ? " " : "", add[j]);
	return out;
}

static const char *
heads(const struct strv *sv)
{
	static char out[2][512];
	static int which;
	char *o = out[which ^= 1];
	size_t i, len = 0;

	o[0] = '\0';
	for (i = 0; i < sv->n; i++)
		len += (size_t)snprintf(o + len, sizeof(out[0]) - len, "%s%s",
					i ? "," : "", sv->v[i]);
	return o;
}

#define assert_steps(s)     ck_assert_str_eq(steps(), (s))
#define assert_change(i, s) ck_assert_str_eq(change(i), (s))
#define assert_from(s)      ck_assert_str_eq(heads(&plan->from_heads), (s))
#define assert_to(s)        ck_assert_str_eq(heads(&plan->to_heads), (s))

START_TEST(test_plan_linear_up)
{
	build_linear();
	make(MIGRATE_UP, NULL, "head");
	assert_steps("+001 +002 +003 +004");
	ck_assert_int_eq(plan->direction, MIGRATE_UP);
	assert_change(0, "+001");
	assert_change(1, "-001 +002");
	assert_change(3, "-003 +004");
	assert_from("");
	assert_to("004");

	make(MIGRATE_UP, "002", "heads");
	assert_steps("+003 +004");
	assert_from("002");
	assert_to("004");

	make(MIGRATE_UP, "001", "003");
	assert_steps("+002 +003");
	assert_to("003");
}

END_TEST

/* Every id of every step's version-table change is borrowed from the
 * registry (its revisions' ids and parent lists); a step has ids of its own
 * in the plan's one block only when some but not all of several parents
 * change rows, so @pooled says how many steps do (issue 8: before, each
 * step had two arrays and a copy of each id, then np + 1 slots of the
 * block). */
static void
assert_heads_borrowed(size_t pooled)
{
	size_t i, j, slots = 0, n_pooled = 0;

	for (i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].rev->n_parents > 1)
			slots += plan->steps[i].rev->n_parents;
	for (i = 0; i < plan->n_steps; i++) {
		const struct migrate_step *st = &plan->steps[i];
		const char *const *lists[2];
		size_t ns[2] = { st->n_remove, st->n_add }, k;

		migrate__step_heads(st, &lists[0], &lists[1]);
		if (st->ids) {
			n_pooled++;
			ck_assert(st->ids >= plan->heads &&
				  st->ids + ns[0] + ns[1] <=
					  plan->heads + slots);
		}
		for (k = 0; k < 2; k++) {
			for (j = 0; j < ns[k]; j++) {
				struct migrate_revision *r =
					migrate__registry_get(reg, lists[k][j]);

				ck_assert_ptr_nonnull(r);
				ck_assert(lists[k][j] == r->id ||
					  (lists[k] == (const char *const *)st
							       ->rev->parents &&
					   j < st->rev->n_parents));
			}
		}
	}
	ck_assert_uint_eq(n_pooled, pooled);
	if (!slots)
		ck_assert_ptr_null(plan->heads);
}

START_TEST(test_plan_heads_borrowed)
{
	build_merge();
	make(MIGRATE_UP, NULL, "head");
	assert_steps("+001 +002a +002b +003 +004");
	assert_change(3, "-002a -002b +003");
	assert_heads_borrowed(0);
	make(MIGRATE_DOWN, "004", "001");
	assert_change(1, "-003 +002a +002b");
	assert_heads_borrowed(0);
}

END_TEST

/* A merge of which only some parents are rows (the other has an applied
 * child): its steps name their ids in the plan's block. */
START_TEST(test_plan_merge_partial)
{
	build_branches();
	add_rev("m", "002a,002b");
	make(MIGRATE_UP, "003a,002b", "m");
	assert_steps("+m");
	assert_change(0, "-002b +m");
	assert_to("003a,m");
	assert_heads_borrowed(1);
	make(MIGRATE_DOWN, "003a,m", "002b");
	assert_steps("-m");
	assert_change(0, "-m +002b");
	assert_to("003a,002b");
	assert_heads_borrowed(1);
}

END_TEST

START_TEST(test_plan_linear_down)
{
	build_linear();
	make(MIGRATE_DOWN, "004", "base");
	assert_steps("-004 -003 -002 -001");
	ck_assert_int_eq(plan->direction, MIGRATE_DOWN);
	assert_change(0, "-004 +003");
	assert_change(2, "-002 +001");
	assert_change(3, "-001");
	assert_from("004");
	assert_to("");

	make(MIGRATE_DOWN, "004", "002");
	assert_steps("-004 -003");
	assert_to("002");

	make(MIGRATE_DOWN, "003", "001");
	assert_steps("-003 -002");
	assert_to("001");
}

END_TEST

START_TEST(test_plan_full_id_and_prefix)
{
	add_rev("abc123", NULL);
	add_rev("abd456", "abc123");
	add_rev("xyz", "abd456");

	make(MIGRATE_UP, NULL, "abc");
	assert_steps("+abc123");
	make(MIGRATE_UP, NULL, "abd456");
	assert_steps("+abc123 +abd456");
	make(MIGRATE_UP, NULL, "x");
	assert_steps("+abc123 +abd456 +xyz");
	make(MIGRATE_DOWN, "xyz", "abc1");
	assert_steps("-xyz -abd456");
	make(MIGRATE_UP, "abd", "xyz");
	assert_steps("+xyz");
	assert_from("abd456");

	make_fails(MIGRATE_UP, NULL, "ab", MIGRATE_EAMBIGUOUS, "abc123");
	make_fails(MIGRATE_UP, NULL, "ab", MIGRATE_EAMBIGUOUS, "abd456");
	make_fails(MIGRATE_UP, NULL, "nope", MIGRATE_ENOTFOUND, "nope");
	make_fails(MIGRATE_DOWN, "xyz", "ab", MIGRATE_EAMBIGUOUS, "abc123");
	make_fails(MIGRATE_UP, NULL, "abcdefghijabcdefghijabcdefghijabc",
		   MIGRATE_ENOTFOUND, "abcdefghij");
	make_fails(MIGRATE_UP, NULL, "ab+1", MIGRATE_EAMBIGUOUS, "abd456");
}

END_TEST

START_TEST(test_plan_empty_plans)
{
	build_linear();
	make(MIGRATE_UP, "004", "head");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	ck_assert_str_eq(migrate_plan_text(plan), "nothing to do\n");
	assert_from("004");
	assert_to("004");

	/* An upgrade to an applied revision reaches it already. */
	make(MIGRATE_UP, "003", "001");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_to("003");

	make(MIGRATE_UP, "003", "heads");
	assert_steps("+004");

	make(MIGRATE_DOWN, "003", "003");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	make(MIGRATE_DOWN, NULL, "base");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_from("");
	assert_to("");
	ck_assert_ptr_null(migrate_plan_step(plan, 0, NULL));
}

END_TEST

START_TEST(test_plan_relative_current)
{
	build_linear();
	make(MIGRATE_UP, NULL, "+1");
	assert_steps("+001");
	make(MIGRATE_UP, NULL, "+3");
	assert_steps("+001 +002 +003");
	make(MIGRATE_UP, "001", "+2");
	assert_steps("+002 +003");
	make(MIGRATE_UP, "001", "+000000003");
	assert_steps("+002 +003 +004");
	make(MIGRATE_DOWN, "004", "-1");
	assert_steps("-004");
	make(MIGRATE_DOWN, "003", "-2");
	assert_steps("-003 -002");
	make(MIGRATE_DOWN, "003", "-3");
	assert_steps("-003 -002 -001");
	assert_to("");
}

END_TEST

START_TEST(test_plan_relative_id)
{
	build_linear();
	make(MIGRATE_UP, NULL, "002+1");
	assert_steps("+001 +002 +003");
	make(MIGRATE_UP, "001", "003-1");
	assert_steps("+002");
	make(MIGRATE_DOWN, "004", "003-1");
	assert_steps("-004 -003");
	make(MIGRATE_DOWN, "004", "001+1");
	assert_steps("-004 -003");
	make(MIGRATE_DOWN, "002", "001-1");
	assert_steps("-002 -001");
	make(MIGRATE_DOWN, "004", "head-2");
	assert_steps("-004 -003");
	make(MIGRATE_UP, NULL, "base+2");
	assert_steps("+001 +002");
	/* Below the current state: nothing to upgrade. */
	make(MIGRATE_UP, "003", "002-2");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
}

END_TEST

START_TEST(test_plan_relative_errors)
{
	build_linear();
	make_fails(MIGRATE_UP, "002", "+3", MIGRATE_EINVAL,
		   "cannot go 3 steps up from 002: 004 is a head");
	make_fails(MIGRATE_UP, "004", "+1", MIGRATE_EINVAL,
		   "cannot go 1 step up from 004: 004 is a head");
	make_fails(MIGRATE_UP, NULL, "+5", MIGRATE_EINVAL,
		   "cannot go 5 steps up from base: 004 is a head");
	make_fails(MIGRATE_DOWN, "002", "-3", MIGRATE_EINVAL,
		   "cannot go 3 steps down from 002: only 2 steps down to "
		   "base");
	make_fails(MIGRATE_DOWN, NULL, "-1", MIGRATE_EINVAL,
		   "cannot go 1 step down from base");
	make_fails(MIGRATE_UP, NULL, "003+2", MIGRATE_EINVAL, "004 is a head");
	make_fails(MIGRATE_DOWN, "004", "001-2", MIGRATE_EINVAL,
		   "down from 001");
	make_fails(MIGRATE_UP, NULL, "zzz+1", MIGRATE_ENOTFOUND, "zzz");
	make_fails(MIGRATE_UP, NULL, "+999999999", MIGRATE_EINVAL,
		   "004 is a head");
}

END_TEST

START_TEST(test_plan_relative_ambiguous)
{
	build_merge();
	make_fails(MIGRATE_UP, "001", "+1", MIGRATE_EAMBIGUOUS,
		   "001 branches into 002a, 002b");
	make_fails(MIGRATE_UP, NULL, "001+2", MIGRATE_EAMBIGUOUS,
		   "cannot go 2 steps up from 001: 001 branches into");
	make_fails(MIGRATE_DOWN, "004", "-2", MIGRATE_EAMBIGUOUS,
		   "003 merges 002a, 002b");
	make_fails(MIGRATE_DOWN, "002a,002b", "-1", MIGRATE_EAMBIGUOUS,
		   "several heads: 002a, 002b");
	make_fails(MIGRATE_UP, "002a,002b", "+1", MIGRATE_EAMBIGUOUS,
		   "several heads: 002a, 002b");

	/* One step up from 002a reaches the merge, which needs 002b. */
	make(MIGRATE_UP, "002a", "+1");
	assert_steps("+002b +003");
	make(MIGRATE_DOWN, "004", "-1");
	assert_steps("-004");
}

END_TEST

START_TEST(test_plan_several_roots)
{
	add_rev("r1", NULL);
	add_rev("r2", NULL);
	add_rev("m", "r1,r2");
	make_fails(MIGRATE_UP, NULL, "+1", MIGRATE_EAMBIGUOUS,
		   "cannot go up from base: several roots: r1, r2");
	make_fails(MIGRATE_UP, NULL, "base+2", MIGRATE_EAMBIGUOUS,
		   "several roots");
	make(MIGRATE_UP, NULL, "head");
	assert_steps("+r1 +r2 +m");
	assert_change(1, "+r2");
	assert_change(2, "-r1 -r2 +m");
	make(MIGRATE_UP, NULL, "r2+1");
	assert_steps("+r1 +r2 +m");
	/* r2 is no descendant of r1: it stays, as a row of its own. */
	make(MIGRATE_DOWN, "m", "r1");
	assert_steps("-m");
	assert_change(0, "-m +r1 +r2");
	assert_to("r1,r2");
}

END_TEST

START_TEST(test_plan_malformed_targets)
{
	static const char *const bad[] = {
		"+",    "-",    "+x",    "-0",      "+0",   "1+2+3",
		"001+", "--1",  "+-1",   "a b",     "-1x",  "+1234567890",
		"0 01", " 001", "head+", "heads+1", "001;",
	};
	size_t i;

	build_linear();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int want = MIGRATE_EINVAL;

		/* "heads" is not a keyword prefix: an unknown id. */
		if (!strcmp(bad[i], "heads+1"))
			want = MIGRATE_ENOTFOUND;
		make_fails(MIGRATE_UP, "002", bad[i], want, "");
		make_fails(MIGRATE_DOWN, "002", bad[i], want, "");
	}
	make_fails(MIGRATE_UP, NULL, "", MIGRATE_EINVAL, "no target");
	make_fails(MIGRATE_UP, NULL, NULL, MIGRATE_EINVAL, "no target");
	make_fails(MIGRATE_UP, NULL, "1+2+3", MIGRATE_EINVAL,
		   "malformed target '1+2+3'");
	make_fails(MIGRATE_UP, NULL, "a b", MIGRATE_EINVAL,
		   "malformed target 'a b'");
}

END_TEST

START_TEST(test_plan_wrong_direction)
{
	build_linear();
	make_fails(MIGRATE_UP, "002", "base", MIGRATE_EINVAL,
		   "'base' is not an upgrade target; use downgrade");
	make_fails(MIGRATE_UP, "002", "-1", MIGRATE_EINVAL,
		   "'-1' is not an upgrade target; use downgrade");
	make_fails(MIGRATE_DOWN, "002", "head", MIGRATE_EINVAL,
		   "'head' is not a downgrade target; use upgrade");
	make_fails(MIGRATE_DOWN, "002", "heads", MIGRATE_EINVAL,
		   "'heads' is not a downgrade target");
	make_fails(MIGRATE_DOWN, "002", "+1", MIGRATE_EINVAL,
		   "'+1' is not a downgrade target");
	make_fails(0, "002", "head", MIGRATE_EINVAL, "direction");
	make_fails(3, "002", "head", MIGRATE_EINVAL, "direction");
	make_fails(MIGRATE_UP, "001", "base", MIGRATE_EINVAL,
		   "'base' is not an upgrade target; use downgrade");
	make_fails(MIGRATE_DOWN, NULL, "head", MIGRATE_EINVAL,
		   "'head' is not a downgrade target; use upgrade");
}

END_TEST

/* Alembic: "upgrade base" at base and "downgrade head(s)" at head do
 * nothing (elsewhere they are refused, above). */
START_TEST(test_plan_noop_targets)
{
	build_linear();
	make(MIGRATE_UP, NULL, "base");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_from("");
	assert_to("");
	make(MIGRATE_DOWN, "004", "head");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_from("004");
	assert_to("004");
	make(MIGRATE_DOWN, "004", "heads");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	assert_to("004");
}

END_TEST

START_TEST(test_plan_noop_targets_branches)
{
	build_branches();
	make_fails(MIGRATE_DOWN, NULL, "heads", MIGRATE_EINVAL,
		   "'heads' is not a downgrade target");
	make(MIGRATE_UP, NULL, "heads");
	{
		char *heads = NULL;
		size_t i, n = plan->to_heads.n, len = 1;

		for (i = 0; i < n; i++)
			len += strlen(plan->to_heads.v[i]) + 1;
		heads = calloc(1, len);
		ck_assert_ptr_nonnull(heads);
		for (i = 0; i < n; i++) {
			if (i)
				strcat(heads, ",");
			strcat(heads, plan->to_heads.v[i]);
		}
		make(MIGRATE_DOWN, heads, "heads");
		ck_assert_uint_eq(migrate_plan_count(plan), 0);
		free(heads);
	}
}

END_TEST

START_TEST(test_plan_head_several)
{
	build_branches();
	make_fails(MIGRATE_UP, NULL, "head", MIGRATE_EAMBIGUOUS,
		   "several heads: 002b, 003a; name one or use 'heads'");
	make_fails(MIGRATE_DOWN, "003a,002b", "head-1", MIGRATE_EAMBIGUOUS,
		   "several heads");

	make(MIGRATE_UP, NULL, "heads");
	assert_steps("+001 +002a +002b +003a");
	assert_change(0, "+001");
	assert_change(1, "-001 +002a");
	/* 001 is no longer a row: a second branch is an INSERT. */
	assert_change(2, "+002b");
	assert_change(3, "-002a +003a");
	assert_to("002b,003a");

	make(MIGRATE_UP, "003a", "heads");
	assert_steps("+002b");
	assert_change(0, "+002b");
	assert_to("003a,002b");

	make(MIGRATE_UP, "002a", "002b");
	assert_steps("+002b");
	assert_to("002a,002b");
}

END_TEST

START_TEST(test_plan_branch_down)
{
	build_branches();
	/* Downgrading one branch leaves the other's head in place. */
	make(MIGRATE_DOWN, "003a,002b", "002a");
	assert_steps("-003a");
	assert_change(0, "-003a +002a");
	assert_from("003a,002b");
	assert_to("002b,002a");

	make(MIGRATE_DOWN, "003a,002b", "002b");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);

	/* Down to the branch point: the second-last branch is a DELETE, the
	 * last one an UPDATE to 001. */
	make(MIGRATE_DOWN, "003a,002b", "001");
	assert_steps("-003a -002b -002a");
	assert_change(0, "-003a +002a");
	assert_change(1, "-002b");
	assert_change(2, "-002a +001");
	assert_to("001");

	make(MIGRATE_DOWN, "003a,002b", "base");
	assert_steps("-003a -002b -002a -001");
	assert_change(3, "-001");
	assert_to("");
}

END_TEST

START_TEST(test_plan_merge_up)
{
	build_merge();
	make(MIGRATE_UP, NULL, "003");
	assert_steps("+001 +002a +002b +003");
	assert_change(1, "-001 +002a");
	assert_change(2, "+002b");
	assert_change(3, "-002a -002b +003");
	assert_to("003");

	/* Upgrading to a merge applies every branch first. */
	make(MIGRATE_UP, "002a", "head");
	assert_steps("+002b +003 +004");
	assert_change(0, "+002b");
	assert_change(1, "-002a -002b +003");
	assert_change(2, "-003 +004");
	assert_from("002a");
	assert_to("004");

	make(MIGRATE_UP, "002b,002a", "003");
	assert_steps("+003");
	assert_change(0, "-002a -002b +003");
}

END_TEST

START_TEST(test_plan_merge_down)
{
	build_merge();
	/* Below the merge point on one side: both parents become rows. */
	make(MIGRATE_DOWN, "004", "002a");
	assert_steps("-004 -003");
	assert_change(0, "-004 +003");
	assert_change(1, "-003 +002a +002b");
	assert_to("002a,002b");

	make(MIGRATE_DOWN, "004", "002b");
	assert_steps("-004 -003");
	assert_to("002a,002b");

	make(MIGRATE_DOWN, "003", "001");
	assert_steps("-003 -002b -002a");
	assert_change(0, "-003 +002a +002b");
	assert_change(1, "-002b");
	assert_change(2, "-002a +001");
	assert_to("001");

	make(MIGRATE_DOWN, "002a,002b", "002a");
	ck_assert_uint_eq(migrate_plan_count(plan), 0);
	make(MIGRATE_DOWN, "002a,002b", "001");
	assert_steps("-002b -002a");
}

END_TEST

START_TEST(test_plan_down_not_applied)
{
	build_branches();
	make_fails(MIGRATE_DOWN, "002a", "002b", MIGRATE_EINVAL,
		   "002b is not applied; nothing to downgrade to");
	make_fails(MIGRATE_DOWN, "002a", "003a", MIGRATE_EINVAL,
		   "003a is not applied");
	make_fails(MIGRATE_DOWN, NULL, "001", MIGRATE_EINVAL,
		   "001 is not applied");
}

END_TEST

START_TEST(test_plan_irreversible)
{
	add_rev("001", NULL);
	add_rev_full("002", "001", "drop data", false);
	add_rev("003", "002");

	make_fails(MIGRATE_DOWN, "003", "base", MIGRATE_EIRREVERSIBLE,
		   "revision 002 has no downgrade; cannot downgrade through "
		   "it");
	make_fails(MIGRATE_DOWN, "003", "001", MIGRATE_EIRREVERSIBLE,
		   "revision 002 has no downgrade");
	make_fails(MIGRATE_DOWN, "003", "-2", MIGRATE_EIRREVERSIBLE, "002");

	make(MIGRATE_DOWN, "003", "002");
	assert_steps("-003");
	make(MIGRATE_UP, NULL, "head");
	assert_steps("+001 +002 +003");
}

END_TEST

START_TEST(test_plan_unknown_current)
{
	const char *cur[] = { "002", "zzz" };
	struct migrate_plan *p = NULL;
	struct migrate_diag err;
	int rc;

	build_linear();
	p = (struct migrate_plan *)&err; /* must be reset to NULL */
	rc = migrate__plan_move(&p, reg, cur, 2, MIGRATE_UP, "head", 0, &err);
	ck_assert_int_eq(rc, MIGRATE_EUNKNOWN);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(
		err.msg,
		"database is at 'zzz', which these revisions do not know");

	/* Unknown rows win over target errors. */
	rc = migrate__plan_move(&p, reg, cur + 1, 1, MIGRATE_UP, "base", 0,
				&err);
	ck_assert_int_eq(rc, MIGRATE_EUNKNOWN);
	ck_assert_ptr_null(p);

	/* Offline, the starting point is checked against the registry. */
	make_fails(MIGRATE_UP, "zzz", "head", MIGRATE_ENOTFOUND, "zzz");
}

END_TEST

START_TEST(test_plan_compute_rows)
{
	const char *dup[] = { "002", "002" };
	const char *redundant[] = { "001", "002" };
	struct migrate_diag err;

	build_linear();
	ck_assert_int_eq(migrate__plan_move(&plan, reg, dup, 2, MIGRATE_UP,
					    "+1", 0, &err),
			 0);
	assert_steps("+003");
	assert_from("002");
	assert_to("003");
	migrate_plan_free(plan);

	/* A stale row (001 under 002) is kept, not touched: the steps
	 * change only the rows they replace. */
	ck_assert_int_eq(migrate__plan_move(&plan, reg, redundant, 2,
					    MIGRATE_UP, "head", 0, &err),
			 0);
	assert_steps("+003 +004");
	assert_change(0, "-002 +003");
	assert_to("001,004");
	migrate_plan_free(plan);
	ck_assert_int_eq(migrate__plan_move(&plan, reg, redundant, 2,
					    MIGRATE_DOWN, "-1", 0, &err),
			 0);
	assert_steps("-002");
	assert_change(0, "-002");
	assert_to("001");
	migrate_plan_free(plan);

	ck_assert_int_eq(migrate__plan_move(&plan, reg, NULL, 0, MIGRATE_UP,
					    "002", 0, &err),
			 0);
	assert_steps("+001 +002");
	migrate_plan_free(plan);
	plan = NULL;

	ck_assert_int_eq(migrate__plan_move(&plan, NULL, NULL, 0, MIGRATE_UP,
					    "head", 0, &err),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__plan_move(NULL, reg, NULL, 0, MIGRATE_UP,
					    "head", 0, &err),
			 MIGRATE_EINVAL);
	ck_assert_int_eq(migrate__plan_move(&plan, reg, NULL, 1, MIGRATE_UP,
					    "head", 0, NULL),
			 MIGRATE_EINVAL);
	ck_assert_ptr_null(plan);
}

END_TEST

START_TEST(test_plan_offline_from)
{
	struct migrate_plan *p;

	build_merge();
	make(MIGRATE_UP, "001", "head");
	assert_steps("+002a +002b +003 +004");
	assert_change(0, "-001 +002a");
	assert_change(1, "+002b");
	assert_from("001");

	make(MIGRATE_UP, "002a,002b", "head");
	assert_steps("+003 +004");
	assert_from("002a,002b");

	make(MIGRATE_UP, " 002a , 002b ", "head");
	assert_steps("+003 +004");
	assert_from("002a,002b");

	make(MIGRATE_UP, "base", "002b");
	assert_steps("+001 +002b");
	assert_from("");
	make(MIGRATE_UP, "", "002b");
	assert_steps("+001 +002b");

	make_fails(MIGRATE_UP, "002a,,002b", "head", MIGRATE_EINVAL,
		   "malformed starting point");
	make_fails(MIGRATE_UP, "002a,", "head", MIGRATE_EINVAL,
		   "malformed starting point");
	make_fails(MIGRATE_UP, "002a;002b", "head", MIGRATE_EINVAL,
		   "malformed starting point");
	make_fails(MIGRATE_UP, "002", "head", MIGRATE_EAMBIGUOUS, "002a");
	p = (struct migrate_plan *)&p;
	ck_assert_int_eq(
		migrate_plan_offline(&p, NULL, MIGRATE_UP, NULL, "head"),
		MIGRATE_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(
		migrate_plan_offline(NULL, reg, MIGRATE_UP, NULL, "head"),
		MIGRATE_EINVAL);

	/* A good call clears the previous message. */
	make(MIGRATE_UP, NULL, "head");
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
}

END_TEST

START_TEST(test_plan_text)
{
	build_linear();
	make(MIGRATE_UP, NULL, "head");
	ck_assert_str_eq(migrate_plan_text(plan),
			 "upgrade <base> -> 001, Baseline: create all tables\n"
			 "upgrade 001 -> 002, add users\n"
			 "upgrade 002 -> 003, add orders\n"
			 "upgrade 003 -> 004\n");
	/* Built once, then the same string. */
	ck_assert_ptr_eq(migrate_plan_text(plan), migrate_plan_text(plan));

	make(MIGRATE_DOWN, "003", "base");
	ck_assert_str_eq(migrate_plan_text(plan),
			 "downgrade 003 -> 002, add orders\n"
			 "downgrade 002 -> 001, add users\n"
			 "downgrade 001 -> <base>, Baseline: create all "
			 "tables\n");

	ck_assert_str_eq(migrate_plan_text(NULL), "");
}

END_TEST

START_TEST(test_plan_text_merge)
{
	build_merge();
	make(MIGRATE_UP, "002a", "003");
	ck_assert_str_eq(migrate_plan_text(plan),
			 "upgrade 001 -> 002b\n"
			 "upgrade 002a, 002b -> 003 (merge), merge branches\n");
	make(MIGRATE_DOWN, "003", "002b");
	ck_assert_str_eq(
		migrate_plan_text(plan),
		"downgrade 003 -> 002a, 002b (merge), merge branches\n");
}

END_TEST

START_TEST(test_plan_getters)
{
	int dir = 0;

	ck_assert_uint_eq(migrate_plan_count(NULL), 0);
	ck_assert_ptr_null(migrate_plan_step(NULL, 0, &dir));
	migrate_plan_free(NULL);

	build_linear();
	make(MIGRATE_DOWN, "002", "base");
	ck_assert_str_eq(migrate_revision_id(migrate_plan_step(plan, 1, &dir)),
			 "001");
	ck_assert_int_eq(dir, MIGRATE_DOWN);
	ck_assert_ptr_nonnull(migrate_plan_step(plan, 0, NULL));
	ck_assert_ptr_null(migrate_plan_step(plan, 2, &dir));
	ck_assert_ptr_eq(plan->reg, reg);
}

END_TEST

START_TEST(test_plan_invalid_registry)
{
	make_fails(MIGRATE_UP, NULL, "head", MIGRATE_EINVAL, "");
	add_rev("001", NULL);
	add_rev("002", "nope");
	make_fails(MIGRATE_UP, NULL, "head", MIGRATE_ECONFLICT, "nope");
}

END_TEST

#define CHAIN 10000

START_TEST(test_plan_long_chain)
{
	char id[16], parent[16], top[16];
	size_t i;

	for (i = 0; i < CHAIN; i++) {
		snprintf(id, sizeof(id), "r%05zu", i);
		add_rev(id, i ? parent : NULL);
		memcpy(parent, id, sizeof(id));
	}
	memcpy(top, parent, sizeof(top));

	make(MIGRATE_UP, NULL, "head");
	ck_assert_uint_eq(migrate_plan_count(plan), CHAIN);
	ck_assert_str_eq(migrate_revision_id(migrate_plan_step(plan, 0, NULL)),
			 "r00000");
	ck_assert_str_eq(
		migrate_revision_id(migrate_plan_step(plan, CHAIN - 1, NULL)),
		top);
	assert_change(CHAIN - 1, "-r09998 +r09999");
	assert_to(top);
	ck_assert_ptr_nonnull(migrate_plan_text(plan));

	make(MIGRATE_DOWN, top, "base");
	ck_assert_uint_eq(migrate_plan_count(plan), CHAIN);
	ck_assert_str_eq(migrate_revision_id(migrate_plan_step(plan, 0, NULL)),
			 top);
	assert_change(CHAIN - 1, "-r00000");
	assert_to("");

	make(MIGRATE_UP, NULL, "+10000");
	ck_assert_uint_eq(migrate_plan_count(plan), CHAIN);
	make(MIGRATE_DOWN, top, "-9999");
	ck_assert_uint_eq(migrate_plan_count(plan), CHAIN - 1);
	assert_to("r00000");
	make(MIGRATE_DOWN, top, "r00000+1");
	ck_assert_uint_eq(migrate_plan_count(plan), CHAIN - 2);
	make_fails(MIGRATE_UP, NULL, "+10001", MIGRATE_EINVAL, "is a head");
}

END_TEST

/* Through a handle: the state comes from the (memory) backend. */
START_TEST(test_plan_online)
{
	struct migrate_backend *be = NULL;
	struct migrate *m = NULL;
	int rc;

	build_linear();
	ck_assert_int_eq(migrate_backend_memory_new(&be), 0);
	rc = migrate_open(&m, reg, be, NULL);
	reg = NULL; /* owned by the handle now */
	assert_ok(m, rc);

	assert_ok(m, migrate_plan(&plan, m, MIGRATE_UP, "002"));
	assert_steps("+001 +002");
	assert_from("");
	migrate_plan_free(plan);
	plan = NULL;

	rc = migrate_plan(&plan, m, MIGRATE_DOWN, "head");
	ck_assert_int_eq(rc, MIGRATE_EINVAL);
	ck_assert_ptr_null(plan);
	ck_assert_str_eq(migrate_errmsg(m),
			 "'head' is not a downgrade target; use upgrade");

	rc = migrate_plan(&plan, m, MIGRATE_UP, "zz");
	ck_assert_int_eq(rc, MIGRATE_ENOTFOUND);
	ck_assert_ptr_null(plan);
	ck_assert_ptr_nonnull(strstr(migrate_errmsg(m), "zz"));

	/* Once the database is at 002, plans start there. */
	assert_ok(m, migrate_upgrade(m, "002"));
	assert_ok(m, migrate_plan(&plan, m, MIGRATE_UP, "head"));
	ck_assert_str_eq(migrate_errmsg(m), "");
	assert_steps("+003 +004");
	assert_from("002");
	assert_change(0, "-002 +003");
	migrate_plan_free(plan);
	plan = NULL;
	assert_ok(m, migrate_plan(&plan, m, MIGRATE_DOWN, "-1"));
	assert_steps("-002");
	assert_to("001");
	migrate_plan_free(plan);
	plan = NULL;

	plan = (struct migrate_plan *)&rc;
	ck_assert_int_eq(migrate_plan(&plan, NULL, MIGRATE_UP, "head"),
			 MIGRATE_EINVAL);
	ck_assert_ptr_null(plan);
	ck_assert_int_eq(migrate_plan(NULL, m, MIGRATE_UP, "head"),
			 MIGRATE_EINVAL);
	migrate_close(m);
}

END_TEST

Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");

/* add_test() with the checked fixture: one TCase per test. */
#define T(fn)                                                                  \
	do {                                                                   \
		TCase *tc_ = tcase_create(#fn);                                \
		tcase_add_checked_fixture(tc_, setup, teardown);               \
		tcase_add_test(tc_, fn);                                       \
		suite_add_tcase(s, tc_);                                       \
	} while (0)
	T(test_plan_linear_up);
	T(test_plan_linear_down);
	T(test_plan_heads_borrowed);
	T(test_plan_merge_partial);
	T(test_plan_full_id_and_prefix);
	T(test_plan_empty_plans);
	T(test_plan_relative_current);
	T(test_plan_relative_id);
	T(test_plan_relative_errors);
	T(test_plan_relative_ambiguous);
	T(test_plan_several_roots);
	T(test_plan_malformed_targets);
	T(test_plan_wrong_direction);
	T(test_plan_noop_targets);
	T(test_plan_noop_targets_branches);
	T(test_plan_head_several);
	T(test_plan_branch_down);
	T(test_plan_merge_up);
	T(test_plan_merge_down);
	T(test_plan_down_not_applied);
	T(test_plan_irreversible);
	T(test_plan_unknown_current);
	T(test_plan_compute_rows);
	T(test_plan_offline_from);
	T(test_plan_text);
	T(test_plan_text_merge);
	T(test_plan_getters);
	T(test_plan_invalid_registry);
	T(test_plan_long_chain);
	T(test_plan_online);
#undef T
	return s;
}
