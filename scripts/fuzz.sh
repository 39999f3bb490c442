#!/usr/bin/env bash
# Fuzzes `Webhook::dispatch` (target `dispatch` in fuzz/) for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]        # default 600 (10 minutes); FUZZ_SECONDS works too
#
# Seeds: every fixture of crates/callflow/tests/fixtures, each prefixed with the selector
# byte 0 (an authorised JSON POST; see fuzz/fuzz_targets/dispatch.rs), plus the corpus kept
# from earlier runs in fuzz/corpus/dispatch (not in git). A crash or a failed assertion stops
# the run with a non-zero exit and leaves the input in fuzz/artifacts/dispatch/.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`, installed here when missing). libFuzzer and
# the address sanitizer need nightly flags; on a stable toolchain the script sets
# RUSTC_BOOTSTRAP=1 for this build only. FUZZ_SANITIZER=none skips the sanitizer (faster).
# The last lines print the executions count and the duration (libFuzzer's own summary).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-600}}"
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

corpus=fuzz/corpus/dispatch
seeds=fuzz/target/seeds
mkdir -p "$corpus" "$seeds"
for f in crates/callflow/tests/fixtures/*.json; do
    { printf '\0'; cat "$f"; } > "$seeds/$(basename "$f" .json)"
done

echo "== building the fuzz target (sanitizer: $sanitizer)"
(cd fuzz && cargo fuzz build --sanitizer "$sanitizer" dispatch)

echo "== fuzzing dispatch for ${seconds}s"
log=fuzz/target/fuzz-dispatch.log
start=$(date +%s)
set +e
(cd fuzz && cargo fuzz run --sanitizer "$sanitizer" dispatch \
    "corpus/dispatch" "target/seeds" -- \
    -max_total_time="$seconds" -print_final_stats=1 \
    -rss_limit_mb=2048 -timeout=10) 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
end=$(date +%s)

execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
echo "== result: exit $status, ${execs} executions in $((end - start))s (corpus: $(ls "$corpus" | wc -l) inputs)"
exit "$status"
