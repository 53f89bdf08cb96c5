#!/usr/bin/env bash
# WebSocket echo of small text messages: seine's ws_chat --echo against a
# tokio-tungstenite echo server (bench/src/bin/tungstenite_ws.rs, current-thread
# runtime), pinned as DESIGN.md §8 says (server on core 0, load on core 1), the
# two servers alternated each round; the same load tool (bench/src/bin/ws_load.rs:
# CONNS connections, DEPTH messages in flight each, masked 64-byte text frames,
# every echo checked).
#
#   bash bench/ws.sh [ROUNDS] [SECONDS]      (release build; default 5 rounds of 5 s)
#
# Prints, per round and server, messages/s and the server's CPU per message (user +
# system from /proc over the load's run), then the medians and seine/tungstenite ratios.
set -euo pipefail
ROUNDS=${1:-5}
SECS=${2:-5}
CONNS=${CONNS:-32}
DEPTH=${DEPTH:-16}
SIZE=${SIZE:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
(cd "$ROOT" && cargo build -q --release --example ws_chat && cargo build -q --release -p seine-bench --bin tungstenite_ws --bin ws_load)
SEINE=$ROOT/target/release/examples/ws_chat
TUNG=$ROOT/target/release/tungstenite_ws
LOAD=$ROOT/target/release/ws_load
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$T"' EXIT

cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
start() { # SIDE ROUND -> "PID ADDR"
  local out="$T/$1.$2.out" err="$T/$1.$2.err" # a file per run: no stale address
  if [ "$1" = seine ]; then
    taskset -c 0 "$SEINE" --addr 127.0.0.1:0 --threads 1 --echo >"$out" 2>"$err" &
  else
    taskset -c 0 "$TUNG" --addr 127.0.0.1:0 >"$out" 2>"$err" &
  fi
  local pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$out" 2>/dev/null && break; sleep 0.05; done
  grep -q "listening on" "$out" || { echo "$1 did not start: $(cat "$err")" >&2; exit 1; }
  echo "$pid $(sed -n 's/^listening on //p' "$out" | head -1)"
}
: >"$T/results"
for r in $(seq 1 "$ROUNDS"); do
  for side in seine tungstenite; do
    read -r pid addr < <(start $side "$r")
    c0=$(cpu_s "$pid")
    out=$(taskset -c 1 "$LOAD" --addr "$addr" --conns "$CONNS" --depth "$DEPTH" --size "$SIZE" --seconds "$SECS")
    c1=$(cpu_s "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    msgs=$(echo "$out" | awk '{ print $2 }')
    rate=$(echo "$out" | awk '{ print $6 }')
    ns=$(awk -v a="$c0" -v b="$c1" -v m="$msgs" 'BEGIN { printf "%.0f", (b - a) * 1e9 / m }')
    echo "round $r $side: ${rate} msg/s, server ${ns} ns CPU/msg"
    echo "$side $rate $ns" >>"$T/results"
  done
done
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sr=$(awk '$1 == "seine" { print $2 }' "$T/results" | median)
tr=$(awk '$1 == "tungstenite" { print $2 }' "$T/results" | median)
sc=$(awk '$1 == "seine" { print $3 }' "$T/results" | median)
tc=$(awk '$1 == "tungstenite" { print $3 }' "$T/results" | median)
echo "median: seine ${sr} msg/s ${sc} ns/msg; tokio-tungstenite ${tr} msg/s ${tc} ns/msg"
awk -v a="$sr" -v b="$tr" -v c="$sc" -v d="$tc" \
  'BEGIN { printf "seine/tungstenite: %.2fx messages/s, %.2fx CPU per message\n", a / b, c / d }'
