"""The audit trail: every change and every deployment decision, who made it, hash-chained."""

from __future__ import annotations

import sqlite3

from aviary_harness import (api, deployment_action, function_for_deployment, run_aviary, start_deployment, unique,
                            wait_finished, lambda_client)


def test_api_changes_and_deployment_decisions_are_recorded_with_their_repository(start_server, tmp_path):
    server = start_server(tmp_path / "data")
    lam = lambda_client(server.base_url)
    name = unique("audit")
    function_for_deployment(lam, name, "good", "good")
    lam.update_alias(FunctionName=name, Name="live", Description="before the release")
    dep = start_deployment(server.base_url, function=name, alias="live", targetVersion=2, strategy="canary:20%:30s",
                           prewarm=0, actor="ana", metadata={"repository": "shop", "build": "760"})
    deployment_action(server.base_url, dep["id"], "rollback", actor="ben", reason="wrong build")
    wait_finished(server.base_url, dep["id"])

    status, page = api(server.base_url, "GET", f"/v1/audit?function={name}")
    assert status == 200
    actions = [entry["action"] for entry in page["entries"]]
    assert actions[:4] == ["CreateFunction", "UpdateFunctionCode", "CreateAlias", "UpdateAlias"], actions
    assert "deployment.shifting" in actions and actions[-1] == "deployment.rolledBack"
    update = page["entries"][3]
    assert update["actor"] == "anonymous" and update["source"] == "127.0.0.1"
    assert update["details"]["change"] == 'alias live: description "before the release"', update
    rolled = page["entries"][-1]
    assert rolled["actor"] == "ben" and rolled["deployment"] == dep["id"]
    assert rolled["repository"] == "shop" and rolled["build"] == "760"
    assert "wrong build" in rolled["details"]["message"]
    for before, after in zip(page["entries"], page["entries"][1:]):
        assert after["previousHash"] == before["hash"] or after["sequence"] != before["sequence"] + 1

    status, by_repository = api(server.base_url, "GET", "/v1/audit?repository=shop")
    assert status == 200 and by_repository["entries"]
    assert all(entry["deployment"] == dep["id"] for entry in by_repository["entries"])
    status, bad = api(server.base_url, "GET", "/v1/audit?since=yesterday")
    assert status == 400 and bad["code"] == "InvalidRequest"

    history = run_aviary("history", "--function", name, "--endpoint", server.base_url)
    assert history.returncode == 0, history.describe()
    assert "UpdateAlias" in history.stdout and "deployment.rolledBack" in history.stdout and "ben" in history.stdout


def test_audit_verify_finds_an_edited_entry(start_server, tmp_path):
    data = tmp_path / "data"
    server = start_server(data)
    lam = lambda_client(server.base_url)
    function_for_deployment(lam, unique("verify"), "good", "good")
    ok = run_aviary("audit", "verify", "--endpoint", server.base_url)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.describe()

    with sqlite3.connect(data / "aviary.sqlite") as db:
        db.execute("update audit set event = replace(event, 'anonymous', 'mallory') where sequence = 2")
    broken = run_aviary("audit", "verify", "--endpoint", server.base_url)
    assert broken.returncode == 1, broken.describe()
    assert "BROKEN at entry 2" in broken.stdout
    status, result = api(server.base_url, "GET", "/v1/audit/verify")
    assert status == 200 and result["intact"] is False and result["firstBroken"] == 2
