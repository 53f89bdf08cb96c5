#!/usr/bin/env bash
# TLS download and request rate: seine's http_file_server --tls-cert/--tls-key against
# nginx with ssl, same certificate (ECDSA P-256), TLS 1.3 AES-128-GCM, pinned as
# DESIGN.md §8 says (server on core 0, client on core 1), the two servers alternated.
#
#   bash bench/tls.sh [ROUNDS]     (needs nginx, curl, wrk, openssl; release build)
#
# Prints, per round and server: 1 GiB download MB/s with curl and the server's CPU
# seconds per GiB (user+system, from /proc), 4 KiB files with wrk -c64 over keep-alive
# (req/s), and full handshakes per second (openssl s_time -new: a new connection each);
# then the medians of each side and the seine/nginx ratios.
set -euo pipefail
ROUNDS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/target/release/examples/http_file_server
# Always built: a stale binary would measure old code.
(cd "$ROOT" && cargo build -q --release --example http_file_server)
T=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$T" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$T/www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" \
  -out "$T/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -addext basicConstraints=critical,CA:FALSE 2>/dev/null
head -c $((1 << 30)) /dev/zero >"$T/www/big.bin"
head -c 4096 /dev/urandom >"$T/www/small.bin"
cat "$T/www/big.bin" >/dev/null # in the page cache for both

nginx_conf() {
  cat <<CONF
worker_processes 1; daemon off; pid $T/nginx.pid; error_log $T/nginx.err warn;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $T/b; proxy_temp_path $T/p; fastcgi_temp_path $T/f; uwsgi_temp_path $T/u; scgi_temp_path $T/s;
  server {
    listen 127.0.0.1:$1 ssl; root $T/www;
    ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;
    ssl_protocols TLSv1.3; ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    ssl_session_cache off; ssl_session_tickets off;
    location / { }
  }
}
CONF
}

cpu_s() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
start() { # SIDE PORT -> PID
  if [ "$1" = seine ]; then
    taskset -c 0 "$BIN" --addr "127.0.0.1:$2" --threads 1 --root "$T/www" \
      --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" >"$T/seine.out" 2>&1 &
    echo $!
  else
    nginx_conf "$2" >"$T/nginx.conf"
    taskset -c 0 /usr/sbin/nginx -p "$T" -c "$T/nginx.conf" -e "$T/nginx.err" >"$T/nginx.out" 2>&1 &
    # The worker does the work: wait for it (up to 5 s).
    local master=$! worker=""
    for _ in $(seq 1 50); do
      worker=$(pgrep -P "$master" nginx | head -1 || true)
      [ -n "$worker" ] && break
      sleep 0.1
    done
    echo "${worker:?nginx worker did not start}"
  fi
}
CURL=(curl -s -S --fail -k --tls13-ciphers TLS_AES_128_GCM_SHA256 --tlsv1.3)
port=20443
for r in $(seq 1 "$ROUNDS"); do
  for side in seine nginx; do
    port=$((port + 1))
    if ! pid=$(start $side $port); then
      echo "round $r $side: did not start ($(tail -c 300 "$T/nginx.err" 2>/dev/null | tr '\n' ' '))"
      continue
    fi
    sleep 0.5
    url=https://localhost:$port
    c0=$(cpu_s "$pid")
    out=$(taskset -c 1 "${CURL[@]}" --resolve "localhost:$port:127.0.0.1" -o /dev/null \
      -w '%{speed_download} %{time_total}' "$url/big.bin")
    c1=$(cpu_s "$pid")
    speed=$(awk -v s="${out% *}" 'BEGIN { printf "%.0f", s / 1e6 }')
    cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
    rps=$(taskset -c 1 wrk -t1 -c64 -d5s "$url/small.bin" | awk '/Requests\/sec/ { print $2 }')
    # Full handshakes: openssl s_time, a new connection and session each, 5 s.
    hps=$(taskset -c 1 openssl s_time -connect "127.0.0.1:$port" -new -time 5 \
      -ciphersuites TLS_AES_128_GCM_SHA256 2>/dev/null |
      awk '/connections in .* real seconds/ { printf "%.0f", $1 / $4 }')
    steal=$(vmstat 1 2 | tail -1 | awk '{ print $17 }')
    printf '%s %s %s %s %s\n' "$side" "$speed" "$cpu" "${rps:-0}" "${hps:-0}" >>"$T/results"
    echo "round $r $side: download ${speed} MB/s, server ${cpu} CPU-s/GiB; 4 KiB wrk -c64 ${rps} req/s; full handshakes ${hps}/s (s_time -new); steal ${steal}%"
    kill "$pid" 2>/dev/null || true
    [ $side = nginx ] && kill "$(cat "$T/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
  done
done

# Medians per side, then seine / nginx.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$T/results" | median; }
for side in seine nginx; do
  echo "median $side: download $(col $side 2) MB/s, $(col $side 3) CPU-s/GiB; 4 KiB $(col $side 4) req/s; handshakes $(col $side 5)/s"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "seine/nginx: download $(ratio "$(col seine 2)" "$(col nginx 2)")x MB/s at $(ratio "$(col seine 3)" "$(col nginx 3)")x CPU-s/GiB; 4 KiB $(ratio "$(col seine 4)" "$(col nginx 4)")x req/s; handshakes $(ratio "$(col seine 5)" "$(col nginx 5)")x"
