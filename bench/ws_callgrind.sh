#!/usr/bin/env bash
# Instructions per echoed WebSocket message (callgrind: repeatable where wall time
# is not), seine's ws_chat --echo against tokio-tungstenite, the same load as
# bench/ws.sh. Instrumentation starts once the server listens (startup excluded; the
# handshakes of the CONNS connections are included, a few hundred thousand
# instructions each at most, against millions of messages' worth).
#
#   bash bench/ws_callgrind.sh [SECONDS]     (needs valgrind; release build)
set -euo pipefail
SECS=${1:-5}
CONNS=${CONNS:-32}
DEPTH=${DEPTH:-16}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
(cd "$ROOT" && cargo build -q --release --example ws_chat && cargo build -q --release -p seine-bench --bin tungstenite_ws --bin ws_load)
T=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$T"' EXIT
declare -A IPM
for side in seine tungstenite; do
  if [ $side = seine ]; then
    cmd=("$ROOT/target/release/examples/ws_chat" --addr 127.0.0.1:0 --threads 1 --echo)
  else
    cmd=("$ROOT/target/release/tungstenite_ws" --addr 127.0.0.1:0)
  fi
    taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/$side.cg" \
    "${cmd[@]}" >"$T/$side.out" 2>"$T/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$T/$side.out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$T/$side.out" | head -1)
  callgrind_control -i on "$pid" >/dev/null
  out=$(taskset -c 1 "$ROOT/target/release/ws_load" --addr "$addr" --conns "$CONNS" --depth "$DEPTH" --size 64 --seconds "$SECS")
  msgs=$(echo "$out" | awk '{ print $2 }')
  callgrind_control -d "$pid" >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  ir=$(cat "$T/$side.cg"* | awk '/^summary:|^totals:/ { s += $2 } END { print s }')
  IPM[$side]=$(awk -v i="$ir" -v m="$msgs" 'BEGIN { printf "%.0f", i / m }')
  echo "$side: $msgs messages, $ir instructions, ${IPM[$side]} instructions/message"
done
awk -v a="${IPM[seine]}" -v b="${IPM[tungstenite]}" 'BEGIN { printf "seine/tungstenite: %.2fx instructions per message\n", a / b }'
