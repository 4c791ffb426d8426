#!/usr/bin/env bash
# The one command that runs every test (README "Run the tests"; .ci/run calls exactly this).
# It installs what the tests need: the Debian libraries GRDB and ZIPFoundation link against, and the
# interop clients (aws CLI, boto3, pytest) in a virtualenv at .venv. Then it builds, runs the Swift
# tests, and runs the interop suite against a real `aviary serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in libsqlite3-dev zlib1g-dev; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

echo "==> python clients (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r Tests/Interop/requirements.txt

echo "==> swift build"
swift build --build-tests

echo "==> swift tests"
swift test --skip-build

echo "==> interop tests (aws CLI + boto3 against aviary serve)"
PATH="$PWD/.venv/bin:$PATH" AVIARY_BIN="$PWD/.build/debug/aviary" \
    .venv/bin/python -m pytest Tests/Interop -q -p no:cacheprovider
