/* SPDX-License-Identifier: MIT */
/*
 * Load a directory of revision files: every `*.sql` in name order, each
 * parsed by revision-file.c (migrate__revision_parse()).
 *
 * Many files are read and parsed on several threads; the registry takes
 * the revisions on the calling thread, in name order, so that the result
 * and the error (the first bad file in name order, or a duplicate id
 * before it) are the same as one file after the other would give:
 *
 *   - Workers claim file indexes from one atomic counter, so each sees its
 *     files in increasing order; its first failure is its lowest, and it
 *     stops there. first_bad (atomic) holds the lowest failed index so
 *     far; files after it are not worth reading and are skipped. Every
 *     file before the final first_bad is loaded by someone.
 *   - What a worker writes (its slots of revs[], its own buffer and diag)
 *     no one else touches until pthread_join(), which orders it before
 *     the calling thread reads it. The parser, the SQL splitter and the
 *     hash use only their arguments (the SHA-NI probe is an atomic);
 *     errno is per thread and error text comes from strerror_r().
 *   - Workers run with every signal blocked, so an application's handler
 *     never runs on a thread it does not know about.
 *   - A worker that cannot be started is no error: the calling thread does
 *     the files itself.
 *
 * The registry keeps no file's SQL (issue 8: its memory grew with every
 * revision's text): a section's SQL is read from its file again when a
 * step runs or a getter asks (migrate__section_sql()), and used only if
 * the file still has the checksum it had when it was loaded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

/* Refuse revision files larger than this (a sane file is kilobytes). */
#define MAX_FILE_SIZE ((size_t)1 << 30)

/* Each thread reads into one buffer of at least this size, grown for a
 * bigger file and reused for the next. */
#define READ_BUF_SIZE ((size_t)64 << 10)

/* Threads are worth starting from this many files per thread on; at most
 * this many threads (the calling one included). */
#define FILES_PER_THREAD 32
#define MAX_THREADS      8

/*
 * The names of a directory's files (issue 8: one block of 32 KB for a few
 * hundred names, not a block and a 16-byte entry a name): each name is
 * kept after its d_type byte, in blocks that never move, so that an entry
 * is the name's pointer and name[-1] its type.
 */
struct name_block {
	struct name_block *next;
	size_t used, cap;
	char data[];
};

#define NAME_BLOCK_SIZE 32768

/* Copy @name (@len bytes) with its @type into @*pool; NULL when out of
 * memory. */
static char *
name_put(struct name_block **pool,
	 const char *name,
	 size_t len,
	 unsigned char type)
{
	struct name_block *b = *pool;
	char *at;

	if (!b || b->cap - b->used < len + 2) {
		size_t cap =
			len + 2 > NAME_BLOCK_SIZE ? len + 2 : NAME_BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = *pool;
		b->used = 0;
		b->cap = cap;
		*pool = b;
	}
	at = b->data + b->used;
	at[0] = (char)type;
	memcpy(at + 1, name, len);
	at[len + 1] = '\0';
	b->used += len + 2;
	return at + 1;
}

static void
names_free(struct name_block *pool)
{
	while (pool) {
		struct name_block *next = pool->next;

		free(pool);
		pool = next;
	}
}

/* The d_type of a name of the pool. */
static unsigned char
name_type(const char *name)
{
	return (unsigned char)name[-1];
}

struct load_job {
	const char *dir; /* as given: file names in messages and revisions */
	size_t dir_len;
	bool slash; /* add '/' between dir and name */
	/* dir and its '/', the registry's (struct migrate_revision.dir) */
	const char *prefix;
	int dirfd;
	char **files; /* name order (name_put(): the type before each) */
	/* The caller's names and files: freed (and set NULL) once read, so
	 * that the registry's arrays do not add to them (issue 8). */
	struct name_block **names;
	char ***files_owner;
	size_t n;
	struct migrate_revision **revs; /* n slots; NULL: skipped or not read */
	atomic_size_t next;             /* next index to claim */
	atomic_size_t first_bad;        /* lowest failed index so far, or n */
	void (*tick)(void *);           /* see migrate__registry_load_dir() */
	void *tick_arg;
};

struct load_worker {
	struct load_job *job;
	pthread_t thread;
	bool started;
	char *buf; /* read buffer */
	size_t cap;
	struct buf path; /* "DIR/NAME" of the current file */
	size_t bad;      /* index of this worker's failure (job->n: none) */
	bool ticks;      /* the calling thread's: calls job->tick */
	int rc;
	struct migrate_diag diag;
};

/* A revision file of @st at @path over MAX_FILE_SIZE: MIGRATE_ERROR with
 * the cause in @diag (the load and a later read say it alike), else 0. */
static int
refuse_too_large(const struct stat *st,
		 const char *path,
		 struct migrate_diag *diag)
{
	if ((uintmax_t)st->st_size <= MAX_FILE_SIZE)
		return 0;
	return migrate__fail(diag, MIGRATE_ERROR,
			     "%s: file too large (%jd bytes, at most %zu)",
			     path, (intmax_t)st->st_size, MAX_FILE_SIZE);
}

static void
errno_text(int e, char *out, size_t outlen)
{
	/* strerror() may use a static buffer; handles and workers live in
	 * other threads. This is the XSI strerror_r. */
	if (strerror_r(e, out, outlen) != 0)
		snprintf(out, outlen, "error %d", e);
}

static int
cmp_entries(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Make w->buf hold at least @need bytes. */
static bool
reserve(struct load_worker *w, size_t need)
{
	char *bigger;

	if (need <= w->cap)
		return true;
	bigger = realloc(w->buf, need);
	if (!bigger)
		return false;
	w->buf = bigger;
	w->cap = need;
	return true;
}

/*
 * Read the file at index @i into w->buf (NUL-terminated, *outlen bytes).
 * Returns 0, 1 when it is not a regular file (skipped), or a negative code
 * with the cause in w->diag.
 *
 * For a name readdir() calls a regular file that is open(), one read()
 * and close(): a short read of a regular file is its end, and only a file
 * that fills the buffer is asked its size (fstat()) to be read on, or
 * refused as too large before it is read. Any other name (a symbolic
 * link, a FIFO, a file system without d_type) is opened and asked first,
 * and only a regular file is read: O_NONBLOCK keeps a FIFO from blocking
 * the open, should a regular file be swapped for one in between.
 */
static int
read_file(struct load_worker *w, size_t i, size_t *outlen)
{
	const struct load_job *job = w->job;
	const char *name = job->files[i], *path = w->path.data;
	bool need_stat = name_type(name) != DT_REG, sized = false;
	size_t len = 0, want = SIZE_MAX;
	struct stat st;
	char ebuf[256];
	int fd, e, rc;

	*outlen = 0;
	fd = openat(job->dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		errno_text(e, ebuf, sizeof(ebuf));
		if (e == ELOOP)
			return migrate__fail(
				&w->diag, MIGRATE_ERROR,
				"%s: cannot open: %s (symbolic link loop)",
				path, ebuf);
		if (e == ENOENT &&
		    fstatat(job->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return migrate__fail(
				&w->diag, MIGRATE_ERROR,
				"%s: cannot open: %s (dangling symbolic link)",
				path, ebuf);
		return migrate__fail(&w->diag, MIGRATE_ERROR,
				     "%s: cannot open: %s", path, ebuf);
	}
	if (!reserve(w, READ_BUF_SIZE)) {
		rc = migrate__fail(&w->diag, MIGRATE_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		size_t room;
		ssize_t n;

		if (!sized && (need_stat || len + 1 == w->cap)) {
			/* Not known to be regular, or it fills the buffer:
			 * ask what it is and how big. */
			sized = true;
			if (fstat(fd, &st) != 0) {
				errno_text(errno, ebuf, sizeof(ebuf));
				rc = migrate__fail(&w->diag, MIGRATE_ERROR,
						   "%s: %s", path, ebuf);
				goto out;
			}
			if (!S_ISREG(st.st_mode)) {
				rc = 1;
				goto out;
			}
			rc = refuse_too_large(&st, path, &w->diag);
			if (rc < 0)
				goto out;
			want = (size_t)st.st_size;
			if (len >= want)
				break;
			if (!reserve(w, want + 1)) {
				rc = migrate__fail(&w->diag, MIGRATE_ENOMEM,
						   "out of memory");
				goto out;
			}
		}
		if (len + 1 == w->cap) {
			/* The file grew while we read it. */
			if (w->cap > MAX_FILE_SIZE) {
				rc = migrate__fail(
					&w->diag, MIGRATE_ERROR,
					"%s: file too large (at most %zu bytes)",
					path, MAX_FILE_SIZE);
				goto out;
			}
			if (!reserve(w, w->cap * 2)) {
				rc = migrate__fail(&w->diag, MIGRATE_ENOMEM,
						   "out of memory");
				goto out;
			}
		}
		room = w->cap - 1 - len;
		n = read(fd, w->buf + len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errno_text(errno, ebuf, sizeof(ebuf));
			rc = migrate__fail(&w->diag, MIGRATE_ERROR,
					   "%s: read error: %s", path, ebuf);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* All fstat() promised: no second read() just to see EOF
		 * (a file that grows meanwhile is read as it was). */
		if (len == want)
			break;
		/* Less than the room asked for: the end of a regular file. */
		if (!sized && (size_t)n < room)
			break;
	}
	w->buf[len] = '\0';
	*outlen = len;
	rc = 0;

out:
	close(fd);
	return rc;
}

/* Read and parse file @i into job->revs[i] (left NULL when skipped). */
static int
load_one(struct load_worker *w, size_t i)
{
	struct load_job *job = w->job;
	size_t len;
	int rc;

	w->path.len = 0;
	buf_append(&w->path, job->dir, job->dir_len);
	if (job->slash)
		buf_append(&w->path, "/", 1);
	buf_puts(&w->path, job->files[i]);
	if (w->path.oom)
		return migrate__fail(&w->diag, MIGRATE_ENOMEM, "out of memory");
	rc = read_file(w, i, &len);
	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	return migrate__revision_parse(&job->revs[i], w->path.data, job->prefix,
				       w->buf, len, MIGRATE__PARSE_SQL_IN_FILE,
				       &w->diag);
}

static void *
work(void *arg)
{
	struct load_worker *w = arg;
	struct load_job *job = w->job;

	for (;;) {
		size_t i = atomic_fetch_add(&job->next, 1), bad;
		int rc;

		if (i >= job->n || i > atomic_load(&job->first_bad))
			break;
		rc = load_one(w, i);
		if (w->ticks && job->tick)
			job->tick(job->tick_arg);
		if (!rc)
			continue;
		w->bad = i;
		w->rc = rc;
		bad = atomic_load(&job->first_bad);
		while (i < bad &&
		       !atomic_compare_exchange_weak(&job->first_bad, &bad, i))
			;
		break;
	}
	return NULL;
}

size_t
migrate__load_threads(size_t n)
{
	size_t t = n / FILES_PER_THREAD, cpus;

	if (t <= 1)
		return 1; /* without asking the system */
	cpus = migrate__cpus();
	if (t > cpus)
		t = cpus;
	if (t > MAX_THREADS)
		t = MAX_THREADS;
	return t;
}

/* Load job->files into @reg: the workers, then the registry in order. */
static int
load_files(struct migrate_registry *reg, struct load_job *job)
{
	struct load_worker workers[MAX_THREADS];
	size_t nw = migrate__load_threads(job->n), i, bad;
	struct load_worker *failed = NULL;
	sigset_t all, old;
	int rc = 0;

	job->revs = calloc(job->n, sizeof(*job->revs));
	if (!job->revs)
		return migrate__registry_error(reg, MIGRATE_ENOMEM,
					       "out of memory");
	atomic_init(&job->next, 0);
	atomic_init(&job->first_bad, job->n);
	memset(workers, 0, sizeof(workers));
	for (i = 0; i < nw; i++) {
		workers[i].job = job;
		workers[i].bad = job->n;
	}
	workers[0].ticks = true;
	if (nw > 1) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (i = 1; i < nw; i++)
			workers[i].started =
				pthread_create(&workers[i].thread, NULL, work,
					       &workers[i]) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	work(&workers[0]);
	for (i = 0; i < nw; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		if (workers[i].bad < job->n &&
		    (!failed || workers[i].bad < failed->bad))
			failed = &workers[i];
	}
	bad = failed ? failed->bad : job->n;
	for (i = 0; i < nw; i++) {
		free(workers[i].buf);
		workers[i].buf = NULL;
		buf_free(&workers[i].path);
	}
	names_free(*job->names);
	*job->names = NULL;
	free(*job->files_owner);
	*job->files_owner = NULL;
	job->files = NULL;
	rc = migrate__registry_reserve(reg, bad);
	for (i = 0; i < job->n; i++) {
		struct migrate_revision *rev = job->revs[i];

		job->revs[i] = NULL;
		if (rc || i >= bad)
			migrate__revision_free(rev);
		else if (rev)
			rc = migrate__registry_add_rev(reg, rev);
	}
	if (!rc && failed) {
		reg->diag = failed->diag;
		rc = failed->rc;
	}
	free(job->revs);
	job->revs = NULL;
	return rc;
}

/* A '/' after the last string of @sv; false when out of memory (the
 * string is then as it was). */
static bool
add_slash(struct strv *sv)
{
	char **last = &sv->v[sv->n - 1];
	size_t n = strlen(*last);
	char *t = realloc(*last, n + 2);

	if (!t)
		return false;
	t[n] = '/';
	t[n + 1] = '\0';
	*last = t;
	return true;
}

MIGRATE_EXPORT
int
migrate_registry_load_dir(struct migrate_registry *reg, const char *path)
{
	return migrate__registry_load_dir(reg, path, NULL, NULL);
}

int
migrate__registry_load_dir(struct migrate_registry *reg,
			   const char *path,
			   void (*tick)(void *),
			   void *tick_arg)
{
	struct load_job job;
	struct name_block *names = NULL;
	char **files = NULL;
	size_t n = 0, cap = 0;
	char ebuf[256];
	struct dirent *de;
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
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **bigger = NULL;

			if (ncap <= SIZE_MAX / sizeof(*files))
				bigger = realloc(files, ncap * sizeof(*files));
			if (!bigger) {
				rc = migrate__registry_error(
					reg, MIGRATE_ENOMEM, "out of memory");
				break;
			}
			files = bigger;
			cap = ncap;
		}
		files[n] = name_put(&names, de->d_name, nlen, de->d_type);
		if (!files[n]) {
			rc = migrate__registry_error(reg, MIGRATE_ENOMEM,
						     "out of memory");
			break;
		}
		n++;
	}
	if (!rc && n > 0) {
		if (n > 1)
			qsort(files, n, sizeof(*files), cmp_entries);
		memset(&job, 0, sizeof(job));
		job.dir = path;
		job.dir_len = strlen(path);
		job.slash = path[job.dir_len - 1] != '/';
		/* Every revision of this load points to one copy of the
		 * directory, kept by the registry until it is freed. */
		if (strv_push(&reg->dirs, path) < 0 ||
		    (job.slash && !add_slash(&reg->dirs)))
			rc = migrate__registry_error(reg, MIGRATE_ENOMEM,
						     "out of memory");
		else
			job.prefix = reg->dirs.v[reg->dirs.n - 1];
		job.dirfd = dirfd(dir);
		job.files = files;
		job.names = &names;
		job.files_owner = &files;
		job.n = n;
		job.tick = tick;
		job.tick_arg = tick_arg;
		if (tick)
			tick(tick_arg);
		if (!rc)
			rc = load_files(reg, &job);
	}
	closedir(dir);
	names_free(names);
	free(files);
	if (!rc)
		migrate__registry_clear_error(reg);
	return rc;
}

/* Read file @path whole into *@out (NUL-terminated, malloc'ed), *@len
 * bytes. 0 or MIGRATE_ERROR / MIGRATE_ENOMEM with the cause in @diag. */
static int
read_whole(const char *path, char **out, size_t *len, struct migrate_diag *diag)
{
	char ebuf[256], *buf = NULL;
	size_t want, got = 0;
	struct stat st;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		errno_text(errno, ebuf, sizeof(ebuf));
		return migrate__fail(diag, MIGRATE_ERROR, "%s: cannot open: %s",
				     path, ebuf);
	}
	if (fstat(fd, &st) != 0) {
		errno_text(errno, ebuf, sizeof(ebuf));
		rc = migrate__fail(diag, MIGRATE_ERROR, "%s: %s", path, ebuf);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = migrate__fail(diag, MIGRATE_ERROR,
				   "%s: no longer a regular file", path);
		goto out;
	}
	rc = refuse_too_large(&st, path, diag);
	if (rc < 0)
		goto out;
	want = (size_t)st.st_size;
	buf = malloc(want + 1);
	if (!buf) {
		rc = migrate__fail(diag, MIGRATE_ENOMEM, "out of memory");
		goto out;
	}
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errno_text(errno, ebuf, sizeof(ebuf));
			rc = migrate__fail(diag, MIGRATE_ERROR,
					   "%s: read error: %s", path, ebuf);
			goto out;
		}
		if (n == 0)
			break; /* shrank meanwhile: what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;

out:
	free(buf);
	close(fd);
	return rc;
}

int
migrate__section_sql(struct migrate_sql_ref *ref,
		     const struct migrate_revision *rev,
		     int direction,
		     struct migrate_diag *diag)
{
	const struct migrate_section *sec =
		direction == MIGRATE_DOWN ? &rev->down : &rev->up;
	struct migrate_revision *again = NULL;
	struct migrate_diag err;
	const char *held;
	char *text, *file, then[65], now[65];
	size_t len;
	int rc;

	ref->sql = "";
	ref->owner = NULL;
	held = __atomic_load_n(&sec->sql, __ATOMIC_ACQUIRE);
	if (held || !sec->in_file) {
		ref->sql = held ? held : "";
		return 0;
	}
	file = migrate__revision_path(rev);
	if (!file)
		return migrate__fail(diag, MIGRATE_ENOMEM, "out of memory");
	rc = read_whole(file, &text, &len, diag);
	if (rc) {
		free(file);
		return rc;
	}
	rc = migrate__revision_parse(&again, file, NULL, text, len,
				     MIGRATE__PARSE_RELOAD, &err);
	free(text);
	if (rc) {
		free(file);
		if (rc == MIGRATE_ENOMEM)
			return migrate__fail(diag, rc, "out of memory");
		return migrate__fail(
			diag, rc,
			"%s (the file changed since the revisions were loaded)",
			err.msg);
	}
	if (again->has_checksum != rev->has_checksum ||
	    memcmp(again->checksum, rev->checksum, sizeof(rev->checksum))) {
		migrate__revision_hex(rev, then);
		migrate__revision_hex(again, now);
		rc = migrate__fail(
			diag, MIGRATE_EVERIFY,
			"%s: the file changed since the revisions were loaded (revision %s: checksum %.12s... then, %.12s... now); load them again",
			file, rev->id, then, now);
		free(file);
		migrate__revision_free(again);
		return rc;
	}
	free(file);
	sec = direction == MIGRATE_DOWN ? &again->down : &again->up;
	ref->sql = sec->sql ? sec->sql : "";
	ref->owner = again;
	return 0;
}

void
migrate__sql_ref_drop(struct migrate_sql_ref *ref)
{
	migrate__revision_free(ref->owner);
	ref->owner = NULL;
	ref->sql = "";
}
