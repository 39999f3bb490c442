#!/usr/bin/env python3
"""The driver of scripts/bench-scale.sh (stdlib only; start it through that script).

Scale rows of GitHub issue #18: the masking route with many bindings in the store.

1. data: for SIZE in (1,000; 1,000,000), SIZE bindings spread round-robin over 1,000
   virtual numbers (the fixture's virtual number is one of them, so the looked-up caller
   shares its number with SIZE / 1,000 bindings), each with two parties of its own; loaded
   in bulk: SQLite through Python's sqlite3 module (one transaction, into the schema
   bench-server creates), Redis through `redis-cli --pipe` (the keys RedisBindingStore
   writes: the binding hash, both index sets, the listing);
2. throughput (wall clock): one bench-server per (store, SIZE), pinned to CPU 0 (with
   redis-server), wrk -t1 -c32 on CPU 1, ROUNDS interleaved rounds of /masking and of the
   same process's no-op /adapter; reported: req/s medians, masking / no-op per SIZE, and
   masking at 1,000,000 / masking at 1,000 (same round);
3. instructions: the /masking route under callgrind, (Ir(2N) - Ir(N)) / N as
   scripts/bench-instr.sh counts it, at both sizes;
4. memory: `number-masking serve` (SQLite) at 10,000 idle keep-alive connections: VmRSS
   and VmHWM from /proc before and with the connections open (each connection served one
   GET /healthz, then idle), then closed.

Both stores run without a cache of lookups and with one (CachedStore, --cache-max-age 1000:
1 s): with the fixture's caller asked every time, the cached rows measure the cache, the
uncached ones the store.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import instr  # noqa: E402  (free_port, start_redis, total_ir, post_all, git_state)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "crates/callflow/tests/fixtures/vca_nm_inbound.json"
POST_LUA = ROOT / "scripts/bench/post.lua"
VIRTUAL_NUMBER = "+65987654321"
NUMBERS = 1000
SIZES = (1_000, 1_000_000)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def binding_rows(size):
    """(id, vn, a, b, created_at) of SIZE bindings over NUMBERS virtual numbers (SIZE /
    NUMBERS each, number 0 the fixture's); parties unique per virtual number (never
    ambiguous). Generated in the order of every index (id, then (vn, party)), so that a
    bulk insert appends to each B-tree."""
    now = int(time.time() * 1000)
    per = size // NUMBERS
    for v in range(NUMBERS):
        vn = VIRTUAL_NUMBER if v == 0 else f"+6568{v:06d}"
        for j in range(per):
            n = v * per + j
            yield (f"{0x5ca1e00000000000 + n:016x}", vn, f"+6581{v:03d}{j:05d}",
                   f"+6582{v:03d}{j:05d}", now)


def niced(args, cmd):
    """CMD under `nice -n NICE` when --nice is given (negative values need root)."""
    return ["nice", "-n", str(args.nice)] + cmd if args.nice else cmd


def start_server(args, extra, cpu="0", log_path=None, prefix=None):
    cmd = (prefix or []) + [args.server, "--framework", "axum", "--listen", "127.0.0.1:0"] + extra
    if args.pin and not prefix:
        cmd = ["taskset", "-c", cpu] + cmd
    cmd = niced(args, cmd)
    err = open(log_path, "w") if log_path else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline().strip()
    if not line:
        p.kill()
        raise SystemExit(f"bench-server {' '.join(extra)} printed no address")
    return p, int(line.rsplit(":", 1)[1])


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def load_sqlite(args, path, size):
    """Creates the schema (bench-server opens the file, binds the fixture's caller), then
    inserts SIZE bindings in one transaction."""
    p, _ = start_server(args, ["--handler", "masking-sqlite", "--db", str(path)])
    stop(p)
    t = time.time()
    db = sqlite3.connect(path)
    db.execute("PRAGMA cache_size = -500000")  # 500 MB: the indexes stay in memory
    db.execute("PRAGMA synchronous = OFF")  # a bulk load; redone from scratch if it fails
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO bindings (id, virtual_number, party_a, party_b, expires_at, record, "
        "reference, created_at) VALUES (?, ?, ?, ?, NULL, 0, NULL, ?)", binding_rows(size))
    db.commit()
    count = db.execute("SELECT count(*) FROM bindings").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    log(f"   sqlite {size:>9,}: {count:,} bindings in {time.time() - t:.1f} s")


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        p = p if isinstance(p, bytes) else str(p).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def load_redis(port, prefix, size):
    """SIZE bindings under PREFIX, as RedisBindingStore writes them, by redis-cli --pipe."""
    t = time.time()
    pipe = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = []
    for (bid, vn, a, b, created) in binding_rows(size):
        buf.append(resp("HSET", f"{prefix}binding:{bid}", "id", bid, "vn", vn, "a", a, "b", b,
                        "record", "0", "created_at", created))
        buf.append(resp("SADD", f"{prefix}idx:{vn}:{a}", bid))
        buf.append(resp("SADD", f"{prefix}idx:{vn}:{b}", bid))
        buf.append(resp("ZADD", f"{prefix}bindings", created, bid))
        if len(buf) >= 40_000:
            pipe.stdin.write(b"".join(buf))
            buf.clear()
    pipe.stdin.write(b"".join(buf))
    pipe.stdin.close()
    out = pipe.stdout.read().decode(errors="replace")
    if pipe.wait() != 0 or "errors: 0" not in out:
        raise SystemExit(f"redis-cli --pipe failed: {out}")
    log(f"   redis  {size:>9,}: loaded in {time.time() - t:.1f} s")


def wrk(args, port, path, seconds):
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "-s", str(POST_LUA),
           f"http://127.0.0.1:{port}{path}"]
    if args.pin:
        cmd = ["taskset", "-c", "1"] + cmd
    cmd = niced(args, cmd)
    env = dict(os.environ, BENCH_BODY=str(FIXTURE), BENCH_MODE="static")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    m = re.search(r"BENCH_JSON (\{.*\})", out.stdout)
    if not m:
        raise SystemExit(f"wrk: no result\n{out.stdout}\n{out.stderr}")
    r = json.loads(m.group(1))
    bad = sum(r.get(k, 0) for k in ("connect_errors", "read_errors", "write_errors",
                                     "status_errors"))
    if bad:
        raise SystemExit(f"wrk {path}: {bad} errors: {r}")
    return r["requests"] / (r["duration_us"] / 1e6)


def throughput(args, servers):
    """ROUNDS interleaved rounds of /masking and /adapter on every server."""
    rows = [(name, route) for name in servers for route in ("/masking", "/adapter")]
    for name, route in rows:  # warm-up, discarded
        wrk(args, servers[name], route, args.warmup)
    results = {row: [] for row in rows}
    for rnd in range(args.rounds):
        order = rows if rnd % 2 == 0 else list(reversed(rows))
        for name, route in order:
            results[(name, route)].append(wrk(args, servers[name], route, args.duration))
        log(f"   throughput round {rnd + 1} of {args.rounds} done")
    return results


def count_instr(args, extra, n, out, stem):
    irs = []
    for count in (n, 2 * n):
        cg = out / f"{stem}.{count}.callgrind"
        p, port = start_server(args, extra, log_path=out / f"{stem}.{count}.log",
                               prefix=["timeout", "600", "valgrind", "--tool=callgrind",
                                       f"--callgrind-out-file={cg}"])
        try:
            instr.post_all(port, "/masking", FIXTURE.read_bytes(), 50 + count)
        finally:
            stop(p)
        irs.append(instr.total_ir(cg))
    return (irs[1] - irs[0]) / n


def rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    get = lambda k: int(re.search(rf"^{k}:\s+(\d+) kB", status, re.M).group(1))  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def memory(args, out):
    """VmRSS of `number-masking serve` at CONNS idle keep-alive connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.conns + 512
    if hard < want:
        raise SystemExit(f"open-file limit {hard} < {want}: raise it (ulimit -Hn) as root")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    db = out / "serve.db"
    # Idle connections are kept for 10 minutes (the default closes them after 10 s).
    cmd = [args.number_masking, "--db", str(db), "serve", "--header-read-timeout", "10m",
           "--listen", "127.0.0.1:0"]
    port = instr.free_port()
    cmd[-1] = f"127.0.0.1:{port}"
    env = dict(os.environ, NUMBER_MASKING_AUTH_HEADERS="bench-secret")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(out / "serve.log", "w"),
                         env=env)
    socks = []
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or p.poll() is not None:
                    raise SystemExit(f"number-masking serve did not start (see {out}/serve.log)")
                time.sleep(0.1)
        req = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()

        def open_some(k):
            for _ in range(k):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(req)
                data = s.recv(4096)
                if not data.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"/healthz answered {data[:80]!r}")
                socks.append(s)

        open_some(1)
        time.sleep(1)
        before = rss_kib(p.pid)
        t = time.time()
        open_some(args.conns - 1)
        took = time.time() - t
        time.sleep(2)
        during = rss_kib(p.pid)
        alive = p.poll() is None
        for s in socks:
            s.close()
        socks.clear()
        time.sleep(2)
        after = rss_kib(p.pid)
        return {"connections": args.conns, "open_s": round(took, 1), "alive": alive,
                "rss_before_kib": before[0], "rss_during_kib": during[0],
                "hwm_kib": during[1], "rss_after_close_kib": after[0],
                "per_connection_bytes": round((during[0] - before[0]) * 1024 / args.conns)}
    finally:
        for s in socks:
            s.close()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def med(xs):
    return statistics.median(xs)


def fmt_range(xs, f="{:.3f}"):
    return f"{f.format(med(xs))} ({f.format(min(xs))}–{f.format(max(xs))})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the release bench-server binary")
    ap.add_argument("--number-masking", required=True, help="the release number-masking binary")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per throughput run")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    ap.add_argument("-n", "--requests", type=int, default=1000, help="callgrind N")
    ap.add_argument("--conns", type=int, default=10_000, help="idle connections for the memory row")
    ap.add_argument("--nice", type=int, default=0,
                    help="run servers, redis-server and wrk at this niceness (e.g. -10 as root "
                    "on a shared machine)")
    ap.add_argument("--skip", default="", help="comma-separated phases to skip: "
                    "throughput,instr,memory,redis")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.pin = (os.cpu_count() or 1) >= 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    have_redis = shutil.which("redis-server") and shutil.which("redis-cli") and "redis" not in skip
    result = {"sizes": SIZES, "numbers": NUMBERS, **instr.git_state()}

    log("== loading the bindings")
    dbs = {}
    for size in SIZES:
        dbs[size] = out / f"bindings-{size}.db"
        for f in out.glob(f"bindings-{size}.db*"):
            f.unlink()
        load_sqlite(args, dbs[size], size)
    redis = None
    try:
        if have_redis:
            redis, rport = instr.start_redis(out)
            if args.pin:
                subprocess.run(["taskset", "-pc", "0", str(redis.pid)], capture_output=True)
            if args.nice:
                subprocess.run(["renice", "-n", str(args.nice), "-p", str(redis.pid)],
                               capture_output=True)
            for size in SIZES:
                load_redis(rport, f"callflow-bench:scale{size}:", size)
            info = subprocess.run(["redis-cli", "-p", str(rport), "info", "memory"],
                                  capture_output=True, text=True).stdout
            m = re.search(r"used_memory_human:(\S+)", info)
            result["redis_used_memory"] = m.group(1) if m else "?"

        def extra(store, size, cache=None):
            c = ["--cache-max-age", str(cache)] if cache is not None else []
            if store == "sqlite":
                return ["--handler", "masking-sqlite", "--db", str(dbs[size])] + c
            e = ["--handler", "masking-redis", "--redis", f"redis://127.0.0.1:{rport}/0",
                 "--redis-prefix", f"callflow-bench:scale{size}:"]
            return e + c

        configs = {f"sqlite-{s}": extra("sqlite", s) for s in SIZES}
        configs.update({f"sqlite-cached-{s}": extra("sqlite", s, 1000) for s in SIZES})
        if have_redis:
            configs.update({f"redis-cached-{s}": extra("redis", s) for s in SIZES})
            configs.update({f"redis-{s}": extra("redis", s, 0) for s in SIZES})

        if "throughput" not in skip:
            log("== throughput (wall clock)")
            procs, ports = {}, {}
            try:
                for name, e in configs.items():
                    procs[name], ports[name] = start_server(args, e, log_path=out / f"{name}.log")
                res = throughput(args, ports)
            finally:
                for p in procs.values():
                    stop(p)
            result["throughput"] = {f"{n}{r}": v for (n, r), v in res.items()}

        if "instr" not in skip:
            log("== instructions (callgrind)")
            result["instr"] = {}
            for name in [n for n in configs if "cached" not in n]:
                result["instr"][name] = count_instr(args, configs[name], args.requests, out, name)
                log(f"   {name}: {result['instr'][name] / 1000:.1f} k instr/request")
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()

    if "memory" not in skip:
        log(f"== memory at {args.conns:,} idle keep-alive connections")
        result["memory"] = memory(args, out)
        log(f"   {result['memory']}")

    (out / "scale.json").write_text(json.dumps(result, indent=1))
    print(report(result))
    (out / "scale.md").write_text(report(result))


def report(r):
    sha = r.get("git_sha", "unknown")
    lines = [f"At git {sha[:7]}{' (work tree modified)' if r.get('git_dirty') else ''}.", ""]
    t = r.get("throughput")
    if t:
        lines += ["| store | bindings | /masking req/s | no-op /adapter req/s (same process) "
                  "| masking / no-op | masking at 1,000,000 / at 1,000 (same round) |",
                  "|---|---:|---:|---:|---:|---:|"]
        for store in ("sqlite", "sqlite-cached", "redis", "redis-cached"):
            if f"{store}-1000/masking" not in t:
                continue
            small = t[f"{store}-1000/masking"]
            for size in r["sizes"]:
                m, a = t[f"{store}-{size}/masking"], t[f"{store}-{size}/adapter"]
                ratio = [x / y for x, y in zip(m, a)]
                scale = ([x / y for x, y in zip(m, small)] if size != 1000 else None)
                lines.append(f"| {store} | {size:,} | {med(m):,.0f} | {med(a):,.0f} | "
                             f"{fmt_range(ratio)} | {fmt_range(scale) if scale else '–'} |")
        lines.append("")
    if r.get("instr"):
        lines += ["| store | instructions / request at 1,000 | at 1,000,000 | ratio |",
                  "|---|---:|---:|---:|"]
        for store in ("sqlite", "redis"):
            a, b = r["instr"].get(f"{store}-1000"), r["instr"].get(f"{store}-1000000")
            if a and b:
                lines.append(f"| {store} | {a / 1000:.1f} k | {b / 1000:.1f} k | {b / a:.3f} |")
        lines.append("")
    if r.get("memory"):
        m = r["memory"]
        lines += [f"number-masking serve at {m['connections']:,} idle keep-alive connections: "
                  f"VmRSS {m['rss_before_kib'] / 1024:.1f} MiB before, "
                  f"{m['rss_during_kib'] / 1024:.1f} MiB with them open "
                  f"({m['per_connection_bytes']:,} bytes per connection), "
                  f"{m['rss_after_close_kib'] / 1024:.1f} MiB after closing them; "
                  f"peak (VmHWM) {m['hwm_kib'] / 1024:.1f} MiB; still serving: {m['alive']}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
