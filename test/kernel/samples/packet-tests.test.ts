// The packet tests the samples ship (*.bpftest.json) on the real kernel, through the same runner the
// Test Explorer uses: they pass; and a deliberately wrong expectation fails with a readable diff.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { objectFor, parsePacketTestFile } from '../../../extension/formats/packet-test';
import { runPacketTestFile, testItemOutcome } from '../../../extension/host/features/packet-tests/run';
import { buildObject, repoRoot } from '../../support/kernel';
import { sampleSuite } from './sample-env';

const testFile = (sample: string) => path.join(repoRoot, 'bpf-samples', sample, `${sample}.bpftest.json`);

describe('sample packet tests (BPF_PROG_TEST_RUN through the helper)', function () {
  const suite = sampleSuite('xdp_counter');

  for (const sample of ['xdp_counter', 'tc_blocklist']) {
    it(`${sample}.bpftest.json passes`, async () => {
      const file = parsePacketTestFile(fs.readFileSync(testFile(sample), 'utf8'), testFile(sample));
      const object = await buildObject(objectFor(testFile(sample), file));
      const run = await runPacketTestFile(suite.client(), file, object);
      assert.equal(run.results.length, file.tests.length);
      for (const result of run.results) {
        assert.equal(result.error, undefined, `${result.name}: ${result.error}`);
        assert.ok(result.verdict?.passed, `${result.name} failed:\n${result.verdict?.diff}`);
        assert.ok((result.durationNs ?? -1) >= 0);
        assert.equal(testItemOutcome(result).state, 'passed', 'Test Explorer shows it as passed');
      }
    });
  }

  it('a wrong verdict, a wrong counter and wrong bytes fail with a readable diff', async () => {
    const file = parsePacketTestFile(
      JSON.stringify({
        program: 'count_packets',
        tests: [
          {
            name: 'deliberately wrong',
            packet: { ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { sport: 1, dport: 2 } },
            expect: {
              verdict: 'XDP_DROP',
              bytes: [{ offset: 12, hex: '86dd' }],
              maps: [{ map: 'counters', key: { u32: 17 }, increase: [2, 42] }],
            },
          },
        ],
      }),
    );
    const run = await runPacketTestFile(suite.client(), file, suite.object());
    const verdict = run.results[0].verdict!;
    assert.equal(verdict.passed, false);
    assert.equal(
      verdict.diff,
      [
        'verdict: expected XDP_DROP (1), got XDP_PASS (2)',
        'bytes at offset 12: expected 86 dd, got 08 00',
        'map counters[17]: increase of its __u64 fields: expected [+2, +42], got [+1, +42]',
      ].join('\n\n'),
    );
    const shown = testItemOutcome(run.results[0]);
    assert.equal(shown.state, 'failed');
    assert.deepEqual(shown.messages.slice(1), [
      { message: 'verdict', expected: 'XDP_DROP (1)', actual: 'XDP_PASS (2)' },
      { message: 'bytes at offset 12', expected: '86 dd', actual: '08 00' },
      { message: 'map counters[17]: increase of its __u64 fields', expected: '[+2, +42]', actual: '[+1, +42]' },
    ]);
  });

  it('names a map the object does not have', async () => {
    const file = parsePacketTestFile(
      JSON.stringify({
        program: 'count_packets',
        tests: [
          {
            name: 'no such map',
            packet: { hex: '000000000000000000000000080045' },
            expect: { maps: [{ map: 'nope', key: '00', increase: [1] }] },
          },
        ],
      }),
    );
    const run = await runPacketTestFile(suite.client(), file, suite.object());
    assert.match(run.results[0].error ?? '', /the object has no map "nope" \(it has: counters\)/);
    assert.equal(testItemOutcome(run.results[0]).state, 'errored');
  });
});
