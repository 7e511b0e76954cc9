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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The embedded file named @name; embedded_revisions[] is in name order
 * (embedded-revisions.h), all from one directory. */
static const struct embedded_revision *
find_embedded(const char *name)
{
	size_t lo = 0, hi = embedded_revisions_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(base_name(embedded_revisions[mid].filename),
			       name);

		if (c == 0)
			return &embedded_revisions[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Does the regular file @name in @dirfd hold exactly @e's bytes? open(),
 * a read() per 16 KiB and close(): a read that comes back short is the
 * end of a regular file (at worst a wrong "stale", never a wrong match
 * of other bytes). O_NONBLOCK: a FIFO swapped in meanwhile cannot block.
 */
static bool
same_bytes(int dirfd, const char *name, const struct embedded_revision *e)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char buf[16384];
	size_t off = 0;
	bool same = true;

	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			same = false;
			break;
		}
		if (n == 0)
			break;
		if (off + (size_t)n > e->length ||
		    memcmp(buf, e->content + off, (size_t)n) != 0) {
			same = false;
			break;
		}
		off += (size_t)n;
		if ((size_t)n < sizeof(buf))
			break;
	}
	close(fd);
	return same && off == e->length;
}

/* Is @de in @dirfd a regular file (following a symbolic link)? d_type
 * says so without a system call on most file systems. */
static bool
is_regular(int dirfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return true;
	if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
		return false;
	return fstatat(dirfd, de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* Count the files of ./revisions this binary does not embed as they are;
 * @first gets the first one's path. */
static size_t
count_stale(char *first, size_t first_size)
{
	DIR *d = opendir(LOCAL_DIR);
	struct dirent *de;
	size_t stale = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const struct embedded_revision *match;
		char path[4096];

		if (de->d_name[0] == '.' || !ends_with_sql(de->d_name) ||
		    !is_regular(dirfd(d), de))
			continue;
		match = find_embedded(de->d_name);
		if (match && same_bytes(dirfd(d), de->d_name, match))
			continue;
		snprintf(path, sizeof(path), "%s/%s", LOCAL_DIR, de->d_name);
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

const char *
cli_revisions_dir(struct cli *c)
{
	if (!c->revisions_dir && embedded_revisions_count > 0)
		return NULL;
	if (!c->revisions_dir && is_dir(LOCAL_DIR))
		c->revisions_dir = LOCAL_DIR;
	return c->revisions_dir;
}

int
cli_revisions_load(struct cli *c,
		   struct migrate_registry *reg,
		   bool writes,
		   int *lib_rc)
{
	*lib_rc = 0;
	if (!cli_revisions_dir(c) && embedded_revisions_count > 0)
		return load_embedded(c, reg, writes, lib_rc);
	if (!c->revisions_dir) {
		cli_errorf("no revisions: pass --revisions DIR or set "
			   "MIGRATE_REVISIONS, or run where ./revisions is");
		return CLI_EXIT_USAGE;
	}
	*lib_rc = migrate_registry_load_dir(reg, c->revisions_dir);
	return CLI_EXIT_OK;
}
