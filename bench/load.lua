-- wrk script for `make load`: one kind of request (PATRONAGE_LOAD_KIND: balance, purchase
-- or redeem) sent at a fixed rate (PATRONAGE_LOAD_RATE requests per second, shared by the
-- connections of this wrk thread), to random members 1..PATRONAGE_LOAD_MEMBERS.
-- Each request is given a send time on a fixed schedule; a connection whose response
-- came back late sends at once, and done() reports how many sends were late, so a
-- server that cannot keep up shows as a lower rate served, never as a silently slower
-- offer. done() prints one JSON line that bench/load_test.py reads.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } patronage_timespec;
  int clock_gettime(int clock_id, patronage_timespec *tp);
]]
local clock = ffi.new("patronage_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local kind = os.getenv("PATRONAGE_LOAD_KIND") or "balance"
local rate = tonumber(os.getenv("PATRONAGE_LOAD_RATE") or "100")
local members = tonumber(os.getenv("PATRONAGE_LOAD_MEMBERS") or "2000")
local key = os.getenv("PATRONAGE_LOAD_KEY")
local run = os.getenv("PATRONAGE_LOAD_RUN") or "run"
local interval = 1000 / rate
local next_at = nil
local n = 0
late = 0     -- globals: done() reads them from each thread
failures = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time())
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
end

function delay()
  local now = now_ms()
  next_at = (next_at or now) + interval
  local wait = next_at - now
  if wait < 0 then
    late = late + 1
    return 0
  end
  return wait
end

function request()
  n = n + 1
  local member = math.random(1, members)
  if kind == "balance" then
    return wrk.format("GET", string.format("/api/v1/members/%d/balance", member))
  elseif kind == "purchase" then
    local body = string.format(
      '{"type":"purchase","member_id":%d,"order_id":"load-%s-%d","amount":"25.00",' ..
      '"occurred_at":"%s"}', member, run, n, os.date("!%Y-%m-%dT%H:%M:%S+00:00"))
    return wrk.format("POST", "/api/v1/events", nil, body)
  end
  return wrk.format("POST", string.format("/api/v1/members/%d/redemptions", member), nil,
    '{"points":1}')
end

function response(status, headers, body)
  -- a refused redemption (422: not enough points) is an answer, not a failure
  if status >= 400 and not (kind == "redeem" and status == 422) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local lates, failed = 0, 0
  for _, thread in ipairs(threads) do
    lates = lates + (thread:get("late") or 0)
    failed = failed + (thread:get("failures") or 0)
  end
  io.write(string.format(
    '{"kind":"%s","requests":%d,"seconds":%.3f,"failures":%d,"socket_errors":%d,' ..
    '"late":%d,"p50":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f}\n',
    kind, summary.requests, summary.duration / 1e6, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, lates, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
