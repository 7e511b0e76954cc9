/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer of `migrate --format json` (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
json_write_escaped(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', out);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			/* Other control characters as \u00XX; bytes >= 0x80
			 * pass through (revision files are UTF-8). */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void
json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

/* The comma and the key before a value. */
static void
member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		json_write_escaped(j->out, key);
		fputc(':', j->out);
	}
}

static void
open_(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void
close_(struct json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void
json_begin_object(struct json *j, const char *key)
{
	open_(j, key, '{');
}

void
json_end_object(struct json *j)
{
	close_(j, '}');
}

void
json_begin_array(struct json *j, const char *key)
{
	open_(j, key, '[');
}

void
json_end_array(struct json *j)
{
	close_(j, ']');
}

void
json_string(struct json *j, const char *key, const char *value)
{
	member(j, key);
	if (value)
		json_write_escaped(j->out, value);
	else
		fputs("null", j->out);
}

void
json_int(struct json *j, const char *key, long long value)
{
	member(j, key);
	fprintf(j->out, "%lld", value);
}

void
json_number(struct json *j, const char *key, double value)
{
	member(j, key);
	if (isfinite(value))
		fprintf(j->out, "%.3f", value);
	else
		fputs("null", j->out);
}

void
json_bool(struct json *j, const char *key, bool value)
{
	member(j, key);
	fputs(value ? "true" : "false", j->out);
}

void
json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void
json_finish(struct json *j)
{
	fputc('\n', j->out);
}
