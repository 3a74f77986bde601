-- wrk script: POST /api/v1/people/match with `x-api-key: load-test-key` and a JSON body.
--
-- BENCH_MIX (environment):
--   realistic (default)  90% emails drawn from 10,000 distinct addresses at ordinary domains,
--                        5% no-match (`@nomatch.test`), 5% partial persons (`@partial.test`)
--   unique               every request a never-seen email (soak of the bounded caches)
-- BENCH_STOP (environment): when set, each thread stops after that many responses (soak halves).
-- BENCH_SEED (environment): random seed, so every server gets the same sequence of bodies.
-- BENCH_POOL (environment): how many distinct addresses the realistic mix draws from (10,000).
-- done() prints one line `BENCH_JSON {...}` that bench/run.py parses.

local mix = os.getenv("BENCH_MIX") or "realistic"
local stop_after = tonumber(os.getenv("BENCH_STOP") or "0")
local seed = tonumber(os.getenv("BENCH_SEED") or "8")
local pool = tonumber(os.getenv("BENCH_POOL") or "10000")

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(seed * 1000 + id)
   counter = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["x-api-key"] = "load-test-key"
end

local function email()
   if mix == "unique" then
      return string.format("fresh-%d-%d-%d@soak%d.example.com", seed, id, counter, counter % 97)
   end
   local roll = math.random(100)
   local n = math.random(pool)
   if roll <= 90 then
      return string.format("person%d@corp%d.example.com", n, n % 200)
   elseif roll <= 95 then
      return string.format("person%d@nomatch.test", n)
   end
   return string.format("person%d@partial.test", n)
end

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil, '{"email":"' .. email() .. '"}')
end

if stop_after > 0 then
   local answered = 0
   function response(status, headers, body)
      answered = answered + 1
      if answered >= stop_after then
         wrk.thread:stop()
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
