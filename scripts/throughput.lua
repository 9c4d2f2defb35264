-- wrk script for the reference phase of scripts/load.sh: the same valid tokens to the API with
-- the layer and without it (examples/load_target --reference), every answer judged.
--
--   wrk -t THREADS ... -s scripts/throughput.lua http://127.0.0.1:PORT -- TOKENS_FILE THREADS
--
-- Each request carries a valid token, its label (`x-token`) and its subject (`x-sub`, which
-- only the server without the layer reads): both servers must answer 200 `orders of <sub>`,
-- so the two do the same work but for the layer's. Thread k of n sends the tokens k, k+n, ...
-- in turn: with the token cache, every token is a hit after its first use.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local requests, bodies, labels = {}, {}, {}
local turn = 0
responses, wrong, server_errors, wrong_example = 0, 0, 0, ""

function init(args)
  local count = assert(tonumber(args[2]), "the second argument is wrk's thread count")
  local handle = assert(io.open(args[1], "r"), "cannot open the tokens file " .. tostring(args[1]))
  local label = 0
  for line in handle:lines() do
    label = label + 1
    local subject, token = line:match("^200 valid%-%S+ (%S+) (%S+)$")
    assert(subject, "tokens file line " .. label .. " is not a valid token")
    requests[label] = wrk.format("GET", "/orders", { ["x-token"] = tostring(label),
      ["x-sub"] = subject, ["Authorization"] = "Bearer " .. token })
    bodies[label] = "orders of " .. subject .. "\n"
    if (label - id) % count == 0 then
      table.insert(labels, label)
    end
  end
  handle:close()
  assert(#labels > 0, "fewer tokens than threads")
end

function request()
  turn = turn % #labels + 1
  return requests[labels[turn]]
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  local label = tonumber(headers["x-token"] or "")
  if status ~= 200 or not label or body ~= bodies[label] then
    wrong = wrong + 1
    if wrong_example == "" then
      wrong_example = "status " .. status .. " for token #" .. tostring(label) .. ": "
        .. (body or ""):gsub("%s+$", "")
    end
  end
end

function done(summary, _, _)
  local r, w, s, example = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    r = r + thread:get("responses")
    w = w + thread:get("wrong")
    s = s + thread:get("server_errors")
    example = example .. thread:get("wrong_example")
  end
  local e = summary.errors
  if example ~= "" then
    io.write("first wrong answer: " .. example .. "\n")
  end
  io.write(string.format("RESULT requests=%d rps=%.0f wrong=%d server_errors=%d "
    .. "socket_errors=%d uncounted=%d\n", summary.requests, summary.requests
    / (summary.duration / 1e6), w, s, e.connect + e.read + e.write + e.timeout,
    summary.requests - r))
end
