/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for `migrate --format json`: the one place that
 * escapes strings and places commas. Output goes to one FILE (stdout).
 * Documents are written in order; no buffering, no allocation.
 */
#ifndef MIGRATE_CLI_JSON_H
#define MIGRATE_CLI_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* nothing written yet at that level */
};

void json_init(struct json *j, FILE *out);

/* @key is the member name inside an object, NULL inside an array. */
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);

/* A string; NULL writes null. */
void json_string(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, long long value);
/* A number with up to 3 decimals (milliseconds). */
void json_number(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);

/* Ends the document (a newline); call after the last end. */
void json_finish(struct json *j);

/* Write @s as a JSON string literal (quotes included). */
void json_write_escaped(FILE *out, const char *s);

#endif /* MIGRATE_CLI_JSON_H */
