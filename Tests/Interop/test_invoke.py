"""Invoke: functions really run, as processes speaking the Lambda Runtime API, through versions and aliases."""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from aviary_harness import ROLE, assert_error, call_error, function_arn, lambda_client, raw_request, unique

PYTHON_APP = '''
import os, time
CALLS = 0

def handler(event, context):
    global CALLS
    CALLS += 1
    print("handling", json_dumps(event))
    action = event.get("action")
    if action == "fail":
        raise ValueError("boom from handler")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        os._exit(3)
    return {
        "calls": CALLS,
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "invoked_arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {k: v for k, v in os.environ.items()},
        "marker": MARKER,
        "event": event,
    }

def json_dumps(value):
    import json
    return json.dumps(value, sort_keys=True)
'''

NODE_HELLO = '''exports.handler = (event, context, callback) => {
    console.log('value1 =', event.key1);
    callback(null, '%s');
};
'''


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return buf.getvalue()


def python_zip(marker: str) -> bytes:
    """The test function; `marker` tells versions apart in their responses."""
    return zip_of({"app.py": PYTHON_APP.replace("MARKER", repr(marker))})


def create_python(lam, name: str, marker: str = "v1", **extra) -> dict:
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                               Code={"ZipFile": python_zip(marker)}, **extra)


def invoke(lam, name: str, payload: dict | None = None, **extra) -> tuple[dict, dict | str | None]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), **extra)
    body = response["Payload"].read()
    return response, json.loads(body) if body else None


def test_node_hello_world_and_bonjour_by_version_and_alias(cli, tmp_path):
    name = unique("hello")
    for text, index in (("Hello World!", 1), ("Bonjour", 2)):
        path = tmp_path / f"v{index}.zip"
        path.write_bytes(zip_of({"index.js": NODE_HELLO % text}))
        if index == 1:
            created = cli.ok("create-function", "--function-name", name, "--runtime", "nodejs6.10", "--handler",
                             "index.handler", "--role", ROLE, "--zip-file", f"fileb://{path}", "--publish")
            assert created["Version"] == "1"
        else:
            updated = cli.ok("update-function-code", "--function-name", name, "--zip-file", f"fileb://{path}",
                             "--publish")
            assert updated["Version"] == "2"

    def run(*args: str) -> tuple[dict, str]:
        out = tmp_path / "out.json"
        result = cli.ok("invoke", "--function-name", name, *args, "--payload", '{"key1": "value1"}', str(out))
        return result, out.read_text()

    for qualifier, expected in (("1", "Hello World!"), ("2", "Bonjour")):
        result, body = run("--qualifier", qualifier)
        assert result["StatusCode"] == 200 and result["ExecutedVersion"] == qualifier
        assert json.loads(body) == expected
    cli.ok("create-alias", "--function-name", name, "--name", "live", "--function-version", "1")
    result, body = run("--qualifier", "live")
    assert (result["ExecutedVersion"], json.loads(body)) == ("1", "Hello World!")
    cli.ok("update-alias", "--function-name", name, "--name", "live", "--function-version", "2")
    result, body = run("--qualifier", "live")
    assert (result["ExecutedVersion"], json.loads(body)) == ("2", "Bonjour")
    # The console line format of AWS's Node runtime, seen through Tail.
    tail = cli.ok("invoke", "--function-name", name, "--qualifier", "2", "--log-type", "Tail",
                  "--payload", '{"key1": "value1"}', str(tmp_path / "tail.json"))
    log = base64.b64decode(tail["LogResult"]).decode()
    assert "\tINFO\tvalue1 = value1" in log


def test_a_weighted_alias_splits_traffic_and_reports_the_executed_version(lam, endpoint):
    name = unique("split")
    create_python(lam, name, "one", Publish=True)
    lam.update_function_code(FunctionName=name, ZipFile=python_zip("two"), Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    total = 300

    def call(_):
        status, headers, body = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations?Qualifier=live",
                                            b"{}")
        return status, headers.get("x-amz-executed-version"), json.loads(body)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(call, range(total)))
    assert all(status == 200 for status, _, _ in results)
    for _, executed, body in results:
        assert body["version"] == executed, "the body must come from the version the header names"
        assert body["marker"] == {"1": "one", "2": "two"}[executed]
        assert body["invoked_arn"] == function_arn(name, "live")
    share = sum(1 for _, executed, _ in results if executed == "2") / total
    # 0.3 ± 4.5 standard deviations of a binomial proportion: fails by chance about once in 10^5 runs.
    tolerance = 4.5 * math.sqrt(0.3 * 0.7 / total)
    assert abs(share - 0.3) <= tolerance, f"version 2 got {share:.3f} of the traffic"


def test_the_process_sees_lambdas_environment_and_nothing_of_the_servers(lam, endpoint):
    name = unique("env")
    create_python(lam, name, Environment={"Variables": {"STAGE": "prod"}}, MemorySize=256)
    response, body = invoke(lam, name, {"hello": "world"})
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    env = body["env"]
    assert body["event"] == {"hello": "world"}
    assert body["name"] == name and body["version"] == "$LATEST" and body["memory"] == "256"
    assert env["STAGE"] == "prod"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_REGION"] == "us-east-1" and env["_HANDLER"] == "app.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    # The test runner's (and so the server's) credentials must not leak into functions: they get
    # Aviary's placeholders (as Lambda always hands out credentials) and Aviary's own URL for their SDKs.
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"
    assert env["AWS_ACCESS_KEY_ID"] == "AVIARYLOCAL" and "AWS_SHARED_CREDENTIALS_FILE" not in env
    assert env["AWS_ENDPOINT_URL_CODEDEPLOY"] == env["AWS_ENDPOINT_URL_LAMBDA"] == endpoint
    assert body["invoked_arn"] == function_arn(name)
    assert 0 < body["remaining_ms"] <= 3000
    assert len(body["request_id"]) == 36


def test_warm_environments_are_reused(lam):
    name = unique("warm")
    create_python(lam, name)
    calls = [invoke(lam, name)[1]["calls"] for _ in range(3)]
    assert calls == [1, 2, 3]


def test_a_handler_exception_is_200_with_function_error_unhandled(lam):
    name = unique("fail")
    create_python(lam, name)
    response, body = invoke(lam, name, {"action": "fail"}, LogType="Tail")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "boom from handler"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert any("app.py" in frame for frame in body["stackTrace"])
    log = base64.b64decode(response["LogResult"]).decode()
    assert "[ERROR] ValueError: boom from handler" in log
    # The environment survives a handled exception.
    assert invoke(lam, name)[1]["calls"] == 2


def test_a_timeout_kills_the_environment_and_the_next_invoke_starts_fresh(lam):
    name = unique("slow")
    create_python(lam, name, Timeout=1)
    assert invoke(lam, name)[1]["calls"] == 1
    started = time.monotonic()
    response, body = invoke(lam, name, {"action": "sleep", "seconds": 5})
    elapsed = time.monotonic() - started
    assert response["FunctionError"] == "Unhandled"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert elapsed < 4, f"the timeout answered after {elapsed:.1f}s"
    assert invoke(lam, name)[1]["calls"] == 1, "a timed-out environment is not reused"


def test_a_crashing_runtime_is_a_runtime_exit_error(lam):
    name = unique("crash")
    create_python(lam, name)
    response, body = invoke(lam, name, {"action": "exit"})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert invoke(lam, name)[1]["calls"] == 1


def test_an_init_error_reports_the_runtimes_error(lam):
    name = unique("broken")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of({"app.py": "import nosuchmodule\n"})})
    response, body = invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'nosuchmodule'" in body["errorMessage"]


def test_tail_returns_the_invocations_log(lam):
    name = unique("tail")
    create_python(lam, name)
    response, body = invoke(lam, name, {"x": 1}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = body["request_id"]
    lines = log.splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert 'handling {"x": 1}' in log
    assert f"END RequestId: {request_id}" in lines
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 128 MB\t" in lines[-1]


def test_dry_run_bad_json_oversize_and_missing_targets(lam, endpoint):
    name = unique("edge")
    create_python(lam, name)
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    status, headers, _ = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", b"{not json")
    assert status == 400 and headers["x-amzn-errortype"] == "InvalidRequestContentException"
    big = b'"' + b"x" * 6_291_456 + b'"'
    status, headers, body = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", big)
    assert status == 413 and headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    assert b"Request must be smaller than 6291456 bytes for the InvokeFunction operation" in body
    assert_error(call_error(lam.invoke, FunctionName=unique("nope")), "ResourceNotFoundException", 404)
    assert_error(call_error(lam.invoke, FunctionName=name, Qualifier="nope"), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn(name, 'nope')}")


def test_concurrent_invocations_run_in_parallel_environments(lam):
    name = unique("parallel")
    create_python(lam, name)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: invoke(lam, name, {"action": "sleep", "seconds": 1}), range(6)))
    elapsed = time.monotonic() - started
    assert all("FunctionError" not in response for response, _ in results)
    assert elapsed < 5, f"6 one-second invocations took {elapsed:.1f}s: they did not run side by side"


MISBEHAVING_BOOTSTRAP = r'''#!/bin/sh
# A custom runtime that breaks the protocol before answering properly.
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  ARN=$(grep -i '^Lambda-Runtime-Invoked-Function-Arn:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  TYPE=$(grep -i '^Content-Type:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  WRONG=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/invocation/not-$ID/response" -d '"x"')
  GARBAGE=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/nonsense" -d 'zzz')
  EARLY=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$API/invocation/next")
  echo "bootstrap handled $ID"
  curl -s -o /dev/null -X POST "$API/invocation/$ID/response" \
    -d "{\"wrong\": $WRONG, \"garbage\": $GARBAGE, \"early\": $EARLY, \"type\": \"$TYPE\", \"arn\": \"$ARN\", \"event\": $EVENT}"
  rm -f "$HEADERS"
done
'''


def executable_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, text in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.create_system = 3
            zf.writestr(info, text)
    return buf.getvalue()


def test_a_provided_runtime_that_breaks_the_protocol_is_answered_and_cannot_harm_the_server(lam):
    name = unique("custom")
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": executable_zip({"bootstrap": MISBEHAVING_BOOTSTRAP})}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for attempt in range(2):
        response, body = invoke(lam, name, {"n": attempt}, Qualifier="live", LogType="Tail")
        assert "FunctionError" not in response, body
        assert body["event"] == {"n": attempt}
        assert body["type"] == "application/json"
        assert body["arn"] == function_arn(name, "live")
        assert (body["wrong"], body["garbage"], body["early"]) == (400, 404, 403)
        assert "bootstrap handled" in base64.b64decode(response["LogResult"]).decode()


def http_exchange(endpoint: str, data: bytes, responses: int, timeout: float = 15) -> tuple[list[tuple[int, dict, bytes]], bool]:
    """Sends raw bytes on one connection and reads `responses` HTTP responses in order; also whether the
    server closed the connection afterwards."""
    import socket
    host, port = endpoint.replace("http://", "").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.sendall(data)
    buffered, results = b"", []
    for _ in range(responses):
        while b"\r\n\r\n" not in buffered:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(results)} responses: {buffered!r}"
            buffered += chunk
        head, _, buffered = buffered.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(buffered) < length:
            buffered += sock.recv(65536)
        results.append((int(lines[0].split()[1]), headers, buffered[:length]))
        buffered = buffered[length:]
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    sock.close()
    return results, closed


def invoke_request(name: str, body: bytes = b"{}", headers: str = "") -> bytes:
    return (f"POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\nHost: x\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_invoke_keeps_request_order_on_a_connection_and_honours_connection_close(lam, endpoint):
    """Invoke is answered ahead of the router: pipelined requests around it still get their answers in
    order, a slow invocation holds back what follows it, and `Connection: close` ends the connection."""
    name = unique("order")
    create_python(lam, name, "v1")
    get = f"GET /2015-03-31/functions/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    slow = json.dumps({"action": "sleep", "seconds": 0.5}).encode()
    # invoke (slow), GetFunction, invoke, DryRun, a missing function, GetFunction: one write, six answers
    data = (invoke_request(name, slow) + get + invoke_request(name, b'{"n": 2}')
            + invoke_request(name, headers="X-Amz-Invocation-Type: DryRun\r\n")
            + invoke_request(unique("missing")) + get)
    results, closed = http_exchange(endpoint, data, 6)
    statuses = [status for status, _, _ in results]
    assert statuses == [200, 200, 200, 204, 404, 200]
    assert json.loads(results[0][2])["event"] == {"action": "sleep", "seconds": 0.5}
    assert json.loads(results[1][2])["Configuration"]["FunctionName"] == name
    assert json.loads(results[2][2])["event"] == {"n": 2}
    assert results[4][1]["x-amzn-errortype"] == "ResourceNotFoundException"
    assert not closed
    for status, headers, _ in results:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", headers["x-amzn-requestid"])
        assert headers["server"] == "aviary" and headers["date"].endswith(" GMT")
    assert results[0][1]["x-amz-executed-version"] == "$LATEST"
    assert results[0][1]["content-type"] == "application/json"
    # Connection: close on an invoke: answered, then closed.
    results, closed = http_exchange(endpoint, invoke_request(name, headers="Connection: close\r\n"), 1)
    assert results[0][0] == 200 and results[0][1]["connection"] == "close"
    assert closed
    # Bytes after it break HTTP: its answer comes first, then the parser's 400.
    results, closed = http_exchange(endpoint, invoke_request(name, headers="Connection: close\r\n") + get, 1)
    assert results[0][0] == 200
    assert closed


WIRE_RUNTIME = r'''
import json, os, socket

HOST, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
BASE = "/2018-06-01/runtime"


def connect():
    return socket.create_connection((HOST, int(PORT)), timeout=10)


def read_response(sock, buffered=b""):
    """One HTTP response: (status, headers, body, rest of the bytes read)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed after {data!r}")
        data += chunk
    head, _, data = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(data) < length:
        data += sock.recv(65536)
    return status, headers, data[:length], data[length:]


def closed(sock):
    try:
        return sock.recv(1) == b""
    except OSError:
        return True


while True:
    report = {}
    # A /next pipelined with a bad route: answered in order, the event first, on one connection.
    main = connect()
    main.sendall(f"GET {BASE}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
                 f"GET {BASE}/nonsense HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, headers, event, rest = read_response(main)
    request_id = headers["lambda-runtime-aws-request-id"]
    report["next"] = [status, headers["content-type"], json.loads(event)]
    status, headers, body, rest = read_response(main, rest)
    report["pipelined"] = [status, json.loads(body)["errorType"]]
    # Bytes that are not HTTP: 400, and that connection is closed; the server carries on.
    junk = connect()
    junk.sendall(b"\x00\x01 this is not http\r\n\r\n")
    status, headers, body, _ = read_response(junk)
    report["garbage"] = [status, closed(junk)]
    # HTTP/1.0 without keep-alive: answered, then closed.
    old = connect()
    old.sendall(f"POST {BASE}/invocation/unknown-id/response HTTP/1.0\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    status, headers, body, _ = read_response(old)
    report["http10"] = [status, headers.get("connection"), closed(old)]
    # The answer, posted the way curl posts big bodies: Expect: 100-continue, the body only after 100.
    answer = json.dumps({"report": report, "padding": "x" * 2000}).encode()
    main.sendall(f"POST {BASE}/invocation/{request_id}/response HTTP/1.1\r\nHost: x\r\n"
                 f"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                 f"Content-Length: {len(answer)}\r\n\r\n".encode())
    status, _, _, rest = read_response(main, rest)
    assert status == 100, status
    main.sendall(answer)
    status, _, body, _ = read_response(main, rest)
    assert status == 202 and json.loads(body) == {"status": "OK"}, (status, body)
    for sock in (main, junk, old):
        sock.close()
'''


def test_the_runtime_api_answers_pipelined_malformed_http10_and_expect_continue_requests(lam):
    """A runtime speaking raw HTTP: pipelined requests in order, garbage refused with 400 and the
    connection closed, HTTP/1.0 closed after its answer, Expect: 100-continue answered before the body."""
    name = unique("wire")
    bootstrap = f'#!/bin/sh\nexec "{sys.executable}" "$LAMBDA_TASK_ROOT/runtime.py"\n'
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": executable_zip({"bootstrap": bootstrap, "runtime.py": WIRE_RUNTIME})})
    for n in range(2):
        response, body = invoke(lam, name, {"n": n})
        assert "FunctionError" not in response, body
        report = body["report"]
        assert report["next"] == [200, "application/json", {"n": n}]
        assert report["pipelined"] == [404, "UnknownOperation"]
        assert report["garbage"] == [400, True]
        assert report["http10"] == [400, "close", True]
        assert body["padding"] == "x" * 2000


def test_a_provided_function_without_a_bootstrap_fails_clearly(lam):
    name = unique("nobootstrap")
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="unused",
                        Code={"ZipFile": zip_of({"README": "no bootstrap here"})})
    response, body = invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"


RIC_APP = '''
def handler(event, context):
    if event.get("fail"):
        raise KeyError("missing thing")
    return {"ric": True, "event": event, "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn, "version": context.function_version}
'''


def test_the_official_python_runtime_client_runs_unmodified(lam):
    """awslambdaric (PyPI, installed beside this suite) as a provided.al2023 custom runtime."""
    name = unique("ric")
    bootstrap = f'#!/bin/sh\ncd "$LAMBDA_TASK_ROOT"\nexec "{sys.executable}" -m awslambdaric app.handler\n'
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": executable_zip({"bootstrap": bootstrap, "app.py": RIC_APP})}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    for n in range(3):
        response, body = invoke(lam, name, {"n": n}, Qualifier="live")
        assert "FunctionError" not in response, body
        assert body == {"ric": True, "event": {"n": n}, "request_id": response["ResponseMetadata"]["RequestId"],
                        "arn": function_arn(name, "live"), "version": "1"}
    response, body = invoke(lam, name, {"fail": True}, Qualifier="live")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "KeyError"
    # A handler the client cannot import is its init error, reported through /init/error.
    broken = unique("ricbroken")
    lam.create_function(FunctionName=broken, Runtime="provided.al2023", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": executable_zip({"bootstrap": bootstrap.replace("app.handler", "nosuch.handler")})})
    response, body = invoke(lam, broken)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"


def test_reserved_concurrency_throttles_with_429(lam, cli):
    name = unique("reserved")
    create_python(lam, name)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)["ReservedConcurrentExecutions"] == 1
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    assert unreserved <= 999
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(invoke, lam, name, {"action": "sleep", "seconds": 2})
        time.sleep(0.8)
        throttled = call_error(lam.invoke, FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in slow.result()[0]
    assert_error(throttled, "TooManyRequestsException", 429, "Rate Exceeded.")
    assert throttled["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert throttled["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert_error(call_error(lam.invoke, FunctionName=name, Payload=b"{}"), "TooManyRequestsException", 429)
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert invoke(lam, name)[0]["StatusCode"] == 200
    assert_error(call_error(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=950),
                 "InvalidParameterValueException", 400,
                 "Specified ReservedConcurrentExecutions for function decreases account's "
                 "UnreservedConcurrentExecution below its minimum value of [100].")
    assert_error(call_error(lam.put_function_concurrency, FunctionName=f"{name}:1", ReservedConcurrentExecutions=1),
                 "InvalidParameterValueException", 400)


def test_metrics_are_exported_per_function_alias_and_executed_version(lam, endpoint):
    name = unique("metrics")
    create_python(lam, name, "one", Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    invoke(lam, name, Qualifier="live")
    invoke(lam, name, {"action": "fail"}, Qualifier="live")
    invoke(lam, name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    call_error(lam.invoke, FunctionName=name, Qualifier="live", Payload=b"{}")
    status, headers, body = raw_request(endpoint, "GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    text = body.decode()
    alias_labels = f'function_name="{name}",resource="{name}:live",executed_version="1"'
    latest_labels = f'function_name="{name}",resource="{name}",executed_version="$LATEST"'
    assert f"lambda_invocations_total{{{alias_labels}}} 2" in text
    assert f"lambda_errors_total{{{alias_labels}}} 1" in text
    # botocore may retry a 429 once, so the server can see one or two throttled requests.
    throttles = re.search(re.escape(f"lambda_throttles_total{{{alias_labels}}} ") + r"(\d+)", text)
    assert throttles and int(throttles.group(1)) >= 1, text
    assert f"lambda_invocations_total{{{latest_labels}}} 1" in text
    assert f'lambda_duration_milliseconds_count{{{alias_labels}}} 2' in text
    assert f'lambda_duration_milliseconds_bucket{{{alias_labels},le="+Inf"}} 2' in text


def test_memory_size_caps_the_functions_memory(lam):
    name = unique("memory")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", MemorySize=128,
                        Code={"ZipFile": zip_of({"app.py": (
                            "def handler(event, context):\n"
                            "    block = bytearray(event['mb'] * 1024 * 1024)\n"
                            "    return len(block) // (1024 * 1024)\n")})})
    response, body = invoke(lam, name, {"mb": 32})
    assert body == 32
    response, body = invoke(lam, name, {"mb": 300})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "MemoryError"
    lam.update_function_configuration(FunctionName=name, MemorySize=512)
    response, body = invoke(lam, name, {"mb": 300})
    assert body == 300, "a larger MemorySize lifts the cap (the new configuration gets a new environment)"


def test_idle_environments_are_reaped(start_server):
    srv = start_server(None, "--idle-timeout", "1")
    lam = lambda_client(srv.base_url)
    name = unique("idle")
    create_python(lam, name)
    assert [invoke(lam, name)[1]["calls"] for _ in range(2)] == [1, 2]
    time.sleep(3)
    assert invoke(lam, name)[1]["calls"] == 1, "the warm environment was stopped after 1 s idle"


NODE_ESM = '''export const handler = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { style: "esm-async", event, requestId: context.awsRequestId, arn: context.invokedFunctionArn,
           name: context.functionName, version: context.functionVersion, memory: context.memoryLimitInMB,
           remaining: context.getRemainingTimeInMillis(), group: context.logGroupName };
};
'''

NODE_PROMISE = '''exports.handler = (event) => Promise.resolve({ style: "cjs-promise", n: event.n });
exports.fails = async () => { throw new TypeError("bad input"); };
'''


def test_node_esm_async_and_promise_handlers_with_a_context(lam):
    esm = unique("esm")
    lam.create_function(FunctionName=esm, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zip_of({"index.mjs": NODE_ESM})})
    response, body = invoke(lam, esm, {"a": 1})
    assert "FunctionError" not in response, body
    assert body["style"] == "esm-async" and body["event"] == {"a": 1}
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    assert body["arn"] == function_arn(esm) and body["name"] == esm and body["version"] == "$LATEST"
    assert body["memory"] == "128" and 0 < body["remaining"] <= 3000 and body["group"] == f"/aws/lambda/{esm}"

    promise = unique("promise")
    lam.create_function(FunctionName=promise, Runtime="nodejs18.x", Role=ROLE, Handler="lib/app.handler",
                        Code={"ZipFile": zip_of({"lib/app.js": NODE_PROMISE})})
    assert invoke(lam, promise, {"n": 7})[1] == {"style": "cjs-promise", "n": 7}
    lam.update_function_configuration(FunctionName=promise, Handler="lib/app.fails")
    response, body = invoke(lam, promise)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "bad input"


SCRATCH_APP = '''
import os, stat, time

def handler(event, context):
    time.sleep(event.get("hold", 0))
    root = os.environ["LAMBDA_TASK_ROOT"]
    tmp = os.environ["TMPDIR"]
    path = os.path.join(tmp, "note")
    with open(path, "a") as note:
        note.write("x")
    return {
        "code_mode": stat.S_IMODE(os.stat(os.path.join(root, "app.py")).st_mode),
        "root_mode": stat.S_IMODE(os.stat(root).st_mode),
        "tmp": tmp,
        "note_size": os.path.getsize(path),
        "cwd": os.getcwd() == root,
    }
'''


def test_code_is_read_only_and_each_environment_has_its_own_scratch_folder(lam):
    name = unique("scratch")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of({"app.py": SCRATCH_APP})})
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Two at once: two environments.
        both = list(pool.map(lambda _: invoke(lam, name, {"hold": 0.5})[1], range(2)))
    first = invoke(lam, name)[1]
    assert all(result["code_mode"] & 0o222 == 0 and result["root_mode"] & 0o222 == 0 for result in both)
    assert all(result["cwd"] for result in both)
    assert both[0]["tmp"] != both[1]["tmp"], "each environment has a private scratch folder"
    assert first["tmp"] in {both[0]["tmp"], both[1]["tmp"]} and first["note_size"] == 2, "it persists while warm"


HEADER_ONLY_ERRORS = r'''#!/bin/sh
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  HEADERS=$(mktemp)
  curl -sS -o /dev/null -D "$HEADERS" "$API/invocation/next"
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  curl -s -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \
    --data-binary "plain text, not json" "$API/invocation/$ID/error"
  rm -f "$HEADERS"
done
'''


def test_an_error_posted_without_a_json_body_takes_its_type_from_the_header(lam):
    name = unique("headererr")
    lam.create_function(FunctionName=name, Runtime="provided.al2", Role=ROLE, Handler="unused",
                        Code={"ZipFile": executable_zip({"bootstrap": HEADER_ONLY_ERRORS})})
    response, body = invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Custom.Failure", "errorMessage": "plain text, not json"}


def test_max_memory_used_follows_the_functions_peak(lam):
    """REPORT's Max Memory Used is the process's peak, also between the kernel's peak readings (which
    Aviary takes at most once a second): an allocation right after a small invocation still shows."""
    name = unique("maxmem")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", MemorySize=512,
                        Code={"ZipFile": zip_of({"app.py": (
                            "held = []\n"
                            "def handler(event, context):\n"
                            "    block = bytearray(event['mb'] * 1024 * 1024)\n"
                            "    held.append(block)\n"
                            "    return len(held)\n")})})

    def max_memory(mb: int) -> int:
        response = lam.invoke(FunctionName=name, Payload=json.dumps({"mb": mb}).encode(), LogType="Tail")
        log = base64.b64decode(response["LogResult"]).decode()
        report = next(line for line in log.splitlines() if line.startswith("REPORT"))
        return int(report.split("Max Memory Used: ", 1)[1].split(" MB", 1)[0])

    small = max_memory(1)
    assert 5 <= small < 100, small
    large = max_memory(120)   # within a second of the first reading: seen through the resident size
    assert large >= small + 115, (small, large)
    assert max_memory(0) >= large, "the peak never goes down"
