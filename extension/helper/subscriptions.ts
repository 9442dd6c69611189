// Live output to the client: trace_pipe lines and ring/perf buffer events, batched (never a message per
// event) and bounded, with counts of what the kernel lost and what the helper had to drop.
import * as fs from 'fs';
import * as path from 'path';
import type { EventBatch, EventConsumer, NativeAddon } from '../../native/types';
import { HelperFailure } from './errors';
import { EventsNotification, SubscribeParams } from '../protocol/methods';
import { tracefsRoot } from './system';

/** How often batches go out; the client renders at most a few frames a second anyway. */
const FLUSH_INTERVAL_MS = 50;
/** Past this many unsent lines or bytes the client is too slow: drop the oldest and count them. */
const MAX_PENDING_LINES = 50_000;
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

type Send = (batch: EventsNotification) => void;

interface Subscription {
  close(): void;
}

/**
 * trace_pipe is one destructive stream for the whole system: a single non-blocking reader fans lines
 * out to every trace subscription, so two views never steal lines from each other.
 */
class TracePipeReader {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private partial = '';
  private readonly buffer = Buffer.alloc(256 * 1024);
  private readonly listeners = new Set<(lines: string[]) => void>();

  add(listener: (lines: string[]) => void): void {
    if (this.fd === undefined) {
      const file = path.join(tracefsRoot(), 'trace_pipe');
      this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      this.schedule(0);
    }
    this.listeners.add(listener);
  }

  remove(listener: (lines: string[]) => void): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.fd !== undefined) {
      clearTimeout(this.timer);
      fs.closeSync(this.fd);
      this.fd = undefined;
      this.partial = '';
    }
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => this.drain(), delay);
  }

  private drain(): void {
    if (this.fd === undefined) return;
    const lines: string[] = [];
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
      if (n === 0) break;
      const text = this.partial + this.buffer.toString('utf8', 0, n);
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
      if (lines.length > MAX_PENDING_LINES) break;
    }
    if (lines.length > 0) for (const listener of this.listeners) listener(lines);
    // Read again at once while the kernel has more; otherwise poll gently.
    this.schedule(lines.length > 0 ? 0 : 20);
  }
}

export class Subscriptions {
  private readonly active = new Map<number, Subscription>();
  private nextId = 1;
  private readonly tracePipe = new TracePipeReader();

  constructor(
    private readonly native: NativeAddon,
    private readonly send: Send,
  ) {}

  subscribe(params: SubscribeParams): number {
    const id = this.nextId++;
    switch (params.source) {
      case 'trace_pipe':
        this.active.set(id, this.traceLines(id));
        break;
      case 'ringbuf':
        this.active.set(
          id,
          this.events(id, (onBatch) => this.native.consumeRingBuffer(params.mapId, onBatch)),
        );
        break;
      case 'perf':
        this.active.set(
          id,
          this.events(id, (onBatch) => this.native.consumePerfBuffer(params.mapId, params.pages, onBatch)),
        );
        break;
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

  closeAll(): void {
    for (const subscription of this.active.values()) subscription.close();
    this.active.clear();
  }

  private traceLines(id: number): Subscription {
    let pending: string[] = [];
    let dropped = 0;
    const listener = (lines: string[]) => {
      pending.push(...lines);
      if (pending.length > MAX_PENDING_LINES) {
        dropped += pending.length - MAX_PENDING_LINES;
        pending = pending.slice(-MAX_PENDING_LINES);
      }
    };
    this.tracePipe.add(listener);
    const timer = setInterval(() => {
      if (pending.length === 0 && dropped === 0) return;
      this.send({ subscription: id, lines: pending, count: pending.length, lostInKernel: 0, droppedInHelper: dropped });
      pending = [];
      dropped = 0;
    }, FLUSH_INTERVAL_MS);
    return {
      close: () => {
        clearInterval(timer);
        this.tracePipe.remove(listener);
      },
    };
  }

  private events(id: number, open: (onBatch: (batch: EventBatch) => void) => EventConsumer): Subscription {
    let chunks: Buffer[] = [];
    let bytes = 0;
    let count = 0;
    let lost = 0;
    let dropped = 0;
    const consumer = open((batch) => {
      lost += batch.lost;
      // The addon's own drops (JS more than 64 MiB behind) are drops of eBPF Studio's too.
      dropped += batch.droppedInAddon ?? 0;
      if (bytes + batch.data.length > MAX_PENDING_BYTES) {
        dropped += batch.count;
        return;
      }
      chunks.push(batch.data);
      bytes += batch.data.length;
      count += batch.count;
    });
    const timer = setInterval(() => {
      if (count === 0 && lost === 0 && dropped === 0) return;
      this.send({
        subscription: id,
        data: Buffer.concat(chunks, bytes).toString('base64'),
        count,
        lostInKernel: lost,
        droppedInHelper: dropped,
      });
      chunks = [];
      bytes = count = lost = dropped = 0;
    }, FLUSH_INTERVAL_MS);
    return {
      close: () => {
        clearInterval(timer);
        consumer.close();
      },
    };
  }
}
