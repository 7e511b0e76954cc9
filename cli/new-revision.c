/* SPDX-License-Identifier: MIT */
/*
 * `migrate revision -m MESSAGE`: write the next revision file from a
 * template. Needs no database; never overwrites a file (O_EXCL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmigrate.h>

#include "cli.h"

#define SLUG_MAX 40

static bool
all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

static bool
id_taken(struct migrate_registry *reg, const char *id)
{
	return migrate_registry_get(reg, id) != NULL;
}

static void
random_hex_id(char *out, size_t outlen)
{
	unsigned char bytes[6];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd >= 0) {
		ok = read(fd, bytes, sizeof(bytes)) == (ssize_t)sizeof(bytes);
		close(fd);
	}
	if (!ok) {
		/* No /dev/urandom: mix the clock and the pid. */
		struct timespec ts;
		unsigned long long x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (unsigned long long)ts.tv_nsec * 2654435761ULL ^
		    (unsigned long long)ts.tv_sec << 20 ^
		    (unsigned long long)getpid();
		for (i = 0; i < sizeof(bytes); i++)
			bytes[i] = (unsigned char)(x >> (8 * i));
	}
	for (i = 0; i < sizeof(bytes) && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/* Next id: one more than the highest all-digit id, at least 3 digits
 * ("001" for an empty directory); else a random 12-digit hex id. */
static void
next_id(struct migrate_registry *reg, char *out, size_t outlen)
{
	size_t i, n = migrate_registry_count(reg);
	unsigned long long max = 0;
	bool numeric = n == 0;
	int width = 3, tries;

	for (i = 0; i < n; i++) {
		const char *id =
			migrate_revision_id(migrate_registry_at(reg, i));
		size_t len = strlen(id);

		if (!all_digits(id) || len > 18)
			continue;
		numeric = true;
		if (strtoull(id, NULL, 10) >= max) {
			max = strtoull(id, NULL, 10);
			if ((int)len > width)
				width = (int)len;
		}
	}
	if (numeric) {
		snprintf(out, outlen, "%0*llu", width, max + 1);
		return;
	}
	for (tries = 0; tries < 16; tries++) {
		random_hex_id(out, outlen);
		if (!id_taken(reg, out))
			return;
	}
}

/* "Add foo column!" -> "add_foo_column" */
static void
slugify(const char *msg, char *out, size_t outlen)
{
	size_t n = 0;
	bool sep = false;

	for (; *msg && n + 1 < outlen && n < SLUG_MAX; msg++) {
		unsigned char ch = (unsigned char)*msg;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (sep && n > 0)
				out[n++] = '_';
			sep = false;
			if (n + 1 < outlen)
				out[n++] = (char)ch;
		} else if (ch >= 'A' && ch <= 'Z') {
			if (sep && n > 0)
				out[n++] = '_';
			sep = false;
			if (n + 1 < outlen)
				out[n++] = (char)(ch - 'A' + 'a');
		} else {
			sep = true;
		}
	}
	while (n > 0 && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, outlen, "revision");
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Add @id (borrowed from the registry) to @v unless it is there. */
static void
add_parent(const char **v, size_t *n, const char *id)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp(v[i], id) == 0)
			return;
	}
	v[(*n)++] = id;
}

/* The parents of a merge: the arguments (ids, unique prefixes, or "heads"
 * for every head), at least two different ones. Returns an exit code. */
static int
merge_parents(struct cli *c, const char ***out, size_t *n_out)
{
	size_t i, k,
		n_heads = migrate_registry_count(c->reg)
				  ? migrate_registry_head_count(c->reg)
				  : 0;
	const char **v = calloc(c->nargs + n_heads + 1, sizeof(*v));
	size_t n = 0;

	if (!v) {
		cli_errorf("out of memory");
		return CLI_EXIT_DATABASE;
	}
	for (i = 0; i < c->nargs; i++) {
		const struct migrate_revision *rev = NULL;
		int rc;

		if (strcmp(c->args[i], "heads") == 0) {
			for (k = 0; k < n_heads; k++)
				add_parent(v, &n,
					   migrate_revision_id(
						   migrate_registry_head(c->reg,
									 k)));
			continue;
		}
		rc = migrate_registry_find(&rev, c->reg, c->args[i]);
		if (rc < 0 || !rev) {
			cli_print_error(migrate_registry_errmsg(c->reg), NULL,
					rc < 0 ? rc : MIGRATE_ENOTFOUND);
			free(v);
			return CLI_EXIT_USAGE;
		}
		add_parent(v, &n, migrate_revision_id(rev));
	}
	if (n < 2) {
		cli_errorf(
			"merge needs two or more different revisions (this build has %zu head%s)",
			n_heads, n_heads == 1 ? "" : "s");
		free(v);
		return CLI_EXIT_USAGE;
	}
	*out = v;
	*n_out = n;
	return CLI_EXIT_OK;
}

static int
new_revision(struct cli *c, bool merge)
{
	const char *dir = c->revisions_dir ? c->revisions_dir : "revisions";
	char id[64], slug[SLUG_MAX + 1], date[32], *path = NULL, *text = NULL;
	char *msg = NULL;
	const char **parents = NULL;
	size_t i, n_heads = 0, len;
	time_t now = time(NULL);
	struct tm tm;
	int code, fd, wrc;
	FILE *mem = NULL;

	if (!c->message || !*c->message) {
		cli_errorf("'%s' needs -m MESSAGE", c->command);
		fprintf(stderr, "usage: migrate [OPTIONS] %s -m MESSAGE%s\n",
			c->command, merge ? " REV REV..." : "");
		return CLI_EXIT_USAGE;
	}
	c->revisions_dir = dir;
	code = cli_load_registry(c, true, false);
	if (code != CLI_EXIT_OK)
		return code;
	if (merge) {
		code = merge_parents(c, &parents, &n_heads);
		if (code != CLI_EXIT_OK)
			return code;
	} else {
		n_heads = migrate_registry_count(c->reg)
				  ? migrate_registry_head_count(c->reg)
				  : 0;
		parents = calloc(n_heads + 1, sizeof(*parents));
		if (!parents) {
			cli_errorf("out of memory");
			return CLI_EXIT_DATABASE;
		}
		for (i = 0; i < n_heads; i++)
			parents[i] = migrate_revision_id(
				migrate_registry_head(c->reg, i));
	}

	/* The message goes on one comment line. */
	msg = malloc(strlen(c->message) + 1);
	if (!msg) {
		cli_errorf("out of memory");
		return CLI_EXIT_DATABASE;
	}
	for (i = 0; c->message[i]; i++) {
		char ch = c->message[i];

		msg[i] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
	}
	msg[i] = '\0';

	next_id(c->reg, id, sizeof(id));
	slugify(msg, slug, sizeof(slug));
	if (!localtime_r(&now, &tm) ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		snprintf(date, sizeof(date), "1970-01-01");

	len = strlen(dir) + strlen(id) + strlen(slug) + 8;
	path = malloc(len);
	mem = open_memstream(&text, &len);
	if (!path || !mem) {
		cli_errorf("out of memory");
		code = CLI_EXIT_DATABASE;
		goto out;
	}
	snprintf(path, strlen(dir) + strlen(id) + strlen(slug) + 8,
		 "%s/%s_%s.sql", dir, id, slug);

	fprintf(mem,
		"-- %s\n"
		"--\n"
		"-- Revision ID: %s\n"
		"-- Revises:",
		msg, id);
	for (i = 0; i < n_heads; i++)
		fprintf(mem, "%s%s", i ? ", " : " ", parents[i]);
	if (merge) {
		/* A merge runs nothing; empty=true says so (a blank upgrade
		 * without it is refused as unfinished). */
		fprintf(mem,
			"\n"
			"-- Create Date: %s\n"
			"\n"
			"-- migrate:upgrade empty=true\n"
			"-- A merge of %zu branches: nothing to run. To run SQL here, remove empty=true.\n"
			"\n"
			"-- migrate:downgrade empty=true\n",
			date, n_heads);
	} else {
		/* An unedited upgrade section holds only comments, which the
		 * parser rejects ("empty upgrade section"); an unedited
		 * downgrade fails when run instead of silently doing
		 * nothing. */
		fprintf(mem,
			"\n"
			"-- Create Date: %s\n"
			"\n"
			"-- migrate:upgrade\n"
			"-- Write the upgrade SQL here. It runs in one transaction with the\n"
			"-- version update (for CREATE INDEX CONCURRENTLY and the like, add\n"
			"-- transaction=false after the marker above).\n"
			"\n"
			"\n"
			"-- migrate:downgrade\n"
			"-- Replace the statement below with the SQL that undoes the upgrade,\n"
			"-- or delete this section to make the revision irreversible.\n"
			"DO $$ BEGIN RAISE EXCEPTION 'the downgrade of revision %s is not written yet'; END $$;\n",
			date, id);
	}
	if (fclose(mem) != 0) {
		mem = NULL;
		cli_errorf("out of memory");
		code = CLI_EXIT_DATABASE;
		goto out;
	}
	mem = NULL;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_errorf("cannot create %s: %s", path, strerror(errno));
		code = CLI_EXIT_REVISIONS;
		goto out;
	}
	wrc = write_all(fd, text, len);
	if (close(fd) != 0)
		wrc = -1;
	if (wrc != 0) {
		cli_errorf("cannot write %s: %s", path, strerror(errno));
		unlink(path);
		code = CLI_EXIT_REVISIONS;
		goto out;
	}
	if (c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_string(&j, "file", path);
		json_string(&j, "id", id);
		json_begin_array(&j, "parents");
		for (i = 0; i < n_heads; i++)
			json_string(&j, NULL, parents[i]);
		json_end_array(&j);
		cli_json_end(c, &j);
	} else if (c->quiet)
		printf("%s\n", path);
	else
		printf(merge ? "created %s: merge revision %s\n"
			     : "created %s: revision %s, edit it, then 'migrate upgrade'\n",
		       path, id);
	code = CLI_EXIT_OK;
out:
	if (mem)
		fclose(mem);
	free(text);
	free(path);
	free(msg);
	free(parents);
	return code;
}

int
cmd_revision(struct cli *c)
{
	return new_revision(c, false);
}

int
cmd_merge(struct cli *c)
{
	return new_revision(c, true);
}
