// A small debug adapter protocol client over a pair of streams (Content-Length framing), for driving a
// DebugSession in-process the way VS Code does: requests answered by responses, events queued until read.
import { PassThrough } from 'stream';
import type { DebugProtocol } from '@vscode/debugprotocol';

interface Startable {
  start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void;
}

export class DapClient {
  private readonly toAdapter = new PassThrough();
  private readonly fromAdapter = new PassThrough();
  private buffer = Buffer.alloc(0);
  private seq = 1;
  private readonly pending = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly events: DebugProtocol.Event[] = [];
  private readonly waiters: { event: string; resolve: (e: DebugProtocol.Event) => void }[] = [];

  constructor(adapter: Startable) {
    adapter.start(this.toAdapter, this.fromAdapter);
    this.fromAdapter.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(this.buffer.subarray(0, headerEnd).toString())?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      const message = JSON.parse(body) as DebugProtocol.ProtocolMessage;
      if (message.type === 'response') {
        const response = message as DebugProtocol.Response;
        this.pending.get(response.request_seq)?.(response);
        this.pending.delete(response.request_seq);
      } else if (message.type === 'event') {
        const event = message as DebugProtocol.Event;
        const waiter = this.waiters.findIndex((w) => w.event === event.event);
        if (waiter >= 0) this.waiters.splice(waiter, 1)[0].resolve(event);
        else this.events.push(event);
      }
    }
  }

  /** Sends a request; resolves with its response (rejects when the adapter answers success: false). */
  request<R extends DebugProtocol.Response>(command: string, args?: unknown): Promise<R> {
    const seq = this.seq++;
    const message = JSON.stringify({ seq, type: 'request', command, arguments: args });
    return new Promise<R>((resolve, reject) => {
      this.pending.set(seq, (r) => (r.success ? resolve(r as R) : reject(new Error(r.message ?? command))));
      this.toAdapter.write(`Content-Length: ${Buffer.byteLength(message, 'utf8')}\r\n\r\n${message}`);
    });
  }

  /** The next event of that name (already received or still to come). */
  event<E extends DebugProtocol.Event>(name: string, timeoutMs = 5000): Promise<E> {
    const index = this.events.findIndex((e) => e.event === name);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0] as E);
    return new Promise<E>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        event: name,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as E);
        },
      });
    });
  }

  close(): void {
    this.toAdapter.end();
    this.fromAdapter.end();
  }
}
