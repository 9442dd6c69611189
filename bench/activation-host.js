// Runs inside code-server's extension host as the `extensionTestsPath` of bench/activation.bench.ts: waits
// until eBPF Studio has activated on its own (workspaceContains:**/*.bpf.c), then writes the extension host's
// performance marks (VS Code's own: code/extHost/{will,did}LoadExtensionCode/<id> and
// {will,did}ActivateExtension/<id>, kept in globalThis.MonacoPerformanceMarks) and this process's peak RSS to
// the file EBPF_STUDIO_BENCH_ACTIVATION names.
'use strict';
const fs = require('fs');

exports.run = async function run() {
  const vscode = require('vscode');
  const id = 'ebpf-studio.ebpf-studio';
  const extension = vscode.extensions.getExtension(id);
  if (!extension) throw new Error(`${id} is not installed in this extension host`);
  const deadline = Date.now() + 60_000;
  while (!extension.isActive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (!extension.isActive) throw new Error(`${id} did not activate within 60 s`);
  // didActivateExtension is marked once activate()'s promise has settled, a tick after isActive.
  await new Promise((r) => setTimeout(r, 200));
  const marks = globalThis.MonacoPerformanceMarks?.getMarks() ?? [];
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  fs.writeFileSync(
    process.env.EBPF_STUDIO_BENCH_ACTIVATION,
    JSON.stringify({
      marks: marks.filter((m) => m.name.startsWith('code/extHost/')),
      peakRssKiB: Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN),
    }),
  );
};
