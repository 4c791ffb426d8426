"""Rollback reaction and blast radius under load, and the false-rollback rate (see rollback.sh).

Talks to a running Aviary over plain HTTP (standard library only): creates the functions, drives the
load, starts deployments through /v1/deployments and reads their outcome.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import statistics
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
RUNS = int(sys.argv[2])
FALSE_RUNS = int(sys.argv[3])
RATE = float(sys.argv[4])
ROLE = "arn:aws:iam::123456789012:role/bench"

_local = threading.local()


def request(method: str, path: str, body: dict | bytes | None = None, timeout: float = 30):
    """One HTTP call on this thread's keep-alive connection: (status, headers, parsed body)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    try:
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
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
    return resp.status, dict(resp.getheaders()), parsed


def check(status, expected, what, body):
    if status != expected:
        sys.exit(f"[bench] {what}: HTTP {status}, expected {expected}: {body}")


def zipped(source: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    return base64.b64encode(buf.getvalue()).decode()


HANDLERS = {
    "ok": "def handler(e, c):\n    return {'ok': True}\n",
    "fail": "def handler(e, c):\n    raise Exception('broken release')\n",
    "flaky10": "import random\ndef handler(e, c):\n    if random.random() < 0.10:\n        raise Exception('flaky')\n    return {'ok': True}\n",
    "noisy5": "import random\ndef handler(e, c):\n    if random.random() < 0.05:\n        raise Exception('noise')\n    return {'ok': True}\n",
}


def make_function(name: str, first: str, second: str) -> None:
    """`name` with version 1 (`first`), version 2 (`second`) and alias `live` → 1."""
    status, _, body = request("POST", "/2015-03-31/functions", {
        "FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler", "Role": ROLE,
        "Code": {"ZipFile": zipped("# v1\n" + HANDLERS[first])}, "Publish": True})
    check(status, 201, f"create {name}", body)
    status, _, body = request("PUT", f"/2015-03-31/functions/{name}/code", {
        "ZipFile": zipped("# v2\n" + HANDLERS[second]), "Publish": True})
    check(status, 200, f"update {name}", body)
    status, _, body = request("POST", f"/2015-03-31/functions/{name}/aliases", {"Name": "live", "FunctionVersion": "1"})
    check(status, 201, f"alias {name}", body)


def deploy(name: str, strategy: str) -> str:
    status, _, body = request("POST", "/v1/deployments", {
        "function": name, "alias": "live", "targetVersion": "2", "strategy": strategy, "actor": "bench"})
    check(status, 201, f"deploy {name}", body)
    return body["id"]


def deployment(deployment_id: str) -> dict:
    status, _, body = request("GET", f"/v1/deployments/{deployment_id}")
    check(status, 200, "get deployment", body)
    return body


def wait_for(deployment_id: str, statuses: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = deployment(deployment_id)
        if current["status"] in statuses:
            return current
        time.sleep(0.02)
    sys.exit(f"[bench] deployment {deployment_id} did not reach {statuses} in {timeout}s: {current['status']}")


def server_time(stamp: str) -> float:
    """Epoch seconds of an API timestamp `2026-11-22T02:29:11.799+0000`."""
    return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + int(stamp[20:23]) / 1000


class Load:
    """Open-loop load: one invocation of `name:live` every 1/RATE s, whatever the responses do."""

    def __init__(self, name: str):
        self.name = name
        self.results: list[tuple[float, str, bool]] = []  # (received at, executed version, function error)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=32)
        self.thread = threading.Thread(target=self._schedule, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=10)
        self.pool.shutdown(wait=True)

    def _schedule(self):
        start = time.monotonic()
        sent = 0
        while not self.stopping.is_set():
            due = start + sent / RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.pool.submit(self._invoke)
            sent += 1

    def _invoke(self):
        try:
            status, headers, _ = request("POST", f"/2015-03-31/functions/{self.name}/invocations?Qualifier=live", b"{}")
        except Exception as error:  # noqa: BLE001 - a transport failure is a failed request too
            with self.lock:
                self.results.append((time.time(), "?", True))
            print(f"[bench] invoke failed: {error}", file=sys.stderr)
            return
        failed = status != 200 or "X-Amz-Function-Error" in headers
        with self.lock:
            self.results.append((time.time(), headers.get("X-Amz-Executed-Version", "?"), failed))


def rollback_runs(name: str) -> list[dict]:
    runs = []
    for run in range(RUNS):
        with Load(name) as load:
            time.sleep(1.0)  # steady state on version 1 first
            deployment_id = deploy(name, "canary:10%:10m")  # a long step: only health ends it
            final = wait_for(deployment_id, {"RolledBack", "Failed", "Succeeded"}, 60)
            time.sleep(0.5)  # traffic after the change, to see it stick
        if final["status"] != "RolledBack":
            sys.exit(f"[bench] run {run}: expected RolledBack, got {final['status']}")
        changed = server_time(final["outcome"]["at"])
        results = sorted(load.results)
        canary = [r for r in results if r[1] == "2"]
        failures = [r for r in canary if r[2]]
        if not failures:
            sys.exit(f"[bench] run {run}: rolled back without a failing canary response: {final['outcome']}")
        after = [r for r in canary if r[0] > changed + 0.05]
        report = final["outcome"].get("report") or {}
        runs.append({
            "decision_ms": (changed - server_time(report["at"])) * 1000 if report.get("at") else None,
            "reaction_ms": (changed - failures[0][0]) * 1000,
            "failed_responses": sum(1 for r in results if r[2]),
            "canary_requests": sum(1 for r in canary if r[0] <= changed),
            "canary_after_change": len(after),
            "cause": final["outcome"]["cause"],
        })
        print(f"[bench]   run {run + 1}: {json.dumps(runs[-1])}", file=sys.stderr)
    return runs


def false_rollbacks(name: str) -> tuple[int, int]:
    """Deployments of a version identical to the current one (both fail 5% of requests)."""
    rolled_back = 0
    invocations = 0
    path = f"/2015-03-31/functions/{name}/invocations?Qualifier=live"
    with ThreadPoolExecutor(max_workers=8) as pool:
        for run in range(FALSE_RUNS):
            deployment_id = deploy(name, "canary:50%:1h")
            wait_for(deployment_id, {"Shifting"}, 30)
            list(pool.map(lambda _: request("POST", path, b"{}"), range(400)))
            invocations += 400
            final = deployment(deployment_id)
            if final["status"] == "RolledBack":
                rolled_back += 1
                print(f"[bench]   false rollback in run {run + 1}: {final['outcome']['message']}", file=sys.stderr)
            else:
                status, _, body = request("POST", f"/v1/deployments/{deployment_id}/rollback", {"actor": "bench", "reason": "run over"})
                check(status, 200, "reset", body)
    return rolled_back, invocations


def update_alias_baseline(name: str, count: int = 50) -> float:
    """The round trip of one UpdateAlias call: what any rollback, by hand or by a tool, costs at least."""
    times = []
    for index in range(count):
        started = time.perf_counter()
        status, _, body = request("PUT", f"/2015-03-31/functions/{name}/aliases/live", {"FunctionVersion": "1", "Description": f"b{index}"})
        times.append((time.perf_counter() - started) * 1000)
        check(status, 200, "update alias", body)
    return statistics.median(times)


def main() -> None:
    make_function("bench-broken", "ok", "fail")
    make_function("bench-flaky", "ok", "flaky10")
    make_function("bench-identical", "noisy5", "noisy5")
    make_function("bench-baseline", "ok", "ok")
    print(f"[bench] (a) 100%-failing canary, 10% weight, {RATE:.0f} req/s, {RUNS} runs", file=sys.stderr)
    broken = rollback_runs("bench-broken")
    print(f"[bench] (b) 10%-failing canary, 10% weight, {RATE:.0f} req/s, {RUNS} runs", file=sys.stderr)
    flaky = rollback_runs("bench-flaky")
    print(f"[bench] false rollbacks: {FALSE_RUNS} deployments of an identical version (both fail 5%)", file=sys.stderr)
    false_count, false_invocations = false_rollbacks("bench-identical")
    baseline = update_alias_baseline("bench-baseline")
    print(json.dumps({
        "broken": broken, "flaky": flaky, "false_rollbacks": false_count, "false_runs": FALSE_RUNS,
        "false_invocations": false_invocations, "update_alias_p50_ms": baseline,
    }))


if __name__ == "__main__":
    main()
