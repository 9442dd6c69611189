// Live output to the client: trace_pipe lines and ring/perf buffer events, as binary frames
// (formats/frames.ts), with end-to-end backpressure. Each subscription has a window of bytes the client
// lets it send before acknowledging (events/ack). Out of window, nothing more is read from the kernel:
// the addon's thread stops draining the ring/perf buffer, the trace_pipe reader stops reading, and what
// the kernel cannot keep is counted there (reserve failures, perf lost samples, trace ring overruns).
// Nothing is dropped here. The addon's own batching (~10 ms or 1 MiB) is the only batching stage: every
// addon batch becomes one frame at once.
import * as fs from 'fs';
import * as path from 'path';
import type { EventBatch, EventConsumer, NativeAddon } from '../../native/types';
import type { Frame } from '../formats/frames';
import { packLines } from '../formats/records';
import { HelperFailure } from './errors';
import { LIMITS, SubscribeParams } from '../protocol/methods';
import { tracefsRoot } from './system';

/** Writes a frame; the promise, when given, settles once the frame's buffers have been written out. */
type SendFrame = (frame: Frame) => Promise<void> | void;
type Report = (message: string) => void;

interface Subscription {
  /** The client took `bytes` of this subscription's records. */
  ack(bytes: number): void;
  close(): void;
}

/** Lines read from trace_pipe in one go, at most. */
const TRACE_READ_BYTES = 256 * 1024;
/** How often an idle trace_pipe is polled (it is opened non-blocking): the kernel's trace ring can be a few
 * KiB per CPU, which a fast bpf_printk fills in tens of milliseconds. */
const TRACE_IDLE_MS = 5;

interface TraceListener {
  /** Bytes this listener may still take. */
  credit(): number;
  take(lines: string[], lostInKernel: number): void;
  failed(message: string): void;
}

/** Sum of the per-CPU "overrun" counters of the trace ring: events the kernel overwrote unread. */
function traceOverruns(root: string): number {
  let total = 0;
  try {
    for (const cpu of fs.readdirSync(path.join(root, 'per_cpu'))) {
      const stats = fs.readFileSync(path.join(root, 'per_cpu', cpu, 'stats'), 'utf8');
      const m = /^overrun:\s*(\d+)/m.exec(stats);
      if (m) total += Number(m[1]);
    }
  } catch {
    // Without per-CPU stats the overruns are unknown, not zero; nothing to add.
  }
  return total;
}

/**
 * trace_pipe is one destructive stream for the whole system: a single non-blocking reader fans lines
 * out to every trace subscription, so two views never steal lines from each other. It reads only while
 * every listener has credit; the slowest listener holds the lines back in the kernel's trace ring.
 */
class TracePipeReader {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private partial = '';
  private readonly buffer = Buffer.alloc(TRACE_READ_BYTES);
  private readonly listeners = new Set<TraceListener>();
  private root = '';
  private overruns = 0;
  private overrunsReadAt = 0;

  add(listener: TraceListener): void {
    if (this.fd === undefined) {
      this.root = tracefsRoot();
      this.fd = fs.openSync(path.join(this.root, 'trace_pipe'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      this.overruns = traceOverruns(this.root);
      this.schedule(0);
    }
    this.listeners.add(listener);
  }

  remove(listener: TraceListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
  }

  /** Credit came back: read again now rather than at the next idle poll. */
  wake(): void {
    if (this.fd !== undefined) this.schedule(0);
  }

  private close(): void {
    clearTimeout(this.timer);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.partial = '';
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.drain(), delay);
  }

  /** Overruns since the last call, read at most every 500 ms. */
  private newOverruns(): number {
    const now = Date.now();
    if (now - this.overrunsReadAt < 500) return 0;
    this.overrunsReadAt = now;
    const total = traceOverruns(this.root);
    const delta = Math.max(0, total - this.overruns);
    this.overruns = total;
    return delta;
  }

  private drain(): void {
    if (this.fd === undefined) return;
    let credit = Infinity;
    for (const l of this.listeners) credit = Math.min(credit, l.credit());
    // Out of credit: leave the lines in the kernel; an ack wakes the reader.
    if (credit <= 0) return this.schedule(TRACE_IDLE_MS * 5);
    // trace_pipe hands out about a page per read: read until it is empty (or the credit or this turn's
    // bound is used up) before passing lines on, so a busy ring is emptied faster than it fills.
    const want = Math.min(this.buffer.length, credit);
    let filled = 0;
    let empty = false;
    while (filled < want) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buffer, filled, want - filled, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EINTR') {
          empty = true;
          break;
        }
        // Any other error ends the stream, not the helper: every listener is told why.
        const message = `reading trace_pipe failed: ${(error as Error).message}`;
        for (const l of [...this.listeners]) l.failed(message);
        this.listeners.clear();
        this.close();
        return;
      }
      if (n === 0) {
        empty = true;
        break;
      }
      filled += n;
    }
    const lost = this.newOverruns();
    if (filled > 0) {
      const text = this.partial + this.buffer.toString('utf8', 0, filled);
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      // A line longer than the read buffer is passed on in pieces rather than held without bound.
      if (this.partial.length > TRACE_READ_BYTES) {
        parts.push(this.partial);
        this.partial = '';
      }
      const lines = parts.filter(Boolean);
      if (lines.length > 0 || lost > 0) for (const l of this.listeners) l.take(lines, lost);
    } else if (lost > 0) {
      for (const l of this.listeners) l.take([], lost);
    }
    // Emptied: poll again shortly; otherwise read again at once, the kernel has more.
    this.schedule(empty ? TRACE_IDLE_MS : 0);
  }
}

export class Subscriptions {
  private readonly active = new Map<number, Subscription>();
  private nextId = 1;
  private readonly tracePipe = new TracePipeReader();

  constructor(
    private readonly native: NativeAddon,
    private readonly send: SendFrame,
    /** Tells the client something went wrong with a subscription (a helper/log notification). */
    private readonly report: Report = () => undefined,
    private readonly cpus: () => number = () => 1,
  ) {}

  get count(): number {
    return this.active.size;
  }

  subscribe(params: SubscribeParams): number {
    if (this.active.size >= LIMITS.subscriptions)
      throw new HelperFailure(
        { kind: 'BadInput', field: 'source', reason: `at most ${LIMITS.subscriptions} subscriptions` },
        `The helper already streams ${this.active.size} subscriptions (the limit is ${LIMITS.subscriptions}): unsubscribe one first.`,
      );
    const window = params.window ?? LIMITS.defaultEventWindowBytes;
    const id = this.nextId++;
    switch (params.source) {
      case 'trace_pipe':
        this.active.set(id, this.traceLines(id, window));
        break;
      case 'ringbuf':
        this.active.set(
          id,
          this.events(id, (onBatch) =>
            this.native.consumeRingBuffer(params.mapId, onBatch, { windowBytes: window, manualRelease: true }),
          ),
        );
        break;
      case 'perf': {
        const bytes = params.pages * 4096 * this.cpus();
        if (bytes > LIMITS.perfBufferBytes)
          throw new HelperFailure(
            { kind: 'BadInput', field: 'pages', reason: `at most ${LIMITS.perfBufferBytes} bytes on all CPUs` },
            `${params.pages} pages on ${this.cpus()} CPUs lock ${bytes >> 20} MiB; the limit is ${LIMITS.perfBufferBytes >> 20} MiB.`,
          );
        this.active.set(
          id,
          this.events(id, (onBatch) =>
            this.native.consumePerfBuffer(params.mapId, params.pages, onBatch, {
              windowBytes: window,
              manualRelease: true,
            }),
          ),
        );
        break;
      }
    }
    return id;
  }

  unsubscribe(id: number): void {
    const subscription = this.active.get(id);
    if (!subscription)
      throw new HelperFailure({ kind: 'NotFound', what: `subscription ${id}` }, `No subscription ${id}.`);
    subscription.close();
    this.active.delete(id);
  }

  /** events/ack: an ack for a subscription that has ended is harmless and ignored. */
  ack(id: number, bytes: number): void {
    this.active.get(id)?.ack(bytes);
  }

  closeAll(): void {
    for (const subscription of this.active.values()) subscription.close();
    this.active.clear();
  }

  private traceLines(id: number, window: number): Subscription {
    let credit = window;
    let outstanding = 0;
    const listener: TraceListener = {
      credit: () => credit,
      take: (lines, lostInKernel) => {
        const records = packLines(lines);
        credit -= records.length;
        outstanding += records.length;
        this.send({
          kind: 'lines',
          subscription: id,
          count: lines.length,
          lostInKernel,
          droppedInHelper: 0,
          resynced: 0,
          records,
        });
      },
      failed: (message) => {
        this.active.delete(id);
        this.report(`trace subscription ${id} ended: ${message}`);
      },
    };
    this.tracePipe.add(listener);
    return {
      ack: (bytes) => {
        const wasOut = credit <= 0;
        const release = Math.min(bytes, outstanding);
        outstanding -= release;
        credit += release;
        if (wasOut) this.tracePipe.wake();
      },
      close: () => this.tracePipe.remove(listener),
    };
  }

  private events(id: number, open: (onBatch: (batch: EventBatch) => void) => EventConsumer): Subscription {
    // Acks release at most what was sent: a confused client cannot open the window wider than it asked.
    let outstanding = 0;
    const consumer = open((batch) => {
      outstanding += batch.data.length;
      const written = this.send({
        kind: 'events',
        subscription: id,
        count: batch.count,
        lostInKernel: batch.lost,
        // Only records the addon could not pack at all (over 4 GiB): counted, never silent.
        droppedInHelper: batch.droppedInAddon ?? 0,
        resynced: batch.resynced ?? 0,
        records: batch.data,
      });
      // Written out, the batch's buffer takes a later batch (no fresh memory per batch).
      if (written) void written.then(() => consumer.recycle(batch.data));
    });
    return {
      ack: (bytes) => {
        const release = Math.min(bytes, outstanding);
        outstanding -= release;
        if (release > 0) consumer.release(release);
      },
      close: () => consumer.close(),
    };
  }
}
