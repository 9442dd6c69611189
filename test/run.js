#!/usr/bin/env node
// Runs the named test tiers (unit, kernel, security, ...) in one mocha run and ends with the plain
// summary line CI reads: "tests: N passed, N failed, N skipped".
'use strict';
require('tsx/cjs');
const Mocha = require('mocha');
const fs = require('fs');
const path = require('path');

const tiers = process.argv.slice(2);
if (tiers.length === 0) {
  console.error('usage: node test/run.js TIER... (unit, kernel, security)');
  process.exit(2);
}

function testFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const mocha = new Mocha({ reporter: 'spec', timeout: tiers.includes('unit') && tiers.length === 1 ? 10000 : 120000 });
for (const tier of tiers) {
  const files = testFiles(path.join(__dirname, tier)).sort();
  if (files.length === 0) {
    console.error(`test tier "${tier}" has no test files under test/${tier}/`);
    process.exit(2);
  }
  files.forEach((file) => mocha.addFile(file));
}

const runner = mocha.run((failures) => {
  const { passes = 0, pending = 0 } = runner.stats ?? {};
  console.log(`\ntests: ${passes} passed, ${failures} failed, ${pending} skipped`);
  // Counts a tier reports about itself (the security tier: "N requests tried, N refused, 0 crashed").
  for (const line of globalThis.ebpfStudioSummaryLines ?? []) console.log(line);
  process.exitCode = failures > 0 ? 1 : 0;
  // A test that failed half-way can leave a helper client or a timer behind, which would keep this
  // process (and the kernel-tests lock, and CI) waiting forever: the summary is out, so end here.
  setTimeout(() => {
    console.error('test/run.js: something was still open after the last test; exiting anyway');
    process.exit(process.exitCode);
  }, 5000).unref();
});
