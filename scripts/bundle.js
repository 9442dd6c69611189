#!/usr/bin/env node
// Bundles the extension host, the helper and the CLI with esbuild (separate bundles: only the helper
// ever loads the native addon), and compiles the feature-probe BPF object the helper loads.
'use strict';
const esbuild = require('esbuild');
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // The addon is found at run time next to the bundle (dist/native/), never bundled.
  external: ['vscode', '*.node'],
};

const bundles = [
  { entryPoints: [path.join(root, 'extension/host/main.ts')], outfile: path.join(dist, 'extension.js') },
  { entryPoints: [path.join(root, 'extension/helper/main.ts')], outfile: path.join(dist, 'helper.js') },
  // The root-run step of install-helper: a bundle of its own, so what an administrator authorizes is small.
  { entryPoints: [path.join(root, 'extension/installer/main.ts')], outfile: path.join(dist, 'install-helper.js') },
  // The BPF C language server, a separate process started by the extension's language client.
  { entryPoints: [path.join(root, 'extension/language-server/main.ts')], outfile: path.join(dist, 'server.js') },
  {
    entryPoints: [path.join(root, 'extension/cli.ts')],
    outfile: path.join(dist, 'cli.js'),
    banner: { js: '#!/usr/bin/env node' },
  },
  // Webview front ends (map viewer, trace panel): browser bundles, CSS (uPlot's) emitted next to them.
  ...['map-viewer', 'trace-panel', 'stats-table'].map((name) => ({
    entryPoints: [path.join(root, 'extension/webview', `${name}.ts`)],
    outfile: path.join(dist, 'webview', `${name}.js`),
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    external: [],
  })),
];

function compileProbes() {
  const source = path.join(root, 'native/probes/probes.bpf.c');
  const out = path.join(dist, 'probes.bpf.o');
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs > fs.statSync(source).mtimeMs) return;
  const multiarch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  try {
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-idirafter', multiarch, '-c', source, '-o', out], {
      stdio: 'inherit',
    });
  } catch (error) {
    console.error(`Could not compile ${source} with clang (install clang, llvm and libbpf-dev): ${error.message}`);
    process.exit(1);
  }
}

async function main() {
  fs.mkdirSync(dist, { recursive: true });
  compileProbes();
  if (watch) {
    for (const options of bundles) await (await esbuild.context({ ...common, ...options })).watch();
    return;
  }
  await Promise.all(bundles.map((options) => esbuild.build({ ...common, ...options })));
  fs.chmodSync(path.join(dist, 'cli.js'), 0o755);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
