/* SPDX-License-Identifier: MIT */
/*
 * The lint component's one export as a module (migrate-lint-module.h).
 */
#include "migrate-lint-module.h"

static const struct migrate_lint_module table = {
	MIGRATE_LINT_MODULE_VERSION, migrate_lint_new,
	migrate_lint_free,           migrate_lint_run,
	migrate_lint_parse_section,  migrate_lint_server_version,
	migrate_lint_preflight,      migrate_lint_where,
	migrate_lint_count,          migrate_lint_at,
	migrate_lint_count_severity, migrate_lint_severity_name,
	migrate_lint_parse_sql,
};

__attribute__((visibility("default"))) const struct migrate_lint_module *
migrate_lint_module(void)
{
	return &table;
}
