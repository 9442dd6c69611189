#!/usr/bin/env bash
# Everything eBPF Studio needs on a fresh Debian 12 (or Ubuntu) machine: system packages, npm
# dependencies, the native addon, the bundles, and bpffs/tracefs mounted. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool bpftrace iproute2 sudo make g++ python3 util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq || { echo "setup: apt-get update failed: check the network or your apt sources" >&2; exit 1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "setup: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is needed (apt-get install nodejs npm)" >&2; exit 1; }

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "setup: building the native addon (node-gyp, against the system libbpf)"
npm run --silent build:native >/dev/null || { echo "setup: the addon did not build: see npm run build:native" >&2; exit 1; }

echo "setup: bundling"
npm run --silent build

# The helper mounts these itself when it starts; the tests and bpftool want them too.
mountpoint -q /sys/fs/bpf || as_root mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || as_root mount -t tracefs tracefs /sys/kernel/tracing
echo "setup: done"
