"""Event (asynchronous) invocations: stored durably before the 202, run later, retried as AWS does."""

from __future__ import annotations

import io
import json
import time
import zipfile

from aviary_harness import ROLE, assert_error, call_error, lambda_client, raw_request, unique

RECORDER = '''
import os

def handler(event, context):
    folder = event["dir"]
    attempt = len([f for f in os.listdir(folder) if f.startswith("attempt-")]) + 1
    with open(os.path.join(folder, f"attempt-{attempt}"), "w") as marker:
        marker.write(context.aws_request_id + " " + context.function_version)
    if attempt <= event.get("fail_times", 0):
        raise RuntimeError(f"failing attempt {attempt}")
    return attempt
'''


def recorder_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), RECORDER)
    return buf.getvalue()


def create_recorder(lam, name: str) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": recorder_zip()}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")


def attempts(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("attempt-"))


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def send_event(lam, name: str, payload: dict, qualifier: str = "live") -> dict:
    response = lam.invoke(FunctionName=name, Qualifier=qualifier, InvocationType="Event",
                          Payload=json.dumps(payload).encode())
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert "ExecutedVersion" not in response
    return response


def test_an_event_is_accepted_with_202_and_runs_through_the_alias(lam, tmp_path):
    name = unique("event")
    create_recorder(lam, name)
    response = send_event(lam, name, {"dir": str(tmp_path)})
    wait_for(lambda: attempts(tmp_path), 20, "the event to run")
    marker = (tmp_path / "attempt-1").read_text()
    assert marker == f"{response['ResponseMetadata']['RequestId']} 1"


def test_event_limits_and_missing_targets(lam, endpoint):
    name = unique("eventlimits")
    create_recorder(lam, name)
    big = b'"' + b"x" * 1_048_577 + b'"'
    status, headers, body = raw_request(endpoint, "POST", f"/2015-03-31/functions/{name}/invocations", big,
                                        {"X-Amz-Invocation-Type": "Event"})
    assert status == 413 and headers["x-amzn-errortype"] == "RequestEntityTooLargeException"
    assert b"byte payload is too large for the Event invocation type (limit 1048576 bytes)" in body
    assert_error(call_error(lam.invoke, FunctionName=name, Qualifier="nope", InvocationType="Event"),
                 "ResourceNotFoundException", 404)


def test_a_failing_event_runs_three_times_in_all(start_server, tmp_path):
    srv = start_server(None, "--async-retry-delay", "1")
    lam = lambda_client(srv.base_url)
    name = unique("retries")
    create_recorder(lam, name)
    send_event(lam, name, {"dir": str(tmp_path), "fail_times": 99})
    wait_for(lambda: len(attempts(tmp_path)) == 3, 20, "three attempts (first run + 2 retries, 1 s and 2 s apart)")
    time.sleep(2.5)  # longer than the next delay would be: no fourth attempt may come
    assert attempts(tmp_path) == ["attempt-1", "attempt-2", "attempt-3"]


def test_a_pending_retry_survives_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    srv = start_server(data, "--async-retry-delay", "3")
    lam = lambda_client(srv.base_url)
    name = unique("durable")
    create_recorder(lam, name)
    send_event(lam, name, {"dir": str(work), "fail_times": 1})
    wait_for(lambda: attempts(work) == ["attempt-1"], 20, "the first (failing) attempt")
    assert srv.stop() == 0  # the retry is due in 3 s; the server is gone before that
    assert attempts(work) == ["attempt-1"]
    again = start_server(data, "--async-retry-delay", "3")
    wait_for(lambda: attempts(work) == ["attempt-1", "attempt-2"], 20, "the retry after the restart")
    assert again.stop() == 0


SLOW_FIRST = '''
import os, time

def handler(event, context):
    folder = event["dir"]
    attempt = len([f for f in os.listdir(folder) if f.startswith("attempt-")]) + 1
    with open(os.path.join(folder, f"attempt-{attempt}"), "w") as marker:
        marker.write(context.aws_request_id)
    if attempt == 1:
        time.sleep(8)
    return attempt
'''


def test_a_running_event_does_not_hold_up_shutdown_and_runs_again_after_the_restart(start_server, tmp_path):
    data = tmp_path / "data"
    work = tmp_path / "work"
    work.mkdir()
    srv = start_server(data)
    lam = lambda_client(srv.base_url)
    name = unique("slow-event")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), SLOW_FIRST)
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Timeout=10,
                        Code={"ZipFile": buf.getvalue()}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    send_event(lam, name, {"dir": str(work)})
    wait_for(lambda: attempts(work) == ["attempt-1"], 20, "the first attempt to start")
    started = time.monotonic()
    assert srv.stop(timeout=5) == 0, "SIGTERM must not wait out the function's 8 s"
    assert time.monotonic() - started < 4
    again = start_server(data)
    wait_for(lambda: attempts(work) == ["attempt-1", "attempt-2"], 20, "the interrupted event again after the restart")
    assert again.stop() == 0


DESTINATION = '''
import json, os

def handler(event, context):
    folder = os.environ["RECORDS"]
    count = len(os.listdir(folder))
    with open(os.path.join(folder, f"record-{count + 1}.json"), "w") as out:
        json.dump(event, out)
    return "stored"
'''


def create_destination(lam, name: str, folder) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0)), DESTINATION)
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                              Code={"ZipFile": buf.getvalue()}, Environment={"Variables": {"RECORDS": str(folder)}})["FunctionArn"]
    return arn


def records(folder) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.iterdir())]


def test_event_invoke_configs_through_the_aws_cli(cli, lam, tmp_path):
    name = unique("eic")
    create_recorder(lam, name)
    dest = create_destination(lam, unique("eicdest"), tmp_path)
    put = cli.ok("put-function-event-invoke-config", "--function-name", name, "--qualifier", "live",
                 "--maximum-retry-attempts", "0", "--destination-config", json.dumps({"OnFailure": {"Destination": dest}}))
    assert put["FunctionArn"].endswith(f"function:{name}:live")
    assert put["MaximumRetryAttempts"] == 0 and put["DestinationConfig"]["OnFailure"]["Destination"] == dest
    assert isinstance(put["LastModified"], (int, float))
    updated = cli.ok("update-function-event-invoke-config", "--function-name", name, "--qualifier", "live",
                     "--maximum-event-age-in-seconds", "600")
    assert updated["MaximumRetryAttempts"] == 0 and updated["MaximumEventAgeInSeconds"] == 600
    cli.ok("put-function-event-invoke-config", "--function-name", name, "--maximum-retry-attempts", "1")
    listed = cli.ok("list-function-event-invoke-configs", "--function-name", name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["$LATEST", "live"]
    for args, code in [
        (("--maximum-retry-attempts", "5"), "ValidationException"),
        (("--destination-config", json.dumps({"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}})),
         "InvalidParameterValueException"),
        (("--destination-config", json.dumps({"OnSuccess": {"Destination": put["FunctionArn"]}})), "InvalidParameterValueException"),
        (("--qualifier", "9"), "ResourceNotFoundException"),
    ]:
        res = cli.fail("put-function-event-invoke-config", "--function-name", name, *args)
        assert code in res.stderr, res.describe()
    cli.ok("delete-function-event-invoke-config", "--function-name", name)
    res = cli.fail("get-function-event-invoke-config", "--function-name", name)
    assert "ResourceNotFoundException" in res.stderr and "doesn't have an EventInvokeConfig" in res.stderr, res.describe()


def test_destinations_receive_lambdas_records_and_retries_follow_the_config(start_server, tmp_path):
    srv = start_server(None, "--async-retry-delay", "1")
    lam = lambda_client(srv.base_url)
    work, failures, successes = tmp_path / "work", tmp_path / "failures", tmp_path / "successes"
    for folder in (work, failures, successes):
        folder.mkdir()
    name = unique("dest")
    create_recorder(lam, name)
    on_failure = create_destination(lam, unique("onfailure"), failures)
    on_success = create_destination(lam, unique("onsuccess"), successes)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": on_failure},
                                                            "OnSuccess": {"Destination": on_success}})
    # No retry: one failed run, then the failure record.
    sent = send_event(lam, name, {"dir": str(work), "fail_times": 99})
    wait_for(lambda: records(failures), 20, "the failure record")
    time.sleep(1.5)  # a retry would come after 1 s
    assert attempts(work) == ["attempt-1"]
    [failure] = records(failures)
    assert failure["version"] == "1.0"
    assert failure["requestContext"] == {
        "requestId": sent["ResponseMetadata"]["RequestId"], "functionArn": f"{lam.get_function(FunctionName=name)['Configuration']['FunctionArn']}:live",
        "condition": "RetriesExhausted", "approximateInvokeCount": 1}
    assert failure["requestPayload"] == {"dir": str(work), "fail_times": 99}
    assert failure["responseContext"] == {"statusCode": 200, "executedVersion": "1", "functionError": "Unhandled"}
    assert failure["responsePayload"]["errorType"] == "RuntimeError"
    # A success goes to the success destination with the function's response.
    for p in work.iterdir():
        p.unlink()
    send_event(lam, name, {"dir": str(work)})
    wait_for(lambda: records(successes), 20, "the success record")
    [success] = records(successes)
    assert success["requestContext"]["condition"] == "Success" and success["responsePayload"] == 1
    assert "functionError" not in success["responseContext"]
    assert len(records(failures)) == 1


def test_an_event_older_than_its_maximum_age_is_dropped_to_the_failure_destination(lam, tmp_path):
    """A throttled event is retried every second without using an attempt, until it is older than the
    configured maximum age (60 s, the least Lambda allows): then it is dropped with an EventAgeExceeded
    record."""
    work, failures = tmp_path / "work", tmp_path / "failures"
    work.mkdir()
    failures.mkdir()
    name = unique("aged")
    create_recorder(lam, name)
    on_failure = create_destination(lam, unique("agedfailure"), failures)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": on_failure}})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    started = time.monotonic()
    send_event(lam, name, {"dir": str(work)})
    wait_for(lambda: records(failures), 90, "the EventAgeExceeded record")
    assert time.monotonic() - started >= 59
    [record] = records(failures)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record
    assert attempts(work) == []
