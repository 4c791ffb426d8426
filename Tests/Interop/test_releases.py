"""Releases: `aviary deploy template.yaml` moves every changed function of a SAM application as one
canary, rolls back all of it when one function fails, and `aviary rollback APP --to N` puts every alias
back at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aviary_harness import (
    Traffic, api, get_deployment, history_text, kill_hard, lambda_client, raw_request, run_aviary, stop_cleanly, unique,
    wait_finished,
    wait_status,
)

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: a three-function shop
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 10
    AutoPublishAlias: live
    DeploymentPreference:
      Type: AllAtOnce
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-orders"
      CodeUri: orders/
  UsersFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-users"
      CodeUri: users/
  CartsFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-carts"
      CodeUri: carts/
  OrdersTable:
    Type: AWS::DynamoDB::Table
"""

APP = """\
import os
MODE = {mode!r}

def handler(event, context):
    if MODE == "fail":
        raise RuntimeError("this version always fails")
    return {{"version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "mode": MODE, "greeting": os.environ["GREETING"]}}
"""


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def write_app(root: Path, modes: dict[str, str], template: str = TEMPLATE) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "template.yaml").write_text(template)
    for name, mode in modes.items():
        (root / name).mkdir(exist_ok=True)
        (root / name / "app.py").write_text(APP.format(mode=mode))
    return root / "template.yaml"


def deploy(srv, template: Path, app: str, *args: str, timeout: float = 90):
    return run_aviary("deploy", str(template), "--app", app, "--endpoint", srv.base_url, *args, timeout=timeout)


def aliases(lam, app: str) -> dict[str, str]:
    out = {}
    for name in ("orders", "users", "carts"):
        got = lam.get_alias(FunctionName=f"{app}-{name}", Name="live")
        out[name] = got["FunctionVersion"] + (f"+{got['RoutingConfig']['AdditionalVersionWeights']}" if got.get("RoutingConfig") else "")
    return out


def versions(lam, function: str) -> list[str]:
    return [v["Version"] for v in lam.list_versions_by_function(FunctionName=function)["Versions"]]


def releases(srv, app: str) -> list[dict]:
    status, out = api(srv.base_url, "GET", f"/v1/applications/{app}/releases")
    assert status == 200, out
    return out["releases"]


def test_the_first_deploy_records_release_1_and_an_unchanged_second_deploy_publishes_nothing(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    template = write_app(tmp_path / "shop", {"orders": "good", "users": "good", "carts": "good"})
    first = deploy(srv, template, app)
    assert first.returncode == 0, first.describe()
    assert "not deployed by Aviary" in first.stdout and "OrdersTable" in first.stdout, first.stdout
    assert f"recorded release 1 of {app}" in first.stdout, first.stdout
    assert aliases(lam, app) == {"orders": "1", "users": "1", "carts": "1"}
    out = lam.invoke(FunctionName=f"{app}-orders", Qualifier="live", Payload=b"{}")
    assert out["Payload"].read() == b'{"version": "1", "mode": "good", "greeting": "hello"}'

    second = deploy(srv, template, app)
    assert second.returncode == 0, second.describe()
    assert "nothing to release" in second.stdout, second.stdout
    for name in ("orders", "users", "carts"):
        assert versions(lam, f"{app}-{name}") == ["$LATEST", "1"], name
    assert [r["release"]["number"] for r in releases(srv, app)] == [1]

    # A parameter override changes every function's configuration: all three move, as one release.
    third = deploy(srv, template, app, "--parameter-overrides", "Greeting=bonjour", "--wait")
    assert third.returncode == 0, third.describe()
    assert f"release 2 of {app}" in third.stdout and "by AllAtOnce" in third.stdout, third.stdout
    assert aliases(lam, app) == {"orders": "2", "users": "2", "carts": "2"}
    out = lam.invoke(FunctionName=f"{app}-users", Qualifier="live", Payload=b"{}")
    assert b'"greeting": "bonjour"' in out["Payload"].read()


def test_one_failing_function_rolls_the_whole_release_back(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    root = tmp_path / "shop"
    template = write_app(root, {"orders": "good", "users": "good", "carts": "good"})
    assert deploy(srv, template, app).returncode == 0
    write_app(root, {"orders": "better", "users": "fail"})

    with Traffic(srv.base_url, f"{app}-users", rate=40) as users_traffic, Traffic(srv.base_url, f"{app}-orders", rate=20):
        result = deploy(srv, template, app, "--strategy", "canary:20%:30s", "--prewarm", "0", "--wait")
    assert result.returncode == 1, result.describe()
    assert f"release 2 of {app}" in result.stdout and f"{app}-orders v1 → v2" in result.stdout, result.stdout
    assert "RolledBack" in result.stdout and f"{app}-users" in result.stdout, result.stdout
    # orders was healthy, and still goes back with the rest; carts never moved.
    assert aliases(lam, app) == {"orders": "1", "users": "1", "carts": "1"}
    assert versions(lam, f"{app}-orders") == ["$LATEST", "1", "2"] and versions(lam, f"{app}-carts") == ["$LATEST", "1"]
    assert any(c.version == "2" for c in users_traffic.snapshot()), users_traffic.summary()

    listed = releases(srv, app)
    assert [(r["release"]["number"], r["status"]) for r in listed] == [(2, "RolledBack"), (1, "Succeeded")], listed
    assert [f["function"] for f in listed[0]["release"]["functions"]] == [f"{app}-orders", f"{app}-users"]
    assert {m["function"]: m["version"] for m in listed[0]["release"]["manifest"]} == {
        f"{app}-orders": "2", f"{app}-users": "2", f"{app}-carts": "1"}
    status, audit = api(srv.base_url, "GET", f"/v1/audit?deployment={listed[0]['id']}&limit=100")
    decisions = [e for e in audit["entries"] if e["action"] == "deployment.rolledBack"]
    assert len(decisions) == 1 and decisions[0]["details"]["application"] == app, decisions


def test_rollback_to_an_earlier_release_repoints_every_alias_at_once(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    root = tmp_path / "shop"
    template = write_app(root, {"orders": "good", "users": "good", "carts": "good"})
    assert deploy(srv, template, app).returncode == 0
    write_app(root, {"orders": "v2", "users": "v2", "carts": "v2"})
    assert deploy(srv, template, app, "--wait").returncode == 0
    assert aliases(lam, app) == {"orders": "2", "users": "2", "carts": "2"}

    back = run_aviary("rollback", app, "--to", "1", "--reason", "incident 42", "--endpoint", srv.base_url)
    assert back.returncode == 0, back.describe()
    assert "restored release 1" in back.stdout and "recorded as release 3" in back.stdout, back.stdout
    assert aliases(lam, app) == {"orders": "1", "users": "1", "carts": "1"}
    again = run_aviary("rollback", app, "--to", "1", "--endpoint", srv.base_url)
    assert again.returncode == 0 and "already points to release 1" in again.stdout, again.describe()

    listing = run_aviary("releases", app, "--manifest", "--endpoint", srv.base_url)
    assert listing.returncode == 0, listing.describe()
    assert listing.stdout.index("#3") < listing.stdout.index("#2") < listing.stdout.index("#1"), listing.stdout
    assert f"{app}-carts:live → 1" in listing.stdout

    bad = run_aviary("rollback", app, "--to", "9", "--endpoint", srv.base_url)
    assert bad.returncode == 1 and "no release 9" in bad.stderr, bad.describe()


def test_dry_run_prints_the_plan_and_changes_nothing(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    root = tmp_path / "shop"
    template = write_app(root, {"orders": "good", "users": "good", "carts": "good"})
    assert deploy(srv, template, app).returncode == 0
    write_app(root, {"users": "v2"})
    plan = deploy(srv, template, app, "--dry-run", "--strategy", "linear:25%:2m", "--env", "prod")
    assert plan.returncode == 0, plan.describe()
    lines = plan.stdout
    assert f"{app}-users" in lines and "code changed" in lines, lines
    assert f"{app}-orders" in lines and "unchanged" in lines, lines
    assert "release: 1 alias together by linear:25%:2m (25% for 2m, 50% for 2m, 75% for 2m, then 100%)" in lines, lines
    assert "earliest promotion: 6m after the start, plus the wait for approval" in lines, lines
    assert f"aviary rollback {app} --to <release>" in lines, lines
    assert versions(lam, f"{app}-users") == ["$LATEST", "1"], "a dry run publishes nothing"
    assert [r["release"]["number"] for r in releases(srv, app)] == [1]


@pytest.mark.parametrize("change, needle", [
    (("      CodeUri: carts/\n", ""), "CartsFunction"),
    (("    Runtime: python3.12\n", "    Runtime: cobol9\n"), "cobol9"),
    (("      Type: AllAtOnce\n", "      Type: Sometimes\n"), "Sometimes"),
], ids=["missing-codeuri", "unknown-runtime", "bad-deployment-preference"])
def test_template_errors_name_the_resource_and_change_nothing(srv, tmp_path, change, needle):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    template = write_app(tmp_path / "shop", {"orders": "good", "users": "good", "carts": "good"},
                         TEMPLATE.replace(*change))
    result = deploy(srv, template, app)
    assert result.returncode == 2, result.describe()
    assert needle in result.stderr, result.stderr
    assert lam.list_functions()["Functions"] == [] or all(not f["FunctionName"].startswith(app) for f in lam.list_functions()["Functions"])


def test_a_release_interrupted_by_a_crash_resumes_after_restart(start_server, tmp_path):
    srv = start_server()
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    root = tmp_path / "shop"
    template = write_app(root, {"orders": "good", "users": "good", "carts": "good"})
    assert deploy(srv, template, app).returncode == 0
    write_app(root, {"orders": "v2", "users": "v2", "carts": "v2"})
    started = deploy(srv, template, app, "--strategy", "canary:30%:4s", "--min-invocations", "0", "--prewarm", "0")
    assert started.returncode == 0, started.describe()
    release_id = re.search(r"\((d-[A-Z0-9]{9})\)", started.stdout).group(1)
    wait_status(srv.base_url, release_id, "Shifting", timeout=15)
    assert set(aliases(lam, app).values()) == {"1+{'2': 0.3}"}

    kill_hard(srv)
    srv = start_server(srv.data_dir)
    try:
        lam = lambda_client(srv.base_url)
        done = wait_finished(srv.base_url, release_id, timeout=30, server=srv)
        assert done["status"] == "Succeeded", history_text(done)
        assert "server restarted" in history_text(done)
        assert aliases(lam, app) == {"orders": "2", "users": "2", "carts": "2"}
    finally:
        stop_cleanly(srv)


def test_a_template_deploys_to_a_server_that_requires_signatures(start_server, tmp_path):
    import json
    import os
    import subprocess

    from aviary_harness import aviary_bin

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({
        "keys": [{"accessKeyId": "AKIARELEASETEST0001", "secretAccessKey": "release-secret-0001", "user": "ci"}],
        "tokens": [{"token": "release-token-0001-abcdefghijklmnop", "user": "ci"}],
    }))
    srv = start_server(None, "--auth", str(keys))
    try:
        app = unique("shop")
        template = write_app(tmp_path / "shop", {"orders": "good", "users": "good", "carts": "good"},
                             TEMPLATE.replace("      CodeUri: carts/\n", "      CodeUri: carts/\n"
                                              "      FunctionUrlConfig:\n        AuthType: NONE\n"))
        base = {k: v for k, v in os.environ.items() if k not in ("AVIARY_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        argv = [str(aviary_bin()), "deploy", str(template), "--app", app, "--endpoint", srv.base_url]

        unsigned = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                  env={**base, "AVIARY_TOKEN": "release-token-0001-abcdefghijklmnop"})
        assert unsigned.returncode == 1, unsigned
        assert "MissingAuthenticationTokenException" in unsigned.stderr and "set AWS_ACCESS_KEY_ID" in unsigned.stderr, unsigned.stderr

        signed = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={
            **base, "AVIARY_TOKEN": "release-token-0001-abcdefghijklmnop",
            "AWS_ACCESS_KEY_ID": "AKIARELEASETEST0001", "AWS_SECRET_ACCESS_KEY": "release-secret-0001"})
        assert signed.returncode == 0, signed
        assert f"recorded release 1 of {app}" in signed.stdout, signed.stdout
        # the URL configuration was made with signed calls (a query in the signature): the URL now exists
        assert f"{app}-carts:live: URL http://" in signed.stdout, signed.stdout
        status, headers, _ = raw_request(srv.base_url, "GET", f"/url/{app}-carts/live/x")
        assert status == 200 and headers["x-amz-executed-version"] == "1"
        status, _, _ = raw_request(srv.base_url, "GET", f"/url/{app}-orders/live/x")
        assert status == 404  # not configured
        status, out = api(srv.base_url, "GET", f"/v1/applications/{app}/releases")
        assert status == 401, "the release list needs the token too"
    finally:
        stop_cleanly(srv)


def test_a_release_to_a_gated_environment_holds_every_alias_until_one_approval(srv, tmp_path):
    import urllib.parse

    from aviary_harness import raw_request

    lam = lambda_client(srv.base_url)
    app = unique("shop")
    root = tmp_path / "shop"
    template = write_app(root, {"orders": "good", "users": "good", "carts": "good"})
    assert deploy(srv, template, app).returncode == 0
    write_app(root, {"orders": "v2", "users": "v2"})
    status, _ = api(srv.base_url, "PUT", "/v1/environments/prod", {"canaryWeight": 0.25})
    assert status == 200
    started = deploy(srv, template, app, "--env", "prod", "--strategy", "canary:10%:1s", "--min-invocations", "0", "--prewarm", "0")
    assert started.returncode == 0, started.describe()
    release_id = re.search(r"\((d-[A-Z0-9]{9})\)", started.stdout).group(1)
    waiting = wait_status(srv.base_url, release_id, "AwaitingApproval", timeout=15)
    assert aliases(lam, app) == {"orders": "1+{'2': 0.25}", "users": "1+{'2': 0.25}", "carts": "1"}
    links = waiting["approval"]["links"]

    status, _, page = raw_request(srv.base_url, "GET", urllib.parse.urlsplit(links["approve"]).path)
    assert status == 200 and app.encode() in page
    form = urllib.parse.urlencode({"name": "release-manager"})
    status, _, page = raw_request(srv.base_url, "POST", urllib.parse.urlsplit(links["approve"]).path, form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, page
    done = wait_finished(srv.base_url, release_id, timeout=20)
    assert done["status"] == "Succeeded", history_text(done)
    assert aliases(lam, app) == {"orders": "2", "users": "2", "carts": "1"}
    status, audit = api(srv.base_url, "GET", f"/v1/audit?deployment={release_id}&limit=100")
    approvals = [e for e in audit["entries"] if e["action"] == "deployment.approved"]
    assert len(approvals) == 1 and approvals[0]["actor"] == "release-manager", approvals


def test_function_url_configs_from_the_template_are_created_then_kept_in_step(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    url = "      FunctionUrlConfig:\n        AuthType: NONE\n        Cors:\n          AllowOrigins: [https://shop.example]\n"
    template = TEMPLATE.replace("      CodeUri: orders/\n", "      CodeUri: orders/\n" + url)
    path = write_app(tmp_path / "shop", {"orders": "good", "users": "good", "carts": "good"}, template)
    first = deploy(srv, path, app)
    assert first.returncode == 0, first.describe()
    assert f"{app}-orders:live: URL http://" in first.stdout, first.stdout
    config = lam.get_function_url_config(FunctionName=f"{app}-orders", Qualifier="live")
    assert config["AuthType"] == "NONE" and config["Cors"] == {"AllowOrigins": ["https://shop.example"]}
    assert lam.list_function_url_configs(FunctionName=f"{app}-users")["FunctionUrlConfigs"] == []
    again = deploy(srv, path, app)
    assert again.returncode == 0 and "URL" not in again.stdout, again.stdout
    path.write_text(template.replace("https://shop.example", "https://www.shop.example"))
    changed = deploy(srv, path, app)
    assert changed.returncode == 0, changed.describe()
    assert f"{app}-orders:live: URL configuration updated" in changed.stdout, changed.stdout
    config = lam.get_function_url_config(FunctionName=f"{app}-orders", Qualifier="live")
    assert config["Cors"] == {"AllowOrigins": ["https://www.shop.example"]}
    status, headers, _ = raw_request(srv.base_url, "GET", f"/url/{app}-orders/live/x", headers={"Origin": "https://www.shop.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://www.shop.example"


def test_event_invoke_configs_from_the_template_are_put_on_the_alias(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    app = unique("shop")
    settings = ("      EventInvokeConfig:\n        MaximumRetryAttempts: 0\n        DestinationConfig:\n"
                "          OnFailure:\n            Type: Lambda\n            Destination: !GetAtt UsersFunction.Arn\n")
    template = TEMPLATE.replace("      CodeUri: orders/\n", "      CodeUri: orders/\n" + settings)
    path = write_app(tmp_path / "shop", {"orders": "good", "users": "good", "carts": "good"}, template)
    first = deploy(srv, path, app)
    assert first.returncode == 0, first.describe()
    assert f"{app}-orders:live: asynchronous invocation settings put" in first.stdout, first.stdout
    config = lam.get_function_event_invoke_config(FunctionName=f"{app}-orders", Qualifier="live")
    assert config["MaximumRetryAttempts"] == 0
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == \
        lam.get_function(FunctionName=f"{app}-users")["Configuration"]["FunctionArn"]
    again = deploy(srv, path, app)
    assert again.returncode == 0 and "asynchronous invocation settings" not in again.stdout, again.stdout
