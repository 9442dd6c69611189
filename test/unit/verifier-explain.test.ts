import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { explainRejection, type FixKind } from '../../extension/formats/verifier-explain';
import { parseRejection } from '../../extension/formats/verifier-rejection';

// Each rejection is explained from the message this kernel (6.18) printed for a fixture program in
// fixtures/verifier-logs/src/, captured by capture.ts.
const dir = path.join(__dirname, 'fixtures', 'verifier-logs');
const rejectionOf = (name: string) => parseRejection(fs.readFileSync(path.join(dir, name), 'utf8'))!;
const explain = (name: string) => {
  const rejection = rejectionOf(name);
  return explainRejection(rejection.message, rejection.report);
};

/** Sentences in an explanation: the issue asks for one or two. */
const sentences = (text: string) => text.split(/(?<=[.!?])\s+(?=[A-Z])/).length;

describe('verifier rejection explanations', () => {
  const expected: [log: string, fix: FixKind, rule: string][] = [
    ['null_deref_subprog.level1.log', 'null-check', 'null-deref'],
    ['packet_no_check.level1.log', 'packet-bounds-check', 'packet-bounds'],
    ['unbounded_index.level1.log', 'bound-index', 'unbounded-index'],
    ['index_too_large.level1.log', 'bound-index', 'unbounded-index'],
    ['index_negative.level1.log', 'bound-index', 'unbounded-index'],
    ['negative_index.level1.log', 'bound-index', 'unbounded-index'],
    ['return_range.level1.log', 'return-value', 'return-range'],
    ['gpl_helper.level1.log', 'gpl-license', 'gpl-only'],
    ['helper_prog_type.level1.log', 'allowed-helper', 'helper-not-allowed'],
    ['kernel_ptr_deref.level1.log', 'core-read', 'scalar-deref'],
    ['infinite_loop.level1.log', 'bound-loop', 'infinite-loop'],
  ];

  for (const [log, fix, rule] of expected) {
    it(`explains ${log.replace('.level1.log', '')} (${fix})`, () => {
      const explanation = explain(log)!;
      assert.ok(explanation, `no explanation for: ${rejectionOf(log).message}`);
      assert.equal(explanation.fix, fix);
      assert.equal(explanation.rule, rule);
      assert.ok(sentences(explanation.text) <= 2, explanation.text);
      // The level 2 log of the same program says the same.
      assert.equal(explain(log.replace('level1', 'level2'))?.fix, fix);
    });
  }

  it('reads the details a quick fix needs from the message', () => {
    assert.deepEqual(
      [explain('null_deref_subprog.level1.log')!.register, explain('null_deref_subprog.level1.log')!.details],
      [0, { type: 'map_value_or_null' }],
    );
    const packet = explain('packet_no_check.level1.log')!;
    assert.equal(packet.register, 1);
    assert.deepEqual(packet.details, { offset: 12, size: 1, provenBytes: 0 });
    assert.match(packet.text, /byte 12 of the packet/);
    assert.deepEqual(explain('index_too_large.level1.log')!.details, {
      object: 'map value',
      objectSize: 128,
      offset: 2040,
      size: 8,
      side: 'max',
    });
    assert.equal(explain('index_negative.level1.log')!.details.side, 'min');
    assert.equal(explain('index_negative.level1.log')!.register, 6);
    const ret = explain('return_range.level1.log')!;
    assert.deepEqual([ret.details.min, ret.details.max], [0, 1]);
    assert.match(ret.text, /within \[0, 1\], and on this path it can be 2\./);
    assert.deepEqual(explain('helper_prog_type.level1.log')!.details, { helper: 'bpf_xdp_adjust_head', helperId: 44 });
    assert.equal(explain('infinite_loop.level1.log')!.details.insn, 3);
  });

  it('explains the complexity limit as this kernel words it', () => {
    // From large-src/too_large.bpf.c (capture.ts --large): its log is ~100 MB, so only its message is kept.
    const explanation = explainRejection('BPF program is too large. Processed 1000001 insn')!;
    assert.equal(explanation.fix, 'reduce-complexity');
    assert.equal(explanation.details.count, 1000001);
  });

  it('says nothing about accepted programs', () => {
    for (const log of ['accepted_xdp.level1.log', 'accepted_xdp.level2.log', 'null_deref_fixed.level2.log']) {
      const rejection = rejectionOf(log);
      assert.equal(rejection && explainRejection(rejection.message), undefined, log);
    }
  });

  it('explains 7.3 logs the same, and from the report alone when the message is worded anew', () => {
    for (const [name, fix] of [
      ['null_deref_subprog.level1.log', 'null-check'],
      ['kernel_ptr_deref.level1.log', 'core-read'],
    ] as const) {
      const rejection = rejectionOf(`report-7x/${name}`);
      assert.equal(explainRejection(rejection.message, rejection.report)?.fix, fix);
      assert.equal(explainRejection('a message no rule knows', rejection.report)?.fix, fix);
    }
  });
});
