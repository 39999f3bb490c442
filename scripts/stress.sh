#!/usr/bin/env bash
# Stress: the full-size connection attacks of issue 13 against the release
# `number-masking serve` on each framework, over 127.0.0.1 only; stops by itself.
#
#   scripts/stress.sh [--quick] [--duration SECS] [--framework axum|actix-web|warp]...
#                     [--scenario trickle|idle]...
#
#   1. trickle: 2,100 connections, each a `POST /webhooks/voice` with a wrong
#      `Authorization` and `Transfer-Encoding: chunked`, then a 1-byte chunk every 5 s (a
#      connection the server closes is reopened at its slot's next tick).
#   2. idle: 2,000 connections that never send a byte, reopened as the server closes them.
# Meanwhile an authorised client posts a CALL_ACTION from a bound caller every 100 ms, each
# on a new connection with a 12 s timeout, for the duration (default 60 s, after a 5 s ramp
# in which the attackers connect). Per framework and scenario it prints the client's
# success rate (200 with the bridge), p50, p99 and max latency over every request (a failed
# one counted at the time it failed), the request count, and the server's peak descriptor
# count (/proc/PID/fd), next to the targets: 100 % answered, p99 <= 1 s.
#
# --quick: 10 s per scenario and 500/400 attackers (a smoke run). Each scenario gets a fresh
# server (temporary SQLite file, `--auth-header`, a free loopback port), stopped with SIGTERM
# (SIGKILL after 15 s); a trap stops everything on exit. Exit 0 when every run met the
# targets, 1 otherwise, 2 on a usage or setup error. Environment: STRESS_DURATION,
# STRESS_TRICKLE, STRESS_IDLE (attacker counts).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${STRESS_DURATION:-60}"
trickle_attackers="${STRESS_TRICKLE:-2100}"
idle_attackers="${STRESS_IDLE:-2000}"
frameworks=()
scenarios=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) duration=10; trickle_attackers=500; idle_attackers=400; shift ;;
        --duration) duration="$2"; shift 2 ;;
        --framework) frameworks+=("$2"); shift 2 ;;
        --scenario) scenarios+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "stress: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ ${#frameworks[@]} -gt 0 ] || frameworks=(axum actix-web warp)
[ ${#scenarios[@]} -gt 0 ] || scenarios=(trickle idle)

echo "== building number-masking and stress (release)"
cargo build --release --quiet -p number-masking -p stress
target="${CARGO_TARGET_DIR:-target}/release"
server_bin="$target/number-masking"
stress_bin="$target/stress"

tmp="$(mktemp -d)"
server_pid=""
stress_pid=""
# Waits up to $2 seconds for process $1 to end; kills it (SIGKILL) past that, saying $3.
wait_or_kill() {
    for _ in $(seq 1 $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "   $3: killed" >&2
        kill -KILL "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait_or_kill "$server_pid" 15 "the server did not stop within 15 s of SIGTERM"
    fi
    server_pid=""
}
cleanup() {
    if [ -n "$stress_pid" ] && kill -0 "$stress_pid" 2>/dev/null; then
        kill -KILL "$stress_pid" 2>/dev/null || true
    fi
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

auth="Bearer stress-secret"
# The bound pair of the test kit's CALL_ACTION (callflow::testing::CALLER/CALLEE).
vn="+6568880000"
caller="+6591110001"
callee="+6592220002"

runs=0
start_server() { # framework
    local db="$tmp/$1.db"
    rm -f "$db" "$db-wal" "$db-shm"
    runs=$((runs + 1))
    # A file of its own per server: the previous one's address is never read by mistake.
    out="$tmp/stdout-$runs"
    log="$tmp/server-$runs.log"
    "$server_bin" --db "$db" bind --virtual-number "$vn" --party "$caller" --party "$callee" \
        --ttl 2h >/dev/null
    "$server_bin" --db "$db" serve --listen 127.0.0.1:0 --framework "$1" --auth-header "$auth" \
        >"$out" 2>"$log" &
    server_pid=$!
    addr=""
    for _ in $(seq 1 300); do
        addr="$(head -n1 "$out" | sed -n 's|^listening on http://\([^ ]*\) .*|\1|p')"
        if [ -n "$addr" ] || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    case "$addr" in
        127.0.0.1:*) ;;
        *) echo "stress: the server did not report a 127.0.0.1 address within 30 s: $(head -n1 "$out")" >&2
           tail -n 20 "$log" >&2
           exit 2 ;;
    esac
}

results="$tmp/results"
: >"$results"
for framework in "${frameworks[@]}"; do
    for scenario in "${scenarios[@]}"; do
        case "$scenario" in
            trickle) attackers="$trickle_attackers" ;;
            idle) attackers="$idle_attackers" ;;
            *) echo "stress: unknown scenario: $scenario" >&2; exit 2 ;;
        esac
        start_server "$framework"
        echo "== $framework / $scenario: $attackers attackers, client every 100 ms for ${duration}s against $addr (pid $server_pid)"
        "$stress_bin" --addr "$addr" --scenario "$scenario" --attackers "$attackers" \
            --auth "$auth" --duration "$duration" --interval-ms 100 --timeout 12 \
            --server-pid "$server_pid" --label "$framework" >"$tmp/stress.out" &
        stress_pid=$!
        # Bounded: ramp 5 s + duration + the last requests' 12 s timeout + slack.
        limit=$((duration + 40))
        wait_or_kill "$stress_pid" "$limit" "the load generator overran ${limit}s"
        stress_pid=""
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "   the server died; its log:" >&2
            tail -n 20 "$log" >&2
        fi
        stop_server
        line="$(grep '^stress-result ' "$tmp/stress.out" || echo "stress-result label=$framework scenario=$scenario missing=1")"
        echo "   $line"
        echo "$line" >>"$results"
    done
done

val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
echo
echo "== summary (targets: 100 % answered, p99 <= 1000 ms)"
printf '%-10s %-8s %9s %8s %8s %8s %8s %9s %s\n' framework scenario attackers requests success p50_ms p99_ms fd_peak verdict
fail=0
while read -r line; do
    success="$(val "$line" success_pct)"
    p99="$(val "$line" p99_ms)"
    verdict=met
    if [ "$(val "$line" ok)" != "$(val "$line" sent)" ] || [ "$(val "$line" sent)" = "0" ] \
        || [ -z "$p99" ] || ! awk -v p="$p99" 'BEGIN { exit !(p + 0 <= 1000) }'; then
        verdict=MISSED
        fail=1
    fi
    printf '%-10s %-8s %9s %8s %7s%% %8s %8s %9s %s\n' "$(val "$line" label)" "$(val "$line" scenario)" \
        "$(val "$line" attackers)" "$(val "$line" sent)" "${success:--}" "$(val "$line" p50_ms)" \
        "${p99:--}" "$(val "$line" fd_peak)" "$verdict"
done <"$results"
exit "$fail"
