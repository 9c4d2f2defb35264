#!/usr/bin/env bash
# Runs each fuzz target for a bounded time and fails if any of them finds a crash (a panic,
# an out-of-memory, an input slower than the timeout). The corpora grow in fuzz/corpus/
# (seeded by fuzz/seed.sh); a crashing input is kept in fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [seconds-per-target] [target...]     # default: 60 s, every target
#
# FUZZ_SANITIZER=address turns AddressSanitizer on (default none: tokengate has no unsafe
# code, and the C code underneath, aws-lc, is not instrumented either way).
# FUZZ_JOBS=n runs n fuzzing processes per target (libFuzzer's -fork=n; default 1).
#
# Stable Rust is enough: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass the few unstable flags it
# uses (the sanitizer ones) to the stable compiler.
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
[ "$#" -gt 0 ] && shift
all=(jws_compact jwks validate validate_signed credentials dpop_proof)
targets=("${@:-${all[@]}}")

CARGO_FUZZ_VERSION=0.13.2
export RUSTC_BOOTSTRAP=1
export CARGO_INCREMENTAL=0
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"

# Longest input per target. Tokens over the gate's default cap (64 KiB) are refused after a
# length check, so the parsing and validating targets go just past it; a key set is not
# likely to be larger than 32 KiB (Entra's is about 16 KiB); request headers seldom exceed
# 16 KiB. Claims sets for validate_signed are signed on each run: 16 KiB keeps it fast, and
# larger claims are parsed by jws_compact.
max_len() {
  case "$1" in
    jws_compact) echo 65536 ;;
    validate) echo 65600 ;;
    jwks) echo 32768 ;;
    validate_signed | credentials) echo 16384 ;;
    dpop_proof) echo 9000 ;;
    *) echo "run.sh: unknown target $1" >&2; exit 2 ;;
  esac
}

if ! command -v c++ >/dev/null 2>&1; then
  echo "run.sh: libfuzzer-sys builds libFuzzer with a C++ compiler: install g++ (or clang)" >&2
  exit 2
fi
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

build=(--fuzz-dir "$fuzz" --sanitizer "$sanitizer" --debug-assertions)
started=$(date +%s)
cargo fuzz build "${build[@]}"
echo "run.sh: built in $(($(date +%s) - started)) s; fuzz/target is $(du -sh "$fuzz/target" | cut -f1)"

bash "$fuzz/seed.sh"
mkdir -p "$fuzz/artifacts/logs"
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-fork="$jobs"); fi
failed=()
for target in "${targets[@]}"; do
  log="$fuzz/artifacts/logs/$target.log"
  echo "run.sh: $target for ${seconds} s (log: $log)"
  # -timeout: any one input taking 10 s is a bug (quadratic parsing, say), as is an
  # allocation above the RSS limit from inputs this small.
  if cargo fuzz run "${build[@]}" "$target" "$fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1; then
    # The last status line (coverage, features, corpus) and the run's speed.
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  else
    tail -n 60 "$log"
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "run.sh: crashes in: ${failed[*]}; inputs kept in:" >&2
  for target in "${failed[@]}"; do
    find "$fuzz/artifacts/$target" -type f -newermt "@$started" -print >&2 || true
  done
  echo "run.sh: reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz -s $sanitizer -a <target> <input>" >&2
  exit 1
fi
echo "run.sh: every target ran ${seconds} s without a crash ($(($(date +%s) - started)) s in all)"
