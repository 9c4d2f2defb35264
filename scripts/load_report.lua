-- The report of scripts/load.lua, loaded by it: wrk calls done() once, in its main Lua state,
-- after the run. It sums the threads' counters (thread:get), judges what only the sum can tell
-- (a rotated token refused after the new key's pickup, seen by any thread), prints the figures
-- and a `RESULT key=value ...` line for load.sh.

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
  local slowest = "slowest answer (server clock, ms from arrival to answer):"
  for _, cat in ipairs({ "valid", "expired", "forged", "unscoped", "expiring", "rotated", "dpop" }) do
    local most = 0
    for _, thread in ipairs(threads) do
      most = math.max(most, thread:get("slow_" .. cat))
    end
    slowest = slowest .. string.format(" %s %d,", cat, most)
  end
  w("%s\n", slowest:sub(1, -2))
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
