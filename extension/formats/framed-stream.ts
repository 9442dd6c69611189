// vscode-jsonrpc's MessageReader and MessageWriter over one byte stream that carries JSON-RPC messages and
// binary frames (frames.ts) side by side. Both ends use this pair: the helper on its stdin/stdout, the host
// on the child's pipes. JSON goes to the connection as before; frame bodies go to `onFrame`. Every write,
// JSON or frame, is issued synchronously in call order, so a frame written before a response is on the
// wire before it. Takes the streams it is given; opens nothing.
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  DataCallback,
  Disposable,
  Message,
  MessageReader,
  MessageWriter,
} from 'vscode-jsonrpc';
import { MessageSplitter, messageHeader } from './frames';

export interface FramedReaderOptions {
  /** The largest message accepted (JSON or frame); a bigger one is a protocol error. */
  maxMessageBytes: number;
  onFrame?: (body: Buffer) => void;
}

export class FramedMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly splitter: MessageSplitter;
  private broken = false;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    private readonly options: FramedReaderOptions,
  ) {
    super();
    this.splitter = new MessageSplitter(options.maxMessageBytes);
    readable.on('error', (error: Error) => this.fireError(error));
    readable.on('close', () => this.fireClose());
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer | string) => {
      if (this.broken) return;
      let messages;
      try {
        messages = this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      } catch (error) {
        // The stream cannot be resynchronised after a bad header: stop reading it.
        this.broken = true;
        this.fireError(error);
        return;
      }
      for (const m of messages) {
        if (m.binary) {
          this.options.onFrame?.(m.body);
          continue;
        }
        let message: Message;
        try {
          message = JSON.parse(m.body.toString('utf8')) as Message;
        } catch (error) {
          this.fireError(error);
          continue;
        }
        callback(message);
      }
    };
    this.readable.on('data', onData);
    return Disposable.create(() => {
      this.readable.removeListener('data', onData);
    });
  }
}

export interface FramedWriterOptions {
  /** Write errors (a dead peer) are left to the process's exit handling instead of being reported. */
  ignoreErrors?: boolean;
}

export class FramedMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;

  constructor(
    private readonly writable: NodeJS.WritableStream,
    private readonly options: FramedWriterOptions = {},
  ) {
    super();
    writable.on('error', (error: Error) => this.onWriteError(error));
    writable.on('close', () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    const json = Buffer.from(JSON.stringify(msg), 'utf8');
    return this.writeParts([messageHeader(json.length, false), json], msg);
  }

  /** Writes a frame (header buffer, then payload buffers, none copied); resolves when it is flushed. */
  writeFrame(parts: readonly Uint8Array[]): Promise<void> {
    let length = 0;
    for (const p of parts) length += p.length;
    return this.writeParts([messageHeader(length, true), ...parts]);
  }

  /** Bytes written but not yet taken by the peer (the stream's own queue). */
  get queuedBytes(): number {
    return (this.writable as unknown as { writableLength?: number }).writableLength ?? 0;
  }

  end(): void {
    this.writable.end();
  }

  private writeParts(parts: readonly Uint8Array[], msg?: Message): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        for (let i = 0; i < parts.length; i++) {
          const last = i === parts.length - 1;
          this.writable.write(
            parts[i],
            last
              ? (error?: Error | null) => {
                  if (error) this.onWriteError(error, msg);
                  resolve();
                }
              : undefined,
          );
        }
      } catch (error) {
        this.onWriteError(error as Error, msg);
        resolve();
      }
    });
  }

  private onWriteError(error: Error, msg?: Message): void {
    if (this.options.ignoreErrors) return;
    this.fireError(error, msg, ++this.errorCount);
  }
}
