#!/usr/bin/env node
// `npm run test:e2e`: the two tiers that need a real VS Code. Installs code-server and chromium when
// missing (scripts/code-server.sh), packs the .vsix once, runs the integration tier inside code-server's
// extension host (test/integration/), then the browser tests (test/e2e/**/*.test.ts), and ends with the
// plain summary line CI reads: "tests: N passed, N failed, N skipped". Screenshots and logs go to
// test/e2e/artifacts/.
'use strict';
require('tsx/cjs');
const Mocha = require('mocha');
const fs = require('fs');
const path = require('path');
const { ensureTools, packageExtension } = require('./support/code-server');
const { runIntegrationTier } = require('../integration/host');

function testFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['artifacts', 'support'].includes(entry.name) ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function runMocha(files) {
  const mocha = new Mocha({ reporter: 'spec', timeout: 120000 });
  files.forEach((file) => mocha.addFile(file));
  return new Promise((resolve) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, pending = 0 } = runner.stats ?? {};
      resolve({ passed: passes, failed: failures, skipped: pending });
    });
  });
}

async function main() {
  const started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  ensureTools({ chromium: true });
  process.env.EBPF_STUDIO_VSIX = packageExtension();
  console.log(`\ntest:e2e: integration tier, in code-server's extension host (${seconds()})`);
  const integration = await runIntegrationTier().catch((error) => {
    console.error(`integration tier did not run: ${error.stack}`);
    return { passed: 0, failed: 1, skipped: 0 };
  });
  console.log(`\ntest:e2e: e2e tier, chromium driving code-server (${seconds()})`);
  const e2e = await runMocha(testFiles(__dirname).sort());
  const total = ['passed', 'failed', 'skipped'].map((k) => integration[k] + e2e[k]);
  console.log(`\ntest:e2e: done in ${seconds()}; screenshots and logs in test/e2e/artifacts/`);
  console.log(`\ntests: ${total[0]} passed, ${total[1]} failed, ${total[2]} skipped`);
  process.exitCode = total[1] > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(error.stack);
  console.log('\ntests: 0 passed, 1 failed, 0 skipped');
  process.exitCode = 1;
});
