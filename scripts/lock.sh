#!/usr/bin/env bash
# Refresh the hashed lock files in requirements/ that the images, CI and scripts/setup.sh install from.
#   bash scripts/lock.sh            pin what .venv holds now (the versions the tests last ran with)
#   bash scripts/lock.sh --upgrade  the newest versions pyproject.toml allows; then run the tests
# One lock per set of extras: worker (wndchrm, worker), base (the submitter and the monitor), dev (CI).
# Hashes cover every file of each pinned version on the index, so an image for another CPU still checks.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv
constraints=()
if [ "${1:-}" != "--upgrade" ]; then
  # a package installed from a local file is pinned from the index (its version is in pyproject.toml)
  .venv/bin/python -m pip freeze --exclude-editable | grep -v -e '^-e ' -e ' @ ' > requirements/.installed.txt
  constraints=(--constraint requirements/.installed.txt)
fi
lock() {  # lock FILE [UV-OPTION...]
  local out=$1; shift
  .venv/bin/uv pip compile pyproject.toml "$@" "${constraints[@]}" --generate-hashes \
    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --quiet \
    --custom-compile-command "bash scripts/lock.sh" -o "requirements/$out"
}
lock base.txt
# The worker's image leaves out what only CharmFeatures' batch tool needs (worker-overrides.txt says why),
# pylibtiff among it: so every package of worker.txt has a wheel and a hash, and the image installs it
# with --no-deps.
lock worker.txt --extra wndchrm --extra worker --override requirements/worker-overrides.txt
lock dev.txt --extra wndchrm --extra worker --extra examples --extra dev
rm -f requirements/.installed.txt
echo "requirements/: $(grep -c '==' requirements/base.txt) base, $(grep -c '==' requirements/worker.txt) worker, $(grep -c '==' requirements/dev.txt) dev pins"
