"""Authentication: `aviary serve --auth keys.json` with the real `aws` CLI, boto3 and plain HTTP.

The Lambda API takes SigV4 only (AWS's 403 errors otherwise); /v1 and /metrics take a bearer token or
SigV4 (401 otherwise); /health, function URLs and approval links stay open.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config

from aviary_harness import (HANDLER, HTTP_TIMEOUT, REGION, ROLE, RUNTIME, STARTUP_TIMEOUT, AwsCli, ServerProcess,
                            assert_cli_error, assert_error, aviary_bin, call_error, make_zip, raw_request, run_aviary,
                            unique)

KEYS = {
    "keys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "alice-secret-1234", "user": "alice"}],
    "tokens": [{"token": "ci-token-5678", "user": "ci-bot"}],
}
BEARER = {"Authorization": "Bearer ci-token-5678"}
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
                      "Secret Access Key and signing method. Consult the service documentation for details.")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth-server")
    keys = root / "keys.json"
    keys.write_text(json.dumps(KEYS))
    srv = ServerProcess(data_dir=root / "data", log_dir=root / "logs", extra_args=["--auth", str(keys)]).start()
    yield srv
    was_running = srv.running
    code = srv.stop()
    assert was_running and code == 0, f"auth server exited with {code}\n{srv.output()}"


@pytest.fixture
def as_alice(monkeypatch):
    """The `aws` CLI in this test signs with alice's key."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDALICE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "alice-secret-1234")


def signed_client(endpoint: str, key: str = "AKIDALICE", secret: str = "alice-secret-1234"):
    return boto3.client(
        "lambda", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=HTTP_TIMEOUT))


def audit_actors(endpoint: str, function: str) -> list[str]:
    status, _, body = raw_request(endpoint, "GET", f"/v1/audit?function={function}", headers=BEARER)
    assert status == 200, body
    return [entry["actor"] for entry in json.loads(body)["entries"]]


def test_the_aws_cli_with_a_configured_key_creates_and_lists_functions(auth_server, as_alice, tmp_path):
    cli = AwsCli(auth_server.base_url)
    name = unique("auth-cli")
    archive = tmp_path / "code.zip"
    archive.write_bytes(make_zip(name))
    created = cli.ok("create-function", "--function-name", name, "--runtime", RUNTIME, "--role", ROLE,
                     "--handler", HANDLER, "--zip-file", f"fileb://{archive}")
    assert created["FunctionName"] == name
    listed = cli.ok("list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    # An ARN in the path is signed double-encoded, as botocore does for every service but S3.
    arn = created["FunctionArn"]
    assert cli.ok("get-function-configuration", "--function-name", arn)["FunctionName"] == name
    assert audit_actors(auth_server.base_url, name) == ["alice"]


def test_the_aws_cli_with_a_wrong_secret_gets_invalid_signature(auth_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDALICE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-alices-secret")
    res = AwsCli(auth_server.base_url).run("list-functions")
    assert_cli_error(res, "InvalidSignatureException", "ListFunctions", SIGNATURE_MISMATCH)


def test_the_aws_cli_unsigned_gets_missing_authentication_token(auth_server):
    res = AwsCli(auth_server.base_url).run("list-functions", "--no-sign-request")
    assert_cli_error(res, "MissingAuthenticationTokenException", "ListFunctions", "Missing Authentication Token")


def test_the_aws_cli_with_an_unknown_key_gets_unrecognized_client(auth_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDMALLORY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "alice-secret-1234")
    res = AwsCli(auth_server.base_url).run("list-functions")
    assert_cli_error(res, "UnrecognizedClientException", "ListFunctions",
                     "The security token included in the request is invalid.")


def test_boto3_signed_invoke_works_and_a_wrong_key_is_refused(auth_server):
    lam = signed_client(auth_server.base_url)
    name = unique("auth-invoke")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER,
                        Code={"ZipFile": make_zip(name)}, Publish=True)
    resp = lam.invoke(FunctionName=name, Payload=b'{"hello": "world"}')
    assert resp["StatusCode"] == 200 and resp["Payload"].read() == b"1"
    err = call_error(signed_client(auth_server.base_url, secret="wrong").invoke, FunctionName=name, Payload=b"{}")
    assert_error(err, "InvalidSignatureException", 403, SIGNATURE_MISMATCH)
    assert audit_actors(auth_server.base_url, name) == ["alice"]
    # Unsigned, or signed and then given another body: refused before anything runs.
    path = f"/2015-03-31/functions/{name}/invocations"
    status, headers, _ = raw_request(auth_server.base_url, "POST", path, b"{}")
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = AWSRequest(method="POST", url=auth_server.base_url + path, data=b'{"n": 1}')
    SigV4Auth(Credentials("AKIDALICE", "alice-secret-1234"), "lambda", REGION).add_auth(signed)
    headers = {k: v for k, v in signed.headers.items()}
    status, _, body = raw_request(auth_server.base_url, "POST", path, b'{"n": 1}', headers=headers)
    assert status == 200 and body == b"1"
    status, headers, _ = raw_request(auth_server.base_url, "POST", path, b'{"n": 2}', headers=headers)
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


def test_the_code_location_is_a_presigned_link(auth_server):
    """GetFunction's Code.Location works without credentials, as AWS's presigned S3 URL does, and only as
    handed out."""
    lam = signed_client(auth_server.base_url)
    name = unique("auth-code")
    zip_bytes = make_zip(name)
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER, Code={"ZipFile": zip_bytes})
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    path = location[len(auth_server.base_url):]
    status, headers, body = raw_request(auth_server.base_url, "GET", path)
    assert status == 200 and body == zip_bytes and headers["content-type"] == "application/zip"
    status, _, _ = raw_request(auth_server.base_url, "GET", path.replace("Expires=", "Expires=1"))
    assert status == 403
    status, _, _ = raw_request(auth_server.base_url, "GET", path.split("?")[0])
    assert status == 401  # without the signature the route needs credentials, as all of /v1


def test_v1_and_metrics_take_a_bearer_token(auth_server):
    for path in ("/v1/audit", "/metrics"):
        status, headers, body = raw_request(auth_server.base_url, "GET", path)
        assert status == 401 and headers.get("www-authenticate") == "Bearer", (path, status, body)
        assert json.loads(body)["code"] == "Unauthorized"
        status, _, body = raw_request(auth_server.base_url, "GET", path, headers={"Authorization": "Bearer guess"})
        assert status == 401 and b"guess" not in body
        status, _, _ = raw_request(auth_server.base_url, "GET", path, headers=BEARER)
        assert status == 200, path


def test_the_aviary_cli_sends_aviary_token(auth_server, monkeypatch):
    monkeypatch.delenv("AVIARY_TOKEN", raising=False)
    refused = run_aviary("history", "--endpoint", auth_server.base_url)
    assert refused.returncode != 0, refused.describe()
    assert "AVIARY_TOKEN" in refused.stderr + refused.stdout, refused.describe()
    monkeypatch.setenv("AVIARY_TOKEN", "ci-token-5678")
    allowed = run_aviary("history", "--endpoint", auth_server.base_url)
    assert allowed.returncode == 0, allowed.describe()


def test_health_stays_open_and_only_configured_function_urls_exist(auth_server):
    """With --auth a function URL exists only once configured, as in Lambda: NONE is open to anyone,
    AWS_IAM needs a signature from one of the server's keys."""
    lam = signed_client(auth_server.base_url)
    name = unique("auth-url")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=HANDLER,
                        Code={"ZipFile": make_zip(name)}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="1")
    status, _, _ = raw_request(auth_server.base_url, "GET", "/health")
    assert status == 200
    path = f"/url/{name}/live/anything"
    status, _, _ = raw_request(auth_server.base_url, "GET", path)
    assert status == 404  # no URL configured: none exists
    lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    status, headers, body = raw_request(auth_server.base_url, "GET", path)
    assert status == 200 and headers.get("x-amz-executed-version") == "1", (status, body)
    lam.create_function_url_config(FunctionName=name, Qualifier="beta", AuthType="AWS_IAM")
    iam = f"/url/{name}/beta/anything"
    status, headers, _ = raw_request(auth_server.base_url, "POST", iam, b"{}")
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    signed = AWSRequest(method="POST", url=auth_server.base_url + iam, data=b"{}")
    SigV4Auth(Credentials("AKIDALICE", "alice-secret-1234"), "lambda", REGION).add_auth(signed)
    status, headers, body = raw_request(auth_server.base_url, "POST", iam, b"{}", headers=dict(signed.headers.items()))
    assert status == 200 and headers.get("x-amz-executed-version") == "1", (status, body)
    status, _, _ = raw_request(auth_server.base_url, "POST", iam, b'{"changed": 1}', headers=dict(signed.headers.items()))
    assert status == 403


def test_codedeploys_endpoint_takes_sigv4_from_the_aws_cli(auth_server, as_alice):
    base = [AwsCli(auth_server.base_url).exe, "--endpoint-url", auth_server.base_url, "--region", REGION, "deploy",
            "put-lifecycle-event-hook-execution-status", "--deployment-id", "d-NOPE12345",
            "--lifecycle-event-hook-execution-id", "x", "--status", "Succeeded"]
    unsigned = subprocess.run(base + ["--no-sign-request"], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    assert unsigned.returncode != 0 and "(MissingAuthenticationTokenException)" in unsigned.stderr, unsigned.stderr
    signed = subprocess.run(base, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    # Past authentication: the engine answers for the unknown deployment.
    assert signed.returncode != 0 and "Exception)" in signed.stderr, signed.stderr
    assert "Signature" not in signed.stderr and "Authentication" not in signed.stderr, signed.stderr


def test_an_open_api_is_refused_on_all_interfaces_unless_insecure(tmp_path):
    base = [str(aviary_bin()), "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "data")]
    env = {k: v for k, v in os.environ.items() if k not in ("AVIARY_AUTH", "AVIARY_INSECURE", "AVIARY_HOST")}
    refused = subprocess.run(base, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, env=env)
    assert refused.returncode != 0
    assert "refusing to listen on 0.0.0.0 without authentication" in refused.stderr, refused.stderr
    assert "--insecure" in refused.stderr

    proc = subprocess.Popen(base + ["--insecure"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, text=True, env=env, start_new_session=True)
    lines: list[str] = []
    # A reader thread, so that a server that never prints fails the test instead of hanging it.
    def read() -> None:
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and "Start with --auth" not in "".join(lines) and proc.poll() is None:
            time.sleep(0.05)
        banner = "".join(lines)
        port = re.search(r"listening on http://0\.0\.0\.0:(\d+)", banner)
        assert port, f"no banner from aviary serve --insecure:\n{banner}"
        assert "WARNING     the API is unauthenticated" in banner
        status, _, _ = raw_request(f"http://127.0.0.1:{port.group(1)}", "GET", "/health")
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    assert proc.returncode == 0
