-- wrk script for the Aviary control-plane benchmark.
--   wrk ... -s alias.lua http://127.0.0.1:PORT/2015-03-31/functions/bench/aliases/live -- get|update
--
-- get    -> GetAlias    (GET, no body)
-- update -> UpdateAlias (PUT, JSON body; a durable write on Aviary)
--
-- Every request carries a fixed, dummy SigV4-shaped Authorization header: moto_server
-- routes requests to a backend by the service named in the credential scope and
-- treats unsigned requests as S3, so the same header is sent to both servers.
--
-- Counts every response whose status is not 2xx (wrk's own "Non-2xx or 3xx" counter
-- only counts >= 400) and prints machine-readable BENCH_* lines from done().
-- Set BENCH_LUA_RESPONSE=0 to skip the per-response hook (less client CPU); the
-- shell script then relies on wrk's built-in >= 400 counter only.

local AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
          .. "SignedHeaders=host, Signature=0"
local UPDATE_BODY = '{"FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{"2":0.1}}}'

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local op = args[1] or "get"
   wrk.headers["Authorization"] = AUTH
   if op == "update" then
      wrk.method = "PUT"
      wrk.body = UPDATE_BODY
      wrk.headers["Content-Type"] = "application/json"
   elseif op == "get" then
      wrk.method = "GET"
      wrk.body = nil
   else
      error("alias.lua: unknown op '" .. tostring(op) .. "' (want get|update)")
   end
   non2xx = 0
   first_bad = 0
end

if os.getenv("BENCH_LUA_RESPONSE") ~= "0" then
   function response(status, headers, body)
      if status < 200 or status > 299 then
         non2xx = non2xx + 1
         if first_bad == 0 then first_bad = status end
      end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, 0
   for _, t in ipairs(threads) do
      bad = bad + (t:get("non2xx") or 0)
      local fb = t:get("first_bad") or 0
      if first == 0 and fb ~= 0 then first = fb end
   end
   local e = summary.errors
   io.write(string.format("BENCH_REQUESTS %d\n", summary.requests))
   io.write(string.format("BENCH_DURATION_US %d\n", summary.duration))
   io.write(string.format("BENCH_NON2XX %d\n", bad))
   io.write(string.format("BENCH_FIRST_BAD_STATUS %d\n", first))
   io.write(string.format("BENCH_WRK_STATUS_ERRORS %d\n", e.status))
   io.write(string.format("BENCH_SOCKET_ERRORS %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
   io.write(string.format("BENCH_P50_US %d\n", latency:percentile(50)))
   io.write(string.format("BENCH_P99_US %d\n", latency:percentile(99)))
end
