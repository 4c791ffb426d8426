"""Aliases and weighted routing through the `aws` CLI (shorthand syntax included) and boto3."""

from __future__ import annotations

import pytest

from aviary_harness import (
    REVISION_MISMATCH, assert_cli_error, assert_error, call_error, function_arn, function_with_versions, unique,
)


@pytest.fixture
def fn(lam):
    """A function with published versions 1 and 2."""
    name = unique("alias")
    function_with_versions(lam, name, 2)
    return name


def test_canary_rollback_promote_with_cli(cli, fn):
    created = cli.ok("create-alias", "--function-name", fn, "--name", "live", "--function-version", "1",
                     "--description", "production")
    assert created == {
        "AliasArn": function_arn(fn, "live"),
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "production",
        "RevisionId": created["RevisionId"],
    }
    assert created["RevisionId"]

    # Canary: primary 1, 10% to version 2. The AWS docs write `AdditionalVersionWeights={"2"=0.1}` in a
    # shell, which hands the CLI `AdditionalVersionWeights={2=0.1}`.
    canary = cli.ok("update-alias", "--function-name", fn, "--name", "live",
                    "--routing-config", "AdditionalVersionWeights={2=0.1}")
    assert canary["FunctionVersion"] == "1"
    assert canary["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    assert canary["Description"] == "production"  # omitted fields are kept
    assert canary["RevisionId"] != created["RevisionId"]

    got = cli.ok("get-alias", "--function-name", fn, "--name", "live")
    assert got == canary

    # Roll back: all traffic to 1, routing cleared (RoutingConfig absent, not an empty map).
    rolled = cli.ok("update-alias", "--function-name", fn, "--name", "live", "--function-version", "1",
                    "--routing-config", "AdditionalVersionWeights={}")
    assert rolled["FunctionVersion"] == "1"
    assert "RoutingConfig" not in rolled
    assert "RoutingConfig" not in cli.ok("get-alias", "--function-name", fn, "--name", "live")

    # Canary again, then promote: all traffic to 2.
    res = cli.run_shell(f'update-alias --function-name {fn} --name live '
                        f'--routing-config AdditionalVersionWeights={{"2"=0.1}}')
    assert res.returncode == 0, res.describe()
    assert res.json["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    promoted = cli.ok("update-alias", "--function-name", fn, "--name", "live", "--function-version", "2",
                      "--routing-config", "AdditionalVersionWeights={}")
    assert promoted["FunctionVersion"] == "2"
    assert "RoutingConfig" not in promoted
    assert promoted["AliasArn"] == function_arn(fn, "live")


def test_routing_config_shorthand_after_shell_quote_removal(cli, fn):
    """What bash passes for the unquoted `AdditionalVersionWeights={'1'=0.7}`, as one argv element.

    (The same text *with* the quotes, unstripped, never reaches a server: awscli v1's shorthand parser
    rejects quoted hash keys client-side with exit 255, "Error parsing parameter '--routing-config'".)
    """
    cli.ok("create-alias", "--function-name", fn, "--name", "live", "--function-version", "2")
    out = cli.ok("update-alias", "--function-name", fn, "--name", "live",
                 "--routing-config", "AdditionalVersionWeights={1=0.7}")
    assert out["FunctionVersion"] == "2"
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.7}}
    assert cli.ok("get-alias", "--function-name", fn, "--name", "live")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"1": 0.7}}


def test_routing_config_json_form(cli, fn):
    cli.ok("create-alias", "--function-name", fn, "--name", "live", "--function-version", "2")
    out = cli.ok("update-alias", "--function-name", fn, "--name", "live",
                 "--routing-config", '{"AdditionalVersionWeights": {"1": 0.7}}')
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.7}}


def test_create_alias_with_routing_and_list_aliases(cli, fn):
    a = cli.ok("create-alias", "--function-name", fn, "--name", "canary", "--function-version", "1",
               "--routing-config", "AdditionalVersionWeights={2=0.25}")
    assert a["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    assert a["Description"] == ""
    b = cli.ok("create-alias", "--function-name", fn, "--name", "stable", "--function-version", "2")
    c = cli.ok("create-alias", "--function-name", fn, "--name", "edge", "--function-version", "$LATEST")
    assert c["FunctionVersion"] == "$LATEST"

    listed = cli.ok("list-aliases", "--function-name", fn)["Aliases"]
    assert sorted(x["Name"] for x in listed) == ["canary", "edge", "stable"]
    by_name = {x["Name"]: x for x in listed}
    assert by_name["canary"] == a
    assert by_name["stable"] == b
    assert by_name["edge"] == c

    only_1 = cli.ok("list-aliases", "--function-name", fn, "--function-version", "1")["Aliases"]
    assert [x["Name"] for x in only_1] == ["canary"]
    only_2 = cli.ok("list-aliases", "--function-name", fn, "--function-version", "2")["Aliases"]
    assert "stable" in [x["Name"] for x in only_2]
    assert "edge" not in [x["Name"] for x in only_2]


def test_delete_alias_is_idempotent(cli, lam, fn):
    cli.ok("create-alias", "--function-name", fn, "--name", "live", "--function-version", "1")
    res = cli.run("delete-alias", "--function-name", fn, "--name", "live")
    assert res.returncode == 0, res.describe()
    assert res.stdout.strip() == ""
    assert cli.ok("list-aliases", "--function-name", fn)["Aliases"] == []
    again = cli.run("delete-alias", "--function-name", fn, "--name", "live")
    assert again.returncode == 0, again.describe()

    lam.create_alias(FunctionName=fn, Name="tmp", FunctionVersion="2")
    assert lam.delete_alias(FunctionName=fn, Name="tmp")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.delete_alias(FunctionName=fn, Name="tmp")["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = call_error(lam.get_alias, FunctionName=fn, Name="tmp")
    assert_error(resp, "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(fn, 'tmp')}")


def test_revision_id_changes_on_every_update_even_noop(lam, fn):
    created = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    seen = [created["RevisionId"]]
    for _ in range(3):
        upd = lam.update_alias(FunctionName=fn, Name="live")  # nothing to change
        assert upd["FunctionVersion"] == "1"
        assert upd["RevisionId"] not in seen
        seen.append(upd["RevisionId"])
    same = lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="1", Description="")
    assert same["RevisionId"] not in seen
    assert lam.get_alias(FunctionName=fn, Name="live")["RevisionId"] == same["RevisionId"]


def test_update_alias_revision_id_precondition(cli, lam, fn):
    created = cli.ok("create-alias", "--function-name", fn, "--name", "live", "--function-version", "1")
    res = cli.run("update-alias", "--function-name", fn, "--name", "live", "--function-version", "2",
                  "--revision-id", "wrong")
    assert_cli_error(res, "PreconditionFailedException", "UpdateAlias", REVISION_MISMATCH)
    assert cli.ok("get-alias", "--function-name", fn, "--name", "live")["FunctionVersion"] == "1"

    resp = call_error(lam.update_alias, FunctionName=fn, Name="live", FunctionVersion="2",
                      RevisionId="00000000-0000-0000-0000-000000000000")
    assert_error(resp, "PreconditionFailedException", 412, REVISION_MISMATCH)

    ok = cli.ok("update-alias", "--function-name", fn, "--name", "live", "--function-version", "2",
                "--revision-id", created["RevisionId"])
    assert ok["FunctionVersion"] == "2"
    # The old revision is now stale.
    stale = cli.run("update-alias", "--function-name", fn, "--name", "live", "--function-version", "1",
                    "--revision-id", created["RevisionId"])
    assert_cli_error(stale, "PreconditionFailedException", "UpdateAlias", REVISION_MISMATCH)


def test_alias_weights_at_the_bounds_and_routing_only_update(lam, fn):
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    out = lam.update_alias(FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.0}}
    out = lam.update_alias(FunctionName=fn, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert out["FunctionVersion"] == "1"
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    # A description-only update keeps the routing.
    out = lam.update_alias(FunctionName=fn, Name="live", Description="half")
    assert out["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert out["Description"] == "half"
