#!/usr/bin/env bash
# Builds the VS Code extension into one self-contained .vsix from a fresh clone:
# npm ci, bundle the Python server and its pure-Python libs, esbuild, vsce package.
# Prints the .vsix path and size. Output: vscode-ext/flowscribe-<version>.vsix (or $VSIX_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ -n "${PYTHON:-}" ]; then py=$PYTHON
elif [ -x .venv/bin/python ]; then py=$root/.venv/bin/python
else py=python3
fi

cd vscode-ext
version=$(node -p "require('./package.json').version")
out=${VSIX_OUT:-$root/vscode-ext/flowscribe-$version.vsix}

echo "--- npm ci (vscode-ext)"
npm ci --no-audit --no-fund --loglevel=error

echo "--- bundling the Python server and its libraries"
# FLOWSCRIBE_ALLOW_MISSING_SCHEMAS=1 builds even without the ra/flows JSON Schemas (warns).
"$py" scripts/bundle_python.py ${FLOWSCRIBE_ALLOW_MISSING_SCHEMAS:+--allow-missing-schemas}

echo "--- smoke test: the bundled server starts with no site-packages"
smoke=("$py")
# Also the oldest supported Python, when this machine has one that runs.
for py39 in "$(command -v python3.9 || true)" "$HOME"/.pyenv/versions/3.9*/bin/python; do
  if [ -x "$py39" ] && "$py39" -c pass 2>/dev/null; then smoke+=("$py39"); break; fi
done
"$py" scripts/smoke_server.py "${smoke[@]}"

echo "--- vsce package (runs the production esbuild through vscode:prepublish)"
rm -f "$out"
# No public repository URL yet: say so rather than invent one.
npx --no-install vsce package --no-dependencies --allow-missing-repository --out "$out"

size=$(stat -c %s "$out")
files=$("$py" -c "import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))" "$out")
printf 'vsix: %s (%d KiB, %s files)\n' "$out" $((size / 1024)) "$files"
