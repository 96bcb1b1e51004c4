#!/usr/bin/env bash
# Out-of-process throughput of `POST /v1/sign` (one canned URL per request, cache off, so every
# request signs) under wrk at 64 keep-alive connections, against OpenSSL's own RSA-2048 signing
# rate on one core and on every core (`openssl speed`), and against the ceiling for any signing
# service over HTTP on this machine (`examples/ceiling.rs`: axum, one route, JSON, the signature
# inline, no features), measured in interleaved rounds so all four see the same machine load. Also
# reports the CPU the server and the ceiling used (from /proc/PID/stat).
#
# Usage (from the workspace root):
#   cargo build --release -p cfsign-server --bins --examples
#   crates/cfsign-server/benches/wrk.sh              # ROUNDS=3 SECONDS_PER_RUN=8 CONNECTIONS=64
#   BOOST=1 crates/cfsign-server/benches/wrk.sh      # as root on a busy shared machine, see below
#
# BOOST=1 moves this run into its own scheduler autogroup at nice -15 (as crates/cfsign-cli/benches/
# compare.sh does): with Linux autogroups every session gets an equal CPU share whatever its thread
# count, so other sessions' builds would otherwise take half of the cores.
#
# Needs: wrk, openssl, bc, Linux /proc.
set -euo pipefail

if [ "${BOOST:-0}" = 1 ] && [ -z "${CFSIGN_BENCH_BOOSTED:-}" ]; then
  exec setsid env CFSIGN_BENCH_BOOSTED=1 bash -c 'echo -15 > /proc/$$/autogroup && exec bash "$0"' "$0"
fi

root=$(cd "$(dirname "$0")/../../.." && pwd)
SERVER=${SERVER:-${CARGO_TARGET_DIR:-$root/target}/release/cfsign-server}
CEILING=${CEILING:-${CARGO_TARGET_DIR:-$root/target}/release/examples/ceiling}
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_RUN:-8}
CONNECTIONS=${CONNECTIONS:-64}
CORES=$(nproc)
for tool in wrk openssl bc; do
  command -v "$tool" > /dev/null || { echo "wrk.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
for bin in "$SERVER" "$CEILING"; do
  [ -x "$bin" ] || { echo "wrk.sh: no $bin; run cargo build --release -p cfsign-server --bins --examples" >&2; exit 1; }
done

work=$(mktemp -d)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2> /dev/null || true
  [ -n "${ceiling_pid:-}" ] && kill "$ceiling_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$root/crates/cfsign-server/tests/data/test-key-a.pem" "$work/key.pem"
token_hash=$(printf %s bench | sha256sum | cut -d' ' -f1)
cat > "$work/server.toml" << EOF
[server]
listen = "127.0.0.1:0"
[cache]
capacity = 0
[[keys]]
id = "K2JCJMDEHXQW5F"
file = "key.pem"
[[clients]]
name = "bench"
token_sha256 = "$token_hash"
allow = ["https://media.example.com/private/"]
max_ttl = "1h"
EOF
cat > "$work/post.lua" << 'EOF'
wrk.method = "POST"
wrk.body = '{"url":"https://media.example.com/private/a.jpg","ttl":"10m"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
EOF

# Starts "$@" in the background with stdout in $work/$name.out; sets $pid and $url.
start() {
  local name=$1
  shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pid=$!
  for _ in $(seq 50); do
    grep -q listening "$work/$name.out" && break
    sleep 0.1
  done
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/$name.out")
  [ -n "$url" ] || { cat "$work/$name.err" >&2; echo "wrk.sh: $name did not start" >&2; exit 1; }
}
start server env RUST_LOG=warn "$SERVER" --config "$work/server.toml"
server_pid=$pid server_url=$url
start ceiling "$CEILING" "$work/key.pem"
ceiling_pid=$pid ceiling_url=$url

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# CPU ticks of this shell's finished (waited-for) children: wrk's, once a run is over.
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }

# Loads `$2/v1/sign` for $SECS s; sets $rps, $p50, $p99, $cpu (µs of process $1's CPU per request)
# and $wrk_cpu (µs of wrk's CPU per request).
load() {
  local t0 t1 w0 w1 out
  t0=$(ticks "$1")
  w0=$(child_ticks)
  out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECS}s" --latency -s "$work/post.lua" "$2/v1/sign")
  t1=$(ticks "$1")
  w1=$(child_ticks)
  if echo "$out" | grep -q 'Non-2xx\|Socket errors'; then
    echo "$out" >&2
    echo "wrk.sh: errors during the run against $2" >&2
    exit 1
  fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  cpu=$(echo "($t1 - $t0) * 1000000 / $hz / ($rps * $SECS)" | bc)
  wrk_cpu=$(echo "($w1 - $w0) * 1000000 / $hz / ($rps * $SECS)" | bc)
}

echo "cfsign-server $("$SERVER" --version | cut -d' ' -f2), $CORES cores, $CONNECTIONS connections, $SECS s per run, $(openssl version | cut -d' ' -f1-2)"
echo
echo "| round | openssl 1 core (/s) | openssl $CORES cores (/s) | server (/s) | p50 | p99 | server CPU per URL | wrk CPU per URL | ceiling (/s) | ceiling CPU per URL | server ÷ $CORES cores | ceiling ÷ $CORES cores | server ÷ ceiling |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  one=$(openssl speed -seconds 4 rsa2048 2> /dev/null | awk '/^rsa 2048/ {print $6}')
  all=$(openssl speed -seconds 4 -multi "$CORES" rsa2048 2> /dev/null | awk '/^rsa 2048/ {print $6}')
  load "$ceiling_pid" "$ceiling_url"
  ceiling=$rps ceiling_cpu=$cpu
  load "$server_pid" "$server_url"
  echo "| $round | $one | $all | $rps | $p50 | $p99 | $cpu µs | $wrk_cpu µs | $ceiling | $ceiling_cpu µs | $(echo "scale=2; $rps / $all" | bc) | $(echo "scale=2; $ceiling / $all" | bc) | $(echo "scale=2; $rps / $ceiling" | bc) |"
done
