#!/usr/bin/env bash
# Loopback HTTP benchmark of the callflow adapters (GitHub issue #9; method and figures in
# BENCHMARKS.md).
#
#   scripts/bench-http.sh --quick   # smoke run, 3 rounds x 1 s: under 3 min once bench-server is built
#   scripts/bench-http.sh           # full run: 5 rounds x 10 s + latency; ~45 min
#   scripts/bench-http.sh --help    # every option (rounds, durations, --no-fastapi, ...)
#
# Per framework (axum, actix-web, warp) one bench-server process serves our adapter
# (/adapter) and a hand-written route in the same framework (/bare); next to them a hyper
# constant-response server (the floor), a FastAPI receiver under uvicorn, and the masking
# handler over SQLite and over Redis. Every server is pinned to CPU 0 with one worker, the
# load (wrk, oha) to CPU 1; runs are interleaved round by round and reported as same-round
# ratios (median, min-max). Raw results, summary and chart: $TARGET/perf/<date>-<sha>/.
#
# Installs what it lacks: wrk (apt-get), fastapi + uvicorn + matplotlib (pip, into a venv
# at $TARGET/bench-venv). Uses redis-server if installed (else skips the Redis rows) and
# oha if on PATH (open-loop latency; else wrk paced by a delay). $TARGET is cargo's target
# directory (CARGO_TARGET_DIR if set, else ./target); bench-server is built there with
# `cargo build --release` (the first build takes several minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in scripts/bench

source scripts/bench/common.sh
if bench_help "$0" "$@"; then exec python3 scripts/bench/run.py --help; fi

bench_install wrk
command -v taskset >/dev/null || echo "-- taskset not found (util-linux): nothing will be pinned"

target_dir=$(bench_target_dir)

venv="$target_dir/bench-venv"
if ! "$venv/bin/python" -c 'import fastapi, uvicorn, matplotlib' 2>/dev/null; then
    echo "== installing fastapi, uvicorn and matplotlib into $venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/bench/requirements.txt
fi

echo "== cargo build --release -p bench-server"
cargo build --release -p bench-server

exec "$venv/bin/python" scripts/bench/run.py \
    --server "$target_dir/release/bench-server" \
    --python "$venv/bin/python" \
    --target-dir "$target_dir" "$@"
