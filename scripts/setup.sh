#!/usr/bin/env bash
# Set up everything on a fresh Debian/Ubuntu machine: system packages (Chromium for the browser
# tests, Graphviz for static draw_dot renders, Node.js for the front-end build), a virtual
# environment in .venv with the package installed editable plus its test/dev extras, and the JS
# bundle. Safe to run again: it only installs what is missing.
#
#   scripts/setup.sh            # for the examples (no browser)
#   scripts/setup.sh --test     # also Chromium for the real-browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[[ "${1:-}" == "--test" ]] && want_browser=1

packages=()
command -v node >/dev/null || packages+=(nodejs npm)
command -v dot >/dev/null || packages+=(graphviz)
if ((want_browser)); then
  [[ -x /usr/bin/chromium ]] || packages+=(chromium)
  [[ -d /usr/share/fonts/truetype/dejavu ]] || packages+=(fonts-dejavu-core)
fi
if ((${#packages[@]})); then
  echo "setup: installing Debian packages: ${packages[*]}"
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  { echo "setup: Python >= 3.10 is required (got $("$python" --version))" >&2; exit 1; }
[[ -x .venv/bin/python ]] || "$python" -m venv .venv

echo "setup: npm packages"
npm ci --no-audit --no-fund --loglevel=error
echo "setup: Python packages into .venv"
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# The editable install runs `npm run build` through hatch-jupyter-builder.
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import micrograd_widgets" # fail here, not later, if the install broke
npm run --silent build >/dev/null
echo "setup: done"
