/* SPDX-License-Identifier: MIT */
/*
 * The revision registry: revisions by id (open-addressing hash table), the
 * graph of parents and children, its topological order and its heads.
 * Everything is iterative and linear (the topological sort is O(n log n)
 * because of its heap), so 100,000-revision chains are fine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

/* How many ids an error message lists before it says "...". */
#define LIST_MAX 10

/* Longest revision text copied into a message by migrate__printable(). */
#define PRINTABLE_MAX 40

bool
migrate__id_is_valid(const char *id, size_t len)
{
	size_t i;

	if (!id || len == 0 || len > MIGRATE_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = id[i];

		/* Not isalnum(): the locale must not widen the set. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

void
migrate__printable(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i, o = 0;

	if (!outlen)
		return;
	for (i = 0; i < len && i < PRINTABLE_MAX && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Plain ASCII only, so that hostile input cannot put escape
		 * sequences or broken UTF-8 on a terminal. */
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

struct migrate_revision *
migrate__registry_get(const struct migrate_registry *reg, const char *id)
{
	size_t mask, i;

	if (!reg || !id || !reg->table_size)
		return NULL;
	mask = reg->table_size - 1;
	for (i = migrate__hash_id(id) & mask; reg->table[i]; i = (i + 1) & mask)
		if (strcmp(reg->revs[reg->table[i] - 1]->id, id) == 0)
			return reg->revs[reg->table[i] - 1];
	return NULL;
}

static void
table_insert(uint32_t *table, size_t size, const struct migrate_revision *rev)
{
	size_t mask = size - 1, i;

	for (i = migrate__hash_id(rev->id) & mask; table[i]; i = (i + 1) & mask)
		;
	table[i] = rev->index + 1;
}

/* Make room for @n entries with a load factor of at most 3/4 (linear
 * probing stays short; issue 8: half the table of a load factor of 1/2 at
 * 10,000 revisions). */
static bool
table_reserve(struct migrate_registry *reg, size_t n)
{
	uint32_t *table;
	size_t size = reg->table_size ? reg->table_size : 16, i;

	while (size - size / 4 < n) {
		if (size > SIZE_MAX / (2 * sizeof(*table)))
			return false;
		size *= 2;
	}
	if (size == reg->table_size)
		return true;
	table = calloc(size, sizeof(*table));
	if (!table)
		return false;
	for (i = 0; i < reg->n_revs; i++)
		table_insert(table, size, reg->revs[i]);
	free(reg->table);
	reg->table = table;
	reg->table_size = size;
	return true;
}

/*
 * Drop the graph (after an add, or when building it failed). Callers keep
 * the invariant that graph arrays exist only while reg->validated. The
 * revisions' parents and children are offsets in reg->edges (one block for
 * every edge), so nothing is freed one by one.
 */
static void
graph_clear(struct migrate_registry *reg)
{
	size_t i;

	for (i = 0; i < reg->n_revs; i++) {
		struct migrate_revision *rev = reg->revs[i];

		rev->parents_at = 0;
		rev->children_at = 0;
		rev->n_children = 0;
		rev->topo = 0;
	}
	free(reg->topo);
	reg->topo = NULL;
	free(reg->edges);
	reg->edges = NULL;
	free(reg->heads);
	reg->heads = NULL;
	reg->n_heads = 0;
	reg->validated = false;
}

void
migrate__revision_free(struct migrate_revision *rev)
{
	if (!rev)
		return;
	/* SQL a getter read from the file has a block of its own. */
	if (rev->up.in_file)
		free(rev->up.sql);
	if (rev->down.in_file)
		free(rev->down.sql);
	free(rev->text);
	free(rev); /* one block: migrate__revision_alloc() */
}

struct migrate_revision *
migrate__revision_alloc(size_t n_parents,
			struct migrate_revision_code **code,
			size_t strings,
			char **at)
{
	struct migrate_revision *rev;
	size_t head = sizeof(*rev), code_at;

	if (n_parents > (SIZE_MAX - head) / sizeof(char *))
		return NULL;
	head += n_parents * sizeof(char *);
	/* The pointers above keep the callbacks' struct aligned. */
	code_at = head;
	if (code)
		head += sizeof(**code);
	if (strings > SIZE_MAX - head)
		return NULL;
	rev = calloc(1, head + strings);
	if (!rev)
		return NULL;
	if (n_parents)
		rev->parents = (char **)(void *)(rev + 1);
	if (code) {
		*code = (struct migrate_revision_code *)(void *)((char *)rev +
								 code_at);
		rev->has_code = true;
	}
	*at = (char *)rev + head;
	return rev;
}

char *
migrate__revision_put(char **at, const char *s, size_t len)
{
	char *out = *at;

	if (len)
		memcpy(out, s, len);
	out[len] = '\0';
	*at = out + len + 1;
	return out;
}

MIGRATE_EXPORT
int
migrate_registry_new(struct migrate_registry **out)
{
	if (!out)
		return MIGRATE_EINVAL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : MIGRATE_ENOMEM;
}

MIGRATE_EXPORT
void
migrate_registry_free(struct migrate_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	graph_clear(reg);
	for (i = 0; i < reg->n_revs; i++)
		migrate__revision_free(reg->revs[i]);
	free(reg->revs);
	free(reg->table);
	strv_clear(&reg->dirs);
	free(reg);
}

static int
oom(struct migrate_registry *reg)
{
	return migrate__registry_error(reg, MIGRATE_ENOMEM, "out of memory");
}

/* "FILE:LINE", "FILE" or "added in memory", for duplicate messages. */
static void
where(const struct migrate_revision *rev, char *out, size_t outlen)
{
	const char *dir = migrate__revision_dir(rev);
	const char *file = migrate__revision_file(rev);

	if (file && rev->id_line)
		snprintf(out, outlen, "%s%s:%zu", dir, file,
			 (size_t)rev->id_line);
	else if (file)
		snprintf(out, outlen, "%s%s", dir, file);
	else
		snprintf(out, outlen, "a revision added in memory");
}

/* 1 (index of the repeat in *dup) when some id appears twice in @ids, 0
 * when none does, -1 on OOM. Linear on average. */
static int
has_duplicate(char *const *ids, size_t n, size_t *dup)
{
	struct migrate__idset set;
	size_t i, j;

	if (n < 2)
		return 0;
	if (n <= 8) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (strcmp(ids[i], ids[j]) == 0) {
					*dup = i;
					return 1;
				}
		return 0;
	}
	if (!migrate__idset_init(&set, n))
		return -1;
	for (i = 0; i < n; i++) {
		int added = migrate__idset_add(&set, ids[i]);

		if (added <= 0) {
			migrate__idset_free(&set);
			if (added < 0)
				return -1;
			*dup = i;
			return 1;
		}
	}
	migrate__idset_free(&set);
	return 0;
}

/* Make reg->revs hold @cap entries (more than it does). */
static bool
revs_reserve(struct migrate_registry *reg, size_t cap)
{
	struct migrate_revision **revs;

	if (cap <= reg->cap_revs)
		return true;
	if (cap > SIZE_MAX / sizeof(*revs))
		return false;
	revs = realloc(reg->revs, cap * sizeof(*revs));
	if (!revs)
		return false;
	reg->revs = revs;
	reg->cap_revs = cap;
	return true;
}

int
migrate__registry_reserve(struct migrate_registry *reg, size_t n)
{
	if (n > SIZE_MAX - reg->n_revs || !revs_reserve(reg, reg->n_revs + n) ||
	    !table_reserve(reg, reg->n_revs + n))
		return oom(reg);
	return 0;
}

int
migrate__registry_add_rev(struct migrate_registry *reg,
			  struct migrate_revision *rev)
{
	struct migrate_revision *existing;
	size_t dup = 0;
	int rc;

	rc = has_duplicate(rev->parents, rev->n_parents, &dup);
	if (rc < 0) {
		rc = oom(reg);
		goto fail;
	}
	if (rc > 0) {
		if (rev->has_file)
			rc = migrate__registry_error(
				reg, MIGRATE_EPARSE,
				"%s%s:%zu: revision %s lists parent '%s' twice",
				migrate__revision_dir(rev),
				migrate__revision_file(rev),
				(size_t)rev->revises_line, rev->id,
				rev->parents[dup]);
		else
			rc = migrate__registry_error(
				reg, MIGRATE_EINVAL,
				"revision %s lists parent '%s' twice", rev->id,
				rev->parents[dup]);
		goto fail;
	}
	existing = migrate__registry_get(reg, rev->id);
	if (existing) {
		char a[1024], b[1024];

		if (!existing->has_file && !rev->has_file) {
			rc = migrate__registry_error(
				reg, MIGRATE_ECONFLICT,
				"duplicate revision id '%s'", rev->id);
		} else if (rev->has_file) {
			/* Lead with the new file's position, like every other
			 * revision-file error, and name the first one. */
			where(existing, a, sizeof(a));
			where(rev, b, sizeof(b));
			rc = migrate__registry_error(
				reg, MIGRATE_ECONFLICT,
				"%s: duplicate revision id '%s' (first defined at %s)",
				b, rev->id, a);
		} else {
			where(existing, a, sizeof(a));
			rc = migrate__registry_error(
				reg, MIGRATE_ECONFLICT,
				"duplicate revision id '%s' (first defined at %s)",
				rev->id, a);
		}
		goto fail;
	}
	/* Indexes are 32 bits (struct migrate_revision). */
	if (reg->n_revs >= UINT32_MAX - 1) {
		rc = oom(reg);
		goto fail;
	}
	if (reg->n_revs == reg->cap_revs &&
	    !revs_reserve(reg, reg->cap_revs ? reg->cap_revs * 2 : 16)) {
		rc = oom(reg);
		goto fail;
	}
	if (!table_reserve(reg, reg->n_revs + 1)) {
		rc = oom(reg);
		goto fail;
	}
	/* Nothing can fail from here on: the registry changes only now. A
	 * parsed file comes with its checksum (migrate__revision_parse()). */
	if (!rev->has_checksum)
		migrate__revision_checksum(rev);
	/* Graph arrays exist only while validated (a failed build frees
	 * them), so this is O(1) on the usual add-add-add-validate path. */
	if (reg->validated)
		graph_clear(reg);
	rev->index = (uint32_t)reg->n_revs;
	reg->revs[reg->n_revs++] = rev;
	table_insert(reg->table, reg->table_size, rev);
	return 0;

fail:
	migrate__revision_free(rev);
	return rc;
}

static bool
is_blank(const char *s)
{
	for (; *s; s++)
		if (!(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		      *s == '\f' || *s == '\v'))
			return false;
	return true;
}

/* Check a definition before anything is allocated. */
static int
check_def(struct migrate_registry *reg, const struct migrate_revision_def *def)
{
	char shown[64];
	size_t i;

	if (!def)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "no revision definition given");
	if (!migrate__version_ok(def->version, MIGRATE_REVISION_DEF_VERSION))
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"unsupported migrate_revision_def version %u",
			def->version);
	if (!def->id)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "revision without an id");
	if (!migrate__id_is_valid(def->id, strlen(def->id))) {
		migrate__printable(shown, sizeof(shown), def->id,
				   strlen(def->id));
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"invalid revision id '%s': ids are 1-32 characters of [A-Za-z0-9_]",
			shown);
	}
	if (def->n_parents > UINT32_MAX - 1)
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s: n_parents is %zu (at most %u)", def->id,
			def->n_parents, UINT32_MAX - 1);
	if (def->n_parents && !def->parents)
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s: n_parents is %zu but parents is NULL",
			def->id, def->n_parents);
	for (i = 0; i < def->n_parents; i++) {
		const char *p = def->parents[i];

		if (!p)
			return migrate__registry_error(
				reg, MIGRATE_EINVAL,
				"revision %s: parent %zu is NULL", def->id, i);
		if (!migrate__id_is_valid(p, strlen(p))) {
			migrate__printable(shown, sizeof(shown), p, strlen(p));
			return migrate__registry_error(
				reg, MIGRATE_EINVAL,
				"revision %s: invalid parent id '%s'", def->id,
				shown);
		}
	}
	if (def->upgrade_sql && def->upgrade_fn)
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s has both upgrade_sql and upgrade_fn",
			def->id);
	if (!def->upgrade_fn &&
	    (!def->upgrade_sql || is_blank(def->upgrade_sql)))
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s has no upgrade (empty upgrade_sql and no upgrade_fn)",
			def->id);
	if (def->downgrade_sql && def->downgrade_fn)
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s has both downgrade_sql and downgrade_fn",
			def->id);
	if (def->flags & ~(unsigned int)(MIGRATE_REV_UP_NO_TRANSACTION |
					 MIGRATE_REV_DOWN_NO_TRANSACTION))
		return migrate__registry_error(
			reg, MIGRATE_EINVAL, "revision %s: unknown flags 0x%x",
			def->id, def->flags);
	if (def->up_lock_timeout_ms < -1 || def->up_statement_timeout_ms < -1 ||
	    def->down_lock_timeout_ms < -1 ||
	    def->down_statement_timeout_ms < -1)
		return migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision %s: timeouts must be -1 (default), 0 (none) or positive",
			def->id);
	return 0;
}

/* @len plus a string of @n bytes and its NUL; 0 on overflow (which
 * migrate__revision_alloc() then refuses). */
static size_t
add_len(size_t len, size_t n)
{
	if (!len || n >= SIZE_MAX - len)
		return 0;
	return len + n + 1;
}

MIGRATE_EXPORT
int
migrate_registry_add(struct migrate_registry *reg,
		     const struct migrate_revision_def *def)
{
	struct migrate_revision_code *code = NULL;
	struct migrate_revision *rev;
	bool with_code;
	size_t i, len;
	char *at;
	int rc;

	if (!reg)
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	rc = check_def(reg, def);
	if (rc)
		return rc;
	/* Sizes first: the strings live in the revision's one block. */
	len = strlen(def->id) + 1;
	len = add_len(len, def->message ? strlen(def->message) : 0);
	len = add_len(len, 0); /* create_date "" */
	for (i = 0; i < def->n_parents; i++)
		len = add_len(len, strlen(def->parents[i]));
	if (def->upgrade_sql)
		len = add_len(len, strlen(def->upgrade_sql));
	if (def->downgrade_sql)
		len = add_len(len, strlen(def->downgrade_sql));
	with_code = def->upgrade_fn || def->downgrade_fn || def->payload;
	rev = len ? migrate__revision_alloc(def->n_parents,
					    with_code ? &code : NULL, len, &at)
		  : NULL;
	if (!rev)
		return oom(reg);
	/* In the order of struct migrate_revision: id, message, date. */
	rev->id = migrate__revision_put(&at, def->id, strlen(def->id));
	migrate__revision_put(&at, def->message ? def->message : "",
			      def->message ? strlen(def->message) : 0);
	migrate__revision_put(&at, "", 0);
	rev->n_parents = (uint32_t)def->n_parents; /* check_def() */
	for (i = 0; i < def->n_parents; i++)
		rev->parents[i] = migrate__revision_put(
			&at, def->parents[i], strlen(def->parents[i]));

	rev->up.present = true;
	rev->up.transactional = !(def->flags & MIGRATE_REV_UP_NO_TRANSACTION);
	rev->up.lock_timeout_ms = def->up_lock_timeout_ms;
	rev->up.statement_timeout_ms = def->up_statement_timeout_ms;
	if (def->upgrade_sql)
		rev->up.sql = migrate__revision_put(&at, def->upgrade_sql,
						    strlen(def->upgrade_sql));
	rev->down.present = def->downgrade_sql || def->downgrade_fn;
	rev->down.transactional =
		!(def->flags & MIGRATE_REV_DOWN_NO_TRANSACTION);
	rev->down.lock_timeout_ms = def->down_lock_timeout_ms;
	rev->down.statement_timeout_ms = def->down_statement_timeout_ms;
	if (def->downgrade_sql)
		rev->down.sql = migrate__revision_put(
			&at, def->downgrade_sql, strlen(def->downgrade_sql));
	if (code) {
		code->up = def->upgrade_fn;
		code->down = def->downgrade_fn;
		code->payload = def->payload;
	}
	return migrate__registry_add_rev(reg, rev);
}

/* Binary min-heap of insertion indices: ties in the topological sort go
 * to the revision added first. */
static void
heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (heap[parent] <= v)
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = v;
}

static size_t
heap_pop(size_t *heap, size_t *n)
{
	size_t top = heap[0], last = heap[--*n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (last <= heap[c])
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = last;
	return top;
}

static int
unknown_parent(struct migrate_registry *reg,
	       const struct migrate_revision *rev,
	       const char *parent)
{
	if (rev->has_file)
		return migrate__registry_error(
			reg, MIGRATE_ECONFLICT,
			"%s%s:%zu: revision %s revises unknown revision '%s'",
			migrate__revision_dir(rev), migrate__revision_file(rev),
			(size_t)rev->revises_line, rev->id, parent);
	return migrate__registry_error(
		reg, MIGRATE_ECONFLICT,
		"revision %s revises unknown revision '%s'", rev->id, parent);
}

static struct migrate_revision *
cycle_member(struct migrate_revision **path, size_t start, size_t len, size_t m)
{
	return m == 0 ? path[start] : path[len - m];
}

/*
 * Report a cycle. Every revision left over by Kahn's algorithm still has a
 * parent that is left over, so walking parents from one of them must come
 * back to a revision already seen: that loop is a cycle. @indeg tells the
 * left-over revisions (> 0), @mark (zeroed, n entries) and @path (room for
 * every left-over revision) are scratch space.
 */
static int
cycle_error(struct migrate_registry *reg,
	    const size_t *indeg,
	    size_t *mark,
	    struct migrate_revision **path)
{
	struct migrate_revision *v = NULL, *first;
	char list[LIST_MAX * (MIGRATE_ID_MAX + 4) + 64];
	size_t i, len = 0, start, k, lo, shown, used;

	for (i = 0; i < reg->n_revs; i++) {
		if (indeg[i]) {
			v = reg->revs[i];
			break;
		}
	}
	while (!mark[v->index]) {
		struct migrate_revision *next = NULL;

		mark[v->index] = len + 1;
		path[len++] = v;
		for (i = 0; i < v->n_parents; i++) {
			struct migrate_revision *par =
				migrate__parent(reg, v, i);

			if (indeg[par->index]) {
				next = par;
				break;
			}
		}
		v = next;
	}
	/* path[start..len) walks child -> parent; print parent -> child
	 * (member m = 0 is path[start], m >= 1 is path[len - m]), starting
	 * at the member added first so that the message is stable. */
	start = mark[v->index] - 1;
	k = len - start;
	lo = 0;
	for (i = 1; i < k; i++)
		if (cycle_member(path, start, len, i)->index <
		    cycle_member(path, start, len, lo)->index)
			lo = i;
	used = 0;
	list[0] = '\0';
	shown = k < LIST_MAX ? k : LIST_MAX;
	for (i = 0; i <= shown; i++) {
		const struct migrate_revision *r =
			cycle_member(path, start, len, (lo + i) % k);

		if (i == shown && shown < k) {
			snprintf(list + used, sizeof(list) - used,
				 " -> ... (%zu revisions in the cycle)", k);
			break;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? " -> " : "", r->id);
	}
	first = cycle_member(path, start, len, lo);
	if (first->has_file)
		return migrate__registry_error(
			reg, MIGRATE_ECONFLICT, "%s%s:%zu: revision cycle: %s",
			migrate__revision_dir(first),
			migrate__revision_file(first),
			(size_t)first->revises_line, list);
	return migrate__registry_error(reg, MIGRATE_ECONFLICT,
				       "revision cycle: %s", list);
}

static int
build_graph(struct migrate_registry *reg)
{
	struct migrate_revision **heads;
	uint32_t parents = 0, children;
	size_t n = reg->n_revs, i, j, edges = 0, *indeg = NULL, *heap = NULL;
	size_t nheap = 0, ntopo = 0, nheads = 0;
	int rc;

	if (n == 0)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "no revisions");
	/* Edges are 32-bit offsets (struct migrate_revision). */
	for (i = 0; i < n; i++) {
		if (reg->revs[i]->n_parents > UINT32_MAX / 2 - edges)
			return oom(reg);
		edges += reg->revs[i]->n_parents;
	}
	reg->topo = calloc(n, sizeof(*reg->topo));
	reg->edges = calloc(2 * edges + 1, sizeof(*reg->edges));
	if (!reg->topo || !reg->edges) {
		rc = oom(reg);
		goto fail;
	}
	children = (uint32_t)edges;

	/* Resolve parents, count children. */
	for (i = 0; i < n; i++) {
		struct migrate_revision *rev = reg->revs[i];

		rev->parents_at = parents;
		parents += rev->n_parents;
		for (j = 0; j < rev->n_parents; j++) {
			struct migrate_revision *p =
				migrate__registry_get(reg, rev->parents[j]);

			if (!p) {
				rc = unknown_parent(reg, rev, rev->parents[j]);
				goto fail;
			}
			reg->edges[rev->parents_at + j] = p->index;
			p->n_children++; /* counted here, filled below */
		}
	}
	/* Children, in insertion order of the child. */
	for (i = 0; i < n; i++) {
		struct migrate_revision *rev = reg->revs[i];

		rev->children_at = children;
		children += rev->n_children;
		rev->n_children = 0;
	}
	for (i = 0; i < n; i++) {
		struct migrate_revision *rev = reg->revs[i];

		for (j = 0; j < rev->n_parents; j++) {
			struct migrate_revision *p =
				migrate__parent(reg, rev, j);

			reg->edges[p->children_at + p->n_children++] =
				rev->index;
		}
	}

	/* Kahn's algorithm with a min-heap on the insertion index. */
	indeg = calloc(n, sizeof(*indeg));
	heap = calloc(n, sizeof(*heap));
	if (!indeg || !heap) {
		rc = oom(reg);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		indeg[i] = reg->revs[i]->n_parents;
		if (!indeg[i])
			heap_push(heap, &nheap, i);
	}
	while (nheap) {
		struct migrate_revision *rev =
			reg->revs[heap_pop(heap, &nheap)];

		rev->topo = ntopo;
		reg->topo[ntopo++] = rev;
		for (j = 0; j < rev->n_children; j++) {
			size_t c = reg->edges[rev->children_at + j];

			if (--indeg[c] == 0)
				heap_push(heap, &nheap, c);
		}
	}
	if (ntopo < n) {
		memset(heap, 0, n * sizeof(*heap));
		rc = cycle_error(reg, indeg, heap, reg->topo + ntopo);
		goto fail;
	}

	for (i = 0; i < n; i++)
		if (!reg->topo[i]->n_children)
			nheads++;
	heads = calloc(nheads, sizeof(*heads));
	if (!heads) {
		rc = oom(reg);
		goto fail;
	}
	nheads = 0;
	for (i = 0; i < n; i++)
		if (!reg->topo[i]->n_children)
			heads[nheads++] = reg->topo[i];

	free(indeg);
	free(heap);
	reg->heads = heads;
	reg->n_heads = nheads;
	reg->validated = true;
	return 0;

fail:
	free(indeg);
	free(heap);
	graph_clear(reg);
	return rc;
}

MIGRATE_EXPORT
int
migrate_registry_validate(struct migrate_registry *reg)
{
	if (!reg)
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	if (reg->validated)
		return 0;
	return build_graph(reg);
}

/* The graph for getters: built when needed, without clearing the
 * registry's message (getters never clear one). */
static int
graph_ready(struct migrate_registry *reg)
{
	return reg->validated ? 0 : build_graph(reg);
}

MIGRATE_EXPORT
const struct migrate_revision *
migrate_registry_get(const struct migrate_registry *reg, const char *id)
{
	return migrate__registry_get(reg, id);
}

MIGRATE_EXPORT
size_t
migrate_registry_count(const struct migrate_registry *reg)
{
	return reg ? reg->n_revs : 0;
}

MIGRATE_EXPORT
const struct migrate_revision *
migrate_registry_at(struct migrate_registry *reg, size_t i)
{
	if (!reg || graph_ready(reg) != 0)
		return NULL;
	if (i >= reg->n_revs) {
		migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"revision index %zu out of range (%zu revisions)", i,
			reg->n_revs);
		return NULL;
	}
	return reg->topo[i];
}

MIGRATE_EXPORT
size_t
migrate_registry_head_count(struct migrate_registry *reg)
{
	if (!reg || graph_ready(reg) != 0)
		return 0;
	return reg->n_heads;
}

MIGRATE_EXPORT
const struct migrate_revision *
migrate_registry_head(struct migrate_registry *reg, size_t i)
{
	if (!reg || graph_ready(reg) != 0)
		return NULL;
	if (i >= reg->n_heads) {
		migrate__registry_error(
			reg, MIGRATE_EINVAL,
			"head index %zu out of range (%zu heads)", i,
			reg->n_heads);
		return NULL;
	}
	return reg->heads[i];
}

MIGRATE_EXPORT
int
migrate_registry_find(const struct migrate_revision **out,
		      struct migrate_registry *reg,
		      const char *id_or_prefix)
{
	const struct migrate_revision *match = NULL;
	char list[LIST_MAX * (MIGRATE_ID_MAX + 2) + 64], shown[64];
	size_t len, i, count = 0, used = 0;

	if (out)
		*out = NULL;
	if (!reg)
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	if (!out || !id_or_prefix)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "no revision id given");
	match = migrate__registry_get(reg, id_or_prefix);
	if (match) {
		*out = match;
		return 0;
	}
	len = strlen(id_or_prefix);
	list[0] = '\0';
	/* An empty or over-long prefix cannot name a revision. */
	if (len && len <= MIGRATE_ID_MAX) {
		for (i = 0; i < reg->n_revs; i++) {
			const struct migrate_revision *rev = reg->revs[i];

			if (strncmp(rev->id, id_or_prefix, len) != 0)
				continue;
			if (count < LIST_MAX)
				used += (size_t)snprintf(
					list + used, sizeof(list) - used,
					"%s%s", count ? ", " : "", rev->id);
			if (!count)
				match = rev;
			count++;
		}
	}
	migrate__printable(shown, sizeof(shown), id_or_prefix, len);
	if (count == 1) {
		*out = match;
		return 0;
	}
	if (count == 0)
		return migrate__registry_error(reg, MIGRATE_ENOTFOUND,
					       "unknown revision '%s'", shown);
	if (count > LIST_MAX)
		snprintf(list + used, sizeof(list) - used,
			 ", ... (%zu revisions)", count);
	return migrate__registry_error(reg, MIGRATE_EAMBIGUOUS,
				       "revision prefix '%s' is ambiguous: %s",
				       shown, list);
}

/* ------------------------------------------------------------------ */
/* Revision getters                                                    */
/* ------------------------------------------------------------------ */

/* The length of @rev's file: its directory and its name (0: no file). */
static size_t
path_len(const struct migrate_revision *rev)
{
	const char *file = migrate__revision_file(rev);

	return file ? strlen(migrate__revision_dir(rev)) + strlen(file) : 0;
}

/* @rev's file into @out (path_len() + 1 bytes). */
static void
path_copy(char *out, const struct migrate_revision *rev)
{
	const char *dir = migrate__revision_dir(rev);
	const char *file = migrate__revision_file(rev);
	size_t d = strlen(dir);

	if (!file) {
		*out = '\0';
		return;
	}
	memcpy(out, dir, d);
	memcpy(out + d, file, strlen(file) + 1);
}

char *
migrate__revision_path(const struct migrate_revision *rev)
{
	char *path = malloc(path_len(rev) + 1);

	if (path)
		path_copy(path, rev);
	return path;
}

/*
 * The texts of migrate_revision_checksum() and migrate_revision_file(),
 * made on the first call and kept (the revision holds the checksum in 32
 * bytes and its directory once for all: issue 8), set atomically as
 * section_sql_kept() does; NULL when out of memory.
 */
static const struct migrate_revision_text *
revision_text(const struct migrate_revision *rev)
{
	struct migrate_revision_text *held, *made, *expected = NULL;

	held = __atomic_load_n(&rev->text, __ATOMIC_ACQUIRE);
	if (held)
		return held;
	made = malloc(sizeof(*made) + path_len(rev) + 1);
	if (!made)
		return NULL;
	migrate__revision_hex(rev, made->checksum);
	path_copy(made->file, rev);
	/* The registry is not written through a getter but for this one
	 * cache, which the revision owns (migrate__revision_free()). */
	if (!__atomic_compare_exchange_n(
		    (struct migrate_revision_text **)&rev->text, &expected,
		    made, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		free(made); /* another thread was first */
		return expected;
	}
	return made;
}

MIGRATE_EXPORT
const char *
migrate_revision_id(const struct migrate_revision *rev)
{
	return rev ? rev->id : NULL;
}

MIGRATE_EXPORT
const char *
migrate_revision_message(const struct migrate_revision *rev)
{
	return rev ? migrate__revision_message(rev) : "";
}

MIGRATE_EXPORT
const char *
migrate_revision_create_date(const struct migrate_revision *rev)
{
	return rev ? migrate__revision_date(rev) : "";
}

MIGRATE_EXPORT
const char *
migrate_revision_file(const struct migrate_revision *rev)
{
	const struct migrate_revision_text *text;

	if (!rev || !rev->dir)
		return rev ? migrate__revision_file(rev) : NULL;
	text = revision_text(rev);
	/* Out of memory: the name without its directory. */
	return text ? text->file : migrate__revision_file(rev);
}

MIGRATE_EXPORT
size_t
migrate_revision_parent_count(const struct migrate_revision *rev)
{
	return rev ? rev->n_parents : 0;
}

MIGRATE_EXPORT
const char *
migrate_revision_parent(const struct migrate_revision *rev, size_t i)
{
	if (!rev || i >= rev->n_parents)
		return NULL;
	return rev->parents[i];
}

/*
 * A section's SQL for the getters: held, or read from the file now
 * (migrate__section_sql()) and kept from then on, set atomically so that
 * readers on other threads see the text or NULL, never a part; NULL when
 * the file no longer has the revision's checksum.
 */
static const char *
section_sql_kept(const struct migrate_revision *rev, int direction)
{
	const struct migrate_section *sec =
		direction == MIGRATE_DOWN ? &rev->down : &rev->up;
	struct migrate_sql_ref ref;
	char *held = __atomic_load_n(&sec->sql, __ATOMIC_ACQUIRE), *copy,
	     *expected = NULL;

	if (held || !sec->in_file)
		return held;
	if (migrate__section_sql(&ref, rev, direction, NULL) != 0)
		return NULL;
	copy = xstrdup(ref.sql);
	migrate__sql_ref_drop(&ref);
	if (!copy)
		return NULL;
	/* The registry is not written through a getter but for this one
	 * cache, which the revision owns (migrate__revision_free()). */
	if (!__atomic_compare_exchange_n((char **)&sec->sql, &expected, copy,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(copy); /* another thread was first */
		return expected;
	}
	return copy;
}

MIGRATE_EXPORT
const char *
migrate_revision_upgrade_sql(const struct migrate_revision *rev)
{
	return rev ? section_sql_kept(rev, MIGRATE_UP) : NULL;
}

MIGRATE_EXPORT
const char *
migrate_revision_downgrade_sql(const struct migrate_revision *rev)
{
	return rev ? section_sql_kept(rev, MIGRATE_DOWN) : NULL;
}

MIGRATE_EXPORT
int
migrate_registry_read_sql(char **out,
			  struct migrate_registry *reg,
			  const struct migrate_revision *rev,
			  int direction)
{
	const struct migrate_section *sec;
	struct migrate_sql_ref ref;
	int rc;

	if (out)
		*out = NULL;
	if (!out || !reg || !rev ||
	    (direction != MIGRATE_UP && direction != MIGRATE_DOWN))
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	sec = direction == MIGRATE_DOWN ? &rev->down : &rev->up;
	if (!migrate__section_has_sql(sec))
		return 0;
	rc = migrate__section_sql(&ref, rev, direction, &reg->diag);
	if (rc)
		return rc;
	*out = xstrdup(ref.sql);
	migrate__sql_ref_drop(&ref);
	return *out ? 0 : oom(reg);
}

MIGRATE_EXPORT
int
migrate_revision_is_reversible(const struct migrate_revision *rev)
{
	return rev && rev->down.present ? 1 : 0;
}

MIGRATE_EXPORT
size_t
migrate_revision_sql_line(const struct migrate_revision *rev, int direction)
{
	const struct migrate_section *sec;

	if (!rev)
		return 0;
	sec = direction == MIGRATE_DOWN ? &rev->down : &rev->up;
	return migrate__section_has_sql(sec) ? sec->first_line : 0;
}

MIGRATE_EXPORT
int
migrate_revision_is_transactional(const struct migrate_revision *rev,
				  int direction)
{
	const struct migrate_section *sec;

	if (!rev)
		return 1;
	sec = direction == MIGRATE_DOWN ? &rev->down : &rev->up;
	return !sec->present || sec->transactional ? 1 : 0;
}

MIGRATE_EXPORT
const char *
migrate_revision_checksum(const struct migrate_revision *rev)
{
	const struct migrate_revision_text *text;

	if (!rev || !rev->has_checksum)
		return "";
	text = revision_text(rev);
	return text ? text->checksum : "";
}
