/* SPDX-License-Identifier: MIT */
/*
 * The one description of the `migrate` command line: its options (name,
 * short name, argument, MIGRATE_* environment variable, help and man page
 * text), its commands, the prose sections of the help and its exit codes.
 *
 * Everything that describes the command line is produced from table.c:
 * option parsing and `--help` (main.c), the man page migrate(1), the bash
 * completion and the README's environment table (cli-doc.c, run by meson
 * at build time). table.c is compiled twice: into `migrate` with
 * CLI_TABLE_WITH_COMMANDS (the command functions), and into cli-doc
 * without (no database code needed to write documentation).
 */
#ifndef MIGRATE_CLI_TABLE_H
#define MIGRATE_CLI_TABLE_H

#include <stddef.h>

struct cli;

/* Every option; the order of the table is the order of --help. */
enum cli_opt_id {
	/* Global options. */
	OPT_DATABASE_URL,
	OPT_REVISIONS,
	OPT_VERSION_TABLE,
	OPT_SCHEMA,
	OPT_WAIT,
	OPT_LOCK_WAIT,
	OPT_LOCK_TIMEOUT,
	OPT_STATEMENT_TIMEOUT,
	OPT_RETRIES,
	OPT_IO_TIMEOUT,
	OPT_SINGLE_TRANSACTION,
	OPT_FORMAT,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	/* Command options. */
	OPT_SQL,
	OPT_DOWN,
	OPT_UNDO,
	OPT_ALLOW_AHEAD,
	OPT_ALLOW_CHANGED,
	OPT_MESSAGE,
	OPT_STRICT,
	OPT_NO_PARSE,
	OPT_REV_RANGE,
	OPT_PURGE,
	OPT_COUNT_
};

/* How an option takes its value (as getopt_long's has_arg). */
enum cli_arg {
	CLI_ARG_NONE = 0,
	CLI_ARG_REQUIRED = 1,
	CLI_ARG_OPTIONAL = 2,
};

/* Command bits: which commands accept a command option. */
enum cli_cmd_bit {
	CMD_UPGRADE = 1u << 0,
	CMD_DOWNGRADE = 1u << 1,
	CMD_CURRENT = 1u << 2,
	CMD_HISTORY = 1u << 3,
	CMD_HEADS = 1u << 4,
	CMD_BRANCHES = 1u << 5,
	CMD_SHOW = 1u << 6,
	CMD_CHECK = 1u << 7,
	CMD_STAMP = 1u << 8,
	CMD_PLAN = 1u << 9,
	CMD_REVISION = 1u << 10,
	CMD_MERGE = 1u << 11,
	CMD_RESOLVE = 1u << 12,
	CMD_WAIT = 1u << 13,
	CMD_LINT = 1u << 14,
};

struct cli_option {
	enum cli_opt_id id;
	const char *name;      /* long name, without "--" */
	char short_name;       /* 0: none */
	enum cli_arg arg;      /* value: none, required, optional (--x=V) */
	const char *metavar;   /* "URL", "DURATION"; NULL without a value */
	const char *env;       /* MIGRATE_* variable; NULL: none */
	unsigned int commands; /* enum cli_cmd_bit; 0: a global option */
	const char *help;      /* --help text (wrapped at print time) */
	const char *man;       /* more for the man page; NULL: none */
};

struct cli_command {
	const char *name;
	unsigned int bit; /* enum cli_cmd_bit */
	int (*run)(struct cli *c);
	size_t min_args;
	size_t max_args;     /* (size_t)-1: any number */
	const char *args;    /* "[TARGET]", "REV REV..." */
	const char *summary; /* one line in the command list */
	const char *help;    /* `migrate COMMAND --help` and the man page */
	int needs_db;        /* 1: connects (so --wait waits first) */
};

/* A prose section of --help and the man page. */
struct cli_section {
	const char *title; /* "Targets"; the man page upper-cases it */
	const char *text;
};

struct cli_exit_status {
	int code;
	const char *text;
};

extern const struct cli_option cli_options[];
extern const size_t cli_option_count;
extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;
extern const struct cli_section cli_sections[];
extern const size_t cli_section_count;
extern const struct cli_exit_status cli_exit_statuses[];
extern const size_t cli_exit_status_count;

/* The one-line description of the program. */
extern const char cli_tagline[];

#endif /* MIGRATE_CLI_TABLE_H */
