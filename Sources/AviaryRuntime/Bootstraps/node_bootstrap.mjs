// Aviary's bootstrap for nodejs* functions: a dependency-free Lambda Runtime API client.
//
// Started as `node bootstrap.mjs` in the function's code folder, with the variables Lambda sets
// (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_*, ...). Handlers may be
// CommonJS or ES modules (.js, .cjs, .mjs), async, promise-returning, or callback-style
// (`(event, context, callback)`), and may use the legacy context.succeed / fail / done.
// Written for Aviary; node:http with a keep-alive agent, because a long idle /next poll must not time out.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const API_PREFIX = "/2018-06-01/runtime";
const [host, port] = (() => {
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  const index = address.lastIndexOf(":");
  return [address.slice(0, index), Number(address.slice(index + 1))];
})();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, suffix, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const outgoing = { ...headers };
    if (data !== undefined) {
      outgoing["Content-Type"] = outgoing["Content-Type"] ?? "application/json";
      outgoing["Content-Length"] = data.length;
    }
    const req = http.request(
      { host, port, method, path: API_PREFIX + suffix, agent, headers: outgoing },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("socket", (socket) => socket.setNoDelay(true));
    req.on("error", reject);
    req.end(data);
  });
}

function errorBody(error) {
  const isError = error instanceof Error;
  return {
    errorType: isError ? error.name : typeof error === "string" ? "string" : "Error",
    errorMessage: isError ? error.message : typeof error === "string" ? error : JSON.stringify(error),
    trace: isError && error.stack ? error.stack.split("\n") : [],
  };
}

async function initError(type, error) {
  const body = { ...errorBody(error), errorType: type };
  console.error(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(body)}`);
  await request("POST", "/init/error", JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": type });
  process.exit(1);
}

let currentRequestId = "undefined";
for (const [level, method] of [["INFO", "log"], ["INFO", "info"], ["WARN", "warn"], ["ERROR", "error"], ["DEBUG", "debug"]]) {
  const original = console[method].bind(console);
  console[method] = (...args) => original(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}`);
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const name = process.env._HANDLER ?? "";
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) {
    return initError("Runtime.MalformedHandlerName", new Error(`Bad handler ${name}`));
  }
  const modulePath = name.slice(0, dot);
  const exportPath = name.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"].map((ext) => path.join(taskRoot, modulePath + ext)).find((f) => fs.existsSync(f));
  if (!file) {
    return initError("Runtime.ImportModuleError", new Error(`Cannot find module '${modulePath}'`));
  }
  let module;
  try {
    module = await import(pathToFileURL(file).href);
  } catch (error) {
    const type = error instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
    return initError(type, error);
  }
  const handler = module[exportPath] ?? module.default?.[exportPath];
  if (typeof handler !== "function") {
    return initError("Runtime.HandlerNotFound", new Error(`${modulePath}.${exportPath} is undefined or not exported`));
  }
  return handler;
}

function makeContext(headers, settle) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] ?? 0);
  const parse = (value) => (value ? JSON.parse(value) : undefined);
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parse(headers["lambda-runtime-client-context"]),
    identity: parse(headers["lambda-runtime-cognito-identity"]),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (result) => settle(null, result),
    fail: (error) => settle(error ?? new Error("handled")),
    done: (error, result) => settle(error, result),
  };
}

// Runs the handler in whichever style it uses and settles once: callback, context methods, or promise.
function runHandler(handler, event, headers) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      resolve(error ? { error } : { result });
    };
    const context = makeContext(headers, settle);
    try {
      const returned = handler(event, context, settle);
      if (returned && typeof returned.then === "function") {
        returned.then((result) => settle(null, result), (error) => settle(error ?? new Error("rejected")));
      } else if (handler.length < 3 && returned !== undefined) {
        settle(null, returned);
      }
    } catch (error) {
      settle(error);
    }
  });
}

const handler = await loadHandler();
for (;;) {
  const next = await request("GET", "/invocation/next");
  if (next.status !== 200) {
    console.error(`Failed to get next invocation. Http Response code: ${next.status}`);
    process.exit(1);
  }
  const requestId = next.headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  let event;
  try {
    event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
  } catch (error) {
    const body = { ...errorBody(error), errorType: "Runtime.UnmarshalError" };
    await request("POST", `/invocation/${requestId}/error`, JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": body.errorType });
    continue;
  }
  const outcome = await runHandler(handler, event, next.headers);
  if (outcome.error !== undefined) {
    const body = errorBody(outcome.error);
    console.error(`Invoke Error \t${JSON.stringify(body)}`);
    await request("POST", `/invocation/${requestId}/error`, JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": body.errorType });
  } else {
    await request("POST", `/invocation/${requestId}/response`, JSON.stringify(outcome.result === undefined ? null : outcome.result));
  }
  currentRequestId = "undefined";
}
