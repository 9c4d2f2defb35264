#!/usr/bin/env bash
# Load and soak test: examples/load_target (an axum API behind TokenLayer) driven by wrk with
# a mix of valid, expired, forged, unscoped, expiring, rotated-key and DPoP tokens for a fixed
# time. Fails (exit 1) on any wrong answer, any 5xx, any socket error or timeout, or resident
# memory growing after the warm-up by more than the tolerance. Then (release build) the
# throughput of the same API with and without the layer, alternately. See docs/load.md.
#
#   bash scripts/load.sh                  # 30 s, 2 wrk threads, 64 connections, reference
#   bash scripts/load.sh --debug --seconds 10   # the short form, in .ci/run
#   bash scripts/load.sh --seconds 300    # a soak
#   bash scripts/load.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: bash scripts/load.sh [options]

  --seconds N            how long wrk runs                                         [30]
  --connections C        wrk connections (open for the whole run)                  [64]
  --threads T            wrk threads                                                [2]
  --distinct D           distinct valid tokens                                   [2000]
  --cache-entries N      capacity of the target's verified-token cache           [1000]
  --expired N            expired tokens                                           [100]
  --forged-each N        forged tokens of each kind and algorithm                   [2]
  --unscoped N           valid tokens without the route's scope (403)              [24]
  --expiring N           tokens whose exp falls inside the run                     [16]
  --rotated N            tokens signed with the key the issuer rotates to mid-run  [64]
  --mix V,E,F,U,X,R      shares of requests with valid, expired, forged, unscoped, expiring
                         and rotated tokens (missing ones: 0)              [70,8,8,6,4,4]
  --dpop-rate N          DPoP requests a second, each with a fresh proof (0: none)  [20]
  --replay-every N       replay every Nth accepted DPoP proof once (0: never)       [5]
  --leeway S             the target's leeway for exp, seconds                       [2]
  --key-cooldown S       the target's key cooldown after a made-up kid's refresh    [2]
  --warmup S             seconds before memory must stay flat  [20% of --seconds, >= 2]
  --rss-tolerance-kib K  allowed RSS growth after the warm-up, KiB                 [4096]
  --timeout S            wrk's per-request timeout, seconds (a timeout fails the run) [5]
  --keep                 keep the work directory (tokens, wrk output, RSS samples)
  --debug                drive the debug build (the one `cargo test` already made), as CI
                         does: the same checks, at a fraction of the throughput
  --reference, --no-reference
                         after the run, measure the API with and without the layer, in
                         alternating wrk runs       [on for the release build, off with --debug]
  --reference-rounds N   alternating rounds                                          [5]
  --reference-seconds S  seconds of each wrk run in a round                          [3]
  --reference-tokens N   distinct valid tokens of the reference runs              [1000]
EOF
}

seconds=30 connections=64 threads=2 distinct=2000 cache_entries=1000 expired=100
forged_each=2 mix=70,8,8,6,4,4 warmup="" rss_tolerance_kib=4096 timeout=5 keep=0 profile=release
unscoped=24 expiring=16 rotated=64 dpop_rate=20 replay_every=5 leeway=2 key_cooldown=2
reference="" reference_rounds=5 reference_seconds=3 reference_tokens=1000
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --keep) keep=1; shift; continue ;;
    --debug) profile=debug; shift; continue ;;
    --reference) reference=1; shift; continue ;;
    --no-reference) reference=0; shift; continue ;;
    --seconds | --connections | --threads | --distinct | --cache-entries | --expired | \
      --forged-each | --mix | --warmup | --rss-tolerance-kib | --timeout | --unscoped | \
      --expiring | --rotated | --dpop-rate | --replay-every | --leeway | --key-cooldown | \
      --reference-rounds | --reference-seconds | --reference-tokens)
      [ $# -ge 2 ] || { echo "error: $1 needs a value" >&2; exit 2; }
      value="$2"
      case "$1" in
        --mix)
          [[ "$value" =~ ^[0-9]+(,[0-9]+){2,5}$ ]] || { echo "error: --mix V,E,F[,U[,X[,R]]]" >&2; exit 2; } ;;
        *)
          [[ "$value" =~ ^[0-9]+$ ]] || { echo "error: $1 $value: not a whole number" >&2; exit 2; } ;;
      esac
      name="${1#--}"; name="${name//-/_}"
      printf -v "$name" '%s' "$value"
      shift 2 ;;
    *) echo "error: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -z "$warmup" ]; then
  warmup=$(( seconds / 5 ))
  if [ "$warmup" -lt 2 ]; then warmup=2; fi
fi
if [ "$seconds" -lt 4 ] || [ "$warmup" -ge "$seconds" ]; then
  echo "error: --seconds must be at least 4 and longer than --warmup ($warmup s)" >&2
  exit 2
fi
if [ "$threads" -lt 1 ] || [ "$connections" -lt "$threads" ]; then
  echo "error: need at least one thread and at least one connection per thread" >&2
  exit 2
fi
IFS=, read -r share_valid share_expired share_forged share_unscoped share_expiring share_rotated \
  <<<"$mix"
share_unscoped=${share_unscoped:-0} share_expiring=${share_expiring:-0} share_rotated=${share_rotated:-0}
mix="$share_valid,$share_expired,$share_forged,$share_unscoped,$share_expiring,$share_rotated"
# The expiring tokens' `exp` falls at 25-45% of the run: the switch to 401 (leeway later) must
# be seen before its end.
if [ "$share_expiring" -gt 0 ] && [ "$expiring" -gt 0 ] && [ $(( seconds * 55 / 100 )) -lt $(( leeway + 2 )) ]; then
  echo "error: a $seconds s run ends too soon after the expiring tokens' exp + leeway ($leeway s):" \
    "run longer, lower --leeway, or set their share in --mix to 0" >&2
  exit 2
fi
if [ -z "$reference" ]; then
  if [ "$profile" = release ]; then reference=1; else reference=0; fi
fi
if [ "$reference" -eq 1 ] && { [ "$reference_rounds" -lt 1 ] || [ "$reference_seconds" -lt 1 ]; }; then
  echo "error: --reference-rounds and --reference-seconds must be at least 1" >&2
  exit 2
fi

# wrk from the distribution if it is missing.
if ! command -v wrk >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk
fi

if [ "$profile" = release ]; then
  cargo build --release --example load_target
else
  cargo build --example load_target
fi
target_dir="${CARGO_TARGET_DIR:-target}"
target_bin="$target_dir/$profile/examples/load_target"

work=$(mktemp -d "${TMPDIR:-/tmp}/tokengate-load.XXXXXX")
server_pid="" sampler_pid="" wrk_pid=""
# Whatever happens (failure, Ctrl-C, TERM), nothing started here outlives the script.
cleanup() {
  local status=$?
  if [ -n "$wrk_pid" ]; then kill "$wrk_pid" 2>/dev/null || true; fi
  if [ -n "$sampler_pid" ]; then kill "$sampler_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$keep" -eq 1 ]; then
    echo "work directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$target_bin" --tokens-file "$work/tokens.txt" --proofs-file "$work/proofs.txt" \
  --rotated-file "$work/rotated.txt" --seconds "$seconds" --distinct "$distinct" \
  --expired "$expired" --forged-each "$forged_each" --unscoped "$unscoped" \
  --expiring "$expiring" --rotated "$rotated" --dpop-rate "$dpop_rate" --leeway "$leeway" \
  --key-cooldown "$key_cooldown" --cache-entries "$cache_entries" \
  >"$work/target.out" 2>"$work/target.err" &
server_pid=$!

# Ready once it prints `ready port=... pid=...` (after minting the tokens and binding); sets
# `ready` to that line and `port`.
await_ready() {
  port=""
  for _ in $(seq 1 1200); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: load_target exited before it was ready:" >&2
      cat "$work/target.err" >&2
      exit 1
    fi
    ready=$(grep -m1 '^ready ' "$work/target.out" || true)
    if [ -n "$ready" ]; then
      port=$(sed -E 's/.* port=([0-9]+).*/\1/' <<<"$ready")
      break
    fi
    sleep 0.25
  done
  if [ -z "$port" ]; then
    echo "error: load_target not ready after 300 s" >&2
    exit 1
  fi
  # Accepting connections.
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "error: port $port refuses" >&2; exit 1; }
}
await_ready
grep -v 'issuer requests so far' "$work/target.err" || true
echo "target pid $server_pid on 127.0.0.1:$port; $(wc -l <"$work/tokens.txt") tokens"
echo "load: ${seconds} s, $threads wrk threads, $connections connections," \
  "mix valid/expired/forged/unscoped/expiring/rotated ${mix//,//}, $dpop_rate DPoP requests/s," \
  "warm-up ${warmup} s, RSS tolerance ${rss_tolerance_kib} KiB"
echo "machine: $(nproc) cores, load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# Resident memory (and the 1-minute load average) once a second while wrk runs:
# `<elapsed s> <VmRSS KiB> <load>`.
started=$(date +%s.%N)
(
  while kill -0 "$server_pid" 2>/dev/null; do
    now=$(date +%s.%N)
    printf '%s %s %s\n' "$(awk -v a="$now" -v b="$started" 'BEGIN { printf "%.1f", a - b }')" \
      "$(rss_kib "$server_pid")" "$(cut -d' ' -f1 /proc/loadavg)"
    sleep 1
  done
) >"$work/rss.txt" &
sampler_pid=$!

# In the background, so that a signal to this script is handled at once (bash runs traps only
# between foreground commands).
wrk -t "$threads" -c "$connections" -d "${seconds}s" --timeout "${timeout}s" \
  -s scripts/load.lua "http://127.0.0.1:$port" -- \
  "$work/tokens.txt" "$work/proofs.txt" "$work/rotated.txt" "$mix" "$threads" "$leeway" \
  "$replay_every" \
  >"$work/wrk.out" 2>&1 &
wrk_pid=$!
wrk_status=0
wait "$wrk_pid" || wrk_status=$?
wrk_pid=""
cat "$work/wrk.out"
if [ "$wrk_status" -ne 0 ]; then
  echo "error: wrk failed (exit $wrk_status)" >&2
  exit 1
fi

kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""

failures=()
if ! kill -0 "$server_pid" 2>/dev/null; then
  failures+=("the target died during the run")
fi

result=$(grep -m1 '^RESULT ' "$work/wrk.out" || true)
if [ -z "$result" ]; then
  echo "error: no RESULT line from wrk's script" >&2
  exit 1
fi
# A whole number from the RESULT line. A field missing or not a number is written down and
# fails the run below (read as the whole line, it would make `[ ]` fail, which some checks would
# take as a pass; and `exit` here would leave only this command substitution).
field() {
  local value
  value=$(sed -nE "s/.* $1=(-?[0-9]+)( .*)?$/\1/p" <<<"$result")
  if [ -z "$value" ]; then
    echo "$1" >>"$work/missing_fields"
    value=0
  fi
  echo "$value"
}
requests=$(field requests) rps=$(field rps) wrong=$(field wrong)
server_errors=$(field server_errors) socket_errors=$(field socket_errors)
uncounted=$(field uncounted) sweep_done=$(field sweep_done)
expiring_seen=$(field expiring) expiring_switched=$(field expiring_switched)
rotation_ms=$(field rotation_ms) pickup_ms=$(field pickup_ms) dpop_sent=$(field dpop_sent)
dpop_ok=$(field dpop_ok) replays_ok=$(field replays_ok)

[ "$requests" -gt 0 ] || failures+=("no requests completed")
[ "$wrong" -eq 0 ] || failures+=("$wrong wrong answers")
[ "$server_errors" -eq 0 ] || failures+=("$server_errors 5xx answers")
[ "$socket_errors" -eq 0 ] || failures+=("$socket_errors socket errors or timeouts")
[ "$uncounted" -eq 0 ] || failures+=("$uncounted responses not seen by the script's response()")
# How often the gate fetched keys during the run (refreshes asked for by unknown `kid`s are
# limited by the key cache's cooldown, 60 s by default).
fetches=$(grep 'issuer requests so far' "$work/target.err" | tail -n 1 | sed -E 's/.*so far: //' || true)
echo "issuer          requests by the end: ${fetches:-unknown} (one of each at start-up)"

# Every token of each category in the mix was sent and answered right at least once.
for category in valid expired forged unscoped; do
  share_var="share_$category"
  covered=$(field "covered_$category") of=$(field "of_$category")
  if [ "${!share_var}" -gt 0 ] && [ "$covered" -lt "$of" ]; then
    failures+=("only $covered of $of $category tokens were answered right at least once (the others were answered wrongly, or never sent: run longer)")
  fi
done
# Expiring tokens: each seen accepted, then refused (run long enough to see the switch).
if [ "$share_expiring" -gt 0 ] && [ "$expiring_seen" -gt 0 ] && [ "$expiring_switched" -lt "$expiring_seen" ]; then
  failures+=("only $expiring_switched of $expiring_seen expiring tokens were seen both accepted and refused")
fi
# The rotation: seen, and the new key picked up within the cooldown and a margin (a refresh
# for a made-up kid shortly before it closes the door for the cooldown; docs/keys.md).
if [ "$share_rotated" -gt 0 ] && [ "$rotated" -gt 0 ]; then
  pickup_limit=$(( (key_cooldown + 3) * 1000 ))
  if [ "$rotation_ms" -eq 0 ]; then
    failures+=("the load generator never saw the key rotation")
  elif [ "$pickup_ms" -lt 0 ]; then
    failures+=("no token of the new key was ever accepted")
  elif [ "$pickup_ms" -gt "$pickup_limit" ]; then
    failures+=("the new key was picked up $pickup_ms ms after the rotation (limit $pickup_limit ms)")
  fi
fi
# DPoP: sent at about the planned rate, every one accepted, replays refused.
if [ "$dpop_rate" -gt 0 ]; then
  planned=$(( dpop_rate * seconds * 7 / 10 ))
  if [ "$dpop_sent" -lt "$planned" ]; then
    failures+=("only $dpop_sent DPoP requests sent (at least $planned planned)")
  fi
  if [ "$replay_every" -gt 0 ] && [ "$dpop_ok" -ge "$replay_every" ] && [ "$replays_ok" -eq 0 ]; then
    failures+=("no replayed DPoP proof was refused")
  fi
fi
# Every valid token must have been used (so the cache filled) inside the warm-up.
if [ "$share_valid" -gt 0 ]; then
  if [ "$sweep_done" -lt 0 ]; then
    failures+=("not every valid token was used during the run: lower --distinct or run longer")
  else
    sweep_seconds=$(awk -v n="$sweep_done" -v r="$rps" 'BEGIN { printf "%.2f", n / (r > 0 ? r : 1) }')
    echo "every valid token used once after about $sweep_done requests ($sweep_seconds s)"
    if awk -v s="$sweep_seconds" -v w="$warmup" 'BEGIN { exit !(s > w) }'; then
      failures+=("the valid tokens were not all used within the warm-up ($sweep_seconds s > $warmup s): the cache was not at its steady state; raise --warmup or lower --distinct")
    fi
  fi
fi

# Memory: the sample at the end of the warm-up against every later one during the run.
read -r warm_t warm_rss < <(awk -v w="$warmup" '$1 >= w && $2 != "" { print $1, $2; exit }' "$work/rss.txt")
read -r end_t end_rss peak_rss < <(awk -v w="$warmup" -v s="$seconds" \
  '$1 >= w && $1 <= s + 0.5 && $2 != "" { t = $1; r = $2; if ($2 > p) p = $2 } END { print t, r, p }' \
  "$work/rss.txt")
start_rss=$(awk 'NR == 1 { print $2 }' "$work/rss.txt")
max_load=$(awk '{ if ($3 > m) m = $3 } END { print m }' "$work/rss.txt")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
if [ -z "${warm_rss:-}" ] || [ -z "${end_rss:-}" ]; then
  failures+=("too few memory samples")
else
  growth=$(( peak_rss - warm_rss ))
  after=$(awk -v r="$requests" -v s="$seconds" -v w="$warmup" 'BEGIN { printf "%d", r * (s - w) / s }')
  echo "memory (VmRSS)  before load $(mib "$start_rss") MiB, end of warm-up (${warm_t} s)" \
    "$(mib "$warm_rss") MiB, end (${end_t} s) $(mib "$end_rss") MiB, peak after warm-up" \
    "$(mib "$peak_rss") MiB: growth $growth KiB (tolerance $rss_tolerance_kib KiB)"
  echo "                a leak of $(awk -v t="$rss_tolerance_kib" -v n="$after" \
    'BEGIN { printf "%.1f", t * 1024 / (n > 0 ? n : 1) }') bytes or more per request would have" \
    "exceeded it over the ~$after requests after the warm-up"
  # The series, about 20 points.
  step=$(( seconds / 20 )); if [ "$step" -lt 1 ]; then step=1; fi
  printf 'RSS over time   '
  awk -v step="$step" -v s="$seconds" 'BEGIN { next_t = 0 }
    $2 != "" && $1 >= next_t && $1 <= s + 0.5 { printf "%ds %.1f  ", $1, $2 / 1024; next_t += step }
    END { print "(MiB)" }' "$work/rss.txt"
  echo "load average    up to $max_load during the run ($(nproc) cores)"
  if [ "$growth" -gt "$rss_tolerance_kib" ]; then
    failures+=("resident memory grew by $growth KiB after the warm-up (tolerance $rss_tolerance_kib KiB)")
  fi
fi
if [ -s "$work/missing_fields" ]; then
  failures+=("the RESULT line lacks a number for: $(sort -u "$work/missing_fields" | tr '\n' ' ')")
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "LOAD TEST FAILED:" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "load test passed: $requests requests, $rps req/s, no wrong answer, no 5xx, no socket error," \
  "memory flat after the warm-up"

[ "$reference" -eq 1 ] || exit 0

# The reference: the same API with the layer (token cache on, then off) and without it, driven
# alternately by the same wrk settings, every answer judged (200 naming the token's subject).
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
"$target_bin" --reference --tokens-file "$work/reference.txt" --distinct "$reference_tokens" \
  >"$work/target.out" 2>"$work/target.err" &
server_pid=$!
await_ready
uncached_port=$(sed -E 's/.* uncached_port=([0-9]+).*/\1/' <<<"$ready")
bare_port=$(sed -E 's/.* bare_port=([0-9]+).*/\1/' <<<"$ready")
echo
echo "reference: $reference_rounds rounds of ${reference_seconds} s per server, $threads wrk" \
  "threads, $connections connections, $reference_tokens valid tokens"

# The target's CPU time so far, in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
# One wrk run; prints its requests per second and the target's CPU time per request (µs: the
# layer's cost without the share of the cores wrk takes), or fails the script on any wrong
# answer.
measure() {
  local port="$1" duration="$2" out="$work/reference-wrk.out" before
  before=$(cpu_ticks)
  wrk -t "$threads" -c "$connections" -d "${duration}s" --timeout "${timeout}s" \
    -s scripts/throughput.lua "http://127.0.0.1:$port" -- "$work/reference.txt" "$threads" \
    >"$out" 2>&1 &
  wrk_pid=$!
  local status=0
  wait "$wrk_pid" || status=$?
  wrk_pid=""
  result=$(grep -m1 '^RESULT ' "$out" || true)
  if [ "$status" -ne 0 ] || [ -z "$result" ]; then
    cat "$out" >&2
    echo "error: wrk failed against port $port" >&2
    exit 1
  fi
  local bad
  bad=$(( $(field wrong) + $(field server_errors) + $(field socket_errors) + $(field uncounted) ))
  if [ "$bad" -ne 0 ]; then
    cat "$out" >&2
    echo "REFERENCE FAILED: wrong answers, 5xx, socket errors or uncounted responses on port $port" >&2
    exit 1
  fi
  awk -v r="$(field rps)" -v n="$(field requests)" -v t="$(( $(cpu_ticks) - before ))" \
    -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%d %.2f\n", r, t * 1e6 / hz / (n > 0 ? n : 1) }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warm-up: every token once through each server (and into the cache).
for p in "$port" "$uncached_port" "$bare_port"; do measure "$p" 1 >/dev/null; done
for mode in cached uncached; do
  if [ "$mode" = cached ]; then layered="$port"; else layered="$uncached_port"; fi
  ratios=() with_all=() without_all=() cpu_with=() cpu_without=()
  for round in $(seq 1 "$reference_rounds"); do
    # Alternate which goes first, so that a drift in the machine's load favours neither.
    if [ $(( round % 2 )) -eq 1 ]; then
      with=$(measure "$layered" "$reference_seconds"); without=$(measure "$bare_port" "$reference_seconds")
    else
      without=$(measure "$bare_port" "$reference_seconds"); with=$(measure "$layered" "$reference_seconds")
    fi
    read -r with with_cpu <<<"$with"
    read -r without without_cpu <<<"$without"
    ratio=$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio") with_all+=("$with") without_all+=("$without")
    cpu_with+=("$with_cpu") cpu_without+=("$without_cpu")
    echo "  $mode round $round: with the layer $with req/s, without $without req/s, ratio $ratio;" \
      "target CPU per request $with_cpu / $without_cpu µs"
  done
  med_ratio=$(printf '%s\n' "${ratios[@]}" | median)
  med_with=$(printf '%s\n' "${with_all[@]}" | median)
  med_without=$(printf '%s\n' "${without_all[@]}" | median)
  echo "reference $mode: median with the layer $med_with req/s, without $med_without req/s," \
    "median ratio $med_ratio (ratios ${ratios[*]}); median target CPU per request" \
    "$(printf '%s\n' "${cpu_with[@]}" | median) / $(printf '%s\n' "${cpu_without[@]}" | median) µs"
  if [ "$mode" = cached ]; then
    if awk -v r="$med_ratio" 'BEGIN { exit !(r >= 0.95) }'; then
      echo "  the layer costs at most 5% with cached tokens: met"
    else
      echo "  the layer costs at most 5% with cached tokens: NOT met (median ratio $med_ratio < 0.95)"
    fi
  fi
done
