/* SPDX-License-Identifier: MIT */
/*
 * The `migrate` command-line tool: shared state of main.c (options, exit
 * codes, opening the database) and commands.c / new-revision.c (one
 * function per command). Uses only the public API of libmigrate.
 */
#ifndef MIGRATE_CLI_H
#define MIGRATE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <libmigrate.h>

/* Exit codes: documented in `migrate --help` and README.md. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_CHECK = 1,     /* check: the database is not at head */
	CLI_EXIT_USAGE = 2,     /* bad option, argument or target */
	CLI_EXIT_REVISIONS = 3, /* bad revision files */
	CLI_EXIT_DATABASE = 4,  /* cannot connect, SQL failed, bad state */
	CLI_EXIT_LOCKED = 5,    /* migration lock not obtained */
};

/* Where a library return code came from: the same code can mean different
 * things (EINVAL from migrate_open() is a malformed URL, from a plan it is a
 * bad target). */
enum cli_phase {
	CLI_PHASE_REVISIONS, /* loading / validating the registry */
	CLI_PHASE_CONNECT,   /* migrate_open() */
	CLI_PHASE_RUN,       /* the command itself */
};

#include "json.h"
#include "migrate-util.h"
#include "table.h"

/* Whether option @id was given on the command line. */
#define CLI_GIVEN(c, id) ((((c)->given) >> (id)) & 1u)

/* --wait without a value, and the `wait` command without --wait. */
#define CLI_DEFAULT_WAIT_MS 60000

struct cli {
	/* Global options. */
	const char *database_url; /* resolved; NULL = libpq PG* defaults */
	bool have_url;            /* --database-url or MIGRATE_DATABASE_URL */
	char *url_arg; /* our copy of --database-url (argv's is wiped) */
	const char *revisions_dir; /* NULL: see cli_revisions_load() */
	const char *version_table;
	const char *schema;
	int wait_ms; /* --wait: -1 = do not wait for the database */
	int lock_wait_ms;
	int lock_timeout_ms;
	int statement_timeout_ms;
	int retries;
	int io_timeout_ms; /* 0: the library's default */
	bool single_transaction;
	int verbose;
	bool quiet;
	bool json;         /* --format json */
	bool json_written; /* a JSON document went to stdout */

	/* Command options. */
	unsigned long given; /* bit per enum cli_opt_id: on the command line */
	const char *message; /* revision -m */
	const char *rev_range; /* history -r FROM:TO */
	const char *command;   /* the command's name */

	/* Positional arguments after the command. */
	const char **args;
	size_t nargs;

	/* State. */
	struct migrate_registry *reg; /* until handed to migrate_open() */
	struct migrate *m;
	size_t steps_done;  /* progress DONE events */
	size_t step_index;  /* progress START events */
	size_t steps_total; /* planned steps; 0: unknown */
	double t_start;     /* migrate__clock_ms() at the start of the run */
	bool tty_progress;  /* one line rewritten in place on stderr */
	int preflight_code; /* the pre-flight's exit code when it refused */
	/* The pre-flight started before the lock (cli_plan_preview()). */
	struct cli_preflight *preflight_early;
	/* Pre-flight children that sent their verdict, still exiting: reaped
	 * by cli_preflight_discard(). */
#define CLI_PREFLIGHT_EXITED_MAX 4
	pid_t preflight_exited[CLI_PREFLIGHT_EXITED_MAX];
	size_t n_preflight_exited;
};

/* Start and end the one JSON document of a command on stdout. */
void cli_json_begin(struct cli *c, struct json *j);
void cli_json_end(struct cli *c, struct json *j);

/* Add the revisions to @reg from where they come from (revisions-source.c
 * owns that rule: --revisions, $MIGRATE_REVISIONS, embedded, ./revisions);
 * @writes: the command changes the database (a stale binary refuses it).
 * Returns CLI_EXIT_OK with the library's result in @lib_rc, or an exit code
 * after printing why it refused. */
int cli_revisions_load(struct cli *c,
		       struct migrate_registry *reg,
		       bool writes,
		       int *lib_rc);

/* The directory the revisions come from (cli_revisions_load()'s rule), or
 * NULL when they are embedded or there are none. */
const char *cli_revisions_dir(struct cli *c);

/* Map a library return code to the exit code. The only place that does. */
int cli_exit_code(int rc, enum cli_phase phase);

/* Print "migrate: MESSAGE" to stderr. */
void cli_errorf(const char *fmt, ...) MIGRATE_PRINTF(1, 2);

/* Print a library error message as "migrate: first line" followed by its
 * DETAIL/HINT lines, plus the SQLSTATE when there is one and the message
 * does not already name it. */
void cli_print_error(const char *msg, const char *sqlstate, int rc);

/* Report the handle's last error for @rc; returns the exit code. */
int cli_fail(struct cli *c, int rc, enum cli_phase phase);

/* Load the registry (cli_revisions_load()) into c->reg and validate it
 * unless @allow_empty and it holds no revision; @writes as there. Returns
 * an exit code. */
int cli_load_registry(struct cli *c, bool allow_empty, bool writes);

/* Load the registry and open the database (read-only or not) into c->m.
 * Returns an exit code. */
int cli_open(struct cli *c, bool read_only);

/* Wait until the database accepts connections, up to @wait_ms (--wait).
 * Returns an exit code: CLI_EXIT_OK once it does. */
int cli_wait_for_database(struct cli *c, int wait_ms);

/* Progress of an upgrade/downgrade on stderr (see progress() in main.c):
 * begin before the run (plans it for "i/N" when shown), end after it. */
void cli_progress_begin(struct cli *c, int direction, const char *target);
void cli_progress_end(struct cli *c);

/* Fill @opts from the global options (for migrate_open and
 * migrate_plan_sql). */
void cli_fill_options(struct cli *c, struct migrate_options *opts);

/* The commands; each returns an exit code. */
int cmd_upgrade(struct cli *c);
int cmd_downgrade(struct cli *c);
int cmd_current(struct cli *c);
int cmd_history(struct cli *c);
int cmd_heads(struct cli *c);
int cmd_check(struct cli *c);
int cmd_stamp(struct cli *c);
int cmd_plan(struct cli *c);
int cmd_resolve(struct cli *c);
int cmd_revision(struct cli *c);
int cmd_merge(struct cli *c);
int cmd_wait(struct cli *c);
int cmd_show(struct cli *c);
int cmd_branches(struct cli *c);
int cmd_lint(struct cli *c);

/* Whether SIGINT or SIGTERM reached the command (main.c). */
bool cli_interrupted(void);

/* The pre-flight of upgrade/downgrade (cli/lint.c), the handle's plan
 * check (struct migrate_options.plan_check, @payload the struct cli):
 * parse every section of the plan under the lock, before the first one
 * runs. Returns 0 to go on; else a library error, with the exit code
 * (syntax errors: revisions) in c->preflight_code. Without the lint
 * component (meson -Dlint=disabled) it does nothing. */
int cli_plan_check(struct migrate *m,
		   const struct migrate_plan *plan,
		   void *payload);

/* The same for a plan already made, against the server of @m (NULL for
 * the offline --sql script); the policy is migrate_lint_preflight()'s. */
int cli_preflight_plan(struct cli *c,
		       const struct migrate_plan *plan,
		       struct migrate *m);

/* The handle's plan preview (struct migrate_options.plan_preview,
 * @payload the struct cli): start the pre-flight of the plan seen before
 * the lock, in its child, while the lock is taken; cli_plan_check() takes
 * its verdict when the plan that runs is the same. */
void cli_plan_preview(struct migrate *m,
		      const struct migrate_plan *plan,
		      void *payload);

/* End a pre-flight started by cli_plan_preview() that no plan check took
 * (the run stopped before it), nothing reported, and reap the pre-flight
 * children that are still exiting. */
void cli_preflight_discard(struct cli *c);

#endif /* MIGRATE_CLI_H */
