"""Aviary's bootstrap for python3.* functions: a dependency-free Lambda Runtime API client.

Started as `python3 -u bootstrap.py` in the function's code folder, with the variables Lambda sets
(AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_*, ...). It imports the handler
once (init), then loops: GET /next, call the handler, POST /response or /error. Written for Aviary; the
wire behaviour follows what the official client (awslambdaric) does.
"""

import http.client
import importlib
import json
import os
import socket
import sys
import time
import traceback

API_PREFIX = "/2018-06-01/runtime"


class RuntimeClient:
    """One keep-alive connection to the Runtime API, with Nagle off (small request/response pairs)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.connection = None

    def _connect(self):
        connection = http.client.HTTPConnection(self.host, self.port)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def request(self, method, path, body=None, headers=None):
        if self.connection is None:
            self.connection = self._connect()
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        self.connection.request(method, API_PREFIX + path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
            self.connection = None
        return response.status, response.headers, data


class Context:
    """The context object handlers receive, with the fields AWS's Python runtime provides."""

    def __init__(self, request_id, deadline_ms, invoked_arn, client_context, identity):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def error_body(error, request_id, error_type=None):
    # The first frame is this bootstrap calling the handler: AWS shows user code only.
    frames = error.__traceback__.tb_next if error.__traceback__ else None
    stack = traceback.format_list(traceback.extract_tb(frames))
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "requestId": request_id,
        "stackTrace": stack,
    }


def report_init_error(client, error_type, error):
    body = error_body(error, "", error_type)
    body["stackTrace"] = []
    print(f"[ERROR] {error_type}: {body['errorMessage']}", flush=True)
    client.request("POST", "/init/error", json.dumps(body).encode(),
                   {"Lambda-Runtime-Function-Error-Type": error_type})
    sys.exit(1)


def load_handler(client, name):
    module_path, _, function_name = name.rpartition(".")
    if not module_path or not function_name:
        report_init_error(client, "Runtime.MalformedHandlerName",
                          ValueError(f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)"))
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        report_init_error(client, "Runtime.UserCodeSyntaxError", error)
    except ImportError as error:
        report_init_error(client, "Runtime.ImportModuleError",
                          ImportError(f"Unable to import module '{module_name}': {error}"))
    except Exception as error:  # an exception raised while the module initialises
        print(traceback.format_exc(), flush=True)
        report_init_error(client, type(error).__name__, error)
    handler = getattr(module, function_name, None)
    if handler is None:
        report_init_error(client, "Runtime.HandlerNotFound",
                          AttributeError(f"Handler '{function_name}' missing on module '{module_name}'"))
    return handler


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path.insert(0, task_root)
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    handler = load_handler(client, os.environ["_HANDLER"])
    while True:
        status, headers, payload = client.request("GET", "/invocation/next")
        if status != 200:
            print(f"Failed to get next invocation. Http Response code: {status}", flush=True)
            sys.exit(1)
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            client_context = json.loads(headers["Lambda-Runtime-Client-Context"]) \
                if headers.get("Lambda-Runtime-Client-Context") else None
            identity = json.loads(headers["Lambda-Runtime-Cognito-Identity"]) \
                if headers.get("Lambda-Runtime-Cognito-Identity") else None
            event = json.loads(payload) if payload else {}
        except ValueError as error:
            body = error_body(error, request_id, "Runtime.UnmarshalError")
            client.request("POST", f"/invocation/{request_id}/error", json.dumps(body).encode(),
                           {"Lambda-Runtime-Function-Error-Type": "Runtime.UnmarshalError"})
            continue
        context = Context(request_id, int(headers.get("Lambda-Runtime-Deadline-Ms", "0")),
                          headers.get("Lambda-Runtime-Invoked-Function-Arn", ""), client_context, identity)
        try:
            result = handler(event, context)
        except Exception as error:
            body = error_body(error, request_id)
            print(f"[ERROR] {body['errorType']}: {body['errorMessage']}\rTraceback (most recent call last):\r"
                  + "\r".join(line.rstrip("\n") for line in body["stackTrace"]), flush=True)
            client.request("POST", f"/invocation/{request_id}/error", json.dumps(body).encode(),
                           {"Lambda-Runtime-Function-Error-Type": body["errorType"]})
            continue
        try:
            data = json.dumps(result).encode()
        except (TypeError, ValueError) as error:
            body = error_body(error, request_id, "Runtime.MarshalError")
            body["errorMessage"] = f"Unable to marshal response: {error}"
            body["stackTrace"] = []
            client.request("POST", f"/invocation/{request_id}/error", json.dumps(body).encode(),
                           {"Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"})
            continue
        client.request("POST", f"/invocation/{request_id}/response", data)


if __name__ == "__main__":
    main()
