#!/usr/bin/env bash
# Instructions per request of every bench-server route, counted by callgrind (GitHub issue
# #18; method and figures in BENCHMARKS.md, "Instructions per request").
#
#   scripts/bench-instr.sh                  # every route, N = 2000, 3 rounds: ~15 min
#   scripts/bench-instr.sh -n 500 --rounds 1  # a quick look (~3 min)
#   scripts/bench-instr.sh --only axum      # routes whose label contains "axum"
#
# Each route is served by bench-server under `valgrind --tool=callgrind` twice: answering
# 50 + N and 50 + 2N keep-alive POSTs of the CALL_ACTION fixture (vca_nm_inbound.json,
# 737 bytes), on one connection to 127.0.0.1; (Ir(2N) - Ir(N)) / N is one request,
# start-up and shutdown subtracted. Counts do not depend on the machine's load (they move
# by about 1.5 % between runs: 3 interleaved rounds, median and min-max). The
# /masking over Redis row starts its own redis-server on a free loopback port (skipped if
# redis-server is not installed).
# Installs valgrind (apt-get) if missing. Every valgrind run is bounded (timeout 600 s).
# Output: the table on stdout and in $TARGET/perf/instr-<date>-<sha>/instr.md, with the
# callgrind files (read them with callgrind_annotate). $TARGET is cargo's target directory.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench/common.sh
if bench_help "$0" "$@"; then exit 0; fi

bench_install valgrind

target_dir=$(bench_target_dir)

echo "== cargo build --release -p bench-server"
cargo build --release -p bench-server

out="$target_dir/perf/instr-$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD)"
echo "== counting (callgrind files in $out)"
exec timeout 3600 python3 scripts/bench/instr.py \
    --server "$target_dir/release/bench-server" --out "$out" "$@"
