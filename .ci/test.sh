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
bash .ci/build-vsix.sh

step "extension unit tests and lint"
(cd vscode-ext && npm run --silent lint && npm test)

step "real VS Code for the end-to-end tests"
bash .ci/setup-e2e.sh

step "pytest: runtime, server, examples, benchmarks smoke, end-to-end"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
