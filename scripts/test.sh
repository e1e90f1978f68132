#!/usr/bin/env bash
# Lint, type-check and run every test (each test starts its own beanstalkd, Prometheus and workers).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
