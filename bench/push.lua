-- wrk script: each request pushes BATCH put changes with op ids unique per run, thread
-- and request (RUN must differ between runs with the same token, or later runs resend old
-- op ids and measure cheap duplicates). Set BATCH (default 100), TOKEN and RUN.
local batch = tonumber(os.getenv("BATCH") or "100")
local run = os.getenv("RUN") or tostring(os.time())
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
      '{"op_id":"%s-t%d-%d-%d","collection":"bench","id":"r%d","op":"put","data":{"n":%d,"text":"a small record"}}',
      run, thread_id, counter, k, (counter * batch + k) % 100000, k)
  end
  local body = '{"changes":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
