/* SPDX-License-Identifier: MIT */
/*
 * The lint component as a module (meson feature `lint`): `migrate` loads
 * migrate-lint.so with dlopen() only when it parses (`migrate lint`, the
 * pre-flight of upgrade/downgrade, which runs in a child process), so
 * that the process that migrates never maps libpg_query nor relocates its
 * ~180 KB of protobuf descriptors (issue 8, peak RSS; bench/RESULTS.md).
 * The module exports one function, MIGRATE_LINT_MODULE_SYMBOL, which
 * returns the table below. Not installed as a header; not part of the ABI:
 * a module of another version is refused.
 */
#ifndef MIGRATE_LINT_MODULE_H
#define MIGRATE_LINT_MODULE_H

#include "migrate-lint.h"

/* Where `migrate` looks for it: cli/lint.c, cli/meson.build. */
#define MIGRATE_LINT_MODULE_FILE    "migrate-lint.so"
#define MIGRATE_LINT_MODULE_SYMBOL  "migrate_lint_module"
#define MIGRATE_LINT_MODULE_VERSION 2

/* The functions of migrate-lint.h, one member each. */
struct migrate_lint_module {
	int version; /* MIGRATE_LINT_MODULE_VERSION */
	int (*lint_new)(struct migrate_lint **out);
	void (*lint_free)(struct migrate_lint *l);
	int (*run)(struct migrate_lint *l,
		   struct migrate_registry *reg,
		   const struct migrate_revision *const *revs,
		   size_t n_revs,
		   unsigned int flags);
	int (*parse_section)(struct migrate_lint *l,
			     const struct migrate_revision *rev,
			     int direction);
	int (*server_version)(struct migrate *m);
	int (*preflight)(const struct migrate_lint *l,
			 int server_version,
			 migrate_lint_line_fn emit,
			 void *payload);
	void (*where)(const struct migrate_lint_finding *f,
		      char *out,
		      size_t n);
	size_t (*count)(const struct migrate_lint *l);
	const struct migrate_lint_finding *(*at)(const struct migrate_lint *l,
						 size_t i);
	size_t (*count_severity)(const struct migrate_lint *l, int severity);
	const char *(*severity_name)(int severity);
	/* version 2 */
	int (*parse_sql)(struct migrate_lint *l,
			 const struct migrate_revision *rev,
			 int direction,
			 const char *sql);
};

typedef const struct migrate_lint_module *(*migrate_lint_module_fn)(void);

const struct migrate_lint_module *migrate_lint_module(void);

#endif /* MIGRATE_LINT_MODULE_H */
