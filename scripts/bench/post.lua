-- wrk script of scripts/bench-http.sh: POSTs a JSON body and prints one result line.
--
--   BENCH_BODY=body.json [BENCH_MODE=static|unique|paced] [BENCH_DELAY_MS=1] \
--     wrk -t1 -c32 -d10s -s scripts/bench/post.lua http://127.0.0.1:PORT/adapter
--
-- Modes (read from the environment: wrk decides whether a script is "dynamic" when it
-- loads it, before any argument reaches init()):
--   static  the same bytes on every request; wrk builds the request once, no Lua per request.
--   unique  a fresh eventId on every request (the last 12 hex digits of the body's eventId
--           become a per-thread counter; the length never changes), so duplicate detection
--           sees a first delivery every time. Costs wrk a little Lua per request: compare
--           unique rows only with unique rows.
--   paced   static body, and each connection waits BENCH_DELAY_MS after each response
--           (wrk's delay()): an approximate fixed load when oha is not installed.
--
-- done() prints `BENCH_JSON {...}`: request count, duration, socket errors, non-2xx/3xx
-- count ("status_errors") and latency percentiles in microseconds.

local body_file = os.getenv("BENCH_BODY") or error("BENCH_BODY is not set")
local mode = os.getenv("BENCH_MODE") or "static"

local f = assert(io.open(body_file, "rb"))
local body = f:read("*a"):gsub("%s+$", "")
f:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

if mode == "unique" then
  -- Everything before and after the last 12 hex digits of the eventId.
  local before, after = body:match('^(.-"eventId"%s*:%s*"[^"]-)%x%x%x%x%x%x%x%x%x%x%x%x(".*)$')
  assert(before, "the body has no eventId ending in 12 hex digits")

  local threads = 0
  function setup(thread)
    thread:set("tid", threads)
    threads = threads + 1
  end

  local head, n
  function init(args)
    local full = wrk.format(nil, nil, nil, body)
    head = full:sub(1, #full - #body)
    n = 0
  end

  function request()
    n = n + 1
    return head .. before .. string.format("%02x%010x", tid or 0, n) .. after
  end
elseif mode == "paced" then
  local ms = tonumber(os.getenv("BENCH_DELAY_MS") or "1")
  function delay()
    return ms
  end
elseif mode ~= "static" then
  error("unknown BENCH_MODE " .. mode)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,"lat_p99_us":%d,' ..
    '"lat_p999_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
