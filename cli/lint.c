/* SPDX-License-Identifier: MIT */
/*
 * `migrate lint` and the pre-flight parse of upgrade/downgrade, on top of
 * the lint component (libmigrate/lint/migrate-lint.h). Built only with the
 * meson feature `lint`; without it cli_plan_check() does nothing.
 *
 * JSON output goes through the CLI's one JSON writer (json.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmigrate.h>

#include "cli.h"

#ifdef MIGRATE_HAVE_LINT

#include <dlfcn.h>
#include <stdbool.h>

#include "migrate-lint-module.h"

/* The lint component, loaded by lint_module(). */
static const struct migrate_lint_module *lm;

/* dlopen() @path into *@h; false (the first reason kept in @err) if not. */
static bool
try_module(void **h, const char *path, char *err, size_t n)
{
	*h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*h && !err[0])
		snprintf(err, n, "%s", dlerror());
	return *h != NULL;
}

/*
 * Load the lint component (migrate-lint-module.h) on first use: only
 * `migrate lint` and the pre-flight parse (in its child process) do, so
 * the process that migrates never maps the parser. From the build tree
 * (../libmigrate/lint beside this program), else where it is installed
 * (MIGRATE_LINT_MODULE_DIR); by absolute path, so that no interposed
 * dlopen() (a sanitizer's) changes where it is searched. NULL with the
 * reason in @err (@n bytes) when it cannot be loaded. Never unloaded.
 */
static const struct migrate_lint_module *
lint_module(char *err, size_t n)
{
	char self[PATH_MAX], path[PATH_MAX + 64], why[768] = "", *slash;
	migrate_lint_module_fn get;
	void *h = NULL, *sym;
	ssize_t len;

	if (lm)
		return lm;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/../libmigrate/lint/%s",
				 self, MIGRATE_LINT_MODULE_FILE);
			if (access(path, F_OK) == 0)
				try_module(&h, path, why, sizeof(why));
		}
	}
	if (!h && !why[0])
		try_module(&h,
			   MIGRATE_LINT_MODULE_DIR "/" MIGRATE_LINT_MODULE_FILE,
			   why, sizeof(why));
	if (!h) {
		snprintf(err, n, "cannot load the lint component: %s", why);
		return NULL;
	}
	sym = dlsym(h, MIGRATE_LINT_MODULE_SYMBOL);
	if (sym) {
		memcpy(&get, &sym, sizeof(get));
		lm = get();
	}
	if (!lm || lm->version != MIGRATE_LINT_MODULE_VERSION) {
		snprintf(
			err, n,
			"cannot load the lint component: %s is not the module of this migrate",
			MIGRATE_LINT_MODULE_FILE);
		lm = NULL;
		dlclose(h);
	}
	return lm;
}

static void
print_text(const struct migrate_lint *l, bool verbose)
{
	size_t i;

	for (i = 0; i < lm->count(l); i++) {
		const struct migrate_lint_finding *f = lm->at(l, i);
		char loc[1024];

		if (f->waiver && !verbose)
			continue;
		lm->where(f, loc, sizeof(loc));
		if (strcmp(f->rule->id, "syntax-error") == 0) {
			/* The compiler-style line of a parse error. */
			printf("%s: %s\n", loc, f->message);
			continue;
		}
		printf("%s: %s: %s: %s\n", loc, lm->severity_name(f->severity),
		       f->rule->id, f->message);
		if (f->statement[0])
			printf("    statement: %s\n", f->statement);
		printf("    fix: %s\n", f->rule->fix);
		if (f->waiver)
			printf("    waived: %s\n", f->waiver);
	}
}

static void
print_json(struct cli *c, const struct migrate_lint *l, size_t n_revs)
{
	struct json j;
	size_t i;

	cli_json_begin(c, &j);
	json_int(&j, "revisions", (long long)n_revs);
	json_int(&j, "errors",
		 (long long)lm->count_severity(l, MIGRATE_LINT_ERROR));
	json_int(&j, "warnings",
		 (long long)lm->count_severity(l, MIGRATE_LINT_WARNING));
	json_int(&j, "info",
		 (long long)lm->count_severity(l, MIGRATE_LINT_INFO));
	json_begin_array(&j, "findings");
	for (i = 0; i < lm->count(l); i++) {
		const struct migrate_lint_finding *f = lm->at(l, i);

		json_begin_object(&j, NULL);
		json_string(&j, "rule", f->rule->id);
		json_string(&j, "severity", lm->severity_name(f->severity));
		json_string(&j, "revision", f->revision);
		json_string(&j, "direction",
			    f->direction == MIGRATE_DOWN ? "downgrade"
							 : "upgrade");
		json_string(&j, "file", f->file);
		json_int(&j, "line", (long long)f->line);
		json_int(&j, "column", (long long)f->column);
		json_string(&j, "message", f->message);
		json_string(&j, "statement", f->statement);
		json_string(&j, "fix", f->rule->fix);
		json_string(&j, "waived", f->waiver);
		json_end_object(&j);
	}
	json_end_array(&j);
	cli_json_end(c, &j);
}

int
cmd_lint(struct cli *c)
{
	const struct migrate_revision **revs = NULL;
	struct migrate_lint *l = NULL;
	bool json = c->json;
	size_t i, n_revs, errors, warnings;
	int rc = cli_load_registry(c, false, false), code = CLI_EXIT_OK;
	char err[1024];

	if (rc != CLI_EXIT_OK)
		return rc;
	if (!lint_module(err, sizeof(err))) {
		cli_errorf("lint: %s", err);
		return CLI_EXIT_DATABASE;
	}
	if (c->nargs) {
		revs = calloc(c->nargs, sizeof(*revs));
		if (!revs) {
			cli_errorf("out of memory");
			return CLI_EXIT_DATABASE;
		}
		for (i = 0; i < c->nargs; i++) {
			rc = migrate_registry_find(&revs[i], c->reg,
						   c->args[i]);
			if (rc < 0) {
				cli_print_error(migrate_registry_errmsg(c->reg),
						NULL, rc);
				free(revs);
				return CLI_EXIT_USAGE;
			}
		}
	}
	n_revs = c->nargs ? c->nargs : migrate_registry_count(c->reg);
	rc = lm->lint_new(&l);
	if (rc == 0)
		rc = lm->run(l, c->reg, revs, c->nargs, 0);
	free(revs);
	if (rc < 0) {
		cli_errorf("lint: %s", migrate_strerror(rc));
		lm->lint_free(l);
		return CLI_EXIT_DATABASE;
	}
	errors = lm->count_severity(l, MIGRATE_LINT_ERROR);
	warnings = lm->count_severity(l, MIGRATE_LINT_WARNING);
	if (json) {
		print_json(c, l, n_revs);
	} else {
		print_text(l, c->verbose > 0);
		if (!c->quiet)
			printf("lint: %zu revision%s, %zu error%s, %zu warning%s, %zu info\n",
			       n_revs, n_revs == 1 ? "" : "s", errors,
			       errors == 1 ? "" : "s", warnings,
			       warnings == 1 ? "" : "s",
			       lm->count_severity(l, MIGRATE_LINT_INFO));
	}
	if (errors || (warnings && CLI_GIVEN(c, OPT_STRICT)))
		code = CLI_EXIT_CHECK;
	lm->lint_free(l);
	return code;
}

static void
preflight_line(const char *line, void *payload)
{
	(void)payload;
	cli_errorf("%s", line);
}

/* preflight_run(): the lint component did not load (reported). */
#define PF_NO_MODULE (INT_MIN + 3)

/* Load the lint component, parse the plan's sections (one at a time, read
 * from @reg and let go: issue 8, peak RSS) and apply the pre-flight policy
 * against the server of @m (NULL: the offline script), reporting through
 * @emit: the verdict (enum migrate_lint_preflight_verdict), a MIGRATE_E*
 * code or PF_NO_MODULE. A section that cannot be read (its file changed
 * since it was loaded) is not parsed: its step refuses it, saying why. */
static int
preflight_run(const struct migrate_plan *plan,
	      struct migrate_registry *reg,
	      struct migrate *m,
	      migrate_lint_line_fn emit,
	      void *payload)
{
	struct migrate_lint *l = NULL;
	char err[1024], line[1100];
	size_t i;
	int rc;

	if (!lint_module(err, sizeof(err))) {
		snprintf(line, sizeof(line),
			 "pre-flight parse: %s (--no-parse skips this check)",
			 err);
		emit(line, payload);
		return PF_NO_MODULE;
	}
	rc = lm->lint_new(&l);
	for (i = 0; rc == 0 && i < migrate_plan_count(plan); i++) {
		int dir;
		const struct migrate_revision *rev =
			migrate_plan_step(plan, i, &dir);
		char *sql = NULL;

		if (migrate_registry_read_sql(&sql, reg, rev, dir) != 0)
			continue;
		rc = lm->parse_sql(l, rev, dir, sql);
		migrate_free(sql);
	}
	/* The policy (refuse below PostgreSQL 16, warn from 16 on) and its
	 * messages are the lint component's. */
	if (rc == 0)
		rc = lm->preflight(l, m ? lm->server_version(m) : 0, emit,
				   payload);
	lm->lint_free(l);
	return rc;
}

/*
 * The parse runs in a short-lived child process (issue 8, peak RSS):
 * PostgreSQL's grammar tables and parser code (~750 KB) are then paged
 * into the child only, never into the migrating process, and they leave
 * with it. The child inherits the plan (fork), sends each line to report
 * through a pipe (a 4-byte length, then the bytes) and says the verdict,
 * or the error, by its exit status, which it also sends last through the
 * pipe (PF_FRAME_EXIT, then the status as one byte): the parent goes on
 * from there while the child's exit (unmapping the parser) runs, and
 * reaps it later (cli_preflight_discard()). It touches neither the
 * connection nor stdio and leaves with _exit(). Where no child can be
 * made, the parse runs in this process, as it did before.
 */
#define PF_NO_CHILD       INT_MIN       /* no child: parse here */
#define PF_DIED           (INT_MIN + 1) /* *what: the signal */
#define PF_BAD_EXIT       (INT_MIN + 2) /* *what: the exit status */
#define PF_EXIT_NO_MODULE 99            /* PF_NO_MODULE */
#define PF_EXIT_VERDICT   100           /* exit status 100 + the verdict */
#define PF_EXIT_FAIL      116 /* exit status 116 + -rc: a MIGRATE_E* code */
#define PF_EXIT_MAX       (PF_EXIT_FAIL - MIGRATE_ECANCELED)
#define PF_FRAME_EXIT     UINT32_MAX /* as a length: the exit status */

static bool
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void
child_line(const char *line, void *payload)
{
	int fd = *(int *)payload;
	uint32_t len = (uint32_t)strlen(line);

	if (!write_all(fd, &len, sizeof(len)) || !write_all(fd, line, len))
		_exit(PF_EXIT_FAIL - MIGRATE_ERROR);
}

static void
preflight_child(int fd,
		const struct migrate_plan *plan,
		struct migrate_registry *reg,
		struct migrate *m)
{
	uint32_t frame = PF_FRAME_EXIT;
	struct sigaction sa;
	unsigned char byte;
	sigset_t none;
	int rc, status;

	/* Ctrl-C ends the child; the parent's handler (which cancels its
	 * connection) is not the child's. Blocked across the fork. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	rc = preflight_run(plan, reg, m, child_line, &fd);
	if (rc == PF_NO_MODULE)
		status = PF_EXIT_NO_MODULE;
	else if (rc < MIGRATE_ECANCELED)
		status = PF_EXIT_FAIL - MIGRATE_ERROR;
	else
		status = rc >= 0 ? PF_EXIT_VERDICT + rc : PF_EXIT_FAIL - rc;
	byte = (unsigned char)status;
	/* The parent reads the status here, or from the exit when this
	 * frame does not arrive. */
	if (write_all(fd, &frame, sizeof(frame)))
		write_all(fd, &byte, 1);
	close(fd);
	_exit(status);
}

/* Whether the frames in @buf (@len bytes) end with a complete exit frame;
 * *@status then holds its status. */
static bool
has_exit_frame(const char *buf, size_t len, int *status)
{
	size_t off = 0;

	while (off + sizeof(uint32_t) <= len) {
		uint32_t n;

		memcpy(&n, buf + off, sizeof(n));
		off += sizeof(n);
		if (n == PF_FRAME_EXIT) {
			if (off + 1 > len)
				return false;
			*status = (unsigned char)buf[off];
			return true;
		}
		if (n > len - off)
			return false;
		off += n;
	}
	return false;
}

/* Read @fd into *@buf (*@len bytes; NULL when empty) up to the child's
 * exit frame (*@status its status, else -1) or the end. */
static int
read_frames(int fd, char **buf, size_t *len, int *status)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	*status = -1;
	for (;;) {
		char chunk[4096];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue; /* a signal: the parent waits for the child */
		if (r < 0)
			return MIGRATE_ERROR;
		if (r == 0)
			return 0;
		if (*len + (size_t)r > cap) {
			char *p;

			cap = (*len + (size_t)r) * 2;
			p = realloc(*buf, cap);
			if (!p)
				return MIGRATE_ENOMEM;
			*buf = p;
		}
		memcpy(*buf + *len, chunk, (size_t)r);
		*len += (size_t)r;
		if (has_exit_frame(*buf, *len, status))
			return 0;
	}
}

/* A pre-flight child: its pid and the read end of its pipe. */
struct pf_child {
	pid_t pid;
	int fd;
};

/* Start the pre-flight of @plan in a child (preflight_child()): 0, or
 * PF_NO_CHILD. */
static int
preflight_start(struct pf_child *ch,
		const struct migrate_plan *plan,
		struct migrate_registry *reg,
		struct migrate *m)
{
	sigset_t block, old;
	int fds[2];
	pid_t pid;

	if (pipe(fds) < 0)
		return PF_NO_CHILD;
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		preflight_child(fds[1], plan, reg, m);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return PF_NO_CHILD;
	}
	ch->pid = pid;
	ch->fd = fds[0];
	return 0;
}

/* Reap the children that sent their exit status (preflight_finish()). */
static void
reap_children(struct cli *c)
{
	size_t i;
	int status;

	for (i = 0; i < c->n_preflight_exited; i++)
		while (waitpid(c->preflight_exited[i], &status, 0) < 0 &&
		       errno == EINTR)
			;
	c->n_preflight_exited = 0;
}

/* The verdict of the child @ch or its MIGRATE_E* code (lines reported),
 * PF_DIED or PF_BAD_EXIT (*@what: the signal or the exit status). A child
 * that sent its exit status is reaped later (reap_children()) unless it
 * is gone already. */
static int
preflight_finish(struct cli *c, struct pf_child *ch, int *what)
{
	char *buf = NULL;
	size_t len = 0, off;
	int status, rc, rd;

	*what = 0;
	/* The child ends by itself (a bounded parse, or a signal); a signal
	 * to this process only (the library cancels) does not stop the
	 * wait, as it did not stop the parse that ran here. */
	rd = read_frames(ch->fd, &buf, &len, &rc);
	close(ch->fd);
	if (rc >= 0 && waitpid(ch->pid, &status, WNOHANG) == 0 &&
	    c->n_preflight_exited < CLI_PREFLIGHT_EXITED_MAX) {
		/* Still exiting: reaped later. */
		c->preflight_exited[c->n_preflight_exited++] = ch->pid;
	} else if (rc < 0) {
		while (waitpid(ch->pid, &status, 0) < 0)
			if (errno != EINTR) {
				free(buf);
				return MIGRATE_ERROR;
			}
		if (WIFSIGNALED(status)) {
			free(buf);
			*what = WTERMSIG(status);
			return PF_DIED;
		}
		rc = WEXITSTATUS(status);
	} else if (c->n_preflight_exited == CLI_PREFLIGHT_EXITED_MAX) {
		while (waitpid(ch->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (rc >= PF_EXIT_FAIL && rc <= PF_EXIT_MAX)
		rc = PF_EXIT_FAIL - rc;
	else if (rc >= PF_EXIT_VERDICT && rc < PF_EXIT_FAIL)
		rc -= PF_EXIT_VERDICT;
	else if (rc == PF_EXIT_NO_MODULE)
		rc = PF_NO_MODULE;
	else {
		*what = rc; /* not our exit (a sanitizer's, ...) */
		rc = PF_BAD_EXIT;
	}
	if (rd < 0)
		rc = rd;
	/* The lines, as the child reported them. */
	for (off = 0; off + sizeof(uint32_t) <= len;) {
		uint32_t n;

		memcpy(&n, buf + off, sizeof(n));
		off += sizeof(n);
		if (n == PF_FRAME_EXIT || n > len - off)
			break;
		cli_errorf("%.*s", (int)n, buf + off);
		off += n;
	}
	free(buf);
	return rc;
}

/*
 * The child started on the plan seen before the lock (cli_plan_preview()),
 * with that plan's steps: the plan check takes its verdict when the plan
 * that runs has the same steps (the same revisions, directions and
 * server: the same parse, the same lines), else ends it and parses the
 * plan that runs.
 */
struct cli_preflight {
	struct pf_child child;
	struct migrate *m;
	size_t n;
	const struct migrate_revision **revs;
	int *dirs;
};

static void
early_free(struct cli_preflight *e)
{
	if (!e)
		return;
	free(e->revs);
	free(e->dirs);
	free(e);
}

/* Whether @e parses what the pre-flight of @plan against @m would. */
static bool
early_same(const struct cli_preflight *e,
	   const struct migrate_plan *plan,
	   const struct migrate *m)
{
	size_t i;

	if (e->m != m || e->n != migrate_plan_count(plan))
		return false;
	for (i = 0; i < e->n; i++) {
		int dir;

		if (migrate_plan_step(plan, i, &dir) != e->revs[i] ||
		    dir != e->dirs[i])
			return false;
	}
	return true;
}

void
cli_preflight_discard(struct cli *c)
{
	struct cli_preflight *e = c->preflight_early;

	reap_children(c);
	if (!e)
		return;
	c->preflight_early = NULL;
	kill(e->child.pid, SIGKILL);
	close(e->child.fd);
	while (waitpid(e->child.pid, NULL, 0) < 0 && errno == EINTR)
		;
	early_free(e);
}

void
cli_plan_preview(struct migrate *m,
		 const struct migrate_plan *plan,
		 void *payload)
{
	struct cli *c = payload;
	struct cli_preflight *e;
	size_t i;

	cli_preflight_discard(c);
	if (CLI_GIVEN(c, OPT_NO_PARSE))
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->m = m;
	e->n = migrate_plan_count(plan);
	e->revs = calloc(e->n, sizeof(*e->revs));
	e->dirs = calloc(e->n, sizeof(*e->dirs));
	if (!e->revs || !e->dirs) {
		early_free(e);
		return; /* parsed under the lock then */
	}
	for (i = 0; i < e->n; i++)
		e->revs[i] = migrate_plan_step(plan, i, &e->dirs[i]);
	if (preflight_start(&e->child, plan, migrate_registry(m), m) != 0) {
		early_free(e);
		return;
	}
	c->preflight_early = e;
}

/* The pre-flight in a child: its verdict or MIGRATE_E* code (lines
 * reported), PF_DIED or PF_BAD_EXIT (*@what: the signal or the exit
 * status) or PF_NO_CHILD. The child started before the lock when it
 * parses the same plan (cli_plan_preview()). */
static int
preflight_forked(struct cli *c,
		 const struct migrate_plan *plan,
		 struct migrate_registry *reg,
		 struct migrate *m,
		 int *what)
{
	struct cli_preflight *e = c ? c->preflight_early : NULL;
	struct pf_child ch;
	int rc;

	*what = 0;
	if (e && early_same(e, plan, m)) {
		c->preflight_early = NULL;
		rc = preflight_finish(c, &e->child, what);
		early_free(e);
		return rc;
	}
	if (c)
		cli_preflight_discard(c);
	rc = preflight_start(&ch, plan, reg, m);
	return rc < 0 ? rc : preflight_finish(c, &ch, what);
}

int
cli_preflight_plan(struct cli *c,
		   const struct migrate_plan *plan,
		   struct migrate *m)
{
	struct migrate_registry *reg = m ? migrate_registry(m) : c->reg;
	int rc, what;

	rc = preflight_forked(c, plan, reg, m, &what);
	if (rc == PF_NO_CHILD)
		rc = preflight_run(plan, reg, m, preflight_line, NULL);
	if (rc == PF_NO_MODULE)
		return CLI_EXIT_DATABASE;
	if (rc == PF_DIED) {
		/* Ctrl-C ended the child and this process alike: the library
		 * reports the cancel before the first revision. */
		if (cli_interrupted())
			return CLI_EXIT_OK;
		cli_errorf(
			"pre-flight parse: the parser process ended by signal %d (%s)",
			what, strsignal(what));
		return CLI_EXIT_DATABASE;
	}
	if (rc == PF_BAD_EXIT) {
		cli_errorf(
			"pre-flight parse: the parser process exited with status %d",
			what);
		return CLI_EXIT_DATABASE;
	}
	if (rc < 0) {
		cli_errorf("pre-flight parse: %s", migrate_strerror(rc));
		return CLI_EXIT_DATABASE;
	}
	return rc == MIGRATE_LINT_PREFLIGHT_REFUSE ? CLI_EXIT_REVISIONS
						   : CLI_EXIT_OK;
}

int
cli_plan_check(struct migrate *m,
	       const struct migrate_plan *plan,
	       void *payload)
{
	struct cli *c = payload;
	int code;

	/* Called by the library under the migration lock with the plan that
	 * is about to run, before its first step: the plan checked is the
	 * one that runs, and reading it costs no round trip of its own. */
	if (CLI_GIVEN(c, OPT_NO_PARSE))
		return 0;
	code = cli_preflight_plan(c, plan, m);
	if (code == CLI_EXIT_OK)
		return 0;
	c->preflight_code = code;
	return migrate_set_error(m, MIGRATE_EINVAL,
				 "the pre-flight parse refused the plan");
}

#else /* !MIGRATE_HAVE_LINT */

void
cli_plan_preview(struct migrate *m,
		 const struct migrate_plan *plan,
		 void *payload)
{
	(void)m;
	(void)plan;
	(void)payload;
}

void
cli_preflight_discard(struct cli *c)
{
	(void)c;
}

int
cli_preflight_plan(struct cli *c,
		   const struct migrate_plan *plan,
		   struct migrate *m)
{
	(void)c;
	(void)plan;
	(void)m;
	return CLI_EXIT_OK;
}

int
cmd_lint(struct cli *c)
{
	(void)c;
	cli_errorf(
		"this migrate was built without the lint component (meson -Dlint=disabled)");
	return CLI_EXIT_USAGE;
}

int
cli_plan_check(struct migrate *m,
	       const struct migrate_plan *plan,
	       void *payload)
{
	(void)m;
	(void)plan;
	(void)payload;
	return 0;
}

#endif
