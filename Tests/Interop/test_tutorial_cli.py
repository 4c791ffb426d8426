"""The AWS Lambda versioning tutorial, typed as a user would: the real `aws` CLI with --endpoint-url."""

from __future__ import annotations

import re

import pytest

from aviary_harness import (
    ARN_PREFIX, HANDLER, LAST_MODIFIED_RE, ROLE, RUNTIME, code_sha256, function_arn, make_zip, unique,
)


@pytest.fixture
def zips(tmp_path):
    """Two different real zip files on disk: (path, bytes) for code A and code B."""
    out = []
    for marker in ("code-a", "code-b"):
        data = make_zip(marker)
        path = tmp_path / f"{marker}.zip"
        path.write_bytes(data)
        out.append((path, data))
    return out


def create_args(name: str, zip_path, *extra: str) -> list[str]:
    return ["create-function", "--function-name", name, "--runtime", RUNTIME, "--handler", HANDLER,
            "--role", ROLE, "--zip-file", f"fileb://{zip_path}", *extra]


def test_create_function_without_publish_returns_latest(cli, zips):
    name = unique("tut-create")
    path, data = zips[0]
    cfg = cli.ok(*create_args(name, path))

    assert cfg["FunctionName"] == name
    assert cfg["FunctionArn"] == function_arn(name)
    assert cfg["Version"] == "$LATEST"
    assert cfg["State"] == "Active"
    assert cfg["Runtime"] == RUNTIME
    assert cfg["Role"] == ROLE
    assert cfg["Handler"] == HANDLER
    assert cfg["CodeSha256"] == code_sha256(data)
    assert cfg["CodeSize"] == len(data)
    assert cfg["Timeout"] == 3
    assert cfg["MemorySize"] == 128
    assert cfg["Description"] == ""
    assert cfg["Architectures"] == ["x86_64"]
    assert cfg["PackageType"] == "Zip"
    assert re.match(LAST_MODIFIED_RE, cfg["LastModified"]), cfg["LastModified"]
    assert isinstance(cfg["RevisionId"], str) and cfg["RevisionId"]

    got = cli.ok("get-function", "--function-name", name)
    conf = got["Configuration"]
    assert conf["FunctionArn"] == function_arn(name)
    assert conf["Version"] == "$LATEST"
    assert conf["CodeSha256"] == code_sha256(data)
    assert conf["LastModified"] == cfg["LastModified"]

    versions = cli.ok("list-versions-by-function", "--function-name", name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]


def test_publish_on_create_and_on_code_update(cli, zips):
    name = unique("tut-publish")
    (path_a, data_a), (path_b, data_b) = zips

    created = cli.ok(*create_args(name, path_a, "--publish"))
    assert created["Version"] == "1"
    assert created["FunctionArn"] == function_arn(name)  # unqualified even though a version was published
    assert created["CodeSha256"] == code_sha256(data_a)

    updated = cli.ok("update-function-code", "--function-name", name, "--zip-file", f"fileb://{path_b}", "--publish")
    assert updated["Version"] == "2"
    assert updated["FunctionArn"] == function_arn(name, "2")
    assert updated["CodeSha256"] == code_sha256(data_b)
    assert updated["CodeSize"] == len(data_b)

    versions = cli.ok("list-versions-by-function", "--function-name", name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in versions] == [
        function_arn(name, "$LATEST"), function_arn(name, "1"), function_arn(name, "2")]
    assert [v["CodeSha256"] for v in versions] == [code_sha256(data_b), code_sha256(data_a), code_sha256(data_b)]

    # Published versions are immutable snapshots: version 1 keeps code A.
    v1 = cli.ok("get-function-configuration", "--function-name", name, "--qualifier", "1")
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == function_arn(name, "1")
    assert v1["CodeSha256"] == code_sha256(data_a)


def test_publish_version_without_change_returns_same_version(cli, zips):
    name = unique("tut-noop")
    cli.ok(*create_args(name, zips[0][0]))

    first = cli.ok("publish-version", "--function-name", name)
    second = cli.ok("publish-version", "--function-name", name)
    assert first["Version"] == "1"
    assert first["FunctionArn"] == function_arn(name, "1")
    assert second["Version"] == "1"
    assert second["RevisionId"] == first["RevisionId"]
    assert [v["Version"] for v in cli.ok("list-versions-by-function", "--function-name", name)["Versions"]] == [
        "$LATEST", "1"]

    changed = cli.ok("update-function-configuration", "--function-name", name, "--description", "x")
    assert changed["Description"] == "x"
    assert changed["Version"] == "$LATEST"
    assert changed["RevisionId"] != first["RevisionId"]

    third = cli.ok("publish-version", "--function-name", name)
    assert third["Version"] == "2"
    assert third["Description"] == "x"
    assert third["FunctionArn"] == function_arn(name, "2")
    again = cli.ok("publish-version", "--function-name", name)
    assert again["Version"] == "2"
    assert again["RevisionId"] == third["RevisionId"]


def test_publish_version_description_overrides_latest(cli, zips):
    name = unique("tut-desc")
    cli.ok(*create_args(name, zips[0][0], "--description", "from latest"))
    pub = cli.ok("publish-version", "--function-name", name, "--description", "release notes")
    assert pub["Version"] == "1"
    assert pub["Description"] == "release notes"
    assert cli.ok("get-function-configuration", "--function-name", name)["Description"] == "from latest"


def test_waiters_succeed(cli, zips):
    name = unique("tut-wait")
    cli.ok(*create_args(name, zips[0][0]))
    for waiter in ("function-active-v2", "function-active", "function-exists"):
        res = cli.run("wait", waiter, "--function-name", name, timeout=60)
        assert res.returncode == 0, res.describe()
        assert res.stdout.strip() == ""

    cli.ok("update-function-code", "--function-name", name, "--zip-file", f"fileb://{zips[1][0]}")
    for waiter in ("function-updated", "function-updated-v2"):
        res = cli.run("wait", waiter, "--function-name", name, timeout=60)
        assert res.returncode == 0, res.describe()

    cfg = cli.ok("get-function-configuration", "--function-name", name)
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    assert cfg["CodeSha256"] == code_sha256(zips[1][1])


def test_update_function_configuration_fields(cli, zips):
    name = unique("tut-config")
    cli.ok(*create_args(name, zips[0][0]))
    cfg = cli.ok("update-function-configuration", "--function-name", name, "--timeout", "30",
                 "--memory-size", "256", "--environment", "Variables={STAGE=prod}")
    assert cfg["Timeout"] == 30
    assert cfg["MemorySize"] == 256
    assert cfg["Environment"] == {"Variables": {"STAGE": "prod"}}
    got = cli.ok("get-function-configuration", "--function-name", name)
    assert (got["Timeout"], got["MemorySize"], got["Environment"]) == (30, 256, {"Variables": {"STAGE": "prod"}})
    assert got["FunctionArn"].startswith(ARN_PREFIX)
