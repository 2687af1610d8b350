#!/usr/bin/env bash
# The main job: set up, run the example app, show its artifacts, build the .vsix.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/setup-python.sh

app=examples/trading_app
printf '\n=== running the example app (%s)\n' "$app"
# The example fails on purpose (DATA.EMPTY, EXTERNAL.TIMEOUT): its exit status is not ours.
(cd "$app" && ../../.venv/bin/python app.py) || true
printf '\n=== artifacts\n'
for f in summary.md ask.md trace.jsonl latest; do
  [ -e "$app/.autodev/$f" ] && echo "  $app/.autodev/$f"
done
printf '\n=== building the VS Code extension\n'
bash .ci/build-vsix.sh
printf '\nNext: install the .vsix (code --install-extension <path>), open %s, and look at the Problems panel.\n' "$app"
