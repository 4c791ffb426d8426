"""Shared helpers for the Aviary interop suite: the server process, the `aws` CLI, boto3, raw HTTP.

Everything here waits with a bound: a server that never becomes healthy, a CLI call that hangs or a
SIGTERM that is ignored turns into a test failure with the server's output attached, never a hang.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
RUNTIME = "python3.12"
HANDLER = "index.handler"
ARN_PREFIX = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
# `2026-11-21T23:53:43.123+0000`
LAST_MODIFIED_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$"
REVISION_MISMATCH = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)

REPO_ROOT = Path(__file__).resolve().parents[2]

# Timeouts (seconds). Generous enough for a debug build on a busy machine, small enough to never hang.
STARTUP_TIMEOUT = float(os.environ.get("AVIARY_STARTUP_TIMEOUT", "30"))
SHUTDOWN_TIMEOUT = 10.0
CLI_TIMEOUT = 90.0
HTTP_TIMEOUT = 15.0


def function_arn(name: str, qualifier: str | None = None) -> str:
    return ARN_PREFIX + name + (f":{qualifier}" if qualifier is not None else "")


def unique(prefix: str) -> str:
    """A function or alias name no other test uses (names are ≤ 64 chars)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_zip(marker: str = "", extra: dict[str, str] | None = None) -> bytes:
    """A real, deterministic zip with `index.py`; `marker` changes the bytes (and so CodeSha256)."""
    buf = io.BytesIO()
    files = {"index.py": f"# {marker}\ndef handler(e, c):\n    return 1\n"}
    files.update(extra or {})
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def strip_meta(resp: dict) -> dict:
    """A boto3 response without ResponseMetadata (which differs per request)."""
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


# --------------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------------


def aviary_bin() -> Path:
    return Path(os.environ.get("AVIARY_BIN") or REPO_ROOT / ".build" / "debug" / "aviary")


class ServerProcess:
    """One `aviary serve` child process on a free port."""

    def __init__(self, data_dir: Path, log_dir: Path, port: int | None = None, extra_args: list[str] | None = None):
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args or [])
        self.log_dir = Path(log_dir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._out_path = self.log_dir / f"server-{self.port}-{uuid.uuid4().hex[:6]}.out"
        self._err_path = self._out_path.with_suffix(".err")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _command(self) -> tuple[list[str], str]:
        binary = aviary_bin()
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            pytest.fail(
                f"aviary binary not found at {binary}: build it (swift build) or set AVIARY_BIN",
                pytrace=False,
            )
        cmd = [str(binary), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
               *self.extra_args]
        return cmd, "/health"

    def start(self) -> "ServerProcess":
        cmd, health = self._command()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # The server's working directory is its own empty folder, so a stray relative write is visible.
        cwd = self.log_dir / f"cwd-{self.port}"
        cwd.mkdir(parents=True, exist_ok=True)
        self.cwd = cwd
        with open(self._out_path, "wb") as out, open(self._err_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.proc.returncode} before becoming healthy: {cmd}\n{self.output()}"
                )
            try:
                status, _, _ = raw_request(self.base_url, "GET", health, timeout=2)
                if status == 200:
                    return self
                last = f"HTTP {status}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.1)
        self.kill()
        raise AssertionError(
            f"server not healthy within {STARTUP_TIMEOUT}s ({last}): {cmd}\n{self.output()}"
        )

    def stop(self, timeout: float = SHUTDOWN_TIMEOUT) -> int:
        """SIGTERM and wait (bounded). Returns the exit code; kills and fails if it does not exit."""
        assert self.proc is not None, "server was never started"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"server did not exit within {timeout}s of SIGTERM\n{self.output()}")
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        parts = []
        for label, path in (("stdout", self._out_path), ("stderr", self._err_path)):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                text = ""
            parts.append(f"--- server {label} (last 4000 chars) ---\n{text[-4000:]}")
        return "\n".join(parts)

    def full_output(self) -> str:
        texts = []
        for path in (self._out_path, self._err_path):
            try:
                texts.append(path.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(texts)


# --------------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------------


def lambda_client(endpoint: str):
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=HTTP_TIMEOUT),
    )


def aws_executable() -> str:
    # Prefer the `aws` of the interpreter running pytest (the runner's venv), then PATH.
    candidate = Path(sys.executable).parent / "aws"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("aws")
    if not found:
        pytest.fail("the `aws` CLI is not installed (pip install -r Tests/Interop/requirements.txt)", pytrace=False)
    return found


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout) if self.stdout.strip() else None

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\nexit {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"


class AwsCli:
    """Runs the real `aws` CLI (v1) as a subprocess against one endpoint."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.exe = aws_executable()

    def argv(self, *args: str) -> list[str]:
        return [self.exe, "--endpoint-url", self.endpoint, "--output", "json", "--region", REGION, "lambda", *args]

    def run(self, *args: str, timeout: float = CLI_TIMEOUT) -> CliResult:
        argv = self.argv(*args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"aws CLI did not finish within {timeout}s: {argv}\n{exc.stderr}") from None
        return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def run_shell(self, tail: str, timeout: float = CLI_TIMEOUT) -> CliResult:
        """`bash -c 'aws --endpoint-url … lambda <tail>'`: `tail` is shell text, as a user would type it."""
        line = f"'{self.exe}' --endpoint-url {self.endpoint} --output json --region {REGION} lambda {tail}"
        try:
            proc = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"bash -c did not finish within {timeout}s: {line}\n{exc.stderr}") from None
        return CliResult(["bash", "-c", line], proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, timeout: float = CLI_TIMEOUT):
        res = self.run(*args, timeout=timeout)
        assert res.returncode == 0, res.describe()
        return res.json

    def fail(self, *args: str, timeout: float = CLI_TIMEOUT) -> CliResult:
        res = self.run(*args, timeout=timeout)
        assert res.returncode != 0, res.describe()
        return res


def assert_cli_error(res: CliResult, code: str, operation: str, message: str) -> None:
    assert res.returncode != 0, res.describe()
    expected = f"An error occurred ({code}) when calling the {operation} operation: {message}"
    assert expected in res.stderr, f"expected stderr to contain:\n{expected}\n{res.describe()}"


def call_error(fn, *args, **kwargs) -> dict:
    """Calls a boto3 operation that must fail with a service error; returns `e.response`."""
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value.response


def assert_error(resp: dict, code: str, status: int, message: str | None = None, *,
                 startswith: str | None = None, contains: str | None = None) -> None:
    err = resp.get("Error", {})
    got_status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
    summary = f"code={err.get('Code')!r} status={got_status!r} message={err.get('Message')!r}"
    assert err.get("Code") == code, summary
    assert got_status == status, summary
    if message is not None:
        assert err.get("Message") == message, summary
    if startswith is not None:
        assert (err.get("Message") or "").startswith(startswith), summary
    if contains is not None:
        assert contains in (err.get("Message") or ""), summary


def raw_request(base_url: str, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, timeout: float = HTTP_TIMEOUT):
    """Unsigned HTTP, no proxies: returns (status, headers with lower-case names, body bytes)."""
    assert base_url.startswith("http://")
    hostport = base_url[len("http://"):].rstrip("/")
    conn = http.client.HTTPConnection(hostport, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------
# Lambda shortcuts (boto3)
# --------------------------------------------------------------------------------------------------


def create_function(lam, name: str, *, zip_bytes: bytes | None = None, publish: bool = False, **extra) -> dict:
    params = dict(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER,
                  Code={"ZipFile": zip_bytes if zip_bytes is not None else make_zip(name)}, Publish=publish)
    params.update(extra)
    return lam.create_function(**params)


def wait_updated(lam, name: str, resp: dict) -> None:
    """If the server reports an update in progress (as AWS does), wait for it with a bound."""
    if resp.get("LastUpdateStatus") == "InProgress":
        lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def change_config(lam, name: str, description: str) -> dict:
    resp = lam.update_function_configuration(FunctionName=name, Description=description)
    wait_updated(lam, name, resp)
    return resp


def publish_changed(lam, name: str, description: str) -> dict:
    """Modifies $LATEST (description) and publishes: always a new version."""
    change_config(lam, name, description)
    return lam.publish_version(FunctionName=name)


def function_with_versions(lam, name: str, count: int) -> list[dict]:
    """Creates `name` and publishes `count` versions (1..count); returns the PublishVersion responses."""
    create_function(lam, name)
    return [publish_changed(lam, name, f"v{i}") for i in range(1, count + 1)]


# --------------------------------------------------------------------------------------------------
# Deployments (/v1/deployments), the `aviary` CLI, live traffic
# --------------------------------------------------------------------------------------------------

import threading as _threading

DEPLOY_TIMEOUT = 30.0
FINISHED_STATUSES = ("Succeeded", "RolledBack", "Failed")

# A function whose behaviour is fixed per version by MODE: "good", "fail" (always raises), "flaky"
# (raises when random() < 0.1) or "slow" (sleeps 0.5 s).
DEPLOY_APP = '''
import os, random, time
MODE = __MODE__

def handler(event, context):
    if MODE == "fail":
        raise RuntimeError("version " + os.environ["AWS_LAMBDA_FUNCTION_VERSION"] + " always fails")
    if MODE == "flaky" and random.random() < 0.1:
        raise RuntimeError("flaky failure")
    if MODE == "slow":
        time.sleep(0.5)
    return {"version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "mode": MODE}
'''


def zip_files(files: dict[str, str]) -> bytes:
    """A deterministic zip of `files` (path -> text)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()


def deploy_app_zip(mode: str) -> bytes:
    return zip_files({"app.py": DEPLOY_APP.replace("__MODE__", repr(mode))})


def function_for_deployment(lam, name: str, *modes: str, alias: str = "live", **extra) -> None:
    """Creates `name` with one published version per mode (1, 2, …) and `alias` on version 1."""
    for index, mode in enumerate(modes, start=1):
        if index == 1:
            lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="app.handler",
                                Code={"ZipFile": deploy_app_zip(mode)}, Publish=True, **extra)
        else:
            resp = lam.update_function_code(FunctionName=name, ZipFile=deploy_app_zip(mode), Publish=True)
            assert resp["Version"] == str(index), resp
    if alias:
        lam.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")


def api(base_url: str, method: str, path: str, body=None, timeout: float = HTTP_TIMEOUT):
    """Aviary's own JSON API: returns (status, decoded JSON body or None)."""
    data = json.dumps(body).encode() if body is not None and not isinstance(body, (bytes, str)) else body
    headers = {"Content-Type": "application/json"} if data is not None else {}
    status, _, raw = raw_request(base_url, method, path, data, headers=headers, timeout=timeout)
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        raise AssertionError(f"{method} {path} -> {status}: body is not JSON: {raw[:500]!r}") from None
    return status, decoded


def start_deployment(base_url: str, **body) -> dict:
    status, out = api(base_url, "POST", "/v1/deployments", body)
    assert status == 201, f"POST /v1/deployments {body} -> {status} {out}"
    return out


def get_deployment(base_url: str, deployment_id: str) -> dict:
    status, out = api(base_url, "GET", f"/v1/deployments/{deployment_id}")
    assert status == 200, f"GET /v1/deployments/{deployment_id} -> {status} {out}"
    return out


def deployment_action(base_url: str, deployment_id: str, action: str, expect: int = 200, **body) -> dict:
    status, out = api(base_url, "POST", f"/v1/deployments/{deployment_id}/{action}", body)
    assert status == expect, f"POST {action} {deployment_id} -> {status} {out}"
    return out


def wait_deployment(base_url: str, deployment_id: str, predicate, timeout: float = DEPLOY_TIMEOUT,
                    what: str = "condition", server: "ServerProcess | None" = None) -> dict:
    """Polls the deployment until `predicate(d)` holds; fails (with its last state) after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = get_deployment(base_url, deployment_id)
        if predicate(last):
            return last
        time.sleep(0.05)
    extra = f"\n{server.output()}" if server is not None else ""
    raise AssertionError(f"deployment {deployment_id}: no {what} within {timeout}s; last state:\n"
                         f"{json.dumps(last, indent=1)}{extra}")


def wait_status(base_url: str, deployment_id: str, *statuses: str, timeout: float = DEPLOY_TIMEOUT,
                server: "ServerProcess | None" = None) -> dict:
    return wait_deployment(base_url, deployment_id, lambda d: d["status"] in statuses, timeout,
                           what=f"status in {statuses}", server=server)


def wait_finished(base_url: str, deployment_id: str, timeout: float = DEPLOY_TIMEOUT,
                  server: "ServerProcess | None" = None) -> dict:
    return wait_status(base_url, deployment_id, *FINISHED_STATUSES, timeout=timeout, server=server)


def history_text(deployment: dict) -> str:
    return "\n".join(f"{h['status']}: {h['message']}" + (f" (by {h['by']})" if h.get("by") else "")
                     for h in deployment["history"])


def invocation_count(base_url: str, function: str, alias: str, version: str) -> int:
    """`lambda_invocations_total` of one (function, alias, executed version) from /metrics (0 if absent)."""
    status, _, body = raw_request(base_url, "GET", "/metrics")
    assert status == 200
    labels = f'function_name="{function}",resource="{function}:{alias}",executed_version="{version}"'
    for line in body.decode().splitlines():
        if line.startswith("lambda_invocations_total{") and labels in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


@dataclass
class Call:
    at: float
    status: int
    version: str | None
    function_error: str | None
    body: bytes
    error: str | None = None


class Traffic:
    """A steady stream of synchronous invocations of `function:alias` over HTTP: `workers` threads, each
    sending one request every `workers / rate` seconds. Use as a context manager: stopped on exit."""

    def __init__(self, base_url: str, function: str, alias: str = "live", rate: float = 20.0, workers: int = 4):
        self.base_url = base_url
        self.path = f"/2015-03-31/functions/{function}/invocations?Qualifier={alias}"
        self.period = workers / rate
        self.workers = workers
        self.calls: list[Call] = []
        self._lock = _threading.Lock()
        self._stop = _threading.Event()
        self._threads: list[_threading.Thread] = []

    def _run(self, offset: float) -> None:
        next_at = time.monotonic() + offset
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            next_at = max(next_at + self.period, time.monotonic())
            started = time.monotonic()
            try:
                status, headers, body = raw_request(self.base_url, "POST", self.path, b"{}", timeout=HTTP_TIMEOUT)
                call = Call(started, status, headers.get("x-amz-executed-version"),
                            headers.get("x-amz-function-error"), body)
            except OSError as exc:
                call = Call(started, 0, None, None, b"", error=repr(exc))
            with self._lock:
                self.calls.append(call)

    def start(self) -> "Traffic":
        for index in range(self.workers):
            thread = _threading.Thread(target=self._run, args=(self.period * index / self.workers,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=HTTP_TIMEOUT + 5)
        assert not any(t.is_alive() for t in self._threads), "traffic threads did not stop"

    def __enter__(self) -> "Traffic":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def wait_for(self, predicate, timeout: float, what: str) -> list[Call]:
        """Waits until `predicate(calls)` holds (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.snapshot()
            if predicate(calls):
                return calls
            time.sleep(0.05)
        raise AssertionError(f"traffic: no {what} within {timeout}s ({len(self.snapshot())} calls)")

    def summary(self) -> str:
        calls = self.snapshot()
        by = {}
        for c in calls:
            key = (c.status, c.version, c.function_error, c.error)
            by[key] = by.get(key, 0) + 1
        return ", ".join(f"{k}: {v}" for k, v in sorted(by.items(), key=str))


def boto3_site_packages() -> str:
    """The folder holding the boto3 of the interpreter running pytest (for a hook function's PYTHONPATH)."""
    return str(Path(boto3.__file__).resolve().parent.parent)


def run_aviary(*args: str, timeout: float = CLI_TIMEOUT) -> CliResult:
    """Runs the `aviary` binary itself (deploy, status, promote, …) and captures its output."""
    argv = [str(aviary_bin()), *args]
    env = {k: v for k, v in os.environ.items() if k != "AVIARY_ENDPOINT"}
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"aviary did not finish within {timeout}s: {argv}\n{exc.stdout}\n{exc.stderr}") from None
    return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)


def kill_hard(srv: ServerProcess) -> int:
    """kill -9 of the server process (no shutdown of any kind); returns its exit code (-9)."""
    assert srv.proc is not None and srv.proc.poll() is None, "server is not running"
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=SHUTDOWN_TIMEOUT)
    srv.returncode = srv.proc.returncode
    return srv.returncode


def stop_cleanly(srv: ServerProcess) -> None:
    """SIGTERM a still-running server and require exit code 0 (a crash shows up at teardown)."""
    if srv.running:
        code = srv.stop()
        assert code == 0, f"server exited with {code} after SIGTERM\n{srv.output()}"


def fresh_calls(calls: list, since: float) -> list:
    """The calls of a Traffic that started after `since` (time.monotonic())."""
    return [c for c in calls if c.at > since]


# --------------------------------------------------------------------------------------------------
# Webhook receiver (notifications)
# --------------------------------------------------------------------------------------------------

from http.server import BaseHTTPRequestHandler as _BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer as _ThreadingHTTPServer


@dataclass
class ReceivedRequest:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    # The answer it got.
    status: int

    @property
    def json(self):
        """The body decoded as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 for notification tests: records every POST (time.monotonic(),
    path, lower-case headers, body) and answers each path as `statuses` says — a list is answered in
    turn and then 200 (`{"/hook": [500, 500]}` fails twice), an int always (`{"/dead": 500}`); other
    paths get 200. Use as a context manager: stopped on exit."""

    def __init__(self, statuses: dict[str, list[int] | int] | None = None):
        self._scripts = {path: (list(spec) if isinstance(spec, list) else spec) for path, spec in (statuses or {}).items()}
        self._requests: list[ReceivedRequest] = []
        self._lock = _threading.Lock()
        receiver = self

        class Handler(_BaseHTTPRequestHandler):
            # Keep-alive, as real receivers do: clients reuse their connections.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?", 1)[0]
                status = receiver._record(path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = _ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = _threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            script = self._scripts.get(path, 200)
            status = script if isinstance(script, int) else (script.pop(0) if script else 200)
            self._requests.append(ReceivedRequest(time.monotonic(), path, headers, body, status))
            return status

    def requests(self, path: str | None = None) -> list[ReceivedRequest]:
        """What arrived (at `path`, if given), oldest first."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def wait_for(self, predicate, timeout: float, what: str = "condition") -> list[ReceivedRequest]:
        """Waits until `predicate(requests)` holds (bounded); returns the requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            requests = self.requests()
            if predicate(requests):
                return requests
            time.sleep(0.05)
        summary = ", ".join(f"{r.path} {(r.json or {}).get('event') or (r.json or {}).get('text', '')[:40]!r} -> {r.status}"
                            for r in self.requests())
        raise AssertionError(f"webhook receiver: no {what} within {timeout}s; received: [{summary}]")

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
