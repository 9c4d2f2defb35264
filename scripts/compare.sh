#!/usr/bin/env bash
# Paired benchmark of this checkout against another revision, in one process: alternating
# short batches of each, the median of the per-round ratios new/old (which machine drift
# cannot skew), for Gate::validate and one GET through axum with TokenLayer, uncached and
# cached, RS256 and ES256.
#
#   bash scripts/compare.sh            # against HEAD~1
#   bash scripts/compare.sh 93b1345    # against any revision
#
# The cost of the metrics (docs/observability.md): the new side with feature `metrics`, without a
# recorder (the facade's no-op), then with the Prometheus exporter's recorder installed:
#
#   COMPARE_FEATURES=new/metrics bash scripts/compare.sh HEAD
#   COMPARE_FEATURES=new/metrics COMPARE_RECORDER=prometheus bash scripts/compare.sh HEAD
#
# scripts/compare/src/main.rs is written against both revisions' public APIs; when the API
# changes between them, adjust its `old_gate`/`new_gate` (the names each revision uses).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:-HEAD~1}"
old="$root/target/compare/old"
rm -rf "$old"
mkdir -p "$old"
git -C "$root" archive "$rev" | tar -x -C "$old"
# One lockfile cannot hold two packages named tokengate at the same version.
sed -i '0,/^version = "\(.*\)"/s//version = "\1-old"/' "$old/Cargo.toml"
echo "comparing $(git -C "$root" describe --always --dirty) (new) with $(git -C "$root" rev-parse --short "$rev") (old)"
CARGO_TARGET_DIR="$root/target/compare/target" \
  cargo run --release --quiet --manifest-path "$root/scripts/compare/Cargo.toml" \
  ${COMPARE_FEATURES:+--features "$COMPARE_FEATURES"}
