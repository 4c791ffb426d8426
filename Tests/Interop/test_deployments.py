"""Deployments end to end: real servers, real Python functions, real traffic over HTTP.

Each test runs its own `aviary serve`; the versions under deployment are the DEPLOY_APP of the harness
("good", "fail", "flaky", "slow"), and a Traffic thread pool invokes the alias at a steady rate while the
deployment runs.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from aviary_harness import (
    Traffic, api, deploy_app_zip, fresh_calls, function_for_deployment, history_text,
    lambda_client, raw_request, start_deployment, stop_cleanly, unique, wait_deployment, wait_finished,
)

DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def alias_state(lam, name: str, alias: str = "live") -> tuple[str, dict | None]:
    got = lam.get_alias(FunctionName=name, Name=alias)
    return got["FunctionVersion"], got.get("RoutingConfig")


def failed_calls(calls) -> list:
    return [c for c in calls if c.status != 200 or c.function_error or c.error]


# --------------------------------------------------------------------------------------------------
# Health decides
# --------------------------------------------------------------------------------------------------


def test_a_good_canary_promotes_under_traffic(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-good")
    function_for_deployment(lam, name, "good", "good")
    with Traffic(srv.base_url, name, rate=25) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 5, 10, "first calls")
        created = start_deployment(
            srv.base_url, function=name, alias="live", targetVersion="2", strategy="canary:20%:2s",
            health={"minimumInvocations": 3}, description="good canary", metadata={"commit": "3f2c1a9"}, actor="ci")
        dep_id = created["id"]
        assert DEPLOYMENT_ID.match(dep_id), created
        assert created["status"] in ("Created", "Shifting"), created
        assert (created["function"], created["alias"], created["currentVersion"], created["targetVersion"]) == (
            name, "live", "1", "2")
        assert created["strategy"] == {"name": "canary:20%:2s", "steps": [{"weight": 0.2, "duration": "2s"}],
                                       "promotionAfter": "2s"}
        assert created["health"]["minimumInvocations"] == 3
        assert created["description"] == "good canary" and created["metadata"] == {"commit": "3f2c1a9"}
        assert created["history"][0]["by"] == "ci"
        assert TIMESTAMP.match(created["createdAt"]), created["createdAt"]

        shifting = wait_deployment(srv.base_url, dep_id, lambda d: d["status"] == "Shifting", 15, "Shifting",
                                   server=srv)
        assert (shifting["weight"], shifting["step"], shifting["steps"]) == (0.2, 1, 1), shifting
        assert TIMESTAMP.match(shifting["nextTransitionAt"]), shifting
        assert "live" in shifting["health"], "an active deployment shows its live health"
        version, routing = alias_state(lam, name)
        # The 2 s step may just have ended; otherwise the alias is weighted 20% to version 2.
        assert (version, routing) in (("1", {"AdditionalVersionWeights": {"2": 0.2}}), ("2", None)), (version, routing)

        done = wait_finished(srv.base_url, dep_id, timeout=30, server=srv)
        done_at = time.monotonic()
        calls = traffic.wait_for(lambda calls: len(fresh_calls(calls, done_at)) >= 5, 10, "calls after promotion")

    assert done["status"] == "Succeeded", history_text(done)
    assert done["outcome"]["cause"] == "Promoted", done["outcome"]
    assert done["outcome"]["message"] == "live now points to version 2"
    assert (done["weight"], done["step"], done["paused"]) == (1, 2, False), done
    assert "live" not in done["health"], "a finished deployment has no live health"
    messages = [h["message"] for h in done["history"]]
    assert "step 1/1: 20% to version 2 for 2s" in messages, messages
    assert "promoted: live → 2" in messages and messages[-1] == "succeeded", messages
    assert done["history"][-1]["status"] == "Succeeded"

    # The alias ends on the new version with no routing left behind.
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "2"
    assert "RoutingConfig" not in got, got

    # Clients: every request answered 200 without error, both versions served during the deployment,
    # the body came from the version the header names, and only version 2 after promotion.
    assert not failed_calls(calls), traffic.summary()
    assert {c.version for c in calls} == {"1", "2"}, traffic.summary()
    for c in calls:
        assert json.loads(c.body) == {"version": c.version, "mode": "good"}
    assert {c.version for c in fresh_calls(calls, done_at)} == {"2"}, traffic.summary()

    # The list shows it, finished.
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}")
    assert status == 200 and [d["id"] for d in page["deployments"]] == [dep_id], page
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}&status=active")
    assert status == 200 and page["deployments"] == [], page


def test_an_always_failing_version_rolls_back_after_a_handful_of_errors(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-fail")
    function_for_deployment(lam, name, "good", "fail")
    with Traffic(srv.base_url, name, rate=30) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 5, 10, "first calls")
        # A minute-long step: only the health checks can end this deployment within the test.
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2,
                               strategy="canary:10%:60s")
        done = wait_finished(srv.base_url, dep["id"], timeout=40, server=srv)
        done_at = time.monotonic()
        calls = traffic.wait_for(lambda calls: len(fresh_calls(calls, done_at)) >= 10, 10, "calls after rollback")

    assert done["status"] == "RolledBack", history_text(done)
    outcome = done["outcome"]
    assert outcome["cause"] == "HealthCheck", outcome
    assert outcome.get("by") is None, outcome
    report = outcome["report"]
    assert report["finding"]["check"] in ("comparison", "error-rate>=50%@1m"), report
    assert report["target"]["errors"] >= 1 and report["current"]["errors"] == 0, report
    assert outcome["message"].startswith(report["finding"]["check"] + ": "), outcome
    assert (done["weight"], done["history"][-1]["status"]) == (0, "RolledBack"), done
    assert done["history"][-1]["message"].startswith("rolled back to version 1: "), history_text(done)

    assert alias_state(lam, name) == ("1", None)
    failures = failed_calls(calls)
    assert all(c.version == "2" and c.function_error == "Unhandled" for c in failures), traffic.summary()
    assert 1 <= len(failures) <= 5, f"{len(failures)} failed responses reached clients: {traffic.summary()}"
    after = fresh_calls(calls, done_at)
    assert {c.version for c in after} == {"1"} and not failed_calls(after), traffic.summary()


def test_a_version_failing_one_request_in_ten_is_caught_by_the_comparison(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-flaky")
    function_for_deployment(lam, name, "good", "flaky")
    with Traffic(srv.base_url, name, rate=40, workers=6) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 5, 10, "first calls")
        started = time.monotonic()
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2,
                               strategy="canary:30%:60s")
        # The step lasts 60 s: ending before that means health ended it.
        done = wait_finished(srv.base_url, dep["id"], timeout=58, server=srv)
        elapsed = time.monotonic() - started
    calls = traffic.snapshot()

    assert done["status"] == "RolledBack", f"{history_text(done)}\n{traffic.summary()}"
    report = done["outcome"]["report"]
    assert done["outcome"]["cause"] == "HealthCheck", done["outcome"]
    assert report["finding"]["check"] == "comparison", report
    assert "fails more often than the old one" in report["finding"]["detail"], report
    assert report["current"]["errors"] == 0 and report["target"]["errors"] >= 1, report
    canary_served = sum(1 for c in calls if c.version == "2")
    assert report["target"]["invocations"] <= 500, report
    assert canary_served <= 500, f"the canary served {canary_served} requests before the rollback"
    assert elapsed < 58
    assert alias_state(lam, name) == ("1", None)


def test_a_slow_version_breaks_a_p99_rule_and_rolls_back(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-slow")
    function_for_deployment(lam, name, "good", "slow", Timeout=5)
    with Traffic(srv.base_url, name, rate=10, workers=6) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 3, 10, "first calls")
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2,
                               strategy="canary:50%:60s", health={"rules": ["p99>=300ms@10s,min=5"]})
        assert dep["health"]["rules"] == ["p99>=300ms@10s,min=5"], dep["health"]
        done = wait_finished(srv.base_url, dep["id"], timeout=40, server=srv)
    calls = traffic.snapshot()

    assert done["status"] == "RolledBack", history_text(done)
    outcome = done["outcome"]
    assert outcome["cause"] == "HealthCheck", outcome
    finding = outcome["report"]["finding"]
    assert "p99" in finding["check"], finding
    assert finding["check"] == "p99>=300ms@10s,min=5", finding
    assert "breached p99 ≥ 300ms" in finding["detail"], finding
    assert outcome["report"]["target"]["p99Milliseconds"] >= 300, outcome["report"]
    assert outcome["report"]["current"]["p99Milliseconds"] < 300, outcome["report"]
    assert "p99" in outcome["message"], outcome
    assert alias_state(lam, name) == ("1", None)
    # Slow is not failed: every client got its answer.
    assert not failed_calls(calls), traffic.summary()


# --------------------------------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------------------------------


def assert_api_error(base_url, method, path, body, status, code, contains):
    got_status, out = api(base_url, method, path, body)
    summary = f"{method} {path} {json.dumps(body)[:300] if not isinstance(body, (str, bytes)) else body!r}" \
              f" -> {got_status} {out}"
    assert got_status == status, summary
    assert isinstance(out, dict) and out.get("code") == code, summary
    assert contains in out.get("message", ""), summary
    return out


def test_one_active_deployment_per_alias(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-one")
    function_for_deployment(lam, name, "good", "good")
    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="1")
    base = dict(function=name, targetVersion=2, strategy="canary:10%:60s", prewarm=0,
                health={"minimumInvocations": 0})
    first = start_deployment(srv.base_url, alias="live", **base)
    out = assert_api_error(srv.base_url, "POST", "/v1/deployments", dict(alias="live", **base), 409,
                           "DeploymentAlreadyActive", first["id"])
    assert out["activeDeploymentId"] == first["id"], out
    assert f"alias {name}:live is already being deployed by {first['id']}" in out["message"], out
    # Another alias of the same function is independent.
    other = start_deployment(srv.base_url, alias="beta", **base)
    assert other["id"] != first["id"]
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}&status=active")
    assert status == 200 and sorted(d["id"] for d in page["deployments"]) == sorted([first["id"], other["id"]])
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}&alias=beta")
    assert status == 200 and [d["id"] for d in page["deployments"]] == [other["id"]], page
    for dep in (first, other):
        rolled = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/rollback", {"actor": "test"})[1]
        assert rolled["status"] == "RolledBack", rolled
    # Once the alias is free again, a new deployment is accepted.
    again = start_deployment(srv.base_url, alias="live", **base)
    assert again["id"] not in (first["id"], other["id"])
    api(srv.base_url, "POST", f"/v1/deployments/{again['id']}/rollback", {})


def test_bad_requests_are_refused_with_clear_messages(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-bad")
    function_for_deployment(lam, name, "good", "good")
    lam.create_alias(FunctionName=name, Name="latest", FunctionVersion="$LATEST")
    lam.create_alias(FunctionName=name, Name="split", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    lam.create_alias(FunctionName=name, Name="onv2", FunctionVersion="2")
    ok = dict(function=name, alias="live", targetVersion="2", strategy="canary:10%:1m")

    def body(**changes):
        out = dict(ok, **changes)
        return {k: v for k, v in out.items() if v is not None}

    cases = [
        # (body, status, code, message fragment)
        (body(strategy="bogus"), 400, "InvalidStrategy", "unknown strategy bogus"),
        (body(strategy="canary:10%"), 400, "InvalidStrategy", "canary is written canary:<percent>%:<interval>"),
        (body(strategy="canary:100%:1s"), 400, "InvalidStrategy", "above 0% and below 100%"),
        (body(strategy="canary:10%:0s"), 400, "InvalidStrategy", "a step must last longer than 0s"),
        (body(strategy="linear:10:1m"), 400, "InvalidStrategy", "linear is written"),
        (body(strategy="steps:50%@1s,10%@1s"), 400, "InvalidStrategy", "steps must increase in weight"),
        (body(health={"rules": ["latency>=5"]}), 400, "InvalidHealthPolicy", "write a rule as"),
        (body(health={"rules": ["p99>=300"]}), 400, "InvalidHealthPolicy", "got p99>=300"),
        (body(health={"rules": ["errors>1@10s"]}), 400, "InvalidHealthPolicy", "got errors>1@10s"),
        (body(health={"rules": ["error-rate>=150%"]}), 400, "InvalidHealthPolicy", "up to 100%"),
        (body(health={"rules": ["errors>=1@500ms"]}), 400, "InvalidHealthPolicy", "whole seconds"),
        (body(health={"rules": ["errors>=1@10s,missing=sometimes"]}), 400, "InvalidHealthPolicy", "missing= takes"),
        (body(health={"noData": "maybe"}), 400, "InvalidHealthPolicy", "noData is wait, fail or pass, not maybe"),
        (body(health={"alpha": 0.9}), 400, "InvalidHealthPolicy", "alpha must be between 0 and 0.5"),
        (body(health={"minimumInvocations": -1}), 400, "InvalidHealthPolicy", "at least 0"),
        (body(targetVersion=None), 400, "InvalidRequest", "targetVersion"),
        (body(targetVersion="abc"), 400, "InvalidRequest", "targetVersion must be a published version number, not abc"),
        (body(targetVersion="$LATEST"), 400, "InvalidRequest", "targetVersion must be a published version number"),
        (body(targetVersion=0), 400, "InvalidRequest", "targetVersion must be a published version number, not 0"),
        (body(targetVersion=-2), 400, "InvalidRequest", "targetVersion must be a published version number"),
        (body(currentVersion="one"), 400, "InvalidRequest", "currentVersion must be a published version number"),
        (body(function=None), 400, "InvalidRequest", "function"),
        (body(function="no spaces allowed"), 400, "InvalidRequest", "function"),
        (body(hooks={"timeout": "soon"}), 400, "InvalidRequest", "hooks.timeout is a duration"),
        (body(hooks={"timeout": "500ms"}), 400, "InvalidRequest", "the hook timeout must be at least 1s"),
        (body(bake="5"), 400, "InvalidRequest", "bake is a duration"),
        (body(prewarm=101), 400, "InvalidRequest", "prewarm must be between 0 and 100"),
        (body(description="x" * 1025), 400, "InvalidRequest", "longer than 1024"),
        (body(metadata={f"k{i}": "v" for i in range(51)}), 400, "InvalidRequest", "at most 50 entries"),
        (body(function=unique("nope")), 404, "ResourceNotFound", "does not exist"),
        (body(alias="missing"), 404, "ResourceNotFound", f"alias {name}:missing does not exist"),
        (body(targetVersion=9), 404, "ResourceNotFound", f"version 9 of {name} does not exist"),
        (body(hooks={"preTraffic": "no-such-hook-fn"}), 404, "ResourceNotFound",
         "hook function no-such-hook-fn does not exist"),
        (body(hooks={"postTraffic": f"{name}:77"}), 404, "ResourceNotFound", f"hook {name}:77 does not exist"),
        (body(alias="latest"), 409, "AliasNotReady", "points to $LATEST"),
        (body(alias="split"), 409, "AliasNotReady", "already splits traffic"),
        (body(alias="onv2"), 409, "AliasNotReady", "already points to version 2"),
        (body(currentVersion="2"), 409, "AliasNotReady", "points to version 1, not 2"),
    ]
    failures = []
    for request, status, code, fragment in cases:
        got_status, out = api(srv.base_url, "POST", "/v1/deployments", request)
        if not (got_status == status and isinstance(out, dict) and out.get("code") == code
                and fragment in out.get("message", "")):
            failures.append(f"{json.dumps(request)[:200]}\n   expected {status} {code} ~{fragment!r}\n   got {got_status} {out}")
    # Not JSON, and no body at all.
    for raw in (b"{not json", b"[1, 2]"):
        got_status, _, data = raw_request(srv.base_url, "POST", "/v1/deployments", raw,
                                          headers={"Content-Type": "application/json"})
        out = json.loads(data)
        if got_status != 400 or out.get("code") != "InvalidRequest" or "could not read the request body" not in out["message"]:
            failures.append(f"{raw!r}: got {got_status} {out}")
    got_status, out = api(srv.base_url, "POST", "/v1/deployments")
    if got_status != 400 or out.get("code") != "InvalidRequest" or "function" not in out.get("message", ""):
        failures.append(f"empty body: got {got_status} {out}")
    assert not failures, "\n".join(failures)

    # Errors are JSON with a request id, and nothing was started or changed.
    got_status, headers, _ = raw_request(srv.base_url, "POST", "/v1/deployments", json.dumps(body(strategy="x")),
                                         headers={"Content-Type": "application/json"})
    assert got_status == 400 and headers["content-type"].startswith("application/json") and headers["x-amzn-requestid"]
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}")
    assert status == 200 and page["deployments"] == [], page
    assert alias_state(lam, name) == ("1", None)
    assert alias_state(lam, name, "split") == ("1", {"AdditionalVersionWeights": {"2": 0.5}})


def test_versions_with_different_roles_cannot_share_an_alias(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-role")
    function_for_deployment(lam, name, "good")
    lam.update_function_configuration(FunctionName=name, Role="arn:aws:iam::123456789012:role/other-role")
    lam.update_function_code(FunctionName=name, ZipFile=deploy_app_zip("good-other-role"))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    assert_api_error(srv.base_url, "POST", "/v1/deployments",
                     dict(function=name, alias="live", targetVersion=2), 400, "InvalidRequest",
                     "must have the same execution role")


def test_list_and_lookup_errors_and_unknown_paths(srv):
    base = srv.base_url
    for path, code, fragment in [
        ("/v1/deployments?status=done", "InvalidRequest", "status is active or all, not done"),
        ("/v1/deployments?limit=0", "InvalidRequest", "limit is a number from 1 to 200, not 0"),
        ("/v1/deployments?limit=abc", "InvalidRequest", "limit is a number from 1 to 200"),
        ("/v1/deployments?marker=d-AAAAAAAAA", "InvalidRequest", "invalid marker d-AAAAAAAAA"),
        ("/v1/deployments?function=bad%20name", "InvalidRequest", "function"),
    ]:
        assert_api_error(base, "GET", path, None, 400, code, fragment)
    assert_api_error(base, "GET", "/v1/deployments/d-AAAAAAAAA", None, 404, "DeploymentNotFound",
                     "no deployment d-AAAAAAAAA")
    assert_api_error(base, "GET", "/v1/deployments/not-an-id", None, 404, "DeploymentNotFound",
                     "no deployment not-an-id")
    for action in ("promote", "pause", "resume", "rollback", "retry"):
        assert_api_error(base, "POST", f"/v1/deployments/d-AAAAAAAAA/{action}", {}, 404, "DeploymentNotFound",
                         "no deployment d-AAAAAAAAA")
    # Unknown paths under /v1 answer Aviary's JSON error, not a Lambda one.
    for method, path in [("GET", "/v1/nothing-here"), ("GET", "/v1/deployments/d-AAAAAAAAA/history"),
                         ("DELETE", "/v1/deployments/d-AAAAAAAAA"), ("POST", "/v1/deployments/d-AAAAAAAAA/explode")]:
        status, headers, data = raw_request(base, method, path, b"{}" if method == "POST" else None)
        assert status == 404, (method, path, status, data)
        assert headers["content-type"].startswith("application/json"), headers
        out = json.loads(data)
        assert out["code"] == "UnknownOperation", out
        assert out["message"] == f"Aviary has no operation {method} {path}", out
    status, page = api(base, "GET", "/v1/deployments")
    assert status == 200 and page == {"deployments": []}, page


def test_openapi_document_describes_the_deployment_api(srv):
    status, headers, data = raw_request(srv.base_url, "GET", "/v1/openapi.json")
    assert status == 200
    assert headers["content-type"].startswith("application/json"), headers
    doc = json.loads(data)
    assert doc["openapi"].startswith("3."), doc.get("openapi")
    assert doc["info"]["title"]
    assert "/v1/deployments" in doc["paths"]
    assert {"get", "post"} <= set(doc["paths"]["/v1/deployments"])
    for action in ("promote", "pause", "resume", "rollback", "retry"):
        assert f"/v1/deployments/{{id}}/{action}" in doc["paths"], action
    assert "/v1/deployments/{id}/hooks/{executionId}" in doc["paths"]
    # Every $ref resolves inside the document.
    refs = re.findall(r'"\$ref":\s*"#/([^"]+)"', data.decode())
    assert refs
    for ref in set(refs):
        node = doc
        for part in ref.split("/"):
            assert part in node, f"dangling $ref #/{ref}"
            node = node[part]


def test_codedeploy_presets_and_custom_strategies(srv):
    lam = lambda_client(srv.base_url)
    name = unique("dep-presets")
    function_for_deployment(lam, name, "good", "good")
    minute = [{"weight": w / 10, "duration": "1m"} for w in range(1, 10)]
    cases = [
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", "Linear10PercentEvery1Minute", minute, "9m"),
        ("Linear10PercentEvery3Minutes", "Linear10PercentEvery3Minutes",
         [{"weight": w / 10, "duration": "3m"} for w in range(1, 10)], "27m"),
        ("CodeDeployDefault.LambdaCanary10Percent30Minutes", "Canary10Percent30Minutes",
         [{"weight": 0.1, "duration": "30m"}], "30m"),
        (None, "Canary10Percent5Minutes", [{"weight": 0.1, "duration": "5m"}], "5m"),
        ("linear:50%:1s", "linear:50%:1s", [{"weight": 0.5, "duration": "1s"}], "1s"),
        ("steps:1%@90s,10%@1m30s,50%@2m", "steps:1%@1m30s,10%@1m30s,50%@2m",
         [{"weight": 0.01, "duration": "1m30s"}, {"weight": 0.1, "duration": "1m30s"},
          {"weight": 0.5, "duration": "2m"}], "5m"),
    ]
    for text, expected_name, steps, after in cases:
        body = dict(function=name, alias="live", targetVersion=2, prewarm=0)
        if text is not None:
            body["strategy"] = text
        dep = start_deployment(srv.base_url, **body)
        assert dep["strategy"] == {"name": expected_name, "steps": steps, "promotionAfter": after}, (text, dep["strategy"])
        assert dep["steps"] == len(steps)
        status, out = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/rollback", {})
        assert status == 200 and out["status"] == "RolledBack", out

    # linear:25%:1s goes 25%, 50%, 75%, then promotes.
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="linear:25%:1s",
                           prewarm=0, health={"minimumInvocations": 0})
    done = wait_finished(srv.base_url, dep["id"], timeout=15, server=srv)
    assert done["status"] == "Succeeded", history_text(done)
    steps_seen = [h["message"] for h in done["history"] if h["message"].startswith("step ")]
    assert steps_seen == ["step 1/3: 25% to version 2 for 1s", "step 2/3: 50% to version 2 for 1s",
                          "step 3/3: 75% to version 2 for 1s"], steps_seen

    # AllAtOnce: straight to the new version.
    lam.update_function_code(FunctionName=name, ZipFile=deploy_app_zip("third"), Publish=True)
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=3,
                           strategy="CodeDeployDefault.LambdaAllAtOnce", prewarm=0)
    assert dep["strategy"] == {"name": "AllAtOnce", "steps": [], "promotionAfter": "0s"}, dep["strategy"]
    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Succeeded" and (done["step"], done["steps"]) == (1, 0), done
    assert alias_state(lam, name) == ("3", None)
