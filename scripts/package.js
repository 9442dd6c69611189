#!/usr/bin/env node
// `npm run package`: builds dist/ (the native addon too, when it was never built) and packs
// ebpf-studio-<version>.vsix with vsce. esbuild bundles every npm dependency, so vsce runs with
// --no-dependencies and .vscodeignore keeps node_modules, sources and tests out. The archive is then
// checked: what the extension loads at run time must be in it, and nothing of the source tree.
//
// Usage: node scripts/package.js [--no-build] [--out FILE]; prints the path and size of the .vsix.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = path.resolve(
  outIndex >= 0 ? args[outIndex + 1] : path.join(root, `${manifest.name}-${manifest.version}.vsix`),
);

/** Inside the .vsix (under extension/): what the extension host, the helper and the CLI need. */
const required = [
  'package.json',
  // vsce stores README.md and LICENSE under these names.
  'readme.md',
  'LICENSE.txt',
  'dist/extension.js',
  'dist/helper.js',
  'dist/cli.js',
  'dist/probes.bpf.o',
  'dist/native/ebpf_studio.node',
  'dist/native/libbpf.so.1',
  'dist/include/bpf/bpf_helpers.h',
  'dist/include/bpf/bpf_tracing.h',
  'dist/include/bpf/bpf_core_read.h',
  'media/ebpf.svg',
];
/** Nothing under these may be packed. */
const forbidden = [
  /^node_modules\//,
  /^extension\//,
  /^native\//,
  /^test\//,
  /^scripts\//,
  /^bench\//,
  /\.ts$/,
  /\.map$/,
];

function run(command, commandArgs) {
  console.log(`package: ${command} ${commandArgs.join(' ')}`);
  execFileSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
}

/** Entry names of a zip archive, read from its central directory (a .vsix is a zip). */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip archive`);
  const count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    names.push(buf.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** Files the manifest's contributions name (icons, grammars, language configurations, walkthrough media). */
function manifestFiles(value) {
  if (typeof value === 'string') {
    const file = path.normalize(value).replace(/^\.\//, '');
    return /^[\w.-]+\/[\w./-]+\.\w+$/.test(file) && fs.existsSync(path.join(root, file)) ? [file] : [];
  }
  if (value && typeof value === 'object') return Object.values(value).flatMap(manifestFiles);
  return [];
}

function main() {
  if (!args.includes('--no-build')) {
    if (!fs.existsSync(path.join(root, 'dist/native/ebpf_studio.node'))) {
      try {
        run('npm', ['run', '--silent', 'build:native']);
      } catch {
        console.error(
          'package: the native addon did not build (npm run build:native); packing what exists, the check below says what is missing',
        );
      }
    }
    run('npm', ['run', '--silent', 'build']);
  }
  const vsce = require.resolve('@vscode/vsce/vsce');
  // No repository field: vsce would otherwise stop and ask, and refuse README's relative links.
  run(process.execPath, [
    vsce,
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    '--no-rewrite-relative-links',
    '--out',
    out,
  ]);

  const entries = zipEntries(out)
    .filter((e) => e.startsWith('extension/'))
    .map((e) => e.slice('extension/'.length));
  // Every bundle the build made must be packed too (the language server's dist/server.js, webviews...).
  const bundles = fs
    .readdirSync(path.join(root, 'dist'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `dist/${f}`);
  const missing = [...new Set([...required, ...bundles, ...manifestFiles(manifest.contributes)])].filter(
    (f) => !entries.includes(f),
  );
  const stray = entries.filter((e) => forbidden.some((re) => re.test(e)));
  const size = fs.statSync(out).size;
  console.log(`package: ${out} (${(size / 1024 / 1024).toFixed(2)} MiB, ${entries.length} files)`);
  if (missing.length > 0 || stray.length > 0) {
    if (missing.length > 0)
      console.error(
        `package: missing from the .vsix: ${missing.join(', ')} (dist/ comes from npm run build:native && npm run build)`,
      );
    if (stray.length > 0)
      console.error(`package: should not be in the .vsix: ${stray.join(', ')} (exclude them in .vscodeignore)`);
    process.exit(1);
  }
}

try {
  main();
} catch (error) {
  console.error(`package: ${error.message}`);
  process.exit(1);
}
