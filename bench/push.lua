-- wrk script: each request pushes BATCH put changes with op ids unique per thread and
-- request. Set BATCH in the environment (default 100) and the token in TOKEN.
local batch = tonumber(os.getenv("BATCH") or "100")
local token = os.getenv("TOKEN")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid or 0
end

function request()
  counter = counter + 1
  local parts = {}
  for k = 1, batch do
    parts[k] = string.format(
      '{"op_id":"t%d-%d-%d","collection":"bench","id":"r%d","op":"put","data":{"n":%d,"text":"a small record"}}',
      thread_id, counter, k, (counter * batch + k) % 100000, k)
  end
  local body = '{"changes":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
