/* SPDX-License-Identifier: MIT */
/*
 * migrate: command-line front end of libmigrate. This file holds option
 * parsing, help, the mapping of return codes to exit codes, error printing
 * and opening the database; the commands are in commands.c and
 * new-revision.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libmigrate.h>

#include "cli.h"

/* Marks an argument that looked like an option but is a relative target
 * ("-1"): getopt must not take it for the short options 1 and so on. */
#define NEG_MARK '\x01'

/*
 * SIGINT and SIGTERM cancel the work (issue 11 §4): the handler asks the
 * library to stop (migrate_cancel() is async-signal-safe): the running
 * statement is cancelled on the server, the step rolls back, the lock is
 * released, and the command exits 128 + the signal with one line saying
 * where the database is. The handler is one-shot: a second signal ends
 * the process at once.
 */
static volatile sig_atomic_t cli_signal;
static struct migrate *volatile cli_handle;

static void
on_signal(int sig)
{
	struct migrate *m = cli_handle;

	cli_signal = sig;
	if (m)
		migrate_cancel(m);
}

bool
cli_interrupted(void)
{
	return cli_signal != 0;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
cli_exit_code(int rc, enum cli_phase phase)
{
	if (rc >= 0)
		return CLI_EXIT_OK;
	if (phase == CLI_PHASE_REVISIONS)
		return CLI_EXIT_REVISIONS;
	switch (rc) {
	case MIGRATE_EVERIFY:
		return CLI_EXIT_CHECK;
	case MIGRATE_ELOCKED:
		return CLI_EXIT_LOCKED;
	case MIGRATE_ECANCELED:
		return 128 + (cli_signal ? (int)cli_signal : SIGINT);
	case MIGRATE_EINVAL:
	case MIGRATE_ENOTFOUND:
	case MIGRATE_EAMBIGUOUS:
		/* A bad target or revision argument; from migrate_open() a
		 * malformed database URL. */
		return CLI_EXIT_USAGE;
	case MIGRATE_EPARSE:
	case MIGRATE_EIRREVERSIBLE:
		return CLI_EXIT_REVISIONS;
	case MIGRATE_ECONFLICT:
		/* While connecting: the registry; later: the database moved
		 * under us. */
		return phase == CLI_PHASE_CONNECT ? CLI_EXIT_REVISIONS
						  : CLI_EXIT_DATABASE;
	case MIGRATE_EBACKEND:
	case MIGRATE_EDIRTY:
	case MIGRATE_EUNKNOWN:
	case MIGRATE_EREADONLY:
	case MIGRATE_ENOMEM:
	case MIGRATE_ERROR:
	default:
		return CLI_EXIT_DATABASE;
	}
}

/* The first error of the run and its SQLSTATE, for --format json's error
 * document (the root cause; later lines are consequences). */
static char first_error[1024];
static char first_sqlstate[6];

static void
remember_error(const char *msg, const char *sqlstate)
{
	if (first_error[0])
		return;
	snprintf(first_error, sizeof(first_error), "%s", msg);
	if (sqlstate)
		snprintf(first_sqlstate, sizeof(first_sqlstate), "%s",
			 sqlstate);
}

void
cli_errorf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	remember_error(msg, NULL);
	fprintf(stderr, "migrate: %s\n", msg);
}

void
cli_json_begin(struct cli *c, struct json *j)
{
	(void)c;
	json_init(j, stdout);
	json_begin_object(j, NULL);
}

void
cli_json_end(struct cli *c, struct json *j)
{
	json_end_object(j);
	json_finish(j);
	c->json_written = true;
}

/* --format json: a failed command's document,
 * {"error": MESSAGE, "exit_code": N, "sqlstate": S or null}. */
static void
json_error(int code)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_string(&j, "error", first_error[0] ? first_error : "failed");
	json_int(&j, "exit_code", code);
	json_string(&j, "sqlstate", first_sqlstate[0] ? first_sqlstate : NULL);
	json_end_object(&j);
	json_finish(&j);
}

static bool
is_labelled_line(const char *s, size_t n)
{
	static const char *const labels[] = { "DETAIL:", "HINT:", "CONTEXT:",
					      "WHERE:", "QUERY:" };
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		size_t l = strlen(labels[i]);

		if (n >= l && strncmp(s, labels[i], l) == 0)
			return true;
	}
	return false;
}

/* Write @msg: its first line with the continuation lines folded into it
 * (libpq wraps connection errors; the library adds "in revision ..."),
 * then the DETAIL:/HINT: lines on their own; no final newline. */
static void
print_folded(FILE *out, const char *msg)
{
	int pass;

	/*
	 * Pass 0: the first line and every unlabelled continuation line ("in
	 * revision 002 (upgrade)", "gave up after ...") on one line, joined by
	 * "; ". Pass 1: each DETAIL:/HINT: line on a line of its own, so a
	 * server's detail never swallows our own context.
	 */
	for (pass = 0; pass < 2; pass++) {
		const char *p, *nl;
		bool first = true;

		for (p = msg; *p; p = *nl ? nl + 1 : nl) {
			size_t n;
			bool labelled;

			nl = strchr(p, '\n');
			if (!nl)
				nl = p + strlen(p);
			n = (size_t)(nl - p);
			while (n > 0 && (*p == ' ' || *p == '\t')) {
				p++;
				n--;
			}
			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
				n--;
			if (n == 0)
				continue;
			labelled = !first && is_labelled_line(p, n);
			if (pass == 0 && !labelled) {
				if (!first)
					fputs("; ", out);
				fwrite(p, 1, n, out);
			} else if (pass == 1 && labelled) {
				fputc('\n', out);
				fwrite(p, 1, n, out);
			}
			first = false;
		}
	}
}

void
cli_print_error(const char *msg, const char *sqlstate, int rc)
{
	if (!msg || !*msg)
		msg = migrate_strerror(rc);
	remember_error(msg, sqlstate);
	fputs("migrate: ", stderr);
	print_folded(stderr, msg);
	if (sqlstate && *sqlstate && !strstr(msg, sqlstate))
		fprintf(stderr, " (SQLSTATE %s)", sqlstate);
	fputc('\n', stderr);
}

int
cli_fail(struct cli *c, int rc, enum cli_phase phase)
{
	cli_print_error(migrate_errmsg(c->m), migrate_sqlstate(c->m), rc);
	return cli_exit_code(rc, phase);
}

int
cli_load_registry(struct cli *c, bool allow_empty, bool writes)
{
	int rc, code;

	rc = migrate_registry_new(&c->reg);
	if (rc < 0) {
		cli_errorf("%s", migrate_strerror(rc));
		return CLI_EXIT_DATABASE;
	}
	code = cli_revisions_load(c, c->reg, writes, &rc);
	if (code != CLI_EXIT_OK)
		return code;
	if (rc == 0 && !(allow_empty && migrate_registry_count(c->reg) == 0))
		rc = migrate_registry_validate(c->reg);
	if (rc < 0) {
		const char *msg = migrate_registry_errmsg(c->reg);

		if (rc == MIGRATE_ENOTFOUND && c->revisions_dir && !*msg)
			cli_errorf("%s: no such directory", c->revisions_dir);
		else
			cli_print_error(msg, NULL, rc);
		return cli_exit_code(rc, CLI_PHASE_REVISIONS);
	}
	return CLI_EXIT_OK;
}

/*
 * The terminal's progress line: "upgrade 2/5 r002, 12.0 s: message",
 * drawn at each revision and redrawn every half second by a ticker thread
 * while one runs, so a long revision shows its time passing. One per
 * process (the CLI runs one command).
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running; /* the ticker thread exists */
	bool stop;    /* it should end */
	bool shown;   /* the line is on the terminal */
	char head[128];
	char tail[48];
} ticker = { .lock = PTHREAD_MUTEX_INITIALIZER,
	     .wake = PTHREAD_COND_INITIALIZER };

/* With ticker.lock held. */
static void
draw_line(const struct cli *c)
{
	fprintf(stderr, "\r\033[K%s, %.1f s%s", ticker.head,
		(migrate__clock_ms() - c->t_start) / 1000.0, ticker.tail);
	fflush(stderr);
}

static void
clear_line(void)
{
	pthread_mutex_lock(&ticker.lock);
	if (ticker.shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		ticker.shown = false;
	}
	pthread_mutex_unlock(&ticker.lock);
}

static void *
ticker_main(void *arg)
{
	const struct cli *c = arg;

	pthread_mutex_lock(&ticker.lock);
	while (!ticker.stop) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ticker.wake, &ticker.lock, &until);
		if (!ticker.stop && ticker.shown)
			draw_line(c);
	}
	pthread_mutex_unlock(&ticker.lock);
	return NULL;
}

/*
 * Progress of upgrade/downgrade on stderr. Not prefixed "migrate: " (that
 * is how errors start; CI logs would flag every line). With -v one line
 * per event, "upgrade 2/5 r002: message ..."; on a terminal without -v one
 * line rewritten in place with the revision i/N and the elapsed time,
 * cleared at the end (cli_progress_end()). No colour is used, so NO_COLOR
 * has nothing to turn off.
 */
static void
progress(const char *revision,
	 int direction,
	 int phase,
	 double elapsed_ms,
	 void *payload)
{
	struct cli *c = payload;
	const char *verb = direction == MIGRATE_DOWN ? "downgrade" : "upgrade";
	char count[48] = "";

	if (phase == MIGRATE_PROGRESS_DONE)
		c->steps_done++;
	if (phase == MIGRATE_PROGRESS_RETRY && !c->quiet) {
		/* Always said (issue: "printing what it waited on"): the
		 * handle's message holds the lock timeout error. */
		const char *why = c->m ? migrate_errmsg(c->m) : "";

		clear_line();
		fprintf(stderr,
			"%s %s hit the lock timeout after %.1f ms; rolled back, retrying%s",
			verb, revision, elapsed_ms, *why ? ": " : "");
		print_folded(stderr, why);
		fputc('\n', stderr);
		fflush(stderr);
		return;
	}
	if (phase == MIGRATE_PROGRESS_START) {
		c->step_index++;
		if (c->steps_total >= c->step_index)
			snprintf(count, sizeof(count), " %zu/%zu",
				 c->step_index, c->steps_total);
		else
			snprintf(count, sizeof(count), " %zu", c->step_index);
	}
	if (c->tty_progress && c->verbose <= 0) {
		const struct migrate_revision *rev = NULL;
		const char *msg = "";

		if (phase != MIGRATE_PROGRESS_START)
			return;
		if (c->m && migrate_registry_find(&rev, migrate_registry(c->m),
						  revision) == 0)
			msg = migrate_revision_message(rev);
		pthread_mutex_lock(&ticker.lock);
		snprintf(ticker.head, sizeof(ticker.head), "%s%s %s", verb,
			 count, revision);
		/* One line, cut to the terminal's usual width. */
		snprintf(ticker.tail, sizeof(ticker.tail), "%s%.40s",
			 *msg ? ": " : "", msg);
		ticker.shown = true;
		draw_line(c);
		pthread_mutex_unlock(&ticker.lock);
		return;
	}
	if (c->verbose <= 0)
		return;
	switch (phase) {
	case MIGRATE_PROGRESS_START: {
		const struct migrate_revision *rev = NULL;
		const char *msg = "";

		if (c->m && migrate_registry_find(&rev, migrate_registry(c->m),
						  revision) == 0)
			msg = migrate_revision_message(rev);
		fprintf(stderr, "%s%s %s%s%s ...\n", verb, count, revision,
			*msg ? ": " : "", msg);
		break;
	}
	case MIGRATE_PROGRESS_DONE:
		fprintf(stderr, "%s %s done in %.1f ms\n", verb, revision,
			elapsed_ms);
		break;
	case MIGRATE_PROGRESS_FAILED:
		fprintf(stderr, "%s %s failed after %.1f ms\n", verb, revision,
			elapsed_ms);
		break;
	default:
		break;
	}
	fflush(stderr);
}

void
cli_progress_begin(struct cli *c, int direction, const char *target)
{
	struct migrate_plan *plan = NULL;

	c->t_start = migrate__clock_ms();
	c->step_index = 0;
	c->steps_total = 0;
	c->tty_progress = !c->quiet && !c->json && isatty(STDERR_FILENO);
	/* N of "i/N": a plan before the run (a read; only when shown). */
	if ((c->tty_progress || c->verbose > 0) &&
	    migrate_plan(&plan, c->m, direction, target) == 0)
		c->steps_total = migrate_plan_count(plan);
	migrate_plan_free(plan);
	if (c->tty_progress && c->verbose <= 0) {
		sigset_t block, old;

		/* Signals go to the main thread (the one the library
		 * cancels), never to the ticker. Without a ticker the line
		 * is still drawn at each revision. */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		ticker.stop = false;
		ticker.running = pthread_create(&ticker.thread, NULL,
						ticker_main, c) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}

void
cli_progress_end(struct cli *c)
{
	(void)c;
	if (ticker.running) {
		pthread_mutex_lock(&ticker.lock);
		ticker.stop = true;
		pthread_cond_signal(&ticker.wake);
		pthread_mutex_unlock(&ticker.lock);
		pthread_join(ticker.thread, NULL);
		ticker.running = false;
	}
	clear_line();
}

void
cli_fill_options(struct cli *c, struct migrate_options *opts)
{
	migrate_options_init(opts, MIGRATE_OPTIONS_VERSION);
	opts->database_url = c->database_url;
	opts->version_table = c->version_table;
	opts->schema = c->schema;
	if (c->single_transaction)
		opts->flags |= MIGRATE_OPEN_SINGLE_TRANSACTION;
	if (c->lock_wait_ms >= 0)
		opts->lock_wait_ms = c->lock_wait_ms;
	if (c->lock_timeout_ms >= 0)
		opts->lock_timeout_ms = c->lock_timeout_ms;
	if (c->statement_timeout_ms >= 0)
		opts->statement_timeout_ms = c->statement_timeout_ms;
	if (c->retries >= 0)
		opts->lock_retries = c->retries;
	opts->io_timeout_ms = c->io_timeout_ms;
	opts->progress = progress;
	opts->progress_payload = c;
	opts->plan_check = cli_plan_check;
	opts->plan_check_payload = c;
	opts->plan_preview = cli_plan_preview;
}

static void
sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* A signal (Ctrl-C) ends the pause early. */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_signal)
		;
}

/* One connection attempt on a throw-away handle (an empty registry,
 * read-only: connect and nothing else). Returns the library's code; on
 * failure the first line of its message is copied to @msg. */
static int
try_connect(struct cli *c, char *msg, size_t msglen)
{
	struct migrate_revision_def def = MIGRATE_REVISION_DEF_INIT;
	struct migrate_registry *reg = NULL;
	struct migrate_options opts;
	struct migrate *m = NULL;
	int rc;

	msg[0] = '\0';
	/* migrate_open() wants a registry that holds a revision: one that
	 * this read-only handle never runs (no command follows). */
	def.id = "wait_probe";
	def.upgrade_sql = "SELECT 1";
	rc = migrate_registry_new(&reg);
	if (rc == 0)
		rc = migrate_registry_add(reg, &def);
	if (rc < 0) {
		migrate_registry_free(reg);
		return rc;
	}
	cli_fill_options(c, &opts);
	opts.flags |= MIGRATE_OPEN_READONLY;
	opts.progress = NULL;
	/* migrate_open() takes the registry, even on failure. */
	rc = migrate_open(&m, reg, NULL, &opts);
	if (rc < 0 && m)
		snprintf(msg, msglen, "%.*s",
			 (int)strcspn(migrate_errmsg(m), "\n"),
			 migrate_errmsg(m));
	migrate_close(m);
	return rc;
}

int
cli_wait_for_database(struct cli *c, int wait_ms)
{
	char msg[512];
	bool tty = !c->quiet && isatty(STDERR_FILENO);
	bool own_timeout = !getenv("PGCONNECT_TIMEOUT");
	double t0 = migrate__clock_ms();
	int pause_ms = 100, attempt, rc;

	for (attempt = 1;; attempt++) {
		double left = (double)wait_ms - (migrate__clock_ms() - t0);

		/* Bound each attempt by what is left (libpq: at least 2 s),
		 * unless the user chose a timeout. */
		if (own_timeout) {
			char s[16];

			snprintf(s, sizeof(s), "%d",
				 left > 2000.0 ? (int)(left / 1000.0 + 0.999)
					       : 2);
			setenv("PGCONNECT_TIMEOUT", s, 1);
		}
		rc = try_connect(c, msg, sizeof(msg));
		if (own_timeout)
			unsetenv("PGCONNECT_TIMEOUT");
		if (rc == 0 || rc != MIGRATE_EBACKEND || cli_signal)
			break;
		left = (double)wait_ms - (migrate__clock_ms() - t0);
		if (left <= 0)
			break;
		if (tty) {
			fprintf(stderr,
				"\r\033[Kwaiting for the database: %.0f s of %.0f s, attempt %d",
				(migrate__clock_ms() - t0) / 1000.0,
				wait_ms / 1000.0, attempt);
			fflush(stderr);
		}
		sleep_ms(pause_ms < left ? pause_ms : (int)left + 1);
		if (pause_ms < 1000)
			pause_ms *= 2;
	}
	if (tty && attempt > 1) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	if (cli_signal) {
		cli_errorf("interrupted while waiting for the database");
		return 128 + (int)cli_signal;
	}
	if (rc == 0)
		return CLI_EXIT_OK;
	if (rc == MIGRATE_EBACKEND) {
		cli_errorf(
			"the database did not accept connections within %.1f s (%d attempts): %s",
			wait_ms / 1000.0, attempt, msg);
		return CLI_EXIT_DATABASE;
	}
	/* Not a matter of waiting (a malformed URL): say why. */
	if (msg[0])
		cli_print_error(msg, NULL, rc);
	else
		cli_errorf("%s", migrate_strerror(rc));
	return cli_exit_code(rc, CLI_PHASE_CONNECT);
}

int
cmd_wait(struct cli *c)
{
	int rc = cli_wait_for_database(
		c, c->wait_ms >= 0 ? c->wait_ms : CLI_DEFAULT_WAIT_MS);

	if (rc == CLI_EXIT_OK && c->json) {
		struct json j;

		cli_json_begin(c, &j);
		json_bool(&j, "ready", true);
		cli_json_end(c, &j);
	} else if (rc == CLI_EXIT_OK && !c->quiet) {
		printf("the database accepts connections\n");
	}
	return rc;
}

int
cli_open(struct cli *c, bool read_only)
{
	struct migrate_options opts;
	const char *dir = NULL;
	int rc;

	/* Revisions from a directory load while the connection is made
	 * (migrate_open_dir()); --wait probes the database first, so it
	 * loads them before, as embedded ones do. */
	if (c->wait_ms <= 0)
		dir = cli_revisions_dir(c);
	if (!dir) {
		rc = cli_load_registry(c, false, !read_only);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	if (!dir && c->wait_ms > 0) {
		rc = cli_wait_for_database(c, c->wait_ms);
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	cli_fill_options(c, &opts);
	if (read_only)
		opts.flags |= MIGRATE_OPEN_READONLY;
	if (dir) {
		rc = migrate_open_dir(&c->m, dir, NULL, &opts);
	} else {
		/* migrate_open() owns the registry from here on, even on
		 * failure. */
		rc = migrate_open(&c->m, c->reg, NULL, &opts);
		c->reg = NULL;
	}
	cli_handle = c->m;
	/* A signal during the connect: cancel what comes next. */
	if (cli_signal && c->m)
		migrate_cancel(c->m);
	if (rc < 0) {
		const char *rev_msg;

		if (!c->m) {
			cli_errorf("%s", migrate_strerror(rc));
			return CLI_EXIT_DATABASE;
		}
		/* The revisions' error, as cli_load_registry() reports it. */
		rev_msg = migrate_registry_errmsg(migrate_registry(c->m));
		if (dir && *rev_msg) {
			cli_print_error(rev_msg, NULL, rc);
			return cli_exit_code(rc, CLI_PHASE_REVISIONS);
		}
		return cli_fail(c, rc, CLI_PHASE_CONNECT);
	}
	return CLI_EXIT_OK;
}

/* The one duration grammar (libmigrate/util/migrate-util.h), as in revision
 * files. */
static bool
parse_duration(const char *s, int *ms)
{
	return migrate__duration_parse(s, strlen(s), ms);
}

static bool
parse_count(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < 0 || v > 1000000)
		return false;
	*out = (int)v;
	return true;
}

static const char *
unmark(const char *s)
{
	return s && s[0] == NEG_MARK ? s + 1 : s;
}

/* "-1", "-12": a relative target, not an option. */
static bool
looks_negative(const char *s)
{
	size_t i;

	if (s[0] != '-' || s[1] == '\0')
		return false;
	for (i = 1; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static const struct cli_command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < cli_command_count; i++) {
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	}
	return NULL;
}

static const struct cli_option *
find_option(enum cli_opt_id id)
{
	size_t i;

	for (i = 0; i < cli_option_count; i++) {
		if (cli_options[i].id == id)
			return &cli_options[i];
	}
	return NULL;
}

/* "-v, --verbose", "--lock-wait DURATION", "--wait[=DURATION]". */
static void
option_spec(char *buf, size_t len, const struct cli_option *o)
{
	char s[8] = "";

	if (o->short_name)
		snprintf(s, sizeof(s), "-%c, ", o->short_name);
	if (o->arg == CLI_ARG_REQUIRED)
		snprintf(buf, len, "%s--%s %s", s, o->name, o->metavar);
	else if (o->arg == CLI_ARG_OPTIONAL)
		snprintf(buf, len, "%s--%s[=%s]", s, o->name, o->metavar);
	else
		snprintf(buf, len, "%s--%s", s, o->name);
}

#define HELP_WIDTH 79

/* Print @text starting at column @col, wrapped at HELP_WIDTH; continuation
 * lines start at column @indent; '\n' in @text ends a paragraph (an empty
 * line follows). Ends with a newline. */
static void
print_wrapped(FILE *out, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " \n");

		if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		} else if (col < indent) {
			fprintf(out, "%*s", indent - col, "");
			col = indent;
		}
		fwrite(p, 1, word, out);
		col += (int)word;
		p += word;
		if (*p == '\n') {
			/* A paragraph break: an empty line. */
			fputs("\n\n", out);
			col = 0;
		}
		while (*p == ' ' || *p == '\n')
			p++;
	}
	fputc('\n', out);
}

/* One option in a help listing: spec in a 28-column field, then its text
 * and its environment variable. */
static void
print_option_help(FILE *out, const struct cli_option *o)
{
	char spec[80], text[512];
	int col;

	option_spec(spec, sizeof(spec), o);
	col = fprintf(out, "  %s", spec);
	if (col > 27) {
		fputc('\n', out);
		col = 0;
	}
	if (o->env)
		snprintf(text, sizeof(text), "%s [$%s]", o->help, o->env);
	else
		snprintf(text, sizeof(text), "%s", o->help);
	fprintf(out, "%*s", 28 - col, "");
	print_wrapped(out, text, 28, 28);
}

static void
print_global_help(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: migrate [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"migrate (libmigrate %s): %s.\n"
		"\n"
		"Commands:\n",
		migrate_version_string(), cli_tagline);
	for (i = 0; i < cli_command_count; i++) {
		const struct cli_command *cmd = &cli_commands[i];
		char head[64];

		snprintf(head, sizeof(head), "%s%s%s", cmd->name,
			 *cmd->args ? " " : "", cmd->args);
		/* One line each (README.md copies the list). */
		fprintf(out, "  %-21s %s\n", head, cmd->summary);
	}
	fprintf(out, "  %-21s %s\n", "help [COMMAND]",
		"show help ('migrate COMMAND --help' too)");
	fputs("\nOptions:\n", out);
	for (i = 0; i < cli_option_count; i++) {
		if (cli_options[i].commands == 0)
			print_option_help(out, &cli_options[i]);
	}
	for (i = 0; i < cli_section_count; i++) {
		fputc('\n', out);
		print_wrapped(out, cli_sections[i].text,
			      fprintf(out, "%s:", cli_sections[i].title), 0);
	}
	fputs("\nExit status:\n", out);
	for (i = 0; i < cli_exit_status_count; i++)
		print_wrapped(out, cli_exit_statuses[i].text,
			      fprintf(out, "  %d ", cli_exit_statuses[i].code),
			      5);
}

static void
print_command_help(const struct cli_command *cmd)
{
	size_t i;
	bool any = false;

	printf("usage: migrate [OPTIONS] %s", cmd->name);
	for (i = 0; i < cli_option_count; i++) {
		char spec[80];

		char flag[40];

		if (!(cli_options[i].commands & cmd->bit))
			continue;
		/* A required option ("-m MESSAGE") is part of the args. */
		snprintf(flag, sizeof(flag), "-%c ", cli_options[i].short_name);
		if (cli_options[i].short_name && strstr(cmd->args, flag))
			continue;
		option_spec(spec, sizeof(spec), &cli_options[i]);
		printf(" [%s]", spec);
	}
	printf("%s%s\n\n", *cmd->args ? " " : "", cmd->args);
	print_wrapped(stdout, cmd->help, 0, 0);
	for (i = 0; i < cli_option_count; i++) {
		if (!(cli_options[i].commands & cmd->bit))
			continue;
		if (!any)
			fputs("\nOptions:\n", stdout);
		any = true;
		print_option_help(stdout, &cli_options[i]);
	}
	printf("\nGlobal options (--database-url, --revisions, -v, -q, ...) and exit codes:\nsee 'migrate --help'.\n");
}

static void
usage_hint(void)
{
	fputs("Run 'migrate --help' for usage.\n", stderr);
}

/* "1", "true", "yes", "on" -> 1; "0", "false", "no", "off" -> 0; else -1. */
static int
parse_switch(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/*
 * Set option @o from @value (NULL: a switch given on the command line).
 * @label names the source in errors: "--lock-wait" or "MIGRATE_LOCK_WAIT".
 * Returns false after printing an error (a usage error).
 */
static bool
apply_option(struct cli *c,
	     const struct cli_option *o,
	     const char *value,
	     const char *label)
{
	bool on = true;

	if (o->arg == CLI_ARG_NONE && value) {
		int v = parse_switch(value);

		if (v < 0) {
			cli_errorf(
				"%s: expected 1/true/yes/on or 0/false/no/off, not '%s'",
				label, value);
			return false;
		}
		on = v == 1;
	}
	switch (o->id) {
	case OPT_DATABASE_URL:
		c->database_url = value;
		c->have_url = true;
		break;
	case OPT_REVISIONS:
		c->revisions_dir = value;
		break;
	case OPT_VERSION_TABLE:
		c->version_table = value;
		break;
	case OPT_SCHEMA:
		c->schema = value;
		break;
	case OPT_WAIT:
		if (!value) {
			c->wait_ms = CLI_DEFAULT_WAIT_MS;
		} else if (!parse_duration(value, &c->wait_ms)) {
			cli_errorf("%s: invalid duration '%s' (%s)", label,
				   value, MIGRATE_DURATION_HINT);
			return false;
		}
		break;
	case OPT_LOCK_WAIT:
		if (!parse_duration(value, &c->lock_wait_ms)) {
			cli_errorf("%s: invalid duration '%s' (%s)", label,
				   value, MIGRATE_DURATION_HINT);
			return false;
		}
		break;
	case OPT_IO_TIMEOUT:
		if (!parse_duration(value, &c->io_timeout_ms) ||
		    c->io_timeout_ms == 0) {
			cli_errorf(
				"%s: invalid duration '%s' (more than 0: %s)",
				label, value, MIGRATE_DURATION_HINT);
			return false;
		}
		break;
	case OPT_LOCK_TIMEOUT:
		if (!parse_duration(value, &c->lock_timeout_ms)) {
			cli_errorf("%s: invalid duration '%s' (%s)", label,
				   value, MIGRATE_DURATION_HINT);
			return false;
		}
		break;
	case OPT_STATEMENT_TIMEOUT:
		if (!parse_duration(value, &c->statement_timeout_ms)) {
			cli_errorf("%s: invalid duration '%s' (%s)", label,
				   value, MIGRATE_DURATION_HINT);
			return false;
		}
		break;
	case OPT_RETRIES:
		if (!parse_count(value, &c->retries)) {
			cli_errorf("%s: invalid count '%s'", label, value);
			return false;
		}
		break;
	case OPT_SINGLE_TRANSACTION:
		c->single_transaction = on;
		break;
	case OPT_VERBOSE:
		if (!value)
			c->verbose++;
		else
			c->verbose = on ? 1 : 0;
		break;
	case OPT_QUIET:
		c->quiet = on;
		break;
	case OPT_MESSAGE:
		c->message = value;
		break;
	case OPT_REV_RANGE:
		c->rev_range = value;
		break;
	case OPT_FORMAT:
		if (strcmp(value, "json") == 0) {
			c->json = true;
		} else if (strcmp(value, "text") == 0) {
			c->json = false;
		} else {
			cli_errorf("%s: expected text or json, not '%s'", label,
				   value);
			return false;
		}
		break;
	case OPT_PURGE:
	case OPT_HELP:
	case OPT_VERSION:
	case OPT_SQL:
	case OPT_DOWN:
	case OPT_UNDO:
	case OPT_ALLOW_AHEAD:
	case OPT_ALLOW_CHANGED:
	case OPT_STRICT:
	case OPT_NO_PARSE:
	case OPT_COUNT_:
		break;
	}
	return true;
}

/* The MIGRATE_* variables of the options not given on the command line
 * (-v and -q count as one: either on the command line overrides both). */
static bool
apply_environment(struct cli *c)
{
	bool verbosity_given =
		CLI_GIVEN(c, OPT_VERBOSE) || CLI_GIVEN(c, OPT_QUIET);
	size_t i;

	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];
		const char *v;

		if (!o->env || CLI_GIVEN(c, o->id))
			continue;
		if (verbosity_given &&
		    (o->id == OPT_VERBOSE || o->id == OPT_QUIET))
			continue;
		v = getenv(o->env);
		if (!v || !*v)
			continue;
		if (!apply_option(c, o, v, o->env))
			return false;
	}
	if (c->verbose && c->quiet) {
		if (verbosity_given)
			cli_errorf("-v and -q exclude each other");
		else
			cli_errorf(
				"MIGRATE_VERBOSE and MIGRATE_QUIET exclude each other");
		return false;
	}
	return true;
}

/*
 * Copy an option value that may hold a password and overwrite it in argv:
 * every local user can read a process's arguments (ps, /proc/PID/cmdline)
 * for as long as it runs. $MIRAGE_DATABASE_URL, $PGPASSWORD or ~/.pgpass
 * never show there at all. NULL when out of memory.
 */
static char *
take_secret(char *arg)
{
	size_t n = strlen(arg);
	char *copy = malloc(n + 1);

	if (!copy)
		return NULL;
	memcpy(copy, arg, n + 1);
	memset(arg, 0, n);
	memcpy(arg, "***", n < 3 ? n : 3);
	return copy;
}

/* Parse the command line into @c. Returns -1 to exit with @exit_code
 * right away (help, version, usage error), else 0 with *cmd_out set. */
static int
parse_args(struct cli *c,
	   int argc,
	   char **argv,
	   const struct cli_command **cmd_out,
	   int *exit_code)
{
	struct option long_options[OPT_COUNT_ + 1];
	char short_options[2 * OPT_COUNT_ + 2];
	const struct cli_command *cmd;
	const char *env;
	size_t i, n_short = 0;
	int opt;

	/* Errors before the environment is read get a JSON document too. */
	env = getenv("MIGRATE_FORMAT");
	c->json = env && strcmp(env, "json") == 0;
	memset(long_options, 0, sizeof(long_options));
	short_options[n_short++] = ':';
	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		long_options[i].name = o->name;
		long_options[i].has_arg = (int)o->arg;
		long_options[i].val = 256 + (int)o->id;
		if (o->short_name) {
			short_options[n_short++] = o->short_name;
			if (o->arg == CLI_ARG_REQUIRED)
				short_options[n_short++] = ':';
		}
	}
	short_options[n_short] = '\0';

	opterr = 0;
	while ((opt = getopt_long(argc, argv, short_options, long_options,
				  NULL)) != -1) {
		const struct cli_option *o = NULL;
		const char *value;
		char label[64];

		if (opt >= 256) {
			o = find_option((enum cli_opt_id)(opt - 256));
		} else if (opt != ':' && opt != '?') {
			for (i = 0; i < cli_option_count; i++) {
				if (cli_options[i].short_name == opt)
					o = &cli_options[i];
			}
		}
		if (opt == ':') {
			cli_errorf("option '%s' needs a value",
				   unmark(argv[optind - 1]));
			goto usage;
		}
		if (!o) {
			if (optopt && optopt < 256)
				cli_errorf("unknown option '-%c'", optopt);
			else
				cli_errorf("unknown option '%s'",
					   unmark(argv[optind - 1]));
			goto usage;
		}
		c->given |= 1ul << o->id;
		snprintf(label, sizeof(label), "--%s", o->name);
		value = o->arg ? unmark(optarg) : NULL;
		if (o->id == OPT_DATABASE_URL) {
			free(c->url_arg);
			c->url_arg = take_secret(optarg);
			if (!c->url_arg) {
				cli_errorf("out of memory");
				*exit_code = CLI_EXIT_DATABASE;
				return -1;
			}
			value = c->url_arg;
		}
		if (!apply_option(c, o, value, label))
			goto usage;
	}

	if (CLI_GIVEN(c, OPT_VERSION)) {
		printf("migrate (libmigrate) %s\n", migrate_version_string());
		*exit_code = CLI_EXIT_OK;
		return -1;
	}
	if (optind >= argc) {
		if (CLI_GIVEN(c, OPT_HELP)) {
			print_global_help(stdout);
			*exit_code = CLI_EXIT_OK;
			return -1;
		}
		cli_errorf("no command given");
		goto usage;
	}

	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc) {
			cmd = find_command(unmark(argv[optind + 1]));
			if (!cmd) {
				cli_errorf("unknown command '%s'",
					   unmark(argv[optind + 1]));
				goto usage;
			}
			print_command_help(cmd);
		} else {
			print_global_help(stdout);
		}
		*exit_code = CLI_EXIT_OK;
		return -1;
	}
	cmd = find_command(unmark(argv[optind]));
	if (!cmd) {
		cli_errorf("unknown command '%s'", unmark(argv[optind]));
		goto usage;
	}
	if (CLI_GIVEN(c, OPT_HELP)) {
		print_command_help(cmd);
		*exit_code = CLI_EXIT_OK;
		return -1;
	}
	c->command = cmd->name;
	if (c->verbose && c->quiet) {
		cli_errorf("-v and -q exclude each other");
		goto usage;
	}
	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		if (o->commands && CLI_GIVEN(c, o->id) &&
		    !(o->commands & cmd->bit)) {
			cli_errorf("--%s does not apply to '%s'", o->name,
				   cmd->name);
			goto usage;
		}
	}

	c->args = (const char **)(argv + optind + 1);
	c->nargs = (size_t)(argc - optind - 1);
	for (i = 0; i < c->nargs; i++)
		c->args[i] = unmark(c->args[i]);
	if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
		if (c->nargs < cmd->min_args)
			cli_errorf("'%s' needs an argument", cmd->name);
		else
			cli_errorf("too many arguments for '%s'", cmd->name);
		fprintf(stderr, "usage: migrate [OPTIONS] %s%s%s\n", cmd->name,
			*cmd->args ? " " : "", cmd->args);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
	if (!apply_environment(c))
		goto usage;
	if (c->json && CLI_GIVEN(c, OPT_SQL)) {
		cli_errorf(
			"--format json does not apply to --sql (its output is a psql script)");
		goto usage;
	}

	/* Precedence: --database-url, $MIGRATE_DATABASE_URL (both above),
	 * $MIRAGE_DATABASE_URL, $DATABASE_URL, then libpq's PG* defaults
	 * (NULL). */
	if (!c->have_url) {
		if ((env = getenv("MIRAGE_DATABASE_URL")) && *env)
			c->database_url = env;
		else if ((env = getenv("DATABASE_URL")) && *env)
			c->database_url = env;
	}
	if (c->database_url && !*c->database_url)
		c->database_url = NULL;

	*cmd_out = cmd;
	return 0;

usage:
	usage_hint();
	*exit_code = CLI_EXIT_USAGE;
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli c;
	const struct cli_command *cmd = NULL;
	char **args, **marked;
	int i, code = CLI_EXIT_OK, n_marked = 0;

	memset(&c, 0, sizeof(c));
	c.wait_ms = -1;
	c.lock_wait_ms = -1;
	c.lock_timeout_ms = -1;
	c.statement_timeout_ms = -1;
	c.retries = -1;

	/* getopt reorders its argv, and takes "-1" for options: work on a
	 * copy in which relative targets carry a mark. */
	args = calloc((size_t)argc + 1, sizeof(*args));
	marked = calloc((size_t)argc + 1, sizeof(*marked));
	if (!args || !marked) {
		cli_errorf("out of memory");
		free(args);
		free(marked);
		return CLI_EXIT_DATABASE;
	}
	for (i = 0; i < argc; i++) {
		args[i] = argv[i];
		if (i > 0 && looks_negative(argv[i])) {
			size_t n = strlen(argv[i]);
			char *s = malloc(n + 2);

			if (!s) {
				cli_errorf("out of memory");
				code = CLI_EXIT_DATABASE;
				goto out;
			}
			s[0] = NEG_MARK;
			memcpy(s + 1, argv[i], n + 1);
			marked[n_marked++] = s;
			args[i] = s;
		}
	}

	if (parse_args(&c, argc, args, &cmd, &code) < 0)
		goto out;
	catch_signals();
	code = cmd->run(&c);
	/* Interrupted: a command that did not finish exits 128 + signal. */
	if (cli_signal && code != CLI_EXIT_OK)
		code = 128 + (int)cli_signal;

out:
	if (c.json && code != CLI_EXIT_OK && !c.json_written)
		json_error(code);
	fflush(stdout);
	if (ferror(stdout) && code == CLI_EXIT_OK) {
		cli_errorf("cannot write the output");
		code = CLI_EXIT_DATABASE;
	}
	cli_handle = NULL;
	migrate_close(c.m);
	migrate_registry_free(c.reg);
	free(c.url_arg);
	for (i = 0; i < n_marked; i++)
		free(marked[i]);
	free(marked);
	free(args);
	return code;
}
