-- wrk script for scripts/soak.sh: a fixed-rate mix of CALL_ACTION deliveries to the
-- number-masking webhook, with the status each must get.
--
--   valid      (60 %)  a new eventId from a bound party: 200 + a makeCall bridge
--   duplicate  (25 %)  one of a few eventIds delivered again and again: 200 + the same bridge
--   malformed  (15 %)  a truncated, a comma-broken or a non-JSON body: 400 + the core's error
--
-- Environment: SOAK_RATE (requests per second for the whole run, default 200), SOAK_AUTH
-- (the auth header value), SOAK_CONNECTIONS (must equal wrk's -c). Every response is checked
-- in `response`; `done` prints one "soak-result" line that soak.sh parses.
--
-- With SOAK_MODE=fill, every request is a valid event with a new eventId, sent as fast as
-- possible, and the run stops after SOAK_FILL answers: soak.sh uses it to fill the service's
-- bounded idempotency store before the measured run.

local rate = tonumber(os.getenv("SOAK_RATE") or "200")
local conns = tonumber(os.getenv("SOAK_CONNECTIONS") or "8")
local auth = os.getenv("SOAK_AUTH") or "Bearer soak-secret"
local run = os.getenv("SOAK_RUN") or tostring(os.time())
local fill = os.getenv("SOAK_MODE") == "fill"
local fill_count = tonumber(os.getenv("SOAK_FILL") or "0")

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function call_action(event_id, session)
   return '{"namespace":"VOICE","eventType":"CALL_ACTION","description":"Action request of a call",'
      .. '"payload":{"eventId":"' .. event_id .. '","callId":"call-' .. session .. '",'
      .. '"sessionId":"session-' .. session .. '","subAccountId":"soak",'
      .. '"callStatus":"CALL_RECEIVED","callDirection":"INBOUND","callType":"PSTN",'
      .. '"source":"+6591110001","destination":"+6568880000","sourceFormat":"MSISDN",'
      .. '"destinationFormat":"MSISDN","sourceCountryCode":"SG","destinationCountryCode":"SG",'
      .. '"callDuration":0,"sipCode":200,"timestamp":"2024-05-16T04:12:11.217Z"}}'
end

local malformed = {
   '{"namespace":"VOICE","eventType":"CALL_ACTION","payload":{"eventId":"x"',
   '{"namespace":"VOICE","eventType":"CALL_ACTION",}',
   'eventType=CALL_ACTION&source=%2B6591110001',
}

function init(args)
   n = 0
   sent = { valid = 0, duplicate = 0, malformed = 0 }
   got = { ok = 0, bad_request = 0, unexpected = 0 }
   first_unexpected = ""
   headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = auth,
   }
end

function delay()
   if fill then
      return 0
   end
   -- Each connection waits its share, so the whole run stays near SOAK_RATE.
   return math.floor(conns * 1000 / rate)
end

function request()
   n = n + 1
   local k = n % 20
   local body
   if fill then
      k = 0
   end
   if k < 12 then
      sent.valid = sent.valid + 1
      body = call_action(string.format("soak-%s-%d-%d", run, id, n), string.format("%s-%d-%d", run, id, n))
   elseif k < 17 then
      sent.duplicate = sent.duplicate + 1
      local d = n % 4
      body = call_action(string.format("soak-duplicate-%d", d), string.format("duplicate-%d", d))
   else
      sent.malformed = sent.malformed + 1
      body = malformed[(n % #malformed) + 1]
   end
   return wrk.format("POST", nil, headers, body)
end

local bridge = '"action":"makeCall"'

function response(status, headers, body)
   if status == 200 and string.find(body, bridge, 1, true) then
      got.ok = got.ok + 1
   elseif status == 400 and string.find(body, '"code":"invalid_json"', 1, true) then
      got.bad_request = got.bad_request + 1
   else
      got.unexpected = got.unexpected + 1
      if first_unexpected == "" then
         first_unexpected = status .. " " .. string.sub(body, 1, 200)
      end
   end
   if fill and got.ok + got.bad_request + got.unexpected >= fill_count then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local s = { valid = 0, duplicate = 0, malformed = 0 }
   local g = { ok = 0, bad_request = 0, unexpected = 0 }
   local first = ""
   for _, t in ipairs(threads) do
      local ts, tg = t:get("sent"), t:get("got")
      for k, v in pairs(ts) do s[k] = s[k] + v end
      for k, v in pairs(tg) do g[k] = g[k] + v end
      if first == "" then first = t:get("first_unexpected") end
   end
   local e = summary.errors
   io.write(string.format(
      "soak-result sent_valid=%d sent_duplicate=%d sent_malformed=%d got_200=%d got_400=%d unexpected=%d "
         .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d non2xx3xx=%d p50_us=%d p99_us=%d max_us=%d\n",
      s.valid, s.duplicate, s.malformed, g.ok, g.bad_request, g.unexpected,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(99), latency.max))
   if first ~= "" then
      io.write("soak-first-unexpected " .. first .. "\n")
   end
end
