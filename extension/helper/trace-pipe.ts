// The machine's one trace_pipe reader in this helper (sessions.ts keeps it one per machine). The addon reads
// trace_pipe on a thread of its own that sleeps in poll() until lines come (readTracePipe), so a busy event
// loop here no longer loses lines: the kernel's trace ring is only a few KiB per CPU on many machines, which
// a fast bpf_printk fills in milliseconds. Whole lines come as packed records and go to every listener as
// they are; the thread reads only within the credit of the slowest listener, and at its limit the lines wait
// in the kernel's ring, whose own overrun counters say what it overwrote.
import type { NativeAddon, TraceBatch, TracePipeStream } from '../../native/types';
import { tracefsRoot } from './system';

export interface TraceListener {
  /** Bytes this listener may still take. */
  credit(): number;
  /** `records` (formats/records.ts) hold `count` lines; `lostInKernel` entries were overwritten unread. */
  take(records: Buffer, count: number, lostInKernel: number): void;
  failed(message: string): void;
}

/**
 * trace_pipe is one destructive stream for the whole system: a single reader fans lines out to every trace
 * subscription, so two views never steal lines from each other.
 */
export class TracePipeReader {
  private stream: TracePipeStream | undefined;
  /** Bytes of batches taken from the stream since it started: with the listeners' credit, the thread's limit. */
  private received = 0;
  private readonly listeners = new Set<TraceListener>();

  constructor(
    private readonly native: () => NativeAddon,
    private readonly root: () => string = tracefsRoot,
  ) {}

  /** Starts reading with the first listener; throws when trace_pipe cannot be opened. */
  add(listener: TraceListener): void {
    this.listeners.add(listener);
    if (this.stream) return this.wake();
    this.received = 0;
    try {
      this.stream = this.native().readTracePipe(this.root(), (batch) => this.onBatch(batch), {
        allowBytes: this.limit(),
      });
    } catch (error) {
      this.listeners.delete(listener);
      throw error;
    }
  }

  /** Stops reading (the thread is joined before this returns) with the last listener. */
  remove(listener: TraceListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
    else this.wake();
  }

  /** Credit came back (or the slowest listener left): let the thread read again. */
  wake(): void {
    this.stream?.allow(this.limit());
  }

  private limit(): number {
    let credit = Infinity;
    for (const l of this.listeners) credit = Math.min(credit, l.credit());
    return Number.isFinite(credit) ? Math.max(0, this.received + credit) : this.received;
  }

  private close(): void {
    this.stream?.close();
    this.stream = undefined;
  }

  private onBatch(batch: TraceBatch): void {
    if (!this.stream) return;
    this.received += batch.data.length;
    if (batch.count > 0 || batch.overrun > 0)
      for (const l of [...this.listeners]) l.take(batch.data, batch.count, batch.overrun);
    if (batch.error !== undefined) {
      // The thread has ended; the stream ends, not the helper: every listener is told why.
      const message = batch.error;
      const listeners = [...this.listeners];
      this.listeners.clear();
      this.close();
      for (const l of listeners) l.failed(message);
      return;
    }
    this.wake();
  }
}
