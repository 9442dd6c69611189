#!/usr/bin/env node
// Runs every bench/*.bench.js and bench/*.bench.ts (or only those whose names contain an argument), one
// after the other (they share the kernel), and prints each one's table. A benchmark module exports
// `async function run(): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; notes?: string[];
// metrics?: Metric[] }>` (bench/metrics.ts). The metrics of every benchmark go to bench/results.json
// ({name, value, unit, reference, ratio, goal, met}) and, with the tables, to bench/results.md.
//
// --pinned: runs the same benchmarks again on CPU 0 only (taskset -c 0) with a competing busy loop on that
// core, into bench/results-pinned.{json,md}; results.md then shows both runs.
'use strict';
require('tsx/cjs');
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

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

function markdownTable({ title, columns, rows, notes = [] }) {
  const cell = (c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : String(c));
  return [
    `### ${title}`,
    '',
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

function metricsTable(metrics) {
  const num = (v) =>
    typeof v !== 'number' || !Number.isFinite(v) ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2);
  return [
    '| metric | value | reference | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...metrics.map(
      (m) =>
        `| ${m.name} | ${num(m.value)} ${m.unit} | ${m.reference ?? ''} | ${m.ratio === undefined ? '' : num(m.ratio) + 'x'} | ${m.goal ?? ''} | ${m.met === null ? '' : m.met ? 'yes' : '**no**'} |`,
    ),
    '',
  ].join('\n');
}

function machine() {
  const cpus = require('os').cpus();
  const clang = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  return `${cpus.length} x ${cpus[0]?.model ?? 'CPU'}, ${require('os').release()}, ${clang}`;
}

async function runAll(filters, label) {
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
  const metrics = [];
  const sections = [];
  const started = Date.now();
  for (const file of files) {
    const t = Date.now();
    try {
      const result = await require(path.join(__dirname, file)).run();
      console.log(table(result));
      console.log(`  (${file}, ${((Date.now() - t) / 1000).toFixed(1)} s)`);
      metrics.push(...(result.metrics ?? []));
      sections.push(markdownTable(result));
    } catch (error) {
      failed++;
      console.error(`\n${file} failed: ${error.stack ?? error}`);
      sections.push(`### ${file}\n\nFAILED: ${String(error.message ?? error).split('\n')[0]}\n`);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const suffix = label ? `-${label}` : '';
  fs.writeFileSync(path.join(__dirname, `results${suffix}.json`), JSON.stringify(metrics, null, 2) + '\n');
  const heading = label ? `## ${label} run: taskset -c 0 with a competing busy loop on CPU 0` : '## Unpinned run';
  fs.writeFileSync(
    path.join(__dirname, `results${suffix}.section.md`),
    [
      heading,
      '',
      `${machine()}; ${files.length} benchmarks in ${seconds.toFixed(0)} s.`,
      '',
      metricsTable(metrics),
      ...sections,
    ].join('\n'),
  );
  const parts = ['', '-pinned']
    .map((s) => path.join(__dirname, `results${s}.section.md`))
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f, 'utf8'));
  fs.writeFileSync(path.join(__dirname, 'results.md'), ['# npm run bench', '', ...parts].join('\n'));
  console.log(
    `\nbenchmarks: ${files.length - failed} ran, ${failed} failed, ${seconds.toFixed(0)} s; bench/results${suffix}.json, bench/results.md`,
  );
  return failed;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--pinned') {
    // A competing load on the one core the benchmark may use.
    const busy = spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      const r = spawnSync('taskset', ['-c', '0', process.execPath, __filename, '--label', 'pinned', ...args.slice(1)], {
        stdio: 'inherit',
      });
      process.exitCode = r.status ?? 1;
    } finally {
      busy.kill('SIGKILL');
    }
    return;
  }
  let label = '';
  if (args[0] === '--label') {
    label = args[1];
    args.splice(0, 2);
  }
  const failed = await runAll(args, label);
  process.exitCode = failed > 0 ? 1 : 0;
}

main();
