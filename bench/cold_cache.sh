#!/usr/bin/env bash
# Cold vs hot page cache: a 1 GiB download from examples/http_file_server (one loop,
# core 0; curl on core 1) while a second client times small requests to the same
# loop, to see whether a disk read inside sendfile stalls the other channels.
# Needs root (drop_caches) and a disk-backed directory (tmpfs has no cold cache).
# Usage: bench/cold_cache.sh [rounds]   (default 2; each round: cold, then hot)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
dir=target/cold-cache
mkdir -p "$dir"
[ -f "$dir/big.bin" ] || head -c 1073741824 /dev/urandom > "$dir/big.bin"
echo hi > "$dir/small.txt"
cargo build --release --example http_file_server >/dev/null 2>&1
out=$(mktemp)
taskset -c 0 target/release/examples/http_file_server --addr 127.0.0.1:0 --threads 1 \
  --root "$dir" > "$out" 2>/dev/null &
srv=$!
trap 'kill -INT $srv 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 50); do [ -s "$out" ] && break; sleep 0.1; done
addr=$(head -1 "$out" | awk '{print $3}')
for _ in $(seq 1 "$rounds"); do
  for mode in cold hot; do
    if [ "$mode" = cold ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
    slow=$(mktemp)
    ( for _ in $(seq 1 400); do
        curl -s -o /dev/null -w "%{time_total}\n" "http://$addr/small.txt"
      done | sort -n | tail -1 > "$slow" ) &
    small=$!
    speed=$(taskset -c 1 curl -s -o /dev/null -w "%{speed_download}" "http://$addr/big.bin")
    wait "$small"
    awk -v m="$mode" -v s="$speed" -v w="$(cat "$slow")" \
      'BEGIN { printf "%s: %.0f MB/s; slowest of 400 small requests meanwhile: %s s\n", m, s / 1e6, w }'
    rm -f "$slow"
  done
done
