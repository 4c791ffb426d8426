"""Deployments at their edges: evidence rules, what counts as the alias's traffic, racing requests, and
changes made to the alias or the function behind the deployment's back."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from aviary_harness import (
    FINISHED_STATUSES, Traffic, api, function_for_deployment, get_deployment, history_text, lambda_client, start_deployment,
    stop_cleanly, unique, wait_deployment, wait_finished, zip_files,
)


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def alias_state(lam, name: str) -> tuple[str, dict | None]:
    got = lam.get_alias(FunctionName=name, Name="live")
    return got["FunctionVersion"], got.get("RoutingConfig")


def test_no_data_fail_rolls_back_an_unexercised_step_and_wait_holds_it_until_traffic_arrives(srv):
    lam = lambda_client(srv.base_url)
    fail_fn = unique("edge-nodata-fail")
    wait_fn = unique("edge-nodata-wait")
    function_for_deployment(lam, fail_fn, "good", "good")
    function_for_deployment(lam, wait_fn, "good", "good")
    failing = start_deployment(srv.base_url, function=fail_fn, alias="live", targetVersion=2,
                               strategy="canary:20%:1s", prewarm=0, health={"minimumInvocations": 5, "noData": "fail"})
    waiting = start_deployment(srv.base_url, function=wait_fn, alias="live", targetVersion=2,
                               strategy="canary:50%:1s", prewarm=0, health={"minimumInvocations": 5, "noData": "wait"})

    done = wait_finished(srv.base_url, failing["id"], timeout=10, server=srv)
    assert done["status"] == "RolledBack" and done["outcome"]["cause"] == "NoEvidence", history_text(done)
    assert done["outcome"]["message"] == "step 1 ended with 0 of the 5 invocations it needs", done["outcome"]
    assert alias_state(lam, fail_fn) == ("1", None)

    held = wait_deployment(srv.base_url, waiting["id"], lambda d: d["awaitingEvidence"], 10, "awaitingEvidence",
                           server=srv)
    assert held["status"] == "Shifting" and held["weight"] == 0.5, held
    assert any(h["message"] == "step 1 waits for evidence: 0 of 5 invocations" for h in held["history"]), \
        history_text(held)
    time.sleep(1.0)
    assert get_deployment(srv.base_url, waiting["id"])["status"] == "Shifting", "without traffic the step holds"
    with Traffic(srv.base_url, wait_fn, rate=20):
        done = wait_finished(srv.base_url, waiting["id"], timeout=15, server=srv)
    assert done["status"] == "Succeeded", history_text(done)
    assert alias_state(lam, wait_fn) == ("2", None)


def test_only_invocations_through_the_alias_are_judged(srv):
    """Calling the new version by its number (tests, smoke checks) is not the alias's traffic: its errors
    neither count as evidence nor fail the deployment."""
    lam = lambda_client(srv.base_url)
    name = unique("edge-direct")
    function_for_deployment(lam, name, "good", "fail")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health={"rules": ["errors>=1@10s"], "minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    for _ in range(5):
        response = lam.invoke(FunctionName=name, Qualifier="2", Payload=b"{}")
        assert response["FunctionError"] == "Unhandled"
    live = get_deployment(srv.base_url, dep["id"])
    assert live["status"] == "Shifting", history_text(live)
    assert live["health"]["live"]["target"]["invocations"] == 0, live["health"]
    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Succeeded", history_text(done)


def test_a_version_as_flaky_as_the_old_one_is_not_rolled_back(srv):
    """The comparison is relative: errors of the old version count against the new one's."""
    lam = lambda_client(srv.base_url)
    name = unique("edge-same")
    function_for_deployment(lam, name, "flaky", "flaky")
    with Traffic(srv.base_url, name, rate=30, workers=6) as traffic:
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:30%:3s",
                               health={"alpha": 0.001, "minimumInvocations": 10})
        done = wait_finished(srv.base_url, dep["id"], timeout=30, server=srv)
    assert done["status"] == "Succeeded", f"{history_text(done)}\n{json.dumps(done.get('outcome'))}"
    errors = sum(1 for c in traffic.snapshot() if c.function_error)
    assert errors > 0, "the flaky versions did fail sometimes"


def test_concurrent_creates_on_one_alias_start_exactly_one_deployment(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-race")
    function_for_deployment(lam, name, "good", "good")
    body = dict(function=name, alias="live", targetVersion=2, strategy="canary:10%:60s", prewarm=0)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: api(srv.base_url, "POST", "/v1/deployments", body), range(6)))
    created = [out for status, out in results if status == 201]
    refused = [out for status, out in results if status == 409]
    assert len(created) == 1 and len(refused) == 5, results
    assert all(out["code"] == "DeploymentAlreadyActive" and out["activeDeploymentId"] == created[0]["id"]
               for out in refused), refused
    api(srv.base_url, "POST", f"/v1/deployments/{created[0]['id']}/rollback", {})


def test_an_alias_moved_or_deleted_behind_the_deployment_fails_it_and_is_left_alone(srv):
    lam = lambda_client(srv.base_url)
    moved = unique("edge-moved")
    function_for_deployment(lam, moved, "good", "good", "good")
    dep = start_deployment(srv.base_url, function=moved, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health={"minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    lam.update_alias(FunctionName=moved, Name="live", FunctionVersion="3", RoutingConfig={"AdditionalVersionWeights": {}})
    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Failed" and done["outcome"]["cause"] == "AliasChanged", history_text(done)
    assert "changed outside the deployment" in done["outcome"]["message"], done["outcome"]
    assert alias_state(lam, moved) == ("3", None), "the other change is kept"
    # A failed deployment can be retried once the alias is back where it started.
    lam.update_alias(FunctionName=moved, Name="live", FunctionVersion="1")
    status, retry = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/retry", {"actor": "ops"})
    assert status == 201 and retry["retryOf"] == dep["id"], retry
    api(srv.base_url, "POST", f"/v1/deployments/{retry['id']}/rollback", {})

    deleted = unique("edge-alias-deleted")
    function_for_deployment(lam, deleted, "good", "good")
    dep = start_deployment(srv.base_url, function=deleted, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health={"minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    lam.delete_alias(FunctionName=deleted, Name="live")
    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Failed" and done["outcome"]["cause"] == "AliasChanged", history_text(done)
    assert done["outcome"]["message"] == f"alias {deleted}:live was deleted", done["outcome"]


def test_deleting_the_function_ends_its_deployment(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-fn-deleted")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health={"minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    lam.delete_function(FunctionName=name)
    # Like a deleted alias: the deployment cannot be carried out and ends (it must not stay active).
    deadline = time.monotonic() + 8
    while True:
        done = get_deployment(srv.base_url, dep["id"])
        if done["status"] in FINISHED_STATUSES or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    log = srv.full_output()
    failures = [line for line in log.splitlines() if "deployment transition failed" in line]
    assert done["status"] in ("Failed", "RolledBack"), (
        f"still {done['status']} 6 s after its step ended:\n{history_text(done)}\n"
        f"'deployment transition failed' logged {len(failures)} times, e.g.:\n" + "\n".join(failures[:2]))
    assert len(failures) <= 2, f"'deployment transition failed' logged {len(failures)} times"
    status, page = api(srv.base_url, "GET", "/v1/deployments?status=active")
    assert page["deployments"] == [], page


def test_a_deployment_whose_function_was_deleted_can_be_rolled_back_by_hand(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-fn-rollback")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:60s",
                           prewarm=0, health={"minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    lam.delete_function(FunctionName=name)
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/rollback", {"actor": "ops"})
    assert status == 200, f"rollback -> {status} {out}"
    assert out["status"] in ("Failed", "RolledBack"), out
    assert get_deployment(srv.base_url, dep["id"])["status"] in ("Failed", "RolledBack")


def test_a_recreated_function_is_not_moved_by_its_predecessors_deployment(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-fn-recreated")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                           prewarm=0, health={"minimumInvocations": 0})
    wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting", 10, "Shifting")
    lam.delete_function(FunctionName=name)
    # A new function of the same name, whose version 2 nobody asked to deploy (and which always fails).
    function_for_deployment(lam, name, "good", "fail")
    time.sleep(3.5)  # past the old deployment's step end
    old = get_deployment(srv.base_url, dep["id"])
    assert alias_state(lam, name) == ("1", None), f"the new function's alias was moved:\n{history_text(old)}"
    assert old["status"] != "Succeeded", history_text(old)
    # And its alias is free for its own deployments.
    status, out = api(srv.base_url, "POST", "/v1/deployments",
                      dict(function=name, alias="live", targetVersion=2, strategy="canary:10%:60s", prewarm=0))
    assert status == 201, out
    api(srv.base_url, "POST", f"/v1/deployments/{out['id']}/rollback", {})


def test_a_version_that_cannot_even_start_is_rolled_back_after_a_few_requests(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-broken")
    function_for_deployment(lam, name, "good")
    lam.update_function_code(FunctionName=name, ZipFile=zip_files({"app.py": "def handler(e, c):\n    return (\n"}),
                             Publish=True)
    with Traffic(srv.base_url, name, rate=30) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 5, 10, "first calls")
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:10%:60s")
        done = wait_finished(srv.base_url, dep["id"], timeout=30, server=srv)
    assert done["status"] == "RolledBack" and done["outcome"]["cause"] == "HealthCheck", history_text(done)
    failures = [c for c in traffic.snapshot() if c.function_error]
    assert 1 <= len(failures) <= 5 and all(c.version == "2" for c in failures), traffic.summary()
    assert json.loads(failures[0].body)["errorType"] == "Runtime.UserCodeSyntaxError"
    assert alias_state(lam, name) == ("1", None)


def test_with_sticky_routing_a_deployment_only_moves_users_forward(srv):
    """Sticky routing (by an event field) under a deployment: a user on the new version stays there as the
    weight rises, everyone ends on it, and the alias keeps its sticky setting through the moves."""
    lam = lambda_client(srv.base_url)
    name = unique("edge-sticky")
    function_for_deployment(lam, name, "good", "good")
    path = f"/v1/functions/{name}/aliases/live/sticky-routing"
    status, out = api(srv.base_url, "PUT", path, {"key": "event:user.id"})
    assert status == 200, out
    users = [f"user-{i}" for i in range(30)]

    def versions() -> dict[str, str]:
        seen = {}
        for user in users:
            resp = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"user": {"id": user}}))
            assert "FunctionError" not in resp
            seen[user] = resp["ExecutedVersion"]
        return seen

    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2,
                           strategy="steps:30%@1s,70%@1s", prewarm=0, health={"minimumInvocations": 0})
    on_new = []
    for step in (1, 2):
        wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "Shifting" and d["step"] == step, 10,
                        f"step {step}")
        api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/pause", {})  # hold the weight while we look
        seen = versions()
        assert all(seen[u] == v for u, v in versions().items()), "a user changed version at one weight"
        on_new.append({u for u, v in seen.items() if v == "2"})
        api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/resume", {})
    assert on_new[0] <= on_new[1], f"users moved back to the old version: {sorted(on_new[0] - on_new[1])}"
    assert 0 < len(on_new[0]) < len(on_new[1]) < len(users), [len(s) for s in on_new]
    done = wait_finished(srv.base_url, dep["id"], timeout=10, server=srv)
    assert done["status"] == "Succeeded", history_text(done)
    assert set(versions().values()) == {"2"}
    status, out = api(srv.base_url, "GET", path)
    assert status == 200 and out["key"] == "event:user.id", out


def test_oversized_v1_bodies_are_413_and_change_nothing(srv):
    lam = lambda_client(srv.base_url)
    name = unique("edge-big")
    function_for_deployment(lam, name, "good", "good")
    from aviary_harness import raw_request
    big = b'{"function": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    for method, path in [("POST", "/v1/deployments"), ("PUT", f"/v1/functions/{name}/aliases/live/sticky-routing")]:
        status, _, body = raw_request(srv.base_url, method, path, big, {"Content-Type": "application/json"})
        assert status == 413, (path, status, body)
        assert json.loads(body)["code"] == "RequestTooLarge"
    status, _, body = raw_request(srv.base_url, "POST", "/", big, {
        "X-Amz-Target": "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus",
        "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and json.loads(body)["__type"] == "SerializationException", body
    status, listed = api(srv.base_url, "GET", f"/v1/deployments?function={name}")
    assert status == 200 and listed["deployments"] == []
    status, _, body = raw_request(srv.base_url, "GET", f"/v1/functions/{name}/aliases/live/sticky-routing")
    assert json.loads(body)["key"] is None
