#!/usr/bin/env bash
# flowscribe promises Python >= 3.9: run the runtime's tests on 3.9, and the language
# server's end-to-end tests against a server running on 3.9, from a venv of its own
# (.venv39), when the machine has a 3.9 interpreter; say so when it doesn't.
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
want=$(cat pyproject.toml "$0" | sha256sum | cut -d" " -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv39/bin/python -m pip install --quiet --disable-pip-version-check -e '.[lsp]' \
    pytest hypothesis jsonschema
  echo "$want" > "$stamp"
fi
.venv39/bin/python -m pytest -p no:cacheprovider -q tests/runtime tests/examples
# The server under test runs on 3.9; the test client (pytest-lsp) runs on the main venv.
FLOWSCRIBE_TEST_SERVER_PYTHON="$PWD/.venv39/bin/python" \
  .venv/bin/python -m pytest -p no:cacheprovider -q tests/lsp
