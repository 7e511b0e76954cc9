# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# container.sh: the container recipe cannot rot. There is no container
# engine here, so this runs what the Dockerfile runs:
#   - the Dockerfile's build stage runs tools/container-build.sh and installs
#     the packages the script says it needs (build and runtime);
#   - the script itself, from this source tree into a fresh directory;
#   - the binary it produced, with the arguments of the Kubernetes Job
#     (examples/container/k8s/migrate-job.yaml) and the image's CMD, against the
#     harness's database; the services' readiness command
#     (examples/container/k8s/mirage-api.yaml) fails before and passes after.
# Run by pg-harness.sh.
source "${SRCDIR:?}/tests/integration/cli-lib.sh"
cli_init needs-pg
needs_vector
command -v meson >/dev/null || skip "meson is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"

df=$SRCDIR/examples/container/Dockerfile
script=$SRCDIR/tools/container-build.sh

grep -qx 'RUN sh tools/container-build.sh /src /build /out' "$df" ||
	fail "the Dockerfile does not run tools/container-build.sh"
ok "the Dockerfile's build stage runs tools/container-build.sh"
for list in BUILD_DEBS RUNTIME_DEBS; do
	debs=$(sed -n "s/^# $list: //p" "$script")
	[ -n "$debs" ] || fail "container-build.sh names no $list"
	for p in $debs; do
		grep -qw -- "$p" "$df" || fail "the Dockerfile does not install $p ($list)"
	done
	ok "the Dockerfile installs the $list: $debs"
done

run "$T_TMP/build" timeout -k 5 500 sh "$script" "$SRCDIR" "$T_TMP/b" "$T_TMP/out"
expect 0 "tools/container-build.sh"
bin=$T_TMP/out/usr/local/bin
for p in mirage-migrate mirage-api mirage-indexer; do
	[ -x "$bin/$p" ] || fail "no $p in the image tree"
done
ok "the image tree has mirage-migrate and the services"

# The image's CMD and the Job's args.
python3 - "$df" "$SRCDIR/examples/container/k8s" >"$T_TMP/args" <<'PY' || fail "cannot read the Dockerfile / manifests"
import json, sys, yaml
df, k8s = sys.argv[1], sys.argv[2]
lines = open(df).read().split("\n")
stage = None
cmd = {}
for line in lines:
    if line.startswith("FROM "):
        stage = line.split()[-1]
    elif line.startswith("CMD "):
        cmd[stage] = json.loads(line[4:])
job = yaml.safe_load(open(k8s + "/migrate-job.yaml"))
assert job["kind"] == "Job"
c = job["spec"]["template"]["spec"]["containers"][0]
env = [e["name"] for e in c["env"]]
assert "MIRAGE_DATABASE_URL" in env, env
api = yaml.safe_load(open(k8s + "/mirage-api.yaml"))
a = api["spec"]["template"]["spec"]["containers"][0]
probe = a["readinessProbe"]["exec"]["command"]
print(" ".join(cmd["migrate"]))
print(" ".join(c["args"]))
print(" ".join(probe))
print(" ".join(a["command"]))
PY
{ read -r image_cmd; read -r job_args; read -r probe; read -r api_cmd; } <"$T_TMP/args"
note "image CMD: $image_cmd; Job args: $job_args; readiness: $probe"
case $image_cmd in *"upgrade head"*) ;; *) fail "the image's CMD does not upgrade to head" ;; esac
case $job_args in --wait*"upgrade head"*) ;; *) fail "the Job does not run --wait ... upgrade head" ;; esac
case $probe in /usr/local/bin/mirage-api*--once*) ;; *) fail "the readiness probe is not mirage-api --once" ;; esac
case $api_cmd in /usr/local/bin/mirage-api*) ;; *) fail "the api container does not run mirage-api" ;; esac
ok "the Job runs --wait upgrade head, the api is gated on mirage-api --once"

# with_bin ARGS: the command line with /usr/local/bin mapped to the tree.
with_bin()
{
	local a out=()
	for a in "$@"; do
		out+=("${a/#\/usr\/local\/bin\//$bin/}")
	done
	printf '%s\n' "${out[@]}"
}

fresh_db ctr_db
mapfile -t p < <(with_bin $probe)
PGDATABASE=ctr_db run "$T_TMP/probe0" "${p[@]}"
expect 1 "readiness before the migration"
read -r -a j <<<"$job_args"
PGDATABASE=ctr_db run "$T_TMP/job" "$bin/mirage-migrate" "${j[@]}"
expect 0 "the Job's command: mirage-migrate ${j[*]}"
PGDATABASE=ctr_db run "$T_TMP/probe1" "${p[@]}"
expect 0 "readiness after the migration"
read -r -a c <<<"$image_cmd"
PGDATABASE=ctr_db run "$T_TMP/cmd" "$bin/mirage-migrate" "${c[@]}"
expect 0 "the image's CMD again: mirage-migrate ${c[*]}"
has "$T_TMP/cmd.out" "nothing to do" "a second run finds nothing to do"
