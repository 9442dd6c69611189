import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseVerifierFailure, parseVerifierStats } from '../../extension/formats/verifier-log';

// Captured from this kernel (6.18) rejecting a map value dereference without a NULL check.
const nullDeref = fs.readFileSync(path.join(__dirname, 'fixtures', 'verifier-null-deref.log'), 'utf8');

describe('verifier log', () => {
  it('reads the statistics the kernel prints', () => {
    const stats = parseVerifierStats(nullDeref);
    assert.equal(stats.insnsProcessed, 7);
    assert.equal(stats.insnsLimit, 1000000);
    assert.equal(stats.totalStates, 0);
    assert.equal(stats.stackDepth?.[0], 8);
    assert.ok(stats.verificationTimeUsec! > 0);
  });

  it('finds the message, the instruction and the source line of a rejection', () => {
    const failure = parseVerifierFailure(nullDeref)!;
    assert.equal(failure.message, "R0 invalid mem access 'map_value_or_null'");
    assert.equal(failure.instruction, '7: (79) r0 = *(u64 *)(r0 +0)');
    assert.deepEqual(failure.location, { file: 'bad.bpf.c', line: 9, code: 'return *v;' });
    assert.deepEqual(
      failure.path.map((p) => p.line),
      [5, 7, 8],
    );
  });

  it('reads subprogram stack depths and ignores an empty log', () => {
    assert.deepEqual(parseVerifierStats('stack depth 16+32+0\n').stackDepth, [16, 32, 0]);
    assert.equal(parseVerifierFailure('\n\n'), undefined);
  });
});
