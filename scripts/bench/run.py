#!/usr/bin/env python3
"""The driver of scripts/bench-http.sh (stdlib only; start it through that script).

Starts every server once, each pinned to the server CPU (bench-server for axum, actix-web,
warp and the hyper floor; uvicorn with the FastAPI receiver; bench-server with the SQLite and
the Redis masking handler, and its own redis-server), checks that every route answers 200
with the same callflow, then:

1. throughput: one discarded warm-up run per row, then ROUNDS rounds of every row in
   turn (`wrk -t1 -cN` pinned to the load CPU), the order reversed on odd rounds;
2. latency: for each A/B pair, ROUNDS rounds of A and B at a fixed rate, a fraction of B's
   median throughput from step 1: 0.5 and 0.25, and 0.1 with a new connection per request
   (oha, open loop and latency-corrected; without oha, wrk paced by a per-connection delay,
   closed loop and approximate, keep-alive only).

Each measurement is a JSON line in OUT/raw.jsonl; OUT/meta.json says where and how; then
summarize.py prints the ratio tables and chart.py (matplotlib) draws OUT/ratios.png.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import summarize  # noqa: E402

FIXTURES = ROOT / "crates/callflow/tests/fixtures"
FIXTURE = FIXTURES / "vca_nm_inbound.json"
VSS_FIXTURE = FIXTURES / "vss_nm_success.json"
LUA = HERE / "post.lua"
SERVER_CPU, LOAD_CPU = 0, 1

PROCS = []  # every process this driver started, stopped on exit


def log(msg):
    print(msg, flush=True)


NICE = 0  # --nice: scheduling priority of the servers and the load generator


def pin(cpu):
    prio = ["nice", "-n", str(NICE)] if NICE else []
    return prio + (["taskset", "-c", str(cpu)] if PINNING else [])


def proc_cpu_s(pids):
    """User + system CPU seconds of these processes so far (all threads, exited ones too)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run_out(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_busy_s():
    """Busy and steal seconds of each CPU so far, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *vals = line.split()
        if name.startswith("cpu") and name != "cpu":
            v = [int(x) for x in vals]
            idle = v[3] + v[4]  # idle + iowait
            steal = v[7] if len(v) > 7 else 0
            out[int(name[3:])] = ((sum(v[:8]) - idle - steal) / tick, steal / tick)
    return out


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def foreign_load(before, after, seconds, server_cpu_s, load_cpu_s):
    """How much of the two benchmark CPUs others took during a run (fraction of one CPU):
    busy time not ours, plus time stolen by the hypervisor. Above CONTENDED, the run is
    flagged; summarize.py reports ratios over all rounds and over uncontended rounds."""
    if not PINNING:
        return None
    res = {}
    for cpu, ours in ((SERVER_CPU, server_cpu_s), (LOAD_CPU, load_cpu_s)):
        busy = after[cpu][0] - before[cpu][0]
        steal = after[cpu][1] - before[cpu][1]
        res[f"cpu{cpu}"] = round(max(0.0, busy - ours) / seconds + steal / seconds, 3)
    return res


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, log_path, **kw):
    p = subprocess.Popen(cmd, stderr=open(log_path, "w"), stdin=subprocess.DEVNULL, **kw)
    PROCS.append(p)
    return p


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
    for p in PROCS:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def repo_relative(path):
    """`path` relative to the repository (results are committed: no machine's absolute
    paths in them), or only its file name when it lies outside."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(ROOT.resolve()))
    except ValueError:
        return resolved.name


def start_bench_server(args, framework, out, name, extra=()):
    cmd = pin(SERVER_CPU) + [args.server, "--framework", framework,
                             "--listen", "127.0.0.1:0", *extra]
    p = spawn(cmd, out / f"{name}.log", stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([p.stdout], [], [], 60)
    line = p.stdout.readline().strip() if ready else ""
    if not line:
        raise SystemExit(f"{name}: bench-server did not start; see {out / (name + '.log')}")
    host, port = line.rsplit(":", 1)
    return {"name": name, "pid": p.pid, "cpu_pids": [p.pid], "host": host, "port": int(port)}


def post(host, port, path, body, timeout=5):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def wait_answering(host, port, body, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if post(host, port, "/", body)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing answers on {host}:{port}")


def start_fastapi(args, out, body):
    port = free_port()
    cmd = pin(SERVER_CPU) + [args.python, "-m", "uvicorn", "fastapi_app:app",
                             "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--log-level", "warning", "--no-access-log"]
    p = spawn(cmd, out / "fastapi.log")
    wait_answering("127.0.0.1", port, body)
    return {"name": "fastapi", "pid": p.pid, "cpu_pids": [p.pid], "host": "127.0.0.1", "port": port}


def start_redis(out):
    port = free_port()
    (out / "redis").mkdir(exist_ok=True)
    cmd = pin(SERVER_CPU) + ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                             "--save", "", "--appendonly", "no", "--dir", str(out / "redis")]
    p = spawn(cmd, out / "redis-server.log", stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return {"name": "redis-server", "pid": p.pid, "port": port}
        except OSError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def affinity(pid):
    """The CPU list of every thread of a process (all must be the server CPU)."""
    lists = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for line in (task / "status").read_text().splitlines():
            if line.startswith("Cpus_allowed_list:"):
                lists.add(line.split()[1])
    return sorted(lists)


def wrk(args, body_path, srv, path, mode, seconds, connections=None, delay_ms=None, expect=200):
    env = dict(os.environ, BENCH_BODY=str(body_path), BENCH_MODE=mode)
    if delay_ms is not None:
        env["BENCH_DELAY_MS"] = str(delay_ms)
    url = f"http://{srv['host']}:{srv['port']}{path}"
    cmd = pin(LOAD_CPU) + ["wrk", "-t1", f"-c{connections or args.connections}",
                           f"-d{seconds}s", "--timeout", "5s", "-s", str(LUA), url]
    cpu_before, load_before, stat_before = proc_cpu_s(srv["cpu_pids"]), children_cpu_s(), cpu_busy_s()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    stat_after = cpu_busy_s()
    cpu_s = proc_cpu_s(srv["cpu_pids"]) - cpu_before
    load_s = children_cpu_s() - load_before
    line = next((l for l in p.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result for {url}:\n{p.stdout}\n{p.stderr}")
    r = json.loads(line[len("BENCH_JSON "):])
    errors = {k: r[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")}
    # wrk counts answers with a status of 400 or more: all of them for an error row, none
    # otherwise.
    if expect >= 400:
        errors["not_the_expected_status"] = r["requests"] - r["status_errors"]
    else:
        errors["status_errors"] = r["status_errors"]
    return {
        "tool": "wrk", "rps": r["requests"] / (r["duration_us"] / 1e6),
        "requests": r["requests"], "duration_s": r["duration_us"] / 1e6,
        "errors": errors, "valid": not any(errors.values()),
        "lat_p50_us": r["lat_p50_us"], "lat_p99_us": r["lat_p99_us"],
        "lat_p999_us": r["lat_p999_us"], "lat_max_us": r["lat_max_us"],
        "server_cpu_s": cpu_s, "load_cpu_s": load_s,
        "foreign": foreign_load(stat_before, stat_after, r["duration_us"] / 1e6, cpu_s, load_s),
        "cpu_us_per_req": cpu_s * 1e6 / r["requests"] if r["requests"] else None,
    }


def oha(args, body_path, srv, path, seconds, rate, keepalive=True):
    url = f"http://{srv['host']}:{srv['port']}{path}"
    cmd = pin(LOAD_CPU) + ["oha", "--no-tui", "--worker-threads", "1", "-z", f"{seconds}s",
                           *([] if keepalive else ["--disable-keepalive"]),
                           "-w", "-c", str(args.oha_connections), "-q", f"{rate:.0f}", "--latency-correction",
                           "-m", "POST", "-T", "application/json", "-D", str(body_path),
                           "--output-format", "json", url]
    cpu_before, load_before, stat_before = proc_cpu_s(srv["cpu_pids"]), children_cpu_s(), cpu_busy_s()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    stat_after = cpu_busy_s()
    cpu_s = proc_cpu_s(srv["cpu_pids"]) - cpu_before
    load_s = children_cpu_s() - load_before
    try:
        d = json.loads(p.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"oha gave no JSON for {url}:\n{p.stdout[:2000]}\n{p.stderr[:2000]}")
    pct = d["latencyPercentiles"]
    statuses = d.get("statusCodeDistribution") or {}
    errors = d.get("errorDistribution") or {}
    return {
        "tool": "oha", "achieved_rps": d["summary"]["requestsPerSec"],
        "p50_us": pct["p50"] * 1e6, "p99_us": pct["p99"] * 1e6, "p999_us": pct["p99.9"] * 1e6,
        "statuses": statuses, "errors": errors,
        "valid": not errors and bool(statuses) and all(s.startswith("2") for s in statuses),
        "foreign": foreign_load(stat_before, stat_after, seconds, cpu_s, load_s),
    }


def paced_wrk(args, body_path, srv, path, seconds, rate):
    """Without oha: wrk with a 1 ms pause per connection after each answer; the number of
    connections is chosen so that the rate comes out near `rate` (closed loop)."""
    conns = max(1, round(rate * 0.0012))
    r = wrk(args, body_path, srv, path, "paced", seconds, connections=conns, delay_ms=1)
    return {"tool": "wrk-paced", "achieved_rps": r["rps"], "connections": conns,
            "p50_us": r["lat_p50_us"], "p99_us": r["lat_p99_us"], "p999_us": r["lat_p999_us"],
            "errors": r["errors"], "statuses": {}, "valid": r["valid"], "foreign": r["foreign"]}


def machine_meta(args, out, run_id, tools):
    cpu_model = next((l.split(":", 1)[1].strip() for l in
                      Path("/proc/cpuinfo").read_text().splitlines()
                      if l.startswith("model name")), platform.processor())
    py_versions = run_out([args.python, "-c",
                           "import fastapi, uvicorn, pydantic, sys; "
                           "print(sys.version.split()[0], fastapi.__version__, "
                           "uvicorn.__version__, pydantic.__version__)"]) or ""
    pv = (py_versions.split() + ["?"] * 4)[:4]
    return {
        "run_id": run_id,
        "started_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"),
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup,
        "latency_rounds": args.latency_rounds, "latency_duration_s": args.latency_duration,
        "connections": args.connections, "nice": args.nice,
        "oha_connections": args.oha_connections, "latency_fraction": args.latency_fraction,
        "server_cpu": SERVER_CPU if PINNING else None, "load_cpu": LOAD_CPU if PINNING else None,
        "git_sha": run_out(["git", "-C", str(ROOT), "rev-parse", "HEAD"]) or "unknown",
        "git_dirty": bool(run_out(["git", "-C", str(ROOT), "status", "--porcelain"])),
        "rustc": run_out(["rustc", "-V"]), "cargo": run_out(["cargo", "-V"]),
        "cpu_model": cpu_model, "cpus": os.cpu_count(), "kernel": platform.release(),
        "wrk": (run_out(["wrk", "-v"]) or "").splitlines()[0] if shutil.which("wrk") else None,
        "oha": run_out(["oha", "--version"]) if tools["oha"] else None,
        "redis_server": run_out(["redis-server", "--version"]) if tools["redis"] else None,
        "python": pv[0], "fastapi": pv[1], "uvicorn": pv[2], "pydantic": pv[3],
        "bench_server": repo_relative(args.server),
        "loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "body_bytes": (out / "body.json").stat().st_size,
    }


def main():
    global PINNING, NICE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the release bench-server binary")
    ap.add_argument("--python", default=sys.executable, help="python with fastapi/uvicorn")
    ap.add_argument("--out", help="result directory (default TARGET/perf/<date>-<sha>)")
    ap.add_argument("--target-dir", default=str(ROOT / "target"))
    ap.add_argument("--quick", action="store_true",
                    help="short runs (3 rounds x 1 s; latency: 2 rounds x 1 s, 0.5 x R only): "
                         "a smoke test in < 3 min")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--duration", type=int, help="seconds per throughput run")
    ap.add_argument("--warmup", type=int, help="seconds of the discarded warm-up run per row")
    ap.add_argument("--latency-rounds", type=int)
    ap.add_argument("--latency-duration", type=int, help="seconds per latency run")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--latency-fraction", type=float,
                    help="measure every latency pair at this fraction of B's median req/s "
                         "(default: each pair's own, 0.5 or 0.25)")
    ap.add_argument("--oha-connections", type=int, default=64,
                    help="oha connections for the fixed-rate runs (default 64: at 40k req/s "
                         "16 connections queue requests in oha itself)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run servers and load at this nice level (e.g. -10 on a shared "
                         "machine, as root: the benchmark then wins the CPU over compiles)")
    ap.add_argument("--no-fastapi", action="store_true")
    ap.add_argument("--no-masking", action="store_true")
    ap.add_argument("--only", help="comma-separated substrings of row names (e.g. "
                    "'sqlite,redis'): measure only the rows that contain one of them")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--latency-only", metavar="RUN_DIR",
                    help="skip the throughput phase: measure latency at the rates that the "
                         "throughput results of RUN_DIR give (e.g. to redo a latency phase "
                         "that other work on the machine spoiled)")
    args = ap.parse_args()
    q = args.quick
    NICE = args.nice
    args.rounds = args.rounds or (3 if q else 5)
    args.duration = args.duration or (1 if q else 10)
    args.warmup = args.warmup or (1 if q else 2)
    args.latency_rounds = args.latency_rounds or (2 if q else 5)
    args.latency_duration = args.latency_duration or (1 if q else 10)

    PINNING = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    if not PINNING:
        log("WARNING: fewer than 2 CPUs or no taskset: nothing is pinned, ratios are less reliable")
    tools = {"oha": shutil.which("oha") is not None, "redis": shutil.which("redis-server") is not None}

    sha = (run_out(["git", "-C", str(ROOT), "rev-parse", "--short=7", "HEAD"]) or "nogit")
    run_id = f"{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}-{sha}{'-quick' if q else ''}"
    out = Path(args.out) if args.out else Path(args.target_dir) / "perf" / run_id
    out.mkdir(parents=True, exist_ok=True)
    body = FIXTURE.read_bytes().rstrip()
    (out / "body.json").write_bytes(body)
    body_path = out / "body.json"
    # The second size, and a body cut in half: invalid JSON.
    (out / "vss.json").write_bytes(VSS_FIXTURE.read_bytes().rstrip())
    (out / "malformed.json").write_bytes(body[: len(body) // 2])
    bodies = {"vca": body_path, "vss": out / "vss.json", "malformed": out / "malformed.json"}

    meta = machine_meta(args, out, run_id, tools)
    log(f"== results in {out}")
    started = time.time()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        servers = {}
        for fw in ("axum", "actix-web", "warp", "hyper-floor"):
            servers[fw] = start_bench_server(args, fw, out, fw)
        if not args.no_fastapi:
            servers["fastapi"] = start_fastapi(args, out, body)
        else:
            log("-- FastAPI rows skipped (--no-fastapi)")
        if not args.no_masking:
            servers["masking-sqlite"] = start_bench_server(
                args, "axum", out, "masking-sqlite",
                ["--handler", "masking-sqlite", "--db", str(out / "masking.db")])
            # The same store behind `CachedStore` (1 s bound): a server of its own.
            servers["masking-sqlite-cached"] = start_bench_server(
                args, "axum", out, "masking-sqlite-cached",
                ["--handler", "masking-sqlite", "--db", str(out / "masking-cached.db"),
                 "--cache-max-age", "1000"])
            if tools["redis"]:
                redis = start_redis(out)
                meta["redis_pid"] = redis["pid"]
                servers["masking-redis"] = start_bench_server(
                    args, "axum", out, "masking-redis",
                    ["--handler", "masking-redis", "--redis", f"redis://127.0.0.1:{redis['port']}/0"])
                # bench-server caches Redis lookups for 1 s unless told otherwise; the
                # uncached store is a server of its own.
                servers["masking-redis-nocache"] = start_bench_server(
                    args, "axum", out, "masking-redis-nocache",
                    ["--handler", "masking-redis", "--redis", f"redis://127.0.0.1:{redis['port']}/0",
                     "--cache-max-age", "0"])
                # The server side of a Redis row is the server and its Redis.
                servers["masking-redis"]["cpu_pids"].append(redis["pid"])
                servers["masking-redis-nocache"]["cpu_pids"].append(redis["pid"])
            else:
                log("-- Redis masking rows skipped: redis-server is not installed "
                    "(apt-get install redis-server)")
        if not tools["oha"]:
            log("-- oha not on PATH: latency at a fixed rate uses wrk paced by a delay "
                "(closed loop, approximate); `cargo install --locked oha` for open-loop figures")

        rows = [r for r in summarize.ROWS if r[1] in servers]
        if args.only:
            wanted = [w for w in args.only.split(",") if w]
            rows = [r for r in rows if any(w in r[0] for w in wanted)]
            if not rows:
                raise SystemExit(f"--only {args.only}: no row matches")
        # Every route must answer each body as axum's adapter does (200 with the no-op
        # callflow, 200 with the acknowledgement, 400 with the JSON error) before anything
        # is measured.
        expected = {}
        for name, path in bodies.items():
            expected[name] = post(servers["axum"]["host"], servers["axum"]["port"], "/adapter",
                                  path.read_bytes())
        meta["reply_bytes"] = len(expected["vca"][2])
        for row, server, path, _, body_name in rows:
            srv = servers[server]
            status, ctype, got = post(srv["host"], srv["port"], path, bodies[body_name].read_bytes())
            want_status, _, want = expected[body_name]
            if (status != summarize.EXPECTED_STATUS[body_name] or status != want_status
                    or not (ctype or "").startswith("application/json")):
                raise SystemExit(f"{row}: {status} {ctype} {got[:200]!r}")
            if body_name == "malformed":
                # The same error code; the message is the parser's.
                if json.loads(got)["error"]["code"] != json.loads(want)["error"]["code"]:
                    raise SystemExit(f"{row}: another error than axum/adapter's: {got[:200]!r}")
            elif got != want:
                same_json = json.loads(got) == json.loads(want)
                log(f"-- {row}: reply differs from axum/adapter's "
                    f"({'same JSON, other bytes' if same_json else 'DIFFERENT JSON'}): {got[:120]!r}")
                if not same_json:
                    raise SystemExit("replies must be the same callflow")
        meta["affinity"] = {name: affinity(s["pid"]) for name, s in servers.items()}
        if "redis_pid" in meta:
            meta["affinity"]["redis-server"] = affinity(meta["redis_pid"])
        (out / "meta.json").write_text(json.dumps(meta, indent=1))
        log(f"== {len(rows)} rows; server threads on CPUs {meta['affinity']}")

        raw = open(out / "raw.jsonl", "w")

        def record(rec):
            raw.write(json.dumps(rec) + "\n")
            raw.flush()

        results = []
        if args.latency_only:
            meta["rates_from"] = Path(args.latency_only).name
            _, results = summarize.load(args.latency_only)
            rows_to_measure = []
        else:
            rows_to_measure = rows
        log(f"== warm-up: {args.warmup} s per row (discarded)")
        for row, server, path, mode, body_name in rows:
            r = wrk(args, bodies[body_name], servers[server], path, mode, args.warmup,
                    expect=summarize.EXPECTED_STATUS[body_name])
            record({"phase": "warmup", "round": -1, "row": row, **r})

        log(f"== throughput: {args.rounds} rounds x {len(rows_to_measure)} rows x {args.duration} s")
        for rd in range(args.rounds if rows_to_measure else 0):
            order = rows if rd % 2 == 0 else rows[::-1]
            for row, server, path, mode, body_name in order:
                r = wrk(args, bodies[body_name], servers[server], path, mode, args.duration,
                        expect=summarize.EXPECTED_STATUS[body_name])
                rec = {"phase": "throughput", "round": rd, "row": row, "path": path,
                       "mode": mode, "t": time.time(), **r}
                record(rec)
                results.append(rec)
                flag = "" if r["valid"] else f"  INVALID {r['errors']}"
                if summarize.contended(rec):
                    flag += f"  (others used {r['foreign']})"
                log(f"  [{rd + 1}/{args.rounds}] {row:<24} {r['rps']:>9,.0f} req/s"
                    f"  p99 {r['lat_p99_us']:>6} µs  server CPU {r['cpu_us_per_req']:6.2f} µs/req{flag}")

        if not args.no_latency:
            pairs = []
            row_index = {r[0]: r for r in rows}
            for pid, a_row, b_row, _, fraction, keepalive, rate_from in summarize.LATENCY_PAIRS:
                if args.latency_fraction is not None:
                    if not keepalive or (pid != a_row.split("/")[0] and not pid.startswith("masking")):
                        continue  # one load per pair when the fraction is given
                    fraction = args.latency_fraction
                if not tools["oha"] and not keepalive:
                    continue  # wrk cannot open a connection per request
                if args.quick and (fraction != 0.5 or not keepalive):
                    continue  # the smoke run: the load only
                if a_row in row_index and b_row in row_index:
                    rate = summarize.latency_rate(
                        results, (a_row, b_row) if rate_from == "lower" else (b_row,), fraction)
                    if rate:
                        pairs.append((pid, a_row, b_row, rate, fraction, keepalive))
            tool = "oha" if tools["oha"] else "wrk-paced"
            log(f"== latency ({tool}): {args.latency_rounds} rounds x {len(pairs)} pairs x "
                f"{args.latency_duration} s at a fraction of B's median req/s")
            for rd in range(args.latency_rounds):
                for pid, a_row, b_row, rate, fraction, keepalive in pairs:
                    for row in ((a_row, b_row) if rd % 2 == 0 else (b_row, a_row)):
                        _, server, path, _, _ = row_index[row]
                        if tools["oha"]:
                            r = oha(args, body_path, servers[server], path, args.latency_duration,
                                    rate, keepalive)
                        else:
                            r = paced_wrk(args, body_path, servers[server], path,
                                          args.latency_duration, rate)
                        record({"phase": "latency", "round": rd, "pair": pid, "row": row,
                                "path": path, "rate": rate, "fraction": fraction,
                                "keepalive": keepalive, "t": time.time(), **r})
                        flag = "" if r["valid"] else f"  INVALID {r['errors']} {r['statuses']}"
                        if summarize.contended(r):
                            flag += f"  (others used {r['foreign']})"
                        log(f"  [{rd + 1}/{args.latency_rounds}] {pid:<18} {row:<20} @{rate:>7,.0f}/s"
                            f"  p50 {r['p50_us']:>6.0f}  p99 {r['p99_us']:>6.0f} µs{flag}")
        raw.close()
    finally:
        stop_all()

    meta["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    meta["elapsed_s"] = round(time.time() - started)
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    log("")
    summarize.main(["summarize.py", str(out)])
    chart = subprocess.run([args.python, str(HERE / "chart.py"), str(out)],
                           capture_output=True, text=True)
    log(chart.stdout.strip() or f"-- no chart: {chart.stderr.strip().splitlines()[-1:]}")
    log(f"\n== done in {meta['elapsed_s']} s; raw results, summary and chart in {out}")


if __name__ == "__main__":
    main()
