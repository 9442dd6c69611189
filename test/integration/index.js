// Entry of the integration tier inside VS Code's extension host (code-server loads it through the
// `extensionTestsPath` of the page's payload): runs test/integration/*.test.ts with mocha and tsx, writes
// the counts to EBPF_STUDIO_INTEGRATION_RESULTS for the runner outside, and rejects when a test failed.
'use strict';
const fs = require('fs');
const path = require('path');
const util = require('util');

exports.run = async function run() {
  // tsx compiles the TypeScript tests on require, as test/run.js does outside VS Code. (Stacks show
  // compiled positions: the extension host installs its own Error.prepareStackTrace.)
  require('tsx/cjs');
  const Mocha = require('mocha');
  // The host forwards every console line of the workbench; a prefix tells the runner outside which are
  // the report's. Base.consoleLog is what mocha's reporters print with.
  const print = Mocha.reporters.Base.consoleLog;
  Mocha.reporters.Base.consoleLog = (...args) => print(`[mocha] ${util.format(...args)}`);
  const mocha = new Mocha({ reporter: 'spec', color: false, timeout: 60_000 });
  for (const file of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  const stats = await new Promise((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats));
  });
  const results = { passed: stats.passes, failed: stats.failures, skipped: stats.pending };
  if (process.env.EBPF_STUDIO_INTEGRATION_RESULTS) {
    fs.writeFileSync(process.env.EBPF_STUDIO_INTEGRATION_RESULTS, JSON.stringify(results));
  }
  if (results.failed > 0) throw new Error(`${results.failed} integration test(s) failed`);
};
