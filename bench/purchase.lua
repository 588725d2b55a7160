-- wrk script for `make bench`: each request is a purchase by a random member with an
-- order id of its own. Reads PATRONAGE_BENCH_KEY, _MEMBERS and _RUN from the environment.
local key = os.getenv("PATRONAGE_BENCH_KEY")
local members = tonumber(os.getenv("PATRONAGE_BENCH_MEMBERS") or "2000")
local run = os.getenv("PATRONAGE_BENCH_RUN") or "run"
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(tid * 7919)
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  n = n + 1
  local body = string.format(
    '{"type":"purchase","member_external_id":"B%06d","order_id":"%s-%d-%d",' ..
    '"amount":"%d.%02d","occurred_at":"%s"}',
    math.random(0, members - 1), run, tid, n, math.random(1, 499), math.random(0, 99),
    os.date("!%Y-%m-%dT%H:%M:%S+00:00"))
  return wrk.format(nil, "/api/v1/events", nil, body)
end
