-- wrk script for the Aviary invoke benchmark (scripts/bench/invoke.sh).
--   wrk ... -s invoke.lua http://127.0.0.1:PORT/PATH -- METHOD REQUEST_BODY_FILE EXPECTED_BODY_FILE
--
-- METHOD GET or POST; REQUEST_BODY_FILE is sent as the POST body ("-" for none); every response must
-- be 200, carry no X-Amz-Function-Error header and have exactly the bytes of EXPECTED_BODY_FILE as its
-- body. Violations are counted per thread and reported by done() as machine-readable BENCH_* lines
-- (the shell script aborts the comparison on any).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local function slurp(path)
   local f = assert(io.open(path, "rb"), "invoke.lua: cannot open " .. path)
   local data = f:read("*a")
   f:close()
   return data
end

function init(args)
   local method = args[1] or "GET"
   wrk.method = method
   if args[2] and args[2] ~= "-" then
      wrk.body = slurp(args[2])
      wrk.headers["Content-Type"] = "application/json"
   else
      wrk.body = nil
   end
   expected = slurp(assert(args[3], "invoke.lua: expected-body file argument missing"))
   bad_status, bad_body, fn_error = 0, 0, 0
   first_bad = ""
end

function response(status, headers, body)
   if status ~= 200 then
      bad_status = bad_status + 1
      if first_bad == "" then first_bad = "status " .. status .. ": " .. string.sub(body or "", 1, 200) end
   elseif headers["X-Amz-Function-Error"] or headers["x-amz-function-error"] then
      fn_error = fn_error + 1
      if first_bad == "" then first_bad = "function error: " .. string.sub(body or "", 1, 200) end
   elseif body ~= expected then
      bad_body = bad_body + 1
      if first_bad == "" then first_bad = "unexpected body: " .. string.sub(body or "", 1, 200) end
   end
end

function done(summary, latency, requests)
   local s, b, f, first = 0, 0, 0, ""
   for _, t in ipairs(threads) do
      s = s + (t:get("bad_status") or 0)
      b = b + (t:get("bad_body") or 0)
      f = f + (t:get("fn_error") or 0)
      local fb = t:get("first_bad") or ""
      if first == "" and fb ~= "" then first = fb end
   end
   local e = summary.errors
   io.write(string.format("BENCH_REQUESTS %d\n", summary.requests))
   io.write(string.format("BENCH_DURATION_US %d\n", summary.duration))
   io.write(string.format("BENCH_BAD %d %d %d\n", s, b, f))
   io.write(string.format("BENCH_FIRST_BAD %s\n", (first:gsub("[\r\n]", " "))))
   io.write(string.format("BENCH_SOCKET_ERRORS %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
   io.write(string.format("BENCH_P50_US %d\n", latency:percentile(50)))
   io.write(string.format("BENCH_P99_US %d\n", latency:percentile(99)))
end
