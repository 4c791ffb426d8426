"""Humans in the loop: environments, approval gates, and the signed approve / roll-back links, driven
with a real HTTP client against a real `aviary serve`."""

from __future__ import annotations

import base64
import subprocess
import threading
import time
import urllib.parse

import pytest

from aviary_harness import (
    Traffic, api, aviary_bin, function_for_deployment, get_deployment, history_text, lambda_client, raw_request,
    start_deployment, stop_cleanly, unique, wait_deployment, wait_finished, wait_status,
)

TIME_ONLY = {"minimumInvocations": 0}


@pytest.fixture
def srv(start_server):
    server = start_server()
    yield server
    stop_cleanly(server)


def put_environment(base_url: str, name: str, **body) -> dict:
    status, out = api(base_url, "PUT", f"/v1/environments/{name}", body)
    assert status == 200, f"PUT /v1/environments/{name} {body} -> {status} {out}"
    return out


def link_path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def open_link(base_url: str, url: str):
    """GET, as a browser or a chat app's preview would: (status, HTML)."""
    status, headers, body = raw_request(base_url, "GET", link_path(url))
    assert headers.get("content-type", "").startswith("text/html"), headers
    return status, body.decode()


def confirm_link(base_url: str, url: str, name: str | None = "alice", reason: str = ""):
    """POST of the page's form: (status, HTML)."""
    form = urllib.parse.urlencode({k: v for k, v in {"name": name, "reason": reason}.items() if v is not None})
    status, headers, body = raw_request(base_url, "POST", link_path(url), form,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert headers.get("content-type", "").startswith("text/html"), headers
    return status, body.decode()


def audit_entries(base_url: str, deployment_id: str) -> list[dict]:
    status, out = api(base_url, "GET", f"/v1/audit?deployment={deployment_id}&limit=500")
    assert status == 200, out
    return out["entries"]


def gated(base_url: str, lam, *modes: str, strategy: str = "canary:10%:1s", **environment) -> tuple[str, dict]:
    """A function with one version per mode and a deployment of version 2 in a gated environment, waiting."""
    name = unique("gate")
    function_for_deployment(lam, name, *modes)
    env = unique("prod").replace("-", "")[:30]
    put_environment(base_url, env, requireApproval=True, canaryWeight=0.2, **environment)
    dep = start_deployment(base_url, function=name, alias="live", targetVersion=2, strategy=strategy, prewarm=0,
                           health=TIME_ONLY, environment=env)
    waiting = wait_status(base_url, dep["id"], "AwaitingApproval", timeout=15)
    return name, waiting


def alias_state(lam, name: str):
    got = lam.get_alias(FunctionName=name, Name="live")
    return got["FunctionVersion"], got.get("RoutingConfig")


def test_the_gate_holds_the_canary_weight_and_the_approve_link_acts_only_on_post(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good")
    approval = waiting["approval"]
    assert approval["status"] == "Pending" and approval["canaryWeight"] == 0.2, approval
    assert waiting["weight"] == 0.2 and waiting["step"] == 0, waiting
    assert alias_state(lam, name) == ("1", {"AdditionalVersionWeights": {"2": 0.2}})
    links = approval["links"]
    assert links["approve"].startswith(srv.base_url + "/approvals/") and links["rollback"] != links["approve"]

    # Opening the link (a chat app's preview, a curious click) shows what would happen and changes nothing.
    for _ in range(3):
        status, page = open_link(srv.base_url, links["approve"])
        assert status == 200, page
        assert name in page and "Approve" in page and "<form method=\"post\"" in page, page
        assert "Health" in page and "Invocations" in page
    _, headers, _ = raw_request(srv.base_url, "GET", link_path(links["approve"]))
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer", headers
    time.sleep(1.5)
    still = get_deployment(srv.base_url, waiting["id"])
    assert still["status"] == "AwaitingApproval" and still["approval"]["status"] == "Pending", history_text(still)

    # A name is required: it is what the audit trail records.
    status, page = confirm_link(srv.base_url, links["approve"], name="")
    assert status == 400 and "enter your name" in page
    assert get_deployment(srv.base_url, waiting["id"])["status"] == "AwaitingApproval"

    status, page = confirm_link(srv.base_url, links["approve"], name="alice", reason="dashboards green")
    assert status == 200 and "Approved by alice" in page, page
    done = wait_finished(srv.base_url, waiting["id"], timeout=20)
    assert done["status"] == "Succeeded", history_text(done)
    assert done["approval"]["status"] == "Approved" and done["approval"]["decision"]["by"] == "alice"
    assert done["approval"]["decision"]["via"] == "link" and done["approval"]["decision"]["source"] == "127.0.0.1"
    assert "links" not in done["approval"], "links are shown only while the gate waits"
    assert alias_state(lam, name) == ("2", None)

    approved = [e for e in audit_entries(srv.base_url, waiting["id"]) if e["action"] == "deployment.approved"]
    assert len(approved) == 1, approved
    assert approved[0]["actor"] == "alice" and approved[0]["source"] == "127.0.0.1", approved
    assert approved[0]["details"]["via"] == "link" and approved[0]["details"]["tokenId"], approved
    assert "dashboards green" in approved[0]["details"]["message"]

    # Replayed: refused, and nothing changes.
    status, page = confirm_link(srv.base_url, links["approve"], name="mallory")
    assert status == 409 and "Link already used" in page and "used by alice" in page, page
    status, page = open_link(srv.base_url, links["approve"])
    assert status == 409 and "already used" in page
    assert alias_state(lam, name) == ("2", None)


def test_the_rollback_link_puts_the_alias_back_at_once(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good")
    links = waiting["approval"]["links"]
    status, page = open_link(srv.base_url, links["rollback"])
    assert status == 200 and "Roll back" in page and "back on version 1" in page, page
    status, page = confirm_link(srv.base_url, links["rollback"], name="bob", reason="wrong build")
    assert status == 200 and "Rolled back by bob" in page, page
    out = get_deployment(srv.base_url, waiting["id"])
    assert out["status"] == "RolledBack" and out["outcome"]["cause"] == "Manual" and out["outcome"]["by"] == "bob", out
    assert out["approval"]["status"] == "RolledBack" and out["approval"]["decision"]["via"] == "link"
    assert alias_state(lam, name) == ("1", None)
    # The approve link of a rolled-back gate does nothing either.
    status, page = confirm_link(srv.base_url, links["approve"], name="alice")
    assert status == 409 and "already rolled back by bob" in page, page
    assert alias_state(lam, name) == ("1", None)


def test_forged_tampered_and_foreign_tokens_are_refused(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good")
    approve = waiting["approval"]["links"]["approve"]
    token = link_path(approve).rsplit("/", 1)[1]
    payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    # Same signature, rollback swapped for approve in the payload: the signature no longer matches.
    swapped = base64.urlsafe_b64encode(raw.replace("|approve|", "|rollback|").encode()).decode().rstrip("=")
    for bad in [f"{payload}.{flipped}", f"{swapped}.{signature}", "not-a-token", f"{payload}.", "x" * 600]:
        for method in ("GET", "POST"):
            status, _, body = raw_request(srv.base_url, method, f"/approvals/{bad}", "name=eve" if method == "POST" else None,
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert status == 403, (bad, method, status, body[:300])
            assert b"Invalid link" in body and b"Nothing was done" in body
    assert get_deployment(srv.base_url, waiting["id"])["status"] == "AwaitingApproval"
    assert alias_state(lam, name) == ("1", {"AdditionalVersionWeights": {"2": 0.2}})



def test_an_expired_gate_rolls_back_and_its_links_are_refused(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good", approvalTimeout="2s")
    links = waiting["approval"]["links"]
    done = wait_finished(srv.base_url, waiting["id"], timeout=10)
    assert done["status"] == "RolledBack" and done["outcome"]["cause"] == "ApprovalTimedOut", history_text(done)
    assert done["outcome"]["message"] == "no approval within 2s"
    assert alias_state(lam, name) == ("1", None)
    for url in (links["approve"], links["rollback"]):
        status, page = confirm_link(srv.base_url, url, name="alice")
        assert status == 410 and "expired" in page, page


def test_a_failing_canary_is_rolled_back_while_waiting_and_a_late_approval_is_refused_and_recorded(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "fail")
    with Traffic(srv.base_url, name, rate=40) as traffic:
        done = wait_finished(srv.base_url, waiting["id"], timeout=30)
    assert done["status"] == "RolledBack" and done["outcome"]["cause"] == "HealthCheck", history_text(done)
    assert "AwaitingApproval" in {h["status"] for h in done["history"]}
    assert done["approval"]["status"] == "Closed", done["approval"]
    assert alias_state(lam, name) == ("1", None)
    assert any(c.version == "2" for c in traffic.snapshot()), traffic.summary()

    status, page = confirm_link(srv.base_url, waiting["approval"]["links"]["approve"], name="alice")
    assert status == 409 and "finished" in page, page
    actions = [(e["action"], e["actor"]) for e in audit_entries(srv.base_url, waiting["id"])]
    assert ("deployment.rolledBack", "aviary") in actions, actions
    assert actions[-1] == ("deployment.approvalRefused", "alice"), actions


def test_concurrent_approve_and_rollback_exactly_one_wins_and_both_are_recorded(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good", strategy="canary:10%:30s")
    links = waiting["approval"]["links"]
    results: dict[str, tuple[int, str]] = {}
    barrier = threading.Barrier(2)

    def click(kind: str, who: str) -> None:
        barrier.wait()
        results[kind] = confirm_link(srv.base_url, links[kind], name=who)

    threads = [threading.Thread(target=click, args=("approve", "alice")), threading.Thread(target=click, args=("rollback", "bob"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    statuses = sorted(status for status, _ in results.values())
    assert statuses == [200, 409], results
    winner = "approve" if results["approve"][0] == 200 else "rollback"
    out = get_deployment(srv.base_url, waiting["id"])
    if winner == "approve":
        assert out["status"] == "Shifting" and out["approval"]["decision"]["by"] == "alice", history_text(out)
    else:
        assert out["status"] == "RolledBack" and out["approval"]["decision"]["by"] == "bob", history_text(out)
    actions = {e["action"]: e["actor"] for e in audit_entries(srv.base_url, waiting["id"])}
    if winner == "approve":
        assert actions.get("deployment.approved") == "alice" and actions.get("deployment.rollbackRefused") == "bob", actions
    else:
        assert actions.get("deployment.rolledBack") == "bob" and actions.get("deployment.approvalRefused") == "alice", actions


def test_only_listed_approvers_may_decide(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good", approvers=["alice"])
    status, page = confirm_link(srv.base_url, waiting["approval"]["links"]["approve"], name="bob")
    assert status == 403 and "bob may not approve" in page, page
    cli = subprocess.run([str(aviary_bin()), "approve", waiting["id"], "--actor", "bob", "--endpoint", srv.base_url],
                         capture_output=True, text=True, timeout=30)
    assert cli.returncode == 1 and "NotAnApprover: bob may not approve" in cli.stderr, cli
    assert get_deployment(srv.base_url, waiting["id"])["status"] == "AwaitingApproval"
    status, _ = confirm_link(srv.base_url, waiting["approval"]["links"]["approve"], name="Alice")
    assert status == 200


def test_a_pre_approved_environment_takes_the_same_gate_and_the_audit_says_so(srv):
    lam = lambda_client(srv.base_url)
    name = unique("gate-dev")
    function_for_deployment(lam, name, "good", "good")
    dep = start_deployment(srv.base_url, function=name, alias="live", targetVersion=2, strategy="canary:10%:1s",
                           prewarm=0, health=TIME_ONLY, environment="dev")
    done = wait_finished(srv.base_url, dep["id"], timeout=20)
    assert done["status"] == "Succeeded", history_text(done)
    assert done["environment"] == "dev" and done["metadata"]["environment"] == "dev"
    assert done["approval"]["preApproved"] is True and done["approval"]["status"] == "Approved"
    assert done["approval"]["decision"]["via"] == "policy"
    assert "approved automatically: environment dev is pre-approved" in history_text(done)
    actions = [(e["action"], e["actor"], e["details"].get("via")) for e in audit_entries(srv.base_url, dep["id"])]
    assert ("deployment.awaitingApproval", "aviary", None) in actions, actions
    assert ("deployment.approved", "aviary", "policy") in actions, actions


def test_the_api_approves_too_and_promote_cannot_skip_the_gate(srv):
    lam = lambda_client(srv.base_url)
    name, waiting = gated(srv.base_url, lam, "good", "good", afterApproval="promote")
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{waiting['id']}/promote", {"actor": "carol"})
    assert status == 409 and "awaiting approval" in out["message"], out
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{waiting['id']}/approve", {"actor": "carol", "reason": "ok"})
    assert status == 200, out
    assert out["status"] == "Succeeded" and out["approval"]["decision"] == {
        "kind": "Approved", "at": out["approval"]["decision"]["at"], "by": "carol", "via": "api", "source": "127.0.0.1"}, out
    assert alias_state(lam, name) == ("2", None)
    status, out = api(srv.base_url, "POST", f"/v1/deployments/{waiting['id']}/approve", {"actor": "carol"})
    assert status == 409 and out["code"] == "DeploymentFinished", out


def test_environments_are_managed_through_the_api(srv):
    status, out = api(srv.base_url, "GET", "/v1/environments")
    assert status == 200 and [e["name"] for e in out["environments"]] == ["dev", "prod", "qa"], out
    prod = next(e for e in out["environments"] if e["name"] == "prod")
    assert prod["requireApproval"] is True and prod["canaryWeight"] == 0.1 and prod["approvalTimeout"] == "24h", prod
    assert next(e for e in out["environments"] if e["name"] == "dev")["requireApproval"] is False

    first = put_environment(srv.base_url, "payments", strategy="linear:10%:1m", canaryWeight=0.05,
                            notify=["slack:http://127.0.0.1:9/services/T000/B000/SECRET"])
    assert first["requireApproval"] is True, "a new name is gated unless told otherwise"
    assert first["notify"] == ["slack:http://127.0.0.1:9/…"], "webhook secrets are not shown back"
    second = put_environment(srv.base_url, "payments", approvalTimeout="4h", onTimeout="approve")
    assert (second["strategy"], second["canaryWeight"], second["approvalTimeout"], second["onTimeout"]) == (
        "linear:10%:1m", 0.05, "4h", "approve"), second
    assert second["notify"] == first["notify"], "fields not given keep their value"

    for body, needle in [({"canaryWeight": 1.0}, "below 1"), ({"strategy": "sometimes"}, "unknown strategy"),
                         ({"notify": ["ftp://x"]}, "notification target"), ({"onTimeout": "panic"}, "rollback or approve"),
                         ({"approvalTimeout": "soon"}, "duration")]:
        status, out = api(srv.base_url, "PUT", "/v1/environments/payments", body)
        assert status == 400 and needle in out["message"], (body, out)
    status, out = api(srv.base_url, "PUT", "/v1/environments/9lives", {})
    assert status == 400 and "environment name" in out["message"], out
    status, out = api(srv.base_url, "GET", "/v1/environments/nowhere")
    assert status == 404, out
    status, out = api(srv.base_url, "POST", "/v1/deployments", {"function": "f", "alias": "live", "targetVersion": 2,
                                                                "environment": "nowhere"})
    assert status == 404 and "environment nowhere does not exist" in out["message"], out

    status, _ = api(srv.base_url, "DELETE", "/v1/environments/payments")
    assert status == 204
    status, _ = api(srv.base_url, "DELETE", "/v1/environments/payments")
    assert status == 404
    changes = [e["action"] for e in api(srv.base_url, "GET", "/v1/audit?limit=500")[1]["entries"] if e["action"].startswith("environment.")]
    assert changes == ["environment.updated", "environment.updated", "environment.deleted"], changes


def test_links_can_be_limited_to_client_networks(start_server):
    srv = start_server(None, "--approval-networks", "10.0.0.0/8,fd00::/8")
    try:
        lam = lambda_client(srv.base_url)
        _, waiting = gated(srv.base_url, lam, "good", "good")
        status, page = confirm_link(srv.base_url, waiting["approval"]["links"]["approve"], name="alice")
        assert status == 403 and "cannot be used from 127.0.0.1" in page, page
        assert get_deployment(srv.base_url, waiting["id"])["status"] == "AwaitingApproval"
    finally:
        stop_cleanly(srv)


def test_deploy_env_prod_wait_blocks_through_the_approval_printing_the_links(srv):
    lam = lambda_client(srv.base_url)
    name = unique("gate-cli")
    function_for_deployment(lam, name, "good", "good")
    out = subprocess.run([str(aviary_bin()), "env", "set", "prod", "--canary-weight", "0.25", "--strategy", "canary:10%:1s",
                          "--endpoint", srv.base_url], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "required; 25% canary while waiting" in out.stdout, out

    proc = subprocess.Popen(
        [str(aviary_bin()), "deploy", name, "--alias", "live", "--version", "2", "--env", "prod", "--wait", "--prewarm", "0",
         "--min-invocations", "0", "--meta", "repository=my-app", "--meta", "build=760", "--endpoint", srv.base_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    approve = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and approve is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip().startswith("approve:"):
            approve = line.split("approve:", 1)[1].strip()
    assert approve, "".join(lines) + proc.stderr.read() if proc.poll() is not None else "".join(lines)
    assert proc.poll() is None, "deploy --wait must block while the gate waits"
    status, _ = confirm_link(srv.base_url, approve, name="release-manager")
    assert status == 200
    # Read on through the same buffered reader (communicate() would skip what readline() buffered).
    stdout = proc.stdout.read()
    proc.wait(timeout=30)
    stderr = proc.stderr.read()
    text = "".join(lines) + stdout
    assert proc.returncode == 0, text + stderr
    assert "in prod" in text and "roll back:" in text and "approved by release-manager via link" in text, text
    assert "Succeeded" in text, text
    entries = api(srv.base_url, "GET", "/v1/audit?repository=my-app&limit=500")[1]["entries"]
    assert any(e["action"] == "deployment.approved" and e["build"] == "760" for e in entries), entries
