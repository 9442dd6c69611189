import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { lineHeat } from '../../extension/formats/line-heat';
import { heatMarks, heatTable, isComplexityFailure } from '../../extension/formats/line-heat-view';
import { parseRejection } from '../../extension/formats/verifier-rejection';

const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');

describe('line heat view', () => {
  it('grades the loop body hottest and labels each line with its count and share', () => {
    const marks = heatMarks(lineHeat(read('loop_heat.level2.log')));
    assert.deepEqual(
      marks.map((m) => [m.line, m.level, m.label]),
      [
        [16, 5, '543 insns · 66%'],
        [15, 3, '276 insns · 33%'],
        [10, 1, '5 insns · 0.6%'],
        [21, 1, '3 insns · 0.4%'],
      ],
    );
  });

  it('writes the sorted table with the quoted code', () => {
    const table = heatTable(lineHeat(read('loop_heat.level2.log')), 'loop_heat');
    const lines = table.split('\n');
    assert.equal(lines[1], '; 827 instructions processed, at 4 source lines, hottest first.');
    assert.match(lines[3], /^line\s+insns\s+share\s+code$/);
    assert.match(lines[4], /^loop_heat\.bpf\.c:16\s+543\s+66%\s+if \(\(seed >> \(i & 31\)\) & 1\)$/);
    assert.equal(lines.filter((l) => /^loop_heat\.bpf\.c:\d+ /.test(l)).length, 4);
    assert.match(heatTable(lineHeat(read('loop_heat.level2.log')), 't', 2), /; … 2 cooler lines left out/);
  });

  it('knows the complexity failures from the rest', () => {
    assert.equal(isComplexityFailure(parseRejection(read('infinite_loop.level2.log'))!.message), true);
    assert.equal(isComplexityFailure('BPF program is too large. Processed 1000001 insn'), true);
    assert.equal(isComplexityFailure('the sequence of 8193 jumps is too complex'), true);
    assert.equal(isComplexityFailure(parseRejection(read('null_deref_subprog.level2.log'))!.message), false);
  });
});
