// The helper's trace_pipe fan-out (extension/helper/trace-pipe.ts) over a stand-in for the addon's reader
// thread: every listener gets each batch, the thread's limit follows the slowest listener's credit, an error
// ends every listener's stream, and the last listener to leave stops the thread. The thread itself is tested
// on the real kernel (test/kernel/trace-pipe-thread.test.ts).
import { strict as assert } from 'assert';
import type { NativeAddon, TraceBatch } from '../../native/types';
import { TraceListener, TracePipeReader } from '../../extension/helper/trace-pipe';
import { packLines } from '../../extension/formats/records';

/** What the reader asked of the addon, and a way to hand it batches as the thread would. */
function fakeAddon() {
  const state = {
    opened: [] as { tracefs: string; allowBytes?: number }[],
    allowed: [] as number[],
    closed: 0,
    deliver: (_batch: TraceBatch) => undefined as void,
  };
  const native = {
    readTracePipe(tracefs: string, onBatch: (b: TraceBatch) => void, options?: { allowBytes?: number }) {
      state.opened.push({ tracefs, allowBytes: options?.allowBytes });
      state.deliver = onBatch;
      return { allow: (n: number) => state.allowed.push(n), close: () => state.closed++ };
    },
  } as unknown as NativeAddon;
  return { native, state };
}

/** A listener with a window, acknowledging on demand, as Subscriptions' trace listener does. */
function listener(window: number) {
  const got = { frames: [] as { records: Buffer; count: number; lost: number }[], failed: [] as string[] };
  let credit = window;
  const l: TraceListener = {
    credit: () => credit,
    take: (records, count, lost) => {
      credit -= records.length;
      got.frames.push({ records, count, lost });
    },
    failed: (message) => got.failed.push(message),
  };
  return { l, got, ack: (bytes: number) => (credit += bytes) };
}

const batch = (lines: string[], overrun = 0): TraceBatch => ({
  data: packLines(lines),
  count: lines.length,
  overrun,
});

describe('trace_pipe fan-out over the reader thread', () => {
  it("starts one reader for the first listener, with that listener's window as its limit", () => {
    const { native, state } = fakeAddon();
    const reader = new TracePipeReader(
      () => native,
      () => '/sys/kernel/tracing',
    );
    const a = listener(4096);
    reader.add(a.l);
    reader.add(listener(8192).l);
    assert.deepEqual(state.opened, [{ tracefs: '/sys/kernel/tracing', allowBytes: 4096 }]);
  });

  it('hands each batch to every listener and keeps the limit at what was received plus the smallest credit', () => {
    const { native, state } = fakeAddon();
    const reader = new TracePipeReader(
      () => native,
      () => '/t',
    );
    const a = listener(4096);
    const b = listener(1 << 20);
    reader.add(a.l);
    reader.add(b.l);
    const first = batch(['one', 'two'], 3);
    state.deliver(first);
    for (const x of [a, b]) assert.deepEqual(x.got.frames, [{ records: first.data, count: 2, lost: 3 }]);
    // a took first.data.length of its 4096: the thread may go on to 4096 bytes in all, no further.
    assert.equal(state.allowed.at(-1), 4096);
    a.ack(first.data.length);
    reader.wake();
    assert.equal(state.allowed.at(-1), first.data.length + 4096);
  });

  it('lets the thread read again when the slowest listener leaves, and stops it with the last one', () => {
    const { native, state } = fakeAddon();
    const reader = new TracePipeReader(
      () => native,
      () => '/t',
    );
    const slow = listener(100);
    const fast = listener(10_000);
    reader.add(slow.l);
    reader.add(fast.l);
    reader.remove(slow.l);
    assert.equal(state.allowed.at(-1), 10_000);
    assert.equal(state.closed, 0);
    reader.remove(fast.l);
    assert.equal(state.closed, 1);
    // A batch queued before the close reaches nobody.
    state.deliver(batch(['late']));
    assert.equal(fast.got.frames.length, 0);
  });

  it("ends every listener's stream with the reason when reading fails, and starts afresh for the next one", () => {
    const { native, state } = fakeAddon();
    const reader = new TracePipeReader(
      () => native,
      () => '/t',
    );
    const a = listener(4096);
    const b = listener(4096);
    reader.add(a.l);
    reader.add(b.l);
    state.deliver({ ...batch(['last']), error: 'reading trace_pipe failed: Input/output error' });
    for (const x of [a, b]) {
      assert.equal(x.got.frames.length, 1, 'the lines read before the failure are delivered');
      assert.deepEqual(x.got.failed, ['reading trace_pipe failed: Input/output error']);
    }
    assert.equal(state.closed, 1);
    reader.add(listener(4096).l);
    assert.equal(state.opened.length, 2);
  });

  it('passes an open failure to the subscriber and keeps no listener, so the next one opens afresh', () => {
    const { native, state } = fakeAddon();
    let fail = true;
    const flaky = {
      readTracePipe: (...args: Parameters<NativeAddon['readTracePipe']>) => {
        if (fail) throw Object.assign(new Error('open /t/trace_pipe: Permission denied'), { errno: 13 });
        return native.readTracePipe(...args);
      },
    } as unknown as NativeAddon;
    const reader = new TracePipeReader(
      () => flaky,
      () => '/t',
    );
    const refused = listener(100);
    assert.throws(() => reader.add(refused.l), /Permission denied/);
    fail = false;
    reader.add(listener(4096).l);
    // The refused listener's credit of 100 does not hold the new reader back.
    assert.deepEqual(state.opened, [{ tracefs: '/t', allowBytes: 4096 }]);
  });
});
