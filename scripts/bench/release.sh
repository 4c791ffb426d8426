#!/usr/bin/env bash
# Releases benchmark: rolling a 100-function application back in one action, against repointing the same
# 100 aliases one UpdateAlias call at a time through the Lambda API, in the same run.
#
#   scripts/bench/release.sh
#
# Starts one release-build server on 127.0.0.1 with a fresh data dir, generates a SAM application of
# BENCH_FUNCTIONS python3.12 functions (Globals: AutoPublishAlias live, DeploymentPreference AllAtOnce), and
# deploys it with `aviary deploy template.yaml --app relbench` (release 1: every function created, v1, alias
# live → 1), then with new code for every function and --wait (release 2: v2 everywhere, one release).
# Both deploys are timed.
#
# Then BENCH_ROUNDS rounds, the order of the methods alternating, each starting from release 2's state
# (`POST /v1/applications/relbench/rollback {"to": 2}`, untimed, between measurements):
#   (a)  POST /v1/applications/relbench/rollback {"to": 1}: from sending the request to its response (the
#        server answers after the SQLite commit and after the in-memory snapshot Invoke reads has moved);
#   (b)  100 sequential UpdateAlias calls (v2 → v1) over one keep-alive HTTP connection: first request to
#        last response (the cheapest way to do it one call at a time);
#   (b') the same 100 calls through boto3 (what a script would use).
# After each, BENCH_SAMPLE aliases are invoked in parallel (X-Amz-Executed-Version and the function's own
# answer must say v1) and all 100 aliases read with GetAlias in parallel; the times until those confirmed
# v1 (from the method's start) are printed beside it.
# Finally, untimed: while each of (a) and (b) runs once more, a separate process reads the alias table of
# the server's aviary.sqlite (read-only) in a loop; each read sees one committed snapshot, so any state with
# some aliases at v1 and others at v2 means the change was committed in pieces. The audit entries each
# method wrote are counted too (GET /v1/audit).
# Goal (issue 6): (a) <= 50 ms for all 100, in one transaction.
#
# A benchmark, not a test: it exits 0 even when a goal is missed (BENCH_ENFORCE=1: exit 3). Setup errors
# exit non-zero.
#
# Environment (all optional):
#   AVIARY_BIN        aviary binary (default /tmp/aviary-bench-release/release/aviary; if that default is
#                     missing it is built with swift build -c release --product aviary --scratch-path
#                     /tmp/aviary-bench-release)
#   BENCH_ROUNDS      measured rounds (default 10)
#   BENCH_FUNCTIONS   functions in the application (default 100)
#   BENCH_SAMPLE      aliases invoked after each method (default 10)
#   BENCH_ENFORCE     1: exit 3 if a goal is missed
#   BENCH_KEEP        1: keep the scratch folder (server log, data dir, generated app)
#   PYTHON            interpreter used to create the venv (default python3)
#
# Installs boto3 into the venv <repo>/.venv-bench if missing. Only loopback traffic. Everything started
# here is stopped on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
SCRATCH=/tmp/aviary-bench-release
DEFAULT_AVIARY_BIN="$SCRATCH/release/aviary"
AVIARY_BIN="${AVIARY_BIN:-$DEFAULT_AVIARY_BIN}"
BENCH_ROUNDS="${BENCH_ROUNDS:-10}"
BENCH_FUNCTIONS="${BENCH_FUNCTIONS:-100}"
BENCH_SAMPLE="${BENCH_SAMPLE:-10}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
export PYTHONDONTWRITEBYTECODE=1

for v in BENCH_ROUNDS BENCH_FUNCTIONS BENCH_SAMPLE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a positive integer (got '${!v}')"
done
(( BENCH_ROUNDS >= 1 && BENCH_ROUNDS <= 100 )) || die "BENCH_ROUNDS is from 1 to 100"
(( BENCH_FUNCTIONS >= 2 && BENCH_FUNCTIONS <= 500 )) || die "BENCH_FUNCTIONS is from 2 to 500"
(( BENCH_SAMPLE >= 1 && BENCH_SAMPLE <= BENCH_FUNCTIONS )) || die "BENCH_SAMPLE is from 1 to BENCH_FUNCTIONS"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/aviary-release-bench.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_processes "${PIDS[@]:-}"
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -x "$AVIARY_BIN" ]]; then
  [[ "$AVIARY_BIN" == "$DEFAULT_AVIARY_BIN" ]] || die "AVIARY_BIN=$AVIARY_BIN does not exist / is not executable"
  command -v swift >/dev/null 2>&1 || die "$AVIARY_BIN missing and swift is not on PATH"
  log "building aviary (swift build -c release --product aviary --scratch-path $SCRATCH; takes a few minutes)"
  (cd "$REPO" && swift build -c release --product aviary --scratch-path "$SCRATCH") || die "swift build failed"
  [[ -x "$AVIARY_BIN" ]] || die "build finished but $AVIARY_BIN is missing"
fi

if ! { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import boto3' >/dev/null 2>&1; }; then
  log "installing boto3 into $VENV (PyPI)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV" || die "could not create venv $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check boto3 || die "pip install boto3 failed"
fi

PORT="$(free_port)"
DATA="$WORK/data"
mkdir -p "$DATA" "$WORK/app"
log "aviary $AVIARY_BIN ($(stat -c '%y' "$AVIARY_BIN" | cut -d. -f1)) on 127.0.0.1:$PORT, data dir $DATA ($(stat -f -c %T "$DATA")), $(nproc) cores"
"$AVIARY_BIN" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA" --idle-timeout 3600 --log-level warning \
  >"$WORK/aviary.log" 2>&1 &
PIDS+=($!)
wait_http aviary "http://127.0.0.1:$PORT/health" "${PIDS[0]}" 60

status=0
BENCH_URL="http://127.0.0.1:$PORT" AVIARY_BIN="$AVIARY_BIN" BENCH_WORK="$WORK/app" BENCH_DB="$DATA/aviary.sqlite" \
  BENCH_ROUNDS="$BENCH_ROUNDS" BENCH_FUNCTIONS="$BENCH_FUNCTIONS" BENCH_SAMPLE="$BENCH_SAMPLE" \
  "$VENV/bin/python" "$SCRIPT_DIR/release_bench.py" || status=$?
if (( status == 10 )); then exit 3; fi
if (( status != 0 )); then
  tail -n 20 "$WORK/aviary.log" >&2 || true
  die "release_bench.py failed (exit $status)"
fi
exit 0
