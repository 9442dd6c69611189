#!/usr/bin/env node
// Copies the built addon and the libbpf it links against into dist/native/, and that libbpf's
// BPF-side headers into dist/include/bpf/ (builds put them ahead of the system's). The addon has
// RUNPATH $ORIGIN, so the packaged copy finds libbpf.so.1 next to itself on machines whose
// libbpf is missing or older.
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const addon = path.join(root, 'native', 'build', 'Release', 'ebpf_studio.node');
const found = require('./libbpf').libbpf();
const libbpf = found.so ?? '/usr/lib/x86_64-linux-gnu/libbpf.so.1';
const outDir = path.join(root, 'dist', 'native');
const includeDir = path.join(root, 'dist', 'include', 'bpf');

function fail(msg) {
  console.error(`stage-native: ${msg}`);
  process.exit(1);
}

if (!fs.existsSync(addon)) fail(`${addon} is missing; run "node-gyp rebuild --directory native" first`);
let libbpfReal;
try {
  libbpfReal = fs.realpathSync(libbpf); // libbpf.so.1 -> libbpf.so.1.1.2
} catch (err) {
  fail(`cannot resolve ${libbpf}: ${err.message} (install libbpf1 / libbpf-dev)`);
}

fs.mkdirSync(outDir, { recursive: true });
const copies = [
  [addon, path.join(outDir, 'ebpf_studio.node')],
  [libbpfReal, path.join(outDir, 'libbpf.so.1')],
];
fs.mkdirSync(includeDir, { recursive: true });
for (const header of require('./libbpf').bpfHeaders) {
  const from = path.join(found.include, 'bpf', header);
  if (fs.existsSync(from)) copies.push([from, path.join(includeDir, header)]);
}
// What Check System shows: the libbpf the headers and the addon come from.
const version = require('./libbpf').version(libbpf) ?? 'unknown';
for (const [from, to] of copies) {
  // Copy to a temp name then rename, so a running helper never maps a half-written file.
  const tmp = `${to}.tmp-${process.pid}`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, to);
  const show = (p) => (p.startsWith(root + path.sep) ? path.relative(root, p) : p);
  console.log(`stage-native: ${show(from)} -> ${show(to)}`);
}
fs.writeFileSync(path.join(includeDir, '..', 'libbpf-version'), `${version}\n`);
console.log(`stage-native: libbpf ${version}${found.vendored ? ' (native/deps/libbpf)' : ' (system)'}`);
