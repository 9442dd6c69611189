import { strict as assert } from 'assert';
import { parseTraceLine } from '../../extension/formats/trace-line';

describe('trace_pipe lines', () => {
  it('parses a bpf_printk line with the flags column', () => {
    assert.deepEqual(
      parseTraceLine('            bash-1234    [001] d..31  5071.123456: bpf_trace_printk: fork parent=1 child=2'),
      {
        task: 'bash',
        pid: 1234,
        cpu: 1,
        flags: 'd..31',
        timestamp: 5071.123456,
        event: 'bpf_trace_printk',
        message: 'fork parent=1 child=2',
      },
    );
  });

  it('parses task names with dashes and spaces, the tgid column, and lines without flags', () => {
    const withDash = parseTraceLine(' kworker/u4:2-ev-88  (   88) [000] ....1   12.5: bpf_trace_printk: hi')!;
    assert.equal(withDash.task, 'kworker/u4:2-ev');
    assert.equal(withDash.pid, 88);
    const noFlags = parseTraceLine('  <...>-7  [003]  99.000001: bpf_trace_printk: x')!;
    assert.deepEqual([noFlags.task, noFlags.cpu, noFlags.flags, noFlags.message], ['<...>', 3, '', 'x']);
  });

  it('rejects what is not a trace line', () => {
    assert.equal(parseTraceLine('CPU:1 [LOST 12 EVENTS]'), undefined);
  });
});
