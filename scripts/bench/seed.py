#!/usr/bin/env python3
"""Seed a Lambda control-plane endpoint (Aviary or moto) for the alias benchmark.

Creates function `bench` (python3.12, index.handler), publishes versions 1 and 2
(the description is changed in between so the second publish really creates a
new version), and creates alias `live` -> version 1.

Idempotent: an existing `bench` function is deleted first.  If the server
refuses the execution role (moto validates roles against its IAM mock), the
role `r` is created through the same endpoint's IAM API and the call retried.

Usage: seed.py --endpoint http://127.0.0.1:PORT
"""
import argparse
import io
import json
import sys
import time
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION = "bench"
ALIAS = "live"
ROLE_NAME = "r"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"

TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
})


def tiny_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


def error_code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


def wait_until(lam, pred, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        cfg = lam.get_function_configuration(FunctionName=FUNCTION)
        if pred(cfg):
            return cfg
        if time.monotonic() > deadline:
            sys.exit(f"seed: timed out waiting for {what}: State={cfg.get('State')} "
                     f"LastUpdateStatus={cfg.get('LastUpdateStatus')}")
        time.sleep(0.2)


def create_function(lam, endpoint: str):
    kwargs = dict(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Handler="index.handler",
        Role=ROLE_ARN,
        Code={"ZipFile": tiny_zip()},
        Description="bench v1",
    )
    try:
        return lam.create_function(**kwargs)
    except ClientError as e:
        msg = e.response.get("Error", {}).get("Message", "")
        if error_code(e) != "InvalidParameterValueException" or "role" not in msg.lower():
            raise
        # moto: "The role defined for the function cannot be assumed by Lambda."
        print(f"seed: server rejected role ({msg!r}); creating IAM role {ROLE_NAME} and retrying")
        iam = client("iam", endpoint)
        try:
            iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=TRUST_POLICY)
        except ClientError as e2:
            if error_code(e2) != "EntityAlreadyExists":
                raise
        return lam.create_function(**kwargs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()

    lam = client("lambda", args.endpoint)

    try:
        lam.get_function_configuration(FunctionName=FUNCTION)
        print(f"seed: function {FUNCTION} exists, deleting it first")
        lam.delete_function(FunctionName=FUNCTION)
    except ClientError as e:
        if error_code(e) != "ResourceNotFoundException":
            raise

    fn = create_function(lam, args.endpoint)
    wait_until(lam, lambda c: c.get("State") in (None, "Active"), "State=Active")

    v1 = lam.publish_version(FunctionName=FUNCTION)["Version"]
    lam.update_function_configuration(FunctionName=FUNCTION, Description="bench v2")
    wait_until(lam, lambda c: c.get("LastUpdateStatus") in (None, "Successful"),
               "LastUpdateStatus=Successful")
    v2 = lam.publish_version(FunctionName=FUNCTION)["Version"]
    if (v1, v2) != ("1", "2"):
        sys.exit(f"seed: expected versions 1 and 2, got {v1!r} and {v2!r}")

    alias = lam.create_alias(FunctionName=FUNCTION, Name=ALIAS, FunctionVersion="1")
    if alias.get("FunctionVersion") != "1":
        sys.exit(f"seed: alias points at {alias.get('FunctionVersion')!r}, expected '1'")

    print(f"seed: ok {fn['FunctionArn']} versions {v1},{v2} alias {alias['AliasArn']} -> 1")


if __name__ == "__main__":
    main()
