#!/usr/bin/env bash
# Scale rows of the masking benchmark (GitHub issue #18; method and figures in
# BENCHMARKS.md, "Scale").
#
#   scripts/bench-scale.sh                    # everything, ~15 min after the build
#   scripts/bench-scale.sh --skip memory      # phases to skip: throughput,instr,memory,redis
#   scripts/bench-scale.sh --rounds 5 --duration 10
#   scripts/bench-scale.sh --nice -10             # as root, on a machine shared with other work
#
# Creates 1,000 and 1,000,000 bindings over 1,000 virtual numbers in SQLite (Python's
# sqlite3, one transaction) and in Redis (redis-cli --pipe, a redis-server of its own on a
# free loopback port; Redis rows skipped without redis-server), then measures the masking
# route of bench-server at both sizes: throughput (wrk, server on CPU 0, load on CPU 1,
# interleaved rounds, ratios within a round) and instructions per request (callgrind, as
# scripts/bench-instr.sh counts them). Last, the resident memory (VmRSS from /proc) of
# `number-masking serve` with 10,000 idle keep-alive connections on 127.0.0.1 (the
# open-file limit is raised for the run; needs a hard limit of at least 10,512).
# Needs wrk and valgrind (apt-get installs them when missing). Output: the tables on stdout
# and in $TARGET/perf/scale-<date>-<sha>/scale.md, with scale.json and the callgrind files;
# the data files (about 400 MB for SQLite's million) are deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench/common.sh
if bench_help "$0" "$@"; then exit 0; fi

bench_install wrk valgrind

target_dir=$(bench_target_dir)

echo "== cargo build --release -p bench-server -p number-masking"
cargo build --release -p bench-server -p number-masking

# 10,000 client sockets in the driver, 10,000 accepted ones in the server.
ulimit -n "$(ulimit -Hn)"

out="$target_dir/perf/scale-$(date -u +%Y%m%d-%H%M%S)-$(git rev-parse --short HEAD)"
echo "== results in $out"
status=0
timeout 3600 python3 scripts/bench/scale.py --server "$target_dir/release/bench-server" \
    --number-masking "$target_dir/release/number-masking" --out "$out" "$@" || status=$?
rm -f "$out"/bindings-*.db* "$out"/serve.db* "$out"/redis/*.rdb
exit $status
