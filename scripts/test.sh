#!/usr/bin/env bash
# Set up (scripts/setup.sh --test) and run every check: ruff, the TypeScript type check, the JS
# unit tests (vitest), then pytest — unit, property-based, packaging and real-browser tests.
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not browser"`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== tsc"
npx --no-install tsc --noEmit
echo "== vitest"
npx --no-install vitest run
echo "== pytest"
.venv/bin/python -m pytest "$@"
