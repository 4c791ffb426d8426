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
