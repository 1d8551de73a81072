-- bench/hub.py's searching clients in wrk (a load generator in C): each request as a
-- random member (their own token: a different audience set) for a random query,
-- drawn from the files bench/hub.py writes.
--     wrk -t2 -c32 -d30s -s bench/hub_wrk.lua URL -- TOKENS_FILE QUERIES_FILE SEED
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local function lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(found, line) end
  end
  return found
end

local function encoded(words)
  return (words:gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  tokens = lines(args[1])
  queries = {}
  for _, q in ipairs(lines(args[2])) do table.insert(queries, encoded(q)) end
  math.randomseed(tonumber(args[3] or "11") * 1000 + thread_id)
  hits = 0
  answered = 0
end

function request()
  local token = tokens[math.random(#tokens)]
  local q = queries[math.random(#queries)]
  return wrk.format("GET", "/api/search?limit=20&q=" .. q,
                    {["Authorization"] = "Bearer " .. token})
end

function response(status, headers, body)
  if status == 200 then
    answered = answered + 1
    local _, n = body:gsub('"shared_at":', "")
    hits = hits + n
  end
end

function done(summary, latency, requests)
  local hits, answered = 0, 0
  for _, t in ipairs(threads) do
    hits = hits + t:get("hits")
    answered = answered + t:get("answered")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "answered": %d, "duration_us": %d, "hits": %d, "p50_us": %d,'
    .. ' "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "connect": %d,'
    .. ' "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, answered, summary.duration, hits, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
