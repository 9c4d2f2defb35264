#!/usr/bin/env bash
# The interoperability tests against a real OpenID provider (panva's oidc-provider on Node.js):
# installs the provider's pinned packages with `npm ci` when they are missing or older than
# package-lock.json, then runs `cargo test --features interop --test interop`. Extra arguments
# go to the test binary's filter, e.g. `bash tests/idp/run.sh rotated`.
set -euo pipefail
cd "$(dirname "$0")"

need="Node.js 20.19 or later (22 LTS recommended) and npm (Debian 13: apt-get install nodejs npm;
Debian 12's nodejs is too old: use NodeSource's packages)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "tests/idp/run.sh: the interop tests need $need; node or npm is not on PATH." >&2
  exit 1
fi
if ! node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);
'; then
  echo "tests/idp/run.sh: Node.js $(node --version) is too old; the interop tests need $need." >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tests/idp/run.sh: installing the provider's packages (npm ci in tests/idp)" >&2
  npm ci --no-audit --no-fund
fi

cd ../..
exec cargo test --features interop --test interop -- "$@"
