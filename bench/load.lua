-- wrk script of `make load` (bench/load.py writes its arguments):
--   wrk ... -s bench/load.lua http://127.0.0.1:PORT -- URLS_FILE
-- Every request is an anonymous GET of a path drawn at random from URLS_FILE (one path a line;
-- the file repeats paths in proportion to their share of the mix). Each thread counts the
-- answers by class; done() adds them up and prints one line, "LOAD-RESULT {json}".

local COUNTERS = {
  "status_2xx", "status_3xx", "status_429", "status_4xx", "status_5xx",
  "status_other", "cache_hit", "cache_miss",
}

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

local paths = {}
local headers = {
  ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  ["Accept-Encoding"] = "gzip, deflate, br",
  ["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5",
  ["User-Agent"] = "portal-load-test (wrk)",
}

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the URL list " .. tostring(args[1]))
  for line in file:lines() do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "the URL list is empty")
  math.randomseed(7919 * thread_number)
  for _, name in ipairs(COUNTERS) do
    _G[name] = 0
  end
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

function response(status, response_headers, body)
  if status == 429 then
    status_429 = status_429 + 1
  elseif status >= 500 then
    status_5xx = status_5xx + 1
  elseif status >= 400 then
    status_4xx = status_4xx + 1
  elseif status >= 300 then
    status_3xx = status_3xx + 1
  elseif status >= 200 then
    status_2xx = status_2xx + 1
  else
    status_other = status_other + 1
  end
  local cache = response_headers["X-Cache"] or response_headers["x-cache"]
  if cache == "hit" then
    cache_hit = cache_hit + 1
  elseif cache == "miss" then
    cache_miss = cache_miss + 1
  end
end

function done(summary, latency, requests)
  local totals = {}
  for _, name in ipairs(COUNTERS) do
    totals[name] = 0
    for _, thread in ipairs(threads) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local counted = {}
  for _, name in ipairs(COUNTERS) do
    counted[#counted + 1] = string.format('"%s": %d', name, totals[name])
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD-RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "threads": %d, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
      .. '"status_errors": %d, "latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, '
      .. '"min": %d, "max": %d, "mean": %.1f, "stdev": %.1f}, %s}\n',
    summary.requests, summary.duration, summary.bytes, #threads,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.min, latency.max, latency.mean, latency.stdev,
    table.concat(counted, ", ")
  ))
end
