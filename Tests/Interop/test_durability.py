"""Process lifecycle and restart durability: each test runs its own `aviary serve` on its own data dir."""

from __future__ import annotations

import pytest

from aviary_harness import (
    REVISION_MISMATCH, AwsCli, assert_error, call_error, code_sha256, create_function, function_arn,
    lambda_client, make_zip, publish_changed, raw_request, strip_meta, unique,
)


def test_startup_banner_health_and_sigterm_exit_code(start_server):
    srv = start_server()
    status, headers, _ = raw_request(srv.base_url, "GET", "/health")
    assert status == 200
    banner = srv.full_output()
    assert f"listening on http://127.0.0.1:{srv.port}" in banner
    assert str(srv.data_dir) in banner
    assert "unauthenticated" in banner
    code = srv.stop()
    assert code == 0, f"exit code after SIGTERM was {code}\n{srv.output()}"
    with pytest.raises(OSError):
        raw_request(srv.base_url, "GET", "/health", timeout=2)


def _snapshot(lam, names: list[str]) -> dict:
    """Everything a client can read about these functions, minus per-request metadata."""
    snap = {}
    for name in names:
        got = strip_meta(lam.get_function(FunctionName=name))
        got.get("Code", {}).pop("Location", None)  # a presigned URL may embed host:port; compared separately
        snap[f"{name}/get_function"] = got
        snap[f"{name}/versions"] = [v for p in lam.get_paginator("list_versions_by_function").paginate(
            FunctionName=name) for v in p["Versions"]]
        aliases = [a for p in lam.get_paginator("list_aliases").paginate(FunctionName=name) for a in p["Aliases"]]
        snap[f"{name}/aliases"] = sorted(aliases, key=lambda a: a["Name"])
        for alias in aliases:
            snap[f"{name}/alias/{alias['Name']}"] = strip_meta(lam.get_alias(FunctionName=name, Name=alias["Name"]))
            snap[f"{name}/via-alias/{alias['Name']}"] = strip_meta(
                lam.get_function_configuration(FunctionName=name, Qualifier=alias["Name"]))
        for v in snap[f"{name}/versions"]:
            snap[f"{name}/config/{v['Version']}"] = strip_meta(
                lam.get_function_configuration(FunctionName=name, Qualifier=v["Version"]))
    snap["functions"] = sorted((f["FunctionName"], f["Version"], f["RevisionId"]) for p in
                               lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
                               for f in p["Functions"])
    settings = strip_meta(lam.get_account_settings())
    snap["function_count"] = settings["AccountUsage"]["FunctionCount"]
    return snap


def test_state_survives_restart(start_server, tmp_path_factory, tmp_path):
    data_dir = tmp_path_factory.mktemp("durable-data")
    srv = start_server(data_dir)
    lam = lambda_client(srv.base_url)

    # Function A: versions 1, 2, 3 (3 deleted), alias live 1 -> 2 at 20%, alias stable -> 2.
    a = unique("dur-a")
    code_a = make_zip("a-code")
    create_function(lam, a, zip_bytes=code_a, Description="first", Timeout=10, MemorySize=256,
                    Environment={"Variables": {"STAGE": "prod"}})
    publish_changed(lam, a, "one")
    code_a2 = make_zip("a-code-2")
    lam.update_function_code(FunctionName=a, ZipFile=code_a2)
    assert lam.publish_version(FunctionName=a)["Version"] == "2"
    assert publish_changed(lam, a, "three")["Version"] == "3"
    lam.delete_function(FunctionName=a, Qualifier="3")
    live = lam.create_alias(FunctionName=a, Name="live", FunctionVersion="1", Description="prod",
                            RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    lam.create_alias(FunctionName=a, Name="stable", FunctionVersion="2")

    # Function B: created with --publish via the CLI, no aliases; C: deleted before the restart.
    b = unique("dur-b")
    zip_b = tmp_path / "b.zip"
    zip_b.write_bytes(make_zip("b-code"))
    AwsCli(srv.base_url).ok("create-function", "--function-name", b, "--runtime", "python3.12", "--handler",
                            "index.handler", "--role", "arn:aws:iam::123456789012:role/lambda-role",
                            "--zip-file", f"fileb://{zip_b}", "--publish")
    c = unique("dur-c")
    create_function(lam, c)
    lam.delete_function(FunctionName=c)

    before = _snapshot(lam, [a, b])
    assert before[f"{a}/get_function"]["Configuration"]["CodeSha256"] == code_sha256(code_a2)
    assert [v["Version"] for v in before[f"{a}/versions"]] == ["$LATEST", "1", "2"]
    assert before[f"{a}/config/1"]["CodeSha256"] == code_sha256(code_a)
    assert before[f"{a}/alias/live"]["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    assert before["function_count"] == 2

    assert srv.stop() == 0, srv.output()

    srv2 = start_server(data_dir)
    lam2 = lambda_client(srv2.base_url)
    after = _snapshot(lam2, [a, b])
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], f"{key} changed across the restart"
    assert_error(call_error(lam2.get_function, FunctionName=c), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn(c)}")

    # Numbering continues after the restart and never reuses the deleted 3.
    assert publish_changed(lam2, a, "four")["Version"] == "4"
    assert lam2.publish_version(FunctionName=a)["Version"] == "4"  # no change since 4: same version

    # The no-op publish rule survives the restart: B has not changed since version 1 was cut.
    b1 = before[f"{b}/config/1"]
    again = lam2.publish_version(FunctionName=b)
    assert (again["Version"], again["RevisionId"]) == ("1", b1["RevisionId"])
    assert publish_changed(lam2, b, "b two")["Version"] == "2"

    # Pre-restart RevisionIds are still the current ones.
    stale = call_error(lam2.update_alias, FunctionName=a, Name="live", FunctionVersion="2", RevisionId="stale")
    assert_error(stale, "PreconditionFailedException", 412, REVISION_MISMATCH)
    moved = lam2.update_alias(FunctionName=a, Name="live", FunctionVersion="2",
                              RoutingConfig={"AdditionalVersionWeights": {}}, RevisionId=live["RevisionId"])
    assert moved["FunctionVersion"] == "2"
    assert "RoutingConfig" not in moved
    assert moved["RevisionId"] != live["RevisionId"]

    # A second restart keeps the post-restart changes too.
    assert srv2.stop() == 0, srv2.output()
    srv3 = start_server(data_dir)
    lam3 = lambda_client(srv3.base_url)
    assert lam3.get_alias(FunctionName=a, Name="live") | {"ResponseMetadata": None} == moved | {
        "ResponseMetadata": None}
    assert [v["Version"] for v in lam3.list_versions_by_function(FunctionName=a)["Versions"]] == [
        "$LATEST", "1", "2", "4"]
    assert publish_changed(lam3, a, "five")["Version"] == "5"
    assert srv3.stop() == 0, srv3.output()


def test_code_is_stored_durably(start_server, tmp_path_factory):
    """The zip bytes (not just their hash) survive a restart: a code update back to the same bytes and a
    publish of every version still report the original CodeSha256/CodeSize."""
    data_dir = tmp_path_factory.mktemp("durable-code")
    srv = start_server(data_dir)
    lam = lambda_client(srv.base_url)
    name = unique("dur-code")
    big = make_zip("big", extra={f"lib/m{i}.py": f"X = {i!r} * 1000\n" * 50 for i in range(20)})
    create_function(lam, name, zip_bytes=big, Publish=True)
    assert srv.stop() == 0, srv.output()

    srv2 = start_server(data_dir)
    lam2 = lambda_client(srv2.base_url)
    cfg = lam2.get_function_configuration(FunctionName=name, Qualifier="1")
    assert cfg["CodeSha256"] == code_sha256(big)
    assert cfg["CodeSize"] == len(big)
    latest = lam2.get_function(FunctionName=name)["Configuration"]
    assert (latest["CodeSha256"], latest["CodeSize"]) == (code_sha256(big), len(big))
    # Re-uploading the same bytes after the restart is accepted and hashes identically.
    again = lam2.update_function_code(FunctionName=name, ZipFile=big, Publish=True)
    assert again["Version"] == "2"
    assert again["CodeSha256"] == code_sha256(big)
    assert srv2.stop() == 0, srv2.output()
