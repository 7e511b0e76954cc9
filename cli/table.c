/* SPDX-License-Identifier: MIT */
/*
 * The `migrate` command line, described once (see table.h): option
 * parsing, --help, migrate(1), the bash completion and the README's
 * environment table are all produced from these tables.
 */
#include "table.h"

#include <stddef.h>

#ifdef CLI_TABLE_WITH_COMMANDS
#include "cli.h"
#define RUN(fn) fn
#else
#define RUN(fn) NULL
#endif

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char cli_tagline[] = "versioned PostgreSQL schema migrations";

const struct cli_option cli_options[] = {
	{ OPT_DATABASE_URL, "database-url", 0, CLI_ARG_REQUIRED, "URL",
	  "MIGRATE_DATABASE_URL", 0,
	  "the database: postgresql://USER@HOST:PORT/DB (also postgres://, postgresql+DRIVER://) or a libpq conninfo; see Database",
	  NULL },
	{ OPT_REVISIONS, "revisions", 0, CLI_ARG_REQUIRED, "DIR",
	  "MIGRATE_REVISIONS", 0,
	  "load revision files from DIR (default: the ones built into this program, else ./revisions; the installed migrate has none built in)",
	  NULL },
	{ OPT_VERSION_TABLE, "version-table", 0, CLI_ARG_REQUIRED, "NAME",
	  "MIGRATE_VERSION_TABLE", 0,
	  "version table (default alembic_version; at most 63 bytes)", NULL },
	{ OPT_SCHEMA, "schema", 0, CLI_ARG_REQUIRED, "NAME", "MIGRATE_SCHEMA",
	  0,
	  "schema of the bookkeeping tables (default: the first schema of the search_path; at most 63 bytes)",
	  NULL },
	{ OPT_WAIT, "wait", 0, CLI_ARG_OPTIONAL, "DURATION", "MIGRATE_WAIT", 0,
	  "before the command, wait up to DURATION (default 60s) for the database to accept connections",
	  "Retries the connection with a growing pause (up to 1s) until the database answers or DURATION has passed; each attempt is bounded by PGCONNECT_TIMEOUT when that is not set. On a terminal one line shows the progress. Every failed connection attempt is retried (a refused or missing server, a database still starting, but also a wrong password: the server answering is not enough); a malformed URL is not. When the time is up, the last connection error is reported (exit 4). In the environment, MIGRATE_WAIT takes a DURATION (0: do not wait)." },
	{ OPT_LOCK_WAIT, "lock-wait", 0, CLI_ARG_REQUIRED, "DURATION",
	  "MIGRATE_LOCK_WAIT", 0,
	  "wait this long for the migration lock (default 60s)", NULL },
	{ OPT_LOCK_TIMEOUT, "lock-timeout", 0, CLI_ARG_REQUIRED, "DURATION",
	  "MIGRATE_LOCK_TIMEOUT", 0,
	  "lock_timeout of each revision (default 5s; 0: none)", NULL },
	{ OPT_STATEMENT_TIMEOUT, "statement-timeout", 0, CLI_ARG_REQUIRED,
	  "DURATION", "MIGRATE_STATEMENT_TIMEOUT", 0,
	  "statement_timeout of each revision (default 0: none)", NULL },
	{ OPT_RETRIES, "retries", 0, CLI_ARG_REQUIRED, "N", "MIGRATE_RETRIES",
	  0, "retries of a revision that hit the lock timeout (default 3)",
	  NULL },
	{ OPT_IO_TIMEOUT, "io-timeout", 0, CLI_ARG_REQUIRED, "DURATION",
	  "MIGRATE_IO_TIMEOUT", 0,
	  "give up on a server that stays silent this long in a round trip that is not revision SQL, and connect within it unless the URL sets connect_timeout (default 30s; read-only commands such as check: 5s)",
	  NULL },
	{ OPT_SINGLE_TRANSACTION, "single-transaction", 0, CLI_ARG_NONE, NULL,
	  "MIGRATE_SINGLE_TRANSACTION", 0,
	  "run a whole upgrade or downgrade in one transaction", NULL },
	{ OPT_FORMAT, "format", 0, CLI_ARG_REQUIRED, "FORMAT", "MIGRATE_FORMAT",
	  0,
	  "output: text (default) or json (one document on stdout, also for errors)",
	  "Every command then writes exactly one JSON document, on one line, to standard output; progress and the error line still go to standard error, and the exit status is the same. A failed command writes {\"error\": MESSAGE, \"exit_code\": N, \"sqlstate\": S}. The shape of each command's document is documented, and stable, in json.md (installed with the documentation, in the source tree as docs/json.md)." },
	{ OPT_VERBOSE, "verbose", 'v', CLI_ARG_NONE, NULL, "MIGRATE_VERBOSE", 0,
	  "progress lines with timings, more detail", NULL },
	{ OPT_QUIET, "quiet", 'q', CLI_ARG_NONE, NULL, "MIGRATE_QUIET", 0,
	  "print only errors and the requested output", NULL },
	{ OPT_HELP, "help", 'h', CLI_ARG_NONE, NULL, NULL, 0,
	  "this help; 'migrate COMMAND --help' for one command", NULL },
	{ OPT_VERSION, "version", 0, CLI_ARG_NONE, NULL, NULL, 0,
	  "print the version and exit", NULL },

	{ OPT_SQL, "sql", 0, CLI_ARG_NONE, NULL, NULL,
	  CMD_UPGRADE | CMD_DOWNGRADE,
	  "print a psql script instead of touching any database (offline mode); TARGET may be FROM:TO (see the command's help)",
	  NULL },
	{ OPT_DOWN, "down", 0, CLI_ARG_NONE, NULL, NULL, CMD_PLAN,
	  "show a downgrade (TARGET required)", NULL },
	{ OPT_UNDO, "undo", 0, CLI_ARG_NONE, NULL, NULL, CMD_RESOLVE,
	  "the revision is not applied (instead of: complete)", NULL },
	{ OPT_ALLOW_AHEAD, "allow-ahead", 0, CLI_ARG_NONE, NULL, NULL,
	  CMD_CHECK,
	  "accept a database that has every revision of this build plus newer ones (rolling deploys)",
	  NULL },
	{ OPT_ALLOW_CHANGED, "allow-changed", 0, CLI_ARG_NONE, NULL, NULL,
	  CMD_CHECK, "report, but accept, changed revisions", NULL },
	{ OPT_MESSAGE, "message", 'm', CLI_ARG_REQUIRED, "MESSAGE", NULL,
	  CMD_REVISION | CMD_MERGE, "one-line description (required)", NULL },
	{ OPT_STRICT, "strict", 0, CLI_ARG_NONE, NULL, NULL, CMD_LINT,
	  "warnings fail too (exit 1)", NULL },
	{ OPT_NO_PARSE, "no-parse", 0, CLI_ARG_NONE, NULL, NULL,
	  CMD_UPGRADE | CMD_DOWNGRADE,
	  "skip the pre-flight parse of the pending sections, online or --sql (see the command's help)",
	  NULL },
	{ OPT_PURGE, "purge", 0, CLI_ARG_NONE, NULL, NULL, CMD_STAMP,
	  "first empty the version table, whatever it holds (e.g. an id this build does not know)",
	  NULL },
	{ OPT_REV_RANGE, "rev-range", 'r', CLI_ARG_REQUIRED, "FROM:TO", NULL,
	  CMD_HISTORY,
	  "only the revisions from FROM up to TO (both included; either may be empty, base, head or current)",
	  NULL },
};
const size_t cli_option_count = N_ELEMS(cli_options);

const struct cli_command cli_commands[] = {
	{ "upgrade", CMD_UPGRADE, RUN(cmd_upgrade), 0, 1, "[TARGET]",
	  "apply revisions up to TARGET (default: head)",
	  "Apply the revisions that take the database to TARGET (default: head). Each revision runs in its own transaction together with its bookkeeping (or all in one with --single-transaction); on failure the database stays at the last completed revision. Concurrent runs wait for each other (--lock-wait) and never apply a revision twice.\n"
	  "With --sql, TARGET may be FROM:TO, where FROM is the revision (or comma-separated revisions) the database is at; the default FROM is base (an empty database). The script takes the same lock and refuses to run unless the database is at FROM.\n"
	  "Before the first revision runs, every pending section is parsed with PostgreSQL 15's parser (libpg_query): a syntax error anywhere refuses the whole run (exit 3) and leaves the database untouched. Against PostgreSQL 16 or newer a parse failure is only a warning (newer syntax). C revisions are skipped; --no-parse turns the check off.",
	  1 },
	{ "downgrade", CMD_DOWNGRADE, RUN(cmd_downgrade), 1, 1, "TARGET",
	  "revert revisions down to TARGET (-1, base, an id)",
	  "Revert revisions until the database is at TARGET: -1 (one step), -N, base (nothing applied), or an id. Refused (exit 3) when a revision on the way has no downgrade section.\n"
	  "With --sql, TARGET may be FROM:TO; the default FROM is this build's head(s).\n"
	  "The pending downgrade sections are parsed first, as for upgrade (--no-parse turns it off).",
	  1 },
	{ "current", CMD_CURRENT, RUN(cmd_current), 0, 0, "",
	  "show the revision(s) the database is at",
	  "Print the revision(s) the database is at, one per line, marked (head) when at this build's head; <base> when nothing is applied. With -q: bare ids only. Reads only; creates nothing.",
	  1 },
	{ "history", CMD_HISTORY, RUN(cmd_history), 0, 0, "",
	  "list revisions, applied or pending (-v: who, when)",
	  "List this build's revisions in order (parents first), each marked applied or pending for the database. With -v: who applied or reverted each revision, when, and how long it took (from the history table). Reads only.",
	  1 },
	{ "heads", CMD_HEADS, RUN(cmd_heads), 0, 0, "",
	  "show this build's head revision(s)",
	  "Print this build's head revision(s): the newest, that no revision revises. Needs no database.",
	  0 },
	{ "branches", CMD_BRANCHES, RUN(cmd_branches), 0, 0, "",
	  "show where this build's revisions branch",
	  "List the branch points of this build's revisions: revisions that more than one revision revises, each with the revisions that start there. With -q: bare ids. Needs no database.",
	  0 },
	{ "show", CMD_SHOW, RUN(cmd_show), 1, 1, "REV",
	  "show one revision of this build",
	  "Show one revision of this build: id, parents, children, file, create date, checksum, whether it can be downgraded, and its message; with -v also the SQL of both sections. REV is an id, a unique id prefix, or head. Needs no database.",
	  0 },
	{ "check", CMD_CHECK, RUN(cmd_check), 0, 0, "",
	  "exit 0 if the database is at head, else 1",
	  "Verify that the database is exactly at this build's head, and that no applied revision was changed since (checksums). Prints one line saying where the database is. Exit 0 when it is at head, 1 when it is not (behind, ahead, unknown revision, no version table, dirty, changed), 4 when it cannot be reached. Reads only: no lock, no DDL.",
	  1 },
	{ "stamp", CMD_STAMP, RUN(cmd_stamp), 1, 1, "TARGET",
	  "set the version table without running SQL",
	  "Set the version table to TARGET without running any revision SQL (e.g. for a database created by other means). Records a history row per step, marked as stamp.",
	  1 },
	{ "plan", CMD_PLAN, RUN(cmd_plan), 0, 1, "[TARGET]",
	  "show what upgrade (--down: downgrade) would do",
	  "Show the steps an upgrade to TARGET (default: head) would run, without running them. With --down: a downgrade (TARGET required).",
	  1 },
	{ "revision", CMD_REVISION, RUN(cmd_revision), 0, 0, "-m MESSAGE",
	  "write a new revision file from the template",
	  "Write a new revision file NNN_slug.sql into the revisions directory (--revisions DIR, default ./revisions) from a template: the next id (one more than the highest numeric id, else a random 12-digit hex id), Revises: the current head(s), today's date. Never overwrites a file. Needs no database.",
	  0 },
	{ "merge",
	  CMD_MERGE, RUN(cmd_merge), 1, (size_t)-1, "-m MESSAGE REV REV...", "write a merge revision of two or more revisions", "Write a new revision file that revises each REV (ids, unique prefixes, or heads for every head of this build), joining their branches into one head. Its sections are marked empty=true: it runs no SQL unless you add some (and remove the mark). Never overwrites a file. Needs no database.",
	  0 },
	{ "resolve", CMD_RESOLVE, RUN(cmd_resolve), 1, 1, "REV",
	  "clear the dirty mark of a failed revision",
	  "Clear the dirty mark that a failed non-transactional revision left. First fix the schema by hand, then run 'migrate resolve REV' (the revision is now complete) or 'migrate resolve --undo REV' (the revision is not applied).",
	  1 },
	{ "wait", CMD_WAIT, RUN(cmd_wait), 0, 0, "",
	  "wait until the database accepts connections",
	  "Wait until the database accepts connections, for --wait's DURATION (default 60s), and do nothing else: for a job that starts alongside its database. Exit 0 once it does, 4 when the time is up.",
	  0 },
	{ "lint", CMD_LINT, RUN(cmd_lint), 0, (size_t)-1, "[REV...]",
	  "parse and lint revisions (no database)",
	  "Parse every section of each revision REV (default: all) with PostgreSQL's own parser (libpg_query) and check it against the lint rules (docs/lint.md): what would block a live database, fail at run time, or break the previous release during a rolling deploy. Tables created by the same revision give no lock findings; the revision graph tells which exist before it. Needs no database. A finding is waived by a comment with a reason on its statement: '-- migrate:lint ignore=RULE -- reason'. With -v, waived findings are listed too.\n"
	  "Exit 0 when there is no error (warnings and info allowed unless --strict), 1 on errors (or warnings with --strict), 2 usage, 3 bad revision files.",
	  0 },
};
const size_t cli_command_count = N_ELEMS(cli_commands);

const struct cli_section cli_sections[] = {
	{ "Targets",
	  "head, heads, base, an id or a unique id prefix, +N / -N (relative to the current revision), ID+N / ID-N." },
	{ "Durations",
	  "0, or a number with a unit: 500ms, 5s, 1.5s, 2min, 1h. A bare number other than 0 is refused (it could mean seconds or milliseconds); revision files' lock_timeout= and statement_timeout= take the same grammar." },
	{ "Database",
	  "from --database-url, else $MIGRATE_DATABASE_URL, else $MIRAGE_DATABASE_URL, else $DATABASE_URL, else libpq's defaults ($PGHOST, $PGPORT, $PGUSER, $PGDATABASE, $PGPASSWORD, ~/.pgpass...). Passwords are never printed. A password in --database-url is wiped from the command line once read, but other local users may see it before that: $MIGRATE_DATABASE_URL, $MIRAGE_DATABASE_URL, $PGPASSWORD or ~/.pgpass are the safe ways." },
	{ "Environment",
	  "every global option with a value or a switch can also be given as a MIGRATE_* environment variable (listed with each option); the command line wins. A switch's variable takes 1/true/yes/on or 0/false/no/off; an empty variable counts as unset." },
};
const size_t cli_section_count = N_ELEMS(cli_sections);

const struct cli_exit_status cli_exit_statuses[] = {
	{ 0, "success" },
	{ 1, "check: the database is not at head; lint: findings" },
	{ 2, "usage error (bad option, argument, URL or target)" },
	{ 3,
	  "bad revisions (malformed file, duplicate id, unknown parent, cycle, irreversible step)" },
	{ 4,
	  "database error (cannot connect, SQL failed, dirty or unknown state)" },
	{ 5, "the migration lock was not obtained within --lock-wait" },
	{ 130,
	  "interrupted by SIGINT (143: SIGTERM): the running statement was cancelled, its transaction rolled back, the lock released" },
};
const size_t cli_exit_status_count = N_ELEMS(cli_exit_statuses);
