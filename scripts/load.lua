-- wrk script for scripts/load.sh: sends labelled tokens to examples/load_target and judges
-- every answer.
--
--   wrk -t THREADS ... -s scripts/load.lua http://127.0.0.1:PORT -- \
--       TOKENS_FILE PROOFS_FILE ROTATED_FILE MIX THREADS LEEWAY_S REPLAY_EVERY
--
-- TOKENS_FILE has one token per line, `<expected status> <kind> <names> <token> [<exp>]`:
-- <names> is what the answer's body must name, a valid token's subject or a refusal's
-- rejection code; <token> is `-` for no token; <exp> is an expiring token's `exp`. A token's
-- label is its line number. MIX is `V,E,F,U,X,R`: the shares of requests with a valid,
-- expired, forged, unscoped (403), expiring and rotated token (kinds `valid-`, `expired-`,
-- ...). ROTATED_FILE appears when the target rotates its key: `rotation <ms> <kid>`, then
-- tokens as above, labelled after the tokens file's. PROOFS_FILE has DPoP proofs,
-- `<not before, ms> <token index> <proof>`, for the `dpop-` tokens of TOKENS_FILE: each is
-- sent once, when due by the server's clock, and every REPLAY_EVERY-th accepted one once more.
--
-- Each request carries its label in `x-token`; the target copies it to the response, outside
-- TokenLayer, with the server's times of arrival and answer (`x-arrived`, `x-answered`, ms)
-- and its challenges (`x-challenge`), so response() knows which token every answer is for,
-- whatever the connection or the order, and judges time on the server's clock. Wrong:
--
-- * a status other than the token's; a 200 that does not name the token's own subject; a
--   refusal with another rejection code, or without the right challenge (`Bearer`, and
--   `error="invalid_token"` for a presented token; `error="insufficient_scope"` and
--   `scope="orders.read"` for a 403);
-- * an expiring token refused (401 `token_expired`) before its `exp`, or accepted for a
--   request that arrived after `exp` + leeway (either in between);
-- * a rotated token refused (401 `unknown_key`) after the first one was accepted (the key's
--   pickup), judged in done();
-- * a DPoP request refused, or a replayed proof not refused as `dpop_proof_replayed`;
-- * an answer without a label or with an unknown one.
--
-- done() prints the figures and a `RESULT key=value ...` line for load.sh. Each wrk thread has
-- its own Lua state: counters are per thread, summed in done() (wrk copies only flat values
-- between Lua states).

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local SCOPE = "orders.read"
local CATEGORIES = { "valid", "expired", "forged", "unscoped", "expiring", "rotated" }

-- Per-thread state (globals of the thread's Lua state, read by done() through thread:get).
local requests = {}    -- label -> the whole HTTP request, formatted once
local expected = {}    -- label -> expected status
local bodies = {}      -- label -> the exact body of a 200
local codes = {}       -- label -> what a refusal's body must contain: `"code":"<code>"`
local category = {}    -- label -> one of CATEGORIES, or "dpop"
local kinds = {}       -- label -> kind, such as "forged-alg-none-unsigned"
local exps = {}        -- label -> an expiring token's exp, ms
local pool = {}        -- category -> labels
local cuts = {}        -- category -> upper bound of its share in [0, 1)
local position = {}    -- label -> position within its category
local own_seen = {}    -- label -> true once this thread saw its own token answered right
local thread_count, replay_every = 1, 0
leeway_ms = 0          -- a global: done() reads it from a thread
local sweep_next, sweep_step = 0, 1
local turn = {}
local label_count = 0
local rotated_file, rotated_loaded, next_poll = nil, false, 0
local proofs = {}       -- this thread's proofs: { due = ms, request = ..., body = ... }
local dpop_next = 1
local replays = {}      -- proof numbers accepted once, to be sent again
local server_now = 0    -- the latest x-answered seen: the server's clock, as far as known

responses, wrong, server_errors, unlabelled = 0, 0, 0, 0
sent_valid, sent_expired, sent_forged, sent_unscoped, sent_expiring, sent_rotated = 0, 0, 0, 0, 0, 0
ok_valid, ok_expired, ok_forged, ok_unscoped, ok_expiring, ok_rotated = 0, 0, 0, 0, 0, 0
covered_valid, covered_expired, covered_forged, covered_unscoped = 0, 0, 0, 0
size_valid, size_expired, size_forged, size_unscoped = 0, 0, 0, 0
sweep_done_at = -1     -- requests this thread had sent when its share of the sweep ended
wrong_examples = ""    -- the first few wrong answers, as text
expiring_list = ""     -- `label:exp_ms,...`, for done()
rotation_ms, rotated_kid = 0, ""
rot_first_ok, rot_first_sent, rot_refused, rot_refused_last = 0, 0, 0, 0
dpop_sent, dpop_ok, replays_sent, replays_ok, proofs_own = 0, 0, 0, 0, 0

local function parse_line(line, label)
  local status, kind, names, token, exp = line:match("^(%d+) (%S+) (%S+) (%S+) ?(%d*)$")
  assert(status, "line " .. label .. " is malformed")
  local cat = kind:match("^(%a+)-")
  assert(pool[cat] or cat == "dpop", "line " .. label .. ": unknown category in " .. kind)
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
  category[label], kinds[label] = cat, kind
  if exp ~= "" then
    exps[label] = tonumber(exp) * 1000
    expiring_list = expiring_list .. label .. ":" .. exps[label] .. ","
  end
  if cat ~= "dpop" then
    table.insert(pool[cat], label)
    position[label] = #pool[cat]
  end
  return token
end

function init(args)
  local file, proofs_file = args[1], args[2]
  rotated_file = args[3]
  thread_count = assert(tonumber(args[5]), "the fifth argument is wrk's thread count")
  leeway_ms = assert(tonumber(args[6]), "the sixth argument is the leeway") * 1000
  replay_every = assert(tonumber(args[7]), "the seventh argument is REPLAY_EVERY")
  local shares, total = {}, 0
  for share in args[4]:gmatch("%d+") do
    table.insert(shares, tonumber(share))
  end
  for i, name in ipairs(CATEGORIES) do
    pool[name], turn[name] = {}, id
    shares[i] = shares[i] or 0
    total = total + shares[i]
  end
  assert(total > 0, "the shares of the mix add up to zero")
  local dpop_list = {}
  local handle = assert(io.open(file, "r"), "cannot open the tokens file " .. tostring(file))
  for line in handle:lines() do
    label_count = label_count + 1
    local token = parse_line(line, label_count)
    if category[label_count] == "dpop" then
      table.insert(dpop_list, { label = label_count, token = token })
    end
  end
  handle:close()
  local sum = 0
  for i, name in ipairs(CATEGORIES) do
    assert(shares[i] == 0 or name == "rotated" or #pool[name] > 0, "no " .. name .. " tokens")
    sum = sum + shares[i]
    cuts[name] = sum / total
  end
  size_valid, size_expired, size_forged = #pool.valid, #pool.expired, #pool.forged
  size_unscoped = #pool.unscoped
  -- This thread's proofs: thread k of n sends proofs k, k+n, ...
  local n = 0
  handle = io.open(proofs_file, "r")
  for line in (handle and handle:lines() or function() end) do
    n = n + 1
    if (n - id) % thread_count == 0 then
      local due, index, proof = line:match("^(%d+) (%d+) (%S+)$")
      local bound = assert(dpop_list[tonumber(index) + 1], "proof " .. n .. ": no such token")
      local number = #proofs + 1
      proofs[number] = {
        due = tonumber(due),
        request = wrk.format("GET", "/orders", { ["x-token"] = "d" .. number,
          ["Authorization"] = "DPoP " .. bound.token, ["DPoP"] = proof }),
        replay = wrk.format("GET", "/orders", { ["x-token"] = "r" .. number,
          ["Authorization"] = "DPoP " .. bound.token, ["DPoP"] = proof }),
        body = bodies[bound.label],
      }
    end
  end
  if handle then handle:close() end
  proofs_own = #proofs
  -- Every thread walks its share of the valid tokens first (thread k of n: k, k+n, ...), so
  -- that every valid token has been used, and the cache reached its steady state, within the
  -- first #valid / (share * rate) seconds; then picks are uniformly random. The other
  -- categories are taken in turn (each thread from its own offset), so that every token of
  -- theirs is sent early and often: unscoped tokens are cache hits after their first use.
  sweep_next, sweep_step = id, thread_count
  if sweep_next > #pool.valid then
    sweep_done_at = 0
  end
  math.randomseed(7919 * id)
end

-- Loads the tokens of the rotated key once the target has written them.
local function poll_rotated()
  next_poll = server_now + 250
  local handle = io.open(rotated_file, "r")
  if not handle then return end
  local first = handle:read("*l") or ""
  local at, kid = first:match("^rotation (%d+) (%S+)$")
  assert(at, "the rotated tokens file starts with `rotation <ms> <kid>`")
  rotation_ms, rotated_kid = tonumber(at), kid
  for line in handle:lines() do
    label_count = label_count + 1
    parse_line(line, label_count)
  end
  handle:close()
  rotated_loaded = true
end

local function sent()
  return sent_valid + sent_expired + sent_forged + sent_unscoped + sent_expiring + sent_rotated
end

function request()
  if #replays > 0 then
    replays_sent = replays_sent + 1
    return proofs[table.remove(replays)].replay
  end
  local proof = proofs[dpop_next]
  if proof and proof.due <= server_now then
    dpop_next = dpop_next + 1
    dpop_sent = dpop_sent + 1
    return proof.request
  end
  if not rotated_loaded and server_now >= next_poll and server_now > 0 then
    poll_rotated()
  end
  local r = math.random()
  local cat = "valid"
  for _, name in ipairs(CATEGORIES) do
    if r < cuts[name] then
      cat = name
      break
    end
  end
  if cat == "rotated" and #pool.rotated == 0 then
    cat = "valid"
  end
  local label
  if cat == "valid" then
    local valid = pool.valid
    if sweep_next <= #valid then
      label = valid[sweep_next]
      sweep_next = sweep_next + sweep_step
      if sweep_next > #valid then
        sweep_done_at = sent() + 1
      end
    else
      label = valid[math.random(#valid)]
    end
  else
    label = pool[cat][turn[cat] % #pool[cat] + 1]
    turn[cat] = turn[cat] + 1
  end
  _G["sent_" .. cat] = _G["sent_" .. cat] + 1
  return requests[label]
end

local function note_wrong(text)
  wrong = wrong + 1
  if wrong <= 5 then
    wrong_examples = wrong_examples .. "  " .. text .. "\n"
  end
end

local function shown(text)
  return "'" .. ((text or ""):gsub("%s+$", "")) .. "'"
end

-- What is wrong with a refusal's challenge, or nil.
local function challenge_fault(status, code, challenge)
  if not challenge then
    return "no WWW-Authenticate"
  elseif status == 403 then
    if not challenge:find('error="insufficient_scope"', 1, true)
      or not challenge:find('scope="' .. SCOPE .. '"', 1, true) then
      return "the challenge " .. shown(challenge) .. " lacks insufficient_scope or the scope"
    end
  elseif not challenge:find("Bearer", 1, true) then
    return "the challenge " .. shown(challenge) .. " offers no Bearer"
  elseif code ~= "missing_token" and not challenge:find('error="invalid_token"', 1, true) then
    return "the challenge " .. shown(challenge) .. " lacks error=\"invalid_token\""
  end
  return nil
end

-- A DPoP request (`d<n>`) or a replay of its proof (`r<n>`).
local function judge_dpop(kind, number, status, body)
  local proof = proofs[number]
  if not proof then
    note_wrong("unknown DPoP label " .. kind .. number)
  elseif kind == "d" then
    if status ~= 200 or body ~= proof.body then
      note_wrong("DPoP proof " .. number .. ": " .. status .. " " .. shown(body)
        .. ", expected 200 " .. shown(proof.body))
      return
    end
    dpop_ok = dpop_ok + 1
    if replay_every > 0 and dpop_ok % replay_every == 0 then
      table.insert(replays, number)
    end
  elseif status ~= 401 or not (body or ""):find('"code":"dpop_proof_replayed"', 1, true) then
    note_wrong("replayed DPoP proof " .. number .. ": " .. status .. " " .. shown(body)
      .. ", expected 401 dpop_proof_replayed")
  else
    replays_ok = replays_ok + 1
  end
end

-- An expiring token: 200 until `exp`, 401 `token_expired` after `exp` + leeway, on the
-- server's clock; either in between. Returns whether the answer is right.
local function judge_expiring(label, status, body, arrived, answered, challenge)
  local exp = exps[label]
  if status == 200 and body == bodies[label] then
    if arrived > exp + leeway_ms then
      note_wrong("expiring token #" .. label .. " accepted " .. (arrived - exp)
        .. " ms after its exp (leeway " .. leeway_ms .. " ms)")
      return false
    end
    local key = "xl" .. label
    _G[key] = math.max(_G[key] or 0, arrived)
    return true
  end
  if status == 401 and (body or ""):find('"code":"token_expired"', 1, true) then
    local fault = challenge_fault(status, "token_expired", challenge)
    if answered < exp or fault then
      note_wrong("expiring token #" .. label .. " refused " .. (exp - answered)
        .. " ms before its exp, or: " .. tostring(fault))
      return false
    end
    local key = "xf" .. label
    _G[key] = math.min(_G[key] or answered, answered)
    return true
  end
  note_wrong("expiring token #" .. label .. ": " .. status .. " " .. shown(body))
  return false
end

-- A token of the rotated key: accepted, or refused as `unknown_key` (judged in done()).
local function judge_rotated(label, status, body, arrived, answered)
  if rot_first_sent == 0 or arrived < rot_first_sent then
    rot_first_sent = arrived
  end
  if status == 200 and body == bodies[label] then
    if rot_first_ok == 0 or answered < rot_first_ok then
      rot_first_ok = answered
    end
    return true
  end
  if status == 401 and (body or ""):find('"code":"unknown_key"', 1, true) then
    rot_refused = rot_refused + 1
    rot_refused_last = math.max(rot_refused_last, arrived)
    return false
  end
  note_wrong("rotated token #" .. label .. ": " .. status .. " " .. shown(body))
  return false
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then
    server_errors = server_errors + 1
  end
  local arrived = tonumber(headers["x-arrived"] or "") or 0
  local answered = tonumber(headers["x-answered"] or "") or 0
  if answered > server_now then
    server_now = answered
  end
  local challenge = headers["x-challenge"]
  local text = headers["x-token"] or ""
  local dpop_kind, dpop_number = text:match("^([dr])(%d+)$")
  if dpop_kind then
    return judge_dpop(dpop_kind, tonumber(dpop_number), status, body)
  end
  local label = tonumber(text)
  local want = label and expected[label]
  if not want or arrived == 0 or answered == 0 then
    unlabelled = unlabelled + 1
    note_wrong("status " .. status .. " with no known label or times (x-token: " .. text .. ")")
    return
  end
  local cat = category[label]
  if cat == "expiring" then
    if judge_expiring(label, status, body, arrived, answered, challenge) then
      ok_expiring = ok_expiring + 1
    end
    return
  elseif cat == "rotated" then
    if judge_rotated(label, status, body, arrived, answered) then
      ok_rotated = ok_rotated + 1
    end
    return
  end
  local prefix = "token #" .. label .. " (" .. kinds[label] .. "): "
  if status ~= want then
    note_wrong(prefix .. "expected " .. want .. ", got " .. status .. " " .. shown(body))
    return
  end
  if status == 200 and body ~= bodies[label] then
    note_wrong(prefix .. "200 with the body " .. shown(body) .. ", expected " .. shown(bodies[label]))
    return
  end
  if status ~= 200 then
    if not (body or ""):find(codes[label], 1, true) then
      note_wrong(prefix .. status .. " with the body " .. shown(body) .. ", expected " .. codes[label])
      return
    end
    local fault = challenge_fault(status, codes[label]:match(':"(.*)"'), challenge)
    if fault then
      note_wrong(prefix .. fault)
      return
    end
  end
  _G["ok_" .. cat] = _G["ok_" .. cat] + 1
  -- Coverage: thread k of n owns the tokens at positions k, k+n, ... of each category and
  -- counts those of its own that it saw answered right; the sums are the distinct tokens
  -- answered right at least once.
  if not own_seen[label] and (position[label] - id) % thread_count == 0 then
    own_seen[label] = true
    _G["covered_" .. cat] = _G["covered_" .. cat] + 1
  end
end

function done(summary, latency, _)
  local sum = {}
  local names = { "responses", "wrong", "server_errors", "unlabelled", "dpop_sent", "dpop_ok",
    "replays_sent", "replays_ok", "proofs_own", "rot_refused" }
  for _, cat in ipairs(CATEGORIES) do
    for _, counter in ipairs({ "sent_", "ok_" }) do
      table.insert(names, counter .. cat)
    end
  end
  for _, cat in ipairs({ "valid", "expired", "forged", "unscoped" }) do
    table.insert(names, "covered_" .. cat)
    table.insert(names, "size_" .. cat)
  end
  for _, name in ipairs(names) do
    sum[name] = 0
  end
  local sweep_done, examples = 0, ""
  local pickup, first_sent, refused_last, rotation, kid = 0, 0, 0, 0, "-"
  local earliest = function(a, b) return (a == 0 or (b ~= 0 and b < a)) and b or a end
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
    pickup = earliest(pickup, thread:get("rot_first_ok"))
    first_sent = earliest(first_sent, thread:get("rot_first_sent"))
    refused_last = math.max(refused_last, thread:get("rot_refused_last"))
    if thread:get("rotation_ms") > 0 then
      rotation, kid = thread:get("rotation_ms"), thread:get("rotated_kid")
    end
  end
  for _, cat in ipairs({ "valid", "expired", "forged", "unscoped" }) do
    sum["size_" .. cat] = threads[1]:get("size_" .. cat)
  end
  -- A rotated token refused for a request that arrived after the first one was accepted.
  if pickup > 0 and refused_last >= pickup then
    sum.wrong = sum.wrong + 1
    examples = examples .. "  a rotated token refused (unknown_key) " .. (refused_last - pickup)
      .. " ms after the new key's pickup\n"
  end
  -- Expiring tokens: the last acceptance and first refusal of each, against its exp.
  local expiring, switched = 0, 0
  local last_ok, first_refusal, latest_refusal = nil, nil, nil
  for label, exp in threads[1]:get("expiring_list"):gmatch("(%d+):(%d+),") do
    expiring, exp = expiring + 1, tonumber(exp)
    local accepted, refused = 0, nil
    for _, thread in ipairs(threads) do
      accepted = math.max(accepted, thread:get("xl" .. label) or 0)
      local f = thread:get("xf" .. label)
      if f and (not refused or f < refused) then refused = f end
    end
    if accepted > 0 and refused then
      switched = switched + 1
      last_ok = math.max(last_ok or -math.huge, accepted - exp)
      first_refusal = math.min(first_refusal or math.huge, refused - exp)
      latest_refusal = math.max(latest_refusal or -math.huge, refused - exp)
    end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local seconds = summary.duration / 1e6
  local rps = summary.requests / seconds
  -- Responses wrk counted but response() did not see (or the reverse) would be a bug here.
  local uncounted = summary.requests - sum.responses
  local p = function(q) return latency:percentile(q) / 1000 end
  local total = math.max(summary.requests, 1)
  local w = function(...) io.write(string.format(...)) end
  w("requests      %d in %.1f s: %.0f req/s\n", summary.requests, seconds, rps)
  w("latency (ms)  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
    p(50), p(90), p(99), p(99.9), latency.max / 1000)
  local line = "sent         "
  for _, cat in ipairs(CATEGORIES) do
    line = line .. string.format(" %d %s (%.1f%%),", sum["sent_" .. cat], cat,
      100 * sum["sent_" .. cat] / total)
  end
  w("%s %d DPoP, %d replayed proofs\n", line, sum.dpop_sent, sum.replays_sent)
  w("right answers %d valid 200, %d expired 401, %d forged 401, %d unscoped 403, %d expiring, "
    .. "%d rotated 200, %d DPoP 200, %d replays 401\n", sum.ok_valid, sum.ok_expired,
    sum.ok_forged, sum.ok_unscoped, sum.ok_expiring, sum.ok_rotated, sum.dpop_ok, sum.replays_ok)
  w("tokens right  at least once: %d of %d valid, %d of %d expired, %d of %d forged, "
    .. "%d of %d unscoped\n", sum.covered_valid, sum.size_valid, sum.covered_expired,
    sum.size_expired, sum.covered_forged, sum.size_forged, sum.covered_unscoped, sum.size_unscoped)
  local ms = function(v) return v and string.format("%+.3f s", v / 1000) or "-" end
  w("expiry        %d of %d expiring tokens seen accepted, then refused: last 200 at exp %s, "
    .. "first 401 at exp %s to %s (leeway %d s)\n", switched, expiring, ms(last_ok),
    ms(first_refusal), ms(latest_refusal), threads[1]:get("leeway_ms") / 1000)
  if rotation > 0 then
    w("rotation      to %s at %d; first new-key request at %s, pickup (first accepted) at %s, "
      .. "%d refused before it (unknown_key)\n", kid, rotation,
      first_sent > 0 and ms(first_sent - rotation) or "-",
      pickup > 0 and ms(pickup - rotation) or "never", sum.rot_refused)
  else
    w("rotation      not seen during the run\n")
  end
  w("wrong answers %d (%d without a known label), 5xx %d, socket errors %d "
    .. "(connect %d, read %d, write %d, timeout %d)\n", sum.wrong, sum.unlabelled,
    sum.server_errors, socket_errors, e.connect, e.read, e.write, e.timeout)
  if examples ~= "" then
    io.write("first wrong answers:\n" .. examples)
  end
  local result = string.format("RESULT requests=%d seconds=%.3f rps=%.0f p50_ms=%.3f "
    .. "p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f wrong=%d server_errors=%d "
    .. "socket_errors=%d uncounted=%d sweep_done=%d expiring=%d expiring_switched=%d "
    .. "rotation_ms=%d pickup_ms=%d dpop_sent=%d dpop_ok=%d replays_ok=%d proofs=%d",
    summary.requests, seconds, rps, p(50), p(90), p(99), p(99.9), latency.max / 1000, sum.wrong,
    sum.server_errors, socket_errors, uncounted, sweep_done, expiring, switched, rotation,
    pickup > 0 and pickup - rotation or -1, sum.dpop_sent, sum.dpop_ok, sum.replays_ok,
    sum.proofs_own)
  for _, cat in ipairs(CATEGORIES) do
    result = result .. string.format(" sent_%s=%d", cat, sum["sent_" .. cat])
  end
  for _, cat in ipairs({ "valid", "expired", "forged", "unscoped" }) do
    result = result .. string.format(" covered_%s=%d of_%s=%d", cat, sum["covered_" .. cat], cat,
      sum["size_" .. cat])
  end
  io.write(result .. "\n")
end
