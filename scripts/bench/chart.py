#!/usr/bin/env python3
"""Draws the ratio chart of one scripts/bench-http.sh run (needs matplotlib).

    python3 scripts/bench/chart.py RUN_DIR [OUT.png [LATENCY_RUN_DIR]]

reads RUN_DIR/meta.json and RUN_DIR/raw.jsonl (through summarize.py) and writes
RUN_DIR/ratios.png, or OUT.png: every req/s ratio as its median with the min-max over the
rounds and its target, and the p99 difference at the fixed rate of each adapter/bare pair
(from LATENCY_RUN_DIR if given: a `--latency-only` run that redid the latency phase).
"""

import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import summarize  # noqa: E402


def bars(ax, entries, title, xlabel, log=False, fmt="{:.3g}"):
    """Horizontal bars: median, min-max whisker, target tick."""
    entries = [e for e in entries if e.get("median") is not None]
    labels = [e["label"] for e in entries][::-1]
    meds = [e["median"] for e in entries][::-1]
    lo = [e["median"] - e["min"] for e in entries][::-1]
    hi = [e["max"] - e["median"] for e in entries][::-1]
    colors = []
    for e in entries[::-1]:
        met = e.get("met")
        colors.append("#4c9f70" if met else "#d1495b" if met is False else "#8da0cb")
    y = range(len(entries))
    ax.barh(y, meds, xerr=[lo, hi], color=colors, capsize=3)
    cpu = [(i, e["cpu"]) for i, e in enumerate(entries[::-1]) if e.get("cpu") is not None]
    if cpu:
        ax.scatter([c for _, c in cpu], [i for i, _ in cpu], marker="D", s=14, color="black",
                   zorder=3, label="CPU-time ratio (median)")
        ax.legend(fontsize=7, loc="lower right")
    for i, e in enumerate(entries[::-1]):
        if e.get("target") is not None:
            ax.plot([e["target"]] * 2, [i - 0.4, i + 0.4], color="black", lw=2)
        ax.annotate(fmt.format(e["median"]), (max(e["max"], e["median"]), i), xytext=(5, -3),
                    textcoords="offset points", fontsize=8)
    ax.set_yticks(list(y))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    if log:
        ax.set_xscale("log")
    ax.grid(axis="x", alpha=0.3)


def main(argv):
    if len(argv) not in (2, 3, 4):
        sys.exit("usage: chart.py RUN_DIR [OUT.png [LATENCY_RUN_DIR]]")
    run_dir = Path(argv[1])
    dest = Path(argv[2]) if len(argv) == 3 else run_dir / "ratios.png"
    s = summarize.summarize(*summarize.load(run_dir))
    near = []  # ratios around 1
    far = []  # adapter / FastAPI
    for r in s["ratios"]:
        # Uncontended rounds when there are any (see summarize.py), else every round.
        q = "quiet_" if r.get("quiet_per_round") else ""
        e = {"label": r["label"], "median": r.get(f"{q}median"), "min": r.get(f"{q}min"),
             "max": r.get(f"{q}max"), "target": r["target_min"], "met": r.get("met"),
             "cpu": r.get("cpu_median")}
        (far if r["id"].endswith("/fastapi") else near).append(e)
    lat_s = summarize.summarize(*summarize.load(argv[3])) if len(argv) == 4 else s
    lat = []
    for r in lat_s["latency"]:
        d = r.get("quiet_delta_p99_per_round") or r.get("delta_p99_per_round")
        if r["target_max_delta_us"] is not None and d:
            lat.append({"label": f"{r['a']} − {r['b']}", "median": statistics.median(d),
                        "min": min(d), "max": max(d), "target": r["target_max_delta_us"],
                        "met": r.get("met")})

    heights = [max(len(near), 1) * 0.35 + 1, max(len(far), 1) * 0.35 + 1,
               max(len(lat), 1) * 0.35 + 1]
    fig, axes = plt.subplots(3, 1, figsize=(9, sum(heights) + 1),
                             gridspec_kw={"height_ratios": heights})
    bars(axes[0], near, "req/s ratios, same run, uncontended rounds (bar: median; whisker: "
         "min–max; | target)", "ratio")
    axes[0].axvline(1.0, color="grey", lw=0.8, ls="--")
    bars(axes[1], far, "our adapter vs a FastAPI receiver (uvicorn, 1 worker)", "ratio")
    if lat:
        tool = lat_s["latency"][0]["tool"]
        rate_note = "open loop, latency-corrected" if tool == "oha" else "wrk paced, approximate"
        src = f", run {lat_s['meta']['run_id']}" if len(argv) == 4 else ""
        frac = next((r.get("fraction", 0.5) for r in lat_s["latency"]
                     if r["target_max_delta_us"] is not None), 0.5)
        bars(axes[2], lat, f"p99 adapter − bare at {frac:g} × the bare route's req/s, uncontended rounds"
             f"\n({tool}: {rate_note}{src})",
             "µs", fmt="{:+.0f} µs")
        axes[2].axvline(0.0, color="grey", lw=0.8)
    else:
        axes[2].set_visible(False)
    m = s["meta"]
    fig.suptitle(f"callflow loopback HTTP benchmark, run {m['run_id']} ({m['mode']}: "
                 f"{m['rounds']} rounds × {m['duration_s']} s)\n{m['cpu_model']}, "
                 f"{m['cpus']} CPUs; {m['rustc']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(dest, dpi=110)
    print(f"-- chart: {dest}")


if __name__ == "__main__":
    main(sys.argv)
