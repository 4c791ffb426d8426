#!/usr/bin/env bash
# Invoke benchmark: Aviary running functions over the Lambda Runtime API, against baselines measured in
# the same run on the same machine.
#
#   scripts/bench/invoke.sh
#
# 1. Warm invokes, concurrency 1 and 8, with wrk: (a) a native `provided` bootstrap (bootstrap.c,
#    compiled here), (b) Aviary's bundled Python bootstrap (python3.12), (c) awslambdaric (the official
#    Python runtime interface client) as a provided.al2023 bootstrap; each beside the single-hop
#    baseline GET /health of the same server. Targets are alternated per round, medians reported.
#    Only warm environments are measured: N environments are warmed (N invocations held in flight at
#    once) and the function's log streams / cold-start REPORT lines must not change while measuring.
# 2. The same runtime processes against the benchmark's own Runtime API stub (runtime_api_stub.py, no
#    Aviary): events/s and the runtime's own event->response time, which gives
#    "Aviary's own p50 overhead" = invoke p50 (concurrency 1) - the runtime's own time, and the
#    awslambdaric ratio (events/s through Aviary at concurrency 1 / against the stub).
# 3. Cold starts: Init Duration of REPORT lines of invocations that follow a configuration change
#    (a changed $LATEST gets a fresh environment) vs the same runtime spawned by the benchmark against
#    a socket of its own (spawn to the first GET /next), interleaved.
# Goals: (a) >= 0.35 x the single-hop rate; Aviary's own p50 overhead < 0.3 ms; cold-start overhead
# <= +5 ms; awslambdaric through Aviary >= 0.9 x the stub.
#
# This is a benchmark, not a test: it exits 0 even when a goal is missed (BENCH_ENFORCE=1: exit 3). It
# exits non-zero if anything is wrong with the setup or with a response (every response is checked:
# status 200, no X-Amz-Function-Error, exact expected body).
#
# Environment (all optional):
#   AVIARY_BIN           aviary binary (default <repo>/.build/release/aviary; if that default is missing
#                        it is built with `swift build -c release --product aviary`)
#   BENCH_SECONDS        seconds per wrk measurement (default 4)
#   BENCH_WARMUP_SECONDS wrk warm-up seconds per target and concurrency (default 1)
#   BENCH_ROUNDS         measured rounds, targets alternated within each (default 3)
#   BENCH_STUB_SECONDS   seconds per stub measurement (default 3; one per runtime and round)
#   BENCH_COLD_COUNT     cold starts per runtime, each through Aviary and bare (default 25)
#   BENCH_CONCURRENCY    wrk connections to measure (default "1 8"; 1 is needed for the overhead and
#                        awslambdaric goals)
#   BENCH_THREADS        wrk threads (default 1)
#   BENCH_RUNTIMES       runtimes to measure (default "c py ric")
#   BENCH_OUT_DIR        if set, raw outputs (wrk, results.jsonl, logs) are copied there
#   BENCH_ENFORCE        1: exit 3 if a goal is missed
#   PYTHON               interpreter used to create the venv (default python3)
#
# Installs: wrk and gcc (apt-get, Debian) if missing; a venv at <repo>/.venv-bench with boto3 and
# awslambdaric (PyPI). Only loopback (127.0.0.1) traffic. Everything started here is stopped on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

BENCH_SECONDS="${BENCH_SECONDS:-4}"
BENCH_WARMUP_SECONDS="${BENCH_WARMUP_SECONDS:-1}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_STUB_SECONDS="${BENCH_STUB_SECONDS:-3}"
BENCH_COLD_COUNT="${BENCH_COLD_COUNT:-25}"
BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-1 8}"
BENCH_THREADS="${BENCH_THREADS:-1}"
BENCH_RUNTIMES="${BENCH_RUNTIMES:-c py ric}"
BENCH_OUT_DIR="${BENCH_OUT_DIR:-}"
BENCH_ENFORCE="${BENCH_ENFORCE:-0}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
export PYTHONDONTWRITEBYTECODE=1   # the helpers import each other; no __pycache__ in the repo
DEFAULT_AVIARY_BIN="$REPO/.build/release/aviary"
AVIARY_BIN="${AVIARY_BIN:-$DEFAULT_AVIARY_BIN}"


for v in BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_ROUNDS BENCH_STUB_SECONDS BENCH_COLD_COUNT BENCH_THREADS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( BENCH_SECONDS >= 1 && BENCH_ROUNDS >= 1 && BENCH_STUB_SECONDS >= 1 && BENCH_THREADS >= 1 )) \
  || die "BENCH_SECONDS, BENCH_ROUNDS, BENCH_STUB_SECONDS and BENCH_THREADS must be >= 1"
(( BENCH_SECONDS <= 120 && BENCH_WARMUP_SECONDS <= 60 && BENCH_STUB_SECONDS <= 120 && BENCH_ROUNDS <= 10 \
   && BENCH_COLD_COUNT <= 200 )) || die "durations capped at 120 s (warm-up 60 s), rounds at 10, cold starts at 200"
for c in $BENCH_CONCURRENCY; do
  [[ "$c" =~ ^[0-9]+$ ]] && (( c >= 1 && c <= 32 )) || die "BENCH_CONCURRENCY: '$c' is not in 1..32"
  (( c >= BENCH_THREADS )) || die "BENCH_CONCURRENCY ($c) must be >= BENCH_THREADS"
done
for r in $BENCH_RUNTIMES; do [[ "$r" == c || "$r" == py || "$r" == ric ]] || die "BENCH_RUNTIMES: unknown '$r'"; done

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aviary-invoke-bench.XXXXXX")"
PIDS=()
CHILD_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  if [[ -n "$CHILD_PID" ]]; then kill -TERM "$CHILD_PID" 2>/dev/null || true; wait "$CHILD_PID" 2>/dev/null || true; fi
  stop_processes "${PIDS[@]}"
  if [[ -n "$BENCH_OUT_DIR" ]]; then
    mkdir -p "$BENCH_OUT_DIR" && cp -r "$WORK"/. "$BENCH_OUT_DIR"/ 2>/dev/null || true
    rm -rf "$BENCH_OUT_DIR/aviary-data/code" "$BENCH_OUT_DIR/aviary-data/runtime" 2>/dev/null || true
    log "raw outputs copied to $BENCH_OUT_DIR"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# ---------------------------------------------------------------- dependencies

ensure_tools() {
  command -v wrk >/dev/null 2>&1 || apt_install wrk
  command -v wrk >/dev/null 2>&1 || die "wrk still not on PATH after install"
  command -v gcc >/dev/null 2>&1 || apt_install gcc
  command -v gcc >/dev/null 2>&1 || die "gcc still not on PATH after install"
  command -v curl >/dev/null 2>&1 || apt_install curl
}

ensure_venv() {
  if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import boto3, awslambdaric' >/dev/null 2>&1; then
    return 0
  fi
  log "preparing venv $VENV with boto3 and awslambdaric (PyPI)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV" || die "could not create venv $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check boto3 awslambdaric \
    || die "pip install boto3 awslambdaric failed"
  "$VENV/bin/python" -c 'import boto3, awslambdaric' || die "boto3 / awslambdaric not importable after install"
}


# ---------------------------------------------------------------- helpers
DATA="$WORK/aviary-data"
RESULTS="$WORK/results.jsonl"
CLK_TCK=$(getconf CLK_TCK)

helper() { "$VENV/bin/python" "$SCRIPT_DIR/invoke_bench.py" "$@"; }

# helper_run NAME ARGS...: runs an invoke_bench.py subcommand, output in $WORK/NAME.out; aborts on failure
helper_run() {
  local name=$1
  shift
  run_child "$WORK/$name.out" "$VENV/bin/python" "$SCRIPT_DIR/invoke_bench.py" "$@" \
    || { cat "$WORK/$name.out" >&2; tail -n 20 "$WORK/aviary.log" >&2 2>/dev/null || true; die "invoke_bench.py $1 failed ($name)"; }
}

json_field() { "$VENV/bin/python" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])[sys.argv[2]])' "$1" "$2"; }

# server CPU time (user + system) in clock ticks
server_ticks() { sed 's/.*) //' "/proc/$AVIARY_PID/stat" | awk '{print $12 + $13}'; }

label() {
  case $1 in
    health) echo "single hop /health" ;;
    c) echo "(a) C bootstrap" ;;
    py) echo "(b) Python bootstrap" ;;
    ric) echo "(c) awslambdaric" ;;
  esac
}

# run_wrk CONC TARGET SECONDS TAG -> sets R_RPS R_P50 R_P99 R_REQS R_CPU_US; aborts on any bad response
run_wrk() {
  local conc=$1 target=$2 secs=$3 tag=$4 out path method body expected
  out="$WORK/wrk-$tag-c$conc-$target.txt"
  if [[ $target == health ]]; then
    path=/health method=GET body=- expected="$WORK/expected-health.body"
  else
    path="/2015-03-31/functions/bench-$target/invocations" method=POST body="$WORK/request.json"
    expected="$WORK/expected-$target.body"
  fi
  local t0 t1
  t0=$(server_ticks)
  run_child "$out" wrk -t"$BENCH_THREADS" -c"$conc" -d"${secs}s" --timeout 5s \
      -s "$SCRIPT_DIR/invoke.lua" "$AVIARY_URL$path" -- "$method" "$body" "$expected" \
    || { cat "$out" >&2; die "wrk failed ($target, concurrency $conc)"; }
  t1=$(server_ticks)

  local reqs dur bad sock first p50 p99
  reqs=$(awk '$1=="BENCH_REQUESTS"{print $2}' "$out")
  dur=$(awk '$1=="BENCH_DURATION_US"{print $2}' "$out")
  bad=$(awk '$1=="BENCH_BAD"{print $2+$3+$4}' "$out")
  sock=$(awk '$1=="BENCH_SOCKET_ERRORS"{print $2+$3+$4+$5}' "$out")
  first=$(sed -n 's/^BENCH_FIRST_BAD //p' "$out")
  p50=$(awk '$1=="BENCH_P50_US"{print $2}' "$out")
  p99=$(awk '$1=="BENCH_P99_US"{print $2}' "$out")
  [[ -n $reqs && -n $dur && -n $bad && -n $sock && -n $p50 && -n $p99 ]] \
    || { cat "$out" >&2; die "could not parse wrk output ($target, concurrency $conc)"; }
  if [[ $bad != 0 ]]; then
    cat "$out" >&2
    tail -n 20 "$WORK/aviary.log" >&2 2>/dev/null || true
    die "$(label "$target") concurrency $conc: $bad bad responses ($(awk '$1=="BENCH_BAD"{print $2" non-200, "$3" wrong body, "$4" function errors"}' "$out")); first: $first -- comparison aborted"
  fi
  [[ $sock == 0 ]] || { cat "$out" >&2; die "$(label "$target") concurrency $conc: $sock socket errors -- comparison aborted"; }
  (( reqs > 0 )) || die "$(label "$target") concurrency $conc: no requests completed"
  R_REQS=$reqs
  R_RPS=$(awk -v n="$reqs" -v d="$dur" 'BEGIN { printf "%.1f", n * 1e6 / d }')
  R_P50=$(awk -v v="$p50" 'BEGIN { printf "%.3f", v / 1000 }')
  R_P99=$(awk -v v="$p99" 'BEGIN { printf "%.3f", v / 1000 }')
  R_CPU_US=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')
}

# stream_state RUNTIME -> "streams cold_reports" of the function
stream_state() {
  helper streams --runtime "$1" --work "$WORK" --data-dir "$DATA" \
    | "$VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin); print(d["streams"], d["cold_reports"])'
}

# ---------------------------------------------------------------- main
ensure_tools
ensure_venv
ensure_aviary_bin

AVIARY_PY="$(command -v python3 || true)"
[[ -n "$AVIARY_PY" ]] || die "python3 is not on PATH (Aviary runs python3.* functions with it)"
log "wrk: $(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}'); gcc $(gcc -dumpfullversion); awslambdaric $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("awslambdaric"))'); boto3 $("$VENV/bin/python" -c 'import boto3; print(boto3.__version__)')"
log "config: ${BENCH_SECONDS}s x ${BENCH_ROUNDS} rounds per target, warm-up ${BENCH_WARMUP_SECONDS}s, stub ${BENCH_STUB_SECONDS}s, ${BENCH_COLD_COUNT} cold starts per runtime, concurrency '$BENCH_CONCURRENCY', ${BENCH_THREADS} wrk thread(s), $(nproc) cores"

# the native bootstrap
mkdir -p "$WORK/c"
gcc -O2 -Wall -o "$WORK/c/bootstrap" "$SCRIPT_DIR/bootstrap.c" 2>"$WORK/gcc.log" \
  || { cat "$WORK/gcc.log" >&2; die "compiling bootstrap.c failed"; }

# the server
PORT=$(free_port)
mkdir -p "$DATA"
log "starting $AVIARY_BIN serve on 127.0.0.1:$PORT (data dir $DATA, fs $(stat -f -c %T "$DATA"))"
"$AVIARY_BIN" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" --max-concurrency 64 --idle-timeout 3600 \
  >"$WORK/aviary.log" 2>&1 &
AVIARY_PID=$!
PIDS+=("$AVIARY_PID")
wait_http aviary "http://127.0.0.1:$PORT/health" "$AVIARY_PID" 60
AVIARY_URL="http://127.0.0.1:$PORT"
log "aviary binary: $AVIARY_BIN ($(stat -c '%y' "$AVIARY_BIN" | cut -d. -f1)); repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- Sources 2>/dev/null || echo ' (Sources modified)')"
log "python3.* functions run with $AVIARY_PY ($(file -b "$AVIARY_PY" 2>/dev/null | cut -c1-40 || echo '?'))"

log "server RSS after start: $(awk '/VmRSS/{print $2, $3}' "/proc/$AVIARY_PID/status")"
helper_run setup setup --endpoint "$AVIARY_URL" --work "$WORK" --data-dir "$DATA" \
  --c-bootstrap "$WORK/c/bootstrap" --ric-python "$VENV/bin/python"
log "functions created; one checked invoke each: $(tail -n1 "$WORK/setup.out")"

COMMON=(--work "$WORK" --data-dir "$DATA" --python "$AVIARY_PY" --results "$RESULTS")
TARGETS="health $BENCH_RUNTIMES"
FIRST_PHASE=1

for conc in $BENCH_CONCURRENCY; do
  log "concurrency $conc: warming $conc environment(s) per function, then ${BENCH_WARMUP_SECONDS}s wrk warm-up per target"
  declare -A STATE=()
  for r in $BENCH_RUNTIMES; do
    if (( conc > 1 )); then
      helper_run "warm-$r-c$conc" warm --endpoint "$AVIARY_URL" --runtime "$r" --concurrency "$conc" "${COMMON[@]}"
    fi
  done
  if (( BENCH_WARMUP_SECONDS > 0 )); then
    for t in $TARGETS; do run_wrk "$conc" "$t" "$BENCH_WARMUP_SECONDS" warmup; done
  fi
  for r in $BENCH_RUNTIMES; do STATE[$r]="$(stream_state "$r")"; done
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for t in $TARGETS; do
      run_wrk "$conc" "$t" "$BENCH_SECONDS" "run$round"
      printf '  c=%-2d run %d  %-22s %9.1f req/s   p50 %7.3f ms   p99 %7.3f ms   server CPU %6.1f us/req   (%d requests, all checked)\n' \
        "$conc" "$round" "$(label "$t")" "$R_RPS" "$R_P50" "$R_P99" "$R_CPU_US" "$R_REQS"
      printf '{"kind":"wrk","conc":%d,"target":"%s","round":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s,"requests":%d,"cpu_us_per_req":%s}\n' \
        "$conc" "$t" "$round" "$R_RPS" "$R_P50" "$R_P99" "$R_REQS" "$R_CPU_US" >>"$RESULTS"
    done
    if (( conc == 1 )); then
      for r in $BENCH_RUNTIMES; do
        helper_run "stub-$r-$round" stub --runtime "$r" --seconds "$BENCH_STUB_SECONDS" --warmup 0.5 --round "$round" "${COMMON[@]}"
        "$VENV/bin/python" - "$WORK/stub-$r-$round.out" "$(label "$r")" "$round" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(f"  stub run {sys.argv[3]}  {sys.argv[2]:<22} {d['events_per_s']:9.1f} events/s   event->response p50 "
      f"{d['rtt_p50_ms']:.3f} ms   ack->next GET p50 {d['turn_p50_ms']:.3f} ms   ({d['events']} events, all checked)")
EOF
      done
    fi
  done
  for r in $BENCH_RUNTIMES; do
    now="$(stream_state "$r")"
    [[ "$now" == "${STATE[$r]}" ]] || die "bench-$r: log streams / cold starts changed during the concurrency-$conc measurement (${STATE[$r]} -> $now): a cold start was measured"
    # so far every warm invocation ran at concurrency 1: Aviary's own view of the runtime round trip
    if (( conc == 1 && FIRST_PHASE )); then helper_run "reports-$r" reports --runtime "$r" --conc 1 "${COMMON[@]}"; fi
  done
  unset STATE
  FIRST_PHASE=0
done

log "cold starts: $BENCH_COLD_COUNT per runtime through Aviary and bare, interleaved"
for r in $BENCH_RUNTIMES; do
  helper_run "cold-$r" cold --endpoint "$AVIARY_URL" --runtime "$r" --count "$BENCH_COLD_COUNT" "${COMMON[@]}"
  "$VENV/bin/python" - "$WORK/cold-$r.out" "$(label "$r")" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(f"  cold  {sys.argv[2]:<22} Aviary Init Duration median {d['aviary_median_ms']:.2f} ms   "
      f"bare {d['bare_median_ms']:.2f} ms   (Aviary {min(d['aviary_ms']):.2f}..{max(d['aviary_ms']):.2f}, "
      f"bare {min(d['bare_ms']):.2f}..{max(d['bare_ms']):.2f})")
EOF
done

log "server RSS at the end: $(awk '/VmRSS/{print $2, $3}' "/proc/$AVIARY_PID/status"); $(find "$DATA/logs" -name '*.log' | wc -l) log streams (execution environments started)"
rc=0
"$VENV/bin/python" "$SCRIPT_DIR/invoke_bench.py" summary --results "$RESULTS" --seconds "$BENCH_SECONDS" \
  --stub-seconds "$BENCH_STUB_SECONDS" --threads "$BENCH_THREADS" || rc=$?
case $rc in
  0) ;;
  3) if (( BENCH_ENFORCE )); then exit 3; fi ;;
  *) die "summary failed (status $rc)" ;;
esac
exit 0
