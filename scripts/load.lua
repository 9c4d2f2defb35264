-- wrk script for scripts/load.sh: sends labelled tokens to examples/load_target.rs and judges
-- every answer.
--
--   wrk -t THREADS ... -s scripts/load.lua http://127.0.0.1:PORT -- \
--       TOKENS_FILE VALID EXPIRED FORGED THREADS
--
-- TOKENS_FILE has one token per line, `<expected status> <kind> <names> <token>`: <names> is
-- what the answer's body must name, a valid token's subject or a refusal's rejection code;
-- `-` for no token. A token's label is its line number. VALID, EXPIRED and FORGED are the shares of requests with
-- a token of each category (kinds starting with `valid-`, `expired-`, `forged-`).
--
-- Each request carries its token's label in `x-token`; the target copies it to the response,
-- outside TokenLayer, so response() knows which token every answer is for, whatever the
-- connection or the order. An answer is wrong when its status is not the token's expected
-- one, when a 200's body does not name the token's own subject (`orders of <sub>`: claims of
-- another token), when a refusal's body has another rejection code (`{"code":"..."`: refused
-- for another reason than the one the token was made for), or when it has no label or an
-- unknown one. done() prints the figures and a
-- `RESULT key=value ...` line for load.sh.
--
-- Each wrk thread has its own Lua state: counters are per thread, summed in done().

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Per-thread state (globals of the thread's Lua state, read by done() through thread:get).
local requests = {}    -- label -> the whole HTTP request, formatted once
local expected = {}    -- label -> expected status
local bodies = {}      -- label -> the exact body of a 200
local codes = {}       -- label -> what a refusal's body must contain: `"code":"<code>"`
local category = {}    -- label -> "valid" | "expired" | "forged"
local kinds = {}       -- label -> kind, such as "forged-alg-none-unsigned"
local pool = { valid = {}, expired = {}, forged = {} }
local cut_valid, cut_expired = 0, 0
local sweep_next, sweep_step = 0, 1
local turn = { expired = 0, forged = 0 }

responses, wrong, server_errors, unlabelled = 0, 0, 0, 0
sent_valid, sent_expired, sent_forged = 0, 0, 0
ok_valid, ok_expired, ok_forged = 0, 0, 0
sweep_done_at = -1     -- requests this thread had sent when its share of the sweep ended
wrong_examples = ""    -- the first few wrong answers, as text
-- Coverage: thread k of n owns the tokens at positions k, k+n, ... of each category and
-- counts those of its own that it saw answered right at least once; the sums over threads are
-- the distinct tokens answered right. (wrk copies only flat values between Lua states.)
covered_valid, covered_expired, covered_forged = 0, 0, 0
size_valid, size_expired, size_forged = 0, 0, 0
local position = {}    -- label -> position within its category
local own_seen = {}    -- label -> true once this thread saw its own token answered right
local thread_count = 1

function init(args)
  local file, valid_share, expired_share, forged_share = args[1], args[2], args[3], args[4]
  thread_count = assert(tonumber(args[5]), "the fifth argument is wrk's thread count")
  local handle = assert(io.open(file, "r"), "cannot open the tokens file " .. tostring(file))
  local label = 0
  for line in handle:lines() do
    label = label + 1
    local status, kind, names, token = line:match("^(%d+) (%S+) (%S+) (%S+)$")
    assert(status, "tokens file line " .. label .. " is malformed")
    local cat = kind:match("^(%a+)-")
    assert(pool[cat], "tokens file line " .. label .. ": unknown category in " .. kind)
    local headers = { ["x-token"] = tostring(label) }
    if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
    end
    requests[label] = wrk.format("GET", "/orders", headers)
    expected[label] = tonumber(status)
    if status == "200" then
      bodies[label] = "orders of " .. names .. "\n"
    else
      codes[label] = '"code":"' .. names .. '"'
    end
    category[label] = cat
    kinds[label] = kind
    table.insert(pool[cat], label)
    position[label] = #pool[cat]
  end
  handle:close()
  local shares = { tonumber(valid_share), tonumber(expired_share), tonumber(forged_share) }
  local total = shares[1] + shares[2] + shares[3]
  assert(total > 0, "the shares of valid, expired and forged requests add up to zero")
  for name, share in pairs({ valid = shares[1], expired = shares[2], forged = shares[3] }) do
    assert(share == 0 or #pool[name] > 0, "no " .. name .. " tokens in the file")
  end
  size_valid, size_expired, size_forged = #pool.valid, #pool.expired, #pool.forged
  cut_valid = shares[1] / total
  cut_expired = (shares[1] + shares[2]) / total
  -- Every thread walks its share of the valid tokens first (thread k of n: k, k+n, ...), so
  -- that every valid token has been used, and the cache reached its steady state, within the
  -- first #valid / (share * rate) seconds; then picks are uniformly random. Expired and
  -- forged tokens, never cached, are taken in turn (each thread from its own offset), so that
  -- every one of them is sent early and often.
  sweep_next, sweep_step = id, thread_count
  if sweep_next > #pool.valid then
    sweep_done_at = 0
  end
  turn.expired, turn.forged = id, id
  math.randomseed(7919 * id)
end

function request()
  local r = math.random()
  local label
  if r < cut_valid then
    local valid = pool.valid
    if sweep_next <= #valid then
      label = valid[sweep_next]
      sweep_next = sweep_next + sweep_step
      if sweep_next > #valid then
        sweep_done_at = sent_valid + sent_expired + sent_forged + 1
      end
    else
      label = valid[math.random(#valid)]
    end
    sent_valid = sent_valid + 1
  elseif r < cut_expired then
    label = pool.expired[turn.expired % #pool.expired + 1]
    turn.expired = turn.expired + 1
    sent_expired = sent_expired + 1
  else
    label = pool.forged[turn.forged % #pool.forged + 1]
    turn.forged = turn.forged + 1
    sent_forged = sent_forged + 1
  end
  return requests[label]
end

local function note_wrong(text)
  wrong = wrong + 1
  if wrong <= 5 then
    wrong_examples = wrong_examples .. "  " .. text .. "\n"
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  local label = tonumber(headers["x-token"] or headers["X-Token"] or "")
  local want = label and expected[label]
  if not want then
    unlabelled = unlabelled + 1
    note_wrong("status " .. status .. " with no known label (x-token: "
      .. tostring(headers["x-token"]) .. ")")
    return
  end
  if status ~= want then
    note_wrong("token #" .. label .. " (" .. kinds[label] .. "): expected "
      .. want .. ", got " .. status)
    return
  end
  local shown = function(text) return "'" .. ((text or ""):gsub("%s+$", "")) .. "'" end
  if status == 200 and body ~= bodies[label] then
    note_wrong("token #" .. label .. " (" .. kinds[label] .. "): 200 with the body "
      .. shown(body) .. ", expected " .. shown(bodies[label]))
    return
  end
  if status ~= 200 and not (body or ""):find(codes[label], 1, true) then
    note_wrong("token #" .. label .. " (" .. kinds[label] .. "): " .. status .. " with the body "
      .. shown(body) .. ", expected " .. codes[label])
    return
  end
  local cat = category[label]
  local new = not own_seen[label] and (position[label] - id) % thread_count == 0
  if new then
    own_seen[label] = true
  end
  if cat == "valid" then
    ok_valid = ok_valid + 1
    if new then covered_valid = covered_valid + 1 end
  elseif cat == "expired" then
    ok_expired = ok_expired + 1
    if new then covered_expired = covered_expired + 1 end
  else
    ok_forged = ok_forged + 1
    if new then covered_forged = covered_forged + 1 end
  end
end

function done(summary, latency, _)
  local sum = {}
  local names = { "responses", "wrong", "server_errors", "unlabelled", "sent_valid",
    "sent_expired", "sent_forged", "ok_valid", "ok_expired", "ok_forged", "covered_valid",
    "covered_expired", "covered_forged" }
  for _, name in ipairs(names) do
    sum[name] = 0
  end
  local sweep_done, examples = 0, ""
  for _, thread in ipairs(threads) do
    for _, name in ipairs(names) do
      sum[name] = sum[name] + thread:get(name)
    end
    local at = thread:get("sweep_done_at")
    if at < 0 then
      sweep_done = -1
    elseif sweep_done >= 0 then
      -- Requests of all threads by then, about: threads run at about the same pace.
      sweep_done = math.max(sweep_done, at * #threads)
    end
    examples = examples .. thread:get("wrong_examples")
  end
  local covered = { valid = sum.covered_valid, expired = sum.covered_expired,
    forged = sum.covered_forged }
  local sizes = { valid = threads[1]:get("size_valid"), expired = threads[1]:get("size_expired"),
    forged = threads[1]:get("size_forged") }
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  local rps = summary.requests / seconds
  -- Responses wrk counted but response() did not see (or the reverse) would be a bug here.
  local uncounted = summary.requests - sum.responses
  local p = function(q) return latency:percentile(q) / 1000 end
  local sent = sum.sent_valid + sum.sent_expired + sum.sent_forged
  io.write(string.format("requests      %d in %.1f s: %.0f req/s\n", summary.requests, seconds, rps))
  io.write(string.format("latency (ms)  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
    p(50), p(90), p(99), p(99.9), latency.max / 1000))
  io.write(string.format("sent          %d valid, %d expired, %d forged (%.1f%% / %.1f%% / %.1f%%)\n",
    sum.sent_valid, sum.sent_expired, sum.sent_forged, 100 * sum.sent_valid / math.max(sent, 1),
    100 * sum.sent_expired / math.max(sent, 1), 100 * sum.sent_forged / math.max(sent, 1)))
  io.write(string.format("right answers %d valid accepted (200), %d expired refused (401), "
    .. "%d forged refused (401)\n", sum.ok_valid, sum.ok_expired, sum.ok_forged))
  io.write(string.format("tokens right  at least once: %d of %d valid, %d of %d expired, "
    .. "%d of %d forged\n", covered.valid, sizes.valid, covered.expired, sizes.expired,
    covered.forged, sizes.forged))
  io.write(string.format("wrong answers %d (%d without a known label), 5xx %d, socket errors %d "
    .. "(connect %d, read %d, write %d, timeout %d)\n", sum.wrong, sum.unlabelled,
    sum.server_errors, socket_errors, e.connect, e.read, e.write, e.timeout))
  if examples ~= "" then
    io.write("first wrong answers:\n" .. examples)
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f "
    .. "p99_ms=%.3f p999_ms=%.3f max_ms=%.3f wrong=%d server_errors=%d socket_errors=%d "
    .. "uncounted=%d ok_valid=%d ok_expired=%d ok_forged=%d sweep_done=%d "
    .. "covered_valid=%d of_valid=%d covered_expired=%d of_expired=%d covered_forged=%d of_forged=%d\n",
    summary.requests, seconds, rps, p(50), p(90), p(99), p(99.9), latency.max / 1000,
    sum.wrong, sum.server_errors, socket_errors, uncounted, sum.ok_valid, sum.ok_expired,
    sum.ok_forged, sweep_done, covered.valid, sizes.valid, covered.expired, sizes.expired,
    covered.forged, sizes.forged))
end
