"""Notifications end to end: environments announce their deployments to a local webhook receiver in
Slack's incoming-webhook format and in Aviary's generic JSON, with retries, against a real `aviary serve`
(short retry delays: `--notify-retry-delays 0.2,0.4`)."""

from __future__ import annotations

import re
import time

import pytest

from aviary_harness import (
    WebhookReceiver, api, deployment_action, function_for_deployment, history_text, lambda_client,
    start_deployment, stop_cleanly, unique, wait_deployment, wait_finished, wait_status,
)

TIME_ONLY = {"minimumInvocations": 0}
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PRE_APPROVED_EVENTS = ["started", "approved", "stepChanged", "promoted"]


@pytest.fixture
def srv(start_server):
    server = start_server(None, "--notify-retry-delays", "0.2,0.4")
    yield server
    stop_cleanly(server)


def put_environment(base_url: str, name: str, **body) -> dict:
    status, out = api(base_url, "PUT", f"/v1/environments/{name}", body)
    assert status == 200, f"PUT /v1/environments/{name} {body} -> {status} {out}"
    return out


def environment(base_url: str, receiver: WebhookReceiver, *, require_approval: bool, slack: str = "/slack",
                hook: str = "/hook") -> str:
    """A fresh environment announcing to `slack` and `hook` on the receiver; returns its name."""
    name = unique("env").replace("-", "")
    put_environment(base_url, name, requireApproval=require_approval, canaryWeight=0.2, strategy="canary:10%:1s",
                    approvalTimeout="10m", notify=[f"slack:{receiver.url(slack)}", f"webhook:{receiver.url(hook)}"])
    return name


def deploy(base_url: str, lam, env: str) -> dict:
    name = unique("notify")
    function_for_deployment(lam, name, "good", "good")
    return start_deployment(base_url, function=name, alias="live", targetVersion=2, prewarm=0, health=TIME_ONLY,
                            environment=env, metadata={"repository": "my-app", "build": "760"})


def events(requests) -> list[str]:
    """The `event` of each generic webhook message."""
    return [r.json["event"] for r in requests]


def section_text(message: dict) -> str:
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 1, message
    assert sections[0]["text"]["type"] == "mrkdwn", sections
    return sections[0]["text"]["text"]


def notifications_settled(deployment: dict, count: int) -> bool:
    notes = deployment.get("notifications") or []
    return len(notes) >= count and all(n["state"] != "pending" for n in notes)


def test_a_pre_approved_environment_announces_every_step_in_both_formats(srv):
    lam = lambda_client(srv.base_url)
    with WebhookReceiver() as receiver:
        env = environment(srv.base_url, receiver, require_approval=False)
        dep = deploy(srv.base_url, lam, env)
        done = wait_finished(srv.base_url, dep["id"], timeout=30, server=srv)
        assert done["status"] == "Succeeded", history_text(done)
        receiver.wait_for(lambda rs: len([r for r in rs if r.path == "/hook"]) >= 4
                          and len([r for r in rs if r.path == "/slack"]) >= 4, 15, "four messages at each target")
        hooks, slacks = receiver.requests("/hook"), receiver.requests("/slack")

    for request in hooks + slacks:
        assert request.headers["content-type"] == "application/json", request.headers
        assert request.headers["user-agent"] == "aviary", request.headers

    # The generic webhook: one message per event, in order, with the deployment's facts.
    assert events(hooks) == PRE_APPROVED_EVENTS
    for message in (r.json for r in hooks):
        assert ISO_TIME.match(message["at"]), message["at"]
        facts = message["deployment"]
        assert (facts["id"], facts["function"], facts["alias"]) == (dep["id"], dep["function"], "live"), facts
        assert (facts["fromVersion"], facts["toVersion"]) == ("1", "2"), facts
        assert facts["strategy"] == "canary:10%:1s" and facts["environment"] == env, facts
        assert {k: facts["metadata"].get(k) for k in ("repository", "build")} == {"repository": "my-app", "build": "760"}, facts
        assert "links" not in message, "a pre-approved gate has no links to announce"
    step = hooks[2].json
    assert step["deployment"]["status"] == "Shifting" and step["deployment"]["weight"] == 0.1, step
    assert set(step["health"]) >= {"newVersion", "oldVersion"}, step
    promoted = hooks[3].json["deployment"]
    assert promoted["weight"] == 1 and promoted["outcome"]["cause"] == "Promoted", promoted

    # Slack: a summary line and a section of details per event; no buttons without a gate.
    texts = [r.json["text"] for r in slacks]
    prefix = f"{dep['function']}:live 1 → 2"
    assert texts[0].startswith(f":rocket: {prefix} started"), texts
    assert texts[1].startswith(f":white_check_mark: {prefix}") and "pre-approved" in texts[1], texts
    assert texts[2] == f":arrow_forward: {prefix} now at 10% on v2", texts
    assert texts[3].startswith(f":tada: {prefix} promoted"), texts
    for message in (r.json for r in slacks):
        assert not [b for b in message["blocks"] if b["type"] == "actions"], message
        details = section_text(message)
        assert f"*Environment:* {env}" in details and "*Repository:* my-app · *Build:* 760" in details, details

    # The deployment lists its deliveries, without the receiver's paths.
    shown = wait_deployment(srv.base_url, dep["id"], lambda d: notifications_settled(d, 8), 10, "settled notifications")
    notes = shown["notifications"]
    assert len(notes) == 8 and {n["state"] for n in notes} == {"delivered"}, notes
    assert {n["attempts"] for n in notes} == {1} and all(n.get("lastError") is None for n in notes), notes
    assert {n["target"] for n in notes} == {f"slack:http://127.0.0.1:{receiver.port}/…",
                                           f"webhook:http://127.0.0.1:{receiver.port}/…"}, notes
    assert [n["event"] for n in notes if n["target"].startswith("webhook:")] == PRE_APPROVED_EVENTS


def test_a_gated_environment_announces_the_approve_and_roll_back_links(srv):
    lam = lambda_client(srv.base_url)
    with WebhookReceiver() as receiver:
        env = environment(srv.base_url, receiver, require_approval=True)
        dep = deploy(srv.base_url, lam, env)
        waiting = wait_status(srv.base_url, dep["id"], "AwaitingApproval", timeout=15, server=srv)
        links = waiting["approval"]["links"]
        assert waiting["approval"]["status"] == "Pending", waiting["approval"]
        receiver.wait_for(lambda rs: "awaitingApproval" in events(r for r in rs if r.path == "/hook")
                          and len([r for r in rs if r.path == "/slack"]) >= 2, 15, "the gate's announcements")

        slack = receiver.requests("/slack")[1].json
        assert slack["text"].startswith(f":hourglass: {dep['function']}:live 1 → 2 awaiting approval (20% on v2)"), slack
        assert f"Approve: <{links['approve']}>" in slack["text"] and f"Roll back: <{links['rollback']}>" in slack["text"]
        actions = [b for b in slack["blocks"] if b["type"] == "actions"]
        assert len(actions) == 1, slack["blocks"]
        buttons = actions[0]["elements"]
        assert [(b["type"], b["text"]["text"], b["url"], b["style"]) for b in buttons] == [
            ("button", "Approve", links["approve"], "primary"), ("button", "Roll back", links["rollback"], "danger")]
        assert "*Status:* AwaitingApproval" in section_text(slack)

        hook = next(r.json for r in receiver.requests("/hook") if r.json["event"] == "awaitingApproval")
        assert hook["links"]["approve"] == links["approve"] and hook["links"]["rollback"] == links["rollback"], hook
        assert ISO_TIME.match(hook["links"]["expiresAt"]), hook["links"]
        assert hook["deployment"]["weight"] == 0.2 and hook["deployment"]["status"] == "AwaitingApproval", hook

        # Rolled back at the gate: announced with the reason, and the links are not repeated.
        deployment_action(srv.base_url, dep["id"], "rollback", actor="bob", reason="not today")
        done = wait_finished(srv.base_url, dep["id"], timeout=15, server=srv)
        assert done["status"] == "RolledBack", history_text(done)
        receiver.wait_for(lambda rs: "rolledBack" in events(r for r in rs if r.path == "/hook")
                          and len([r for r in rs if r.path == "/slack"]) >= 3, 15, "the rollback's announcements")
        rolled = next(r.json for r in receiver.requests("/hook") if r.json["event"] == "rolledBack")
        slack = receiver.requests("/slack")[-1].json

    assert events(receiver.requests("/hook")) == ["started", "awaitingApproval", "rolledBack"]
    outcome = rolled["deployment"]["outcome"]
    assert outcome["cause"] == "Manual" and outcome["by"] == "bob" and "not today" in outcome["message"], outcome
    assert "links" not in rolled, rolled
    assert slack["text"].startswith(f":rewind: {dep['function']}:live 1 → 2 rolled back to v1"), slack["text"]
    assert not [b for b in slack["blocks"] if b["type"] == "actions"], slack
    assert "*Reason:*" in section_text(slack) and "not today" in section_text(slack)


def test_failing_receivers_are_retried_and_never_hold_the_deployment(srv):
    lam = lambda_client(srv.base_url)
    # /hook fails twice then accepts; /slack always fails.
    with WebhookReceiver({"/hook": [500, 500], "/slack": 500}) as receiver:
        env = environment(srv.base_url, receiver, require_approval=False)
        dep = deploy(srv.base_url, lam, env)
        done = wait_finished(srv.base_url, dep["id"], timeout=30, server=srv)
        finished_at = time.monotonic()
        assert done["status"] == "Succeeded", history_text(done)
        shown = wait_deployment(srv.base_url, dep["id"], lambda d: notifications_settled(d, 8), 20,
                                "settled notifications", server=srv)
        hooks, slacks = receiver.requests("/hook"), receiver.requests("/slack")

    # The retried message arrived, on its third attempt, before the later ones (order per target holds).
    assert events(hooks) == ["started"] * 3 + PRE_APPROVED_EVENTS[1:], [(r.json["event"], r.status) for r in hooks]
    assert [r.status for r in hooks] == [500, 500] + [200] * 4
    # Backoff: 0.2 s, then 0.4 s.
    assert hooks[1].at - hooks[0].at >= 0.18 and hooks[2].at - hooks[1].at >= 0.38, [r.at for r in hooks]

    notes = shown["notifications"]
    by_target = {
        kind: [n for n in notes if n["target"].startswith(kind + ":")] for kind in ("webhook", "slack")}
    webhook = by_target["webhook"]
    assert [(n["event"], n["state"], n["attempts"]) for n in webhook] == [
        ("started", "delivered", 3), ("approved", "delivered", 1), ("stepChanged", "delivered", 1),
        ("promoted", "delivered", 1)], webhook
    assert webhook[0]["lastError"] == "HTTP 500", webhook

    # The dead receiver: every message tried three times, then failed — long after the deployment ended.
    slack = by_target["slack"]
    assert [n["event"] for n in slack] == PRE_APPROVED_EVENTS, slack
    assert all((n["state"], n["attempts"], n["lastError"]) == ("failed", 3, "HTTP 500") for n in slack), slack
    assert len(slacks) == 12, [r.status for r in slacks]
    assert slacks[-1].at > finished_at, "the deployment finished without waiting for its notifications"
