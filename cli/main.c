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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmigrate.h>

#include "cli.h"
#include "embedded-revisions.h"

/* Marks an argument that looked like an option but is a relative target
 * ("-1"): getopt must not take it for the short options 1 and so on. */
#define NEG_MARK '\x01'

enum {
	OPT_DATABASE_URL = 256,
	OPT_REVISIONS,
	OPT_VERSION_TABLE,
	OPT_SCHEMA,
	OPT_LOCK_WAIT,
	OPT_LOCK_TIMEOUT,
	OPT_STATEMENT_TIMEOUT,
	OPT_RETRIES,
	OPT_SINGLE_TRANSACTION,
	OPT_VERSION,
	OPT_SQL,
	OPT_DOWN,
	OPT_UNDO,
	OPT_ALLOW_AHEAD,
	OPT_ALLOW_CHANGED,
};

static const struct option long_options[] = {
	{ "database-url", required_argument, NULL, OPT_DATABASE_URL },
	{ "revisions", required_argument, NULL, OPT_REVISIONS },
	{ "version-table", required_argument, NULL, OPT_VERSION_TABLE },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "lock-wait", required_argument, NULL, OPT_LOCK_WAIT },
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ "statement-timeout", required_argument, NULL, OPT_STATEMENT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "single-transaction", no_argument, NULL, OPT_SINGLE_TRANSACTION },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "sql", no_argument, NULL, OPT_SQL },
	{ "down", no_argument, NULL, OPT_DOWN },
	{ "undo", no_argument, NULL, OPT_UNDO },
	{ "allow-ahead", no_argument, NULL, OPT_ALLOW_AHEAD },
	{ "allow-changed", no_argument, NULL, OPT_ALLOW_CHANGED },
	{ "message", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

struct command {
	const char *name;
	int (*run)(struct cli *c);
	unsigned int allowed; /* enum cli_cmd_opt */
	size_t min_args;
	size_t max_args;
	const char *synopsis;
	const char *help;
};

static const struct command commands[] = {
	{ "upgrade", cmd_upgrade, CLI_OPT_SQL, 0, 1, "upgrade [--sql] [TARGET]",
	  "Apply the revisions that take the database to TARGET (default:\n"
	  "head). Each revision runs in its own transaction together with its\n"
	  "bookkeeping (or all in one with --single-transaction); on failure\n"
	  "the database stays at the last completed revision. Concurrent runs\n"
	  "wait for each other (--lock-wait) and never apply a revision twice.\n"
	  "\n"
	  "  --sql   print a psql script instead of touching any database\n"
	  "          (offline mode). TARGET may be FROM:TO, where FROM is the\n"
	  "          revision (or comma-separated revisions) the database is\n"
	  "          at; default FROM is base (an empty database). The script\n"
	  "          takes the same lock and refuses to run unless the\n"
	  "          database is at FROM.\n"
	  "  -v      one progress line per revision, with timings\n" },
	{ "downgrade", cmd_downgrade, CLI_OPT_SQL, 1, 1,
	  "downgrade [--sql] TARGET",
	  "Revert revisions until the database is at TARGET: -1 (one step),\n"
	  "-N, base (nothing applied), or an id. Refused (exit 3) when a\n"
	  "revision on the way has no downgrade section.\n"
	  "\n"
	  "  --sql   print a psql script instead (offline mode); TARGET may be\n"
	  "          FROM:TO, default FROM is this build's head(s)\n"
	  "  -v      one progress line per revision, with timings\n" },
	{ "current", cmd_current, 0, 0, 0, "current",
	  "Print the revision(s) the database is at, one per line, marked\n"
	  "(head) when at this build's head; <base> when nothing is applied.\n"
	  "With -q: bare ids only. Reads only; creates nothing.\n" },
	{ "history", cmd_history, 0, 0, 0, "history",
	  "List this build's revisions in order (parents first), each marked\n"
	  "applied or pending for the database. With -v: who applied or\n"
	  "reverted each revision, when, and how long it took (from the\n"
	  "history table). Reads only.\n" },
	{ "heads", cmd_heads, 0, 0, 0, "heads",
	  "Print this build's head revision(s): the newest, that no revision\n"
	  "revises. Needs no database.\n" },
	{ "check", cmd_check, CLI_OPT_ALLOW_AHEAD | CLI_OPT_ALLOW_CHANGED, 0, 0,
	  "check [--allow-ahead] [--allow-changed]",
	  "Verify that the database is exactly at this build's head, and that\n"
	  "no applied revision was changed since (checksums). Prints one line\n"
	  "saying where the database is. Exit 0 when it is at head, 1 when it\n"
	  "is not (behind, ahead, unknown revision, no version table, dirty,\n"
	  "changed), 4 when it cannot be reached. Reads only: no lock, no DDL.\n"
	  "\n"
	  "  --allow-ahead    accept a database that has every revision of\n"
	  "                   this build plus newer ones (rolling deploys)\n"
	  "  --allow-changed  report, but accept, changed revisions\n" },
	{ "stamp", cmd_stamp, 0, 1, 1, "stamp TARGET",
	  "Set the version table to TARGET without running any revision SQL\n"
	  "(e.g. for a database created by other means). Records a history\n"
	  "row per step, marked as stamp.\n" },
	{ "plan", cmd_plan, CLI_OPT_DOWN, 0, 1, "plan [--down] [TARGET]",
	  "Show the steps an upgrade to TARGET (default: head) would run,\n"
	  "without running them. With --down: a downgrade (TARGET required).\n" },
	{ "revision", cmd_revision, CLI_OPT_MESSAGE, 0, 0,
	  "revision -m MESSAGE",
	  "Write a new revision file NNN_slug.sql into the revisions directory\n"
	  "(--revisions DIR, default ./revisions) from a template: the next\n"
	  "id (one more than the highest numeric id, else a random 12-digit\n"
	  "hex id), Revises: the current head(s), today's date. Never\n"
	  "overwrites a file. Needs no database.\n"
	  "\n"
	  "  -m, --message MESSAGE  one-line description (required)\n" },
	{ "resolve", cmd_resolve, CLI_OPT_UNDO, 1, 1, "resolve [--undo] REV",
	  "Clear the dirty mark that a failed non-transactional revision left.\n"
	  "First fix the schema by hand, then run:\n"
	  "  migrate resolve REV         the revision is now complete\n"
	  "  migrate resolve --undo REV  the revision is not applied\n" },
};

static const char global_help[] =
	"Commands:\n"
	"  upgrade [TARGET]      apply revisions up to TARGET (default: head)\n"
	"  downgrade TARGET      revert revisions down to TARGET (-1, base, an "
	"id)\n"
	"  current               show the revision(s) the database is at\n"
	"  history               list revisions, applied or pending (-v: who, "
	"when)\n"
	"  heads                 show this build's head revision(s)\n"
	"  check                 exit 0 if the database is at head, else 1\n"
	"  stamp TARGET          set the version table without running SQL\n"
	"  plan [TARGET]         show what upgrade (--down: downgrade) would "
	"do\n"
	"  revision -m MESSAGE   write a new revision file from the template\n"
	"  resolve [--undo] REV  clear the dirty mark of a failed revision\n"
	"  help [COMMAND]        show help ('migrate COMMAND --help' too)\n"
	"\n"
	"Targets: head, heads, base, an id or a unique id prefix, +N / -N\n"
	"(relative to the current revision), ID+N / ID-N.\n"
	"\n"
	"Options:\n"
	"  --database-url URL       postgresql://USER@HOST:PORT/DB (also "
	"postgres://,\n"
	"                           postgresql+DRIVER://) or a libpq conninfo\n"
	"  --revisions DIR          load revision files from DIR instead of "
	"the\n"
	"                           ones built into this program\n"
	"  --version-table NAME     version table (default alembic_version)\n"
	"  --schema NAME            schema of the bookkeeping tables (default: "
	"the\n"
	"                           first schema of the search_path)\n"
	"  --lock-wait SECONDS      wait for the migration lock (default 60)\n"
	"  --lock-timeout DURATION  lock_timeout of each revision (default 5s, "
	"0: none)\n"
	"  --statement-timeout DURATION  statement_timeout of each revision\n"
	"                           (default 0: none)\n"
	"  --retries N              retries of a revision that hit the lock "
	"timeout\n"
	"                           (default 3)\n"
	"  --single-transaction     run a whole upgrade/downgrade in one "
	"transaction\n"
	"  -v, --verbose            progress lines with timings, more detail\n"
	"  -q, --quiet              print only errors and requested output\n"
	"  -h, --help               this help; 'migrate COMMAND --help' for one "
	"command\n"
	"  --version                print the version and exit\n"
	"\n"
	"Durations: seconds, or a number with a unit: 500ms, 5s, 2min, 1h.\n"
	"\n"
	"Database: --database-url, else $MIRAGE_DATABASE_URL, else "
	"$DATABASE_URL,\n"
	"else libpq's defaults ($PGHOST, $PGPORT, $PGUSER, $PGDATABASE, "
	"$PGPASSWORD,\n"
	"~/.pgpass...). Passwords are never printed.\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  check: the database is not at head\n"
	"  2  usage error (bad option, argument, URL or target)\n"
	"  3  bad revisions (malformed file, duplicate id, unknown parent, "
	"cycle,\n"
	"     irreversible step)\n"
	"  4  database error (cannot connect, SQL failed, dirty or unknown "
	"state)\n"
	"  5  the migration lock was not obtained within --lock-wait\n";

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

void
cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("migrate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

double
cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int
cli_load_registry(struct cli *c, bool allow_empty)
{
	int rc;

	rc = migrate_registry_new(&c->reg);
	if (rc < 0) {
		cli_errorf("%s", migrate_strerror(rc));
		return CLI_EXIT_DATABASE;
	}
	if (c->revisions_dir)
		rc = migrate_registry_load_dir(c->reg, c->revisions_dir);
	else
		rc = embedded_revisions_load(c->reg);
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

static void
progress(const char *revision,
	 int direction,
	 int phase,
	 double elapsed_ms,
	 void *payload)
{
	struct cli *c = payload;
	const char *verb = direction == MIGRATE_DOWN ? "downgrade" : "upgrade";

	if (phase == MIGRATE_PROGRESS_DONE)
		c->steps_done++;
	if (phase == MIGRATE_PROGRESS_RETRY && !c->quiet) {
		/* Always said (issue: "printing what it waited on"): the
		 * handle's message holds the lock timeout error. */
		const char *why = c->m ? migrate_errmsg(c->m) : "";

		fprintf(stderr,
			"migrate: %s %s hit the lock timeout after %.1f ms; "
			"rolled back, retrying%s",
			verb, revision, elapsed_ms, *why ? ": " : "");
		print_folded(stderr, why);
		fputc('\n', stderr);
		fflush(stderr);
		return;
	}
	if (c->verbose <= 0)
		return;
	switch (phase) {
	case MIGRATE_PROGRESS_START: {
		const struct migrate_revision *rev = NULL;
		const char *msg = "";

		if (c->m && migrate_registry_find(migrate_registry(c->m),
						  revision, &rev) == 0)
			msg = migrate_revision_message(rev);
		fprintf(stderr, "migrate: %s %s%s%s ...\n", verb, revision,
			*msg ? ", " : "", msg);
		break;
	}
	case MIGRATE_PROGRESS_DONE:
		fprintf(stderr, "migrate: %s %s done in %.1f ms\n", verb,
			revision, elapsed_ms);
		break;
	case MIGRATE_PROGRESS_FAILED:
		fprintf(stderr, "migrate: %s %s failed after %.1f ms\n", verb,
			revision, elapsed_ms);
		break;
	default:
		break;
	}
	fflush(stderr);
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
	opts->progress = progress;
	opts->progress_payload = c;
}

int
cli_open(struct cli *c, bool read_only)
{
	struct migrate_options opts;
	int rc;

	rc = cli_load_registry(c, false);
	if (rc != CLI_EXIT_OK)
		return rc;
	cli_fill_options(c, &opts);
	if (read_only)
		opts.flags |= MIGRATE_OPEN_READONLY;
	/* migrate_open() owns the registry from here on, even on failure. */
	rc = migrate_open(&c->m, c->reg, NULL, &opts);
	c->reg = NULL;
	if (rc < 0) {
		if (!c->m) {
			cli_errorf("%s", migrate_strerror(rc));
			return CLI_EXIT_DATABASE;
		}
		return cli_fail(c, rc, CLI_PHASE_CONNECT);
	}
	return CLI_EXIT_OK;
}

/* "5", "1.5s", "500ms", "2min", "1h" -> milliseconds; a bare number is in
 * seconds. */
static bool
parse_duration(const char *s, int *ms)
{
	char *end;
	double v, scale = 1000.0;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return false;
	if (*end == '\0' || strcmp(end, "s") == 0)
		scale = 1000.0;
	else if (strcmp(end, "ms") == 0)
		scale = 1.0;
	else if (strcmp(end, "min") == 0)
		scale = 60000.0;
	else if (strcmp(end, "h") == 0)
		scale = 3600000.0;
	else
		return false;
	v *= scale;
	if (v > (double)INT_MAX)
		return false;
	*ms = (int)(v + 0.5);
	if (*ms == 0 && v > 0)
		*ms = 1;
	return true;
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

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static void
print_global_help(FILE *out)
{
	fprintf(out,
		"usage: migrate [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Versioned PostgreSQL schema migrations (libmigrate %s).\n"
		"\n",
		migrate_version_string());
	fputs(global_help, out);
}

static void
print_command_help(const struct command *cmd)
{
	printf("usage: migrate [OPTIONS] %s\n\n%s\n"
	       "Global options (--database-url, --revisions, -v, -q, ...) and "
	       "exit codes:\nsee 'migrate --help'.\n",
	       cmd->synopsis, cmd->help);
}

static void
usage_hint(void)
{
	fputs("Run 'migrate --help' for usage.\n", stderr);
}

static const char *
cmd_opt_name(unsigned int bit)
{
	switch (bit) {
	case CLI_OPT_SQL:
		return "--sql";
	case CLI_OPT_DOWN:
		return "--down";
	case CLI_OPT_UNDO:
		return "--undo";
	case CLI_OPT_ALLOW_AHEAD:
		return "--allow-ahead";
	case CLI_OPT_ALLOW_CHANGED:
		return "--allow-changed";
	case CLI_OPT_MESSAGE:
		return "-m/--message";
	default:
		return "?";
	}
}

/* Parse the command line into @c. Returns -1 to exit with @exit_code
 * right away (help, version, usage error), else 0 with *cmd_out set. */
static int
parse_args(struct cli *c,
	   int argc,
	   char **argv,
	   const struct command **cmd_out,
	   int *exit_code)
{
	const struct command *cmd;
	const char *url_opt = NULL, *env;
	bool help = false, version = false, have_url = false;
	int opt, i;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vqhm:", long_options, NULL)) !=
	       -1) {
		const char *arg = unmark(optarg);

		switch (opt) {
		case OPT_DATABASE_URL:
			url_opt = arg;
			have_url = true;
			break;
		case OPT_REVISIONS:
			c->revisions_dir = arg;
			break;
		case OPT_VERSION_TABLE:
			c->version_table = arg;
			break;
		case OPT_SCHEMA:
			c->schema = arg;
			break;
		case OPT_LOCK_WAIT:
			if (!parse_duration(arg, &c->lock_wait_ms)) {
				cli_errorf(
					"--lock-wait: invalid duration "
					"'%s' (seconds, or e.g. 500ms, 2min)",
					arg);
				goto usage;
			}
			break;
		case OPT_LOCK_TIMEOUT:
			if (!parse_duration(arg, &c->lock_timeout_ms)) {
				cli_errorf("--lock-timeout: invalid duration "
					   "'%s' (e.g. 5s, 500ms; 0 = none)",
					   arg);
				goto usage;
			}
			break;
		case OPT_STATEMENT_TIMEOUT:
			if (!parse_duration(arg, &c->statement_timeout_ms)) {
				cli_errorf("--statement-timeout: invalid "
					   "duration '%s' (e.g. 30s; 0 = none)",
					   arg);
				goto usage;
			}
			break;
		case OPT_RETRIES:
			if (!parse_count(arg, &c->retries)) {
				cli_errorf("--retries: invalid count '%s'",
					   arg);
				goto usage;
			}
			break;
		case OPT_SINGLE_TRANSACTION:
			c->single_transaction = true;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'h':
			help = true;
			break;
		case OPT_VERSION:
			version = true;
			break;
		case OPT_SQL:
			c->cmd_opts |= CLI_OPT_SQL;
			break;
		case OPT_DOWN:
			c->cmd_opts |= CLI_OPT_DOWN;
			break;
		case OPT_UNDO:
			c->cmd_opts |= CLI_OPT_UNDO;
			break;
		case OPT_ALLOW_AHEAD:
			c->cmd_opts |= CLI_OPT_ALLOW_AHEAD;
			break;
		case OPT_ALLOW_CHANGED:
			c->cmd_opts |= CLI_OPT_ALLOW_CHANGED;
			break;
		case 'm':
			c->cmd_opts |= CLI_OPT_MESSAGE;
			c->message = arg;
			break;
		case ':':
			cli_errorf("option '%s' needs a value",
				   unmark(argv[optind - 1]));
			goto usage;
		case '?':
		default:
			if (optopt && optopt < 256)
				cli_errorf("unknown option '-%c'", optopt);
			else
				cli_errorf("unknown option '%s'",
					   unmark(argv[optind - 1]));
			goto usage;
		}
	}

	if (version) {
		printf("migrate (libmigrate) %s\n", migrate_version_string());
		*exit_code = CLI_EXIT_OK;
		return -1;
	}
	if (optind >= argc) {
		if (help) {
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
	if (help) {
		print_command_help(cmd);
		*exit_code = CLI_EXIT_OK;
		return -1;
	}
	if (c->verbose && c->quiet) {
		cli_errorf("-v and -q exclude each other");
		goto usage;
	}
	for (unsigned int bit = 1; bit <= CLI_OPT_MESSAGE; bit <<= 1) {
		if ((c->cmd_opts & bit) && !(cmd->allowed & bit)) {
			cli_errorf("%s does not apply to '%s'",
				   cmd_opt_name(bit), cmd->name);
			goto usage;
		}
	}

	c->args = (const char **)(argv + optind + 1);
	c->nargs = (size_t)(argc - optind - 1);
	for (i = 0; (size_t)i < c->nargs; i++)
		c->args[i] = unmark(c->args[i]);
	if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
		if (c->nargs < cmd->min_args)
			cli_errorf("'%s' needs an argument", cmd->name);
		else
			cli_errorf("too many arguments for '%s'", cmd->name);
		fprintf(stderr, "usage: migrate [OPTIONS] %s\n", cmd->synopsis);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}

	/* Precedence: --database-url, $MIRAGE_DATABASE_URL, $DATABASE_URL,
	 * then libpq's PG* defaults (NULL). */
	if (have_url) {
		c->database_url = url_opt;
	} else if ((env = getenv("MIRAGE_DATABASE_URL")) && *env) {
		c->database_url = env;
	} else if ((env = getenv("DATABASE_URL")) && *env) {
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
	const struct command *cmd = NULL;
	char **args, **marked;
	int i, code = CLI_EXIT_OK, n_marked = 0;

	memset(&c, 0, sizeof(c));
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
	code = cmd->run(&c);

out:
	fflush(stdout);
	if (ferror(stdout) && code == CLI_EXIT_OK) {
		cli_errorf("cannot write the output");
		code = CLI_EXIT_DATABASE;
	}
	migrate_close(c.m);
	migrate_registry_free(c.reg);
	for (i = 0; i < n_marked; i++)
		free(marked[i]);
	free(marked);
	free(args);
	return code;
}
