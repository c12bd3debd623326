-- get.lua: GET /v1/kv/bench/k<uniform 0..DHRT_KEYS-1> (the keys preload.lua wrote).
-- R: first script argument, else DHRT_R, else quorum.   wrk -t1 -c64 -d10s -s get.lua URL -- one
-- DHRT_WRK_STATUS=1 tallies every status (wrk alone only counts >= 400; a 300 or a 404 would be
-- hidden in or out of that count); the response() hook costs wrk throughput, so it is off by default.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  C.spread(thread, #threads)
end

local headers, paths, N
function init(args)
  C.seed()
  headers = { ["X-Dhrt-R"] = C.setting(args, 1, "DHRT_R", "quorum") }
  N = C.KEYS
  paths = {}
  for i = 0, N - 1 do paths[i] = C.PREFIX .. "k" .. i end
end

function request()
  return wrk.format("GET", paths[math.random(0, N - 1)], headers)
end

if os.getenv("DHRT_WRK_STATUS") == "1" then
  statuses = {}
  function response(status, hdrs, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  C.report("get", summary, latency)
  if os.getenv("DHRT_WRK_STATUS") ~= "1" then return end
  local total = {}
  for _, t in ipairs(threads) do
    for status, c in pairs(t:get("statuses") or {}) do total[status] = (total[status] or 0) + c end
  end
  local parts = {}
  for status, c in pairs(total) do parts[#parts + 1] = status .. "=" .. c end
  table.sort(parts)
  io.write("dhrt-wrk get statuses: " .. table.concat(parts, " ") .. "\n")
end
