#!/usr/bin/env bash
# Benchmarks gatepass end to end. Builds gatepass (CGO_ENABLED=0) and the bench
# tools, serves a fresh SQLite database with --rate-limit off, creates the
# accounts with "gatepass user add", runs every loadgen scenario against the
# server, then runs the compare harness; repeats all of it on PostgreSQL when
# GATEPASS_BENCH_POSTGRES is set; records the server's idle and peak RSS, the
# binary size and the raw argon2id hash rate; alternates trivial and
# forward-auth windows in rounds for a steadier ratio; profiles the refresh and
# forward-auth paths; and writes results.json, results.md, chart.svg and the
# profiles into bench/results/.
#
#   bench/run.sh           full run: 10 s per scenario after a 2 s warm-up,
#                          about eight minutes with PostgreSQL
#   bench/run.sh -quick    smoke run: 1 s per scenario, results in a new
#                          temporary directory, bench/results/ left alone
#
# Environment:
#   GATEPASS_BENCH_POSTGRES  postgres:// URL of a database the script DROPS and
#                            creates again, such as
#                            postgres://postgres@127.0.0.1:5432/gatepass_bench?sslmode=disable
#   BENCH_CONCURRENCY (32), BENCH_DURATION (10s), BENCH_WARMUP (2s),
#   BENCH_USERS (32), BENCH_PORT (18080), BENCH_OUT (bench/results),
#   BENCH_ROUNDS (6), BENCH_ROUND_DURATION (5s)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
-quick | --quick) quick=true ;;
"") ;;
*) echo "usage: bench/run.sh [-quick]" >&2; exit 2 ;;
esac

if $quick; then
	concurrency=${BENCH_CONCURRENCY:-8}
	duration=${BENCH_DURATION:-1s}
	warmup=${BENCH_WARMUP:-300ms}
	users=${BENCH_USERS:-4}
	rounds=${BENCH_ROUNDS:-2}
	round_duration=${BENCH_ROUND_DURATION:-500ms}
	out=${BENCH_OUT:-$(mktemp -d -t gatepass-bench-results.XXXXXX)}
	hash_time=1s
else
	concurrency=${BENCH_CONCURRENCY:-32}
	duration=${BENCH_DURATION:-10s}
	warmup=${BENCH_WARMUP:-2s}
	users=${BENCH_USERS:-32}
	rounds=${BENCH_ROUNDS:-6}
	round_duration=${BENCH_ROUND_DURATION:-5s}
	out=${BENCH_OUT:-bench/results}
	hash_time=5s
fi
port=${BENCH_PORT:-18080}
compare_port=$((port + 10))
user=bench
# The accounts' password. It is published here on purpose: the accounts live
# only in the throwaway databases of the run.
password=bench-password-not-secret

server_scenarios=trivial,verify,me,refresh,signin
compare_scenarios=trivial,jwt,session,password

die() {
	echo "run.sh: $*" >&2
	exit 1
}

for tool in go curl; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
if [ -n "${GATEPASS_BENCH_POSTGRES:-}" ]; then
	command -v psql >/dev/null || die "psql is required to reset GATEPASS_BENCH_POSTGRES"
fi

# Everything runs on this machine: other work on it skews every number, so the
# load average before the run is recorded beside the results.
load_before=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_before" -v n="$(nproc)" 'BEGIN { exit !(l > n / 4) }'; then
	echo "run.sh: warning: load average $load_before on $(nproc) CPUs;" \
		"the numbers will be low and noisy" >&2
fi

# The commit measured, read before the run writes its results into the tree.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
	commit="$commit+changes"
fi

tmp=$(mktemp -d -t gatepass-bench.XXXXXX)
bin=$tmp/bin
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$out" "$bin"

echo "== build"
export CGO_ENABLED=0
go build -trimpath -o "$bin/gatepass" ./cmd/gatepass
go build -trimpath -ldflags='-s -w' -o "$bin/gatepass-stripped" ./cmd/gatepass
for tool in loadgen compare chart; do
	go build -trimpath -o "$bin/$tool" "./bench/$tool"
done

# start_server LOG COMMAND...: starts a server in the background and waits
# until its /healthz answers.
start_server() {
	local log=$1 url
	shift
	url=$(listen_url "$@")
	# A server left over on the port would answer for the new one, which could
	# not listen, and be measured in its place.
	if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
		die "something already answers on $url; stop it or set BENCH_PORT"
	fi
	"$@" >"$log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "server exited"; }
		sleep 0.1
	done
	cat "$log" >&2
	die "server did not answer on $url"
}

# listen_url COMMAND...: the base URL of the --addr or -addr argument.
listen_url() {
	local prev=""
	for arg in "$@"; do
		case "$prev" in --addr | -addr) echo "http://$arg"; return ;; esac
		prev=$arg
	done
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" || true
	server_pid=""
}

# status_kib FIELD: a field of the server's /proc status, in KiB.
status_kib() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$server_pid/status"
}

# reset_postgres URL: drops and creates the database URL names, through the
# maintenance database "postgres" of the same server.
reset_postgres() {
	local re='^(postgres(ql)?://[^/?]*)/([A-Za-z_][A-Za-z0-9_]*)(\?.*)?$'
	[[ $1 =~ $re ]] || die "GATEPASS_BENCH_POSTGRES must name a database: postgres://HOST/NAME"
	local name=${BASH_REMATCH[3]} admin="${BASH_REMATCH[1]}/postgres${BASH_REMATCH[4]}"
	case "$name" in
	postgres | template0 | template1) die "refusing to drop $name; use a dedicated database" ;;
	esac
	PGOPTIONS='--client-min-messages=warning' psql -q -v ON_ERROR_STOP=1 "$admin" \
		-c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
}

# fresh_db ENGINE NAME: prints the --db value of a new, empty database.
fresh_db() {
	if [ "$1" = postgres ]; then
		reset_postgres "$GATEPASS_BENCH_POSTGRES"
		echo "$GATEPASS_BENCH_POSTGRES"
	else
		echo "$tmp/$2.db"
	fi
}

# add_users DB: creates bench-1 ... bench-N with "gatepass user add", before the
# server starts, as an operator would.
add_users() {
	for i in $(seq 1 "$users"); do
		printf '%s\n' "$password" | GATEPASS_LOG_LEVEL=warn \
			"$bin/gatepass" user add "$user-$i" --db "$1" --password-stdin >/dev/null
	done
}

# loadgen URL SCENARIOS JSON [ARG...]: runs the scenarios against the running
# server and keeps the table and JSON.
loadgen() {
	local url=$1 scenarios=$2 json=$3
	shift 3
	"$bin/loadgen" -url "$url" -scenario "$scenarios" -c "$concurrency" -d "$duration" \
		-warmup "$warmup" -user "$user" -users "$users" -password "$password" \
		-server-pid "$server_pid" -json "$json" "$@" | tee "${json%.json}.md"
}

# bench_engine ENGINE: serve, load and compare on one engine; leaves
# $tmp/ENGINE.json, the engine's part of results.json.
bench_engine() {
	local engine=$1 db idle peak
	# On PostgreSQL, the CPU time of its processes is counted too.
	local db_cpu=()
	if [ "$engine" = postgres ]; then
		db_cpu=(-db-process postgres)
	fi
	echo "== $engine: gatepass serve"
	db=$(fresh_db "$engine" "$engine-serve")
	add_users "$db"
	start_server "$tmp/$engine-serve.log" "$bin/gatepass" serve --db "$db" \
		--addr "127.0.0.1:$port" --rate-limit off
	sleep 2
	idle=$(status_kib VmRSS)
	echo "idle RSS: $idle KiB"
	loadgen "http://127.0.0.1:$port" "$server_scenarios" "$tmp/$engine-server.json" \
		${db_cpu[@]+"${db_cpu[@]}"}
	peak=$(status_kib VmHWM)
	# One window's ratio of forward-auth to trivial moves with the machine's
	# neighbours by about as much as the target's margin; the median of
	# adjacent pairs moves less.
	echo "== $engine: trivial and forward-auth in $rounds rounds"
	loadgen "http://127.0.0.1:$port" trivial,verify "$tmp/$engine-rounds.json" \
		-rounds "$rounds" -d "$round_duration" ${db_cpu[@]+"${db_cpu[@]}"}
	stop_server

	echo "== $engine: compare harness"
	db=$(fresh_db "$engine" "$engine-compare")
	start_server "$tmp/$engine-compare.log" "$bin/compare" -db "$db" \
		-addr "127.0.0.1:$compare_port" -user "$user" -users "$users" -password "$password"
	loadgen "http://127.0.0.1:$compare_port" "$compare_scenarios" \
		"$tmp/$engine-compare.json" ${db_cpu[@]+"${db_cpu[@]}"}
	stop_server

	echo "$idle $peak" >"$tmp/$engine.rss"
	printf '{"engine": "%s", "idle_rss_kib": %d, "peak_rss_kib": %d,\n' "$engine" "$idle" \
		"$peak" >"$tmp/$engine.json"
	printf '"server": %s,\n"rounds": %s,\n"compare": %s}' \
		"$(cat "$tmp/$engine-server.json")" "$(cat "$tmp/$engine-rounds.json")" \
		"$(cat "$tmp/$engine-compare.json")" >>"$tmp/$engine.json"
}

# profile SCENARIO: a CPU profile of the compare harness, which serves
# gatepass's own API too, while loadgen runs SCENARIO on SQLite. The profile
# covers 8 s after the set-up sign-ins and the warm-up, so argon2id does not
# fill its top.
profile() {
	local prof=$tmp/$1.pprof lg
	echo "== profile: $1"
	start_server "$tmp/profile-$1.log" "$bin/compare" -db "$tmp/profile-$1.db" \
		-addr "127.0.0.1:$compare_port" -user "$user" -users "$users" \
		-password "$password" -pprof
	"$bin/loadgen" -url "http://127.0.0.1:$compare_port" -scenario "$1" \
		-c "$concurrency" -d 12s -warmup 4s -user "$user" -users "$users" \
		-password "$password" >/dev/null &
	lg=$!
	sleep 6
	curl -fsS -o "$prof" "http://127.0.0.1:$compare_port/debug/pprof/profile?seconds=8"
	wait "$lg"
	stop_server
	{
		echo "# CPU profile of the compare harness serving loadgen -scenario $1 on SQLite"
		echo "## flat"
		go tool pprof -top -nodecount=30 "$bin/compare" "$prof" 2>/dev/null
		echo "## cumulative"
		go tool pprof -top -cum -nodecount=60 "$bin/compare" "$prof" 2>/dev/null
	} >"$out/profile-$1.txt"
}

engines=(sqlite)
if [ -n "${GATEPASS_BENCH_POSTGRES:-}" ]; then
	engines+=(postgres)
fi
# hash_rate WHEN: the raw argon2id rate on every CPU, the ceiling of sign-ins.
# It is measured before and after the engines, to show how much it moved.
hash_rate() {
	echo "== argon2id hash rate ($1)"
	"$bin/compare" -hash-rate "$hash_time" >"$tmp/hash-rate-$1.json"
	awk -F': ' '/hashes_per_second/ { printf "%.1f hashes/s\n", $2 }' "$tmp/hash-rate-$1.json"
}

hash_rate before
for engine in "${engines[@]}"; do
	bench_engine "$engine"
done
hash_rate after

if ! $quick; then
	profile refresh
	profile verify
fi

echo "== results in $out"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -d '"\\')
mem_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
{
	printf '{"generated": "%s", "commit": "%s", "quick": %s,\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$quick"
	printf '"machine": {"cpus": %d, "cpu": "%s", "memory_mib": %d, "go": "%s", "kernel": "%s",\n' \
		"$(nproc)" "$cpu" "$mem_mib" "$(go env GOVERSION)" "$(uname -r)"
	printf '  "load_average_before": %s, "load_average_after": %s},\n' "$load_before" \
		"$(cut -d' ' -f1 /proc/loadavg)"
	printf '"settings": {"concurrency": %d, "duration": "%s", "warmup": "%s", "users": %d},\n' \
		"$concurrency" "$duration" "$warmup" "$users"
	printf '"binary": {"bytes": %d, "stripped_bytes": %d},\n' \
		"$(stat -c %s "$bin/gatepass")" "$(stat -c %s "$bin/gatepass-stripped")"
	printf '"hash_rate": {"before": %s,\n"after": %s},\n"engines": [\n' \
		"$(cat "$tmp/hash-rate-before.json")" "$(cat "$tmp/hash-rate-after.json")"
	sep=""
	for engine in "${engines[@]}"; do
		printf '%s%s' "$sep" "$(cat "$tmp/$engine.json")"
		sep=$',\n'
	done
	printf '\n]}\n'
} >"$out/results.json"

{
	echo "# gatepass benchmark results"
	echo
	echo "$(date -u +%Y-%m-%d), commit $commit; $(nproc) CPUs ($cpu), ${mem_mib} MiB," \
		"$(go env GOVERSION); loadgen on the same machine."
	echo "Load average $load_before before the run, $(cut -d' ' -f1 /proc/loadavg) after."
	echo "$concurrency workers, $warmup warm-up, $duration measured per scenario," \
		"$users accounts; gatepass serve --rate-limit off, other flags at their defaults."
	echo
	echo "gatepass binary (CGO_ENABLED=0): $(stat -c %s "$bin/gatepass") bytes," \
		"$(stat -c %s "$bin/gatepass-stripped") with -ldflags='-s -w'."
	echo "argon2id (m=19456 KiB, t=2, p=1) on every CPU:" \
		"$(awk -F': ' '/hashes_per_second/ { printf "%.1f", $2 }' "$tmp/hash-rate-before.json")" \
		"hashes/s before the runs," \
		"$(awk -F': ' '/hashes_per_second/ { printf "%.1f", $2 }' "$tmp/hash-rate-after.json")" \
		"after."
	for engine in "${engines[@]}"; do
		echo
		echo "## $engine"
		echo
		read -r idle peak <"$tmp/$engine.rss"
		echo "gatepass serve RSS: $idle KiB idle after start, $peak KiB at its peak" \
			"under the load (VmRSS, VmHWM)."
		echo
		echo "### gatepass serve"
		echo
		cat "$tmp/$engine-server.md"
		echo
		echo "### trivial and forward-auth in $rounds alternating rounds of $round_duration"
		echo
		cat "$tmp/$engine-rounds.md"
		echo
		echo "### compare harness (one process: /healthz, then the same endpoint three ways)"
		echo
		cat "$tmp/$engine-compare.md"
	done
} >"$out/results.md"

"$bin/chart" -in "$out/results.json" -out "$out/chart.svg"
echo "wrote $out/results.json, $out/results.md, $out/chart.svg"
