"""A deployment survives the server: kill -9 mid-canary, restart on the same data dir, and it goes on
from the step it had persisted."""

from __future__ import annotations

import time

from aviary_harness import (
    Traffic, api, function_for_deployment, get_deployment, history_text, kill_hard, lambda_client,
    start_deployment, stop_cleanly, unique, wait_deployment, wait_finished,
)


def test_kill_9_mid_canary_then_restart_continues_from_the_persisted_step(start_server, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("deploy-restart")
    first = start_server(data_dir)
    lam = lambda_client(first.base_url)
    name = unique("restart")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(first.base_url, function=name, alias="live", targetVersion=2,
                           strategy="steps:20%@1s,50%@8s", prewarm=0, health={"minimumInvocations": 0})
    step2 = wait_deployment(first.base_url, dep["id"], lambda d: d["status"] == "Shifting" and d["step"] == 2, 15,
                            "step 2", server=first)
    assert step2["weight"] == 0.5
    got = lam.get_alias(FunctionName=name, Name="live")
    assert (got["FunctionVersion"], got["RoutingConfig"]) == ("1", {"AdditionalVersionWeights": {"2": 0.5}})

    assert kill_hard(first) == -9
    killed_at = time.monotonic()

    second = start_server(data_dir)
    try:
        lam = lambda_client(second.base_url)
        resumed = get_deployment(second.base_url, dep["id"])
        assert time.monotonic() - killed_at < 7, "the restart took too long for the checks below"
        assert (resumed["status"], resumed["step"], resumed["weight"]) == ("Shifting", 2, 0.5), history_text(resumed)
        assert resumed["nextTransitionAt"] == step2["nextTransitionAt"], "the step keeps its persisted end"
        assert any(h["message"] == "server restarted; resuming Shifting" for h in resumed["history"]), \
            history_text(resumed)
        got = lam.get_alias(FunctionName=name, Name="live")
        assert (got["FunctionVersion"], got["RoutingConfig"]) == ("1", {"AdditionalVersionWeights": {"2": 0.5}})
        # Still the alias's one active deployment.
        status, out = api(second.base_url, "POST", "/v1/deployments",
                          dict(function=name, alias="live", targetVersion=2, strategy="all-at-once"))
        assert (status, out.get("code"), out.get("activeDeploymentId")) == (409, "DeploymentAlreadyActive", dep["id"])
        status, page = api(second.base_url, "GET", "/v1/deployments?status=active")
        assert [d["id"] for d in page["deployments"]] == [dep["id"]], page

        # Traffic after the restart is split and judged; then the deployment promotes.
        with Traffic(second.base_url, name, rate=20) as traffic:
            done = wait_finished(second.base_url, dep["id"], timeout=20, server=second)
        assert done["status"] == "Succeeded", history_text(done)
        messages = [h["message"] for h in done["history"]]
        assert messages.count("step 1/2: 20% to version 2 for 1s") == 1, messages
        assert messages.count("step 2/2: 50% to version 2 for 8s") == 1, messages
        got = lam.get_alias(FunctionName=name, Name="live")
        assert got["FunctionVersion"] == "2" and "RoutingConfig" not in got, got
        calls = traffic.snapshot()
        assert calls and all(c.status == 200 and not c.function_error for c in calls), traffic.summary()
    finally:
        stop_cleanly(second)

    # And the finished deployment is still there after a clean restart.
    third = start_server(data_dir)
    try:
        again = get_deployment(third.base_url, dep["id"])
        assert again["status"] == "Succeeded" and again["history"] == done["history"]
        status, page = api(third.base_url, "GET", "/v1/deployments?status=active")
        assert page["deployments"] == [], page
    finally:
        stop_cleanly(third)


def test_kill_9_while_a_hook_is_pending_keeps_its_deadline(start_server, tmp_path_factory):
    """A pre-traffic hook that never reports: after kill -9 and a restart, the hook's timeout still fires
    and rolls the deployment back (nothing shifts untested)."""
    data_dir = tmp_path_factory.mktemp("deploy-restart-hook")
    first = start_server(data_dir)
    lam = lambda_client(first.base_url)
    name = unique("restart-hook-app")
    hook = unique("restart-hook")
    function_for_deployment(lam, name, "good", "good")
    function_for_deployment(lam, hook, "good", alias="")
    dep = start_deployment(first.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:1s",
                           prewarm=0, hooks={"preTraffic": hook, "timeout": "4s"})
    wait_deployment(first.base_url, dep["id"], lambda d: d["status"] == "PreTraffic", 10, "PreTraffic", server=first)
    assert kill_hard(first) == -9

    second = start_server(data_dir)
    try:
        resumed = get_deployment(second.base_url, dep["id"])
        assert resumed["status"] in ("PreTraffic", "RolledBack"), history_text(resumed)
        done = wait_finished(second.base_url, dep["id"], timeout=15, server=second)
        assert done["status"] == "RolledBack" and done["outcome"]["cause"] == "HookTimedOut", history_text(done)
        got = lambda_client(second.base_url).get_alias(FunctionName=name, Name="live")
        assert got["FunctionVersion"] == "1" and "RoutingConfig" not in got, got
    finally:
        stop_cleanly(second)
