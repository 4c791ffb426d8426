#!/usr/bin/env bash
# Authentication overhead benchmark: what `aviary serve --auth keys.json` (SigV4 on the Lambda API, bearer
# tokens on /v1, docs/auth.md) costs on the hot API paths.
#
#   scripts/bench/auth.sh
#
# Starts two release servers side by side, A without --auth and B with --auth (a generated keys file with
# one access key and one bearer token), seeds both the same way (seed.py's function `bench` with alias
# `live`, plus `bench-c`, a native `provided.al2023` function built from bootstrap.c, published as
# version 1), and measures each operation with wrk against A and B alternately (the order flips every
# round, so drift hits both), medians of the rounds:
#
#   get      GetAlias  GET /2015-03-31/functions/bench/aliases/live
#            A unsigned, B with a SigV4-signed request
#   invoke   Invoke    POST /2015-03-31/functions/bench-c/invocations?Qualifier=1, body {}
#            A unsigned, B signed (the body's SHA-256 is part of the signature); every response body is
#            compared with the expected one
#   bearer   ListDeployments  GET /v1/deployments
#            A without credentials, B with `Authorization: Bearer <token>`
#
# A signature of a fixed request stays valid for 15 minutes (the X-Amz-Date window), so the signed headers
# are computed with botocore (SigV4Auth, region us-east-1, service lambda, Host as wrk sends it:
# 127.0.0.1:PORT) just before each of B's wrk runs and replayed for every request of that run. Before any
# load, B must answer the signed request with 2xx and refuse the same request unsigned and with a wrong
# signature (403), and the bearer request without the token (401) -- so the verification really runs.
#
# Prints requests/s, p50/p99 and the server's CPU time per request (utime+stime of /proc/PID/stat over the
# run) for A and B, and the B/A ratios. There is no goal: this exits 0 whatever the ratios. It exits
# non-zero if anything is wrong with the setup or if any response during a measurement is not 2xx (or,
# for invoke, not the expected body), or on socket errors.
#
# Environment (all optional):
#   AVIARY_BIN          aviary binary (default <repo>/.build/release/aviary; if that default is missing
#                       it is built with `swift build -c release --product aviary`); it must know --auth
#   BENCH_SECONDS       seconds per measurement (default 10; at most 600, inside the signature window)
#   BENCH_WARMUP_SECONDS  warm-up seconds per server and operation (default 2)
#   BENCH_ROUNDS        measured rounds per server and operation (default 3)
#   BENCH_CONNECTIONS   wrk connections for get and bearer (default 16)
#   BENCH_INVOKE_CONNECTIONS  wrk connections for invoke (default 8: as many warm environments)
#   BENCH_THREADS       wrk threads (default 2)
#   BENCH_OPS           operations to run (default "get invoke bearer")
#   BENCH_OUT_DIR       if set, raw wrk outputs, the signed headers and server logs are copied there
#                       (the keys file and the token are not)
#   PYTHON              interpreter used to create the venv (default python3)
#
# Installs: wrk and gcc (apt-get, Debian) if missing; boto3 into the venv <repo>/.venv-bench if missing.
# Only loopback (127.0.0.1) traffic. Everything started here is stopped on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_WARMUP_SECONDS="${BENCH_WARMUP_SECONDS:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-16}"
BENCH_INVOKE_CONNECTIONS="${BENCH_INVOKE_CONNECTIONS:-8}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_OPS="${BENCH_OPS:-get invoke bearer}"
BENCH_OUT_DIR="${BENCH_OUT_DIR:-}"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv-bench"
export PYTHONDONTWRITEBYTECODE=1   # the helper imports seed.py; no __pycache__ in the repo
DEFAULT_AVIARY_BIN="$REPO/.build/release/aviary"
AVIARY_BIN="${AVIARY_BIN:-$DEFAULT_AVIARY_BIN}"
ALIAS_PATH="/2015-03-31/functions/bench/aliases/live"
INVOKE_PATH="/2015-03-31/functions/bench-c/invocations?Qualifier=1"
BEARER_PATH="/v1/deployments"
CLK_TCK=$(getconf CLK_TCK)


for v in BENCH_SECONDS BENCH_WARMUP_SECONDS BENCH_ROUNDS BENCH_CONNECTIONS BENCH_INVOKE_CONNECTIONS BENCH_THREADS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( BENCH_SECONDS >= 1 && BENCH_ROUNDS >= 1 && BENCH_THREADS >= 1 )) || die "BENCH_SECONDS, BENCH_ROUNDS and BENCH_THREADS must be >= 1"
(( BENCH_CONNECTIONS >= BENCH_THREADS && BENCH_INVOKE_CONNECTIONS >= BENCH_THREADS )) \
  || die "BENCH_CONNECTIONS and BENCH_INVOKE_CONNECTIONS must be >= BENCH_THREADS"
(( BENCH_CONNECTIONS <= 256 && BENCH_INVOKE_CONNECTIONS <= 64 )) || die "BENCH_CONNECTIONS is capped at 256, BENCH_INVOKE_CONNECTIONS at 64"
# a signature is made just before each run and must stay inside the server's 15-minute window
(( BENCH_SECONDS <= 600 && BENCH_WARMUP_SECONDS <= 600 && BENCH_ROUNDS <= 20 )) || die "durations capped at 600 s, rounds at 20"
[[ -n "${BENCH_OPS// /}" ]] || die "BENCH_OPS is empty"
for op in $BENCH_OPS; do [[ "$op" == get || "$op" == invoke || "$op" == bearer ]] || die "BENCH_OPS: unknown op '$op'"; done

# ---------------------------------------------------------------- cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/aviary-auth-bench.XXXXXX")"
PIDS=()
CHILD_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD_PID" ]]; then kill -TERM "$CHILD_PID" 2>/dev/null || true; wait "$CHILD_PID" 2>/dev/null || true; fi
  stop_processes "${PIDS[@]}"
  if [[ -n "$BENCH_OUT_DIR" ]]; then
    mkdir -p "$BENCH_OUT_DIR" && cp -r "$WORK"/. "$BENCH_OUT_DIR"/ 2>/dev/null || true
    rm -rf "$BENCH_OUT_DIR"/data-? "$BENCH_OUT_DIR/keys.json" "$BENCH_OUT_DIR/token" 2>/dev/null || true
    log "raw outputs copied to $BENCH_OUT_DIR"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# ---------------------------------------------------------------- dependencies

ensure_tools() {
  command -v wrk >/dev/null 2>&1 || apt_install wrk
  command -v wrk >/dev/null 2>&1 || die "wrk still not on PATH after install"
  command -v curl >/dev/null 2>&1 || apt_install curl
  if [[ " $BENCH_OPS " == *" invoke "* ]]; then
    command -v gcc >/dev/null 2>&1 || apt_install gcc
    command -v gcc >/dev/null 2>&1 || die "gcc still not on PATH after install"
  fi
}

ensure_venv() {
  if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import boto3' >/dev/null 2>&1; then
    return 0
  fi
  log "preparing venv $VENV with boto3 (PyPI)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV" || die "could not create venv $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check boto3 || die "pip install boto3 failed"
  "$VENV/bin/python" -c 'import boto3' || die "boto3 not importable after install"
}

# ---------------------------------------------------------------- helpers written at run time
# (kept in this file so that the benchmark is one script; both go to $WORK)

HELPER="$WORK/auth_helper.py"
cat >"$HELPER" <<'EOF'
"""Helper of scripts/bench/auth.sh: keys file, seeding, SigV4 signing (botocore), checked invokes."""
import argparse
import http.client
import io
import json
import os
import secrets
import sys
import zipfile
from urllib.parse import urlsplit

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/r"
INVOKE_FUNCTION = "bench-c"
EXPECTED_INVOKE = {"runtime": "c", "event": {}}


def load_key(path):
    with open(path) as f:
        key = json.load(f)["keys"][0]
    return key["accessKeyId"], key["secretAccessKey"]


def cmd_keys(args):
    doc = {
        "keys": [{"accessKeyId": "AKIABENCH" + secrets.token_hex(6).upper(),
                  "secretAccessKey": secrets.token_urlsafe(30), "user": "bench"}],
        "tokens": [{"token": secrets.token_hex(32), "user": "bench-token"}],
    }
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    with open(args.token_out, "w") as f:
        f.write(doc["tokens"][0]["token"])


def lambda_client(endpoint, keys):
    import boto3
    from botocore.config import Config
    access, secret = load_key(keys)
    return boto3.client("lambda", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=access,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 2, "mode": "standard"},
                                      connect_timeout=5, read_timeout=60))


def zip_bytes(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    return buf.getvalue()


def cmd_seed(args):
    # seed.py's function bench (python3.12, versions 1 and 2, alias live -> 1), with its client signing
    # with the benchmark's key (server A ignores the signature, server B checks it)
    sys.path.insert(0, args.script_dir)
    import seed
    seed.client = lambda service, endpoint: lambda_client(endpoint, args.keys) if service == "lambda" else \
        sys.exit(f"auth_helper: seed.py asked for a {service} client")
    sys.argv = ["seed.py", "--endpoint", args.endpoint]
    seed.main()
    if not args.c_bootstrap:
        return
    lam = lambda_client(args.endpoint, args.keys)
    with open(args.c_bootstrap, "rb") as f:
        code = zip_bytes("bootstrap", f.read())
    try:
        lam.delete_function(FunctionName=INVOKE_FUNCTION)
    except lam.exceptions.ResourceNotFoundException:
        pass
    lam.create_function(FunctionName=INVOKE_FUNCTION, Runtime="provided.al2023", Role=ROLE,
                        Handler="bootstrap", Code={"ZipFile": code}, Timeout=30, MemorySize=128,
                        Description="auth benchmark")
    version = lam.publish_version(FunctionName=INVOKE_FUNCTION)["Version"]
    if version != "1":
        sys.exit(f"auth_helper: {INVOKE_FUNCTION} published version {version!r}, expected '1'")
    r = lam.invoke(FunctionName=INVOKE_FUNCTION, Qualifier="1", Payload=b"{}")
    body = r["Payload"].read()
    if r["StatusCode"] != 200 or r.get("FunctionError") or r.get("ExecutedVersion") != "1" \
            or json.loads(body) != EXPECTED_INVOKE:
        sys.exit(f"auth_helper: checked invoke of {INVOKE_FUNCTION}:1 answered {r['StatusCode']} "
                 f"FunctionError={r.get('FunctionError')} ExecutedVersion={r.get('ExecutedVersion')} {body[:300]!r}")
    with open(args.expected_out, "wb") as f:
        f.write(body)
    print(f"seed: ok {INVOKE_FUNCTION}:1 (provided.al2023) answers {body.decode()}")


def cmd_sign(args):
    """Prints the headers to add to the request ("Name: value" per line), Host excepted: wrk sends
    Host: 127.0.0.1:PORT by itself, and that exact value is signed here."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    access, secret = load_key(args.keys)
    body = b""
    headers = {"Host": urlsplit(args.url).netloc}
    if args.body:
        with open(args.body, "rb") as f:
            body = f.read()
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=args.method, url=args.url, data=body, headers=headers)
    SigV4Auth(Credentials(access, secret), "lambda", REGION).add_auth(request)
    for name, value in request.headers.items():
        if name.lower() != "host":
            print(f"{name}: {value}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("keys")
    p.add_argument("--out", required=True)
    p.add_argument("--token-out", required=True)
    p = sub.add_parser("seed")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--script-dir", required=True)
    p.add_argument("--c-bootstrap", default="")
    p.add_argument("--expected-out", default="")
    p = sub.add_parser("sign")
    p.add_argument("--keys", required=True)
    p.add_argument("--method", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--body", default="")
    args = ap.parse_args()
    {"keys": cmd_keys, "seed": cmd_seed, "sign": cmd_sign}[args.cmd](args)


if __name__ == "__main__":
    main()
EOF

# wrk script: the request line and body from the arguments, extra headers from wrk's -H (nothing here
# overrides them); counts every non-2xx response (alias.lua's pattern) and, if an expected-body file is
# given, every 2xx whose body differs; BENCH_* lines from done().
WRK_LUA="$WORK/auth.lua"
cat >"$WRK_LUA" <<'EOF'
-- wrk ... -s auth.lua URL -- METHOD BODY_FILE|- EXPECTED_BODY_FILE|-
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local function slurp(path)
   local f = assert(io.open(path, "rb"), "auth.lua: cannot open " .. path)
   local data = f:read("*a")
   f:close()
   return data
end

function init(args)
   wrk.method = args[1] or "GET"
   if args[2] and args[2] ~= "-" then
      wrk.body = slurp(args[2])
      wrk.headers["Content-Type"] = "application/json"
   else
      wrk.body = nil
   end
   if args[3] and args[3] ~= "-" then expected = slurp(args[3]) else expected = nil end
   non2xx, bad_body = 0, 0
   first_bad = ""
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == "" then first_bad = "status " .. status .. ": " .. string.sub(body or "", 1, 200) end
   elseif expected ~= nil and body ~= expected then
      bad_body = bad_body + 1
      if first_bad == "" then first_bad = "unexpected body: " .. string.sub(body or "", 1, 200) end
   end
end

function done(summary, latency, requests)
   local n, b, first = 0, 0, ""
   for _, t in ipairs(threads) do
      n = n + (t:get("non2xx") or 0)
      b = b + (t:get("bad_body") or 0)
      local fb = t:get("first_bad") or ""
      if first == "" and fb ~= "" then first = fb end
   end
   local e = summary.errors
   io.write(string.format("BENCH_REQUESTS %d\n", summary.requests))
   io.write(string.format("BENCH_DURATION_US %d\n", summary.duration))
   io.write(string.format("BENCH_NON2XX %d\n", n))
   io.write(string.format("BENCH_BAD_BODY %d\n", b))
   io.write(string.format("BENCH_FIRST_BAD %s\n", (first:gsub("[\r\n]", " "))))
   io.write(string.format("BENCH_SOCKET_ERRORS %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
   io.write(string.format("BENCH_P50_US %d\n", latency:percentile(50)))
   io.write(string.format("BENCH_P99_US %d\n", latency:percentile(99)))
end
EOF

helper() { "$VENV/bin/python" "$HELPER" "$@"; }

# ---------------------------------------------------------------- servers
KEYS="$WORK/keys.json"
declare -A URL PID

# start_server A|B
start_server() {
  local side=$1 port data="$WORK/data-$1" args=()
  port=$(free_port)
  mkdir -p "$data"
  [[ $side == B ]] && args=(--auth "$KEYS")
  log "starting server $side: $AVIARY_BIN serve on 127.0.0.1:$port ${args[*]:-(no --auth)} (data dir $data, fs $(stat -f -c %T "$data"))"
  "$AVIARY_BIN" serve --host 127.0.0.1 --port "$port" --data-dir "$data" --idle-timeout 3600 "${args[@]}" \
    >"$WORK/server-$side.log" 2>&1 &
  PID[$side]=$!
  PIDS+=("${PID[$side]}")
  wait_http "server-$side" "http://127.0.0.1:$port/health" "${PID[$side]}" 60
  URL[$side]="http://127.0.0.1:$port"
}

seed_server() {
  local side=$1 extra=()
  [[ " $BENCH_OPS " == *" invoke "* ]] && extra=(--c-bootstrap "$WORK/c/bootstrap" --expected-out "$WORK/expected-invoke-$side.body")
  log "seeding server $side (${URL[$side]}), boto3 signing with the generated key"
  run_child "$WORK/seed-$side.log" helper seed --endpoint "${URL[$side]}" --keys "$KEYS" --script-dir "$SCRIPT_DIR" "${extra[@]}" \
    || { cat "$WORK/seed-$side.log" >&2; tail -n 20 "$WORK/server-$side.log" >&2 || true; die "seeding server $side failed"; }
  sed 's/^/  /' "$WORK/seed-$side.log" >&2
}

# ---------------------------------------------------------------- requests
op_name() { case $1 in get) echo GetAlias ;; invoke) echo Invoke ;; bearer) echo ListDeployments ;; esac; }
op_path() { case $1 in get) echo "$ALIAS_PATH" ;; invoke) echo "$INVOKE_PATH" ;; bearer) echo "$BEARER_PATH" ;; esac; }
op_method() { [[ $1 == invoke ]] && echo POST || echo GET; }
op_body() { [[ $1 == invoke ]] && echo "$WORK/request.json" || echo -; }
op_conns() { [[ $1 == invoke ]] && echo "$BENCH_INVOKE_CONNECTIONS" || echo "$BENCH_CONNECTIONS"; }
op_credentials() {
  case $1 in get | invoke) echo "SigV4 signature" ;; bearer) echo "bearer token" ;; esac
}

# request_headers SIDE OP: fills HDRS with the credentials B's request carries (A: none). Signatures are
# made now, so each run starts with a fresh 15-minute window.
HDRS=()
request_headers() {
  local side=$1 op=$2 body
  HDRS=()
  [[ $side == B ]] || return 0
  if [[ $op == bearer ]]; then
    HDRS=("Authorization: Bearer $(cat "$WORK/token")")
    return 0
  fi
  body=$(op_body "$op")
  [[ $body == - ]] && body=""
  helper sign --keys "$KEYS" --method "$(op_method "$op")" --url "${URL[B]}$(op_path "$op")" --body "$body" \
    >"$WORK/signed-$op.txt" || die "signing the $(op_name "$op") request failed"
  mapfile -t HDRS <"$WORK/signed-$op.txt"
  (( ${#HDRS[@]} >= 2 )) || die "signing the $(op_name "$op") request printed no headers"
}

# curl_status SIDE OP HEADER... -> prints the HTTP status; the body goes to $WORK/check.body
curl_status() {
  local side=$1 op=$2 args=() h body
  shift 2
  for h in "$@"; do args+=(-H "$h"); done
  body=$(op_body "$op")
  if [[ $body != - ]]; then
    args+=(-X POST --data-binary "@$body")
    # the same Content-Type as wrk sends (and as the signature covers)
    [[ " $* " == *"Content-Type:"* ]] || args+=(-H "Content-Type: application/json")
  fi
  curl -s -o "$WORK/check.body" -w '%{http_code}' --max-time 30 "${args[@]}" "${URL[$side]}$(op_path "$op")" || echo 000
}

# check OP: before any load, A answers without credentials, B answers with them and refuses without
check() {
  local op=$1 opn code want_refusal bad_sig
  opn=$(op_name "$op")
  code=$(curl_status A "$op")
  [[ $code == 200 ]] || { cat "$WORK/check.body" >&2; echo >&2; die "check: A $opn without credentials answered $code, want 200"; }
  if [[ $op == invoke ]]; then
    cmp -s "$WORK/check.body" "$WORK/expected-invoke-A.body" || die "check: A $opn answered an unexpected body: $(head -c 300 "$WORK/check.body")"
  fi
  request_headers B "$op"
  code=$(curl_status B "$op" "${HDRS[@]}")
  [[ $code == 200 ]] || { cat "$WORK/check.body" >&2; echo >&2; die "check: B $opn with a $(op_credentials "$op") answered $code, want 200"; }
  if [[ $op == invoke ]]; then
    cmp -s "$WORK/check.body" "$WORK/expected-invoke-B.body" || die "check: B $opn answered an unexpected body: $(head -c 300 "$WORK/check.body")"
    cmp -s "$WORK/expected-invoke-A.body" "$WORK/expected-invoke-B.body" || die "check: A and B answer Invoke with different bodies"
  fi
  [[ $op == bearer ]] && want_refusal=401 || want_refusal=403
  code=$(curl_status B "$op")
  [[ $code == "$want_refusal" ]] || { cat "$WORK/check.body" >&2; echo >&2; die "check: B $opn without credentials answered $code, want $want_refusal"; }
  # the same credentials with one character changed must be refused too (the signature is checked,
  # not only present)
  local tampered=() h
  for h in "${HDRS[@]}"; do
    if [[ $h == Authorization:* ]]; then
      if [[ ${h: -1} == 0 ]]; then h="${h%?}1"; else h="${h%?}0"; fi
    fi
    tampered+=("$h")
  done
  code=$(curl_status B "$op" "${tampered[@]}")
  [[ $code == "$want_refusal" ]] || { cat "$WORK/check.body" >&2; echo >&2; die "check: B $opn with altered credentials answered $code, want $want_refusal"; }
  log "check $opn: A 200 without credentials; B 200 with a $(op_credentials "$op"), $want_refusal without, $want_refusal with one altered character"
}

# ---------------------------------------------------------------- measurement
server_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

to_ms() { awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }'; }

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# log streams of bench-c on a server (one per execution environment started)
streams() { find "$WORK/data-$1/logs/bench-c" -name '*.log' 2>/dev/null | wc -l; }

# run_wrk SIDE OP SECONDS TAG -> sets R_RPS R_P50 R_P99 R_REQS R_CPU_US; aborts on any bad response
run_wrk() {
  local side=$1 op=$2 secs=$3 tag=$4 out expected=- args=() h t0 t1
  out="$WORK/wrk-$tag-$side-$op.txt"
  [[ $op == invoke ]] && expected="$WORK/expected-invoke-$side.body"
  request_headers "$side" "$op"
  for h in "${HDRS[@]}"; do args+=(-H "$h"); done
  t0=$(server_ticks "${PID[$side]}")
  run_child "$out" wrk -t"$BENCH_THREADS" -c"$(op_conns "$op")" -d"${secs}s" --timeout 5s "${args[@]}" \
      -s "$WRK_LUA" "${URL[$side]}$(op_path "$op")" -- "$(op_method "$op")" "$(op_body "$op")" "$expected" \
    || { cat "$out" >&2; die "wrk failed ($side $(op_name "$op"))"; }
  t1=$(server_ticks "${PID[$side]}")

  local reqs dur non2xx bad_body sock first p50 p99
  reqs=$(awk '$1=="BENCH_REQUESTS"{print $2}' "$out")
  dur=$(awk '$1=="BENCH_DURATION_US"{print $2}' "$out")
  non2xx=$(awk '$1=="BENCH_NON2XX"{print $2}' "$out")
  bad_body=$(awk '$1=="BENCH_BAD_BODY"{print $2}' "$out")
  sock=$(awk '$1=="BENCH_SOCKET_ERRORS"{print $2+$3+$4+$5}' "$out")
  first=$(sed -n 's/^BENCH_FIRST_BAD //p' "$out")
  p50=$(awk '$1=="BENCH_P50_US"{print $2}' "$out")
  p99=$(awk '$1=="BENCH_P99_US"{print $2}' "$out")
  [[ -n $reqs && -n $dur && -n $non2xx && -n $bad_body && -n $sock && -n $p50 && -n $p99 ]] \
    || { cat "$out" >&2; die "could not parse wrk output ($side $(op_name "$op"))"; }
  if [[ $non2xx != 0 || $bad_body != 0 ]]; then
    cat "$out" >&2
    tail -n 20 "$WORK/server-$side.log" >&2 2>/dev/null || true
    die "$side $(op_name "$op"): $non2xx non-2xx responses, $bad_body unexpected bodies; first: $first -- comparison aborted"
  fi
  [[ $sock == 0 ]] || { cat "$out" >&2; die "$side $(op_name "$op"): $sock socket errors (connect/read/write/timeout) -- comparison aborted"; }
  (( reqs > 0 )) || die "$side $(op_name "$op"): no requests completed"
  R_REQS=$reqs
  R_RPS=$(awk -v n="$reqs" -v d="$dur" 'BEGIN { printf "%.1f", n * 1e6 / d }')
  R_P50=$(to_ms "$p50")
  R_P99=$(to_ms "$p99")
  R_CPU_US=$(awk -v a="$t0" -v b="$t1" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) * 1e6 / hz / n }')
}

# ---------------------------------------------------------------- main
ensure_tools
ensure_venv
ensure_aviary_bin
"$AVIARY_BIN" serve --help 2>&1 | grep -q -- '--auth' || die "$AVIARY_BIN has no --auth option (rebuild it)"

log "wrk: $(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}'); boto3 $("$VENV/bin/python" -c 'import boto3; print(boto3.__version__)')"
log "config: ${BENCH_SECONDS}s x ${BENCH_ROUNDS} rounds per server/op, warm-up ${BENCH_WARMUP_SECONDS}s, ${BENCH_CONNECTIONS} connections (invoke ${BENCH_INVOKE_CONNECTIONS}), ${BENCH_THREADS} wrk threads, $(nproc) cores, ops '$BENCH_OPS'"

if [[ " $BENCH_OPS " == *" invoke "* ]]; then
  mkdir -p "$WORK/c"
  gcc -O2 -Wall -o "$WORK/c/bootstrap" "$SCRIPT_DIR/bootstrap.c" 2>"$WORK/gcc.log" \
    || { cat "$WORK/gcc.log" >&2; die "compiling bootstrap.c failed"; }
fi
printf '{}' >"$WORK/request.json"
helper keys --out "$KEYS" --token-out "$WORK/token" || die "writing the keys file failed"

start_server A
start_server B
log "aviary binary: $AVIARY_BIN ($(stat -c '%y' "$AVIARY_BIN" | cut -d. -f1)); repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- Sources 2>/dev/null || echo ' (Sources modified)')"
seed_server A
seed_server B

for op in $BENCH_OPS; do check "$op"; done

declare -A MED
for op in $BENCH_OPS; do
  opn=$(op_name "$op")
  if (( BENCH_WARMUP_SECONDS > 0 )); then
    log "$opn: warm-up ${BENCH_WARMUP_SECONDS}s each"
    run_wrk A "$op" "$BENCH_WARMUP_SECONDS" warmup
    run_wrk B "$op" "$BENCH_WARMUP_SECONDS" warmup
  fi
  [[ $op == invoke ]] && streams_before="$(streams A) $(streams B)"
  declare -A vals=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    if (( round % 2 )); then order="A B"; else order="B A"; fi
    for side in $order; do
      run_wrk "$side" "$op" "$BENCH_SECONDS" "run$round"
      printf '  %-15s run %d  %s %-11s %9.1f req/s   p50 %7.3f ms   p99 %7.3f ms   server CPU %6.1f us/req   (%d requests, all 2xx)\n' \
        "$opn" "$round" "$side" "$([[ $side == A ]] && echo '(no auth)' || echo '(--auth)')" "$R_RPS" "$R_P50" "$R_P99" "$R_CPU_US" "$R_REQS"
      vals[$side-rps]+=" $R_RPS"; vals[$side-p50]+=" $R_P50"; vals[$side-p99]+=" $R_P99"; vals[$side-cpu]+=" $R_CPU_US"
    done
  done
  for key in "${!vals[@]}"; do
    # shellcheck disable=SC2086
    MED[$op-$key]=$(median ${vals[$key]})
  done
  unset vals
  if [[ $op == invoke ]]; then
    streams_after="$(streams A) $(streams B)"
    if [[ $streams_after != "$streams_before" ]]; then
      log "note: Invoke started execution environments while measuring (log streams A B: $streams_before -> $streams_after); cold starts are in the figures"
    fi
  fi
done

echo
echo "Median of $BENCH_ROUNDS x ${BENCH_SECONDS}s runs, $BENCH_THREADS wrk threads, $BENCH_CONNECTIONS connections (Invoke $BENCH_INVOKE_CONNECTIONS); A = no --auth, B = --auth:"
printf '%-16s %-16s %-30s %-16s %-30s %-9s %s\n' operation "A req/s" "A p50 / p99 ms, CPU us/req" "B req/s" "B p50 / p99 ms, CPU us/req" "B/A req/s" "B-A p50 ms, CPU us/req"
for op in $BENCH_OPS; do
  printf '%-16s %-16s %-30s %-16s %-30s %-9s %s\n' "$(op_name "$op")" \
    "$(printf '%.0f' "${MED[$op-A-rps]}")" \
    "$(printf '%.3f / %.3f, %.1f' "${MED[$op-A-p50]}" "${MED[$op-A-p99]}" "${MED[$op-A-cpu]}")" \
    "$(printf '%.0f' "${MED[$op-B-rps]}")" \
    "$(printf '%.3f / %.3f, %.1f' "${MED[$op-B-p50]}" "${MED[$op-B-p99]}" "${MED[$op-B-cpu]}")" \
    "$(awk -v b="${MED[$op-B-rps]}" -v a="${MED[$op-A-rps]}" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')" \
    "$(awk -v b="${MED[$op-B-p50]}" -v a="${MED[$op-A-p50]}" -v cb="${MED[$op-B-cpu]}" -v ca="${MED[$op-A-cpu]}" \
        'BEGIN { printf "%+.3f, %+.1f", b - a, cb - ca }')"
done
echo
for op in $BENCH_OPS; do
  echo "  $(op_name "$op"): B's requests carry a $(op_credentials "$op"); A's carry none"
done
exit 0
