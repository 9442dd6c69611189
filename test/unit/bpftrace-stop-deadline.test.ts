// When the helper kills a bpftrace run that was asked to stop: after its grace, unless it is still closing
// its probes' descriptors (detaching slows down with the machine's load), and never past the hard limit.
import { strict as assert } from 'assert';
import { stopDeadline, stopGraceMs } from '../../extension/helper/bpftrace';

describe('bpftrace stop deadline', () => {
  const started = 1_000_000;
  const grace = stopGraceMs(362);

  it('keeps the grace scaled by probes while nothing is closed', () => {
    assert.equal(stopDeadline(started + grace, started + 5_000, started, 400, 400), started + grace);
    assert.equal(stopDeadline(started + grace, started + 5_000, started, 400, -1), started + grace, 'gone: unchanged');
  });

  it('moves on while descriptors go down, so a slow detach is not killed mid-way', () => {
    // 70 s in, past the 64.3 s grace for 362 probes, yet one more probe closed: 10 s more.
    const now = started + 70_000;
    assert.equal(stopDeadline(started + grace, now, started, 120, 119), now + 10_000);
  });

  it('never passes ten minutes in all', () => {
    const now = started + 599_000;
    assert.equal(stopDeadline(now, now, started, 10, 9), started + 600_000);
  });
});
