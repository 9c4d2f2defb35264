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
-- * a DPoP request refused, or a replayed proof not refused as `dpop_proof_replayed` with
--   `error="invalid_dpop_proof"` in the DPoP challenge;
-- * an answer without a label or with an unknown one.
--
-- done() (in load_report.lua) prints the figures and a `RESULT key=value ...` line for
-- load.sh. Each wrk thread has its own Lua state: counters are per thread, summed in done()
-- (wrk copies only flat values between Lua states).

-- Globals, which load_report.lua sees too.
threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local SCOPE = "orders.read"
CATEGORIES = { "valid", "expired", "forged", "unscoped", "expiring", "rotated" }

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
-- The slowest answer of each category, by the server's clock (ms from arrival to answer).
slow_valid, slow_expired, slow_forged, slow_unscoped, slow_expiring, slow_rotated = 0, 0, 0, 0, 0, 0
slow_dpop = 0

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
      local headers = { ["x-token"] = "d" .. number, ["Authorization"] = "DPoP " .. bound.token,
        ["DPoP"] = proof }
      -- The replay's request is formatted when one is due: most proofs are never replayed.
      proofs[number] = { due = tonumber(due), headers = headers,
        request = wrk.format("GET", "/orders", headers), body = bodies[bound.label] }
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
    local replayed = proofs[table.remove(replays)]
    replayed.headers["x-token"] = replayed.headers["x-token"]:gsub("^d", "r")
    return wrk.format("GET", "/orders", replayed.headers)
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
local function judge_dpop(kind, number, status, body, challenge)
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
  elseif status ~= 401 or not (body or ""):find('"code":"dpop_proof_replayed"', 1, true)
    or not (challenge or ""):find('DPoP realm="load", error="invalid_dpop_proof"', 1, true) then
    note_wrong("replayed DPoP proof " .. number .. ": " .. status .. " " .. shown(body)
      .. " (challenge " .. shown(challenge) .. "), expected 401 dpop_proof_replayed with "
      .. "error=\"invalid_dpop_proof\" in the DPoP challenge")
  else
    replays_ok = replays_ok + 1
  end
end

-- An expiring token: the gate reads its clock after `x-arrived` (rounded down) and before
-- `x-answered` (rounded up), and refuses exactly when that time is at or past `exp` + leeway.
-- So an acceptance must have arrived before `exp` + leeway and a refusal must be answered at or
-- after it: exact on the server's clock, with no window where either answer passes.
-- Returns whether the answer is right.
local function judge_expiring(label, status, body, arrived, answered, challenge)
  local exp = exps[label]
  if status == 200 and body == bodies[label] then
    if arrived >= exp + leeway_ms then
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
    if answered < exp + leeway_ms or fault then
      note_wrong("expiring token #" .. label .. " refused " .. (exp + leeway_ms - answered)
        .. " ms before its exp + leeway, or: " .. tostring(fault))
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
  local cat = dpop_kind and "dpop" or category[tonumber(text)]
  if cat and answered - arrived > _G["slow_" .. cat] then
    _G["slow_" .. cat] = answered - arrived
  end
  if dpop_kind then
    return judge_dpop(dpop_kind, tonumber(dpop_number), status, body, challenge)
  end
  local label = tonumber(text)
  local want = label and expected[label]
  if not want or arrived == 0 or answered == 0 then
    unlabelled = unlabelled + 1
    note_wrong("status " .. status .. " with no known label or times (x-token: " .. text .. ")")
    return
  end
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

-- done(), the report, is in load_report.lua beside this script.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "load_report.lua")
