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

# libbpf 1.4.6 for the addon and the headers shipped with the extension (BPF_UPROBE, BPF_KSYSCALL,
# bpf_ksym_exists... are not in Debian 12's libbpf 1.1). Unpacked into native/deps/libbpf from
# bookworm-backports rather than installed: the distribution's libbpf, which bpftool, iproute2 and
# other programs link against, stays as it is. scripts/libbpf.js finds it; without it the build uses
# the system's libbpf.
LIBBPF_VERSION=1.4.6
vendored=native/deps/libbpf
have_vendored() { [ "$(node scripts/libbpf.js version 2>/dev/null)" = "$LIBBPF_VERSION" ] && [ -d "$vendored" ]; }
if ! have_vendored && [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
  # The same mirror as the machine's own Debian sources (deb822 "URIs:" or one-line "deb URL suite").
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -v '^\s*#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
  # (|| true: with pipefail, a sources file that does not exist, e.g. no /etc/apt/sources.list, fails the pipe.)
  mirror=${mirror%/}
  mirror=${mirror:-http://deb.debian.org/debian}
  if ! apt-cache policy libbpf-dev 2>/dev/null | grep -q "$LIBBPF_VERSION"; then
    echo "setup: enabling bookworm-backports ($mirror) for libbpf $LIBBPF_VERSION"
    echo "deb $mirror bookworm-backports main" | as_root tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    as_root apt-get update -qq || { echo "setup: apt-get update failed after adding bookworm-backports" >&2; exit 1; }
  fi
  debs=$(mktemp -d) && chmod 755 "$debs" # apt downloads as _apt
  (cd "$debs" && apt-get download -qq "libbpf1=1:$LIBBPF_VERSION-1~bpo12+1" "libbpf-dev=1:$LIBBPF_VERSION-1~bpo12+1") \
    || { echo "setup: could not download libbpf $LIBBPF_VERSION from bookworm-backports (apt-cache policy libbpf-dev)" >&2; exit 1; }
  rm -rf "$vendored" && mkdir -p "$vendored"
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$vendored"; done
  rm -rf "$debs"
fi
if have_vendored; then
  echo "setup: libbpf $LIBBPF_VERSION in $vendored"
else
  echo "setup: building against the system's libbpf $(node scripts/libbpf.js version) (libbpf $LIBBPF_VERSION is fetched on Debian 12 only)"
fi


echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "setup: building the native addon (node-gyp, against libbpf $(node scripts/libbpf.js version))"
npm run --silent build:native >/dev/null || { echo "setup: the addon did not build: see npm run build:native" >&2; exit 1; }

echo "setup: bundling"
npm run --silent build

# The helper mounts these itself when it starts; the tests and bpftool want them too.
mountpoint -q /sys/fs/bpf || as_root mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/tracing || as_root mount -t tracefs tracefs /sys/kernel/tracing
echo "setup: done"
