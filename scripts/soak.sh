#!/usr/bin/env bash
# Soak test: the number-masking service under a fixed-rate load on 127.0.0.1, with its memory
# watched.
#
#   scripts/soak.sh [--duration SECS] [--rate RPS] [--framework axum|actix-web|warp]
#                   [--warmup SECS] [--connections N]
#
# Defaults (also from the environment): SOAK_DURATION=300 (5 minutes), SOAK_RATE=200
# requests/s, SOAK_FRAMEWORK=axum, SOAK_WARMUP=60 s, SOAK_CONNECTIONS=8, SOAK_MAX_GROWTH=10 (%),
# SOAK_FILL=110000 (0 skips the fill).
#
# It builds number-masking (release), binds the demo numbers in a temporary SQLite file,
# starts `number-masking serve --listen 127.0.0.1:0` with an auth header, and drives it with
# wrk and scripts/soak.lua:
#   1. fill: SOAK_FILL valid events with new eventIds, as fast as the service answers. The
#      core's in-memory idempotency store keeps the answer of every new event for 24 h, up to
#      100,000 events (then the oldest go): memory that grows by design until the store is
#      full (about 50 MB), which at 120 new events/s would take the first 14 minutes. The
#      fill brings the service to that steady state first, so that growth after it is a leak.
#   2. the measured run: SOAK_DURATION seconds at SOAK_RATE, a mix of valid, duplicate and
#      malformed CALL_ACTION deliveries, each checked for its expected status (200 with a
#      bridge, 200 with the same bridge, 400 invalid_json).
# The server's RSS is read from /proc every 10 s of the measured run. It fails (exit 1) when
#   - any response has an unexpected status or body, or wrk saw a socket error;
#   - the RSS after the warm-up grows by more than SOAK_MAX_GROWTH % over its value at the end
#     of the warm-up (largest later sample against the first sample at or after the warm-up);
#   - the server does not stop within 15 s of SIGTERM.
# Needs wrk (`apt-get install wrk`). Load goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${SOAK_DURATION:-300}"
rate="${SOAK_RATE:-200}"
framework="${SOAK_FRAMEWORK:-axum}"
warmup="${SOAK_WARMUP:-60}"
connections="${SOAK_CONNECTIONS:-8}"
max_growth="${SOAK_MAX_GROWTH:-10}"
fill="${SOAK_FILL:-110000}"
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --framework) framework="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --fill) fill="$2"; shift 2 ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ "$warmup" -ge "$duration" ]; then
    warmup=$((duration / 5))
fi
if ! command -v wrk >/dev/null; then
    echo "soak: wrk is needed (apt-get install wrk)" >&2
    exit 2
fi

echo "== building number-masking (release)"
cargo build --release --quiet -p number-masking
bin="${CARGO_TARGET_DIR:-target}/release/number-masking"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

db="$tmp/soak.db"
auth="Bearer soak-secret"
"$bin" --db "$db" bind --virtual-number +6568880000 --party +6591110001 --party +6592220002 >/dev/null

"$bin" --db "$db" serve --listen 127.0.0.1:0 --framework "$framework" --auth-header "$auth" \
    >"$tmp/stdout" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
    if [ -s "$tmp/stdout" ]; then break; fi
    sleep 0.1
done
addr="$(head -n1 "$tmp/stdout" | sed -n 's|^listening on http://\([^ ]*\) .*|\1|p')"
case "$addr" in
    127.0.0.1:*) ;;
    *) echo "soak: the server did not report a 127.0.0.1 address: $(head -n1 "$tmp/stdout")" >&2; exit 1 ;;
esac
url="http://$addr/webhooks/voice"
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }

if [ "$fill" -gt 0 ]; then
    # wrk stops sending after $fill answers but runs out its duration: give it time for
    # 2,000 answers a second (the service does several times that on this kind of machine).
    fill_seconds=$((fill / 2000 + 5))
    echo "== fill: $fill new events to $url ($framework, pid $server_pid) within ${fill_seconds}s, RSS $(rss_kib) KiB"
    SOAK_MODE=fill SOAK_FILL="$fill" SOAK_CONNECTIONS="$connections" SOAK_AUTH="$auth" SOAK_RUN="fill$$" \
        wrk -t1 -c"$connections" -d"${fill_seconds}s" --timeout 5s -s scripts/soak.lua "$url" >"$tmp/fill.out" 2>&1 \
        || { echo "soak: the fill failed" >&2; cat "$tmp/fill.out" >&2; exit 1; }
    fill_result="$(grep '^soak-result ' "$tmp/fill.out" || true)"
    echo "   $fill_result"
    echo "   $(grep 'Requests/sec' "$tmp/fill.out"), RSS $(rss_kib) KiB"
    case "$fill_result" in
        *" unexpected=0 connect_errors=0 read_errors=0 write_errors=0 timeouts=0 "*) ;;
        *) echo "soak: FAIL: unexpected answers during the fill" >&2; exit 1 ;;
    esac
    filled=$(echo "$fill_result" | tr ' ' '\n' | sed -n 's/^got_200=//p')
    if [ "${filled:-0}" -lt "$fill" ]; then
        echo "soak: FAIL: only ${filled:-0} of $fill fill events answered in ${fill_seconds}s" >&2
        exit 1
    fi
fi

echo "== soaking $url ($framework, pid $server_pid) for ${duration}s at ${rate} req/s; warm-up ${warmup}s"

SOAK_RATE="$rate" SOAK_CONNECTIONS="$connections" SOAK_AUTH="$auth" SOAK_RUN="$$" \
    wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s --latency -s scripts/soak.lua "$url" \
    >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!

samples="$tmp/rss.tsv"
start=$(date +%s)
printf 't_s\trss_kib\n' >"$samples"
while kill -0 "$wrk_pid" 2>/dev/null; do
    t=$(( $(date +%s) - start ))
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "soak: the server died" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    r=$(rss_kib)
    printf '%s\t%s\n' "$t" "$r" >>"$samples"
    echo "   t=${t}s rss=${r} KiB"
    for _ in $(seq 1 10); do
        kill -0 "$wrk_pid" 2>/dev/null || break
        sleep 1
    done
done
wait "$wrk_pid" || { echo "soak: wrk failed" >&2; cat "$tmp/wrk.out" >&2; exit 1; }
printf '%s\t%s\n' "$(( $(date +%s) - start ))" "$(rss_kib)" >>"$samples"

echo "== wrk"
cat "$tmp/wrk.out"

fail=0
result="$(grep '^soak-result ' "$tmp/wrk.out" || true)"
if [ -z "$result" ]; then
    echo "soak: FAIL: no result line from wrk" >&2
    exit 1
fi
val() { echo "$result" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
unexpected=$(val unexpected)
socket_errors=$(( $(val connect_errors) + $(val read_errors) + $(val write_errors) + $(val timeouts) ))
sent=$(( $(val sent_valid) + $(val sent_duplicate) + $(val sent_malformed) ))
answered=$(( $(val got_200) + $(val got_400) + unexpected ))
if [ "$unexpected" -ne 0 ]; then
    echo "soak: FAIL: $unexpected unexpected responses ($(grep '^soak-first-unexpected' "$tmp/wrk.out"))"
    fail=1
fi
if [ "$socket_errors" -ne 0 ]; then
    echo "soak: FAIL: $socket_errors socket errors"
    fail=1
fi
missing_400=$(( $(val sent_malformed) - $(val got_400) ))
if [ "$missing_400" -lt 0 ] || [ "$missing_400" -gt "$connections" ]; then
    echo "soak: FAIL: $(val sent_malformed) malformed sent but $(val got_400) answered 400"
    fail=1
fi

# Memory: the first sample at or after the warm-up is the baseline; the largest later one
# may exceed it by at most max_growth %.
read -r base peak last n_after < <(awk -v w="$warmup" 'NR > 1 && $1 >= w {
        if (base == "") base = $2; if ($2 > peak) peak = $2; last = $2; n++ }
    END { print base, peak, last, n }' "$samples")
if [ -z "$base" ] || [ "${n_after:-0}" -lt 2 ]; then
    echo "soak: FAIL: too few RSS samples after the warm-up"
    fail=1
else
    growth=$(awk -v b="$base" -v p="$peak" 'BEGIN { printf "%.1f", (p - b) * 100 / b }')
    first=$(awk 'NR == 2 {print $2}' "$samples")
    echo "== RSS (KiB): start ${first}, after warm-up ${base}, peak after warm-up ${peak}, end ${last}: growth ${growth} % (limit ${max_growth} %)"
    if awk -v g="$growth" -v m="$max_growth" 'BEGIN { exit !(g > m) }'; then
        echo "soak: FAIL: memory grew by ${growth} % after the warm-up"
        fail=1
    fi
fi
echo "== samples"
column -t "$samples" 2>/dev/null || cat "$samples"

kill -TERM "$server_pid"
for _ in $(seq 1 150); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "soak: FAIL: the server did not stop within 15 s of SIGTERM"
    fail=1
else
    wait "$server_pid" || true
fi
server_pid=""

echo "== result: ${sent} requests sent, ${answered} answered (200: $(val got_200), 400: $(val got_400), unexpected: ${unexpected}), socket errors ${socket_errors}, p50 $(val p50_us) us, p99 $(val p99_us) us"
if [ "$fail" -ne 0 ]; then
    echo "soak: FAILED"
    exit 1
fi
echo "soak: passed"
