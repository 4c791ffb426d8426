"""Function URLs: plain HTTP (curl) to /url/{function}/{alias}/… runs the function with an HTTP API v2 event."""

from __future__ import annotations

import io
import json
import math
import subprocess
import zipfile

from aviary_harness import ROLE, raw_request, unique

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
