#!/usr/bin/env python3
"""Turns the raw results of scripts/bench-http.sh into the ratio tables (stdlib only).

    python3 scripts/bench/summarize.py target/perf/<date>-<sha>/

reads meta.json and raw.jsonl there, prints the tables, and writes summary.json (the input
of chart.py) and summary.md (the tables as BENCHMARKS.md shows them).

Only same-run ratios count: every ratio is computed per round, from two measurements of the
same round, and reported as the median with the min-max over the rounds. A measurement with
a socket error or a non-2xx answer is invalid, and so is every ratio that uses it.
"""

import json
import statistics
import sys
from pathlib import Path

# Throughput rows: (row, server, path, wrk mode, body). The order is the interleaving order
# of one round (reversed on odd rounds); A/B pairs sit next to each other. Bodies: "vca" the
# 736-byte CALL_ACTION, "vss" the 1.4 KB SESSION_SUMMARY, "malformed" the CALL_ACTION cut in
# half (every answer must then be the 400 JSON error).
ROWS = [
    ("axum/adapter", "axum", "/adapter", "static", "vca"),
    ("axum/bare", "axum", "/bare", "static", "vca"),
    ("axum/const", "axum", "/const", "static", "vca"),
    ("axum/adapter-nest", "axum", "/adapter-nest", "static", "vca"),
    ("actix-web/adapter", "actix-web", "/adapter", "static", "vca"),
    ("actix-web/bare", "actix-web", "/bare", "static", "vca"),
    ("actix-web/const", "actix-web", "/const", "static", "vca"),
    ("warp/adapter", "warp", "/adapter", "static", "vca"),
    ("warp/bare", "warp", "/bare", "static", "vca"),
    ("warp/const", "warp", "/const", "static", "vca"),
    ("hyper-floor", "hyper-floor", "/", "static", "vca"),
    ("fastapi", "fastapi", "/", "static", "vca"),
]
for _fw in ("axum", "actix-web", "warp"):
    ROWS += [
        (f"{_fw}/adapter-vss", _fw, "/adapter", "static", "vss"),
        (f"{_fw}/bare-vss", _fw, "/bare", "static", "vss"),
        (f"{_fw}/adapter-malformed", _fw, "/adapter", "static", "malformed"),
        (f"{_fw}/bare-malformed", _fw, "/bare", "static", "malformed"),
    ]
ROWS += [
    ("axum/idem-off-unique", "axum", "/adapter", "unique", "vca"),
    ("axum/idem-on-unique", "axum", "/adapter-idem", "unique", "vca"),
    ("axum/idem-on-duplicate", "axum", "/adapter-idem", "static", "vca"),
    ("sqlite/noop", "masking-sqlite", "/adapter", "static", "vca"),
    ("sqlite/masking", "masking-sqlite", "/masking", "static", "vca"),
    ("sqlite-cached/masking", "masking-sqlite-cached", "/masking", "static", "vca"),
    ("redis/noop", "masking-redis", "/adapter", "static", "vca"),
    ("redis/masking", "masking-redis", "/masking", "static", "vca"),
    ("redis-nocache/masking", "masking-redis-nocache", "/masking", "static", "vca"),
]

# The HTTP status every answer of a row must have, by body.
EXPECTED_STATUS = {"vca": 200, "vss": 200, "malformed": 400}

FRAMEWORKS = ["axum", "actix-web", "warp"]

# Ratios of req/s: (id, label, numerator row, denominator row, target minimum or None).
RATIOS = (
    [(f"{fw}:adapter/bare", f"{fw}: adapter / bare", f"{fw}/adapter", f"{fw}/bare", 0.97)
     for fw in FRAMEWORKS]
    + [("axum:adapter-nest/bare", "axum: adapter nested (.nest(path, router(..))) / bare",
        "axum/adapter-nest", "axum/bare", None)]
    + [(f"{fw}:adapter/floor", f"{fw} adapter / hyper floor", f"{fw}/adapter", "hyper-floor", 0.85)
       for fw in FRAMEWORKS]
    + [(f"{fw}:adapter/fastapi", f"{fw} adapter / FastAPI", f"{fw}/adapter", "fastapi", 10.0)
       for fw in FRAMEWORKS]
    + [(f"{fw}:adapter/bare:vss", f"{fw}: adapter / bare, 1.4 KB SESSION_SUMMARY",
        f"{fw}/adapter-vss", f"{fw}/bare-vss", None) for fw in FRAMEWORKS]
    + [(f"{fw}:adapter/bare:malformed", f"{fw}: adapter / bare, malformed body (400)",
        f"{fw}/adapter-malformed", f"{fw}/bare-malformed", None) for fw in FRAMEWORKS]
    + [(f"{fw}:bare/const", f"{fw}: bare / constant route (the JSON work)", f"{fw}/bare",
        f"{fw}/const", None) for fw in FRAMEWORKS]
    + [(f"{fw}:const/floor", f"{fw}: constant route / hyper floor (the framework)",
        f"{fw}/const", "hyper-floor", None) for fw in FRAMEWORKS]
    + [
        ("idem:first", "axum: duplicate detection on / off (unique eventIds)",
         "axum/idem-on-unique", "axum/idem-off-unique", None),
        ("idem:duplicate", "axum: every request a duplicate / detection off",
         "axum/idem-on-duplicate", "axum/adapter", None),
        # Targets of issue #18: SQLite >= 0.8, Redis >= 0.6 of the no-op.
        ("masking:sqlite", "axum: masking (SQLite, no cache) / no-op", "sqlite/masking",
         "sqlite/noop", 0.8),
        ("masking:sqlite-cached", "axum: masking (SQLite, CachedStore 1 s) / no-op",
         "sqlite-cached/masking", "sqlite/noop", 0.8),
        ("masking:redis", "axum: masking (Redis, CachedStore 1 s) / no-op", "redis/masking",
         "redis/noop", 0.6),
        ("masking:redis-nocache", "axum: masking (Redis, no cache) / no-op",
         "redis-nocache/masking", "redis/noop", 0.6),
    ]
)

# Latency pairs at a fixed rate: (id, A row, B row, target max of p99(A) - p99(B) in µs,
# fraction, keep-alive, rate from). The rate is `fraction` x the median req/s of B, the
# reference row (for adapter/bare: the bare route's, as the issue asks), or of the slower of
# the two rows ("lower": the masking handlers, which serve 0.4-0.7x the no-op's requests
# and would be overloaded at half the no-op's rate). Without keep-alive, every request opens
# a new connection (connection churn, as many webhook senders do); one core accepts about
# 29k new connections a second here, so churn runs at 0.1 x R (0.25 x R would be 80 % of
# that capacity: a queue, not a latency).
LATENCY_PAIRS = (
    [(fw, f"{fw}/adapter", f"{fw}/bare", 50.0, 0.5, True, "b") for fw in FRAMEWORKS]
    + [(f"{fw}@0.25", f"{fw}/adapter", f"{fw}/bare", None, 0.25, True, "b")
       for fw in FRAMEWORKS]
    + [(f"{fw}@0.1-churn", f"{fw}/adapter", f"{fw}/bare", None, 0.1, False, "b")
       for fw in FRAMEWORKS]
    + [("masking-sqlite", "sqlite/masking", "sqlite/noop", None, 0.5, True, "lower"),
       ("masking-redis", "redis/masking", "redis/noop", None, 0.5, True, "lower")]
)


# A run during which other processes took more than this fraction of the server CPU or of
# the load CPU (busy time not ours, plus hypervisor steal) is "contended".
CONTENDED = 0.10


def contended(rec):
    f = rec.get("foreign")
    return bool(f) and max(f.values()) > CONTENDED


def load(run_dir):
    run_dir = Path(run_dir)
    meta = json.loads((run_dir / "meta.json").read_text())
    raw = [json.loads(line) for line in (run_dir / "raw.jsonl").read_text().splitlines() if line]
    return meta, raw


def spread(values):
    """(median, min, max) of a non-empty list."""
    return statistics.median(values), min(values), max(values)


def latency_rate(raw, rows, fraction=0.5):
    """`fraction` (default half) of the lowest median req/s of `rows` (over uncontended
    runs if there are any), or None."""
    meds = []
    for row in rows:
        ms = [r for r in raw if r["phase"] == "throughput" and r["row"] == row and r["valid"]]
        quiet = [r for r in ms if not contended(r)]
        if not ms:
            return None
        meds.append(statistics.median(r["rps"] for r in (quiet or ms)))
    return fraction * min(meds)


def summarize(meta, raw):
    thr = [r for r in raw if r["phase"] == "throughput"]
    lat = [r for r in raw if r["phase"] == "latency"]
    by = {(r["row"], r["round"]): r for r in thr}
    rounds = sorted({r["round"] for r in thr})
    out = {"meta": meta, "rows": [], "ratios": [], "latency": [], "invalid": []}

    for r in raw:
        if r["phase"] in ("throughput", "latency") and not r["valid"]:
            out["invalid"].append(
                {k: r.get(k) for k in ("phase", "round", "row", "errors", "statuses")})

    for row, server, path, mode, body in ROWS:
        ms = [r for r in thr if r["row"] == row]
        good = [r["rps"] for r in ms if r["valid"]]
        if not ms:
            continue
        entry = {"row": row, "server": server, "path": path, "mode": mode, "body": body,
                 "n": len(good), "invalid": len(ms) - len(good)}
        entry["contended"] = sum(1 for r in ms if r["valid"] and contended(r))
        if good:
            entry["rps_median"], entry["rps_min"], entry["rps_max"] = spread(good)
            p99 = [r["lat_p99_us"] for r in ms if r["valid"]]
            entry["closed_loop_p99_us_median"] = statistics.median(p99)
            cpu = [r["cpu_us_per_req"] for r in ms if r["valid"] and r.get("cpu_us_per_req")]
            if cpu:
                entry["cpu_us_per_req_median"] = statistics.median(cpu)
        out["rows"].append(entry)

    for rid, label, num, den, target in RATIOS:
        per_round, cpu_round, quiet_round, skipped = [], [], [], 0
        for rd in rounds:
            a, b = by.get((num, rd)), by.get((den, rd))
            if a is None or b is None:
                continue
            if a["valid"] and b["valid"] and b["rps"] > 0:
                per_round.append(a["rps"] / b["rps"])
                if not contended(a) and not contended(b):
                    quiet_round.append(a["rps"] / b["rps"])
                if a.get("cpu_us_per_req") and b.get("cpu_us_per_req"):
                    # The same ratio from server CPU time per request (inverse): the
                    # cross-check that other processes on the machine barely move.
                    cpu_round.append(b["cpu_us_per_req"] / a["cpu_us_per_req"])
            else:
                skipped += 1
        if not per_round and not skipped:
            continue
        entry = {"id": rid, "label": label, "num": num, "den": den, "target_min": target,
                 "per_round": per_round, "cpu_per_round": cpu_round,
                 "quiet_per_round": quiet_round, "invalid_rounds": skipped}
        if quiet_round:
            entry["quiet_median"], entry["quiet_min"], entry["quiet_max"] = spread(quiet_round)
        if cpu_round:
            entry["cpu_median"], entry["cpu_min"], entry["cpu_max"] = spread(cpu_round)
        if per_round:
            entry["median"], entry["min"], entry["max"] = spread(per_round)
            # Judged on the uncontended rounds when there are any.
            judged = entry.get("quiet_median", entry["median"])
            entry["met"] = None if target is None else (judged >= target and not skipped)
        out["ratios"].append(entry)

    for pid, a_row, b_row, target, fraction, keepalive, _ in LATENCY_PAIRS:
        ms = [r for r in lat if r["pair"] == pid]
        if not ms:
            continue
        deltas, ratios, quiet, skipped = [], [], [], 0
        for rd in sorted({r["round"] for r in ms}):
            a = next((r for r in ms if r["round"] == rd and r["row"] == a_row), None)
            b = next((r for r in ms if r["round"] == rd and r["row"] == b_row), None)
            if a is None or b is None:
                continue
            if a["valid"] and b["valid"]:
                deltas.append(a["p99_us"] - b["p99_us"])
                if not contended(a) and not contended(b):
                    quiet.append(a["p99_us"] - b["p99_us"])
                ratios.append(a["p99_us"] / b["p99_us"] if b["p99_us"] else float("nan"))
            else:
                skipped += 1
        entry = {"id": pid, "a": a_row, "b": b_row, "tool": ms[0]["tool"],
                 "fraction": ms[0].get("fraction", fraction),
                 "keepalive": ms[0].get("keepalive", keepalive),
                 "rate": ms[0]["rate"], "target_max_delta_us": target,
                 "delta_p99_per_round": deltas, "quiet_delta_p99_per_round": quiet,
                 "contended_rounds": len(deltas) - len(quiet), "invalid_rounds": skipped}
        for side, row in (("a", a_row), ("b", b_row)):
            good = [r for r in ms if r["row"] == row and r["valid"]]
            if good:
                for q in ("p50_us", "p99_us", "p999_us", "achieved_rps"):
                    entry[f"{side}_{q}"] = statistics.median(r[q] for r in good)
        if deltas:
            entry["delta_p99_median"], entry["delta_p99_min"], entry["delta_p99_max"] = spread(deltas)
            entry["p99_ratio_median"] = statistics.median(ratios)
            # Judged on the uncontended rounds: a latency under someone else's compile says
            # nothing about the library.
            entry["met"] = None if target is None or not quiet else (
                statistics.median(quiet) <= target and not skipped)
        out["latency"].append(entry)
    return out


def _load(r):
    """`0.5×R`, `0.25×R churn`: the fixed rate of a latency pair and its connections."""
    return f"{r.get('fraction', 0.5):g}×R" + ("" if r.get("keepalive", True) else " churn")


def _verdict(met):
    return {True: "met", False: "MISSED", None: ""}[met]


def render_text(s):
    m = s["meta"]
    lines = [
        f"callflow loopback HTTP benchmark: {m['started_utc']}  git {m['git_sha'][:12]}"
        f"{' (dirty tree)' if m.get('git_dirty') else ''}  mode {m['mode']}",
        f"  {m['rounds']} interleaved rounds x {m['duration_s']} s (wrk -t1 -c{m['connections']}),"
        f" server on CPU {m['server_cpu']} (one worker), load on CPU {m['load_cpu']};"
        f" {m['cpu_model']}; {m['rustc']}",
        f"  load average at start/end: {m.get('loadavg_start')} / {m.get('loadavg_end')}"
        f"{'; nice ' + str(m['nice']) if m.get('nice') else ''}",
        "  CPU µs/req: server CPU time (all its threads; + redis-server for redis/*) per request.",
        "  CPU-time ratio: the same ratio from CPU µs/req, denominator / numerator per round: a",
        "  cross-check that other processes on the machine barely move.",
        "  Uncontended: rounds where, during both runs, other processes (and hypervisor steal)",
        f"  took at most {CONTENDED:.0%} of the server CPU and of the load CPU.",
        "",
        f"{'throughput (closed loop)':<28}{'median req/s':>14}{'min-max':>22}{'p99 µs':>9}"
        f"{'CPU µs/req':>12}",
    ]
    for r in s["rows"]:
        if "rps_median" in r:
            bad = f"  ({r['invalid']} invalid)" if r["invalid"] else ""
            bad += f"  ({r['contended']} contended)" if r.get("contended") else ""
            lines.append(f"{r['row']:<28}{r['rps_median']:>14,.0f}"
                         f"{r['rps_min']:>12,.0f} - {r['rps_max']:>7,.0f}"
                         f"{r['closed_loop_p99_us_median']:>9,.0f}"
                         f"{r.get('cpu_us_per_req_median', float('nan')):>12.2f}{bad}")
        else:
            lines.append(f"{r['row']:<28}{'INVALID':>14}  ({r['invalid']} invalid runs)")
    lines += ["", f"{'ratio of req/s, same round':<58}{'median':>8}{'min-max':>16}{'target':>9}"
              f"{'':>8}{'CPU-time ratio':>16}{'uncontended rounds':>26}"]
    for r in s["ratios"]:
        tgt = f">= {r['target_min']:g}" if r["target_min"] is not None else ""
        if "median" in r:
            bad = f"  ({r['invalid_rounds']} rounds invalid)" if r["invalid_rounds"] else ""
            cpu = f"{r['cpu_median']:.3f}" if "cpu_median" in r else ""
            quiet = (f"{len(r['quiet_per_round'])}: {r['quiet_median']:.3f} ({r['quiet_min']:.3f}-"
                     f"{r['quiet_max']:.3f})" if r.get("quiet_per_round") else "0")
            lines.append(f"{r['label']:<58}{r['median']:>8.3f}{r['min']:>9.3f} - {r['max']:<6.3f}"
                         f"{tgt:>8}  {_verdict(r['met']):<6}{cpu:>16}{quiet:>26}{bad}")
        else:
            lines.append(f"{r['label']:<58}{'INVALID':>8}{'':>16}{tgt:>9}")
    if s["latency"]:
        src = f" of run {m['rates_from']}" if m.get("rates_from") else ""
        lines += ["", f"latency at a fixed rate (a fraction R of B's median req/s, or of the slower"
                      f" row's for masking{src}; churn: a new connection per request), medians in µs",
                  f"{'pair (A vs B)':<38}{'load':<14}{'tool':<6}{'rate':>8}{'p50 A':>8}{'p50 B':>8}{'p99 A':>8}"
                  f"{'p99 B':>8}{'Δp99 median (min..max)':>27}{'target':>9}"]
        for r in s["latency"]:
            name = f"{r['a']} vs {r['b']}"
            load = _load(r)
            if "delta_p99_median" in r:
                tgt = f"<= {r['target_max_delta_us']:g}" if r["target_max_delta_us"] is not None else ""
                rng = (f"{r['delta_p99_median']:+.0f} ({r['delta_p99_min']:+.0f}.."
                       f"{r['delta_p99_max']:+.0f})")
                note = (f"  ({r['contended_rounds']} contended rounds; uncontended: "
                        f"{statistics.median(r['quiet_delta_p99_per_round']):+.0f})"
                        if r["contended_rounds"] and r["quiet_delta_p99_per_round"] else
                        f"  (all {r['contended_rounds']} rounds contended)" if r["contended_rounds"] else "")
                lines.append(f"{name:<38}{load:<14}{r['tool']:<6}{r['rate']:>8,.0f}{r['a_p50_us']:>8.0f}"
                             f"{r['b_p50_us']:>8.0f}{r['a_p99_us']:>8.0f}{r['b_p99_us']:>8.0f}"
                             f"{rng:>27}{tgt:>9}  {_verdict(r['met'])}{note}")
            else:
                lines.append(f"{name:<38}{load:<14}{r['tool']:<6}{r['rate']:>8,.0f}  INVALID")
    if s["invalid"]:
        lines += ["", "INVALID measurements (socket errors, or answers with another status than the row's):"]
        lines += [f"  {json.dumps(i)}" for i in s["invalid"]]
    return "\n".join(lines)


def render_markdown(s):
    m = s["meta"]
    md = [
        "| ratio of req/s (same round) | median | min–max | target | | CPU-time ratio |"
        " uncontended rounds: n, median (min–max) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in s["ratios"]:
        tgt = f"≥ {r['target_min']:g}" if r["target_min"] is not None else ""
        if "median" in r:
            cpu = f"{r['cpu_median']:.3f}" if "cpu_median" in r else ""
            quiet = (f"{len(r['quiet_per_round'])}: {r['quiet_median']:.3f} ({r['quiet_min']:.3f}–"
                     f"{r['quiet_max']:.3f})" if r.get("quiet_per_round") else "0")
            md.append(f"| {r['label']} | {r['median']:.3f} | {r['min']:.3f}–{r['max']:.3f} | {tgt} |"
                      f" {_verdict(r['met'])} | {cpu} | {quiet} |")
        else:
            md.append(f"| {r['label']} | invalid | | {tgt} | | | |")
    md += ["", "| row | median req/s | min–max | closed-loop p99 (µs) | server CPU µs/req |",
           "|---|---:|---:|---:|---:|"]
    for r in s["rows"]:
        if "rps_median" in r:
            md.append(f"| `{r['row']}` | {r['rps_median']:,.0f} | {r['rps_min']:,.0f}–{r['rps_max']:,.0f}"
                      f" | {r['closed_loop_p99_us_median']:,.0f} |"
                      f" {r.get('cpu_us_per_req_median', float('nan')):.2f} |")
    if s["latency"]:
        md += ["", "| A vs B at a fixed rate | load | tool | rate (req/s) | p50 A / B (µs) | p99 A / B (µs) |"
               " Δp99 median (min..max) | target | |", "|---|---|---|---:|---:|---:|---:|---:|---|"]
        for r in s["latency"]:
            if "delta_p99_median" not in r:
                continue
            tgt = f"≤ {r['target_max_delta_us']:g} µs" if r["target_max_delta_us"] is not None else ""
            tgt += f" ({r['contended_rounds']} of 5 rounds contended)" if r.get("contended_rounds") else ""
            md.append(f"| `{r['a']}` vs `{r['b']}` | {_load(r)} | {r['tool']} | {r['rate']:,.0f} | "
                      f"{r['a_p50_us']:.0f} / {r['b_p50_us']:.0f} | {r['a_p99_us']:.0f} / {r['b_p99_us']:.0f} | "
                      f"{r['delta_p99_median']:+.0f} µs ({r['delta_p99_min']:+.0f}..{r['delta_p99_max']:+.0f}) | "
                      f"{tgt} | {_verdict(r['met'])} |")
    if m.get("rates_from"):
        md += ["", f"Latency rates from the throughput results of run `{m['rates_from']}`."]
    md += ["", f"Run `{m['run_id']}`: {m['mode']}, {m['rounds']} rounds × {m['duration_s']} s, "
           f"git `{m['git_sha'][:12]}`{' (dirty tree)' if m.get('git_dirty') else ''}, {m['rustc']}."]
    return "\n".join(md)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: summarize.py RUN_DIR")
    run_dir = Path(argv[1])
    s = summarize(*load(run_dir))
    (run_dir / "summary.json").write_text(json.dumps(s, indent=1))
    (run_dir / "summary.md").write_text(render_markdown(s) + "\n")
    text = render_text(s)
    (run_dir / "summary.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main(sys.argv)
