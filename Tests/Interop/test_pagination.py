"""Pagination (Marker/NextMarker, 50-item pages) and account settings, on a server of their own so that
the function count and the listing are exact."""

from __future__ import annotations

import pytest

from aviary_harness import (
    AwsCli, ServerProcess, create_function, function_arn, lambda_client, make_zip, publish_changed, unique,
)

FUNCTION_COUNT = 120
VERSION_COUNT = 60


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("pagination-server")
    srv = ServerProcess(data_dir=root / "data", log_dir=root / "logs").start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture(scope="module")
def plam(own_server):
    return lambda_client(own_server.base_url)


@pytest.fixture(scope="module")
def existing() -> list[str]:
    """Every function name that exists on this module's server, kept up to date by the fixtures."""
    return []


def sizes(total: int, page: int) -> list[int]:
    return [page] * (total // page) + ([total % page] if total % page else [])


@pytest.fixture(scope="module")
def many(plam, existing):
    """120 functions named so that creation order is name order; 3 of them have published versions."""
    prefix = unique("pg")
    names = [f"{prefix}-{i:03d}" for i in range(FUNCTION_COUNT)]
    code = make_zip("small")
    for name in names:
        create_function(plam, name, zip_bytes=code)
        existing.append(name)
    for name in names[:3]:
        publish_changed(plam, name, "v1")
        publish_changed(plam, name, "v2")
    return names


@pytest.fixture(scope="module")
def versioned(plam, many, existing):
    """A function (sorting after the 120) with 60 published versions."""
    name = unique("zz-versions")
    create_function(plam, name, zip_bytes=make_zip("versions"))
    existing.append(name)
    for i in range(1, VERSION_COUNT + 1):
        assert publish_changed(plam, name, f"release {i}")["Version"] == str(i)
    return name


def collect(paginator_pages, key):
    pages = [page[key] for page in paginator_pages]
    return pages, [item for page in pages for item in page]


def test_list_functions_paginator_default_pages(plam, many, existing):
    pages, items = collect(plam.get_paginator("list_functions").paginate(), "Functions")
    names = [f["FunctionName"] for f in items]
    assert names == sorted(existing)  # exactly these, in order, no duplicates
    assert names[:FUNCTION_COUNT] == many
    assert [len(p) for p in pages] == sizes(len(existing), 50)
    assert all(f["Version"] == "$LATEST" for f in items)
    assert all(f["FunctionArn"] == function_arn(f["FunctionName"]) for f in items)


def test_list_functions_page_size_7(plam, many, existing):
    pages, items = collect(plam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 7}),
                           "Functions")
    assert [f["FunctionName"] for f in items] == sorted(existing)
    assert [len(p) for p in pages] == sizes(len(existing), 7)


def test_list_functions_markers_by_hand(plam, many):
    first = plam.list_functions(MaxItems=7)
    assert [f["FunctionName"] for f in first["Functions"]] == many[:7]
    assert first.get("NextMarker")
    second = plam.list_functions(MaxItems=7, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == many[7:14]

    capped = plam.list_functions(MaxItems=1000)
    assert [f["FunctionName"] for f in capped["Functions"]] == many[:50]
    assert capped.get("NextMarker")

    marker = None
    for _ in range(10):
        page = plam.list_functions(MaxItems=50, **({"Marker": marker} if marker else {}))
        marker = page.get("NextMarker")
        if not marker:
            break
    else:
        pytest.fail("NextMarker never ran out")
    assert page["Functions"], "the last page must not be empty"


def test_cli_list_functions_follows_markers(own_server, many, existing):
    cli = AwsCli(own_server.base_url)
    out = cli.ok("list-functions")
    assert [f["FunctionName"] for f in out["Functions"]] == sorted(existing)
    first = cli.ok("list-functions", "--max-items", "7")
    assert [f["FunctionName"] for f in first["Functions"]] == many[:7]
    assert first.get("NextToken")
    second = cli.ok("list-functions", "--max-items", "7", "--starting-token", first["NextToken"])
    assert [f["FunctionName"] for f in second["Functions"]] == many[7:14]


def test_list_functions_all_versions(plam, many, existing):
    pages, items = collect(plam.get_paginator("list_functions").paginate(FunctionVersion="ALL"), "Functions")
    assert all(len(p) <= 50 for p in pages)
    pairs = [(f["FunctionName"], f["Version"]) for f in items]
    assert len(pairs) == len(set(pairs))
    for name in many[:3]:
        assert (name, "$LATEST") in pairs
        assert (name, "1") in pairs
        assert (name, "2") in pairs
    by_pair = {(f["FunctionName"], f["Version"]): f for f in items}
    assert by_pair[(many[0], "2")]["FunctionArn"] == function_arn(many[0], "2")
    assert by_pair[(many[0], "2")]["Description"] == "v2"
    assert {name for name, _ in pairs} >= set(many)
    assert sum(1 for name, _ in pairs if name in many) == FUNCTION_COUNT + 6

    default = [(f["FunctionName"], f["Version"]) for p in plam.get_paginator("list_functions").paginate()
               for f in p["Functions"]]
    assert all(v == "$LATEST" for _, v in default)


def test_list_versions_paginator(plam, versioned):
    pages, items = collect(plam.get_paginator("list_versions_by_function").paginate(FunctionName=versioned),
                           "Versions")
    assert [v["Version"] for v in items] == ["$LATEST"] + [str(i) for i in range(1, VERSION_COUNT + 1)]
    assert all(len(p) <= 50 for p in pages)
    assert len(pages) >= 2
    assert items[5]["Description"] == "release 5"
    assert items[5]["FunctionArn"] == function_arn(versioned, "5")

    pages7, items7 = collect(plam.get_paginator("list_versions_by_function").paginate(
        FunctionName=versioned, PaginationConfig={"PageSize": 7}), "Versions")
    assert [len(p) for p in pages7] == [7] * 8 + [5]
    assert [v["Version"] for v in items7] == [v["Version"] for v in items]


def test_list_aliases_paginator(plam, versioned):
    for i in range(12):
        plam.create_alias(FunctionName=versioned, Name=f"a{i:02d}", FunctionVersion=str(i + 1))
    pages, items = collect(plam.get_paginator("list_aliases").paginate(
        FunctionName=versioned, PaginationConfig={"PageSize": 5}), "Aliases")
    assert [len(p) for p in pages] == [5, 5, 2]
    assert sorted(a["Name"] for a in items) == [f"a{i:02d}" for i in range(12)]


def test_account_settings(plam, many, versioned, existing):
    settings = plam.get_account_settings()
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert settings["AccountLimit"]["CodeSizeUnzipped"] == 262144000
    listed = sum(len(p["Functions"]) for p in plam.get_paginator("list_functions").paginate())
    assert listed == len(existing) == FUNCTION_COUNT + 1
    assert settings["AccountUsage"]["FunctionCount"] == len(existing)

    extra = unique("zz-count")
    create_function(plam, extra)
    assert plam.get_account_settings()["AccountUsage"]["FunctionCount"] == len(existing) + 1
    plam.delete_function(FunctionName=extra)
    assert plam.get_account_settings()["AccountUsage"]["FunctionCount"] == len(existing)
