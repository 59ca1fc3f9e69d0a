#!/usr/bin/env bash
# Set up (scripts/setup.sh) and open the example notebooks in JupyterLab. Without a screen (no
# DISPLAY), no browser is opened: the URL to open is printed instead. PORT=8888 by default.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

port=${PORT:-8888}
token=${JUPYTER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')}
args=(--ip=127.0.0.1 "--port=$port" --ServerApp.port_retries=0
      "--IdentityProvider.token=$token" --ServerApp.root_dir=examples)
[[ "$(id -u)" == 0 ]] && args+=(--allow-root)
if [[ -z "${DISPLAY:-}" && "$(uname)" != Darwin ]]; then
  args+=(--no-browser)
  echo
  echo "  No screen here: open this URL in a browser (forward port $port if remote):"
  echo "  http://127.0.0.1:$port/lab?token=$token"
  echo
fi
exec .venv/bin/jupyter lab "${args[@]}"
