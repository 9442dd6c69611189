// The read-only map viewer's rows and plots for what a bpftrace run printed, from bpftrace 0.17 output
// captured on this machine (test/unit/fixtures/bpftrace/).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseBpftraceOutput } from '../../extension/formats/bpftrace-output';
import { bpftraceMapsJson, bpftracePlots, bpftraceRows } from '../../extension/host/features/bpftrace/model';
import type { BpftraceMapEvent } from '../../extension/host/features/bpftrace/session';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', 'bpftrace', name), 'utf8');
const mapsOf = (stdout: string) => {
  const maps = new Map<string, BpftraceMapEvent>();
  for (const e of parseBpftraceOutput(stdout))
    if (e.type === 'map' || e.type === 'hist' || e.type === 'stats') maps.set(e.name, e);
  return maps;
};

describe('bpftrace maps as map viewer rows', () => {
  it('turns hist and lhist maps into one row per key and one plot per key', () => {
    const maps = mapsOf(fixture('hist.stdout'));
    const rows = bpftraceRows(maps.values());
    assert.deepEqual(
      rows.map((r) => r.cells.slice(0, 2)),
      [
        ['@bycomm', 'node'],
        ['@bytes', ''],
        ['@linear', ''],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.index),
      [0, 1, 2],
    );
    // @bytes: 1+25+5+6+16+19+14+8+4+4+1+2 samples in the captured run.
    assert.equal(rows[1].cells[2], 'histogram, 105 samples');
    const plots = bpftracePlots(maps.values());
    assert.deepEqual(
      plots.map((p) => p.title),
      ['@bycomm[node]', '@bytes', '@linear'],
    );
    const linear = plots[2];
    assert.equal(linear.labels.at(-1), '[1000, ...)');
    assert.equal(linear.counts.at(-1), 53);
    assert.equal(linear.labels[0], '[0, 100)');
  });

  it('shows plain maps sorted by name with their keys, and exports JSON with exact big integers', () => {
    const maps = mapsOf(fixture('misc.stdout'));
    const rows = bpftraceRows(maps.values());
    assert.ok(rows.some((r) => r.cells[0] === '@k' && r.cells[1] === '2' && r.cells[2] === '9'));
    const names = rows.map((r) => r.cells[0]);
    assert.deepEqual(names, [...names].sort());
    const big = mapsOf('{"type": "map", "data": {"@big": 18446744073709551615}}\n');
    assert.equal(bpftraceRows(big.values())[0].cells[2], '18446744073709551615');
    assert.deepEqual(JSON.parse(bpftraceMapsJson(big.values())), { '@big': [{ value: '18446744073709551615' }] });
  });
});
