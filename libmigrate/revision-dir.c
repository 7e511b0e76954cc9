/* SPDX-License-Identifier: MIT */
/*
 * Load a directory of revision files: every `*.sql` in name order, each
 * parsed by revision-file.c (migrate_registry_parse()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

/* Refuse revision files larger than this (a sane file is kilobytes). */
#define MAX_FILE_SIZE ((size_t)1 << 30)

static void
errno_text(int e, char *out, size_t outlen)
{
	/* strerror() may use a static buffer; handles may live in other
	 * threads. This is the XSI strerror_r. */
	if (strerror_r(e, out, outlen) != 0)
		snprintf(out, outlen, "error %d", e);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Read @path fully into *out (NUL-terminated, *outlen bytes). Returns 0,
 * 1 when it is not a regular file (skipped), or a negative code.
 */
static int
read_file(struct migrate_registry *reg,
	  const char *path,
	  char **out,
	  size_t *outlen)
{
	char ebuf[256], *data = NULL;
	size_t len = 0, cap;
	struct stat st;
	int fd, e, rc;

	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK so that a FIFO named *.sql cannot block us; it does
	 * nothing to regular files. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		errno_text(e, ebuf, sizeof(ebuf));
		if (e == ELOOP)
			return migrate__registry_error(
				reg, MIGRATE_ERROR,
				"%s: cannot open: %s (symbolic link loop)",
				path, ebuf);
		if (e == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return migrate__registry_error(
				reg, MIGRATE_ERROR,
				"%s: cannot open: %s (dangling symbolic link)",
				path, ebuf);
		return migrate__registry_error(
			reg, MIGRATE_ERROR, "%s: cannot open: %s", path, ebuf);
	}
	if (fstat(fd, &st) != 0) {
		errno_text(errno, ebuf, sizeof(ebuf));
		rc = migrate__registry_error(reg, MIGRATE_ERROR, "%s: %s", path,
					     ebuf);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = 1;
		goto out;
	}
	if ((uintmax_t)st.st_size > MAX_FILE_SIZE) {
		rc = migrate__registry_error(
			reg, MIGRATE_ERROR,
			"%s: file too large (%jd bytes, at most %zu)", path,
			(intmax_t)st.st_size, MAX_FILE_SIZE);
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	if (cap < 4096)
		cap = 4096;
	data = malloc(cap);
	if (!data) {
		rc = migrate__registry_error(reg, MIGRATE_ENOMEM,
					     "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *bigger;

			/* The file grew while we read it. */
			if (cap > MAX_FILE_SIZE) {
				rc = migrate__registry_error(
					reg, MIGRATE_ERROR,
					"%s: file too large (at most %zu bytes)",
					path, MAX_FILE_SIZE);
				goto out;
			}
			bigger = realloc(data, cap * 2);
			if (!bigger) {
				rc = migrate__registry_error(
					reg, MIGRATE_ENOMEM, "out of memory");
				goto out;
			}
			data = bigger;
			cap *= 2;
		}
		n = read(fd, data + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errno_text(errno, ebuf, sizeof(ebuf));
			rc = migrate__registry_error(reg, MIGRATE_ERROR,
						     "%s: read error: %s", path,
						     ebuf);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* All fstat() promised: no second read() just to see EOF
		 * (a file that grows meanwhile is read as it was). */
		if (len == (size_t)st.st_size)
			break;
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	data = NULL;
	rc = 0;

out:
	free(data);
	close(fd);
	return rc;
}

MIGRATE_EXPORT
int
migrate_registry_load_dir(struct migrate_registry *reg, const char *path)
{
	struct strv names = STRV_INIT;
	struct buf full = BUF_INIT;
	char ebuf[256], *data;
	struct dirent *de;
	size_t i, plen, dlen;
	DIR *dir;
	int rc = 0;

	if (!reg)
		return MIGRATE_EINVAL;
	migrate__registry_clear_error(reg);
	if (!path || !*path)
		return migrate__registry_error(reg, MIGRATE_EINVAL,
					       "no revisions directory given");
	dir = opendir(path);
	if (!dir) {
		int e = errno;

		errno_text(e, ebuf, sizeof(ebuf));
		return migrate__registry_error(
			reg,
			(e == ENOENT || e == ENOTDIR) ? MIGRATE_ENOTFOUND
						      : MIGRATE_ERROR,
			"revisions directory '%s': %s", path, ebuf);
	}
	for (;;) {
		size_t nlen;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno) {
				errno_text(errno, ebuf, sizeof(ebuf));
				rc = migrate__registry_error(
					reg, MIGRATE_ERROR,
					"revisions directory '%s': %s", path,
					ebuf);
			}
			break;
		}
		nlen = strlen(de->d_name);
		if (de->d_name[0] == '.' || nlen < 5 ||
		    strcmp(de->d_name + nlen - 4, ".sql") != 0)
			continue;
		if (strv_push(&names, de->d_name) < 0) {
			rc = migrate__registry_error(reg, MIGRATE_ENOMEM,
						     "out of memory");
			break;
		}
	}
	closedir(dir);
	if (rc)
		goto out;
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_names);

	plen = strlen(path);
	for (i = 0; i < names.n; i++) {
		full.len = 0;
		buf_append(&full, path, plen);
		if (path[plen - 1] != '/')
			buf_append(&full, "/", 1);
		buf_puts(&full, names.v[i]);
		if (full.oom) {
			rc = migrate__registry_error(reg, MIGRATE_ENOMEM,
						     "out of memory");
			goto out;
		}
		rc = read_file(reg, full.data, &data, &dlen);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc)
			goto out;
		rc = migrate_registry_parse(reg, full.data, data, dlen);
		free(data);
		if (rc)
			goto out;
	}
	migrate__registry_clear_error(reg);

out:
	buf_free(&full);
	strv_clear(&names);
	return rc;
}
