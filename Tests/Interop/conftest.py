"""Fixtures for the Aviary end-to-end interop suite.

Run: `AVIARY_BIN=.build/debug/aviary python -m pytest Tests/Interop -q` (AVIARY_BIN defaults to
`<repo>/.build/debug/aviary`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aviary_harness import AwsCli, ServerProcess, lambda_client

_AWS_VARS_TO_DROP = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_LAMBDA", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_REGION",
    # Retry settings change the CLI's error text ("... operation (reached max retries: 0): ..."); the
    # suite checks the text users see with the default settings.
    "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
)


@pytest.fixture(scope="session", autouse=True)
def aws_environment(tmp_path_factory):
    """Dummy credentials and no user config, for boto3 in this process and every `aws` subprocess."""
    home = tmp_path_factory.mktemp("aws-home")
    saved = dict(os.environ)
    for name in _AWS_VARS_TO_DROP:
        os.environ.pop(name, None)
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "nonexistent-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "nonexistent-credentials"),
        "AWS_PAGER": "",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    })
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def start_server(tmp_path_factory):
    """Factory: start a server on `data_dir` (a fresh one if omitted). Stops leftovers at teardown."""
    started: list[ServerProcess] = []

    def _start(data_dir: Path | None = None, *extra_args: str) -> ServerProcess:
        if data_dir is None:
            data_dir = tmp_path_factory.mktemp("data")
        srv = ServerProcess(data_dir=data_dir, log_dir=tmp_path_factory.mktemp("logs"), extra_args=list(extra_args))
        started.append(srv)
        return srv.start()

    yield _start
    for srv in started:
        if srv.running:
            srv.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The shared server for most tests (tests use unique function names)."""
    root = tmp_path_factory.mktemp("shared-server")
    srv = ServerProcess(data_dir=root / "data", log_dir=root / "logs").start()
    yield srv
    # A crash during the session, or an unclean shutdown, shows up as an error at teardown.
    was_running = srv.running
    code = srv.stop()
    assert was_running and code == 0, (
        f"shared server {'exited with' if was_running else 'had already died with'} code {code}\n{srv.output()}")


@pytest.fixture(scope="session")
def endpoint(server) -> str:
    return server.base_url


@pytest.fixture(scope="session")
def lam(endpoint):
    return lambda_client(endpoint)


@pytest.fixture(scope="session")
def cli(endpoint) -> AwsCli:
    return AwsCli(endpoint)
