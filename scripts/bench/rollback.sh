#!/usr/bin/env bash
# Rollback benchmark: how fast a failing canary is rolled back under load, how many clients see it fail,
# and how often two identical versions are rolled back by mistake.
#
#   scripts/bench/rollback.sh
#
# (a) A 100%-failing new version and (b) a 10%-failing one, each deployed as a 10% canary while a load
#     generator invokes the alias at a steady BENCH_RATE requests/s (open loop); BENCH_RUNS runs each.
#     Reported: time from the first failing canary response (client clock) to the rollback decision
#     (server clock, same machine; the alias change commits within the same transition), p50 and max;
#     failed responses clients saw; canary requests served before the rollback.
#     Also: Aviary's own share — from the decisive invocation (the health report's time) to the
#     rollback decision, both on the server's clock — followed by the alias commit, whose cost the
#     baseline measured in the same run shows: the round trip of one UpdateAlias call (what any
#     rollback, by hand or by a tool, costs at least).
# (c) BENCH_FALSE_RUNS deployments of a version identical to the current one (both fail 5% of
#     requests), 400 invocations each at a 50% weight: how many were rolled back.
# Goals: (a) p50 <= 100 ms and <= 5 failed requests; (b) detected within <= 500 canary requests;
# (c) false rollbacks <= 1%.
#
# A benchmark, not a test: it exits 0 even when a goal is missed (BENCH_ENFORCE=1: exit 3).
#
# Environment (all optional):
#   AVIARY_BIN        aviary binary (default <repo>/.build/release/aviary, built if missing)
#   BENCH_RUNS        runs of (a) and (b) (default 30: the reaction is mostly the wait for evidence,
#                     a random few canary requests, so its median needs many runs to settle)
#   BENCH_FALSE_RUNS  deployments of identical versions (default 100)
#   BENCH_RATE        requests/s of the load (default 200)
#   BENCH_ENFORCE     1: exit 3 if a goal is missed
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"
DEFAULT_AVIARY_BIN="$REPO/.build/release/aviary"
AVIARY_BIN="${AVIARY_BIN:-$DEFAULT_AVIARY_BIN}"
BENCH_RUNS="${BENCH_RUNS:-30}"
BENCH_FALSE_RUNS="${BENCH_FALSE_RUNS:-100}"
BENCH_RATE="${BENCH_RATE:-200}"
PYTHON_BIN="$(command -v python3)"

WORK="$(mktemp -d /tmp/aviary-rollback-bench.XXXXXX)"
PIDS=()
cleanup() {
  stop_processes "${PIDS[@]:-}"
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

ensure_aviary_bin
PORT="$("$PYTHON_BIN" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
"$AVIARY_BIN" serve --port "$PORT" --data-dir "$WORK/data" --log-level warning > "$WORK/aviary.log" 2>&1 &
PIDS+=($!)
wait_http aviary "http://127.0.0.1:$PORT/health" "${PIDS[0]}" 30
log "aviary $(basename "$AVIARY_BIN") on port $PORT"

"$PYTHON_BIN" "$SCRIPT_DIR/rollback_bench.py" "$PORT" "$BENCH_RUNS" "$BENCH_FALSE_RUNS" "$BENCH_RATE" > "$WORK/result.json"

status=0
"$PYTHON_BIN" - "$WORK/result.json" <<'PY' || status=$?
import json, statistics, sys
r = json.load(open(sys.argv[1]))
def summary(runs):
    reactions = sorted(x["reaction_ms"] for x in runs)
    return (statistics.median(reactions), max(reactions), max(x["failed_responses"] for x in runs),
            statistics.median(x["failed_responses"] for x in runs), max(x["canary_requests"] for x in runs),
            sum(x["canary_after_change"] for x in runs), statistics.median(x["decision_ms"] for x in runs))
base = r["update_alias_p50_ms"]
a = summary(r["broken"]); b = summary(r["flaky"])
false_rate = r["false_rollbacks"] / r["false_runs"]
print(f"baseline: one UpdateAlias round trip p50 {base:.2f} ms")
print(f"(a) 100%-failing canary: reaction p50 {a[0]:.1f} ms (max {a[1]:.1f}); from the decisive invocation to the rollback "
      f"decision (server clock, ms resolution): p50 {a[6]:.1f} ms, then the alias commit (~ one UpdateAlias); "
      f"failed responses per run: median {a[3]:.0f}, max {a[2]}; canary responses after the change: {a[5]}")
print(f"(b) 10%-failing canary: reaction p50 {b[0]:.1f} ms (max {b[1]:.1f}); canary requests before rollback: max {b[4]}; "
      f"failed responses per run: median {b[3]:.0f}, max {b[2]}")
print(f"(c) false rollbacks: {r['false_rollbacks']} of {r['false_runs']} deployments ({false_rate:.1%}) over {r['false_invocations']} invocations")
goals = {"(a) p50 <= 100 ms": a[0] <= 100, "(a) <= 5 failed requests": a[2] <= 5,
         "(b) <= 500 canary requests": b[4] <= 500, "(c) <= 1% false rollbacks": false_rate <= 0.01}
for name, met in goals.items():
    print(f"goal {name}: {'met' if met else 'MISSED'}")
sys.exit(0 if all(goals.values()) else 10)
PY
if [[ $status -eq 10 && "${BENCH_ENFORCE:-0}" == 1 ]]; then exit 3; fi
exit 0
