#!/usr/bin/env node
// Runs every bench/*.bench.js and bench/*.bench.ts (or only those whose names contain an argument), one
// after the other (they share the kernel), and prints each one's table. A benchmark module exports
// `async function run(): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; notes?: string[] }>`.
'use strict';
require('tsx/cjs');
const fs = require('fs');
const path = require('path');

function table({ title, columns, rows, notes = [] }) {
  const cells = [
    columns,
    ...rows.map((r) =>
      r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : String(c))),
    ),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `\n${title}`,
    line(cells[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    ...notes.map((n) => `  ${n}`),
  ].join('\n');
}

async function main() {
  const filters = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => /\.bench\.(js|ts)$/.test(f))
    .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
    .sort();
  if (files.length === 0) {
    console.error(`no benchmarks${filters.length ? ` matching ${filters.join(', ')}` : ''} in ${__dirname}`);
    process.exit(2);
  }
  let failed = 0;
  for (const file of files) {
    const started = Date.now();
    try {
      const result = await require(path.join(__dirname, file)).run();
      console.log(table(result));
      console.log(`  (${file}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed++;
      console.error(`\n${file} failed: ${error.stack ?? error}`);
    }
  }
  console.log(`\nbenchmarks: ${files.length - failed} ran, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main();
