/* SPDX-License-Identifier: MIT */
/* Registry: adding revisions, validation, topological order, heads, find,
 * getters and checksums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "private.h"
#include "suites.h"
#include "test-common.h"

static struct migrate_registry *
new_reg(void)
{
	struct migrate_registry *reg = NULL;

	ck_assert_int_eq(migrate_registry_new(&reg), 0);
	ck_assert_ptr_nonnull(reg);
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
	return reg;
}

/* Add a SQL revision with up to three parents ("a,b"-style list). */
static int
add_sql(struct migrate_registry *reg, const char *id, const char *parents)
{
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	char buf[256], *p[8], *save = NULL, *tok;
	size_t n = 0;

	if (parents) {
		snprintf(buf, sizeof(buf), "%s", parents);
		for (tok = strtok_r(buf, ",", &save); tok && n < 8;
		     tok = strtok_r(NULL, ",", &save))
			p[n++] = tok;
	}
	def.id = id;
	def.parents = (const char *const *)p;
	def.n_parents = n;
	def.message = id;
	def.upgrade_sql = "SELECT 1;";
	def.downgrade_sql = "SELECT 2;";
	return migrate_registry_add(reg, &def);
}

static void
assert_topo(struct migrate_registry *reg, const char *const *ids, size_t n)
{
	size_t i;

	ck_assert_uint_eq(migrate_registry_count(reg), n);
	for (i = 0; i < n; i++) {
		const struct migrate_revision *r = migrate_registry_at(reg, i);

		ck_assert_msg(r, "no revision at %zu: %s", i,
			      migrate_registry_errmsg(reg));
		ck_assert_str_eq(migrate_revision_id(r), ids[i]);
	}
	ck_assert_ptr_null(migrate_registry_at(reg, n));
}

static void
assert_heads(struct migrate_registry *reg, const char *const *ids, size_t n)
{
	size_t i;

	ck_assert_uint_eq(migrate_registry_head_count(reg), n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(
			migrate_revision_id(migrate_registry_head(reg, i)),
			ids[i]);
	ck_assert_ptr_null(migrate_registry_head(reg, n));
}

START_TEST(test_registry_new_free)
{
	struct migrate_registry *reg = new_reg();

	ck_assert_uint_eq(migrate_registry_count(reg), 0);
	migrate_registry_free(reg);
	migrate_registry_free(NULL);
	ck_assert_int_eq(migrate_registry_new(NULL), MIGRATE_EINVAL);
	ck_assert_uint_eq(migrate_registry_count(NULL), 0);
	ck_assert_str_eq(migrate_registry_errmsg(NULL), "out of memory");
}

END_TEST

START_TEST(test_registry_empty)
{
	struct migrate_registry *reg = new_reg();

	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_EINVAL);
	ck_assert_str_eq(migrate_registry_errmsg(reg), "no revisions");
	ck_assert_ptr_null(migrate_registry_at(reg, 0));
	ck_assert_uint_eq(migrate_registry_head_count(reg), 0);
	ck_assert_ptr_null(migrate_registry_head(reg, 0));
	migrate_registry_free(reg);
}

END_TEST

#ifdef __GLIBC__
/* @p lies in the block [@lo, @hi). */
static void
assert_inside(const void *p, const char *lo, const char *hi, const char *what)
{
	ck_assert_msg(p && (const char *)p >= lo && (const char *)p < hi,
		      "%s is not in the revision's block", what);
}

/* Every string of @r, and its parents array, in the block of @r. */
static void
assert_one_block(const struct migrate_revision *r)
{
	const char *lo = (const char *)r;
	const char *hi = lo + malloc_usable_size((void *)(uintptr_t)r);
	size_t i;

	assert_inside(r->id, lo, hi, "the id");
	assert_inside(migrate_revision_message(r), lo, hi, "the message");
	assert_inside(migrate_revision_create_date(r), lo, hi,
		      "the create date");
	if (migrate_revision_file(r))
		assert_inside(migrate_revision_file(r), lo, hi,
			      "the file name");
	if (r->has_code)
		assert_inside(migrate__revision_code(r), lo, hi,
			      "the callbacks");
	if (r->n_parents)
		assert_inside(r->parents, lo, hi, "the parents array");
	for (i = 0; i < r->n_parents; i++)
		assert_inside(r->parents[i], lo, hi, "a parent id");
	assert_inside(r->up.sql, lo, hi, "the upgrade SQL");
	assert_inside(r->down.sql, lo, hi, "the downgrade SQL");
}
#endif

/* Issue 8 (peak RSS): a revision is one allocation, its strings inside it,
 * from a file and from migrate_registry_add() alike (before: the struct
 * and up to nine small blocks, ~200 B of malloc overhead a revision). */
START_TEST(test_registry_revision_one_block)
{
#ifdef __GLIBC__
	struct migrate_registry *reg = new_reg();
	const char *text = "-- Add users\n"
			   "--\n"
			   "-- Revision ID: r002\n"
			   "-- Revises: r001, r000\n"
			   "-- Create Date: 2026-01-31\n"
			   "\n"
			   "-- migrate:upgrade\n"
			   "CREATE TABLE users (id int);\r\n"
			   "\n"
			   "-- migrate:downgrade\n"
			   "DROP TABLE users;\n";
	const struct migrate_revision *r;

	assert_reg_ok(reg, add_sql(reg, "r000", NULL));
	assert_reg_ok(reg, add_sql(reg, "r001", "r000"));
	assert_reg_ok(reg, migrate_registry_parse(reg, "revs/002_users.sql",
						  text, strlen(text)));
	ck_assert_int_eq(migrate_registry_find(&r, reg, "r002"), 0);
	assert_one_block(r);
	ck_assert_str_eq(migrate_revision_file(r), "revs/002_users.sql");
	ck_assert_str_eq(migrate_revision_message(r), "Add users");
	ck_assert_str_eq(migrate_revision_create_date(r), "2026-01-31");
	ck_assert_str_eq(r->parents[1], "r000");
	ck_assert_str_eq(r->up.sql, "CREATE TABLE users (id int);\n\n");
	ck_assert_str_eq(r->down.sql, "DROP TABLE users;\n");
	ck_assert_int_eq(migrate_registry_find(&r, reg, "r001"), 0);
	assert_one_block(r);
	ck_assert_str_eq(r->parents[0], "r000");
	ck_assert_str_eq(r->down.sql, "SELECT 2;");
	/* a buffer too large for 32-bit lines is refused unread */
	ck_assert_int_eq(migrate_registry_parse(reg, "huge.sql", text,
						(size_t)UINT32_MAX),
			 MIGRATE_EPARSE);
	ck_assert_str_eq(
		migrate_registry_errmsg(reg),
		"huge.sql: file too large (4294967295 bytes, at most 4294967294)");
	/* issue 8: the compact revision (32-bit counts and lines; the
	 * checksum in binary; the callbacks, message, date and file not
	 * pointed to; the directory shared; the edges as offsets) */
	ck_assert_uint_le(sizeof(struct migrate_revision), 152);
	migrate_registry_free(reg);
#endif
}

END_TEST

START_TEST(test_registry_add_copies)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	char id[] = "002", parent[] = "001", msg[] = "add users";
	char up[] = "CREATE TABLE users (id int);";
	char down[] = "DROP TABLE users;";
	const char *parents[] = { parent };
	const struct migrate_revision *r;

	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	def.id = id;
	def.parents = parents;
	def.n_parents = 1;
	def.message = msg;
	def.upgrade_sql = up;
	def.downgrade_sql = down;
	def.flags = MIGRATE_REV_UP_NO_TRANSACTION;
	def.up_lock_timeout_ms = 100;
	def.down_statement_timeout_ms = 0;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	/* everything must have been copied */
	memset(id, 'x', 3);
	memset(parent, 'x', 3);
	memset(msg, 'x', strlen(msg));
	memset(up, 'x', strlen(up));
	memset(down, 'x', strlen(down));

	ck_assert_int_eq(migrate_registry_find(&r, reg, "002"), 0);
	ck_assert_str_eq(migrate_revision_id(r), "002");
	ck_assert_uint_eq(migrate_revision_parent_count(r), 1);
	ck_assert_str_eq(migrate_revision_parent(r, 0), "001");
	ck_assert_ptr_null(migrate_revision_parent(r, 1));
	ck_assert_str_eq(migrate_revision_message(r), "add users");
	ck_assert_str_eq(migrate_revision_create_date(r), "");
	ck_assert_ptr_null(migrate_revision_file(r));
	ck_assert_str_eq(migrate_revision_upgrade_sql(r),
			 "CREATE TABLE users (id int);");
	ck_assert_str_eq(migrate_revision_downgrade_sql(r),
			 "DROP TABLE users;");
	ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
	ck_assert_uint_eq(strlen(migrate_revision_checksum(r)), 64);
	ck_assert(!r->up.transactional);
	ck_assert(r->down.transactional);
	ck_assert_int_eq(r->up.lock_timeout_ms, 100);
	ck_assert_int_eq(r->up.statement_timeout_ms, -1);
	ck_assert_int_eq(r->down.statement_timeout_ms, 0);
	ck_assert_uint_eq(r->up.first_line, 0);
	ck_assert_uint_eq(r->id_line, 0);
	ck_assert_ptr_eq(migrate__registry_get(reg, "002"), r);
	ck_assert_ptr_null(migrate__registry_get(reg, "003"));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_getters_null)
{
	ck_assert_ptr_null(migrate_revision_id(NULL));
	ck_assert_str_eq(migrate_revision_message(NULL), "");
	ck_assert_str_eq(migrate_revision_create_date(NULL), "");
	ck_assert_ptr_null(migrate_revision_file(NULL));
	ck_assert_uint_eq(migrate_revision_parent_count(NULL), 0);
	ck_assert_ptr_null(migrate_revision_parent(NULL, 0));
	ck_assert_ptr_null(migrate_revision_upgrade_sql(NULL));
	ck_assert_ptr_null(migrate_revision_downgrade_sql(NULL));
	ck_assert_int_eq(migrate_revision_is_reversible(NULL), 0);
	ck_assert_str_eq(migrate_revision_checksum(NULL), "");
	ck_assert_int_eq(migrate_registry_add(NULL, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_validate(NULL), MIGRATE_EINVAL);
	ck_assert_ptr_null(migrate_registry_at(NULL, 0));
	ck_assert_uint_eq(migrate_registry_head_count(NULL), 0);
}

END_TEST

START_TEST(test_registry_irreversible_and_noop_down)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const struct migrate_revision *r;

	def.id = "a";
	def.upgrade_sql = "SELECT 1;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "b";
	def.downgrade_sql = "";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));

	ck_assert_int_eq(migrate_registry_find(&r, reg, "a"), 0);
	ck_assert_int_eq(migrate_revision_is_reversible(r), 0);
	ck_assert_ptr_null(migrate_revision_downgrade_sql(r));
	ck_assert_str_eq(migrate_revision_message(r), "");
	ck_assert_int_eq(migrate_registry_find(&r, reg, "b"), 0);
	ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
	ck_assert_str_eq(migrate_revision_downgrade_sql(r), "");
	migrate_registry_free(reg);
}

END_TEST

static int
step_fn(struct migrate *m, void *payload)
{
	(void)m;
	(void)payload;
	return 0;
}

START_TEST(test_registry_callbacks)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const struct migrate_revision *r;
	int payload = 42;

	def.id = "data1";
	def.upgrade_fn = step_fn;
	def.downgrade_fn = step_fn;
	def.payload = &payload;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_int_eq(migrate_registry_find(&r, reg, "data1"), 0);
	ck_assert_ptr_null(migrate_revision_upgrade_sql(r));
	ck_assert_ptr_null(migrate_revision_downgrade_sql(r));
	ck_assert_int_eq(migrate_revision_is_reversible(r), 1);
	/* C revisions have no text to checksum */
	ck_assert_str_eq(migrate_revision_checksum(r), "");
	ck_assert_ptr_nonnull(migrate__revision_code(r));
	ck_assert_ptr_eq(migrate__revision_code(r)->payload, &payload);
	ck_assert(migrate__revision_fn(r, MIGRATE_UP) == step_fn);
	ck_assert(migrate__revision_fn(r, MIGRATE_DOWN) == step_fn);
	ck_assert(r->up.present);

	/* upgrade in C, no downgrade: irreversible */
	def.id = "data2";
	def.downgrade_fn = NULL;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_int_eq(migrate_registry_find(&r, reg, "data2"), 0);
	ck_assert_int_eq(migrate_revision_is_reversible(r), 0);

	/* both SQL and a callback for one section: refused */
	def.id = "data3";
	def.upgrade_sql = "SELECT 1;";
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "both upgrade_sql and upgrade_fn"));
	def.upgrade_fn = NULL;
	def.downgrade_sql = "SELECT 1;";
	def.downgrade_fn = step_fn;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "both downgrade_sql and downgrade_fn"));
	ck_assert_uint_eq(migrate_registry_count(reg), 2);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_bad_ids)
{
	static const char *const bad[] = {
		"",           "a-b",     "a b",
		"a'b",        "\"001\"", "001;",
		"r\xc3\xa9v", "a\nb",    "123456789012345678901234567890123",
	};
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	size_t i;

	def.upgrade_sql = "SELECT 1;";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		def.id = bad[i];
		ck_assert_int_eq(migrate_registry_add(reg, &def),
				 MIGRATE_EINVAL);
		ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
					     "invalid revision id"));
		/* the message never carries control characters */
		ck_assert_ptr_null(strchr(migrate_registry_errmsg(reg), '\n'));
	}
	def.id = NULL;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	/* 32 characters is the maximum, and fine */
	def.id = "12345678901234567890123456789012";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "Az_09";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	ck_assert_uint_eq(migrate_registry_count(reg), 2);

	ck_assert(migrate__id_is_valid("abc", 3));
	ck_assert(migrate__id_is_valid("abc-", 3));
	ck_assert(!migrate__id_is_valid("abc-", 4));
	ck_assert(!migrate__id_is_valid("", 0));
	ck_assert(!migrate__id_is_valid(NULL, 0));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_bad_defs)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const char *parents[] = { "001", "bad id" };
	const char *dup[] = { "001", "001" };
	const char *nullp[] = { NULL };

	ck_assert_int_eq(migrate_registry_add(reg, NULL), MIGRATE_EINVAL);
	def.id = "002";
	/* no upgrade at all, or only white space */
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "has no upgrade"));
	def.upgrade_sql = " \n\t\r\n";
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "has no upgrade"));
	def.upgrade_sql = "SELECT 1;";

	def.parents = parents;
	def.n_parents = 2;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "invalid parent id 'bad id'"));
	def.parents = dup;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "lists parent '001' twice"));
	def.parents = nullp;
	def.n_parents = 1;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	def.parents = NULL;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	/* counts are 32 bits in a revision: refused before the parents are
	 * read */
	def.parents = nullp;
	def.n_parents = (size_t)UINT32_MAX;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	assert_contains(
		migrate_registry_errmsg(reg),
		"revision 002: n_parents is 4294967295 (at most 4294967294)");
	def.parents = NULL;
	def.n_parents = 0;

	def.version = 99;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "version 99"));
	def.version = MIGRATE_REVISION_DEF_VERSION;
	def.flags = 1u << 7;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	def.flags = 0;
	def.up_lock_timeout_ms = -5;
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	def.up_lock_timeout_ms = -1;

	ck_assert_uint_eq(migrate_registry_count(reg), 0);
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	/* a successful call clears the message */
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_many_parents_duplicate)
{
	/* more than 8 parents takes the hashed duplicate check */
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	char ids[20][8];
	const char *p[20];
	size_t i;

	for (i = 0; i < 20; i++) {
		snprintf(ids[i], sizeof(ids[i]), "p%zu", i);
		p[i] = ids[i];
		assert_reg_ok(reg, add_sql(reg, ids[i], NULL));
	}
	def.id = "merge";
	def.upgrade_sql = "SELECT 1;";
	def.parents = p;
	def.n_parents = 20;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "merge2";
	p[19] = "p3";
	ck_assert_int_eq(migrate_registry_add(reg, &def), MIGRATE_EINVAL);
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "lists parent 'p3' twice"));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_uint_eq(migrate_registry_head_count(reg), 1);
	ck_assert_str_eq(migrate_revision_id(migrate_registry_head(reg, 0)),
			 "merge");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_duplicate)
{
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	assert_reg_ok(reg, add_sql(reg, "002", "001"));
	ck_assert_int_eq(add_sql(reg, "002", "001"), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "duplicate revision id '002'");
	ck_assert_uint_eq(migrate_registry_count(reg), 2);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_duplicate_files)
{
	static const char a[] = "-- first\n"
				"-- Revision ID: 002\n"
				"-- Revises:\n"
				"-- migrate:upgrade\nSELECT 1;\n";
	static const char b[] = "-- second\n"
				"--\n"
				"-- Revision ID: 002\n"
				"-- Revises:\n"
				"-- migrate:upgrade\nSELECT 2;\n";
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, migrate_registry_parse(reg, "revisions/002_a.sql", a,
						  strlen(a)));
	ck_assert_int_eq(migrate_registry_parse(reg, "revisions/002_b.sql", b,
						strlen(b)),
			 MIGRATE_ECONFLICT);
	ck_assert_str_eq(
		migrate_registry_errmsg(reg),
		"revisions/002_b.sql:3: duplicate revision id '002' (first defined at revisions/002_a.sql:2)");
	/* file first, then in memory */
	ck_assert_int_eq(add_sql(reg, "002", NULL), MIGRATE_ECONFLICT);
	ck_assert_str_eq(
		migrate_registry_errmsg(reg),
		"duplicate revision id '002' (first defined at revisions/002_a.sql:2)");
	ck_assert_uint_eq(migrate_registry_count(reg), 1);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_linear)
{
	static const char *const order[] = { "001", "002", "003" };
	struct migrate_registry *reg = new_reg();
	const struct migrate_revision *r;

	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	assert_reg_ok(reg, add_sql(reg, "002", "001"));
	assert_reg_ok(reg, add_sql(reg, "003", "002"));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	assert_topo(reg, order, 3);
	assert_heads(reg, order + 2, 1);
	r = migrate_registry_at(reg, 1);
	ck_assert_uint_eq(r->topo, 1);
	ck_assert_uint_eq(r->n_children, 1);
	ck_assert_str_eq(migrate__child(reg, r, 0)->id, "003");
	ck_assert_str_eq(migrate__parent(reg, r, 0)->id, "001");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_topo_insertion_order)
{
	/* children added before their parents still come after them; of
	 * the revisions whose parents are all placed, the one added first
	 * goes next (c, added first, beats d once a is placed) */
	static const char *const order[] = { "b", "a", "c", "d" };
	static const char *const heads[] = { "c", "d" };
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "c", "a"));
	assert_reg_ok(reg, add_sql(reg, "b", NULL));
	assert_reg_ok(reg, add_sql(reg, "a", "b"));
	assert_reg_ok(reg, add_sql(reg, "d", NULL));
	assert_topo(reg, order, 4);
	assert_heads(reg, heads, 2);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_branches_and_merge)
{
	static const char *const order1[] = { "a1", "a2", "a3", "b1", "b2" };
	static const char *const heads1[] = { "a3", "b2" };
	static const char *const order2[] = {
		"a1", "a2", "a3", "b1", "b2", "m"
	};
	static const char *const heads2[] = { "m" };
	struct migrate_registry *reg = new_reg();
	const struct migrate_revision *m;

	assert_reg_ok(reg, add_sql(reg, "a1", NULL));
	assert_reg_ok(reg, add_sql(reg, "a2", "a1"));
	assert_reg_ok(reg, add_sql(reg, "a3", "a2"));
	assert_reg_ok(reg, add_sql(reg, "b1", "a1"));
	assert_reg_ok(reg, add_sql(reg, "b2", "b1"));
	assert_reg_ok(reg, migrate_registry_validate(reg));
	assert_topo(reg, order1, 5);
	assert_heads(reg, heads1, 2);
	ck_assert_uint_eq(migrate_registry_at(reg, 0)->n_children, 2);

	/* adding invalidates the graph; the next accessor revalidates */
	assert_reg_ok(reg, add_sql(reg, "m", "a3,b2"));
	ck_assert(!reg->validated);
	assert_heads(reg, heads2, 1);
	ck_assert(reg->validated);
	assert_topo(reg, order2, 6);
	m = migrate_registry_head(reg, 0);
	ck_assert_uint_eq(migrate_revision_parent_count(m), 2);
	ck_assert_str_eq(migrate_revision_parent(m, 0), "a3");
	ck_assert_str_eq(migrate_revision_parent(m, 1), "b2");
	ck_assert_str_eq(migrate__parent(reg, m, 1)->id, "b2");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_unknown_parent)
{
	static const char f[] = "-- Add things\n"
				"\n"
				"-- Revision ID: 003\n"
				"-- Revises: 009\n"
				"-- migrate:upgrade\nSELECT 1;\n";
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	assert_reg_ok(reg, add_sql(reg, "002", "001,zzz"));
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "revision 002 revises unknown revision 'zzz'");
	/* accessors fail too, and keep the message */
	ck_assert_ptr_null(migrate_registry_at(reg, 0));
	ck_assert_uint_eq(migrate_registry_head_count(reg), 0);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "unknown revision 'zzz'"));
	/* the graph was dropped: nothing dangling */
	ck_assert_ptr_null(reg->topo);
	ck_assert_ptr_null(reg->edges);
	ck_assert_uint_eq(reg->revs[1]->parents_at, 0);
	migrate_registry_free(reg);

	reg = new_reg();
	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	assert_reg_ok(reg,
		      migrate_registry_parse(reg, "dir/003.sql", f, strlen(f)));
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	ck_assert_str_eq(
		migrate_registry_errmsg(reg),
		"dir/003.sql:4: revision 003 revises unknown revision '009'");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_cycle)
{
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "root", NULL));
	assert_reg_ok(reg, add_sql(reg, "x", "root"));
	assert_reg_ok(reg, add_sql(reg, "b", "a"));
	assert_reg_ok(reg, add_sql(reg, "c", "b"));
	assert_reg_ok(reg, add_sql(reg, "a", "c,x"));
	assert_reg_ok(reg, add_sql(reg, "tail", "c"));
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "revision cycle: b -> c -> a -> b");
	ck_assert_ptr_null(migrate_registry_at(reg, 0));
	ck_assert_ptr_null(migrate_registry_head(reg, 0));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_self_cycle)
{
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "001", NULL));
	assert_reg_ok(reg, add_sql(reg, "002", "002"));
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "revision cycle: 002 -> 002");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_cycle_from_files)
{
	static const char a[] = "-- Revision ID: a\n-- Revises: b\n"
				"-- migrate:upgrade\nSELECT 1;\n";
	static const char b[] = "-- Revision ID: b\n-- Revises: a\n"
				"-- migrate:upgrade\nSELECT 1;\n";
	struct migrate_registry *reg = new_reg();

	assert_reg_ok(reg, add_sql(reg, "r", NULL));
	assert_reg_ok(reg, migrate_registry_parse(reg, "a.sql", a, strlen(a)));
	assert_reg_ok(reg, migrate_registry_parse(reg, "b.sql", b, strlen(b)));
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "a.sql:2: revision cycle: a -> b -> a");
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_long_cycle_capped)
{
	/* a 1,000-revision ring: iterative, and the message stays short */
	struct migrate_registry *reg = new_reg();
	char id[16], parent[16];
	const char *msg;
	int i;

	assert_reg_ok(reg, add_sql(reg, "root", NULL));
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		snprintf(parent, sizeof(parent), "r%d", (i + 999) % 1000);
		assert_reg_ok(reg, add_sql(reg, id, parent));
	}
	ck_assert_int_eq(migrate_registry_validate(reg), MIGRATE_ECONFLICT);
	msg = migrate_registry_errmsg(reg);
	ck_assert_ptr_nonnull(strstr(msg, "revision cycle: r0 -> r1 -> r2"));
	ck_assert_ptr_nonnull(strstr(msg, "(1000 revisions in the cycle)"));
	ck_assert_uint_lt(strlen(msg), 600);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_find)
{
	struct migrate_registry *reg = new_reg();
	const struct migrate_revision *r = (const void *)1;

	assert_reg_ok(reg, add_sql(reg, "a", NULL));
	assert_reg_ok(reg, add_sql(reg, "ab1", "a"));
	assert_reg_ok(reg, add_sql(reg, "ab2", "ab1"));
	assert_reg_ok(reg, add_sql(reg, "c77", "ab2"));

	/* exact id wins over prefix */
	assert_reg_ok(reg, migrate_registry_find(&r, reg, "a"));
	ck_assert_str_eq(migrate_revision_id(r), "a");
	assert_reg_ok(reg, migrate_registry_find(&r, reg, "ab2"));
	ck_assert_str_eq(migrate_revision_id(r), "ab2");
	/* unique prefix */
	assert_reg_ok(reg, migrate_registry_find(&r, reg, "c"));
	ck_assert_str_eq(migrate_revision_id(r), "c77");
	ck_assert_str_eq(migrate_registry_errmsg(reg), "");
	/* ambiguous */
	ck_assert_int_eq(migrate_registry_find(&r, reg, "ab"),
			 MIGRATE_EAMBIGUOUS);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "revision prefix 'ab' is ambiguous: ab1, ab2");
	/* not found */
	ck_assert_int_eq(migrate_registry_find(&r, reg, "x"),
			 MIGRATE_ENOTFOUND);
	ck_assert_str_eq(migrate_registry_errmsg(reg), "unknown revision 'x'");
	ck_assert_int_eq(migrate_registry_find(&r, reg, ""), MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_registry_find(&r, reg, "c77x"),
			 MIGRATE_ENOTFOUND);
	ck_assert_int_eq(migrate_registry_find(&r, reg, "bad\x1b[0m"),
			 MIGRATE_ENOTFOUND);
	ck_assert_str_eq(migrate_registry_errmsg(reg),
			 "unknown revision 'bad?[0m'");
	ck_assert_int_eq(migrate_registry_find(&r, reg, NULL), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_find(NULL, reg, "a"), MIGRATE_EINVAL);
	ck_assert_int_eq(migrate_registry_find(&r, NULL, "a"), MIGRATE_EINVAL);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_find_ambiguous_capped)
{
	struct migrate_registry *reg = new_reg();
	const struct migrate_revision *r;
	char id[16];
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "f%02d", i);
		assert_reg_ok(reg, add_sql(reg, id, NULL));
	}
	ck_assert_int_eq(migrate_registry_find(&r, reg, "f"),
			 MIGRATE_EAMBIGUOUS);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg),
		       "revision prefix 'f' is ambiguous: f00, f01, "));
	ck_assert_ptr_nonnull(strstr(migrate_registry_errmsg(reg),
				     "f09, ... (50 revisions)"));
	ck_assert_ptr_null(strstr(migrate_registry_errmsg(reg), "f10"));
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_checksum)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	const struct migrate_revision *a, *b, *c, *d, *e;
	char expect[65];

	def.id = "a";
	def.upgrade_sql =
		"\n\nCREATE TABLE t (id int);  \r\n\r\n\nSELECT 1;\t\n\n";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "b";
	def.upgrade_sql = "CREATE TABLE t (id int);\n\n\nSELECT 1;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "c";
	def.upgrade_sql = "CREATE TABLE t (id int);\n\nSELECT 1;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "d";
	def.upgrade_sql = "CREATE TABLE t (id int);\n\n\nSELECT 1;";
	def.downgrade_sql = "DROP TABLE t;";
	assert_reg_ok(reg, migrate_registry_add(reg, &def));
	def.id = "e";
	def.upgrade_sql = "SELECT 1;";
	def.downgrade_sql = NULL;
	assert_reg_ok(reg, migrate_registry_add(reg, &def));

	ck_assert_int_eq(migrate_registry_find(&a, reg, "a"), 0);
	ck_assert_int_eq(migrate_registry_find(&b, reg, "b"), 0);
	ck_assert_int_eq(migrate_registry_find(&c, reg, "c"), 0);
	ck_assert_int_eq(migrate_registry_find(&d, reg, "d"), 0);
	ck_assert_int_eq(migrate_registry_find(&e, reg, "e"), 0);
	/* leading/trailing blank lines, trailing blanks, CRLF: same */
	ck_assert_str_eq(migrate_revision_checksum(a),
			 migrate_revision_checksum(b));
	/* one blank line less inside: different */
	ck_assert_str_ne(migrate_revision_checksum(b),
			 migrate_revision_checksum(c));
	/* a downgrade counts */
	ck_assert_str_ne(migrate_revision_checksum(b),
			 migrate_revision_checksum(d));
	/* the normalised form is exactly what gets hashed */
	migrate__sha256_hex("SELECT 1;\n", 10, expect);
	ck_assert_str_eq(migrate_revision_checksum(e), expect);
	migrate__sha256_hex("CREATE TABLE t (id int);\n\n\nSELECT 1;\n"
			    "\n-- migrate:downgrade\nDROP TABLE t;\n",
			    strlen("CREATE TABLE t (id int);\n\n\nSELECT 1;\n"
				   "\n-- migrate:downgrade\nDROP TABLE t;\n"),
			    expect);
	ck_assert_str_eq(migrate_revision_checksum(d), expect);
	migrate_registry_free(reg);
}

END_TEST

START_TEST(test_registry_sha256_vectors)
{
	char out[65];
	char *million;

	migrate__sha256_hex("abc", 3, out);
	ck_assert_str_eq(
		out,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	migrate__sha256_hex("", 0, out);
	ck_assert_str_eq(
		out,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	migrate__sha256_hex(
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		out);
	ck_assert_str_eq(
		out,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	million = malloc(1000000);
	ck_assert_ptr_nonnull(million);
	memset(million, 'a', 1000000);
	migrate__sha256_hex(million, 1000000, out);
	ck_assert_str_eq(
		out,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	migrate__sha256_hex_generic(million, 1000000, out);
	free(million);
	ck_assert_str_eq(
		out,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

END_TEST

/* The CPU's SHA instructions (where it has them; not under valgrind) and
 * the portable code agree at every length around the block boundaries. */
START_TEST(test_registry_sha256_paths_agree)
{
	unsigned char data[300];
	char a[65], b[65];
	size_t i, len;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131u + 7u);
	for (len = 0; len <= sizeof(data); len++) {
		migrate__sha256_hex(data, len, a);
		migrate__sha256_hex_generic(data, len, b);
		ck_assert_msg(strcmp(a, b) == 0, "length %zu: %s vs %s", len, a,
			      b);
	}
}

END_TEST

START_TEST(test_registry_printable)
{
	char out[64];

	migrate__printable(out, sizeof(out), "a\tb\x01\x7f\xc3\xa9", 7);
	ck_assert_str_eq(out, "a?b????");
	migrate__printable(out, sizeof(out),
			   "0123456789012345678901234567890123456789XYZ", 43);
	ck_assert_str_eq(out, "0123456789012345678901234567890123456789...");
	migrate__printable(out, 4, "abcdef", 6);
	ck_assert_str_eq(out, "abc");
}

END_TEST

/* 10,000 revisions through the file parser, in reverse order. */
START_TEST(test_registry_chain_10000_files)
{
	struct migrate_registry *reg = new_reg();
	char file[256], name[32];
	size_t i;

	for (i = 10000; i-- > 0;) {
		int n;

		if (i == 0)
			n = snprintf(file, sizeof(file),
				     "-- Revision ID: r0\n-- Revises:\n"
				     "-- migrate:upgrade\nSELECT 0;\n");
		else
			n = snprintf(file, sizeof(file),
				     "-- step %zu\n-- Revision ID: r%zu\n"
				     "-- Revises: r%zu\n"
				     "-- migrate:upgrade\nSELECT %zu;\n"
				     "-- migrate:downgrade\nSELECT 0;\n",
				     i, i, i - 1, i);
		snprintf(name, sizeof(name), "%05zu.sql", i);
		assert_reg_ok(reg, migrate_registry_parse(reg, name, file,
							  (size_t)n));
	}
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_uint_eq(migrate_registry_count(reg), 10000);
	ck_assert_str_eq(migrate_revision_id(migrate_registry_at(reg, 0)),
			 "r0");
	ck_assert_str_eq(migrate_revision_id(migrate_registry_at(reg, 9999)),
			 "r9999");
	ck_assert_uint_eq(migrate_registry_head_count(reg), 1);
	ck_assert_str_eq(migrate_revision_id(migrate_registry_head(reg, 0)),
			 "r9999");
	migrate_registry_free(reg);
}

END_TEST

/* 100,000 revisions through migrate_registry_add(). */
START_TEST(test_registry_chain_100000)
{
	struct migrate_registry *reg = new_reg();
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	char id[16], parent[16];
	const char *parents[] = { parent };
	const struct migrate_revision *r;
	size_t i;

	def.upgrade_sql = "SELECT 1;";
	def.downgrade_sql = "SELECT 1;";
	def.parents = parents;
	for (i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "c%zu", i);
		snprintf(parent, sizeof(parent), "c%zu", i ? i - 1 : 0);
		def.id = id;
		def.n_parents = i ? 1 : 0;
		assert_reg_ok(reg, migrate_registry_add(reg, &def));
	}
	assert_reg_ok(reg, migrate_registry_validate(reg));
	ck_assert_uint_eq(migrate_registry_count(reg), 100000);
	for (i = 0; i < 100000; i += 9973) {
		snprintf(id, sizeof(id), "c%zu", i);
		ck_assert_str_eq(
			migrate_revision_id(migrate_registry_at(reg, i)), id);
	}
	ck_assert_uint_eq(migrate_registry_head_count(reg), 1);
	ck_assert_str_eq(migrate_revision_id(migrate_registry_head(reg, 0)),
			 "c99999");
	assert_reg_ok(reg, migrate_registry_find(&r, reg, "c5000"));
	ck_assert_str_eq(migrate_revision_id(r), "c5000");
	ck_assert_int_eq(migrate_registry_find(&r, reg, "c9999"), 0);
	ck_assert_int_eq(migrate_registry_find(&r, reg, "c"),
			 MIGRATE_EAMBIGUOUS);
	ck_assert_ptr_nonnull(
		strstr(migrate_registry_errmsg(reg), "(100000 revisions)"));
	migrate_registry_free(reg);
}

END_TEST

/* Getters never clear the registry's message. */
START_TEST(test_registry_getters_keep_message)
{
	struct migrate_registry *reg = test_chain(2, NULL);
	const struct migrate_revision *rev = NULL;

	ck_assert_ptr_nonnull(reg);
	ck_assert_int_eq(migrate_registry_find(&rev, reg, "nope"),
			 MIGRATE_ENOTFOUND);
	ck_assert_str_ne(migrate_registry_errmsg(reg), "");
	ck_assert_uint_eq(migrate_registry_head_count(reg), 1);
	ck_assert_ptr_nonnull(migrate_registry_head(reg, 0));
	ck_assert_ptr_nonnull(migrate_registry_at(reg, 1));
	ck_assert_uint_eq(migrate_registry_count(reg), 2);
	/* The exact-id getter: no prefixes, no symbolic names. */
	ck_assert_ptr_nonnull(migrate_registry_get(reg, "001"));
	ck_assert_str_eq(migrate_revision_id(migrate_registry_get(reg, "002")),
			 "002");
	ck_assert_ptr_null(migrate_registry_get(reg, "00"));
	ck_assert_ptr_null(migrate_registry_get(reg, "head"));
	ck_assert_ptr_null(migrate_registry_get(reg, NULL));
	ck_assert_ptr_null(migrate_registry_get(NULL, "001"));
	assert_contains(migrate_registry_errmsg(reg), "nope");
	migrate_registry_free(reg);
}

END_TEST

Suite *
registry_suite(void)
{
	Suite *s = suite_create("registry");

	add_test(s, test_registry_getters_keep_message);
	add_test(s, test_registry_new_free);
	add_test(s, test_registry_empty);
	add_test(s, test_registry_add_copies);
	add_test(s, test_registry_revision_one_block);
	add_test(s, test_registry_getters_null);
	add_test(s, test_registry_irreversible_and_noop_down);
	add_test(s, test_registry_callbacks);
	add_test(s, test_registry_bad_ids);
	add_test(s, test_registry_bad_defs);
	add_test(s, test_registry_many_parents_duplicate);
	add_test(s, test_registry_duplicate);
	add_test(s, test_registry_duplicate_files);
	add_test(s, test_registry_linear);
	add_test(s, test_registry_topo_insertion_order);
	add_test(s, test_registry_branches_and_merge);
	add_test(s, test_registry_unknown_parent);
	add_test(s, test_registry_cycle);
	add_test(s, test_registry_self_cycle);
	add_test(s, test_registry_cycle_from_files);
	add_test(s, test_registry_long_cycle_capped);
	add_test(s, test_registry_find);
	add_test(s, test_registry_find_ambiguous_capped);
	add_test(s, test_registry_checksum);
	add_test(s, test_registry_sha256_vectors);
	add_test(s, test_registry_sha256_paths_agree);
	add_test(s, test_registry_printable);
	add_test(s, test_registry_chain_10000_files);
	add_test(s, test_registry_chain_100000);
	return s;
}
