#!/usr/bin/env node
// `npm start`: eBPF Studio in a real VS Code with bpf-samples/ open. Installs code-server once
// (scripts/code-server.sh), builds and packs the .vsix, installs it into code-server, and serves the
// workbench on 127.0.0.1 until Ctrl-C, which stops code-server's whole process group.
//
// Usage: npm start [-- --check]. EBPF_STUDIO_PORT picks the port (default 8080, or a free one when busy);
// --check (or EBPF_STUDIO_START_CHECK=1) starts, waits until the workbench page answers, and stops.
'use strict';
require('tsx/cjs');
const path = require('path');
const {
  CodeServer,
  ensureTools,
  freePort,
  freshState,
  installExtension,
  packageExtension,
  repoRoot,
} = require('../test/e2e/support/code-server');

const check = process.argv.includes('--check') || process.env.EBPF_STUDIO_START_CHECK === '1';

async function main() {
  const started = Date.now();
  const tools = ensureTools({ chromium: false });
  const vsix = packageExtension();
  // A fresh user-data dir each time, so no earlier session's layout or state leaks in; the extensions
  // dir is kept (the install replaces the extension) and lives in the cache beside code-server.
  const state = freshState(path.join(tools.cache, 'start'));
  const extensionsDir = path.join(tools.cache, 'extensions');
  installExtension(tools, state, vsix, extensionsDir);

  const wanted = Number(process.env.EBPF_STUDIO_PORT || 8080);
  const port = await freePort(wanted);
  if (port !== wanted) console.log(`start: port ${wanted} is busy, using ${port}`);
  const workspace = path.join(repoRoot, 'bpf-samples');
  const server = await CodeServer.start(tools, {
    state,
    extensionsDir,
    workspace,
    port,
    log: check ? path.join(state.root, 'code-server.log') : 'inherit',
  });
  const url = server.pageUrl(workspace);
  console.log(
    `start: code-server ${tools.codeServerVersion} with eBPF Studio (${path.basename(vsix)}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`start: state (HOME, TMPDIR, user data) in ${state.root}`);

  if (check) {
    // The workbench page itself, not only /healthz: it is what a browser gets.
    const response = await fetch(url);
    const body = await response.text();
    await server.stop();
    if (!response.ok || !body.includes('vscode-workbench')) {
      console.error(`start --check: ${url} answered ${response.status} without the workbench; log: ${server.logPath}`);
      process.exit(1);
    }
    console.log(`start --check: ${url} served the workbench; stopped again`);
    return;
  }

  console.log(`\n  Open ${url}\n  (Ctrl-C stops it)\n`);
  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    console.log(`start: ${why}, stopping code-server`);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('interrupted'));
  process.on('SIGTERM', () => void stop('terminated'));
  server.child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`start: code-server exited by itself (${signal ?? `exit code ${code}`})`);
    void server.stop().then(() => process.exit(1));
  });
}

main().catch((error) => {
  console.error(`start: ${error.message}`);
  process.exit(1);
});
