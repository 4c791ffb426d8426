"""Releases of a 100-function application: whole-release rollback against 100 UpdateAlias calls (see release.sh).

Usage: release_bench.py   (everything comes from the environment release.sh sets)
  BENCH_URL        the server, http://127.0.0.1:PORT
  AVIARY_BIN       the aviary binary (for `aviary deploy`)
  BENCH_WORK       a scratch folder for the generated application
  BENCH_DB         the server's aviary.sqlite (opened read-only by the atomicity check's poller)
  BENCH_ROUNDS     measured rounds
  BENCH_FUNCTIONS  functions in the application (default 100)
  BENCH_SAMPLE     aliases invoked after each rollback to check what Invoke runs (default 10)

Setup errors exit 1; a missed goal exits 0 (10 when BENCH_ENFORCE=1, turned into 3 by release.sh).
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

URL = os.environ["BENCH_URL"]
HOST, PORT = urlsplit(URL).hostname, urlsplit(URL).port
AVIARY_BIN = os.environ["AVIARY_BIN"]
WORK = Path(os.environ["BENCH_WORK"])
DB = os.environ["BENCH_DB"]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
FUNCTIONS = int(os.environ.get("BENCH_FUNCTIONS", "100"))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "10"))
GOAL_MS = 50.0
APP = "relbench"
ALIAS = "live"
NAMES = [f"{APP}-fn{i:03d}" for i in range(FUNCTIONS)]
SAMPLED = NAMES[:: max(1, FUNCTIONS // SAMPLE)][:SAMPLE]


def fail(message: str) -> None:
    print(f"[bench] ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- HTTP (keep-alive, one connection per thread)
_local = threading.local()


def request(method: str, path: str, body: dict | None = None, headers: dict | None = None, timeout: float = 60):
    """(status, headers, parsed body) on this thread's keep-alive connection."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})}
    try:
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        raw = resp.read()
    except (http.client.HTTPException, OSError):
        _local.conn = None
        conn.close()
        raise
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed


def expect(status: int, wanted: int, what: str, body) -> None:
    if status != wanted:
        fail(f"{what}: HTTP {status}, expected {wanted}: {str(body)[:500]}")


# ---------------------------------------------------------------- the application
TEMPLATE_HEAD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: synthetic {n}-function application for scripts/bench/release.sh
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    MemorySize: 128
    Timeout: 10
    AutoPublishAlias: live
    DeploymentPreference:
      Type: AllAtOnce
Resources:
"""

FUNCTION = """\
  Fn{i:03d}:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: {name}
      CodeUri: fn{i:03d}/
"""

HANDLER = """\
import os

CODE = {code!r}


def handler(event, context):
    return {{"code": CODE, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "function": {name!r}}}
"""


def write_app(root: Path, code: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = TEMPLATE_HEAD.format(n=FUNCTIONS) + "".join(FUNCTION.format(i=i, name=n) for i, n in enumerate(NAMES))
    (root / "template.yaml").write_text(text)
    for i, name in enumerate(NAMES):
        folder = root / f"fn{i:03d}"
        folder.mkdir(exist_ok=True)
        (folder / "app.py").write_text(HANDLER.format(code=code, name=name))
    return root / "template.yaml"


def deploy(template: Path, *args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(
        [AVIARY_BIN, "deploy", str(template), "--app", APP, "--endpoint", URL, *args],
        capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        fail(f"aviary deploy {' '.join(args)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


# ---------------------------------------------------------------- state checks
POOL = ThreadPoolExecutor(max_workers=SAMPLE)


def alias_version(name: str) -> str:
    status, _, body = request("GET", f"/2015-03-31/functions/{name}/aliases/{ALIAS}")
    expect(status, 200, f"GetAlias {name}", body)
    return body["FunctionVersion"] + ("+split" if body.get("RoutingConfig", {}).get("AdditionalVersionWeights") else "")


def invoke_alias(name: str) -> tuple[str, str]:
    """(X-Amz-Executed-Version, the code the function reports)."""
    status, headers, body = request("POST", f"/2015-03-31/functions/{name}/invocations?Qualifier={ALIAS}", {})
    expect(status, 200, f"Invoke {name}:{ALIAS}", body)
    if "x-amz-function-error" in headers:
        fail(f"Invoke {name}:{ALIAS} failed in the function: {body}")
    return headers.get("x-amz-executed-version", "?"), body.get("code", "?")


def all_aliases() -> list[str]:
    return list(POOL.map(alias_version, NAMES))


def confirm(version: str, t0: float) -> dict:
    """Right after a method's last response: invoke the sample (in parallel) until every one runs `version`,
    then read all aliases (in parallel) until every one points to it. Times are from t0, in ms."""
    first_pass_ok = True
    deadline = time.monotonic() + 5
    while True:
        seen = list(POOL.map(invoke_alias, SAMPLED))
        if all(v == version and code == f"v{version}" for v, code in seen):
            break
        first_pass_ok = False
        if time.monotonic() > deadline:
            fail(f"sampled invokes still run {sorted(set(seen))}, expected version {version}")
    invoked = (time.monotonic() - t0) * 1000
    deadline = time.monotonic() + 5
    while True:
        versions = all_aliases()
        if all(v == version for v in versions):
            break
        first_pass_ok = False
        if time.monotonic() > deadline:
            fail(f"aliases still at {sorted(set(versions))}, expected {version}")
    return {"invoke_ms": invoked, "all_ms": (time.monotonic() - t0) * 1000, "first_pass": first_pass_ok}


def restore(to: int, reason: str) -> dict:
    status, _, body = request("POST", f"/v1/applications/{APP}/rollback", {"to": to, "actor": "bench", "reason": reason})
    expect(status, 200, f"rollback --to {to}", body)
    return body


def back_to_release_2() -> None:
    body = restore(2, "bench: back to release 2")
    if not body["restored"]:
        fail(f"rollback --to 2 moved nothing: {body['message']}")
    if set(all_aliases()) != {"2"}:
        fail("after rollback --to 2 not every alias points to version 2")


# ---------------------------------------------------------------- the two methods (and boto3's take on the baseline)
def release_rollback() -> dict:
    t0 = time.monotonic()
    body = restore(1, "bench: rollback to release 1")
    response_ms = (time.monotonic() - t0) * 1000
    release = body.get("release") or {}
    moved = len(((release.get("release") or {}).get("functions")) or [])
    if not body["restored"] or moved != FUNCTIONS:
        fail(f"rollback --to 1 moved {moved} aliases, expected {FUNCTIONS}: {body['message'][:300]}")
    return {"ms": response_ms, "t0": t0, "deployment": release["id"], "release": release["release"]["number"]}


def update_alias_http() -> dict:
    t0 = time.monotonic()
    for name in NAMES:
        status, _, body = request("PUT", f"/2015-03-31/functions/{name}/aliases/{ALIAS}", {"FunctionVersion": "1"})
        if status != 200 or body.get("FunctionVersion") != "1":
            fail(f"UpdateAlias {name}: HTTP {status}: {body}")
    return {"ms": (time.monotonic() - t0) * 1000, "t0": t0}


LAMBDA = boto3.client(
    "lambda", endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
    config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30))


def update_alias_boto3() -> dict:
    t0 = time.monotonic()
    for name in NAMES:
        out = LAMBDA.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion="1")
        if out.get("FunctionVersion") != "1":
            fail(f"boto3 update_alias {name}: {out}")
    return {"ms": (time.monotonic() - t0) * 1000, "t0": t0}


METHODS = {"release": release_rollback, "http": update_alias_http, "boto3": update_alias_boto3}


# ---------------------------------------------------------------- atomicity: a reader of the server's database
POLLER = r"""
import json, sqlite3, sys, time
db, app, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
q = "SELECT functionVersion, COUNT(*) FROM alias WHERE name = 'live' AND function LIKE ? GROUP BY functionVersion"
states, polls = {}, 0
print("ready", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    rows = dict(conn.execute(q, (app + "-%",)).fetchall())
    key = f"{rows.get('1', 0)}@v1/{rows.get('2', 0)}@v2"
    states[key] = states.get(key, 0) + 1
    polls += 1
print(json.dumps([polls, states]), flush=True)
"""


def watched(method: str, seconds: float = 3.0) -> tuple[dict, int, dict]:
    """Runs `method` while another process reads the alias table in a loop (read-only; each read is a
    snapshot of committed state): (the method's result, reads, {state: reads})."""
    poller = subprocess.Popen([sys.executable, "-c", POLLER, DB, APP, str(seconds)], stdout=subprocess.PIPE, text=True)
    if poller.stdout.readline().strip() != "ready":
        fail("the database poller did not start")
    time.sleep(0.3)
    result = METHODS[method]()
    out, _ = poller.communicate(timeout=seconds + 30)
    if poller.returncode != 0:
        fail(f"the database poller failed: {out[-500:]}")
    polls, states = json.loads(out.strip().splitlines()[-1])
    return result, polls, states


def audit_after(marker: int | None) -> tuple[list[dict], int | None]:
    """Audit entries after sequence `marker` (all of them), and the last sequence."""
    entries: list[dict] = []
    while True:
        path = "/v1/audit?limit=1000" + (f"&marker={marker}" if marker is not None else "")
        status, _, body = request("GET", path)
        expect(status, 200, "GET /v1/audit", body)
        entries += body["entries"]
        if body["entries"]:
            marker = body["entries"][-1]["sequence"]
        if not body.get("nextMarker"):
            return entries, marker


# ---------------------------------------------------------------- main
def main() -> None:
    root = WORK / APP
    template = write_app(root, "v1")
    log(f"deploying {FUNCTIONS} functions (release 1: create, publish v1, create aliases)")
    first_s, out = deploy(template)
    if f"recorded release 1 of {APP}" not in out:
        fail(f"the first deploy did not record release 1:\n{out[-2000:]}")
    write_app(root, "v2")
    log(f"deploying new code for all {FUNCTIONS} (release 2 by AllAtOnce, --wait)")
    second_s, out = deploy(template, "--wait")
    if f"release 2 of {APP}" not in out:
        fail(f"the second deploy did not start release 2:\n{out[-2000:]}")
    status, _, listed = request("GET", f"/v1/applications/{APP}/releases?limit=5")
    expect(status, 200, "list releases", listed)
    states = {r["release"]["number"]: r["status"] for r in listed["releases"]}
    if states.get(1) != "Succeeded" or states.get(2) != "Succeeded":
        fail(f"releases 1 and 2 should both have succeeded: {states}")
    if set(all_aliases()) != {"2"}:
        fail("after release 2 not every alias points to version 2")
    print(f"deploy, release 1 ({FUNCTIONS} functions created, v1 published, aliases created): {first_s:.2f} s")
    print(f"deploy, release 2 (new code for all {FUNCTIONS}, published v2, one AllAtOnce release, --wait): {second_s:.2f} s")

    # Warm the sampled functions' environments of both versions, so the post-rollback invokes measure
    # routing, not cold starts; and one untimed pass of every method (first-use costs, boto3's client).
    for name in SAMPLED:
        for qualifier in ("1", "2"):
            status, _, body = request("POST", f"/2015-03-31/functions/{name}/invocations?Qualifier={qualifier}", {})
            expect(status, 200, f"warm-up invoke {name}:{qualifier}", body)
    for method in METHODS:
        METHODS[method]()
        confirm("1", time.monotonic())
        back_to_release_2()

    print(f"\n{ROUNDS} rounds; each: the release rollback (a), {FUNCTIONS} sequential UpdateAlias calls over one keep-alive "
          f"connection (b), and the same through boto3 (b'), order alternating; back to release 2 before each")
    print("  (a) = POST /v1/applications/APP/rollback {\"to\": 1} until its response; (b), (b') = first request to last response")
    print(f"  then: {SAMPLE} sampled aliases invoked in parallel (X-Amz-Executed-Version and the code's own answer checked), "
          f"then GetAlias of all {FUNCTIONS} in parallel; 'invoke'/'all' = from the method's start until those confirmed v1\n")
    header = ("round", "(a) ms", "invoke", "all", "(b) ms", "invoke", "all", "(b') ms", "b/a", "b'/a")
    print("{:>5}  {:>8} {:>7} {:>7}   {:>8} {:>7} {:>7}   {:>8}   {:>6} {:>6}".format(*header))
    rows: list[dict[str, dict]] = []
    for r in range(ROUNDS):
        order = list(METHODS) if r % 2 == 0 else list(reversed(METHODS))
        row: dict[str, dict] = {}
        for method in order:
            result = METHODS[method]()
            result.update(confirm("1", result["t0"]))
            row[method] = result
            back_to_release_2()
        rows.append(row)
        a, b, c = row["release"], row["http"], row["boto3"]
        flag = "" if all(x["first_pass"] for x in row.values()) else "   (a check needed a second pass)"
        print(f"{r + 1:>5}  {a['ms']:8.2f} {a['invoke_ms']:7.1f} {a['all_ms']:7.1f}   {b['ms']:8.2f} {b['invoke_ms']:7.1f} "
              f"{b['all_ms']:7.1f}   {c['ms']:8.2f}   {b['ms'] / a['ms']:6.1f} {c['ms'] / a['ms']:6.1f}{flag}", flush=True)

    def med(method: str, key: str) -> float:
        return statistics.median(row[method][key] for row in rows)

    a_ms, b_ms, c_ms = med("release", "ms"), med("http", "ms"), med("boto3", "ms")
    ratios = [row["http"]["ms"] / row["release"]["ms"] for row in rows]
    print(f"\nmedians of {ROUNDS} rounds:")
    print(f"  (a) release rollback, {FUNCTIONS} aliases: {a_ms:.2f} ms to the response (min {min(r['release']['ms'] for r in rows):.2f}, "
          f"max {max(r['release']['ms'] for r in rows):.2f}); sampled invokes ran v1 by {med('release', 'invoke_ms'):.1f} ms, "
          f"all {FUNCTIONS} GetAlias confirmed by {med('release', 'all_ms'):.1f} ms")
    print(f"  (b) {FUNCTIONS} x UpdateAlias, raw HTTP keep-alive: {b_ms:.2f} ms (min {min(r['http']['ms'] for r in rows):.2f}, "
          f"max {max(r['http']['ms'] for r in rows):.2f}); {b_ms / FUNCTIONS:.2f} ms per call")
    print(f"  (b') {FUNCTIONS} x update_alias, boto3: {c_ms:.2f} ms; {c_ms / FUNCTIONS:.2f} ms per call")
    print(f"  ratio (b)/(a): {b_ms / a_ms:.1f}x (median of per-round ratios {statistics.median(ratios):.1f}x); (b')/(a): {c_ms / a_ms:.1f}x")

    # One transaction: a separate process reads the alias table in a loop while each method runs; every read
    # sees one committed snapshot, so a mixed state (some aliases at v1, some at v2) means the change was
    # committed in pieces. And the audit entries each method leaves.
    log("atomicity check (untimed): a reader of aviary.sqlite during each method, and the audit entries")
    _, head = audit_after(None)
    (a_result, a_polls, a_states) = watched("release")
    a_audit, head = audit_after(head)
    back_to_release_2()
    _, head = audit_after(head)
    (_, b_polls, b_states) = watched("http")
    b_audit, head = audit_after(head)
    back_to_release_2()

    def mixed(states: dict) -> int:
        return sum(1 for s in states if s not in (f"0@v1/{FUNCTIONS}@v2", f"{FUNCTIONS}@v1/0@v2"))

    def actions(entries: list[dict]) -> str:
        counts: dict[str, int] = {}
        for e in entries:
            counts[e["action"]] = counts.get(e["action"], 0) + 1
        return ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))

    mine = [e for e in a_audit if e.get("deployment") == a_result["deployment"]]
    restored = [e for e in mine if e["action"] == "deployment.restored"]
    print(f"\none transaction? (separate run, not timed)")
    print(f"  (a) reader: {a_polls} reads of the alias table over 3 s; states seen: {a_states}; mixed states: {mixed(a_states)}")
    print(f"  (b) reader: {b_polls} reads; {len(b_states)} distinct states, mixed: {mixed(b_states)} "
          f"(e.g. {', '.join(sorted(s for s in b_states if mixed({s: 1}))[:3])})")
    listed = len((restored[0]["details"].get("functions") or "").split(", ")) if restored else 0
    print(f"  (a) audit entries written: {len(a_audit)} ({actions(a_audit)}), all of deployment {a_result['deployment']}: "
          f"{len(mine) == len(a_audit)}; the deployment.restored entry lists {listed} alias moves")
    print(f"  (b) audit entries written: {len(b_audit)} ({actions(b_audit)})")

    one_transaction = mixed(a_states) == 0 and len(restored) == 1 and listed == FUNCTIONS and a_polls > 0
    goal = a_ms <= GOAL_MS
    print(f"\ngoal (a) <= {GOAL_MS:.0f} ms for all {FUNCTIONS}: {'met' if goal else 'MISSED'} ({a_ms:.2f} ms median)")
    print(f"goal one transaction: {'met' if one_transaction else 'MISSED'} "
          f"(the reader saw {mixed(a_states)} mixed states; {len(restored)} deployment.restored entry, listing {listed} moves)")
    if os.environ.get("BENCH_ENFORCE") == "1" and not (goal and one_transaction):
        sys.exit(10)


if __name__ == "__main__":
    main()
