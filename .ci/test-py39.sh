#!/usr/bin/env bash
# The runtime promises Python >= 3.9: run its tests on 3.9 in a
# venv of its own (.venv39) when the machine has a 3.9 interpreter; say so when it doesn't.
set -euo pipefail
cd "$(dirname "$0")/.."
py39=""
for c in "${PYTHON39:-}" "$(command -v python3.9 || true)" "$HOME"/.pyenv/versions/3.9*/bin/python; do
  if [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null; then
    py39=$c; break
  fi
done
if [ -z "$py39" ]; then
  echo "no Python 3.9 on this machine: skipping the 3.9 run"
  exit 0
fi
if [ ! -x .venv39/bin/python ]; then
  "$py39" -m venv .venv39
fi
stamp=.venv39/.flowscribe-install-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv39/bin/python -m pip install --quiet --disable-pip-version-check -e . \
    pytest hypothesis jsonschema
  echo "$want" > "$stamp"
fi
.venv39/bin/python -m pytest -p no:cacheprovider -q tests/runtime tests/examples
