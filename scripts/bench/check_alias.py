#!/usr/bin/env python3
"""Validate one GetAlias/UpdateAlias response captured by curl before load is applied.

Usage: check_alias.py --op get|update --status CODE --accept "200 201" --body FILE --label NAME
Exits non-zero (with a loud message) if the status is not accepted or the JSON is wrong.
"""
import argparse
import json
import sys

EXPECTED_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench:live"
EXPECTED_WEIGHTS = {"2": 0.1}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", choices=["get", "update"], required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--accept", default="200")
    ap.add_argument("--body", required=True)
    ap.add_argument("--label", required=True)
    a = ap.parse_args()

    with open(a.body, "rb") as f:
        raw = f.read()
    problems = []
    if a.status not in a.accept.split():
        problems.append(f"HTTP status {a.status}, expected one of: {a.accept}")
    try:
        doc = json.loads(raw)
    except ValueError as e:
        doc = None
        problems.append(f"body is not JSON ({e})")
    if isinstance(doc, dict):
        if doc.get("Name") != "live":
            problems.append(f"Name={doc.get('Name')!r}, expected 'live'")
        if doc.get("FunctionVersion") != "1":
            problems.append(f"FunctionVersion={doc.get('FunctionVersion')!r}, expected '1'")
        if doc.get("AliasArn") != EXPECTED_ARN:
            problems.append(f"AliasArn={doc.get('AliasArn')!r}, expected {EXPECTED_ARN!r}")
        if not doc.get("RevisionId"):
            problems.append("RevisionId missing")
        if a.op == "update":
            weights = (doc.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
            if weights != EXPECTED_WEIGHTS:
                problems.append(f"RoutingConfig.AdditionalVersionWeights={weights!r}, "
                                f"expected {EXPECTED_WEIGHTS!r}")
    elif doc is not None:
        problems.append(f"body is JSON but not an object: {doc!r}")

    op_name = "GetAlias" if a.op == "get" else "UpdateAlias"
    if problems:
        print(f"CHECK FAILED: {a.label} {op_name}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print(f"  body: {raw[:2000]!r}", file=sys.stderr)
        sys.exit(1)
    print(f"check ok: {a.label:6s} {op_name:11s} HTTP {a.status} {raw.decode(errors='replace')}")


if __name__ == "__main__":
    main()
