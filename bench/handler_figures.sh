#!/usr/bin/env bash
# The figures of issue 13 for examples/http_file_server on seine-handler:
#   1. 100 clients request a 1 GiB file and never read (--send-timeout 5
#      --send-timeout-reset): seconds from each one's last progress to its close,
#      and what the server keeps afterwards (ESTABLISHED, orphaned sockets);
#   2. 200 connections trickle a request head, one byte a second
#      (--header-timeout 5): seconds to close, while normal requests succeed;
#   3. one connection pipelines 5,000 GETs of a large file in one burst and reads
#      nothing: the most descriptors the server holds for it;
#   4. --limit-rate 10m: curl's average download speed.
# Needs python3 and curl. Usage: bench/handler_figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example http_file_server >/dev/null 2>&1
bin=target/release/examples/http_file_server
dir=$(mktemp -d)
truncate -s 1G "$dir/big.bin"
head -c 104857600 /dev/urandom > "$dir/100m.bin"
echo hello > "$dir/hello.txt"
srv=
start_server() {
  local out="$dir/out"
  : > "$out"
  "$bin" --addr 127.0.0.1:0 --threads 1 --root "$dir" "$@" > "$out" 2>/dev/null &
  srv=$!
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.05; done
  addr=$(head -1 "$out" | awk '{print $3}')
}
stop_server() { kill -INT "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true; }
trap 'stop_server; rm -rf "$dir"' EXIT

echo "== 1. 100 non-reading clients, --send-timeout 5 --send-timeout-reset"
start_server --send-timeout 5 --send-timeout-reset
python3 - "$addr" <<'PY'
import socket, struct, sys, time, fcntl, termios, statistics
host, port = sys.argv[1].rsplit(":", 1)
SIOCINQ = termios.FIONREAD
socks = []
for _ in range(100):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    socks.append(s)
last = [time.time()] * 100
queued = [0] * 100
closed = [None] * 100
deadline = time.time() + 60
while None in closed and time.time() < deadline:
    now = time.time()
    for i, s in enumerate(socks):
        if closed[i] is not None:
            continue
        state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        if state != 1:  # no longer ESTABLISHED: reset (CLOSE) or FIN (CLOSE_WAIT)
            closed[i] = (now, state)
            continue
        q = struct.unpack("i", fcntl.ioctl(s, SIOCINQ, b"\0\0\0\0"))[0]
        if q != queued[i]:
            queued[i], last[i] = q, now
    time.sleep(0.02)
d = [c[0] - l for c, l in zip(closed, last) if c]
resets = sum(1 for c in closed if c and c[1] == 7)
print(f"closed {len(d)}/100 ({resets} by reset); seconds from last progress to close: "
      f"min {min(d):.2f} median {statistics.median(d):.2f} max {max(d):.2f}")
PY
port=${addr##*:}
sleep 0.5
echo "server sockets left: ESTABLISHED $(ss -Htn state established "( sport = :$port )" | wc -l)," \
  "FIN-WAIT-1 $(ss -Htn state fin-wait-1 "( sport = :$port )" | wc -l)," \
  "orphans holding data $(ss -Htn "( sport = :$port )" | awk '$3>0' | wc -l)"
stop_server

echo "== 2. 200 trickling connections, --header-timeout 5"
start_server --header-timeout 5
python3 - "$addr" <<'PY'
import socket, sys, time, statistics
host, port = sys.argv[1].rsplit(":", 1)
t0 = time.time()
socks = [(socket.create_connection((host, int(port))), time.time()) for _ in range(200)]
head = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 100
closed = [None] * 200
ok = bad = 0
pos = 0
next_byte = time.time()
while None in closed and time.time() - t0 < 20:
    now = time.time()
    # States every 20 ms, so a close is seen within 20 ms of happening.
    for i, (s, opened) in enumerate(socks):
        if closed[i] is None and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != 1:
            closed[i] = now - opened
    if now >= next_byte:
        next_byte += 1
        for i, (s, opened) in enumerate(socks):
            if closed[i] is None:
                try:
                    s.send(head[pos:pos + 1])
                except OSError:
                    closed[i] = now - opened
        pos += 1
        # A normal request each second meanwhile.
        c = socket.create_connection((host, int(port)))
        c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = c.recv(4096)
            if not b:
                break
            data += b
        ok += data.startswith(b"HTTP/1.1 200")
        bad += not data.startswith(b"HTTP/1.1 200")
        c.close()
    time.sleep(0.02)
d = [c for c in closed if c is not None]
print(f"closed {len(d)}/200 after min {min(d):.2f} median {statistics.median(d):.2f} "
      f"max {max(d):.2f} s; normal requests meanwhile: {ok} ok, {bad} failed")
PY
stop_server

echo "== 3. 5,000 pipelined GETs of a 1 GiB file in one burst, nothing read"
start_server
python3 - "$addr" "$srv" <<'PY'
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid = sys.argv[2]
fds = lambda: len(os.listdir(f"/proc/{pid}/fd"))
before = fds()
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n" * 5000)
most = 0
end = time.time() + 5
while time.time() < end:
    most = max(most, fds() - before)
    time.sleep(0.01)
print(f"descriptors held for the connection (socket included): at most {most} over 5 s")
PY
stop_server

echo "== 4. --limit-rate 10m, curl, 100 MiB"
start_server --limit-rate 10m
speed=$(curl -s -o /dev/null -w "%{speed_download}" "http://$addr/100m.bin")
python3 -c "s=float('$speed'); print(f'curl average {s:.0f} B/s = {s/10485760:.4f} x 10,485,760')"
stop_server
