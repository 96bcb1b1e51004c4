#!/usr/bin/env python3
"""Measures the Lambda build under cargo-lambda's emulator next to the normal server (docs/benchmarks.md).

Usage: measure.py LAMBDA_BOOTSTRAP SERVER_BINARY [REQUESTS]

Cold start: from spawning the function (the emulator already up, holding a request) to that first
answer, and the function's own `init_ms`. Warm: REQUESTS sequential POST /v1/sign (distinct URLs, so
every one is signed) through the function URL, and directly to the server. Memory: VmHWM/VmRSS of
the function and server processes afterwards. Binary sizes. Loopback only; keys and tokens are the
server's test fixtures.
"""
import hashlib, json, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "crates/cfsign-server/tests/data")
TOKEN = "web-token-0123456789"
CONFIG = f"""[[keys]]
id = "KAAAAAAAAAAAAA"
file = "{DATA}/test-key-a.pem"
[[clients]]
name = "web"
token_sha256 = "{hashlib.sha256(TOKEN.encode()).hexdigest()}"
allow = ["https://d1.example.net/media/"]
max_ttl = "1h"
"""

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_port(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")

def sign(base, i):
    body = json.dumps({"url": f"https://d1.example.net/media/{i}.jpg"}).encode()
    req = urllib.request.Request(base + "/v1/sign", body, {"authorization": "Bearer " + TOKEN, "content-type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
        assert r.status == 200
    return time.perf_counter() - t

def mem(pid):
    fields = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    return fields["VmHWM"].strip(), fields["VmRSS"].strip()

def warm(base, n):
    for i in range(20):
        sign(base, -i - 1)
    times = sorted(sign(base, i) for i in range(n))
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99) - 1] * 1e3

def main():
    lam, server = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    out = {"lambda_binary_bytes": os.path.getsize(lam), "server_binary_bytes": os.path.getsize(server)}
    tmp = tempfile.mkdtemp()
    port = free_port()
    watch = subprocess.Popen(["cargo-lambda", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
                              "--invoke-port", str(port)], cwd=os.path.join(ROOT, "crates/cfsign-server"),
                             stdout=open(os.path.join(tmp, "watch.log"), "w"), stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        base = f"http://127.0.0.1:{port}/lambda-url/_"
        env = {"PATH": os.environ["PATH"], "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt",
               "AWS_LAMBDA_FUNCTION_NAME": "_", "AWS_LAMBDA_FUNCTION_VERSION": "1",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769", "CFSIGN_SERVER_CONFIG_TOML": CONFIG,
               "CFSIGN_SERVER_LOG_FORMAT": "json", "RUST_LOG": "warn,cfsign_server::lambda=info"}
        err = open(os.path.join(tmp, "fn.err"), "w")
        t0 = time.perf_counter()
        fn = subprocess.Popen([lam], env=env, stdout=subprocess.DEVNULL, stderr=err)
        with urllib.request.urlopen(base + "/healthz") as r:
            r.read()
        out["cold_start_to_first_answer_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        time.sleep(0.2)
        for line in open(os.path.join(tmp, "fn.err")):
            if "initialised" in line:
                out["init_ms_logged"] = json.loads(line)["fields"]["init_ms"]
        out["lambda_warm_median_ms"], out["lambda_warm_p99_ms"] = warm(base, n)
        out["lambda_hwm"], out["lambda_rss"] = mem(fn.pid)
        fn.kill()
    finally:
        watch.kill()
    cfg = os.path.join(tmp, "server.toml")
    open(cfg, "w").write(CONFIG)
    t0 = time.perf_counter()
    srv = subprocess.Popen([server, "--config", cfg, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"}, text=True)
    try:
        line = srv.stdout.readline()
        base = line.strip().rsplit(" ", 1)[-1]
        with urllib.request.urlopen(base + "/healthz") as r:
            r.read()
        out["server_start_to_first_answer_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        out["server_warm_median_ms"], out["server_warm_p99_ms"] = warm(base, n)
        out["server_hwm"], out["server_rss"] = mem(srv.pid)
    finally:
        srv.kill()
    print(json.dumps(out, indent=1))

main()
