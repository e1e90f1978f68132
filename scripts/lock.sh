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
lock() {  # lock FILE EXTRA...
  local out=$1; shift
  local extras=()
  for extra in "$@"; do extras+=(--extra "$extra"); done
  .venv/bin/uv pip compile pyproject.toml "${extras[@]}" "${constraints[@]}" --generate-hashes \
    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --quiet \
    --custom-compile-command "bash scripts/lock.sh" -o "requirements/$out"
}
lock base.txt
lock worker.txt wndchrm worker
lock dev.txt wndchrm worker examples dev
# pylibtiff is published as source only: an image builds it, or takes the wheel a build machine made
# (scripts/containers-e2e.sh), whose hash no lock can know. So the worker's images install it by version
# from worker-source.txt (its source's hash kept there as a comment) and everything else hash-checked.
.venv/bin/python - <<'PY'
import re
from pathlib import Path
lock = Path("requirements/worker.txt")
blocks = re.split(r"\n(?=\S)", lock.read_text())
source = [b for b in blocks if b.startswith("pylibtiff==")]
lock.write_text("\n".join(b for b in blocks if b not in source).rstrip("\n") + "\n")
pins = [b.split(" ")[0] for b in source]
hashes = [line.strip() for b in source for line in b.splitlines() if "--hash" in line]
Path("requirements/worker-source.txt").write_text(
    "# Built from source in the worker's image (scripts/lock.sh says why); its sdist on PyPI:\n"
    + "".join(f"#   {h}\n" for h in hashes) + "".join(f"{p}\n" for p in pins))
PY
rm -f requirements/.installed.txt
echo "requirements/: $(grep -c '==' requirements/base.txt) base, $(grep -c '==' requirements/worker.txt) worker, $(grep -c '==' requirements/dev.txt) dev pins"
