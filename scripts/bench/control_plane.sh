#!/usr/bin/env bash
# Control-plane throughput benchmark: Aviary vs moto_server, same client (wrk), same requests.
#
#   scripts/bench/control_plane.sh
#
# Measures GetAlias and UpdateAlias (durable write on Aviary) requests/s against Aviary and
# against moto_server (PyPI moto[server]) in the same run, alternating the servers so drift
# hits both, and prints the median ratios against the goals (GetAlias >= 50x, UpdateAlias >= 10x).
# This is a benchmark, not a test: it exits 0 even when a goal is missed (set BENCH_ENFORCE=1
# to exit 3 instead). It exits non-zero if anything is wrong with the setup or with responses
# (a non-2xx response or a socket error during a measurement invalidates the comparison).
#
# Environment (all optional):
#   AVIARY_BIN          aviary binary (default <repo>/.build/release/aviary; if that default is
#                       missing it is built with `swift build -c release --product aviary`)
#   BENCH_AVIARY_URL    use an already-running server as the "aviary" side instead of starting
#                       AVIARY_BIN (e.g. a second moto to test the plumbing); it is (re)seeded
#                       unless BENCH_AVIARY_SEED=0 (then it must already hold bench/live)
#   BENCH_AVIARY_OK_STATUS  HTTP statuses accepted by the pre-load check on the aviary side
#                       (default "200"; moto answers 201 to GetAlias/UpdateAlias)
#   BENCH_SECONDS       seconds per measurement (default 10)
#   BENCH_WARMUP_SECONDS  warm-up seconds per server and operation (default 2)
#   BENCH_ROUNDS        measured rounds per server and operation, alternating (default 3)
#   BENCH_CONNECTIONS   wrk connections (default 16)
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_OPS           operations to run: "get update" (default), or just one of them
#   BENCH_LUA_RESPONSE  1 (default): count every non-2xx in a wrk Lua response hook;
#                       0: rely on wrk's built-in counter (statuses >= 400 only), less client CPU
#   BENCH_OUT_DIR       if set, raw wrk outputs and server logs are copied there
#   BENCH_ENFORCE       1: exit 3 if a goal is missed
#   PYTHON              interpreter used to create the venv (default python3)
#
# Installs: wrk (apt-get, Debian), and a venv at <repo>/.venv-bench with boto3 + moto[server].
# Only loopback (127.0.0.1) traffic. Everything started here is stopped on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP_SECONDS="${BENCH_WARMUP_SECONDS:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-16}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_OPS="${BENCH_OPS:-get update}"
BENCH_AVIARY_URL="${BENCH_AVIARY_URL:-}"
BENCH_AVIARY_OK_STATUS="${BENCH_AVIARY_OK_STATUS:-200}"
BENCH_AVIARY_SEED="${BENCH_AVIARY_SEED:-1}"
BENCH_MOTO_OK_STATUS="200 201"   # moto_server answers GetAlias/UpdateAlias with 201
BENCH_OUT_DIR="${BENCH_OUT_DIR:-}"
BENCH_ENFORCE="${BENCH_ENFORCE:-0}"
export BENCH_LUA_RESPONSE="${BENCH_LUA_RESPONSE:-1}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
DEFAULT_AVIARY_BIN="$REPO/.build/release/aviary"
AVIARY_BIN="${AVIARY_BIN:-$DEFAULT_AVIARY_BIN}"
ALIAS_PATH="/2015-03-31/functions/bench/aliases/live"
AUTH_HEADER="Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"
UPDATE_BODY='{"FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{"2":0.1}}}'
GOAL_get=50
GOAL_update=10


for v in BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_ROUNDS BENCH_CONNECTIONS BENCH_THREADS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( BENCH_SECONDS >= 1 && BENCH_ROUNDS >= 1 && BENCH_THREADS >= 1 )) || die "BENCH_SECONDS, BENCH_ROUNDS and BENCH_THREADS must be >= 1"
(( BENCH_CONNECTIONS >= BENCH_THREADS )) || die "BENCH_CONNECTIONS must be >= BENCH_THREADS"
(( BENCH_CONNECTIONS <= 256 )) || die "BENCH_CONNECTIONS is capped at 256"
(( BENCH_SECONDS <= 600 && BENCH_WARMUP_SECONDS <= 600 && BENCH_ROUNDS <= 20 )) || die "durations capped at 600 s, rounds at 20"
for op in $BENCH_OPS; do [[ "$op" == get || "$op" == update ]] || die "BENCH_OPS: unknown op '$op'"; done

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aviary-bench.XXXXXX")"
PIDS=()
WRK_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  if [[ -n "$WRK_PID" ]]; then kill -TERM "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; fi
  stop_processes "${PIDS[@]}"
  if [[ -n "$BENCH_OUT_DIR" ]]; then
    mkdir -p "$BENCH_OUT_DIR" && cp -r "$WORK"/. "$BENCH_OUT_DIR"/ 2>/dev/null || true
    rm -rf "$BENCH_OUT_DIR/aviary-data" 2>/dev/null || true
    log "raw outputs copied to $BENCH_OUT_DIR"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- dependencies
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "wrk is missing and apt-get is not available; install wrk"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "installing wrk (apt-get)"
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >"$WORK/apt.log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying"
    $sudo apt-get update >>"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update failed"; }
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >>"$WORK/apt.log" 2>&1 \
      || { cat "$WORK/apt.log" >&2; die "apt-get install wrk failed"; }
  fi
  command -v wrk >/dev/null 2>&1 || die "wrk still not on PATH after install"
}

ensure_venv() {
  if [[ -x "$VENV/bin/python" && -x "$VENV/bin/moto_server" ]] \
     && "$VENV/bin/python" -c 'import boto3, moto, flask' >/dev/null 2>&1; then
    return 0
  fi
  log "creating venv $VENV with boto3 and moto[server] (PyPI)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV" || die "could not create venv $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'boto3' 'moto[server]' \
    || die "pip install boto3 moto[server] failed"
  [[ -x "$VENV/bin/moto_server" ]] || die "moto_server not found in $VENV/bin after install"
}


# ---------------------------------------------------------------- servers
start_moto() {
  local port
  port=$(free_port)
  log "starting moto_server on 127.0.0.1:$port"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$WORK/moto.log" 2>&1 &
  PIDS+=($!)
  wait_http moto "http://127.0.0.1:$port/moto-api/" "$!" 60
  MOTO_URL="http://127.0.0.1:$port"
}

start_aviary() {
  if [[ -n "$BENCH_AVIARY_URL" ]]; then
    AVIARY_URL="${BENCH_AVIARY_URL%/}"
    log "using external aviary-side server $AVIARY_URL (BENCH_AVIARY_URL)"
    return 0
  fi
  local port data="$WORK/aviary-data"
  port=$(free_port)
  mkdir -p "$data"
  log "starting $AVIARY_BIN serve on 127.0.0.1:$port (data dir $data, fs $(stat -f -c %T "$data"))"
  "$AVIARY_BIN" serve --host 127.0.0.1 --port "$port" --data-dir "$data" >"$WORK/aviary.log" 2>&1 &
  PIDS+=($!)
  wait_http aviary "http://127.0.0.1:$port/health" "$!" 60
  AVIARY_URL="http://127.0.0.1:$port"
}

seed() {
  local name=$1 url=$2
  log "seeding $name ($url)"
  "$VENV/bin/python" "$SCRIPT_DIR/seed.py" --endpoint "$url" >"$WORK/seed-$name.log" 2>&1 \
    || { cat "$WORK/seed-$name.log" >&2; die "seeding $name failed"; }
  sed 's/^/  /' "$WORK/seed-$name.log" >&2
}

# check NAME URL OP ACCEPTED_STATUSES: one curl request, validated before any load
check() {
  local name=$1 url=$2 op=$3 accept=$4 code body
  body="$WORK/check-$name-$op.json"
  if [[ $op == get ]]; then
    code=$(curl -s -o "$body" -w '%{http_code}' --max-time 10 -H "$AUTH_HEADER" "$url$ALIAS_PATH") || true
  else
    code=$(curl -s -o "$body" -w '%{http_code}' --max-time 10 -X PUT -H "$AUTH_HEADER" \
      -H 'Content-Type: application/json' --data-binary "$UPDATE_BODY" "$url$ALIAS_PATH") || true
  fi
  [[ -f $body ]] || : >"$body"
  "$VENV/bin/python" "$SCRIPT_DIR/check_alias.py" --op "$op" --status "${code:-000}" \
    --accept "$accept" --body "$body" --label "$name" >&2 \
    || die "pre-load check failed for $name $op (see above)"
}

# ---------------------------------------------------------------- measurement
op_name() { [[ $1 == get ]] && echo GetAlias || echo UpdateAlias; }

# run_wrk NAME URL OP SECONDS TAG -> sets R_RPS R_P50_MS R_P99_MS R_REQS; aborts on any bad response
run_wrk() {
  local name=$1 url=$2 op=$3 secs=$4 tag=$5 out
  out="$WORK/wrk-$tag-$name-$op.txt"
  # run in the background and `wait`, so INT/TERM are handled immediately (cleanup kills wrk)
  wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${secs}s" --timeout 5s --latency \
      -s "$SCRIPT_DIR/alias.lua" "$url$ALIAS_PATH" -- "$op" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || { WRK_PID=""; cat "$out" >&2; die "wrk failed ($name $op)"; }
  WRK_PID=""

  local non2xx wrk_status sock first rps p50 p99 reqs
  non2xx=$(awk '$1=="BENCH_NON2XX"{print $2}' "$out")
  first=$(awk '$1=="BENCH_FIRST_BAD_STATUS"{print $2}' "$out")
  wrk_status=$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out")
  sock=$(awk '$1=="BENCH_SOCKET_ERRORS"{print $2+$3+$4+$5}' "$out")
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  reqs=$(awk '$1=="BENCH_REQUESTS"{print $2}' "$out")
  # p50/p99 from wrk's --latency distribution (units us/ms/s) -> ms
  p50=$(awk '$1=="50%"{print $2}' "$out" | head -n1)
  p99=$(awk '$1=="99%"{print $2}' "$out" | head -n1)
  [[ -n $rps && -n $reqs && -n $non2xx && -n $sock && -n $p50 && -n $p99 ]] \
    || { cat "$out" >&2; die "could not parse wrk output ($name $op)"; }
  if [[ ${wrk_status:-0} != 0 || $non2xx != 0 ]]; then
    cat "$out" >&2
    tail -n 20 "$WORK/$name.log" >&2 2>/dev/null || true
    die "$name $(op_name "$op"): ${non2xx} non-2xx responses (lua hook; first status ${first}), ${wrk_status:-0} >=400 per wrk -- comparison aborted"
  fi
  if [[ $sock != 0 ]]; then
    cat "$out" >&2
    die "$name $(op_name "$op"): $sock socket errors (connect/read/write/timeout) -- comparison aborted"
  fi
  (( reqs > 0 )) || die "$name $(op_name "$op"): no requests completed"
  R_RPS=$rps
  R_REQS=$reqs
  R_P50_MS=$(to_ms "$p50") || die "could not parse p50 latency '$p50' ($name $op)"
  R_P99_MS=$(to_ms "$p99") || die "could not parse p99 latency '$p99' ($name $op)"
}

to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") { print "parse-error"; exit 1 }
    printf "%.3f", n }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# ---------------------------------------------------------------- main
ensure_wrk
ensure_venv
[[ -n "$BENCH_AVIARY_URL" ]] || ensure_aviary_bin

log "wrk: $(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}'); moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)'); boto3 $("$VENV/bin/python" -c 'import boto3; print(boto3.__version__)')"
log "config: ${BENCH_SECONDS}s x ${BENCH_ROUNDS} rounds per server/op, warm-up ${BENCH_WARMUP_SECONDS}s, ${BENCH_CONNECTIONS} connections, ${BENCH_THREADS} threads, $(nproc) cores, lua response hook=${BENCH_LUA_RESPONSE}"

start_moto
start_aviary
if [[ -z "$BENCH_AVIARY_URL" ]]; then
  log "aviary binary: $AVIARY_BIN ($(stat -c '%y' "$AVIARY_BIN" | cut -d. -f1))"
fi

seed moto "$MOTO_URL"
if [[ -z "$BENCH_AVIARY_URL" || "$BENCH_AVIARY_SEED" != 0 ]]; then
  seed aviary "$AVIARY_URL"
else
  log "not seeding $AVIARY_URL (BENCH_AVIARY_SEED=0)"
fi

for op in $BENCH_OPS; do
  check aviary "$AVIARY_URL" "$op" "$BENCH_AVIARY_OK_STATUS"
  check moto "$MOTO_URL" "$op" "$BENCH_MOTO_OK_STATUS"
done

declare -A MEDIAN_RPS MEDIAN_P50 MEDIAN_P99
for op in $BENCH_OPS; do
  opn=$(op_name "$op")
  if (( BENCH_WARMUP_SECONDS > 0 )); then
    log "$opn: warm-up ${BENCH_WARMUP_SECONDS}s each"
    run_wrk moto "$MOTO_URL" "$op" "$BENCH_WARMUP_SECONDS" warmup
    run_wrk aviary "$AVIARY_URL" "$op" "$BENCH_WARMUP_SECONDS" warmup
  fi
  declare -a rps_moto=() rps_aviary=() p50_moto=() p50_aviary=() p99_moto=() p99_aviary=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for name in moto aviary; do
      if [[ $name == moto ]]; then url=$MOTO_URL; else url=$AVIARY_URL; fi
      run_wrk "$name" "$url" "$op" "$BENCH_SECONDS" "run$round"
      printf '  %-11s run %d  %-6s %10.1f req/s   p50 %8.3f ms   p99 %8.3f ms   (%d requests, 0 non-2xx)\n' \
        "$opn" "$round" "$name" "$R_RPS" "$R_P50_MS" "$R_P99_MS" "$R_REQS"
      eval "rps_$name+=(\"\$R_RPS\"); p50_$name+=(\"\$R_P50_MS\"); p99_$name+=(\"\$R_P99_MS\")"
    done
  done
  for name in moto aviary; do
    eval "MEDIAN_RPS[$op-$name]=\$(median \"\${rps_$name[@]}\")"
    eval "MEDIAN_P50[$op-$name]=\$(median \"\${p50_$name[@]}\")"
    eval "MEDIAN_P99[$op-$name]=\$(median \"\${p99_$name[@]}\")"
  done
done

echo
echo "Median of $BENCH_ROUNDS x ${BENCH_SECONDS}s runs, $BENCH_CONNECTIONS connections, $BENCH_THREADS wrk threads:"
missed=0
for op in $BENCH_OPS; do
  a=${MEDIAN_RPS[$op-aviary]} m=${MEDIAN_RPS[$op-moto]}
  goal_var="GOAL_$op"; goal=${!goal_var}
  ratio=$(awk -v a="$a" -v m="$m" 'BEGIN { printf "%.1f", (m > 0 ? a / m : 0) }')
  printf '%-11s aviary %-13s moto %-11s ratio %sx (goal >= %sx)\n' \
    "$(op_name "$op")" "$(printf '%.0f req/s' "$a")" "$(printf '%.0f req/s' "$m")" "$ratio" "$goal"
  awk -v r="$ratio" -v g="$goal" 'BEGIN { exit !(r + 0 >= g + 0) }' || missed=1
done
echo
for op in $BENCH_OPS; do
  printf '%-11s latency  aviary p50 %.3f ms  p99 %.3f ms   moto p50 %.3f ms  p99 %.3f ms\n' "$(op_name "$op")" \
    "${MEDIAN_P50[$op-aviary]}" "${MEDIAN_P99[$op-aviary]}" "${MEDIAN_P50[$op-moto]}" "${MEDIAN_P99[$op-moto]}"
done
echo
if (( missed )); then
  echo "RESULT: at least one goal missed"
  if (( BENCH_ENFORCE )); then exit 3; fi
else
  echo "RESULT: all goals met"
fi
exit 0
