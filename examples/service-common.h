/* SPDX-License-Identifier: CC0-1.0 */
/*
 * The startup check shared by the Mirage services (mirage-api,
 * mirage-indexer): verify that the database schema is at the head this
 * build was made for, then run, or refuse to start.
 */
#ifndef MIRAGE_SERVICE_COMMON_H
#define MIRAGE_SERVICE_COMMON_H

/* Run the service called @name: parses --once / --allow-ahead / --help,
 * verifies the schema, then (without --once) idles until SIGTERM/SIGINT.
 * Returns the process exit code: 0, 1 (schema not acceptable or database
 * unreachable) or 2 (usage). */
int service_main(const char *name, int argc, char **argv);

#endif
