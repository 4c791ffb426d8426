"""Function URLs: plain HTTP (curl) to /url/{function}/{alias}/… runs the function with an HTTP API v2 event."""

from __future__ import annotations

import io
import json
import math
import subprocess
import zipfile

from aviary_harness import ROLE, assert_cli_error, function_arn, raw_request, unique

APP = '''
import json, base64

def handler(event, context):
    path = event["rawPath"]
    if path == "/plain":
        return {"hello": "plain", "version": context.function_version}
    if path == "/fail":
        raise RuntimeError("nope")
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Handled-By": context.function_version},
        "cookies": ["session=abc; Path=/"],
        "body": json.dumps({"event": event, "version": context.function_version, "marker": MARKER}),
    }
'''


def app_zip(marker: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), APP.replace("MARKER", repr(marker)))
    return buf.getvalue()


def deploy(lam) -> str:
    name = unique("url")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": app_zip("one")}, Publish=True)
    lam.update_function_code(FunctionName=name, ZipFile=app_zip("two"), Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def test_a_request_becomes_an_http_api_v2_event_and_the_result_the_response(lam, endpoint):
    name = deploy(lam)
    status, headers, body = raw_request(
        endpoint, "POST", f"/url/{name}/live/orders/42?expand=items&expand=total&x=1", b'{"qty": 3}',
        {"Content-Type": "application/json", "Cookie": "a=1; b=2", "X-Custom": "yes"})
    assert status == 201
    assert headers["content-type"] == "application/json"
    assert headers["x-amz-executed-version"] == "1" == headers["x-handled-by"]
    assert headers["set-cookie"] == "session=abc; Path=/"
    result = json.loads(body)
    event = result["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/orders/42"
    assert event["rawQueryString"] == "expand=items&expand=total&x=1"
    assert event["queryStringParameters"] == {"expand": "items,total", "x": "1"}
    assert event["headers"]["x-custom"] == "yes"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["body"] == '{"qty": 3}' and event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert http == {**http, "method": "POST", "path": "/orders/42", "sourceIp": "127.0.0.1"}
    assert event["requestContext"]["accountId"] == "123456789012"


def test_bare_values_errors_and_unknown_targets(lam, endpoint):
    name = deploy(lam)
    status, headers, body = raw_request(endpoint, "GET", f"/url/{name}/2/plain")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"hello": "plain", "version": "2"}
    status, _, body = raw_request(endpoint, "GET", f"/url/{name}/live/fail")
    assert status == 502 and json.loads(body) == {"message": "Internal Server Error"}
    status, _, _ = raw_request(endpoint, "GET", f"/url/{name}/nope/plain")
    assert status == 404
    status, _, _ = raw_request(endpoint, "GET", f"/url/{unique('ghost')}/live")
    assert status == 404


def test_curl_in_a_loop_shows_the_canary_mix(lam, endpoint):
    name = deploy(lam)
    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    versions = []
    for _ in range(60):
        out = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", f"{endpoint}/url/{name}/live/plain"],
                             capture_output=True, text=True, timeout=30)
        line = next(l for l in out.stdout.splitlines() if l.lower().startswith("x-amz-executed-version:"))
        versions.append(line.split(":", 1)[1].strip())
    share = versions.count("2") / len(versions)
    assert set(versions) == {"1", "2"}
    assert abs(share - 0.5) <= 4.5 * math.sqrt(0.25 / len(versions)), versions


def test_url_configurations_through_the_aws_cli(cli, lam, endpoint):
    """create/get/update/list/delete-function-url-config as the real CLI sends them, with Lambda's errors."""
    name = deploy(lam)
    created = cli.ok("create-function-url-config", "--function-name", name, "--auth-type", "NONE",
                     "--cors", "AllowOrigins=https://shop.example,AllowMethods=GET,POST,MaxAge=300")
    host = endpoint.replace("http://", "")
    assert created["FunctionUrl"] == f"http://{host}/url/{name}/$LATEST/"
    assert created["FunctionArn"] == function_arn(name)
    assert created["AuthType"] == "NONE" and created["InvokeMode"] == "BUFFERED"
    assert created["Cors"] == {"AllowOrigins": ["https://shop.example"], "AllowMethods": ["GET", "POST"], "MaxAge": 300}
    assert "LastModifiedTime" not in created
    live = cli.ok("create-function-url-config", "--function-name", name, "--qualifier", "live", "--auth-type", "AWS_IAM")
    assert live["FunctionUrl"] == f"http://{host}/url/{name}/live/"
    assert live["FunctionArn"] == function_arn(name, "live")
    # one per target
    assert_cli_error(cli.fail("create-function-url-config", "--function-name", name, "--auth-type", "NONE"),
                     "ResourceConflictException", "CreateFunctionUrlConfig",
                     f"Failed to create function url config for [functionArn = {function_arn(name)}]. Error message:  "
                     "FunctionUrlConfig exists for this Lambda function")
    got = cli.ok("get-function-url-config", "--function-name", name, "--qualifier", "live")
    assert got["AuthType"] == "AWS_IAM" and got["LastModifiedTime"] >= got["CreationTime"]
    updated = cli.ok("update-function-url-config", "--function-name", name, "--qualifier", "live", "--auth-type", "NONE")
    assert updated["AuthType"] == "NONE"
    listed = cli.ok("list-function-url-configs", "--function-name", name)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"].rsplit("/", 2)[1] for c in listed] == ["$LATEST", "live"]
    # what Lambda refuses
    for args, code in [
        (("--qualifier", "1"), "ValidationException"),
        (("--qualifier", "nope"), "ResourceNotFoundException"),
        (("--invoke-mode", "RESPONSE_STREAM"), "InvalidParameterValueException"),
        (("--cors", "AllowMethods=TRACE"), "InvalidParameterValueException"),
    ]:
        res = cli.fail("create-function-url-config", "--function-name", name, "--auth-type", "NONE", *args)
        assert f"({code})" in res.stderr, res.describe()
    res = cli.fail("create-function-url-config", "--function-name", name, "--auth-type", "PUBLIC")
    assert res.returncode != 0
    cli.ok("delete-function-url-config", "--function-name", name, "--qualifier", "live")
    assert_cli_error(cli.fail("get-function-url-config", "--function-name", name, "--qualifier", "live"),
                     "ResourceNotFoundException", "GetFunctionUrlConfig", "The resource you requested does not exist.")
    # a deleted alias takes its URL with it
    cli.ok("create-function-url-config", "--function-name", name, "--qualifier", "live", "--auth-type", "NONE")
    lam.delete_alias(FunctionName=name, Name="live")
    assert [c["FunctionArn"] for c in cli.ok("list-function-url-configs", "--function-name", name)["FunctionUrlConfigs"]] \
        == [function_arn(name)]


def test_cors_preflights_are_answered_and_responses_carry_the_allowed_origin(lam, endpoint):
    name = deploy(lam)
    lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE",
                                   Cors={"AllowOrigins": ["https://shop.example"], "AllowMethods": ["GET", "POST"],
                                         "AllowHeaders": ["x-token"], "ExposeHeaders": ["x-trace"], "MaxAge": 600,
                                         "AllowCredentials": True})
    status, headers, body = raw_request(endpoint, "OPTIONS", f"/url/{name}/live/cart", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == "https://shop.example"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-allow-headers"] == "x-token"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-credentials"] == "true"
    assert "x-amz-executed-version" not in headers  # answered without running the function
    status, headers, _ = raw_request(endpoint, "GET", f"/url/{name}/live/cart", headers={"Origin": "https://shop.example"})
    assert status == 201 and headers["x-amz-executed-version"] == "1"
    assert headers["access-control-allow-origin"] == "https://shop.example"
    assert headers["access-control-expose-headers"] == "x-trace"
    status, headers, _ = raw_request(endpoint, "GET", f"/url/{name}/live/cart", headers={"Origin": "https://evil.example"})
    assert status == 201 and "access-control-allow-origin" not in headers
