// Live output to the client: trace_pipe lines and ring/perf buffer events, as binary frames
// (formats/frames.ts), with end-to-end backpressure. Each subscription has a window of bytes the client
// lets it send before acknowledging (events/ack). Out of window, nothing more is read from the kernel:
// the addon's thread stops draining the ring/perf buffer, the trace_pipe reader stops reading, and what
// the kernel cannot keep is counted there (reserve failures, perf lost samples, trace ring overruns).
// Nothing is dropped here. The addon's own batching (~10 ms or 1 MiB) is the only batching stage: every
// addon batch becomes one frame at once.
import type { EventBatch, EventConsumer, NativeAddon } from '../../native/types';
import type { Frame } from '../formats/frames';
import { HelperFailure } from './errors';
import { LIMITS, SubscribeParams } from '../protocol/methods';
import { TraceListener, TracePipeReader } from './trace-pipe';

/** Writes a frame; the promise, when given, settles once the frame's buffers have been written out. */
type SendFrame = (frame: Frame) => Promise<void> | void;
type Report = (message: string) => void;

interface Subscription {
  /** The client took `bytes` of this subscription's records. */
  ack(bytes: number): void;
  close(): void;
}

export class Subscriptions {
  private readonly active = new Map<number, Subscription>();
  private nextId = 1;
  private readonly tracePipe = new TracePipeReader(() => this.native);

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
      take: (records, count, lostInKernel) => {
        credit -= records.length;
        outstanding += records.length;
        this.send({
          kind: 'lines',
          subscription: id,
          count,
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
