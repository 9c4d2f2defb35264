#!/usr/bin/env bash
# The Redis replay store's tests against a real redis-server (Debian package `redis-server`):
# installs it when missing, then runs `cargo test --features redis --test redis`. Extra
# arguments go to the test binary's filter, e.g. `bash tests/redis/run.sh fleet`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v redis-server >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "tests/redis/run.sh: installing redis-server (apt-get)" >&2
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

exec cargo test --features redis --test redis -- "$@"
