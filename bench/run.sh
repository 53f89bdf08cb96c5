#!/usr/bin/env bash
# seine benchmark suite, one command: builds everything in release, installs the peers
# (nginx, redis-server, redis-tools, wrk, curl, nsd, dnsperf) when missing, runs every scenario with
# the server pinned to core 0 and the load tool to core 1, alternating seine and its
# anchor run by run, and prints one table of medians and median per-round ratios.
#
#   bench/run.sh [--quick] [--rounds N] [--only a,b,c,d,e,f,g,h,i] [--no-install] [--no-build]
#
# See bench/README.md for what each scenario measures and how to read the table.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
START_TS=$(date +%s)

QUICK=0
ROUNDS=""
ONLY="a,b,c,d,e,f,g,h,i"
INSTALL=1
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-install) INSTALL=0 ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$QUICK" = 1 ]; then
  : "${ROUNDS:=2}"; WARMUP=0.5; DUR=1.5; IDLE_MAX=2
  RESP_N_PIPE=1000000; RESP_N_1=100000; IDLE_CONNS=10000
else
  : "${ROUNDS:=5}"; WARMUP=1; DUR=4; IDLE_MAX=6
  RESP_N_PIPE=4000000; RESP_N_1=400000; IDLE_CONNS=10000
fi
WRK_DUR=$(awk "BEGIN { d = int($DUR + 0.5); print (d < 1 ? 1 : d) }")
BIG_SIZE=$((1 << 30))
SMALL_SIZE=4096

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release
EX=$TARGET/release/examples
OUTDIR=$TARGET/bench
mkdir -p "$OUTDIR"
RESULTS=$OUTDIR/results-$(date +%Y%m%d-%H%M%S).tsv
: >"$RESULTS"

log() { echo "[bench $(( $(date +%s) - START_TS ))s] $*" >&2; }
only() { [[ ",$ONLY," == *",$1,"* ]]; }

# ---------------------------------------------------------------- machine setup
SERVER_CORE=0
LOAD_CORE=1
if [ "$(nproc --all)" -lt 2 ]; then
  log "fewer than 2 cores: server and load tool share core 0"
  LOAD_CORE=0
fi
# 10 000 idle connections need file descriptors on both sides.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open files limit: $(ulimit -n); rounds: $ROUNDS; window: ${WARMUP}s warm-up + ${DUR}s"

pin_load() { taskset -c "$LOAD_CORE" "$@"; }

# ---------------------------------------------------------------- build
if [ "$BUILD" = 1 ]; then
  log "cargo build --release -p seine-bench --bins"
  cargo build --release -p seine-bench --bins
  log "cargo build --release --examples"
  if ! cargo build --release --examples; then
    # Someone's example is broken right now: build the ones this suite needs one by one.
    log "building all examples failed; trying the ones used here one by one"
    for ex in echo resp_server http_file_server udp_echo dns_server; do
      [ -f "examples/$ex.rs" ] && { cargo build --release --example "$ex" || log "example $ex did not build"; }
    done
  fi
fi
for b in loadgen tokio_raw tokio_framed tokio_udp_echo idle_conns runstat bench_report free_port; do
  [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b missing (build failed?)" >&2; exit 1; }
done

# seine_bin NAME: sets SEINE_PATH to the built example, or empties it and sets
# SEINE_MISSING to the reason.
# SEINE_<NAME>_BIN (e.g. SEINE_ECHO_BIN=target/release/tokio_raw) overrides the path:
# an A/A run of the harness, or a comparison with another build.
seine_bin() {
  local ex=$1 override
  override=SEINE_$(tr '[:lower:]' '[:upper:]' <<<"$ex")_BIN
  SEINE_PATH=""; SEINE_MISSING=""
  if [ -n "${!override:-}" ]; then
    SEINE_PATH=${!override}
  elif [ ! -f "examples/$ex.rs" ]; then
    SEINE_MISSING="n/a (examples/$ex.rs missing)"
  elif [ ! -x "$EX/$ex" ]; then
    SEINE_MISSING="n/a (examples/$ex.rs not built)"
  elif [ "$BUILD" = 1 ] && [ "examples/$ex.rs" -nt "$EX/$ex" ]; then
    SEINE_MISSING="n/a (examples/$ex.rs did not build)"
  else
    SEINE_PATH=$EX/$ex
  fi
}

# ---------------------------------------------------------------- peers
if [ "$INSTALL" = 1 ]; then
  need=()
  only d || only e && { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx); }
  only d && { command -v curl >/dev/null 2>&1 || need+=(curl); }
  only e && { command -v wrk >/dev/null 2>&1 || need+=(wrk); }
  only f && { command -v redis-server >/dev/null 2>&1 || need+=(redis-server); }
  only f && { command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools); }
  only i && { command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || need+=(nsd); }
  only i && { command -v dnsperf >/dev/null 2>&1 || need+=(dnsperf); }
  if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    # Keep the packages' init scripts from starting system-wide nginx/redis/nsd daemons.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } \
      || log "apt-get install failed: the scenarios needing ${need[*]} will say n/a"
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
fi
export PATH=$PATH:/usr/sbin:/sbin
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- scratch space and cleanup
TMP=$(mktemp -d /tmp/seine-bench.XXXXXX)
SERVER_PIDS=()
cleanup() {
  local p
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
# rec SCENARIO SIDE ROUND NAME VALUE: one line of the results file.
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
note() { rec "$1" - 0 @note "$2"; log "$1: $2"; }
# jget JSON KEY: a field of a one-line JSON object.
jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$1"; }
# calc EXPR: floating-point arithmetic (awk), "nan" on bad input.
calc() { awk "BEGIN { x = $1; if (x != x) print \"nan\"; else printf \"%.6f\n\", x }" 2>/dev/null || echo nan; }
# usr_pct JSON: the share of the server's CPU spent in user space, in % (the rest is
# the kernel: syscalls, and on loopback the TCP receive work a send triggers).
usr_pct() { calc "100 * $(jget "$1" server_user_s) / $(jget "$1" server_cpu_s)"; }

# wait_idle: until the machine is idle (< 15% of all cores busy over 0.25 s), at most
# IDLE_MAX seconds. The 1-minute load average lags a minute behind, so /proc/stat is used.
IDLE_RUNS=0; BUSY_RUNS=0; BUSY_SUM=0
busy_pct() {
  local a b
  read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
  sleep 0.25
  read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
  a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8)); b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8))
  local dt=$((b - a)) di=$(( (b4 + b5) - (a4 + a5) ))
  [ "$dt" -gt 0 ] || { echo 0; return; }
  echo $(( 100 - 100 * di / dt ))
}
wait_idle() {
  local deadline=$(( $(date +%s%N) / 1000000 + IDLE_MAX * 1000 )) pct
  while :; do
    pct=$(busy_pct)
    if [ "$pct" -lt 15 ]; then IDLE_RUNS=$((IDLE_RUNS + 1)); break; fi
    if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then BUSY_RUNS=$((BUSY_RUNS + 1)); break; fi
  done
  BUSY_SUM=$((BUSY_SUM + pct))
}

# wait_port PORT PID: until 127.0.0.1:PORT accepts (10 s), while PID lives.
wait_port() {
  local i
  for i in $(seq 1 200); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# start_server PORT CMD...: starts CMD pinned to the server core; sets SRV_PID.
start_server() {
  local port=$1; shift
  # A plain command (not a function) in the background: $! is the server itself, since
  # taskset execs it.
  taskset -c "$SERVER_CORE" "$@" >"$TMP/server.out" 2>"$TMP/server.err" </dev/null &
  SRV_PID=$!
  SERVER_PIDS+=("$SRV_PID")
  if ! wait_port "$port" "$SRV_PID"; then
    log "server did not start: $* ($(head -c 300 "$TMP/server.err" | tr '\n' ' '))"
    stop_server
    return 1
  fi
}
# start_udp_server PORT CMD...: start_server for a server that only speaks UDP (no
# TCP port to probe): waits for its `listening on` line instead.
start_udp_server() {
  local port=$1 i; shift
  taskset -c "$SERVER_CORE" "$@" >"$TMP/server.out" 2>"$TMP/server.err" </dev/null &
  SRV_PID=$!
  SERVER_PIDS+=("$SRV_PID")
  for i in $(seq 1 200); do
    grep -q "^listening on .*:$port\$" "$TMP/server.out" 2>/dev/null && return 0
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.05
  done
  log "server did not start: $* ($(head -c 300 "$TMP/server.err" | tr '\n' ' '))"
  stop_server
  return 1
}
stop_server() {
  kill "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  local keep=() p
  for p in "${SERVER_PIDS[@]}"; do [ "$p" = "$SRV_PID" ] || keep+=("$p"); done
  SERVER_PIDS=("${keep[@]}")
}

# Server launchers: launch_SIDE KIND PORT (KIND: echo, http, resp).
SEINE_ECHO=""; SEINE_HTTP=""; SEINE_RESP=""; SEINE_UDP=""; SEINE_DNS=""
launch_seine() {
  case $1 in
    udp) start_udp_server "$2" "$SEINE_UDP" --addr "127.0.0.1:$2" --threads 1 ;;
    dns) start_server "$2" "$SEINE_DNS" --addr "127.0.0.1:$2" --threads 1 --zone "$DNS_DIR/example.com.zone" ;;
    echo) start_server "$2" "$SEINE_ECHO" --addr "127.0.0.1:$2" --threads 1 ;;
    resp) start_server "$2" "$SEINE_RESP" --addr "127.0.0.1:$2" --threads 1 ;;
    http) start_server "$2" "$SEINE_HTTP" --addr "127.0.0.1:$2" --threads 1 --root "$WWW" ;;
  esac
}
launch_tokio_raw() { start_server "$2" "$BIN/tokio_raw" --addr "127.0.0.1:$2" --runtime current; }
launch_tokio_udp() { start_udp_server "$2" "$BIN/tokio_udp_echo" --addr "127.0.0.1:$2"; }
# NSD serving the same zone: one server process (server-count 1, pinned with its
# xfrd by taskset), response-rate limiting off (rrl-ratelimit 0: with it on, NSD drops
# most of a benchmark's queries as an attack), no database, no remote control.
launch_nsd() {
  local d=$TMP/nsd-$2
  mkdir -p "$d"
  cat >"$d/nsd.conf" <<EOF
server:
  server-count: 1
  ip-address: 127.0.0.1
  port: $2
  username: ""
  chroot: ""
  zonesdir: "$d"
  pidfile: "$d/nsd.pid"
  database: ""
  zonelistfile: "$d/zone.list"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$d/nsd.log"
  rrl-ratelimit: 0
  verbosity: 0
remote-control:
  control-enable: no
zone:
  name: example.com
  zonefile: "$DNS_DIR/example.com.zone"
EOF
  start_server "$2" nsd -d -c "$d/nsd.conf" || return 1
  # The TCP port listens before the server process is forked (the CPU accounting
  # takes the process tree once): wait for the grandchild, "nsd: server 1".
  local i k
  for i in $(seq 1 200); do
    for k in $(pgrep -P "$SRV_PID"); do pgrep -P "$k" >/dev/null && return 0; done
    sleep 0.05
  done
  log "nsd started no server process"
}
launch_tokio_framed() { start_server "$2" "$BIN/tokio_framed" --addr "127.0.0.1:$2" --runtime current; }
launch_nginx() {
  local d=$TMP/nginx-$2
  mkdir -p "$d"
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user root;"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
$user_line
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $d/body;
  proxy_temp_path $d/proxy;
  fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi;
  scgi_temp_path $d/scgi;
  server {
    listen 127.0.0.1:$2;
    root $WWW;
    location / { }
  }
}
EOF
  start_server "$2" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
}
launch_redis() {
  start_server "$2" redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --protected-mode no --dir "$TMP" --logfile "$TMP/redis-$2.log"
}

# sides_for_round ROUND SIDE...: the sides rotated by ROUND (who goes first alternates).
rotate() {
  local r=$1; shift
  local n=$# i
  local arr=("$@")
  for ((i = 0; i < n; i++)); do echo "${arr[$(( (i + r) % n ))]}"; done
}

# run_pairs SCENARIO KIND RUNNER SIDE...: for each round, each side (rotated): wait for
# an idle machine, start the side's server on a fresh port, run RUNNER, stop the server.
run_pairs() {
  local scen=$1 kind=$2 runner=$3; shift 3
  local r side port
  for ((r = 1; r <= ROUNDS; r++)); do
    for side in $(rotate "$r" "$@"); do
      port=$("$BIN/free_port")
      wait_idle
      if ! "launch_$side" "$kind" "$port"; then
        note "$scen" "$side failed to start (round $r)"
        continue
      fi
      "$runner" "$scen" "$side" "$r" "$port" || log "$scen: $side round $r failed"
      stop_server
    done
  done
}

# ---------------------------------------------------------------- echo (a, b, c)
# ECHO_ARGS holds the loadgen options of the current scenario.
run_echo() {
  local scen=$1 side=$2 r=$3 port=$4 out
  if ! out=$(pin_load "$BIN/loadgen" --addr "127.0.0.1:$port" $ECHO_ARGS --warmup "$WARMUP" \
      --duration "$DUR" --server-pid "$SRV_PID" --json 2>"$TMP/loadgen.err"); then
    note "$scen" "$side: loadgen failed: $(head -c 300 "$TMP/loadgen.err" | tr '\n' ' ')"
    return 1
  fi
  local w; w=$(jget "$out" window_s)
  rec "$scen" "$side" "$r" "$ECHO_METRIC" "$(jget "$out" "$ECHO_FIELD")"
  [ -n "${ECHO_P99:-}" ] && rec "$scen" "$side" "$r" "p99 us" "$(jget "$out" p99_us)"
  rec "$scen" "$side" "$r" "@cpu:us/frame" "$(jget "$out" server_cpu_us_per_frame)"
  rec "$scen" "$side" "$r" "@srv%" "$(calc "100 * $(jget "$out" server_cpu_s) / $w")"
  rec "$scen" "$side" "$r" "@usr%" "$(usr_pct "$out")"
  rec "$scen" "$side" "$r" "@load%" "$(calc "100 * $(jget "$out" loadgen_cpu_s) / $w")"
  rec "$scen" "$side" "$r" "@loadcpu:us/frame" "$(jget "$out" loadgen_cpu_us_per_frame)"
  log "$scen r$r $side: $(jget "$out" frames_per_s) frames/s, $(jget "$out" mb_per_s) MB/s, p99 $(jget "$out" p99_us) us, srv $(jget "$out" server_cpu_us_per_frame) us/frame, loadgen $(jget "$out" loadgen_cpu_us_per_frame) us/frame"
}

echo_scenario() { # SCENARIO "loadgen args" METRIC FIELD P99(0/1) ANCHORS...
  local scen=$1; ECHO_ARGS=$2; ECHO_METRIC=$3; ECHO_FIELD=$4; ECHO_P99=$5; shift 5
  [ "$ECHO_P99" = 1 ] || ECHO_P99=""
  seine_bin echo; SEINE_ECHO=$SEINE_PATH
  if [ -z "$SEINE_ECHO" ]; then note "$scen" "$SEINE_MISSING"; return; fi
  log "$scen"
  run_pairs "$scen" echo run_echo seine "$@"
}

only a && echo_scenario "a) echo 64 B, 64 conns x 16" "--size 64 --conns 64 --inflight 16" \
  "frames/s" frames_per_s 1 tokio_raw tokio_framed
only b && echo_scenario "b) echo 4 KiB, 16 conns x 4" "--size 4k --conns 16 --inflight 4" \
  "frames/s" frames_per_s 1 tokio_raw
only c && echo_scenario "c) echo 1 MiB, 4 conns x 2" "--size 1m --conns 4 --inflight 2" \
  "MB/s" mb_per_s 0 tokio_raw tokio_framed

# ---------------------------------------------------------------- files (d, e)
WWW=$TMP/www
mkdir -p "$WWW"
if only d || only e; then
  head -c "$SMALL_SIZE" /dev/urandom >"$WWW/4k.bin"
  if only d; then
    # Real blocks (not a sparse file), read once so both servers find it in the page cache.
    head -c "$BIG_SIZE" /dev/zero >"$WWW/big.bin"
    cat "$WWW/big.bin" >/dev/null
  fi
fi

run_download() {
  local scen=$1 side=$2 r=$3 port=$4 rs i bad=0 speed=0 line
  local url="http://127.0.0.1:$port/big.bin"
  rm -f "$TMP"/curl.*
  pin_load "$BIN/runstat" --server-pid "$SRV_PID" --out "$TMP/rs.json" -- bash -c '
    n=$1; url=$2; dir=$3
    for i in $(seq 1 "$n"); do
      curl -o /dev/null -s -w "%{http_code} %{size_download} %{speed_download}\n" "$url" >"$dir/curl.$i" &
    done
    wait' _ "$DL_CLIENTS" "$url" "$TMP" || true
  for ((i = 1; i <= DL_CLIENTS; i++)); do
    read -r code size sp <"$TMP/curl.$i" || { bad=1; continue; }
    if [ "$code" != 200 ] || [ "$size" != "$BIG_SIZE" ]; then bad=1; line="$code $size"; continue; fi
    speed=$(calc "$speed + $sp")
  done
  if [ "$bad" = 1 ]; then
    note "$scen" "$side: a download failed or was short (${line:-no curl output})"
    return 1
  fi
  rs=$(cat "$TMP/rs.json")
  local wall gib
  wall=$(jget "$rs" wall_s); gib=$(calc "$DL_CLIENTS * $BIG_SIZE / 1073741824")
  rec "$scen" "$side" "$r" "MB/s" "$(calc "$speed / 1e6")"
  rec "$scen" "$side" "$r" "@cpu:CPU-s/GiB" "$(calc "$(jget "$rs" server_cpu_s) / $gib")"
  rec "$scen" "$side" "$r" "@srv%" "$(calc "100 * $(jget "$rs" server_cpu_s) / $wall")"
  rec "$scen" "$side" "$r" "@usr%" "$(usr_pct "$rs")"
  rec "$scen" "$side" "$r" "@load%" "$(calc "100 * $(jget "$rs" client_cpu_s) / $wall")"
  log "$scen r$r $side: $(calc "$speed / 1e6") MB/s, server $(calc "$(jget "$rs" server_cpu_s) / $gib") CPU-s/GiB"
}

run_wrk() {
  local scen=$1 side=$2 r=$3 port=$4 out rs rps
  out=$(pin_load "$BIN/runstat" --server-pid "$SRV_PID" --out "$TMP/rs.json" -- \
    wrk -t1 -c64 -d"${WRK_DUR}s" "http://127.0.0.1:$port/4k.bin" 2>&1) || true
  rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' <<<"$out")
  if [ -z "$rps" ] || grep -q -e 'Non-2xx' -e 'Socket errors' <<<"$out"; then
    note "$scen" "$side: wrk reported errors: $(grep -e 'Non-2xx' -e 'Socket errors' -e 'unable' <<<"$out" | head -2 | tr '\n' ' ')"
    [ -z "$rps" ] && return 1
  fi
  rs=$(cat "$TMP/rs.json")
  local wall cpu reqs
  wall=$(jget "$rs" wall_s); cpu=$(jget "$rs" server_cpu_s)
  reqs=$(sed -n 's/^[[:space:]]*\([0-9]*\) requests in.*/\1/p' <<<"$out")
  rec "$scen" "$side" "$r" "req/s" "$rps"
  rec "$scen" "$side" "$r" "@cpu:us/req" "$(calc "1e6 * $cpu / ${reqs:-0}")"
  rec "$scen" "$side" "$r" "@srv%" "$(calc "100 * $cpu / $wall")"
  rec "$scen" "$side" "$r" "@usr%" "$(usr_pct "$rs")"
  rec "$scen" "$side" "$r" "@load%" "$(calc "100 * $(jget "$rs" client_cpu_s) / $wall")"
  log "$scen r$r $side: $rps req/s, server $(calc "1e6 * $cpu / ${reqs:-0}") us/req"
}

seine_bin http_file_server; SEINE_HTTP=$SEINE_PATH; HTTP_MISSING=$SEINE_MISSING
files_scenario() { # SCENARIO RUNNER
  local scen=$1 runner=$2
  if [ -z "$SEINE_HTTP" ]; then note "$scen" "$HTTP_MISSING"; return; fi
  if ! have nginx; then note "$scen" "n/a (nginx not installed)"; return; fi
  log "$scen"
  run_pairs "$scen" http "$runner" seine nginx
}
if only d; then
  have curl || note "d) download 1 GiB" "n/a (curl not installed)"
  if have curl; then
    DL_CLIENTS=1 files_scenario "d) download 1 GiB, 1 client" run_download
    DL_CLIENTS=8 files_scenario "d) download 1 GiB, 8 clients" run_download
  fi
  rm -f "$WWW/big.bin"
fi
if only e; then
  if have wrk; then files_scenario "e) 4 KiB file, wrk -c64" run_wrk
  else note "e) 4 KiB file, wrk -c64" "n/a (wrk not installed)"; fi
fi

# ---------------------------------------------------------------- RESP (f)
run_resp() {
  local scen=$1 side=$2 r=$3 port=$4 out rs set get
  out=$(pin_load "$BIN/runstat" --server-pid "$SRV_PID" --out "$TMP/rs.json" -- \
    redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -P "$RESP_P" -n "$RESP_N" -t set,get --csv 2>&1) || true
  set=$(sed -n 's/^"SET","\([0-9.]*\)".*/\1/p' <<<"$out")
  get=$(sed -n 's/^"GET","\([0-9.]*\)".*/\1/p' <<<"$out")
  if [ -z "$set" ] || [ -z "$get" ]; then
    note "$scen" "$side: redis-benchmark failed: $(tail -c 300 <<<"$out" | tr '\n' ' ')"
    return 1
  fi
  rs=$(cat "$TMP/rs.json")
  local wall cpu
  wall=$(jget "$rs" wall_s); cpu=$(jget "$rs" server_cpu_s)
  rec "$scen" "$side" "$r" "SET req/s" "$set"
  rec "$scen" "$side" "$r" "GET req/s" "$get"
  rec "$scen" "$side" "$r" "@cpu:us/req" "$(calc "1e6 * $cpu / (2 * $RESP_N)")"
  rec "$scen" "$side" "$r" "@srv%" "$(calc "100 * $cpu / $wall")"
  rec "$scen" "$side" "$r" "@usr%" "$(usr_pct "$rs")"
  rec "$scen" "$side" "$r" "@load%" "$(calc "100 * $(jget "$rs" client_cpu_s) / $wall")"
  log "$scen r$r $side: SET $set GET $get req/s, server $(calc "1e6 * $cpu / (2 * $RESP_N)") us/req"
}
if only f; then
  seine_bin resp_server; SEINE_RESP=$SEINE_PATH
  for p in 16 1; do
    scen="f) RESP SET/GET -c50 -P$p"
    if [ -z "$SEINE_RESP" ]; then note "$scen" "$SEINE_MISSING"; continue; fi
    if ! have redis-server || ! have redis-benchmark; then note "$scen" "n/a (redis-server/redis-benchmark not installed)"; continue; fi
    RESP_P=$p
    if [ "$p" = 1 ]; then RESP_N=$RESP_N_1; else RESP_N=$RESP_N_PIPE; fi
    log "$scen"
    run_pairs "$scen" resp run_resp seine redis
  done
fi

# ---------------------------------------------------------------- idle connections (g)
run_idle() {
  local scen=$1 side=$2 r=$3 port=$4 out
  if ! out=$(pin_load "$BIN/idle_conns" --addr "127.0.0.1:$port" --server-pid "$SRV_PID" \
      --conns "$IDLE_CONNS" --proto "$IDLE_PROTO" --json 2>"$TMP/idle.err"); then
    note "$scen" "$side: idle_conns failed: $(head -c 300 "$TMP/idle.err" | tr '\n' ' ')"
    return 1
  fi
  rec "$scen" "$side" "$r" "RSS B/conn" "$(jget "$out" rss_per_conn_bytes)"
  log "$scen r$r $side: $(jget "$out" rss_per_conn_bytes) B/conn ($(jget "$out" conns) conns, RSS $(jget "$out" rss_before) -> $(jget "$out" rss_after))"
}
# The three servers, each after one round trip per connection (an echo frame, a
# keep-alive GET /, a PING), against the anchor of its kind.
if only g; then
  for kind in echo http resp; do
    case $kind in
      echo) IDLE_PROTO=echo; anchor=tokio_raw; seine_bin echo; SEINE_ECHO=$SEINE_PATH ;;
      http) IDLE_PROTO=http; anchor=nginx; seine_bin http_file_server; SEINE_HTTP=$SEINE_PATH ;;
      resp) IDLE_PROTO=resp; anchor=redis; seine_bin resp_server; SEINE_RESP=$SEINE_PATH ;;
    esac
    scen="g) $IDLE_CONNS idle $kind conns"
    if [ -z "$SEINE_PATH" ]; then note "$scen" "$SEINE_MISSING"; continue; fi
    if [ "$anchor" = redis ] && ! command -v redis-server >/dev/null; then
      note "$scen" "redis-server not installed: seine only"; anchor=""
    fi
    if [ "$anchor" = nginx ] && ! command -v nginx >/dev/null; then
      note "$scen" "nginx not installed: seine only"; anchor=""
    fi
    log "$scen"
    # shellcheck disable=SC2086
    run_pairs "$scen" "$kind" run_idle seine $anchor
  done
fi

# ---------------------------------------------------------------- UDP echo (h)
if only h; then
  scen="h) UDP echo 64 B, 16 sockets x 32"
  seine_bin udp_echo; SEINE_UDP=$SEINE_PATH
  if [ -z "$SEINE_UDP" ]; then note "$scen" "$SEINE_MISSING"
  else
    log "$scen"
    ECHO_ARGS="--udp --size 64 --conns 16 --inflight 32"; ECHO_METRIC="datagrams/s"
    ECHO_FIELD=frames_per_s; ECHO_P99=1
    run_pairs "$scen" udp run_echo seine tokio_udp
    # The same load with the load tool's own GSO/GRO off: one datagram per message
    # both ways, so the load tool (not the server) is usually the limit.
    scen="h) UDP echo 64 B, 16 x 32, --no-gso"
    log "$scen"
    ECHO_ARGS="--udp --no-gso --size 64 --conns 16 --inflight 32"
    run_pairs "$scen" udp run_echo seine tokio_udp
  fi
fi

# ---------------------------------------------------------------- DNS (i)
DNS_DIR=$TMP/dns
run_dnsperf() {
  local scen=$1 side=$2 r=$3 port=$4 out rs qps answered lost
  out=$(pin_load "$BIN/runstat" --server-pid "$SRV_PID" --out "$TMP/rs.json" -- \
    dnsperf -s 127.0.0.1 -p "$port" -d "$DNS_DIR/queries.txt" -l "$WRK_DUR" -c 4 -T 1 2>&1) || true
  qps=$(sed -n 's/^[[:space:]]*Queries per second:[[:space:]]*\([0-9.]*\).*/\1/p' <<<"$out")
  answered=$(sed -n 's/^[[:space:]]*Queries completed:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out")
  lost=$(sed -n 's/^[[:space:]]*Queries lost:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out")
  if [ -z "$qps" ] || [ -z "$answered" ] || [ "$answered" = 0 ]; then
    note "$scen" "$side: dnsperf failed: $(tail -c 300 <<<"$out" | tr '\n' ' ')"
    return 1
  fi
  rs=$(cat "$TMP/rs.json")
  local wall cpu
  wall=$(jget "$rs" wall_s); cpu=$(jget "$rs" server_cpu_s)
  rec "$scen" "$side" "$r" "queries/s" "$qps"
  rec "$scen" "$side" "$r" "@cpu:us/query" "$(calc "1e6 * $cpu / $answered")"
  rec "$scen" "$side" "$r" "@srv%" "$(calc "100 * $cpu / $wall")"
  rec "$scen" "$side" "$r" "@usr%" "$(usr_pct "$rs")"
  rec "$scen" "$side" "$r" "@load%" "$(calc "100 * $(jget "$rs" client_cpu_s) / $wall")"
  log "$scen r$r $side: $qps queries/s ($answered answered, $lost lost), server $(calc "1e6 * $cpu / $answered") us/query"
}
if only i; then
  scen="i) DNS, dnsperf -c 4"
  seine_bin dns_server; SEINE_DNS=$SEINE_PATH
  if [ -z "$SEINE_DNS" ]; then note "$scen" "$SEINE_MISSING"
  elif ! have nsd || ! have dnsperf; then note "$scen" "n/a (nsd/dnsperf not installed)"
  else
    mkdir -p "$DNS_DIR"
    cat >"$DNS_DIR/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1.example.com. hostmaster.example.com. ( 2024010101 7200 3600 1209600 300 )
@       IN NS   ns1.example.com.
ns1     IN A    192.0.2.53
www     IN A    192.0.2.1
www     IN AAAA 2001:db8::1
mail    IN A    192.0.2.25
txt     IN TXT  "v=spf1 -all"
EOF
    # Answers from the zone, the mix of types a resolver asks for.
    printf '%s\n' "www.example.com A" "www.example.com AAAA" "mail.example.com A" \
      "txt.example.com TXT" "ns1.example.com A" "example.com NS" >"$DNS_DIR/queries.txt"
    log "$scen"
    run_pairs "$scen" dns run_dnsperf seine nsd
  fi
fi

# ---------------------------------------------------------------- table
echo
echo "seine benchmark suite ($([ "$QUICK" = 1 ] && echo quick || echo full), $ROUNDS rounds; server on core $SERVER_CORE, load tool on core $LOAD_CORE)"
echo "ratio = seine / anchor, median of the per-round ratios (higher is better for rates, lower for p99, CPU and RSS)"
echo "CPU/unit = server CPU per unit of work; srv% / load% = server / load tool CPU in % of one core; usr% = share of the server CPU spent in user space, the rest is the kernel (seine run / anchor run)"
echo
"$BIN/bench_report" "$RESULTS"
echo
total=$((IDLE_RUNS + BUSY_RUNS))
echo "machine: $total runs; $BUSY_RUNS started while others kept >= 15% of the CPUs busy after ${IDLE_MAX}s of waiting; mean busy at start $(( total > 0 ? BUSY_SUM / total : 0 ))%; loadavg now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $RESULTS ($(( $(date +%s) - START_TS ))s in all)"
