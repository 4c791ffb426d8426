"""Sticky routing (Aviary's alias option beyond AWS): a key from the request picks the version."""

from __future__ import annotations

import io
import json
import zipfile

from aviary_harness import ROLE, raw_request, unique

APP = '''
def handler(event, context):
    return {"version": context.function_version}
'''


def app_zip(marker: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), f"# {marker}\n" + APP)
    return buf.getvalue()


def weighted_function(lam, weight: float) -> str:
    name = unique("sticky")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": app_zip("one")}, Publish=True)
    lam.update_function_code(FunctionName=name, ZipFile=app_zip("two"), Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": weight}})
    return name


def set_sticky(endpoint: str, name: str, key: str | None):
    path = f"/v1/functions/{name}/aliases/live/sticky-routing"
    if key is None:
        return raw_request(endpoint, "DELETE", path)
    return raw_request(endpoint, "PUT", path, json.dumps({"key": key}), {"Content-Type": "application/json"})


def invoke_as(lam, name: str, user: str) -> str:
    resp = lam.invoke(FunctionName=name, Qualifier="live", Payload=json.dumps({"user": {"id": user}}))
    assert "FunctionError" not in resp
    body = json.loads(resp["Payload"].read())
    assert body["version"] == resp["ExecutedVersion"]
    return resp["ExecutedVersion"]


def test_each_user_stays_on_one_version_and_raising_the_weight_only_moves_users_forward(lam, endpoint):
    name = weighted_function(lam, 0.3)
    status, _, body = set_sticky(endpoint, name, "event:user.id")
    assert status == 200, body
    assert json.loads(body)["key"] == "event:user.id"
    users = [f"user-{i}" for i in range(40)]
    first = {user: invoke_as(lam, name, user) for user in users}
    for user in users[:15]:
        for _ in range(3):
            assert invoke_as(lam, name, user) == first[user], f"{user} changed version without a weight change"
    on_new = {user for user, version in first.items() if version == "2"}
    assert 3 <= len(on_new) <= 25, f"{len(on_new)} of 40 users on the new version at weight 0.3"

    lam.update_alias(FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.7}})
    after = {user: invoke_as(lam, name, user) for user in users}
    assert on_new <= {user for user, version in after.items() if version == "2"}, "a user moved back to the old version"
    assert len([v for v in after.values() if v == "2"]) > len(on_new)

    # The Lambda API's alias shape is unchanged by the option.
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert set(alias) - {"ResponseMetadata"} == {"AliasArn", "Name", "FunctionVersion", "Description", "RoutingConfig", "RevisionId"}


def test_function_urls_route_by_a_header_and_requests_without_the_key_are_drawn(lam, endpoint):
    name = weighted_function(lam, 0.5)
    assert set_sticky(endpoint, name, "header:X-User-Id")[0] == 200
    for user in ("alice", "bob", "carol", "dave"):
        versions = {raw_request(endpoint, "GET", f"/url/{name}/live/", None, {"X-User-Id": user})[1]["x-amz-executed-version"]
                    for _ in range(6)}
        assert len(versions) == 1, f"{user} saw versions {versions}"
    anonymous = {raw_request(endpoint, "GET", f"/url/{name}/live/")[1]["x-amz-executed-version"] for _ in range(40)}
    assert anonymous == {"1", "2"}, "requests without the key are drawn at random"


def test_the_option_can_be_read_and_turned_off_and_bad_keys_are_refused(lam, endpoint):
    name = weighted_function(lam, 0.5)
    status, _, body = raw_request(endpoint, "GET", f"/v1/functions/{name}/aliases/live/sticky-routing")
    assert status == 200 and json.loads(body)["key"] is None
    assert set_sticky(endpoint, name, "client-context:custom.tenant")[0] == 200
    status, _, body = set_sticky(endpoint, name, None)
    assert status == 200 and json.loads(body)["key"] is None
    status, _, body = set_sticky(endpoint, name, "cookie:session")
    assert status == 400 and json.loads(body)["code"] == "InvalidRequest"
    status, _, body = raw_request(endpoint, "PUT", f"/v1/functions/{name}/aliases/nope/sticky-routing",
                                  json.dumps({"key": "header:X-User"}), {"Content-Type": "application/json"})
    assert status == 404 and json.loads(body)["code"] == "ResourceNotFound"


def test_the_option_survives_a_restart(lam, start_server, tmp_path):
    server = start_server(tmp_path / "data")
    from aviary_harness import lambda_client
    client = lambda_client(server.base_url)
    name = weighted_function(client, 0.5)
    assert set_sticky(server.base_url, name, "event:user.id")[0] == 200
    server.stop()
    server = start_server(tmp_path / "data")
    status, _, body = raw_request(server.base_url, "GET", f"/v1/functions/{name}/aliases/live/sticky-routing")
    assert status == 200 and json.loads(body)["key"] == "event:user.id"
