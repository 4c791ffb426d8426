"""Pre- and post-traffic hooks: real hook functions invoked asynchronously by the server, reporting back
through Aviary's own endpoint or, unchanged from CodeDeploy, through boto3's `codedeploy` client."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from aviary_harness import (
    REGION, ROLE, RUNTIME, Traffic, api, boto3_site_packages, function_for_deployment, get_deployment, history_text,
    invocation_count, lambda_client, raw_request, start_deployment, stop_cleanly, unique, wait_deployment,
    wait_finished, zip_files,
)

# A hook: records the event (and the endpoint settings it was given) in $HOOK_LOG, then reports the status
# BEHAVIOUR names for its lifecycle event (None: never reports) through Aviary's API or boto3.
HOOK_APP = '''
import json, os, urllib.request
BEHAVIOUR = __BEHAVIOUR__
ENV_KEYS = ("AWS_ENDPOINT_URL_CODEDEPLOY", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION")

def handler(event, context):
    log = os.environ.get("HOOK_LOG")
    if log:
        path = os.path.join(log, event["LifecycleEventHookExecutionId"] + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump({"event": event, "env": {k: os.environ.get(k) for k in ENV_KEYS}}, f)
        os.replace(path + ".tmp", path)
    status = BEHAVIOUR.get(event["LifecycleEvent"])
    if status is None:
        return {"reported": None}
    if BEHAVIOUR["via"] == "boto3":
        import boto3
        boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status)
    else:
        url = "%s/v1/deployments/%s/hooks/%s" % (
            os.environ["AWS_ENDPOINT_URL_CODEDEPLOY"], event["DeploymentId"], event["LifecycleEventHookExecutionId"])
        request = urllib.request.Request(url, data=json.dumps({"status": status}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=10).read()
    return {"reported": status}
'''


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def create_hook(lam, name: str, log_dir: Path, behaviour: dict, publish: bool = False) -> dict:
    code = zip_files({"hook.py": HOOK_APP.replace("__BEHAVIOUR__", repr(behaviour))})
    variables = {"HOOK_LOG": str(log_dir)}
    if behaviour.get("via") == "boto3":
        # boto3 for the function's interpreter: the test runner's own copy (as a vendored dependency).
        variables["PYTHONPATH"] = boto3_site_packages()
    return lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="hook.handler",
                               Code={"ZipFile": code}, Timeout=30, Publish=publish,
                               Environment={"Variables": variables})


def hook_events(log_dir: Path) -> dict[str, dict]:
    """What the hook recorded, by execution id."""
    return {p.stem: json.loads(p.read_text()) for p in log_dir.glob("*.json")}


def codedeploy_client(endpoint: str):
    return boto3.client("codedeploy", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def codedeploy_error(fn, **kwargs) -> dict:
    with pytest.raises(ClientError) as info:
        fn(**kwargs)
    return info.value.response


def test_a_failing_pre_traffic_hook_rolls_back_before_any_traffic(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    name = unique("hook-app")
    hook = unique("hook-fails")
    function_for_deployment(lam, name, "good", "good")
    create_hook(lam, hook, tmp_path, {"BeforeAllowTraffic": "Failed", "via": "aviary"}, publish=True)
    with Traffic(srv.base_url, name, rate=20) as traffic:
        traffic.wait_for(lambda calls: len(calls) >= 5, 10, "first calls")
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:2s",
                               health={"minimumInvocations": 2}, hooks={"preTraffic": f"{hook}:1", "timeout": "30s"})
        assert dep["hooks"] == {"preTraffic": f"{hook}:1", "timeout": "30s"}, dep["hooks"]
        done = wait_finished(srv.base_url, dep["id"], timeout=30, server=srv)
        done_at = time.monotonic()
        traffic.wait_for(lambda calls: sum(c.at > done_at for c in calls) >= 5, 10, "calls after the rollback")
    calls = traffic.snapshot()

    assert done["status"] == "RolledBack", history_text(done)
    assert done["outcome"]["cause"] == "HookFailed", done["outcome"]
    assert done["outcome"]["message"] == f"the BeforeAllowTraffic hook {hook}:1 reported Failed", done["outcome"]
    assert (done["weight"], done["step"]) == (0, 0), done
    assert done["hook"]["lifecycleEvent"] == "BeforeAllowTraffic" and done["hook"]["status"] == "Failed", done["hook"]
    assert done["hook"]["function"] == f"{hook}:1"
    messages = [h["message"] for h in done["history"]]
    assert f"BeforeAllowTraffic hook {hook}:1 invoked" in messages, messages
    assert not any(m.startswith("step ") for m in messages), messages

    # The new version never took a request: no client saw it, and the server counted none.
    assert {c.version for c in calls} == {"1"}, traffic.summary()
    assert all(c.status == 200 and not c.function_error for c in calls), traffic.summary()
    assert invocation_count(srv.base_url, name, "live", "2") == 0
    assert invocation_count(srv.base_url, name, "live", "1") >= 5
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "1" and "RoutingConfig" not in got, got

    # The hook got CodeDeploy's payload plus the function, alias and versions, and Aviary's endpoints.
    events = hook_events(tmp_path)
    assert list(events) == [done["hook"]["executionId"]], events
    record = events[done["hook"]["executionId"]]
    assert record["event"] == {
        "DeploymentId": dep["id"], "LifecycleEventHookExecutionId": done["hook"]["executionId"],
        "LifecycleEvent": "BeforeAllowTraffic", "FunctionName": name, "Alias": "live",
        "CurrentVersion": "1", "TargetVersion": "2"}
    assert record["env"]["AWS_ENDPOINT_URL_CODEDEPLOY"] == srv.base_url, record["env"]
    assert record["env"]["AWS_ENDPOINT_URL_LAMBDA"] == srv.base_url, record["env"]
    assert record["env"]["AWS_ACCESS_KEY_ID"] and record["env"]["AWS_SECRET_ACCESS_KEY"], record["env"]

    # Aviary's hook endpoint: the execution is over; other mistakes carry CodeDeploy's codes.
    execution = done["hook"]["executionId"]
    path = f"/v1/deployments/{dep['id']}/hooks/{execution}"
    for body, status, code in [
        ({"status": "Succeeded"}, 409, "LifecycleEventAlreadyCompletedException"),
        ({"status": "Done"}, 400, "InvalidLifecycleEventHookExecutionStatusException"),
    ]:
        got_status, out = api(srv.base_url, "POST", path, body)
        assert (got_status, out.get("code")) == (status, code), (body, got_status, out)
    got_status, out = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/hooks/not-this-one", {"status": "Failed"})
    assert (got_status, out.get("code")) == (404, "InvalidLifecycleEventHookExecutionIdException"), out
    got_status, out = api(srv.base_url, "POST", f"/v1/deployments/d-AAAAAAAAA/hooks/{execution}", {"status": "Failed"})
    assert (got_status, out.get("code")) == (404, "DeploymentDoesNotExistException"), out
    got_status, out = api(srv.base_url, "POST", f"/v1/deployments/bogus/hooks/{execution}", {"status": "Failed"})
    assert (got_status, out.get("code")) == (400, "InvalidDeploymentIdException"), out
    got_status, out = api(srv.base_url, "POST", path, {})
    assert (got_status, out.get("code")) == (400, "InvalidRequest"), out


def test_codedeploy_style_boto3_hooks_let_the_deployment_succeed(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    name = unique("hook-ok-app")
    hook = unique("hook-boto3")
    function_for_deployment(lam, name, "good", "good")
    create_hook(lam, hook, tmp_path, {"BeforeAllowTraffic": "Succeeded", "AfterAllowTraffic": "Succeeded",
                                       "via": "boto3"})
    with Traffic(srv.base_url, name, rate=15) as traffic:
        dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:1s",
                               health={"minimumInvocations": 2},
                               hooks={"preTraffic": hook, "postTraffic": hook, "timeout": "45s"})
        done = wait_finished(srv.base_url, dep["id"], timeout=60, server=srv)
    calls = traffic.snapshot()

    assert done["status"] == "Succeeded", history_text(done)
    assert done["outcome"]["cause"] == "Promoted"
    messages = [h["message"] for h in done["history"]]
    expected_order = [
        f"BeforeAllowTraffic hook {hook} invoked",
        f"BeforeAllowTraffic hook {hook} succeeded",
        "step 1/1: 20% to version 2 for 1s",
        "promoted: live → 2",
        f"AfterAllowTraffic hook {hook} invoked",
        f"AfterAllowTraffic hook {hook} succeeded",
        "succeeded",
    ]
    positions = [messages.index(m) if m in messages else -1 for m in expected_order]
    assert -1 not in positions and positions == sorted(positions), history_text(done)
    statuses = {h["message"]: h["status"] for h in done["history"]}
    assert statuses[f"BeforeAllowTraffic hook {hook} invoked"] == "PreTraffic"
    assert statuses[f"AfterAllowTraffic hook {hook} invoked"] == "PostTraffic"
    assert done["hook"]["lifecycleEvent"] == "AfterAllowTraffic" and done["hook"]["status"] == "Succeeded"
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "2" and "RoutingConfig" not in got, got
    assert all(c.status == 200 and not c.function_error for c in calls), traffic.summary()

    events = hook_events(tmp_path)
    by_event = {r["event"]["LifecycleEvent"]: r["event"] for r in events.values()}
    assert sorted(by_event) == ["AfterAllowTraffic", "BeforeAllowTraffic"], events
    for kind, event in by_event.items():
        assert event["DeploymentId"] == dep["id"] and (event["CurrentVersion"], event["TargetVersion"]) == ("1", "2")
    post = by_event["AfterAllowTraffic"]["LifecycleEventHookExecutionId"]
    assert post == done["hook"]["executionId"]

    # The CodeDeploy API, called from here with boto3.
    cd = codedeploy_client(srv.base_url)
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId=dep["id"],
                           lifecycleEventHookExecutionId=post, status="Succeeded")
    assert err["Error"]["Code"] == "LifecycleEventAlreadyCompletedException", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    pre = by_event["BeforeAllowTraffic"]["LifecycleEventHookExecutionId"]
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId=dep["id"],
                           lifecycleEventHookExecutionId=pre, status="Failed")
    assert err["Error"]["Code"] == "LifecycleEventAlreadyCompletedException", "an earlier hook's execution is over too"
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId="d-AAAAAAAAA",
                           lifecycleEventHookExecutionId=post, status="Succeeded")
    assert err["Error"]["Code"] == "DeploymentDoesNotExistException", err
    assert "d-AAAAAAAAA" in err["Error"]["Message"]
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId="not-an-id",
                           lifecycleEventHookExecutionId=post, status="Succeeded")
    assert err["Error"]["Code"] == "InvalidDeploymentIdException", err
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId=dep["id"],
                           lifecycleEventHookExecutionId="00000000-0000-0000-0000-000000000000", status="Succeeded")
    assert err["Error"]["Code"] == "InvalidLifecycleEventHookExecutionIdException", err
    err = codedeploy_error(cd.put_lifecycle_event_hook_execution_status, deploymentId=dep["id"],
                           lifecycleEventHookExecutionId=post, status="Skipped")
    assert err["Error"]["Code"] == "InvalidLifecycleEventHookExecutionStatusException", err
    # Other CodeDeploy operations, and POST / without a target.
    err = codedeploy_error(cd.get_deployment, deploymentId=dep["id"])
    assert err["Error"]["Code"] == "UnknownOperationException", err
    status, headers, data = raw_request(srv.base_url, "POST", "/", b"{}")
    assert status == 404 and json.loads(data)["__type"] == "UnknownOperationException", (status, data)
    target = {"X-Amz-Target": "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus",
              "Content-Type": "application/x-amz-json-1.1"}
    for body, code in [(b"not json", "SerializationException"),
                       (json.dumps({"lifecycleEventHookExecutionId": post, "status": "Succeeded"}).encode(),
                        "DeploymentIdRequiredException")]:
        status, headers, data = raw_request(srv.base_url, "POST", "/", body, headers=target)
        assert status == 400 and json.loads(data)["__type"] == code, (body, status, data)
        assert headers["x-amzn-errortype"] == code, headers


def test_a_hook_that_never_reports_times_out_and_rolls_back(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    name = unique("hook-silent-app")
    hook = unique("hook-silent")
    function_for_deployment(lam, name, "good", "good")
    create_hook(lam, hook, tmp_path, {"via": "aviary"})
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:1s",
                           prewarm=0, hooks={"preTraffic": hook, "timeout": "2s"})
    waiting = wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "PreTraffic", 10, "PreTraffic",
                              server=srv)
    started = time.monotonic()
    assert (waiting["weight"], waiting["step"]) == (0, 0), waiting
    assert waiting["hook"]["status"] == "InProgress" and waiting["hook"]["lifecycleEvent"] == "BeforeAllowTraffic"
    assert waiting["nextTransitionAt"], "a running hook has a deadline"
    # Only Shifting and Baking can be promoted.
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/promote", {"actor": "eve"})
    assert (status, out.get("code")) == (409, "ActionNotAllowed"), out
    assert "cannot be promoted while PreTraffic" in out["message"], out

    done = wait_finished(srv.base_url, dep["id"], timeout=15, server=srv)
    elapsed = time.monotonic() - started
    assert done["status"] == "RolledBack", history_text(done)
    assert done["outcome"]["cause"] == "HookTimedOut", done["outcome"]
    assert done["outcome"]["message"] == f"the BeforeAllowTraffic hook {hook} did not report within 2s"
    assert done["hook"]["status"] == "Failed", done["hook"]
    assert elapsed < 10, f"timed out after {elapsed:.1f}s"
    assert len(hook_events(tmp_path)) == 1, "the hook was invoked once"
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "1" and "RoutingConfig" not in got, got
    # A late report is refused.
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{dep['id']}/hooks/{done['hook']['executionId']}",
                      {"status": "Succeeded"})
    assert (status, out.get("code")) == (409, "LifecycleEventAlreadyCompletedException"), out
    assert get_deployment(srv.base_url, dep["id"])["status"] == "RolledBack"


def test_a_post_traffic_hook_timeout_reverts_the_promoted_alias(srv, tmp_path):
    lam = lambda_client(srv.base_url)
    name = unique("hook-post-app")
    hook = unique("hook-post-silent")
    function_for_deployment(lam, name, "good", "good")
    create_hook(lam, hook, tmp_path, {"via": "aviary"})
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="all-at-once",
                           prewarm=0, hooks={"postTraffic": hook, "timeout": "2s"})
    post = wait_deployment(srv.base_url, dep["id"], lambda d: d["status"] == "PostTraffic", 10, "PostTraffic",
                           server=srv)
    assert (post["weight"], post["step"], post["steps"]) == (1, 1, 0), post
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "2" and "RoutingConfig" not in got, got
    done = wait_finished(srv.base_url, dep["id"], timeout=15, server=srv)
    assert done["status"] == "RolledBack", history_text(done)
    assert done["outcome"]["cause"] == "HookTimedOut"
    assert done["outcome"]["message"] == f"the AfterAllowTraffic hook {hook} did not report within 2s"
    got = lam.get_alias(FunctionName=name, Name="live")
    assert got["FunctionVersion"] == "1" and "RoutingConfig" not in got, got
