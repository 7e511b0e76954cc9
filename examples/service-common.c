/* SPDX-License-Identifier: CC0-1.0 */
/*
 * What a service does at startup with libmigrate: open a READ-ONLY handle
 * with the revisions embedded at build time, ask migrate_verify() whether
 * the database is at this build's head, and refuse to start otherwise.
 * Services never create, alter or drop anything: only `migrate` does.
 */
#include "service-common.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmigrate.h>

#include "embedded-revisions.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *
database_url(void)
{
	const char *url = getenv("MIRAGE_DATABASE_URL");

	if (!url || !*url)
		url = getenv("DATABASE_URL");
	/* NULL: libpq's PGHOST, PGUSER, ... defaults. */
	return url && *url ? url : NULL;
}

/* Print the first line of @msg (the library's messages never hold a
 * password). */
static void
log_error(const char *name, const char *what, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	fprintf(stderr, "%s: %s%.*s\n", name, what, (int)n, msg);
}

/* The expected head(s), e.g. "001" or "a1,b2". */
static void
head_ids(struct migrate_registry *reg, char *out, size_t outlen)
{
	size_t i, n = migrate_registry_head_count(reg), used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used + 1 < outlen; i++) {
		int w = snprintf(
			out + used, outlen - used, "%s%s", i ? "," : "",
			migrate_revision_id(migrate_registry_head(reg, i)));

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* 0 when the schema is acceptable, else 1 (the reason is logged). */
static int
check_schema(const char *name, unsigned int verify_flags)
{
	struct migrate_registry *reg = NULL;
	struct migrate_options opts = MIGRATE_OPTIONS_INIT;
	struct migrate *m = NULL;
	const char *msg = NULL;
	char heads[256];
	int rc, status = MIGRATE_STATUS_CANNOT_CONNECT, ok = 1;

	rc = migrate_registry_new(&reg);
	if (rc == 0)
		rc = embedded_revisions_load(reg);
	if (rc == 0)
		rc = migrate_registry_validate(reg);
	if (rc < 0) {
		log_error(name, "bad built-in revisions: ",
			  reg ? migrate_registry_errmsg(reg)
			      : migrate_strerror(rc));
		migrate_registry_free(reg);
		return 1;
	}
	head_ids(reg, heads, sizeof(heads));

	opts.database_url = database_url();
	opts.flags = MIGRATE_OPEN_READONLY;
	/* migrate_open() owns @reg from here on, even when it fails. */
	rc = migrate_open(&m, reg, NULL, &opts);
	if (rc < 0) {
		log_error(name, "cannot use the database: ",
			  m ? migrate_errmsg(m) : migrate_strerror(rc));
		goto out;
	}
	rc = migrate_verify(&status, &msg, m, verify_flags);
	if (rc == 0 && status == MIGRATE_STATUS_AT_HEAD) {
		fprintf(stderr, "%s: schema at %s (head); starting\n", name,
			heads);
		ok = 0;
	} else if (rc == 0) {
		/* Accepted by policy (--allow-ahead). */
		fprintf(stderr, "%s: %s; starting\n", name, msg);
		ok = 0;
	} else {
		log_error(name, "", msg && *msg ? msg : migrate_errmsg(m));
	}
out:
	migrate_close(m);
	return ok;
}

static void
usage(FILE *out, const char *name)
{
	fprintf(out,
		"usage: %s [--once] [--allow-ahead]\n"
		"\n"
		"Checks at startup that the database (MIRAGE_DATABASE_URL, else\n"
		"DATABASE_URL, else libpq's PG* variables) is at the schema\n"
		"revision this build needs; refuses to start otherwise.\n"
		"\n"
		"  --once         exit 0 right after a successful check\n"
		"  --allow-ahead  also start on a newer schema (rolling deploy)\n",
		name);
}

int
service_main(const char *name, int argc, char **argv)
{
	unsigned int flags = 0;
	bool once = false;
	struct sigaction sa;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0) {
			once = true;
		} else if (strcmp(argv[i], "--allow-ahead") == 0) {
			flags |= MIGRATE_VERIFY_ALLOW_AHEAD;
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			usage(stdout, name);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", name,
				argv[i]);
			usage(stderr, name);
			return 2;
		}
	}

	if (check_schema(name, flags) != 0)
		return 1;
	if (once)
		return 0;

	/* The service proper would run here; this one idles until told to
	 * stop. No SA_RESTART: sleep() returns at the signal. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_requested)
		sleep(1);
	fprintf(stderr, "%s: stopping\n", name);
	return 0;
}
