#!/usr/bin/env bash
# The interoperability tests against Glewlwyd (a C OAuth 2.0 / OpenID Connect server, Debian
# package `glewlwyd`): installs the package and sqlite3 when `glewlwyd` is missing, then runs
# `cargo test --features interop --test glewlwyd`. Extra arguments go to the test binary's
# filter, e.g. `bash tests/glewlwyd/run.sh rotat`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v glewlwyd >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "tests/glewlwyd/run.sh: installing glewlwyd and sqlite3 (apt-get)" >&2
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y glewlwyd sqlite3
fi

exec cargo test --features interop --test glewlwyd -- "$@"
