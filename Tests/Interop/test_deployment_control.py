"""People steering deployments: pause, resume, promote now, rollback, retry, and what a finished
deployment refuses."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from aviary_harness import (
    ROLE, RUNTIME, Traffic, api, deployment_action, function_for_deployment, get_deployment, history_text, lambda_client,
    start_deployment, stop_cleanly, unique, wait_deployment, wait_finished, zip_files,
)


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def alias_state(lam, name: str) -> tuple[str, dict | None]:
    got = lam.get_alias(FunctionName=name, Name="live")
    return got["FunctionVersion"], got.get("RoutingConfig")


# Time-only steps: no traffic needed for a step to pass.
TIME_ONLY = {"minimumInvocations": 0}


def test_pause_stops_the_step_clock_and_resume_continues_to_promotion(srv):
    lam = lambda_client(srv.base_url)
    name = unique("ctl-pause")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health=TIME_ONLY)
    shifting = wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    step_end = parse_time(shifting["nextTransitionAt"])

    paused = deployment_action(srv.base_url, dep["id"], "pause", actor="alice", reason="investigating")
    assert paused["status"] == "Shifting" and paused["paused"] is True, paused
    assert "nextTransitionAt" not in paused, "a paused step has no deadline"
    assert paused["history"][-1]["message"] == "paused: investigating" and paused["history"][-1]["by"] == "alice"
    out = deployment_action(srv.base_url, dep["id"], "pause", expect=409)
    assert out["code"] == "ActionNotAllowed" and "already paused" in out["message"], out

    # Well past the step's end, it still holds the step, and the alias its weights.
    time.sleep(3.0)
    held = get_deployment(srv.base_url, dep["id"])
    assert datetime.now(step_end.tzinfo) > step_end
    assert (held["status"], held["paused"], held["step"], held["weight"]) == ("Shifting", True, 1, 0.2), held
    assert alias_state(lam, name) == ("1", {"AdditionalVersionWeights": {"2": 0.2}})
    assert held["history"][-1]["message"] == "paused: investigating", history_text(held)

    resumed = deployment_action(srv.base_url, dep["id"], "resume", actor="bob")
    assert resumed["paused"] is False and resumed["status"] == "Shifting", resumed
    assert resumed["history"][-1]["message"] == "resumed" and resumed["history"][-1]["by"] == "bob"
    # The step keeps the time it had left when paused (at most its 2 s), counted from the resume.
    left = (parse_time(resumed["nextTransitionAt"]) - parse_time(resumed["updatedAt"])).total_seconds()
    assert 0 < left <= 2.0, left
    out = deployment_action(srv.base_url, dep["id"], "resume", expect=409)
    assert out["code"] == "ActionNotAllowed" and "not paused" in out["message"], out

    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Succeeded", history_text(done)
    assert alias_state(lam, name) == ("2", None)


def test_promote_now_skips_the_remaining_steps(srv):
    lam = lambda_client(srv.base_url)
    name = unique("ctl-promote")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2,
                           strategy="steps:10%@60s,50%@60s", prewarm=0, health=TIME_ONLY)
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    promoted = deployment_action(srv.base_url, dep["id"], "promote", actor="carol", reason="looks fine")
    assert promoted["status"] == "Succeeded", history_text(promoted)
    assert (promoted["weight"], promoted["step"], promoted["steps"]) == (1, 3, 2), promoted
    assert promoted["outcome"]["cause"] == "Promoted" and promoted["outcome"]["by"] == "carol", promoted["outcome"]
    early = [h for h in promoted["history"] if h["message"] == "promoted early: looks fine"]
    assert len(early) == 1 and early[0]["by"] == "carol", history_text(promoted)
    assert not any(h["message"].startswith("step 2/2") for h in promoted["history"]), history_text(promoted)
    assert alias_state(lam, name) == ("2", None)
    assert get_deployment(srv.base_url, dep["id"])["status"] == "Succeeded"


def test_promote_during_the_bake_ends_it_and_a_failure_in_the_bake_reverts(srv):
    lam = lambda_client(srv.base_url)
    good = unique("ctl-bake-ok")
    function_for_deployment(lam, good, "good", "good")
    dep = start_deployment(srv.base_url, function=good, alias="live", targetVersion=2, strategy="all-at-once",
                           prewarm=0, bake="60s", health=TIME_ONLY)
    baking = wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Baking", 10, "Baking")
    assert baking["bake"] == "1m" and baking["weight"] == 1 and baking["nextTransitionAt"], baking
    assert alias_state(lam, good) == ("2", None)
    ended = deployment_action(srv.base_url, dep["id"], "promote", actor="dan")
    assert ended["status"] == "Succeeded" and ended["outcome"]["by"] == "dan", ended
    assert any(h["message"] == "bake ended early" and h["by"] == "dan" for h in ended["history"])

    # A version that fails once promoted is reverted during the bake.
    bad = unique("ctl-bake-bad")
    function_for_deployment(lam, bad, "good", "fail")
    with Traffic(srv.base_url, bad, rate=20) as traffic:
        dep = start_deployment(srv.base_url, function=bad, alias="live", targetVersion=2, strategy="all-at-once",
                               bake="30s", health={"rules": ["errors>=1@10s"], "minimumInvocations": 0})
        done = wait_finished(srv.base_url, dep["id"], timeout=25, server=srv)
    assert done["status"] == "RolledBack", history_text(done)
    assert done["outcome"]["cause"] == "HealthCheck" and done["outcome"]["report"]["finding"]["check"] == "errors>=1@10s"
    assert any(h["status"] == "Baking" for h in done["history"]), history_text(done)
    assert alias_state(lam, bad) == ("1", None)
    assert traffic.snapshot(), "traffic ran"


def test_rollback_records_who_asked_and_retry_starts_a_new_deployment(srv):
    lam = lambda_client(srv.base_url)
    name = unique("ctl-rollback")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:60s",
                           prewarm=0, health=TIME_ONLY, description="try 1", metadata={"build": "812"})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    assert alias_state(lam, name) == ("1", {"AdditionalVersionWeights": {"2": 0.2}})

    rolled = deployment_action(srv.base_url, dep["id"], "rollback", actor="dave", reason="bad metrics")
    assert rolled["status"] == "RolledBack", rolled
    assert rolled["outcome"]["cause"] == "Manual" and rolled["outcome"]["by"] == "dave", rolled["outcome"]
    assert rolled["outcome"]["message"] == "rolled back by request: bad metrics"
    assert "report" in rolled["outcome"], "a manual rollback keeps the health report of that moment"
    last = rolled["history"][-1]
    assert (last["status"], last["by"]) == ("RolledBack", "dave"), last
    assert last["message"] == "rolled back to version 1: rolled back by request: bad metrics"
    assert alias_state(lam, name) == ("1", None)
    assert get_deployment(srv.base_url, dep["id"])["outcome"]["by"] == "dave"

    # Everything but retry is refused on a finished deployment.
    for action in ("promote", "pause", "resume", "rollback"):
        out = deployment_action(srv.base_url, dep["id"], action, expect=409, actor="x")
        assert out["code"] == "DeploymentFinished", (action, out)
        assert out["message"] == f"deployment {dep['id']} has already finished (RolledBack)", (action, out)

    retry = deployment_action(srv.base_url, dep["id"], "retry", expect=201, actor="erin", reason="fixed the config")
    assert retry["id"] != dep["id"] and retry["retryOf"] == dep["id"], retry
    for key in ("function", "alias", "currentVersion", "targetVersion", "strategy", "description", "metadata",
                "prewarm", "bake", "hooks"):
        assert retry[key] == dep[key], key
    assert {k: v for k, v in retry["health"].items() if k != "live"} == \
        {k: v for k, v in dep["health"].items() if k != "live"}
    assert retry["history"][0]["by"] == "erin", retry["history"]
    assert retry["history"][0]["message"].endswith(f"retrying {dep['id']}: fixed the config"), retry["history"]
    assert retry["status"] in ("Created", "Shifting")
    # A retry while the retried deployment is active again is one deployment too many for the alias.
    out = deployment_action(srv.base_url, dep["id"], "retry", expect=409)
    assert out["code"] == "DeploymentAlreadyActive" and out["activeDeploymentId"] == retry["id"], out

    wait_deployment(srv.base_url, retry["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    done = deployment_action(srv.base_url, retry["id"], "promote")
    assert done["status"] == "Succeeded"
    assert alias_state(lam, name) == ("2", None)
    out = deployment_action(srv.base_url, retry["id"], "retry", expect=409)
    assert out["code"] == "ActionNotAllowed" and "only a rolled-back or failed deployment" in out["message"], out
    out = deployment_action(srv.base_url, retry["id"], "pause", expect=409)
    assert out["code"] == "DeploymentFinished" and "(Succeeded)" in out["message"], out
    # The alias has moved on: retrying the old deployment is refused.
    out = deployment_action(srv.base_url, dep["id"], "retry", expect=409)
    assert out["code"] == "AliasNotReady", out

    # Both are listed, newest first, and page one at a time.
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}")
    assert status == 200 and [d["id"] for d in page["deployments"]] == [retry["id"], dep["id"]], page
    status, first = api(srv.base_url, "GET", f"/v1/deployments?function={name}&limit=1")
    assert [d["id"] for d in first["deployments"]] == [retry["id"]] and first["nextMarker"] == retry["id"], first
    status, second = api(srv.base_url, "GET", f"/v1/deployments?function={name}&limit=1&marker={first['nextMarker']}")
    assert [d["id"] for d in second["deployments"]] == [dep["id"]] and "nextMarker" not in second, second


# A pre-traffic hook that takes its time (2.5 s), then reports Succeeded through Aviary's hook endpoint.
SLOW_HOOK = '''
import json, os, time, urllib.request

def handler(event, context):
    time.sleep(2.5)
    url = "%s/v1/deployments/%s/hooks/%s" % (
        os.environ["AWS_ENDPOINT_URL_CODEDEPLOY"], event["DeploymentId"], event["LifecycleEventHookExecutionId"])
    request = urllib.request.Request(url, data=json.dumps({"status": "Succeeded"}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).read()
'''


def paused_during_pre_traffic(srv, lam, prefix: str) -> tuple[str, str, dict]:
    """A deployment (canary:20%:2s) paused while its slow pre-traffic hook runs; returns after the hook
    has reported Succeeded: (function, deployment id, the deployment then)."""
    name = unique(prefix)
    hook = unique(prefix + "-hook")
    function_for_deployment(lam, name, "good", "good")
    lam.create_function(FunctionName=hook, Runtime=RUNTIME, Role=ROLE, Handler="hook.handler", Timeout=10,
                        Code={"ZipFile": zip_files({"hook.py": SLOW_HOOK})})
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health=TIME_ONLY, hooks={"preTraffic": hook, "timeout": "30s"})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "PreTraffic", 10, "PreTraffic")
    paused = deployment_action(srv.base_url, dep["id"], "pause", actor="alice")
    assert paused["status"] == "PreTraffic" and paused["paused"] is True, history_text(paused)
    after = wait_deployment(srv.base_url, dep["id"],
                            lambda d: d["hook"]["status"] != "InProgress" or d["status"] != "PreTraffic", 15,
                            "the hook's report", server=srv)
    assert after["hook"]["status"] == "Succeeded", history_text(after)
    return name, dep["id"], after


def test_a_deployment_paused_during_its_pre_traffic_hook_shifts_no_traffic_until_resumed(srv):
    """Pause: "traffic stays where it is" (openapi.json). The hook's success while paused must not move
    traffic to the new version before someone resumes."""
    lam = lambda_client(srv.base_url)
    name, dep_id, after = paused_during_pre_traffic(srv, lam, "ctl-pause-hook")
    time.sleep(0.3)
    now = get_deployment(srv.base_url, dep_id)
    assert now["paused"] is True, history_text(now)
    routing = alias_state(lam, name)
    assert routing == ("1", None) and now["weight"] == 0, (
        f"paused, yet the alias is now {routing} and the deployment {now['status']} at weight {now['weight']}:\n"
        f"{history_text(now)}")
    deployment_action(srv.base_url, dep_id, "rollback")


def test_a_step_reached_while_paused_gets_its_full_duration_after_resume_not_more(srv):
    """Resume: "the step keeps the time it had left when it was paused" — a step that began while the
    deployment was paused has all of its 2 s left, not 2 s plus the time paused before it began."""
    lam = lambda_client(srv.base_url)
    name, dep_id, after = paused_during_pre_traffic(srv, lam, "ctl-pause-step")
    time.sleep(0.5)  # paused: the first step must not begin, so none of its time can pass
    resumed = deployment_action(srv.base_url, dep_id, "resume", actor="alice")
    assert resumed["status"] == "Shifting" and resumed["paused"] is False, history_text(resumed)
    left = (parse_time(resumed["nextTransitionAt"]) - parse_time(resumed["updatedAt"])).total_seconds()
    assert 0 < left <= 2.0, (
        f"after resume at {resumed['updatedAt']} the 2 s step ends at {resumed['nextTransitionAt']} "
        f"({left:.3f} s later):\n{history_text(resumed)}")
    done = wait_finished(srv.base_url, dep_id, timeout=15, server=srv)
    assert done["status"] == "Succeeded", history_text(done)
