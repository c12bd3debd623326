-- common.lua: helpers shared by the dhrt wrk scripts (loaded with dofile).
-- Settings come from a script argument (wrk ... URL -- ARG), else the environment, else a default,
-- so that run.sh and a hand-typed wrk command behave the same.
local M = {}

M.KEYS = tonumber(os.getenv("DHRT_KEYS") or "100000")
M.VLEN = tonumber(os.getenv("DHRT_VLEN") or "100")
M.COLLECTION = os.getenv("DHRT_COLLECTION") or "bench"
M.PREFIX = "/v1/kv/" .. M.COLLECTION .. "/"

function M.setting(args, index, env, default)
  local v = args and args[index]
  if v == nil or v == "" then v = os.getenv(env) end
  if v == nil or v == "" then v = default end
  return v
end

function M.value() return string.rep("v", M.VLEN) end

-- Seed per thread state: time alone would give every thread of one run the same sequence.
function M.seed()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end

-- done() helper: wrk's own counts. wrk counts only status > 399 as "Non-2xx or 3xx", so a 300
-- (siblings) or a 3xx is a success to wrk; set DHRT_WRK_STATUS=1 (get.lua) to tally statuses.
function M.report(name, summary, latency)
  local e = summary.errors
  io.write(string.format(
    "dhrt-wrk %s: requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f status_ge_400=%d connect=%d read=%d write=%d timeout=%d\n",
    name, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end

-- Point thread i of -tT at the i-th of DHRT_NODES ("host:port,host:port,..."), to spread load.
function M.spread(thread, index)
  local nodes = os.getenv("DHRT_NODES")
  if not nodes or nodes == "" then return end
  local list = {}
  for hp in nodes:gmatch("[^,]+") do list[#list + 1] = hp end
  local host, port = list[(index - 1) % #list + 1]:match("^(.*):(%d+)$")
  thread.addr = wrk.lookup(host, port)[1]
end

return M
