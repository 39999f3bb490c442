#!/usr/bin/env python3
"""The driver of scripts/bench-instr.sh (stdlib only; start it through that script).

Counts the server's instructions per request of every bench-server route with callgrind:
for each route, bench-server runs twice under `valgrind --tool=callgrind`, once answering
WARMUP + N keep-alive POSTs of the CALL_ACTION fixture (vca_nm_inbound.json, 737 bytes) on
one connection, once WARMUP + 2N; (Ir(2N run) - Ir(N run)) / N is what one request costs,
start-up, warm-up and shutdown subtracted. Every answer is checked: status 200, the same
callflow on every route. The count does not depend on the machine's load, but it moves by
about ±1.5 % from run to run (how often the runtime parks between two requests, the state
of malloc's free lists): every route runs ROUNDS times, interleaved, and the table gives
the median with the min–max.

Prints a table (instructions per request, ratio to the hyper floor, ratio to the same
framework's /bare, and the part spent in `Event::from_slice`) and writes it with the raw
counts to OUT/instr.md and OUT/instr.json.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURE = ROOT / "crates/callflow/tests/fixtures/vca_nm_inbound.json"

# (label, framework, handler, path, the /bare of the same framework or None[, extra
# bench-server arguments])
CASES = [
    ("hyper floor (constant reply)", "hyper-floor", "noop", "/", None),
    ("axum /const", "axum", "noop", "/const", None),
    ("axum /bare", "axum", "noop", "/bare", None),
    ("axum /adapter", "axum", "noop", "/adapter", "axum /bare"),
    ("axum /adapter-nest", "axum", "noop", "/adapter-nest", "axum /bare"),
    ("axum /adapter-idem", "axum", "noop", "/adapter-idem", "axum /bare"),
    ("warp /const", "warp", "noop", "/const", None),
    ("warp /bare", "warp", "noop", "/bare", None),
    ("warp /adapter", "warp", "noop", "/adapter", "warp /bare"),
    ("warp /adapter-idem", "warp", "noop", "/adapter-idem", "warp /bare"),
    ("actix-web /const", "actix-web", "noop", "/const", None),
    ("actix-web /bare", "actix-web", "noop", "/bare", None),
    ("actix-web /adapter", "actix-web", "noop", "/adapter", "actix-web /bare"),
    ("actix-web /adapter-idem", "actix-web", "noop", "/adapter-idem", "actix-web /bare"),
    ("axum /masking over SQLite", "axum", "masking-sqlite", "/masking", "axum /bare"),
    ("axum /masking over SQLite, cache 1 s", "axum", "masking-sqlite", "/masking", "axum /bare",
     ["--cache-max-age", "1000"]),
    # bench-server caches Redis lookups for 1 s unless told otherwise: both rows, named.
    ("axum /masking over Redis, no cache", "axum", "masking-redis", "/masking", "axum /bare",
     ["--cache-max-age", "0"]),
    ("axum /masking over Redis, cache 1 s", "axum", "masking-redis", "/masking", "axum /bare",
     ["--cache-max-age", "1000"]),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def git_state():
    """The commit measured, and whether tracked files differed from it."""
    def git(*a):
        p = subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else None
    return {"git_sha": git("rev-parse", "HEAD") or "unknown",
            "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(out):
    port = free_port()
    (out / "redis").mkdir(exist_ok=True)
    p = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(out / "redis")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return p, port
        except OSError:
            time.sleep(0.1)
    p.kill()
    raise SystemExit("redis-server did not start")


def total_ir(path):
    """The total Ir of a callgrind output file (its `totals:` or `summary:` line)."""
    for line in path.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


PARSE_FN = "callflow::event::Event::from_slice"


def inclusive(path, function):
    """The inclusive Ir of `function` in a callgrind file (0 if it never ran)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2].endswith(":" + function):
            return int(parts[0].replace(",", ""))
    return 0


def post_all(port, path, body, count):
    """POSTs the body COUNT times on one keep-alive connection; the reply (all equal)."""
    first = None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for i in range(count):
            conn.request("POST", path, body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            got = resp.read()
            if resp.status != 200 or (first is not None and got != first):
                raise SystemExit(f"{path}: request {i} answered {resp.status} {got[:200]!r}")
            first = got
            if resp.getheader("connection", "").lower() == "close":
                raise SystemExit(f"{path}: the server closed the keep-alive connection")
    finally:
        conn.close()
    return first


def one_run(args, out, case, count, redis_url, rnd):
    """Total Ir of one bench-server run answering WARMUP + COUNT requests, the reply, and
    the callgrind file."""
    label, framework, handler, path = case[:4]
    extra = case[5] if len(case) > 5 else []
    stem = label.replace(" ", "_").replace("/", "").replace("(", "").replace(")", "")
    stem = stem.replace(",", "")
    stem = f"{stem}.r{rnd + 1}"
    cg_out = out / f"{stem}.{count}.callgrind"
    cmd = ["timeout", "600", "valgrind", "--tool=callgrind", f"--callgrind-out-file={cg_out}",
           args.server, "--framework", framework, "--listen", "127.0.0.1:0",
           "--handler", handler]
    if handler == "masking-redis":
        cmd += ["--redis", redis_url]
    cmd += extra
    log_file = open(out / f"{stem}.{count}.log", "w")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_file, text=True)
    try:
        line = p.stdout.readline().strip()
        if not line:
            raise SystemExit(f"{label}: bench-server printed no address (see {log_file.name})")
        port = int(line.rsplit(":", 1)[1])
        reply = post_all(port, path, args.body, args.warmup + count)
        p.send_signal(signal.SIGINT)
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log_file.close()
    return total_ir(cg_out), reply, cg_out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the bench-server binary")
    ap.add_argument("--out", required=True, help="where callgrind files and the table go")
    ap.add_argument("-n", "--requests", type=int, default=2000,
                    help="N: the difference between the two runs of a route (default 2000)")
    ap.add_argument("--warmup", type=int, default=50, help="requests before the counted ones")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs of every route, interleaved; the table gives their median")
    ap.add_argument("--only", default="", help="comma-separated substrings of route labels")
    args = ap.parse_args()
    args.body = FIXTURE.read_bytes()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    cases = CASES
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        cases = [c for c in CASES if any(w in c[0] for w in wanted)]
    redis, redis_url = None, None
    if any(c[2] == "masking-redis" for c in cases):
        if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
            log("-- redis-server not found: skipping the Redis row")
            cases = [c for c in cases if c[2] != "masking-redis"]
        else:
            redis, port = start_redis(out)
            redis_url = f"redis://127.0.0.1:{port}/0"

    # Every route answers the same bytes (the no-op handler's callflow): checked below.
    results, replies = {c[0]: [] for c in cases}, set()
    try:
        for rnd in range(args.rounds):
            log(f"== round {rnd + 1} of {args.rounds}")
            for case in (cases if rnd % 2 == 0 else cases[::-1]):
                label = case[0]
                t0 = time.time()
                ir1, reply1, _ = one_run(args, out, case, args.requests, redis_url, rnd)
                ir2, reply2, cg2 = one_run(args, out, case, 2 * args.requests, redis_url, rnd)
                replies |= {reply1, reply2}
                if len(replies) != 1 or b"makeCall" not in reply1:
                    raise SystemExit(f"{label}: another reply than the other routes: "
                                     f"{reply1[:200]!r}")
                per = (ir2 - ir1) / args.requests
                results[label].append({"ir_n": ir1, "ir_2n": ir2, "per_request": per,
                                       "parse_2n": inclusive(cg2, PARSE_FN)})
                log(f"   {label:32} {per / 1000:8.1f} k instr/request  "
                    f"({time.time() - t0:.0f} s)")
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()

    def median_of(label, key="per_request"):
        values = [r[key] for r in results.get(label, [])]
        return statistics.median(values) if values else None

    floor = median_of("hyper floor (constant reply)")
    rows = ["| route | instructions / request, median (min–max) | × hyper floor "
            "| × same framework's /bare | of which `Event::from_slice` |",
            "|---|---:|---:|---:|---:|"]
    for label, bare in ((c[0], c[4]) for c in cases):
        per = median_of(label)
        lo = min(r["per_request"] for r in results[label])
        hi = max(r["per_request"] for r in results[label])
        x_floor = f"{per / floor:.2f}×" if floor else "–"
        b = median_of(bare or label.rsplit(" ", 1)[0] + " /bare")
        x_bare = f"{per / b:.2f}×" if b and (bare or label.endswith("/bare")) else "–"
        parse = median_of(label, "parse_2n")
        parse = f"{parse / (2 * args.requests + args.warmup) / 1000:.1f} k" if parse else "–"
        rows.append(f"| {label} | {per / 1000:.1f} k ({lo / 1000:.1f}–{hi / 1000:.1f}) "
                    f"| {x_floor} | {x_bare} | {parse} |")
    git = git_state()
    sha = git["git_sha"][:7] + (" (modified)" if git["git_dirty"] else "")
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True,
                              text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    meta = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"git {sha}, {rustc}, {valgrind}, {cpu}; "
            f"N = {args.requests} keep-alive POSTs of the {len(args.body)}-byte CALL_ACTION "
            f"after {args.warmup} warm-up ones, (Ir(2N) − Ir(N)) / N; {args.rounds} rounds; "
            f"the parse column: Event::from_slice's inclusive Ir in the 2N run / its requests")
    table = "\n".join(rows) + "\n\n" + meta + "\n"
    print(table)
    (out / "instr.md").write_text(table)
    (out / "instr.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main()
