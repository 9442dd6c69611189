#!/usr/bin/env node
// Which libbpf the addon is built against and ships with: the copy scripts/setup.sh unpacks into
// native/deps/libbpf/ (libbpf 1.4.6 from Debian's bookworm-backports), else the system's. node-gyp
// (native/binding.gyp), scripts/stage-native.js and scripts/bundle.js all ask this one file.
//
// Usage: node scripts/libbpf.js include|libs|ldflags|so|version
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const vendored = path.join(root, 'native', 'deps', 'libbpf');

/** The directory holding libbpf.so under a prefix (usr/lib/<multiarch> in a Debian package). */
function libDir(prefix) {
  const candidates = [path.join(prefix, 'usr', 'lib'), path.join(prefix, 'usr', 'lib64')];
  for (const base of candidates) {
    if (!fs.existsSync(base)) continue;
    for (const sub of ['', ...fs.readdirSync(base)]) {
      const dir = path.join(base, sub);
      if (fs.existsSync(path.join(dir, 'libbpf.so.1'))) return dir;
    }
  }
  return undefined;
}

/** {include, lib, so, vendored}: the vendored copy when it is complete, else the system's. */
function libbpf() {
  const lib = fs.existsSync(vendored) ? libDir(vendored) : undefined;
  const include = path.join(vendored, 'usr', 'include');
  if (lib && fs.existsSync(path.join(include, 'bpf', 'libbpf.h'))) {
    return { vendored: true, include, lib, so: path.join(lib, 'libbpf.so.1') };
  }
  const systemLib = process.env.EBPF_STUDIO_LIBBPF
    ? path.dirname(process.env.EBPF_STUDIO_LIBBPF)
    : ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].find((dir) =>
        fs.existsSync(path.join(dir, 'libbpf.so.1')),
      );
  return {
    vendored: false,
    include: '/usr/include',
    lib: systemLib,
    so: process.env.EBPF_STUDIO_LIBBPF ?? (systemLib ? path.join(systemLib, 'libbpf.so.1') : undefined),
  };
}

/** "1.4.6" from the real file name of libbpf.so.1 (libbpf.so.1 -> libbpf.so.1.4.6). */
function version(so) {
  try {
    const m = /libbpf\.so\.(\d+\.\d+\.\d+)$/.exec(fs.realpathSync(so));
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

/** The BPF-side headers (what BPF C includes as <bpf/...>), shipped with the extension. */
const bpfHeaders = [
  'bpf_helpers.h',
  'bpf_helper_defs.h',
  'bpf_tracing.h',
  'bpf_core_read.h',
  'bpf_endian.h',
  'usdt.bpf.h',
];

module.exports = { libbpf, version, bpfHeaders, vendored };

if (require.main === module) {
  const found = libbpf();
  const what = process.argv[2];
  const out = {
    // node-gyp: the vendored headers ahead of the system's; nothing to add for the system's own.
    include: found.vendored ? found.include : '',
    libs: found.vendored ? `-L${found.lib} -lbpf` : '-lbpf',
    // A build-tree addon (native/build/Release) has no libbpf next to it: let it find the vendored one.
    ldflags: found.vendored ? `-Wl,-rpath,${found.lib}` : '',
    so: found.so ?? '',
    version: version(found.so ?? '') ?? 'unknown',
  }[what];
  if (out === undefined) {
    console.error('Usage: node scripts/libbpf.js include|libs|ldflags|so|version');
    process.exit(2);
  }
  process.stdout.write(out + '\n');
}
