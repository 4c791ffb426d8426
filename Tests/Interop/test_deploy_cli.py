"""The `aviary` CLI against a running server: deploy (--wait exit codes), status, and the actions."""

from __future__ import annotations

import re

import pytest

from aviary_harness import (
    Traffic, api, function_for_deployment, get_deployment, lambda_client, run_aviary, stop_cleanly, unique,
    wait_deployment,
)

ID = r"d-[A-Z0-9]{9}"


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def aviary(srv, *args: str, timeout: float = 90):
    return run_aviary(*args, "--endpoint", srv.base_url, timeout=timeout)


def deployment_id(stdout: str) -> str:
    match = re.search(rf"^deployment ({ID}): ", stdout, re.M)
    assert match, stdout
    return match.group(1)


def test_deploy_wait_exits_0_when_promoted_and_shows_the_history(srv):
    lam = lambda_client(srv.base_url)
    name = unique("cli-good")
    function_for_deployment(lam, name, "good", "good")
    with Traffic(srv.base_url, name, rate=20) as traffic:
        res = aviary(srv, "deploy", name, "--alias", "live", "--version", "2", "--strategy", "canary:20%:2s",
                     "--min-invocations", "3", "--meta", "commit=3f2c1a9", "--meta", "pipeline=build-812",
                     "--actor", "ci", "--description", "cli canary", "--wait")
    assert res.returncode == 0, res.describe()
    out = res.stdout
    dep_id = deployment_id(out)
    assert f"deployment {dep_id}: {name}:live v1 → v2 by canary:20%:2s" in out, out
    for line in ("created: live 1 → 2 by canary:20%:2s (by ci)", "pre-warming 1 environment of version 2",
                 "step 1/1: 20% to version 2 for 2s", "promoted: live → 2", "succeeded",
                 "Succeeded: live now points to version 2"):
        assert line in out, f"missing {line!r} in:\n{out}"
    # History lines start with the time of day.
    assert re.search(r"^\d{2}:\d{2}:\d{2}\.\d{3}  step 1/1: 20% to version 2 for 2s$", out, re.M), out
    dep = get_deployment(srv.base_url, dep_id)
    assert dep["status"] == "Succeeded"
    assert dep["metadata"] == {"commit": "3f2c1a9", "pipeline": "build-812"} and dep["description"] == "cli canary"
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert {c.version for c in traffic.snapshot()} == {"1", "2"}, traffic.summary()


def test_deploy_wait_exits_1_when_rolled_back(srv):
    lam = lambda_client(srv.base_url)
    name = unique("cli-bad")
    function_for_deployment(lam, name, "good", "fail")
    with Traffic(srv.base_url, name, rate=20):
        res = aviary(srv, "deploy", name, "--alias", "live", "--version", "2", "--strategy", "canary:20%:60s",
                     "--max-errors", "1", "--window", "10s", "--actor", "ci", "--wait")
    assert res.returncode == 1, res.describe()
    out = res.stdout
    dep_id = deployment_id(out)
    assert "rolled back to version 1: errors>=1@10s: " in out, out
    assert re.search(r"^RolledBack: errors>=1@10s: 1 of 1 datapoints breached errors ≥ 1", out, re.M), out
    assert re.search(r"^  v2: \d+ inv, [1-9]\d* err", out, re.M), out
    assert re.search(r"^  v1: \d+ inv, 0 err", out, re.M), out
    dep = get_deployment(srv.base_url, dep_id)
    assert dep["status"] == "RolledBack" and dep["health"]["rules"] == ["errors>=1@10s"], dep
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "1" and "RoutingConfig" not in got


@pytest.mark.parametrize("args, message", [
    (["--strategy", "canary:10%"], "canary is written canary:<percent>%:<interval>"),
    (["--strategy", "fast"], "unknown strategy fast"),
    (["--rule", "latency>=5"], "write a rule as"),
    (["--max-p99", "300"], "write a rule as"),
    (["--no-data", "maybe"], "--no-data is wait, fail or pass, not maybe"),
    (["--bake", "5"], "--bake is a duration"),
    (["--meta", "novalue"], "--meta takes key=value, not novalue"),
    (["--prewarm", "101"], "prewarm must be between 0 and 100"),
])
def test_deploy_usage_errors_exit_2(srv, args, message):
    lam = lambda_client(srv.base_url)
    name = unique("cli-usage")
    function_for_deployment(lam, name, "good", "good")
    res = aviary(srv, "deploy", name, "--alias", "live", "--version", "2", *args, "--wait")
    assert res.returncode == 2, res.describe()
    assert message in res.stderr, res.describe()
    assert get_deployment_count(srv, name) == 0


def get_deployment_count(srv, name: str) -> int:
    status, page = api(srv.base_url, "GET", f"/v1/deployments?function={name}")
    assert status == 200
    return len(page["deployments"])


@pytest.mark.parametrize("args", [
    ["NAME", "--alias", "live"],
    ["NAME", "--alias", "live", "--version", "two"],
    ["NAME", "--to", "2", "--wait"],
    ["NAME", "--version", "2", "--wait"],
    ["--alias", "live", "--version", "2", "--wait"],
], ids=["no-version", "version-not-a-number", "no-alias-with-to", "no-alias-with-version", "no-function"])
def test_deploy_malformed_command_lines_exit_2(srv, args):
    """A command line missing --alias or the function is a usage error (exit 2), never a success: with
    --wait, exit 0 means "promoted" to the scripts that call it."""
    lam = lambda_client(srv.base_url)
    name = unique("cli-args")
    function_for_deployment(lam, name, "good", "good")
    res = aviary(srv, "deploy", *[name if a == "NAME" else a for a in args])
    assert res.returncode == 2, res.describe()
    assert "Error: " in res.stderr and "Usage: aviary deploy" in res.stderr, res.describe()
    assert get_deployment_count(srv, name) == 0
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"


def test_deploy_refusals_by_the_server_exit_1(srv):
    lam = lambda_client(srv.base_url)
    name = unique("cli-refused")
    function_for_deployment(lam, name, "good", "good")
    # Refusals that are not usage errors: exit 1 with the server's code and message.
    res = aviary(srv, "deploy", unique("cli-missing"), "--alias", "live", "--version", "2")
    assert res.returncode == 1 and "ResourceNotFound" in res.stderr and "does not exist" in res.stderr, res.describe()
    res = aviary(srv, "deploy", name, "--alias", "live", "--version", "1")
    assert res.returncode == 1 and "AliasNotReady" in res.stderr, res.describe()
    res = run_aviary("status", "--endpoint", "http://127.0.0.1:9")
    assert res.returncode == 1 and "cannot reach Aviary" in res.stderr, res.describe()


def test_status_lists_the_active_deployment_and_the_actions_steer_it(srv):
    lam = lambda_client(srv.base_url)
    name = unique("cli-status")
    function_for_deployment(lam, name, "good", "good")
    res = aviary(srv, "status")
    assert res.returncode == 0 and res.stdout.strip() == "no deployment in flight", res.describe()

    res = aviary(srv, "deploy", name, "--alias", "live", "--version", "2", "--strategy", "canary:10%:60s",
                 "--min-invocations", "0", "--prewarm", "0", "--meta", "build=812", "--actor", "ci")
    assert res.returncode == 0, res.describe()
    dep_id = deployment_id(res.stdout)
    assert f"follow it with: aviary status {dep_id}" in res.stdout, res.stdout
    wait_deployment(srv.base_url, dep_id, lambda d: d["status"] == "Shifting", 10, "Shifting")

    res = aviary(srv, "status")
    assert res.returncode == 0, res.describe()
    lines = [line for line in res.stdout.splitlines() if line.startswith(dep_id)]
    assert len(lines) == 1, res.stdout
    # The strategy is shown in its normal form (60s is 1m).
    assert f"{dep_id}  {name}:live  v1 → v2  canary:10%:1m  Shifting | step 1/1: 10% → v2" in lines[0], lines

    res = aviary(srv, "status", dep_id)
    assert res.returncode == 0, res.describe()
    out = res.stdout
    assert f"deployment  {dep_id}" in out and f"alias       {name}:live  v1 → v2" in out, out
    assert "strategy    canary:10%:1m" in out and "status      Shifting | step 1/1: 10% → v2" in out, out
    assert "metadata    build=812" in out, out
    assert re.search(r"^history$", out, re.M), out
    assert re.search(r"^  \S+  created: live 1 → 2 by canary:10%:1m \(by ci\)$", out, re.M), out
    assert re.search(r"^  \S+  step 1/1: 10% to version 2 for 1m$", out, re.M), out

    res = aviary(srv, "pause", dep_id, "--actor", "alice", "--reason", "checking")
    assert res.returncode == 0 and f"{dep_id}: Shifting (paused)" in res.stdout, res.describe()
    res = aviary(srv, "resume", dep_id, "--actor", "alice")
    assert res.returncode == 0 and f"{dep_id}: Shifting | step 1/1" in res.stdout, res.describe()
    res = aviary(srv, "rollback", dep_id, "--actor", "bob", "--reason", "cli test")
    assert res.returncode == 0, res.describe()
    assert "RolledBack: rolled back by request: cli test" in res.stdout, res.stdout

    res = aviary(srv, "status")
    assert res.stdout.strip() == "no deployment in flight", res.describe()
    res = aviary(srv, "status", "--all")
    assert res.returncode == 0 and re.search(rf"^{dep_id}  {name}:live  .*RolledBack", res.stdout, re.M), res.stdout
    res = aviary(srv, "status", dep_id)
    assert "outcome     Manual: rolled back by request: cli test (by bob)" in res.stdout, res.stdout
    assert "paused: checking (by alice)" in res.stdout and "resumed (by alice)" in res.stdout, res.stdout

    res = aviary(srv, "retry", dep_id, "--actor", "carol")
    assert res.returncode == 0, res.describe()
    match = re.search(rf"^deployment ({ID}) retries {dep_id}: ", res.stdout, re.M)
    assert match, res.stdout
    retry_id = match.group(1)
    assert get_deployment(srv.base_url, retry_id)["retryOf"] == dep_id
    wait_deployment(srv.base_url, retry_id, lambda d: d["status"] == "Shifting", 10, "Shifting")
    res = aviary(srv, "promote", retry_id, "--actor", "carol")
    assert res.returncode == 0 and "Succeeded: live now points to version 2" in res.stdout, res.describe()
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"

    res = aviary(srv, "promote", retry_id)
    assert res.returncode == 1 and "DeploymentFinished" in res.stderr, res.describe()
    res = aviary(srv, "status", "d-AAAAAAAAA")
    assert res.returncode == 1 and "DeploymentNotFound: no deployment d-AAAAAAAAA" in res.stderr, res.describe()
