#!/usr/bin/env python3
"""Helpers of the invoke benchmark (scripts/bench/invoke.sh); each subcommand prints one JSON object.

  setup   build the three function zips, create bench-c / bench-py / bench-ric on Aviary, check one
          invoke of each and write the exact expected response bodies for wrk
  warm    hold N invocations of a function in flight at once (sleep_ms events), so N environments
          are warm, and check that the function has at least N log streams
  streams count a function's log streams and cold-start REPORT lines (Init Duration)
  reports p50 of the REPORT Duration of the function's warm invocations so far
  stub    run one runtime process against the benchmark's own Runtime API stub (no Aviary):
          events/s and the per-event round trip inside the runtime
  cold    cold starts, interleaved: through Aviary (a changed $LATEST gets a fresh environment; the
          REPORT line's Init Duration) and bare (spawn the same runtime against a socket of our own;
          spawn to the first GET /next)
  summary read the JSON lines the others appended to --results; print the tables and one line per
          goal; exit 3 if a goal is missed

Runtimes: c (native provided bootstrap), py (Aviary's bundled Python bootstrap, python3.12),
ric (awslambdaric, the official Python runtime interface client, as a provided.al2023 bootstrap).
"""
import argparse
import concurrent.futures
import glob
import http.client
import io
import functools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile

import runtime_api_stub

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
RUNTIMES = ("c", "py", "ric")
FUNCTION = {"c": "bench-c", "py": "bench-py", "ric": "bench-ric"}
LAMBDA_RUNTIME = {"c": "provided.al2023", "py": "python3.12", "ric": "provided.al2023"}
EVENT = b"{}"
EXPECTED = {"c": {"runtime": "c", "event": {}}, "py": {"runtime": "py", "event": {}},
            "ric": {"runtime": "ric", "event": {}}}

APP_PY = '''import time

RUNTIME = {runtime!r}


def handler(event, context):
    ms = event.get("sleep_ms") if isinstance(event, dict) else None
    if ms:
        time.sleep(ms / 1000)
    return {{"runtime": RUNTIME, "event": event}}
'''


class BenchError(Exception):
    pass


def emit(obj, results=None):
    """Prints obj as one JSON line, and appends it to the results file if one is given."""
    line = json.dumps(obj)
    print(line, flush=True)
    if results:
        with open(results, "a") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------- code

def zip_bytes(files):
    """files: name -> (bytes, executable)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (data, executable) in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def code_files(runtime, c_bootstrap, ric_python):
    if runtime == "c":
        with open(c_bootstrap, "rb") as f:
            return {"bootstrap": (f.read(), True)}
    app = APP_PY.format(runtime=runtime).encode()
    if runtime == "py":
        return {"app.py": (app, False)}
    bootstrap = f'#!/bin/sh\ncd "$LAMBDA_TASK_ROOT"\nexec {ric_python} -m awslambdaric app.handler\n'
    return {"bootstrap": (bootstrap.encode(), True), "app.py": (app, False)}


def code_dir(work, runtime):
    return os.path.join(work, "code", runtime)


# ---------------------------------------------------------------- Aviary

def lambda_client(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client("lambda", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60))


def port_of(endpoint):
    return int(endpoint.rsplit(":", 1)[1].rstrip("/"))


def invoke(endpoint, function, body=EVENT, timeout=60):
    """One unsigned Invoke over its own connection; returns (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port_of(endpoint), timeout=timeout)
    try:
        conn.request("POST", f"/2015-03-31/functions/{function}/invocations", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def check_invoke(runtime, status, headers, body, expected=None):
    label = FUNCTION[runtime]
    if status != 200:
        raise BenchError(f"{label}: Invoke answered {status}: {body[:300]!r}")
    if headers.get("X-Amz-Function-Error"):
        raise BenchError(f"{label}: function error {headers.get('X-Amz-Function-Error')}: {body[:500]!r}")
    if headers.get("X-Amz-Executed-Version") != "$LATEST":
        raise BenchError(f"{label}: X-Amz-Executed-Version {headers.get('X-Amz-Executed-Version')!r}, want $LATEST")
    try:
        decoded = json.loads(body)
    except ValueError:
        raise BenchError(f"{label}: response is not JSON: {body[:300]!r}")
    want = EXPECTED[runtime] if expected is None else expected
    if decoded != want:
        raise BenchError(f"{label}: response {decoded!r}, want {want!r}")


def log_files(data_dir, function):
    return sorted(glob.glob(os.path.join(data_dir, "logs", function, "*.log")))


INIT_RE = re.compile(r"^REPORT RequestId: (\S+)\t.*Init Duration: ([0-9.]+) ms", re.M)


def init_durations(data_dir, function):
    """request id -> Init Duration (ms) of every cold-start REPORT line of the function."""
    found = {}
    for path in log_files(data_dir, function):
        with open(path, encoding="utf-8", errors="replace") as f:
            for request_id, ms in INIT_RE.findall(f.read()):
                found[request_id] = float(ms)
    return found


def cmd_setup(args):
    client = lambda_client(args.endpoint)
    os.makedirs(args.work, exist_ok=True)
    result = {}
    for runtime in RUNTIMES:
        files = code_files(runtime, args.c_bootstrap, args.ric_python)
        # the same code, unpacked for the runs without Aviary (stub, bare cold starts)
        target = code_dir(args.work, runtime)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        for name, (data, executable) in files.items():
            path = os.path.join(target, name)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o755 if executable else 0o644)
        function = FUNCTION[runtime]
        try:
            client.delete_function(FunctionName=function)
        except client.exceptions.ResourceNotFoundException:
            pass
        client.create_function(FunctionName=function, Runtime=LAMBDA_RUNTIME[runtime], Role=ROLE,
                               Handler="app.handler", Code={"ZipFile": zip_bytes(files)}, Timeout=30,
                               MemorySize=256, Description="invoke benchmark")
        status, headers, body = invoke(args.endpoint, function)
        check_invoke(runtime, status, headers, body)
        with open(os.path.join(args.work, f"expected-{runtime}.body"), "wb") as f:
            f.write(body)
        result[runtime] = body.decode()
    with open(os.path.join(args.work, "request.json"), "wb") as f:
        f.write(EVENT)
    conn = http.client.HTTPConnection("127.0.0.1", port_of(args.endpoint), timeout=10)
    conn.request("GET", "/health")
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200 or not body:
        raise BenchError(f"GET /health answered {resp.status} {body!r}")
    with open(os.path.join(args.work, "expected-health.body"), "wb") as f:
        f.write(body)
    result["health"] = body.decode()
    emit(result)


def cmd_warm(args):
    """N invocations in flight at once (each sleeps) -> at least N warm environments."""
    function = FUNCTION[args.runtime]
    event = json.dumps({"sleep_ms": args.sleep_ms}).encode()
    expected = dict(EXPECTED[args.runtime], event={"sleep_ms": args.sleep_ms})
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(lambda _: invoke(args.endpoint, function, event), range(args.concurrency)))
    for status, headers, body in results:
        check_invoke(args.runtime, status, headers, body, expected)
    streams = len(log_files(args.data_dir, function))
    if streams < args.concurrency:
        raise BenchError(f"{function}: {streams} log streams after {args.concurrency} concurrent invocations")
    emit({"function": function, "streams": streams})


DURATION_RE = re.compile(r"^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms(.*)$", re.M)


def cmd_reports(args):
    """p50 of the REPORT Duration of every warm invocation of the function so far (Aviary's clock:
    event handed to the runtime's /next -> its response received)."""
    durations = []
    for path in log_files(args.data_dir, FUNCTION[args.runtime]):
        with open(path, encoding="utf-8", errors="replace") as f:
            durations += [float(ms) for ms, rest in DURATION_RE.findall(f.read()) if "Init Duration" not in rest]
    if not durations:
        raise BenchError(f"no warm REPORT lines for {FUNCTION[args.runtime]}")
    emit({"kind": "reports", "conc": args.conc, "runtime": args.runtime, "n": len(durations),
          "duration_p50_ms": statistics.median(durations)}, args.results)


def cmd_streams(args):
    function = FUNCTION[args.runtime]
    emit({"streams": len(log_files(args.data_dir, function)),
          "cold_reports": len(init_durations(args.data_dir, function))})


# ---------------------------------------------------------------- runtimes without Aviary

def runtime_command(args, runtime):
    if runtime == "py":
        return [args.python, "-u", os.path.join(args.data_dir, "runtime", "bootstrap", "bootstrap.py")]
    return [os.path.join(code_dir(args.work, runtime), "bootstrap")]


@functools.lru_cache(maxsize=None)
def real_interpreter(python):
    """What Aviary runs python3.* with: the interpreter behind `python3` on PATH (not a wrapper)."""
    if not python:
        return python
    resolved = subprocess.run([python, "-c", "import sys; print(sys.executable)"], capture_output=True,
                              text=True, check=True).stdout.strip()
    return resolved or python


def runtime_env(args, runtime, api, scratch):
    """The variables Aviary gives an environment (FunctionRuntime.environmentVariables)."""
    folder = code_dir(args.work, runtime)
    path = ["/usr/local/bin", "/usr/bin", "/bin"]
    for interpreter in (real_interpreter(shutil.which("python3")), shutil.which("node")):
        if interpreter and os.path.dirname(interpreter) not in path:
            path.append(os.path.dirname(interpreter))
    function = FUNCTION[runtime]
    env = {
        "LANG": "en_US.UTF-8", "TZ": ":UTC", "PATH": ":".join(path),
        "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{folder}:{folder}/lib", "TMPDIR": scratch, "HOME": scratch,
        "AWS_LAMBDA_RUNTIME_API": api, "_HANDLER": "app.handler", "LAMBDA_TASK_ROOT": folder,
        "LAMBDA_RUNTIME_DIR": os.path.join(args.data_dir, "runtime", "bootstrap"),
        "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
    }
    if runtime == "py":
        env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
    return env


def spawn(args, runtime, api, log):
    scratch = os.path.join(args.work, "scratch", runtime)
    os.makedirs(scratch, exist_ok=True)
    return subprocess.Popen(runtime_command(args, runtime), env=runtime_env(args, runtime, api, scratch),
                            cwd=code_dir(args.work, runtime), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def cmd_stub(args):
    """One runtime process against the stub: warm-up, then events/s and per-event round trips."""
    with open(os.path.join(args.work, f"expected-{args.runtime}.body"), "rb") as f:
        expected = f.read()
    server = runtime_api_stub.start(EVENT)
    stats = server.stats
    log = open(os.path.join(args.work, f"stub-{args.runtime}.log"), "ab")
    process = spawn(args, args.runtime, "127.0.0.1:%d" % server.server_address[1], log)
    try:
        deadline = time.monotonic() + 15
        while stats.first_next_at is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"{args.runtime} runtime did not call /next on the stub (see {log.name})")
            time.sleep(0.01)
        time.sleep(args.warmup)
        with stats.lock:
            n0, r0, k0, t0 = stats.responses, len(stats.rtt_ns), len(stats.turn_ns), time.perf_counter_ns()
        time.sleep(args.seconds)
        with stats.lock:
            n1, t1 = stats.responses, time.perf_counter_ns()
            rtts, turns = stats.rtt_ns[r0:], stats.turn_ns[k0:]
            errors, bodies = list(stats.errors), set(stats.bodies)
        if process.poll() is not None:
            raise BenchError(f"{args.runtime} runtime exited during the stub run (see {log.name})")
    finally:
        stop(process)
        server.shutdown()
        server.server_close()
        log.close()
    if errors:
        raise BenchError(f"{args.runtime} runtime posted errors to the stub: {errors[:3]!r}")
    if bodies != {expected}:
        raise BenchError(f"{args.runtime} runtime answered {sorted(bodies)[:3]!r} on the stub, want {expected!r}")
    if n1 - n0 < 10 or not rtts or not turns:
        raise BenchError(f"{args.runtime} runtime handled only {n1 - n0} events on the stub")
    rtts.sort()
    emit({"kind": "stub", "runtime": args.runtime, "round": args.round, "events": n1 - n0,
          "events_per_s": (n1 - n0) * 1e9 / (t1 - t0), "rtt_p50_ms": rtts[len(rtts) // 2] / 1e6,
          "rtt_p99_ms": rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))] / 1e6,
          "turn_p50_ms": statistics.median(turns) / 1e6}, args.results)


def bare_cold_start(args, runtime, listener, log):
    """Spawn the runtime against our own listening socket; ms from spawn to a complete GET /next."""
    api = "127.0.0.1:%d" % listener.getsockname()[1]
    started = time.perf_counter_ns()
    process = spawn(args, runtime, api, log)
    conn = None
    try:
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise BenchError(f"{runtime} runtime closed the connection before GET /next (see {log.name})")
            data += chunk
        ready = time.perf_counter_ns()
        if not data.startswith(b"GET /2018-06-01/runtime/invocation/next "):
            raise BenchError(f"{runtime} runtime's first request was {data[:80]!r}, not GET /next")
        return (ready - started) / 1e6
    except socket.timeout:
        raise BenchError(f"{runtime} runtime did not connect within 15 s (see {log.name})")
    finally:
        stop(process)
        if conn:
            conn.close()


def cmd_cold(args):
    """Interleaves Aviary cold starts and bare spawns of the same runtime; the first pair is discarded.

    The bare spawn uses the interpreter Aviary uses: python3 from PATH resolved to `sys.executable`
    (RuntimeSettings.realPython), so a wrapper such as a pyenv shim is not timed on one side only.
    """
    client = lambda_client(args.endpoint)
    function = FUNCTION[args.runtime]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(15)
    log = open(os.path.join(args.work, f"bare-{args.runtime}.log"), "ab")
    if args.runtime == "py":
        args.python = real_interpreter(args.python)
    request_ids, bare = [], []
    try:
        for i in range(args.count + 1):
            client.update_function_configuration(FunctionName=function, Description=f"cold start {i} {time.time()}")
            status, headers, body = invoke(args.endpoint, function)
            check_invoke(args.runtime, status, headers, body)
            ms = bare_cold_start(args, args.runtime, listener, log)
            if i > 0:
                request_ids.append(headers["x-amzn-RequestId"])
                bare.append(ms)
            time.sleep(args.pause)
    finally:
        listener.close()
        log.close()
    found = init_durations(args.data_dir, function)
    missing = [r for r in request_ids if r not in found]
    if missing:
        raise BenchError(f"{function}: {len(missing)} of {len(request_ids)} invocations after a configuration "
                         f"change have no REPORT line with Init Duration (e.g. {missing[0]}): not cold starts?")
    aviary = [found[r] for r in request_ids]
    result = {"kind": "cold", "runtime": args.runtime, "aviary_median_ms": statistics.median(aviary),
              "bare_median_ms": statistics.median(bare),
              "paired_overhead_median_ms": statistics.median(a - b for a, b in zip(aviary, bare)),
              "aviary_ms": aviary, "bare_ms": [round(b, 3) for b in bare]}
    emit(result, args.results)


# ---------------------------------------------------------------- summary

LABEL = {"health": "single hop: GET /health", "c": "(a) C bootstrap", "py": "(b) Python bootstrap",
         "ric": "(c) awslambdaric"}
GOAL_RATE = 0.35          # (a) invoke rate / single-hop rate, at every concurrency
GOAL_OVERHEAD_MS = 0.3    # Aviary's own p50 overhead at concurrency 1
GOAL_COLD_MS = 5.0        # Aviary's cold-start overhead over the bare runtime
GOAL_RIC = 0.9            # awslambdaric events/s through Aviary / against the stub


def cmd_summary(args):
    records = [json.loads(line) for line in open(args.results) if line.strip()]
    wrk = [r for r in records if r["kind"] == "wrk"]
    stub = [r for r in records if r["kind"] == "stub"]
    cold = {r["runtime"]: r for r in records if r["kind"] == "cold"}
    med = statistics.median
    goals = []   # (text, value text, goal text, met)

    def wrk_median(conc, target, field):
        values = [r[field] for r in wrk if r["conc"] == conc and r["target"] == target]
        return med(values) if values else None

    def stub_median(runtime, field):
        values = [r[field] for r in stub if r["runtime"] == runtime]
        return med(values) if values else None

    rounds = max([r["round"] for r in wrk] or [0])
    print(f"\nWarm invokes: median of {rounds} rounds x {args.seconds}s per row, wrk ({args.threads} thread), "
          f"targets alternated, all on one server ({os.cpu_count()} cores shared by server, runtimes and wrk)")
    print(f"  {'conc':>4}  {'target':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'/single hop':>11} "
          f"{'server CPU/req':>14}")
    for conc in sorted({r["conc"] for r in wrk}):
        base = wrk_median(conc, "health", "rps")
        for target in ("health", "c", "py", "ric"):
            rps = wrk_median(conc, target, "rps")
            if rps is None:
                continue
            ratio = rps / base
            print(f"  {conc:>4}  {LABEL[target]:<24} {rps:>9.0f} {wrk_median(conc, target, 'p50_ms'):>8.3f} "
                  f"{wrk_median(conc, target, 'p99_ms'):>8.3f} {ratio:>11.3f} "
                  f"{wrk_median(conc, target, 'cpu_us_per_req'):>11.0f} us")
            if target == "c":
                goals.append((f"(a) C bootstrap rate / single-hop rate, concurrency {conc}", f"{ratio:.3f}",
                              f">= {GOAL_RATE}", ratio >= GOAL_RATE))

    if stub:
        print(f"\nThe same runtime processes against the benchmark's Runtime API stub (no Aviary; Python "
              f"http.server), median of {len({r['round'] for r in stub})} runs x {args.stub_seconds}s:")
        print(f"  {'runtime':<24} {'events/s':>9} {'event->response p50':>20} {'ack->next GET p50':>18}")
        for runtime in ("c", "py", "ric"):
            if stub_median(runtime, "events_per_s") is None:
                continue
            print(f"  {LABEL[runtime]:<24} {stub_median(runtime, 'events_per_s'):>9.0f} "
                  f"{stub_median(runtime, 'rtt_p50_ms'):>17.3f} ms {stub_median(runtime, 'turn_p50_ms'):>15.3f} ms")
        print("  (the stub's own per-request cost bounds these rates: the C bootstrap's rate is ~ the stub's ceiling)")

        print("\nAviary's own p50 overhead at concurrency 1 = invoke p50 - the runtime's own event->response p50"
              " (stub):")
        health_p50 = wrk_median(1, "health", "p50_ms")
        for runtime in ("c", "py", "ric"):
            p50, own = wrk_median(1, runtime, "p50_ms"), stub_median(runtime, "rtt_p50_ms")
            if p50 is None or own is None:
                continue
            overhead = p50 - own
            extra = f"; beyond the single hop's p50 ({health_p50:.3f} ms): {overhead - health_p50:.3f} ms" \
                if health_p50 is not None else ""
            print(f"  {LABEL[runtime]:<24} {p50:.3f} - {own:.3f} = {overhead:.3f} ms{extra}")
            if runtime == "c":
                goals.append((f"Aviary's own p50 overhead, {LABEL[runtime]}, concurrency 1", f"{overhead:.3f} ms",
                              f"< {GOAL_OVERHEAD_MS} ms", overhead < GOAL_OVERHEAD_MS))
        print("  (goal line for (a) only: for the Python runtimes part of their ack->next GET turnaround can also\n"
              "   fall into the invoke latency at concurrency 1, so their estimate is an upper bound)")
        reports = {r["runtime"]: r for r in records if r["kind"] == "reports" and r["conc"] == 1}
        if reports:
            print("  Where it goes (p50s, approximate: medians do not add exactly). Aviary's REPORT Duration runs from\n"
                  "  handing the event to the runtime's /next to having its response; the rest is the invoke front end\n"
                  "  (HTTP, routing, bookkeeping, hops, and waiting for a runtime that has not asked for work yet):")
            for runtime in ("c", "py", "ric"):
                p50, own = wrk_median(1, runtime, "p50_ms"), stub_median(runtime, "rtt_p50_ms")
                if runtime not in reports or p50 is None or own is None:
                    continue
                duration = reports[runtime]["duration_p50_ms"]
                front = p50 - duration
                hop = f" (single hop {health_p50:.3f} + {front - health_p50:.3f})" if health_p50 is not None else ""
                print(f"  {LABEL[runtime]:<24} REPORT Duration {duration:.3f} ms = runtime {own:.3f} + Aviary's Runtime "
                      f"API side {duration - own:.3f}; front end {front:.3f} ms{hop}")

        aviary_ric, stub_ric = wrk_median(1, "ric", "rps"), stub_median("ric", "events_per_s")
        if aviary_ric is not None and stub_ric is not None:
            ratio = aviary_ric / stub_ric
            print(f"\nawslambdaric events/s: through Aviary (sequential invokes, concurrency 1) {aviary_ric:.0f}, "
                  f"against the stub {stub_ric:.0f}: ratio {ratio:.3f}")
            goals.append(("awslambdaric events/s through Aviary / against the stub", f"{ratio:.3f}",
                          f">= {GOAL_RIC}", ratio >= GOAL_RIC))

    if cold:
        n = len(next(iter(cold.values()))["aviary_ms"])
        print(f"\nCold start, spawn to the runtime's first GET /next, median of {n} (interleaved):")
        print(f"  {'runtime':<24} {'Aviary Init Duration':>20} {'bare runtime':>13} {'overhead':>9} "
              f"{'paired median':>14}")
        for runtime in ("c", "py", "ric"):
            if runtime not in cold:
                continue
            r = cold[runtime]
            overhead = r["aviary_median_ms"] - r["bare_median_ms"]
            print(f"  {LABEL[runtime]:<24} {r['aviary_median_ms']:>17.2f} ms {r['bare_median_ms']:>10.2f} ms "
                  f"{overhead:>+6.2f} ms {r['paired_overhead_median_ms']:>+11.2f} ms")
            goals.append((f"cold-start overhead, {LABEL[runtime]}", f"{overhead:+.2f} ms", f"<= +{GOAL_COLD_MS} ms",
                          overhead <= GOAL_COLD_MS))

    print("\nGOALS")
    width = max(len(g[0]) for g in goals) if goals else 10
    for text, value, goal, met in goals:
        print(f"  {text:<{width}}  {value:>10}  goal {goal:<10}  {'met' if met else 'MISSED'}")
    missed = sum(1 for g in goals if not g[3])
    print(f"\nRESULT: {'all goals met' if not missed else f'{missed} of {len(goals)} goals missed'}")
    sys.exit(3 if missed else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, endpoint=True, runtime=True):
        p = sub.add_parser(name)
        p.set_defaults(func=func)
        if endpoint:
            p.add_argument("--endpoint", required=True)
        if runtime:
            p.add_argument("--runtime", choices=RUNTIMES, required=True)
        p.add_argument("--work", required=True)
        p.add_argument("--data-dir", required=True)
        p.add_argument("--python", default=shutil.which("python3"), help="the python3 Aviary runs python3.* with")
        p.add_argument("--results", help="append the JSON result line to this file")
        return p

    p = add("setup", cmd_setup, runtime=False)
    p.add_argument("--c-bootstrap", required=True)
    p.add_argument("--ric-python", required=True)
    p = add("warm", cmd_warm)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--sleep-ms", type=int, default=400)
    add("streams", cmd_streams, endpoint=False)
    p = add("reports", cmd_reports, endpoint=False)
    p.add_argument("--conc", type=int, required=True)
    p = add("stub", cmd_stub, endpoint=False)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--round", type=int, default=1)
    p = add("cold", cmd_cold)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--pause", type=float, default=0.05)
    p = sub.add_parser("summary")
    p.set_defaults(func=cmd_summary)
    p.add_argument("--results", required=True)
    p.add_argument("--seconds", default="?")
    p.add_argument("--stub-seconds", default="?")
    p.add_argument("--threads", default="?")
    args = parser.parse_args()
    # SIGTERM (the shell script's cleanup) unwinds like Ctrl-C, so runtime processes started here are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        args.func(args)
    except BenchError as error:
        print(f"invoke_bench.py {args.command}: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
