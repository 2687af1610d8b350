#!/usr/bin/env bash
# Every test of the repository: lint + types, the runtime, the language server, the
# extension's unit tests, and the extension inside a real VS Code (code-server + Chromium).
# Installs what it needs (pip into .venv, npm, apt for Chromium) on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "python environment"
bash .ci/setup-python.sh

step "lint and types (ruff, mypy)"
.venv/bin/ruff check py_server tests benchmarks examples
.venv/bin/mypy

step "build the .vsix"
# Built once here; the end-to-end tests install this very file.
export FLOWSCRIBE_VSIX="$PWD/test-artifacts/flowscribe.vsix"
mkdir -p test-artifacts
VSIX_OUT="$FLOWSCRIBE_VSIX" bash .ci/build-vsix.sh

step "extension unit tests and lint"
(cd vscode-ext && npm run --silent lint && npm test)

step "real VS Code for the end-to-end tests"
bash .ci/setup-e2e.sh

step "real editors for tests/lsp/e2e/editors (Emacs + eglot from apt; Neovim came with pip)"
bash .ci/setup-editors.sh

step "runtime tests on the oldest supported Python (3.9), when this machine has one"
bash .ci/test-py39.sh

step "pytest: runtime, server, examples, benchmarks smoke, end-to-end"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
