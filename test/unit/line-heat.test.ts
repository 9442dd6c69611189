import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { lineHeat } from '../../extension/formats/line-heat';
import { parseVerifierTrace } from '../../extension/formats/verifier-trace';

const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

describe('line heat', () => {
  it('counts every processed instruction of a level 2 log, pruned visits included', () => {
    for (const name of [
      'loop_heat.level2.log',
      'accepted_xdp.level2.log',
      'null_deref_subprog.level2.log',
      'unbounded_index.level2.log',
    ]) {
      const log = read(name);
      const heat = lineHeat(log);
      assert.equal(heat.total, parseVerifierTrace(log).stats.insnsProcessed, name);
      assert.equal(heat.unattributed, 0, name);
      assert.equal(
        heat.rows.reduce((n, r) => n + r.insns, 0),
        heat.total,
        name,
      );
    }
  });

  it('puts the loop body on top, sorted hottest first', () => {
    const heat = lineHeat(read('loop_heat.level2.log'));
    assert.deepEqual(
      heat.rows.map((r) => [r.line, r.insns]),
      [
        [16, 543],
        [15, 276],
        [10, 5],
        [21, 3],
      ],
    );
    assert.equal(heat.rows[0].code, 'if ((seed >> (i & 31)) & 1)');
    assert.ok(Math.abs(heat.rows[0].share - 543 / 827) < 1e-9);
    assert.ok(Math.abs(heat.rows.reduce((s, r) => s + r.share, 0) - 1) < 1e-9);
  });

  it('counts the failing path of a level 1 log, as the trace steps it', () => {
    const log = read('null_deref_subprog.level1.log');
    const heat = lineHeat(log);
    const trace = parseVerifierTrace(log);
    assert.equal(heat.total, trace.length);
    for (const row of heat.rows)
      assert.equal(row.insns, trace.stepsAt(row.file, row.line).length, `${row.file}:${row.line}`);
  });

  it('leaves instructions without line info unattributed', () => {
    const heat = lineHeat(read('report-7x/r0_not_read.classic.log'));
    assert.deepEqual([heat.total, heat.unattributed, heat.rows], [1, 1, []]);
    assert.deepEqual(lineHeat(''), { rows: [], total: 0, unattributed: 0 });
  });
});
