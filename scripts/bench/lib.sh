# Shared by the benchmark scripts: logging, building the aviary binary, ports, readiness.
# Callers set REPO, AVIARY_BIN, DEFAULT_AVIARY_BIN, VENV and WORK before calling these.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

ensure_aviary_bin() {
  if [[ ! -x "$AVIARY_BIN" ]]; then
    [[ "$AVIARY_BIN" == "$DEFAULT_AVIARY_BIN" ]] || die "AVIARY_BIN=$AVIARY_BIN does not exist / is not executable"
    command -v swift >/dev/null 2>&1 || die "$AVIARY_BIN missing and swift is not on PATH"
    log "building aviary (swift build -c release --product aviary; takes a few minutes)"
    (cd "$REPO" && swift build -c release --product aviary) || die "swift build failed"
    [[ -x "$AVIARY_BIN" ]] || die "build finished but $AVIARY_BIN is missing"
  fi
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http NAME URL PID TIMEOUT_S: wait until URL answers 200 (and PID is alive)
wait_http() {
  local name=$1 url=$2 pid=$3 timeout=$4 code i
  for ((i = 0; i < timeout * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$WORK/$name.log" >&2 || true
      die "$name exited during startup (log above)"
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    [[ "$code" == 200 ]] && return 0
    sleep 0.1
  done
  tail -n 30 "$WORK/$name.log" >&2 || true
  die "$name not ready after ${timeout}s ($url last answered '$code')"
}

# stop_processes PID...: SIGTERM to all, then up to 5 s each to exit, then SIGKILL.
stop_processes() {
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
}

# run_child OUT CMD...: runs CMD in the background writing OUT (stdout+stderr) and waits, so INT/TERM
# are handled at once (cleanup stops it). Returns CMD's status.
run_child() {
  local out=$1 rc=0
  shift
  "$@" >"$out" 2>&1 &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# apt_install PACKAGE: installs a Debian package (the caller's $WORK holds the log).
apt_install() {
  local package=$1 sudo=""
  command -v apt-get >/dev/null 2>&1 || die "$package is missing and apt-get is not available; install $package"
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "installing $package (apt-get)"
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$package" >"$WORK/apt.log" 2>&1; then
    log "apt-get install failed; running apt-get update and retrying"
    $sudo apt-get update >>"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update failed"; }
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$package" >>"$WORK/apt.log" 2>&1 \
      || { cat "$WORK/apt.log" >&2; die "apt-get install $package failed"; }
  fi
}
