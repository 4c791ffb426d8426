"""`aviary logs FUNCTION [--follow]`: the function's log streams, one per execution environment."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import time
import zipfile

from aviary_harness import ROLE, aviary_bin, lambda_client, unique

APP = '''
def handler(event, context):
    print("says", event["word"])
    return event["word"]
'''


def app_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), APP)
    return buf.getvalue()


def test_logs_prints_every_streams_lines_and_follows_new_ones(start_server, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data)
    lam = lambda_client(srv.base_url)
    name = unique("logged")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": app_zip()})
    lam.invoke(FunctionName=name, Payload=json.dumps({"word": "first"}).encode())
    done = subprocess.run([str(aviary_bin()), "logs", name, "--data-dir", str(data)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    stream = lines[0].split(" ", 1)[0]
    assert stream.count("/") == 3 and "[$LATEST]" in stream, stream
    assert any(line.endswith("says first") for line in lines)
    assert any(" START RequestId: " in line for line in lines)
    assert lines[-1].split(" ", 1)[1].startswith("REPORT RequestId: ")

    follower = subprocess.Popen([str(aviary_bin()), "logs", name, "--follow", "--data-dir", str(data)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    try:
        lam.invoke(FunctionName=name, Payload=json.dumps({"word": "second"}).encode())
        deadline = time.monotonic() + 20
        seen = b""
        while time.monotonic() < deadline and b"says second\n" not in seen:
            ready, _, _ = select.select([follower.stdout], [], [], 0.5)  # never block past the deadline
            if ready:
                seen += os.read(follower.stdout.fileno(), 65536)
        assert b"says second\n" in seen, seen.decode(errors="replace")
        assert b"says first\n" in seen, "following starts with what is already there"
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_logs_of_an_unknown_function_is_a_clear_error(tmp_path):
    done = subprocess.run([str(aviary_bin()), "logs", "ghost", "--data-dir", str(tmp_path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode != 0
    assert "no logs for function 'ghost'" in done.stderr
