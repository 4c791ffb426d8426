"""Event (asynchronous) invocations: stored durably before the 202, run later, retried as AWS does."""

from __future__ import annotations

import io
import json
import time
import zipfile

from aviary_harness import ROLE, assert_error, call_error, lambda_client, raw_request, unique

RECORDER = '''
import os

def handler(event, context):
    folder = event["dir"]
    attempt = len([f for f in os.listdir(folder) if f.startswith("attempt-")]) + 1
    with open(os.path.join(folder, f"attempt-{attempt}"), "w") as marker:
        marker.write(context.aws_request_id + " " + context.function_version)
    if attempt <= event.get("fail_times", 0):
        raise RuntimeError(f"failing attempt {attempt}")
    return attempt
'''


def recorder_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), RECORDER)
    return buf.getvalue()


def create_recorder(lam, name: str) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": recorder_zip()}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")


def attempts(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("attempt-"))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def send_event(lam, name: str, payload: dict, qualifier: str = "live") -> dict:
    response = lam.invoke(FunctionName=name, Qualifier=qualifier, InvocationType="Event",
                          Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert "ExecutedVersion" not in response
    return response


def test_an_event_is_accepted_with_202_and_runs_through_the_alias(lam, tmp_path):
    name = unique("event")
    create_recorder(lam, name)
    response = send_event(lam, name, {"dir": str(tmp_path)})
    wait_for(lambda: attempts(tmp_path), 20, "the event to run")
    marker = (tmp_path / "attempt-1").read_text()
    assert marker == f"{response['ResponseMetadata']['RequestId']} 1"


def test_event_limits_and_missing_targets(lam, endpoint):
    name = unique("eventlimits")
    create_recorder(lam, name)
    big = b'"' + b"x" * 1_048_577 + b'"'
    status, headers, body = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", big,
                                        {"X-Amz-Invocation-Type": "Event"})
    assert status == 413 and headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    assert b"byte payload is too large for the Event invocation type (limit 1048576 bytes)" in body
    assert_error(call_error(lam.invoke, FunctionName=name, Qualifier="nope", InvocationType="Event"),
                 "ResourceNotFoundException", 404)


def test_a_failing_event_runs_three_times_in_all(start_server, tmp_path):
    srv = start_server(None, "--async-retry-delay", "1")
    lam = lambda_client(srv.base_url)
    name = unique("retries")
    create_recorder(lam, name)
    send_event(lam, name, {"dir": str(tmp_path), "fail_times": 99})
    wait_for(lambda: len(attempts(tmp_path)) == 3, 20, "three attempts (first run + 2 retries, 1 s and 2 s apart)")
    time.sleep(2.5)  # longer than the next delay would be: no fourth attempt may come
    assert attempts(tmp_path) == ["attempt-1", "attempt-2", "attempt-3"]


def test_a_pending_retry_survives_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    srv = start_server(data, "--async-retry-delay", "3")
    lam = lambda_client(srv.base_url)
    name = unique("durable")
    create_recorder(lam, name)
    send_event(lam, name, {"dir": str(work), "fail_times": 1})
    wait_for(lambda: attempts(work) == ["attempt-1"], 20, "the first (failing) attempt")
    assert srv.stop() == 0  # the retry is due in 3 s; the server is gone before that
    assert attempts(work) == ["attempt-1"]
    again = start_server(data, "--async-retry-delay", "3")
    wait_for(lambda: attempts(work) == ["attempt-1", "attempt-2"], 20, "the retry after the restart")
    assert again.stop() == 0


SLOW_FIRST = '''
import os, time

def handler(event, context):
    folder = event["dir"]
    attempt = len([f for f in os.listdir(folder) if f.startswith("attempt-")]) + 1
    with open(os.path.join(folder, f"attempt-{attempt}"), "w") as marker:
        marker.write(context.aws_request_id)
    if attempt == 1:
        time.sleep(8)
    return attempt
'''


def test_a_running_event_does_not_hold_up_shutdown_and_runs_again_after_the_restart(start_server, tmp_path):
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    srv = start_server(data)
    lam = lambda_client(srv.base_url)
    name = unique("slow-event")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), SLOW_FIRST)
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
                        Code={"ZipFile": buf.getvalue()}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    send_event(lam, name, {"dir": str(work)})
    wait_for(lambda: attempts(work) == ["attempt-1"], 20, "the first attempt to start")
    started = time.monotonic()
    assert srv.stop(timeout=5) == 0, "SIGTERM must not wait out the function's 8 s"
    assert time.monotonic() - started < 4
    again = start_server(data)
    wait_for(lambda: attempts(work) == ["attempt-1", "attempt-2"], 20, "the interrupted event again after the restart")
    assert again.stop() == 0
