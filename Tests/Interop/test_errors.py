"""Error cases: each asserts the AWS error code, the HTTP status and the exact message."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from aviary_harness import (
    ACCOUNT, HANDLER, REVISION_MISMATCH, ROLE, RUNTIME, assert_cli_error, assert_error, call_error,
    change_config, code_sha256, create_function, function_arn, function_with_versions, lambda_client, make_zip,
    publish_changed, raw_request, unique,
)


@pytest.fixture(scope="module")
def fn12(lam):
    """A shared function with versions 1 and 2 (tests only add uniquely named aliases to it)."""
    name = unique("err")
    function_with_versions(lam, name, 2)
    return name


@pytest.fixture
def fn(lam):
    """A fresh function with versions 1 and 2, for tests that delete things."""
    name = unique("errdel")
    function_with_versions(lam, name, 2)
    return name


# ------------------------------------------------------------------------------------------------
# Routing configuration
# ------------------------------------------------------------------------------------------------


def test_routing_with_two_additional_versions(lam):
    name = unique("err3v")
    function_with_versions(lam, name, 3)
    resp = call_error(lam.create_alias, FunctionName=name, Name="live", FunctionVersion="1",
                      RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}})
    assert_error(resp, "InvalidParameterValueException", 400,
                 "Number of items in AdditionalVersionWeights cannot be greater than 1")
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    resp = call_error(lam.update_alias, FunctionName=name, Name="live",
                      RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}})
    assert_error(resp, "InvalidParameterValueException", 400,
                 "Number of items in AdditionalVersionWeights cannot be greater than 1")


WEIGHT_CONSTRAINT = (
    "1 validation error detected: Value '{2=1.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
    "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)


def test_weight_above_one(lam, fn12):
    alias = unique("w")
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=alias, FunctionVersion="1",
                      RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
    assert_error(resp, "ValidationException", 400, startswith=WEIGHT_CONSTRAINT)
    lam.create_alias(FunctionName=fn12, Name=alias, FunctionVersion="1")
    resp = call_error(lam.update_alias, FunctionName=fn12, Name=alias,
                      RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})
    assert_error(resp, "ValidationException", 400, startswith=WEIGHT_CONSTRAINT)
    assert "RoutingConfig" not in lam.get_alias(FunctionName=fn12, Name=alias)


def test_negative_weight_raw_http(endpoint, fn12):
    # botocore refuses a negative weight client-side (the model's `min`), so send it unsigned.
    status, headers, body = raw_request(
        endpoint, "POST", f"/2015-03-31/functions/{fn12}/aliases",
        json.dumps({"Name": unique("neg"), "FunctionVersion": "1",
                    "RoutingConfig": {"AdditionalVersionWeights": {"2": -0.5}}}),
        {"Content-Type": "application/json"})
    assert status == 400, body
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ValidationException", headers
    message = json.loads(body).get("message") or json.loads(body).get("Message")
    assert message.startswith(
        "1 validation error detected: Value '{2=-0.5}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map value must satisfy constraint:"), message


def test_latest_as_additional_version_key(lam, fn12):
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=unique("k"), FunctionVersion="1",
                      RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}})
    assert_error(resp, "ValidationException", 400, contains="Map keys must satisfy constraint")
    assert_error(resp, "ValidationException", 400,
                 startswith="1 validation error detected: Value '{$LATEST=0.5}' at "
                            "'routingConfig.additionalVersionWeights' failed to satisfy constraint:")


def test_latest_primary_with_routing(lam, fn12):
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=unique("lp"), FunctionVersion="$LATEST",
                      RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert_error(resp, "InvalidParameterValueException", 400,
                 "$LATEST is not supported for an alias pointing to more than 1 version")


def test_latest_primary_with_routing_cli(cli, fn12):
    res = cli.run("create-alias", "--function-name", fn12, "--name", unique("lpc"), "--function-version", "$LATEST",
                  "--routing-config", "AdditionalVersionWeights={2=0.1}")
    assert_cli_error(res, "InvalidParameterValueException", "CreateAlias",
                     "$LATEST is not supported for an alias pointing to more than 1 version")


def test_additional_version_equal_to_primary(lam, fn12):
    msg = "Invalid function version 1. Function version 1 is already included in routing configuration."
    alias = unique("same")
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=alias, FunctionVersion="1",
                      RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert_error(resp, "InvalidParameterValueException", 400, msg)
    # A routing-only update is validated against the alias's current primary.
    lam.create_alias(FunctionName=fn12, Name=alias, FunctionVersion="1")
    resp = call_error(lam.update_alias, FunctionName=fn12, Name=alias,
                      RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert_error(resp, "InvalidParameterValueException", 400, msg)


def test_alias_to_missing_version(lam, fn12):
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=unique("m"), FunctionVersion="9")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn12, '9')}")
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=unique("m"), FunctionVersion="1",
                      RoutingConfig={"AdditionalVersionWeights": {"9": 0.2}})
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn12, '9')}")
    alias = unique("m")
    lam.create_alias(FunctionName=fn12, Name=alias, FunctionVersion="1")
    resp = call_error(lam.update_alias, FunctionName=fn12, Name=alias, FunctionVersion="9")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn12, '9')}")


def test_alias_on_missing_function(lam):
    resp = call_error(lam.create_alias, FunctionName="nope-alias-fn", Name="live", FunctionVersion="1")
    assert_error(resp, "ResourceNotFoundException", 404,
                 startswith=f"Function not found: {function_arn('nope-alias-fn')}")


def test_create_alias_twice(cli, lam, fn12):
    alias = unique("dup")
    lam.create_alias(FunctionName=fn12, Name=alias, FunctionVersion="1")
    resp = call_error(lam.create_alias, FunctionName=fn12, Name=alias, FunctionVersion="2")
    assert_error(resp, "ResourceConflictException", 409, f"Alias already exists: {function_arn(fn12, alias)}")
    res = cli.run("create-alias", "--function-name", fn12, "--name", alias, "--function-version", "1")
    assert_cli_error(res, "ResourceConflictException", "CreateAlias",
                     f"Alias already exists: {function_arn(fn12, alias)}")
    assert lam.get_alias(FunctionName=fn12, Name=alias)["FunctionVersion"] == "1"


def test_get_and_update_missing_alias(cli, lam, fn12):
    resp = call_error(lam.get_alias, FunctionName=fn12, Name="nope")
    assert_error(resp, "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(fn12, 'nope')}")
    resp = call_error(lam.update_alias, FunctionName=fn12, Name="nope", FunctionVersion="1")
    assert_error(resp, "ResourceNotFoundException", 404, f"Alias not found: {function_arn(fn12, 'nope')}")
    res = cli.run("get-alias", "--function-name", fn12, "--name", "nope")
    assert_cli_error(res, "ResourceNotFoundException", "GetAlias", f"Cannot find alias arn: {function_arn(fn12, 'nope')}")


def test_alias_name_all_digits(cli, lam, fn12):
    msg = ("1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy "
           "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    resp = call_error(lam.create_alias, FunctionName=fn12, Name="2024", FunctionVersion="1")
    assert_error(resp, "ValidationException", 400, msg)
    res = cli.run("create-alias", "--function-name", fn12, "--name", "2024", "--function-version", "1")
    assert_cli_error(res, "ValidationException", "CreateAlias", msg)
    # Digits mixed with other characters are fine.
    ok = lam.create_alias(FunctionName=fn12, Name=f"2024-01-02-{unique('d')[-4:]}", FunctionVersion="1")
    assert ok["FunctionVersion"] == "1"


# ------------------------------------------------------------------------------------------------
# Deleting versions and functions
# ------------------------------------------------------------------------------------------------


def test_delete_version_referenced_by_alias(cli, lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    res = cli.run("delete-function", "--function-name", fn, "--qualifier", "1")
    assert_cli_error(res, "ResourceConflictException", "DeleteFunction",
                     "Unable to delete version because the following aliases reference it: [live]")
    resp = call_error(lam.delete_function, FunctionName=fn, Qualifier="1")
    assert_error(resp, "ResourceConflictException", 409,
                 "Unable to delete version because the following aliases reference it: [live]")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]


def test_delete_version_referenced_only_as_additional_version(cli, lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    res = cli.run("delete-function", "--function-name", fn, "--qualifier", "2")
    assert_cli_error(res, "ResourceConflictException", "DeleteFunction",
                     "Unable to delete version because the following aliases reference it: [live]")
    resp = call_error(lam.delete_function, FunctionName=fn, Qualifier="2")
    assert_error(resp, "ResourceConflictException", 409,
                 "Unable to delete version because the following aliases reference it: [live]")


def test_delete_latest_alias_and_missing_version(cli, lam, fn):
    res = cli.run("delete-function", "--function-name", fn, "--qualifier", "$LATEST")
    assert_cli_error(res, "InvalidParameterValueException", "DeleteFunction",
                     "$LATEST version cannot be deleted without deleting the function.")
    resp = call_error(lam.delete_function, FunctionName=fn, Qualifier="$LATEST")
    assert_error(resp, "InvalidParameterValueException", 400,
                 "$LATEST version cannot be deleted without deleting the function.")

    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    res = cli.run("delete-function", "--function-name", fn, "--qualifier", "live")
    assert_cli_error(res, "InvalidParameterValueException", "DeleteFunction",
                     "Deletion of aliases is not currently supported.")
    resp = call_error(lam.delete_function, FunctionName=fn, Qualifier="live")
    assert_error(resp, "InvalidParameterValueException", 400, "Deletion of aliases is not currently supported.")
    assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "1"

    res = cli.run("delete-function", "--function-name", fn, "--qualifier", "99")
    assert res.returncode == 0, res.describe()
    assert lam.delete_function(FunctionName=fn, Qualifier="99")["ResponseMetadata"]["HTTPStatusCode"] == 204

    # Deleting an unreferenced version works; deleting it again is a no-op success.
    assert lam.delete_function(FunctionName=fn, Qualifier="2")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1"]
    resp = call_error(lam.get_function, FunctionName=fn, Qualifier="2")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn, '2')}")
    assert lam.delete_function(FunctionName=fn, Qualifier="2")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_function_twice(cli, lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    # The unqualified delete removes the function with its versions and aliases.
    assert lam.delete_function(FunctionName=fn)["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = call_error(lam.delete_function, FunctionName=fn)
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn)}")
    res = cli.run("delete-function", "--function-name", fn)
    assert_cli_error(res, "ResourceNotFoundException", "DeleteFunction", f"Function not found: {function_arn(fn)}")
    resp = call_error(lam.get_alias, FunctionName=fn, Name="live")
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    resp = call_error(lam.list_versions_by_function, FunctionName=fn)
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn)}")

    # The name is free again and starts from scratch.
    create_function(lam, fn, publish=True)
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1"]
    assert lam.list_aliases(FunctionName=fn)["Aliases"] == []


def test_version_numbers_are_never_reused(lam, fn):
    assert lam.delete_function(FunctionName=fn, Qualifier="2")["ResponseMetadata"]["HTTPStatusCode"] == 204
    v3 = publish_changed(lam, fn, "after delete")
    assert v3["Version"] == "3"
    assert v3["FunctionArn"] == function_arn(fn, "3")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fn)["Versions"]] == ["$LATEST", "1", "3"]
    # Deleting the newest and publishing again still moves forward.
    lam.delete_function(FunctionName=fn, Qualifier="3")
    v4 = publish_changed(lam, fn, "after second delete")
    assert v4["Version"] == "4"


# ------------------------------------------------------------------------------------------------
# Functions
# ------------------------------------------------------------------------------------------------


def test_get_missing_function(cli, lam):
    resp = call_error(lam.get_function, FunctionName="nope")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn('nope')}")
    resp = call_error(lam.get_function_configuration, FunctionName="nope")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn('nope')}")
    res = cli.run("get-function", "--function-name", "nope")
    assert_cli_error(res, "ResourceNotFoundException", "GetFunction", f"Function not found: {function_arn('nope')}")


def test_get_missing_version_and_alias_qualifier(lam, fn12):
    resp = call_error(lam.get_function, FunctionName=fn12, Qualifier="7")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn12, '7')}")
    resp = call_error(lam.get_function_configuration, FunctionName=fn12, Qualifier="nosuchalias")
    assert_error(resp, "ResourceNotFoundException", 404, f"Function not found: {function_arn(fn12, 'nosuchalias')}")


def test_create_duplicate_function(cli, lam, tmp_path):
    name = unique("dupfn")
    create_function(lam, name)
    resp = call_error(create_function, lam, name)
    assert_error(resp, "ResourceConflictException", 409, f"Function already exist: {name}")
    path = tmp_path / "f.zip"
    path.write_bytes(make_zip())
    res = cli.run("create-function", "--function-name", name, "--runtime", RUNTIME, "--handler", HANDLER,
                  "--role", ROLE, "--zip-file", f"fileb://{path}")
    assert_cli_error(res, "ResourceConflictException", "CreateFunction", f"Function already exist: {name}")


def test_unknown_runtime(lam):
    resp = call_error(create_function, lam, unique("rt"), Runtime="ruby9")
    assert_error(resp, "InvalidParameterValueException", 400,
                 startswith="Value ruby9 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set:")


@pytest.mark.parametrize("runtime", ["nodejs6.10", "python3.6"])
def test_retired_runtimes_are_accepted(lam, runtime):
    resp = create_function(lam, unique("old"), Runtime=runtime)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["Runtime"] == runtime


def test_corrupt_zip(lam):
    name = unique("badzip")
    resp = call_error(create_function, lam, name, zip_bytes=os.urandom(2048))
    assert_error(resp, "InvalidParameterValueException", 400,
                 "Could not unzip uploaded file. Please check your file, then try to upload again.")
    assert_error(call_error(lam.get_function, FunctionName=name), "ResourceNotFoundException", 404)

    create_function(lam, name)
    resp = call_error(lam.update_function_code, FunctionName=name, ZipFile=b"PK\x03\x04 not really a zip")
    assert_error(resp, "InvalidParameterValueException", 400,
                 "Could not unzip uploaded file. Please check your file, then try to upload again.")


def _files_named(root: Path, basename: str) -> list[Path]:
    return [p for p in root.rglob(basename)]


def test_zip_path_traversal_is_rejected(lam, server):
    name = unique("evil")
    marker = f"evil_{name.replace('-', '_')}.py"
    evil = make_zip(extra={f"../{marker}": "import os\n"})
    resp = call_error(create_function, lam, name, zip_bytes=evil)
    assert_error(resp, "InvalidParameterValueException", 400, contains=f"../{marker}")
    assert_error(call_error(lam.get_function, FunctionName=name), "ResourceNotFoundException", 404)

    deeper = make_zip(extra={f"lib/../../../{marker}": "import os\n"})
    resp = call_error(create_function, lam, name, zip_bytes=deeper)
    assert_error(resp, "InvalidParameterValueException", 400, contains=marker)

    create_function(lam, name)
    resp = call_error(lam.update_function_code, FunctionName=name, ZipFile=evil)
    assert_error(resp, "InvalidParameterValueException", 400, contains=f"../{marker}")
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == code_sha256(make_zip(name))

    # Nothing named like the entry anywhere near the server: not next to or above the data dir, not in its cwd.
    for root in {server.data_dir.parent.parent, server.cwd.parent}:
        assert _files_named(root, marker) == [], f"{marker} was written under {root}"


def test_zip_absolute_entry_is_rejected(lam):
    name = unique("abs")
    resp = call_error(create_function, lam, name, zip_bytes=make_zip(extra={f"/tmp/{name}.py": "x = 1\n"}))
    assert_error(resp, "InvalidParameterValueException", 400, contains=f"/tmp/{name}.py")
    assert not Path(f"/tmp/{name}.py").exists()


def test_zip_bomb_is_rejected(lam):
    """A small upload that inflates past the 250 MB unzipped limit (zeros compress ~1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("index.py", "def handler(e, c):\n    return 1\n")
        with zf.open("zeros.bin", "w", force_zip64=True) as out:
            chunk = bytes(1 << 20)
            for _ in range(251):
                out.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2_000_000
    name = unique("bomb")
    resp = call_error(create_function, lam, name, zip_bytes=data)
    assert_error(resp, "InvalidParameterValueException", 400, "Unzipped size must be smaller than 262144000 bytes")
    assert_error(call_error(lam.get_function, FunctionName=name), "ResourceNotFoundException", 404)


def test_limits_are_validated(lam):
    resp = call_error(create_function, lam, unique("lim"), Timeout=901)
    assert_error(resp, "ValidationException", 400,
                 "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
                 "Member must have value less than or equal to 900")
    resp = call_error(create_function, lam, unique("lim"), MemorySize=20000)
    assert_error(resp, "ValidationException", 400,
                 "1 validation error detected: Value '20000' at 'memorySize' failed to satisfy constraint: "
                 "Member must have value less than or equal to 10240")
    resp = call_error(create_function, lam, unique("lim"), Role="r1")
    assert_error(resp, "ValidationException", 400,
                 startswith="1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: "
                            "Member must satisfy regular expression pattern")


def test_limits_on_update_configuration(lam, fn12):
    resp = call_error(lam.update_function_configuration, FunctionName=fn12, Timeout=901)
    assert_error(resp, "ValidationException", 400,
                 "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
                 "Member must have value less than or equal to 900")
    assert lam.get_function_configuration(FunctionName=fn12)["Timeout"] == 3


def test_publish_version_preconditions(cli, lam):
    name = unique("pubpre")
    data = make_zip(name)
    created = create_function(lam, name, zip_bytes=data)
    current = code_sha256(data)
    wrong = code_sha256(b"something else")

    resp = call_error(lam.publish_version, FunctionName=name, CodeSha256=wrong)
    assert_error(resp, "InvalidParameterValueException", 400, startswith=f"CodeSHA256 ({wrong})")
    assert_error(resp, "InvalidParameterValueException", 400,
                 f"CodeSHA256 ({wrong}) is different from current CodeSHA256 in $LATEST ({current}). "
                 "Please try again with the CodeSHA256 in $LATEST.")

    resp = call_error(lam.publish_version, FunctionName=name, RevisionId="not-the-revision")
    assert_error(resp, "PreconditionFailedException", 412, REVISION_MISMATCH)
    res = cli.run("publish-version", "--function-name", name, "--revision-id", "not-the-revision")
    assert_cli_error(res, "PreconditionFailedException", "PublishVersion", REVISION_MISMATCH)

    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    latest_rev = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    assert latest_rev  # the current revision (may differ from the create response after Pending -> Active)
    ok = lam.publish_version(FunctionName=name, CodeSha256=current, RevisionId=latest_rev)
    assert ok["Version"] == "1"
    assert created["CodeSha256"] == ok["CodeSha256"] == current


def test_update_function_revision_precondition(lam):
    name = unique("updpre")
    create_function(lam, name)
    resp = call_error(lam.update_function_configuration, FunctionName=name, Description="x", RevisionId="wrong")
    assert_error(resp, "PreconditionFailedException", 412, REVISION_MISMATCH)
    resp = call_error(lam.update_function_code, FunctionName=name, ZipFile=make_zip("other"), RevisionId="wrong")
    assert_error(resp, "PreconditionFailedException", 412, REVISION_MISMATCH)
    assert lam.get_function_configuration(FunctionName=name)["Description"] == ""


# ------------------------------------------------------------------------------------------------
# Identifiers
# ------------------------------------------------------------------------------------------------


def test_qualifier_mismatch_between_name_and_parameter(lam, fn12):
    msg = "The derived qualifier from the function name does not match the specified qualifier."
    resp = call_error(lam.get_function, FunctionName=f"{fn12}:1", Qualifier="2")
    assert_error(resp, "InvalidParameterValueException", 400, msg)
    resp = call_error(lam.get_function_configuration, FunctionName=function_arn(fn12, "1"), Qualifier="2")
    assert_error(resp, "InvalidParameterValueException", 400, msg)
    # Agreeing qualifiers are fine.
    assert lam.get_function(FunctionName=f"{fn12}:1", Qualifier="1")["Configuration"]["Version"] == "1"


def test_function_name_too_long(lam):
    name = "n" * 65
    resp = call_error(create_function, lam, name)
    assert_error(resp, "InvalidParameterValueException", 400,
                 f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: "
                 "Member must have length less than or equal to 64")


def test_arn_from_another_region(lam, fn12):
    resp = call_error(lam.get_function, FunctionName=f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:{fn12}")
    assert_error(resp, "ResourceNotFoundException", 404,
                 "Functions from 'us-west-2' are not reachable in this region ('us-east-1')")


@pytest.fixture(scope="module")
def fn_live(lam, fn12):
    lam.create_alias(FunctionName=fn12, Name="live", FunctionVersion="2",
                     RoutingConfig={"AdditionalVersionWeights": {"1": 0.3}})
    return fn12


@pytest.mark.parametrize("form,expected_arn_q,expected_version", [
    ("{n}", None, "$LATEST"),
    ("{n}:1", "1", "1"),
    ("{n}:$LATEST", "$LATEST", "$LATEST"),
    ("{acct}:function:{n}", None, "$LATEST"),
    ("{acct}:function:{n}:2", "2", "2"),
    ("arn:aws:lambda:us-east-1:{acct}:function:{n}", None, "$LATEST"),
    ("arn:aws:lambda:us-east-1:{acct}:function:{n}:1", "1", "1"),
    ("arn:aws:lambda:us-east-1:{acct}:function:{n}:live", "live", "2"),
    ("{n}:live", "live", "2"),
])
@pytest.mark.parametrize("op", ["get_function", "get_function_configuration"])
def test_identifier_forms(lam, fn_live, form, expected_arn_q, expected_version, op):
    ident = form.format(n=fn_live, acct=ACCOUNT)
    resp = getattr(lam, op)(FunctionName=ident)
    cfg = resp["Configuration"] if op == "get_function" else resp
    assert cfg["FunctionName"] == fn_live
    assert cfg["FunctionArn"] == function_arn(fn_live, expected_arn_q)
    assert cfg["Version"] == expected_version


@pytest.mark.parametrize("qualifier,expected_version", [("1", "1"), ("live", "2"), ("$LATEST", "$LATEST")])
def test_qualifier_parameter(lam, fn_live, qualifier, expected_version):
    cfg = lam.get_function(FunctionName=fn_live, Qualifier=qualifier)["Configuration"]
    assert cfg["FunctionArn"] == function_arn(fn_live, qualifier)
    assert cfg["Version"] == expected_version


def test_alias_operations_accept_arn_identifiers(lam, fn_live):
    by_arn = lam.get_alias(FunctionName=function_arn(fn_live), Name="live")
    assert by_arn["AliasArn"] == function_arn(fn_live, "live")
    assert by_arn["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.3}}
    listed = lam.list_versions_by_function(FunctionName=f"{ACCOUNT}:function:{fn_live}")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]


# ------------------------------------------------------------------------------------------------
# Concurrent calls
# ------------------------------------------------------------------------------------------------


def _in_threads(count: int, work) -> list:
    """Runs work(i) in `count` threads released at once; returns results (or exceptions) by index."""
    results: list = [None] * count
    gate = threading.Barrier(count)

    def run(i):
        try:
            gate.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a concurrent call did not finish within 60s"
    return results


def test_concurrent_creates_of_one_name(endpoint):
    name = unique("race")
    clients = [lambda_client(endpoint) for _ in range(8)]  # boto3 clients are not shared across threads
    results = _in_threads(8, lambda i: create_function(clients[i], name))
    created = [r for r in results if isinstance(r, dict)]
    conflicts = [r for r in results if isinstance(r, ClientError)]
    assert len(created) == 1, results
    assert len(conflicts) == 7, results
    for exc in conflicts:
        assert_error(exc.response, "ResourceConflictException", 409, f"Function already exist: {name}")


def test_concurrent_publishes_get_distinct_increasing_numbers(endpoint, lam):
    name = unique("racepub")
    create_function(lam, name)
    clients = [lambda_client(endpoint) for _ in range(8)]

    def work(i):
        c = clients[i]
        change_config(c, name, f"change {i}")
        return c.publish_version(FunctionName=name)["Version"]

    results = _in_threads(8, work)
    assert all(isinstance(r, str) for r in results), results
    listed = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]][1:]
    numbers = [int(v) for v in listed]
    assert numbers == list(range(1, len(numbers) + 1)), listed  # unique, increasing, no gaps
    assert set(results) <= set(listed)
    assert 1 <= len(numbers) <= 8
    assert max(numbers) == max(int(r) for r in results)


# ------------------------------------------------------------------------------------------------
# Raw HTTP: the error envelope itself
# ------------------------------------------------------------------------------------------------


def test_unknown_route_is_a_client_error(endpoint):
    status, headers, body = raw_request(endpoint, "GET", "/2015-03-31/nothing-here")
    assert 400 <= status < 500, (status, body)
    assert headers.get("x-amzn-errortype"), headers
    assert headers.get("x-amzn-requestid"), headers


def test_malformed_json_body(endpoint):
    status, headers, body = raw_request(endpoint, "POST", "/2015-03-31/functions", b'{"FunctionName": "x",',
                                        {"Content-Type": "application/json"})
    assert status == 400, (status, body)
    assert headers.get("x-amzn-errortype"), headers
    assert headers.get("x-amzn-requestid"), headers


def test_request_id_on_every_response(endpoint, lam):
    name = unique("reqid")
    responses = []
    create = create_function(lam, name)
    responses.append(create["ResponseMetadata"])
    responses.append(lam.get_function(FunctionName=name)["ResponseMetadata"])
    responses.append(lam.delete_function(FunctionName=name)["ResponseMetadata"])
    responses.append(call_error(lam.get_function, FunctionName=name)["ResponseMetadata"])
    ids = []
    for meta in responses:
        rid = meta["HTTPHeaders"].get("x-amzn-requestid")
        assert rid, meta
        ids.append(rid)
    assert len(set(ids)) == len(ids), ids
    status, headers, _ = raw_request(endpoint, "GET", "/2015-03-31/functions/nope")
    assert status == 404
    assert headers.get("x-amzn-requestid")
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "ResourceNotFoundException"


def test_error_body_shape(endpoint):
    status, headers, body = raw_request(endpoint, "GET", "/2015-03-31/functions/nope")
    assert status == 404
    doc = json.loads(body)
    assert doc.get("Type") == "User", doc
    assert (doc.get("Message") or doc.get("message")) == f"Function not found: {function_arn('nope')}"
