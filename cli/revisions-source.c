/* SPDX-License-Identifier: MIT */
/*
 * Where `migrate` takes its revisions from: the one owner of that rule.
 *
 *   1. --revisions DIR, else $MIGRATE_REVISIONS (both in c->revisions_dir:
 *      the option table reads the environment, the command line wins)
 *   2. the revisions embedded at build time, when the binary has some
 *      (Mirage's mirage-migrate; the generic `migrate` has none)
 *   3. ./revisions when it exists
 *   4. none: refuse, saying how to give them
 *
 * A binary with embedded revisions run where ./revisions holds a revision
 * file it does not embed, or embeds with other bytes (a new revision after
 * `make migration`, an edit), is stale: reads warn, writes refuse, and both
 * name the fix (rebuild, or --revisions revisions).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmigrate.h>

#include "cli.h"
#include "embedded-revisions.h"

#define LOCAL_DIR "revisions"

static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
ends_with_sql(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sql") == 0;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Does the file DIR/NAME hold exactly @e's bytes? */
static bool
same_bytes(const char *path, const struct embedded_revision *e)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t off = 0, n;
	bool same = true;

	if (!f)
		return false;
	while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (off + n > e->length ||
		    memcmp(buf, e->content + off, n) != 0)
			same = false;
		off += n;
	}
	if (ferror(f))
		same = false;
	fclose(f);
	return same && off == e->length;
}

/* Count the files of ./revisions this binary does not embed as they are;
 * @first gets the first one's path. */
static size_t
count_stale(char *first, size_t first_size)
{
	DIR *d = opendir(LOCAL_DIR);
	struct dirent *de;
	size_t stale = 0, i;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		const struct embedded_revision *match = NULL;
		struct stat st;

		if (de->d_name[0] == '.' || !ends_with_sql(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", LOCAL_DIR, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		for (i = 0; i < embedded_revisions_count && !match; i++) {
			if (strcmp(base_name(embedded_revisions[i].filename),
				   de->d_name) == 0)
				match = &embedded_revisions[i];
		}
		if (match && same_bytes(path, match))
			continue;
		if (stale == 0 || strcmp(path, first) < 0)
			snprintf(first, first_size, "%s", path);
		stale++;
	}
	closedir(d);
	return stale;
}

/* Embedded revisions, checked against ./revisions. */
static int
load_embedded(struct cli *c,
	      struct migrate_registry *reg,
	      bool writes,
	      int *lib_rc)
{
	char first[4096];
	size_t stale = count_stale(first, sizeof(first));

	if (stale > 0 && writes) {
		cli_errorf("%s%s is not built into this binary: rebuild it "
			   "(make migrate) or pass --revisions revisions",
			   first, stale > 1 ? " (and others)" : "");
		return CLI_EXIT_REVISIONS;
	}
	if (stale > 0 && !c->quiet)
		cli_errorf("warning: %s%s is not built into this binary, "
			   "which shows the revisions it was built with: "
			   "rebuild it (make migrate) or pass --revisions "
			   "revisions",
			   first, stale > 1 ? " (and others)" : "");
	*lib_rc = embedded_revisions_load(reg);
	return CLI_EXIT_OK;
}

int
cli_revisions_load(struct cli *c,
		   struct migrate_registry *reg,
		   bool writes,
		   int *lib_rc)
{
	*lib_rc = 0;
	if (!c->revisions_dir && embedded_revisions_count > 0)
		return load_embedded(c, reg, writes, lib_rc);
	if (!c->revisions_dir && is_dir(LOCAL_DIR))
		c->revisions_dir = LOCAL_DIR;
	if (!c->revisions_dir) {
		cli_errorf("no revisions: pass --revisions DIR or set "
			   "MIGRATE_REVISIONS, or run where ./revisions is");
		return CLI_EXIT_USAGE;
	}
	*lib_rc = migrate_registry_load_dir(reg, c->revisions_dir);
	return CLI_EXIT_OK;
}
