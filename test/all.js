#!/usr/bin/env node
// `npm test`: every tier in turn — unit, kernel and security (test/run.js), then the real-VS-Code tiers
// (test/e2e/run.js: integration inside code-server's extension host, and chromium end-to-end) — and one
// closing line for all of them: "tests: N passed, N failed, N skipped". A tier that fails does not stop
// the others, so one run shows everything that is wrong.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const runs = [
  ['unit, kernel, security, faults', [path.join(__dirname, 'run.js'), 'unit', 'kernel', 'security', 'faults']],
  ['integration and e2e', [path.join(__dirname, 'e2e', 'run.js')]],
];

function runTier([name, args]) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    });
    child.on('exit', (code, signal) => {
      const summary = [...tail.matchAll(/^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/gm)].pop();
      if (!summary) {
        console.log(`\n${name}: ended (${signal ?? `exit ${code}`}) without a summary line: counted as one failure`);
        resolve([0, 1, 0]);
        return;
      }
      const counts = summary.slice(1).map(Number);
      // A runner that exits non-zero with no failed test still failed (e.g. a crash after the run).
      if (code !== 0 && counts[1] === 0) counts[1] = 1;
      resolve(counts);
    });
  });
}

(async () => {
  const total = [0, 0, 0];
  for (const run of runs) {
    const counts = await runTier(run);
    counts.forEach((n, i) => (total[i] += n));
  }
  console.log(`\ntests: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`);
  process.exitCode = total[1] > 0 ? 1 : 0;
})();
