-- Prints wrk's totals and latency percentiles as one JSON line for bench/generators.py.
-- With WRK_DELAY_MS set, each connection waits that long before every request
-- (a paced, wrk2-style load without wrk2's coordinated-omission correction).

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS"))
if delay_ms then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"errors":%d', e.connect + e.read + e.write + e.status + e.timeout),
    string.format('"non_2xx":%d', e.status),
  }
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    table.insert(parts, string.format('"p%s":%d', tostring(p), latency:percentile(p)))
  end
  table.insert(parts, string.format('"max":%d', latency.max))
  io.write("WRK_JSON {" .. table.concat(parts, ",") .. "}\n")
end
