#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The operator's path with the built-in Mirage revisions: upgrade head from
# an empty database (exact baseline schema), data survives a second upgrade
# and a service restart, downgrade base removes every table and the vector
# extension, upgrade again; the services' startup check at each point.
#
# usage: pg-harness.sh bash cli-lifecycle.sh   (MIGRATE, MIRAGE_API,
#        MIRAGE_INDEXER in the environment; see cli-lib.sh)
# shellcheck source=tests/integration/cli-lib.sh
. "$(dirname "$0")/cli-lib.sh"
cli_init needs-pg
needs_vector
[ -x "${MIRAGE_API:-}" ] || fail "MIRAGE_API is not set"
[ -x "${MIRAGE_INDEXER:-}" ] || fail "MIRAGE_INDEXER is not set"

DB=mirage_life
T=$T_TMP
fresh_db "$DB"

svc()
{
	local out=$1
	shift
	PGDATABASE=$DB run "$out" "$@"
}

columns()
{
	q -d "$DB" -c "SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
		|| CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		|| coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = 'public.$1'::regclass AND a.attnum > 0 AND NOT a.attisdropped"
}

user_tables()
{
	q -d "$DB" -c "SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
}

vector_installed()
{
	q -d "$DB" -c "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"
}

row_counts()
{
	q -d "$DB" -c "SELECT (SELECT count(*) FROM projects) || ' ' ||
		(SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM chunks)
		|| ' ' || (SELECT count(*) FROM indexing_tasks)"
}

# --- never migrated -------------------------------------------------------
svc "$T/api0" "$MIRAGE_API" --once
expect 1 "mirage-api refuses an empty database"
has "$T/api0.err" "mirage-api:" "mirage-api names itself"
has "$T/api0.err" "001" "mirage-api says which revision it needs"
table_exists "$DB" public.alembic_version &&
	fail "the service's check created the version table"
ok "the service's check created nothing"

# --- upgrade head from empty ---------------------------------------------
m "$DB" "$T/up1" upgrade head
expect 0 "migrate upgrade head on an empty database"
has "$T/up1.out" "001 (head)" "upgrade reports the new position"
same "$(version_of "$DB")" "001" "alembic_version = 001"
same "$(user_tables)" "alembic_version chunks documents indexing_tasks migrate_log projects" \
	"the four Mirage tables and the bookkeeping exist"
same "$(vector_installed)" 1 "the vector extension is installed"

same "$(columns projects)" \
	"id character varying(36) not null, name character varying(255) not null, created_at timestamp without time zone not null" \
	"projects: columns, order, types"
same "$(columns documents)" \
	"id character varying(36) not null, project_id character varying(36) not null, filename character varying(255) not null, original_path character varying(512) not null, file_type character varying(50) not null, status character varying(50) not null default 'pending'::character varying, error_message text, metadata json, created_at timestamp without time zone not null, indexed_at timestamp without time zone" \
	"documents: columns, order, types, default"
same "$(columns chunks)" \
	"id character varying(36) not null, document_id character varying(36) not null, content text not null, embedding vector(768), position integer not null, structure json, metadata json, status character varying(50) not null default 'pending'::character varying, parent_id character varying(36)" \
	"chunks: columns, order, types (vector(768)), default"
same "$(columns indexing_tasks)" \
	"id character varying(36) not null, document_id character varying(36) not null, task_type character varying(50) not null, status character varying(50) not null default 'pending'::character varying, created_at timestamp without time zone not null, started_at timestamp without time zone, completed_at timestamp without time zone" \
	"indexing_tasks: columns, order, types, default"
same "$(q -d "$DB" -c "SELECT string_agg(conrelid::regclass::text || ':' || conname || ':' || contype::text
		|| CASE WHEN contype = 'f' THEN ':' || confrelid::regclass::text || ':' || confdeltype::text ELSE '' END,
		' ' ORDER BY conrelid::regclass::text, conname)
	FROM pg_constraint WHERE connamespace = 'public'::regnamespace
	AND conrelid::regclass::text IN ('projects', 'documents', 'chunks', 'indexing_tasks')")" \
	"chunks:chunks_document_id_fkey:f:documents:c chunks:chunks_parent_id_fkey:f:chunks:c chunks:chunks_pkey:p documents:documents_pkey:p documents:documents_project_id_fkey:f:projects:c indexing_tasks:indexing_tasks_document_id_fkey:f:documents:c indexing_tasks:indexing_tasks_pkey:p projects:projects_name_key:u projects:projects_pkey:p" \
	"constraints: PostgreSQL's default names, FKs ON DELETE CASCADE"

m "$DB" "$T/cur1" current
expect 0 "migrate current"
same "$(cat "$T/cur1.out")" "001 (head)" "current prints 001 (head)"
m "$DB" "$T/cur1q" -q current
same "$(cat "$T/cur1q.out")" "001" "current -q prints the bare id"
m "$DB" "$T/hist1" history
expect 0 "migrate history"
has "$T/hist1.out" "applied" "history marks 001 applied"
has "$T/hist1.out" "(current, head)" "history marks 001 current and head"
m "$DB" "$T/hist1v" history -v
expect 0 "migrate history -v"
has "$T/hist1v.out" "upgrade by postgres at" "history -v says who applied it and when"
m "$DB" "$T/check1" check
expect 0 "migrate check at head"
m "$DB" "$T/heads" heads
expect 0 "migrate heads"
has "$T/heads.out" "001 (head)" "heads prints the built-in head"

svc "$T/api1" "$MIRAGE_API" --once
expect 0 "mirage-api --once at head"
same "$(cat "$T/api1.err")" "mirage-api: schema at 001 (head); starting" "mirage-api logs one line"
svc "$T/idx1" "$MIRAGE_INDEXER" --once
expect 0 "mirage-indexer --once at head"
same "$(cat "$T/idx1.err")" "mirage-indexer: schema at 001 (head); starting" "mirage-indexer logs one line"

# --- data survives a second upgrade and a service restart ----------------
q -d "$DB" >/dev/null <<'EOF'
INSERT INTO projects VALUES ('p1', 'Project One', now());
INSERT INTO documents (id, project_id, filename, original_path, file_type, created_at)
	VALUES ('d1', 'p1', 'a.pdf', '/in/a.pdf', 'pdf', now());
INSERT INTO chunks (id, document_id, content, embedding, position)
	VALUES ('c1', 'd1', 'hello',
		(SELECT '[' || string_agg('0.5', ',') || ']' FROM generate_series(1, 768))::vector, 0);
INSERT INTO chunks (id, document_id, content, position, parent_id)
	VALUES ('c2', 'd1', 'child', 1, 'c1');
INSERT INTO indexing_tasks (id, document_id, task_type, created_at)
	VALUES ('t1', 'd1', 'embed', now());
EOF
same "$(row_counts)" "1 1 2 1" "rows inserted"
same "$(q -d "$DB" -c "SELECT status FROM documents")" "pending" "status defaults to 'pending'"

m "$DB" "$T/up2" upgrade head
expect 0 "a second migrate upgrade head"
has "$T/up2.out" "nothing to do" "the second upgrade has nothing to do"
same "$(row_counts)" "1 1 2 1" "rows intact after the second upgrade"

# The service loop: starts, logs, stops on SIGTERM with exit 0.
PGDATABASE=$DB "$MIRAGE_API" >"$T/loop.out" 2>"$T/loop.err" </dev/null &
pid=$!
T_PIDS+=("$pid")
for ((i = 0; i < 100; i++)); do
	grep -q "starting" "$T/loop.err" && break
	sleep 0.1
done
has "$T/loop.err" "mirage-api: schema at 001 (head); starting" "the restarted service starts"
kill -TERM "$pid"
rc=0
for ((i = 0; i < 100; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
wait "$pid" || rc=$?
same "$rc" 0 "the service stops on SIGTERM with exit 0"
has "$T/loop.err" "mirage-api: stopping" "the service logs that it stops"
same "$(row_counts)" "1 1 2 1" "rows intact after the service restart"
same "$(version_of "$DB")" "001" "still at 001"

# --- downgrade base -------------------------------------------------------
m "$DB" "$T/down" downgrade base
expect 0 "migrate downgrade base"
has "$T/down.out" "<base>" "downgrade reports base"
same "$(user_tables)" "alembic_version migrate_log" "no Mirage table is left"
same "$(vector_installed)" 0 "the vector extension is gone"
same "$(version_of "$DB")" "" "alembic_version is empty"
m "$DB" "$T/cur2" current
same "$(cat "$T/cur2.out")" "<base>" "current prints <base>"
m "$DB" "$T/check2" check
expect 1 "migrate check at base"
svc "$T/api2" "$MIRAGE_API" --once
expect 1 "mirage-api refuses a database at base"
# One line: "mirage-api: database is at <base>, this build needs 001[ (1
# pending)]: run 'migrate upgrade head'" (the rest is verify's message).
same "$(wc -l <"$T/api2.err")" 1 "mirage-api logs one line"
[[ $(cat "$T/api2.err") =~ ^"mirage-api: database is at <base>, this build needs 001".*": run 'migrate upgrade head'"$ ]] ||
	fail "mirage-api's message: $(cat "$T/api2.err")"
ok "mirage-api says where the database is, what it needs and what to run"

# --- upgrade again --------------------------------------------------------
m "$DB" "$T/up3" upgrade head
expect 0 "migrate upgrade head again"
same "$(version_of "$DB")" "001" "back at 001"
same "$(row_counts)" "0 0 0 0" "fresh, empty tables"
same "$(q -d "$DB" -c "SELECT string_agg(operation, ',' ORDER BY id)
	FROM migrate_log WHERE revision = '001' AND success")" \
	"upgrade,downgrade,upgrade" "migrate_log: one row per step"
svc "$T/api3" "$MIRAGE_API" --once
expect 0 "mirage-api starts again"
