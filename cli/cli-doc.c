/* SPDX-License-Identifier: MIT */
/*
 * cli-doc: writes the documentation of the `migrate` command line from its
 * one description (table.c), at build time:
 *
 *   cli-doc man TEMPLATE   migrate(1) in scdoc: TEMPLATE with @COMMANDS@,
 *                          @OPTIONS@, @SECTIONS@, @ENVIRONMENT@,
 *                          @EXIT_STATUS@ and @VERSION@ lines filled in
 *   cli-doc bash           the bash completion script
 *   cli-doc env-table      the README's table of global options and their
 *                          environment variables (Markdown)
 *
 * Never installed; `migrate --help` prints the same tables at run time.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/* Text for scdoc: '*', '_' and '\' are markup there. A '\n' in the table
 * is a paragraph break: an empty line, then @indent again. */
static void
scd_text(FILE *out, const char *s, const char *indent)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n') {
			fprintf(out, "\n\n%s", indent);
			continue;
		}
		fputc(*s, out);
	}
}

static void
scd_option_term(FILE *out, const struct cli_option *o)
{
	if (o->short_name)
		fprintf(out, "*-%c*, ", o->short_name);
	fprintf(out, "*--%s*", o->name);
	if (o->arg == CLI_ARG_REQUIRED)
		fprintf(out, " _%s_", o->metavar);
	else if (o->arg == CLI_ARG_OPTIONAL)
		fprintf(out, "[=_%s_]", o->metavar);
	fputc('\n', out);
}

static void
scd_option(FILE *out, const struct cli_option *o)
{
	scd_option_term(out, o);
	fputc('\t', out);
	scd_text(out, o->help, "\t");
	fputc('.', out);
	if (o->env) {
		fputs(" Environment: *", out);
		scd_text(out, o->env, "\t");
		fputs("*.", out);
	}
	if (o->man) {
		fputs("\n\n\t", out);
		scd_text(out, o->man, "\t");
	}
	fputs("\n\n", out);
}

static void
man_commands(FILE *out)
{
	size_t i, j;

	for (i = 0; i < cli_command_count; i++) {
		const struct cli_command *cmd = &cli_commands[i];

		fprintf(out, "*%s*", cmd->name);
		if (*cmd->args) {
			fputc(' ', out);
			scd_text(out, cmd->args, "");
		}
		fputs("\n\t", out);
		scd_text(out, cmd->help, "\t");
		fputs("\n\n", out);
		for (j = 0; j < cli_option_count; j++) {
			const struct cli_option *o = &cli_options[j];

			if (!(o->commands & cmd->bit))
				continue;
			fputc('\t', out);
			if (o->short_name)
				fprintf(out, "*-%c*, ", o->short_name);
			fprintf(out, "*--%s*", o->name);
			if (o->arg == CLI_ARG_REQUIRED)
				fprintf(out, " _%s_", o->metavar);
			fputs(": ", out);
			scd_text(out, o->help, "\t");
			fputs(".\n\n", out);
		}
	}
	fputs("*help* [_COMMAND_]\n\tShow the help, of one command or of all; 'migrate COMMAND --help' does the same.\n\n",
	      out);
}

static void
man_options(FILE *out)
{
	size_t i;

	for (i = 0; i < cli_option_count; i++) {
		if (cli_options[i].commands == 0)
			scd_option(out, &cli_options[i]);
	}
}

/* The prose sections, but Environment: @ENVIRONMENT@ starts with it. */
static void
man_sections(FILE *out)
{
	size_t i;

	for (i = 0; i < cli_section_count; i++) {
		const char *t = cli_sections[i].title;

		if (strcmp(t, "Environment") == 0)
			continue;
		fputs("# ", out);
		for (; *t; t++)
			fputc(toupper((unsigned char)*t), out);
		fputs("\n\n", out);
		scd_text(out, cli_sections[i].text, "");
		fputs("\n\n", out);
	}
}

static void
man_environment(FILE *out)
{
	size_t i;

	for (i = 0; i < cli_section_count; i++) {
		if (strcmp(cli_sections[i].title, "Environment") == 0) {
			scd_text(out, cli_sections[i].text, "");
			fputs("\n\n", out);
		}
	}
	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->env)
			continue;
		fputc('*', out);
		scd_text(out, o->env, "");
		fprintf(out, "*\n\tAs *--%s*.\n\n", o->name);
	}
}

static void
man_exit_status(FILE *out)
{
	size_t i;

	for (i = 0; i < cli_exit_status_count; i++) {
		fprintf(out, "*%d*\n\t", cli_exit_statuses[i].code);
		scd_text(out, cli_exit_statuses[i].text, "\t");
		fputs(".\n\n", out);
	}
}

static int
man(const char *template_path, const char *version)
{
	char line[4096];
	FILE *in = fopen(template_path, "r");

	if (!in) {
		perror(template_path);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		if (strcmp(line, "@COMMANDS@\n") == 0)
			man_commands(stdout);
		else if (strcmp(line, "@OPTIONS@\n") == 0)
			man_options(stdout);
		else if (strcmp(line, "@SECTIONS@\n") == 0)
			man_sections(stdout);
		else if (strcmp(line, "@ENVIRONMENT@\n") == 0)
			man_environment(stdout);
		else if (strcmp(line, "@EXIT_STATUS@\n") == 0)
			man_exit_status(stdout);
		else if (strncmp(line, "@VERSION@", 9) == 0)
			printf("%s%s", version, line + 9);
		else
			fputs(line, stdout);
	}
	fclose(in);
	return 0;
}

static void
words_of_options(FILE *out, unsigned int command_bit)
{
	size_t i;
	const char *sep = "";

	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		if (command_bit ? !(o->commands & command_bit)
				: o->commands != 0)
			continue;
		fprintf(out, "%s--%s", sep, o->name);
		sep = " ";
		if (o->short_name)
			fprintf(out, " -%c", o->short_name);
	}
}

static int
bash(void)
{
	const char *sep;
	size_t i;

	printf("# bash completion for migrate(1); generated from the option table (cli/table.c) by cli-doc.\n"
	       "\n"
	       "_migrate_revision_ids()\n"
	       "{\n"
	       "\tlocal dir=$1 f\n"
	       "\t[ -d \"$dir\" ] || return 0\n"
	       "\tfor f in \"$dir\"/*.sql; do\n"
	       "\t\t[ -f \"$f\" ] || continue\n"
	       "\t\tsed -n 's/^-- *Revision ID: *\\([^ ]*\\).*/\\1/p' \"$f\" 2>/dev/null\n"
	       "\tdone\n"
	       "}\n"
	       "\n"
	       "_migrate()\n"
	       "{\n"
	       "\tlocal cur prev words cword\n"
	       "\t_init_completion -s || return\n"
	       "\n"
	       "\tlocal commands=\"");
	for (i = 0; i < cli_command_count; i++)
		printf("%s ", cli_commands[i].name);
	printf("help\"\n\tlocal global_opts=\"");
	words_of_options(stdout, 0);
	printf("\"\n"
	       "\tlocal value_opts=\"");
	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		if (o->arg != CLI_ARG_REQUIRED)
			continue;
		printf("--%s ", o->name);
		if (o->short_name)
			printf("-%c ", o->short_name);
	}
	printf("\"\n"
	       "\n"
	       "\tcase $prev in\n"
	       "\t--revisions)\n"
	       "\t\t_filedir -d\n"
	       "\t\treturn\n"
	       "\t\t;;\n"
	       "\t--format)\n"
	       "\t\tCOMPREPLY=($(compgen -W 'text json' -- \"$cur\"))\n"
	       "\t\treturn\n"
	       "\t\t;;\n"
	       "\tesac\n"
	       "\tif [[ \" $value_opts \" == *\" $prev \"* ]]; then\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\n"
	       "\tlocal i cmd= revdir=${MIGRATE_REVISIONS:-revisions}\n"
	       "\tfor ((i = 1; i < cword; i++)); do\n"
	       "\t\tcase ${words[i]} in\n"
	       "\t\t--revisions) revdir=${words[i + 1]} ;;\n"
	       "\t\t--revisions=*) revdir=${words[i]#--revisions=} ;;\n"
	       "\t\tesac\n"
	       "\t\tif [[ -z $cmd && \" $commands \" == *\" ${words[i]} \"* ]] &&\n"
	       "\t\t\t[[ \" $value_opts \" != *\" ${words[i - 1]} \"* ]]; then\n"
	       "\t\t\tcmd=${words[i]}\n"
	       "\t\tfi\n"
	       "\tdone\n"
	       "\n"
	       "\tif [[ $cur == -* ]]; then\n"
	       "\t\tlocal cmd_opts=\n"
	       "\t\tcase $cmd in\n");
	for (i = 0; i < cli_command_count; i++) {
		printf("\t\t%s) cmd_opts=\"", cli_commands[i].name);
		words_of_options(stdout, cli_commands[i].bit);
		printf("\" ;;\n");
	}
	printf("\t\tesac\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$global_opts $cmd_opts\" -- \"$cur\"))\n"
	       "\t\t[[ ${COMPREPLY-} == *= ]] && compopt -o nospace\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\tcase $cmd in\n"
	       "\t'')\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
	       "\t\t;;\n"
	       "\thelp)\n"
	       "\t\tCOMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
	       "\t\t;;\n"
	       "\t");
	/* Commands without arguments: nothing to complete. */
	sep = "";
	for (i = 0; i < cli_command_count; i++) {
		if (cli_commands[i].max_args == 0) {
			printf("%s%s", sep, cli_commands[i].name);
			sep = " | ";
		}
	}
	printf(")\n"
	       "\t\t;;\n"
	       "\t*)\n"
	       "\t\tCOMPREPLY=($(compgen -W \"head heads base $(_migrate_revision_ids \"$revdir\")\" -- \"$cur\"))\n"
	       "\t\t;;\n"
	       "\tesac\n"
	       "} &&\n"
	       "\tcomplete -F _migrate migrate\n");
	return 0;
}

/* The README's table of global options and their environment variables. */
static int
env_table(void)
{
	size_t i;

	printf("| option | environment | meaning |\n|---|---|---|\n");
	for (i = 0; i < cli_option_count; i++) {
		const struct cli_option *o = &cli_options[i];

		if (o->commands)
			continue;
		fputs("| `", stdout);
		if (o->short_name)
			printf("-%c`, `", o->short_name);
		printf("--%s", o->name);
		if (o->arg == CLI_ARG_REQUIRED)
			printf(" %s", o->metavar);
		else if (o->arg == CLI_ARG_OPTIONAL)
			printf("[=%s]", o->metavar);
		printf("` | %s%s%s | %s |\n", o->env ? "`" : "",
		       o->env ? o->env : "", o->env ? "`" : "", o->help);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "man") == 0)
		return man(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "bash") == 0)
		return bash();
	if (argc == 2 && strcmp(argv[1], "env-table") == 0)
		return env_table();
	fprintf(stderr,
		"usage: cli-doc man TEMPLATE VERSION | bash | env-table\n");
	return 2;
}
