-- preload.lua: PUT k0..k<DHRT_KEYS-1> once each (DHRT_VLEN-byte values), W from the first argument or
-- DHRT_W (default all), then exit. Run with -t1 (one Lua state owns the counter) and a -d long enough
-- to be only a bound: wrk cannot end a run early, so the script prints its own summary and exits
-- the process when the last PUT has been answered. After the last key it issues GET /health so the
-- connections stay busy without writing anything. wrk calls request() once before the run to count
-- pipelined requests and never sends that one, so the first call returns the filler too.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local headers, body, N, nextKey, ok, failed, other, t0, statuses, dryRun
function init(args)
  headers = { ["X-Dhrt-W"] = C.setting(args, 1, "DHRT_W", "all"), ["Content-Type"] = "application/octet-stream" }
  body, N, nextKey, ok, failed, other, statuses = C.value(), C.KEYS, 0, 0, 0, 0, {}
  t0, dryRun = os.time(), true
end

function request()
  if dryRun then dryRun = false; return wrk.format("GET", "/health") end
  if nextKey < N then
    local path = C.PREFIX .. "k" .. nextKey
    nextKey = nextKey + 1
    return wrk.format("PUT", path, headers, body)
  end
  return wrk.format("GET", "/health")
end

function response(status, hdrs, b)
  if status == 200 then other = other + 1; return end   -- the /health filler
  if status == 204 then ok = ok + 1 else
    failed = failed + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
  if ok + failed >= N then
    local parts = {}
    for s, c in pairs(statuses) do parts[#parts + 1] = s .. "=" .. c end
    io.write(string.format("dhrt-wrk preload: keys=%d stored=%d failed=%d %s seconds~%d\n",
      N, ok, failed, table.concat(parts, " "), os.time() - t0))
    io.stdout:flush()
    os.exit(failed == 0 and 0 or 1)
  end
end

function done(summary, latency, requests)
  io.write(string.format("dhrt-wrk preload: did not finish within -d (requests=%d)\n", summary.requests))
  os.exit(2)
end
