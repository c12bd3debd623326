-- put-fresh.lua: PUT /v1/kv/bench/<key> with a DHRT_VLEN-byte (100) body, every key new to the store
-- (run seed + thread id + counter), so that no request adds a sibling to an earlier write.
-- W: first script argument, else DHRT_W, else quorum.   wrk -t1 -c64 -d10s -s put-fresh.lua URL -- quorum
-- DHRT_NODES=h:p,h:p,... with -tT sends thread i to node i (mod the list) instead of URL's node.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local threads, count = {}, 0
function setup(thread)
  count = count + 1
  thread:set("tid", count)
  C.spread(thread, count)
  threads[#threads + 1] = thread
end

local headers, body, prefix, n
function init(args)
  C.seed()
  local w = C.setting(args, 1, "DHRT_W", "quorum")
  headers = { ["X-Dhrt-W"] = w, ["Content-Type"] = "application/octet-stream" }
  body = C.value()
  -- Seconds + random: two runs against the same store still use disjoint keys.
  prefix = C.PREFIX .. string.format("f%x%05x-%d-", os.time(), math.random(0, 0xfffff), tid or 0)
  n = 0
end

function request()
  n = n + 1
  return wrk.format("PUT", prefix .. n, headers, body)
end

function done(summary, latency, requests) C.report("put-fresh", summary, latency) end
