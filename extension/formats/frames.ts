// Binary frames: how bulk bytes (event batches, trace lines, map pages) travel between the helper and the
// extension host, on the same stdio as the JSON-RPC control messages and never as base64. The stdio
// carries one stream of header blocks in vscode-jsonrpc's own format:
//
//   Content-Length: <n>\r\n                                  a JSON-RPC message (as always)
//   \r\n
//   <n bytes of JSON>
//
//   Content-Length: <n>\r\n                                  a binary frame
//   Content-Type: application/x-ebpf-frame\r\n
//   \r\n
//   <n bytes: a 40-byte frame header, then the payload>
//
// sudo and pkexec close every descriptor above 2, so a second pipe would not survive elevation; one stream
// with a content type that JSON-RPC's header format already allows does. Documented in
// docs/helper-protocol.md ("Binary frames"). Pure: the byte layout and its checks, no I/O.

export const FRAME_CONTENT_TYPE = 'application/x-ebpf-frame';
/** "EBF1": a frame body starts with this, so a stray body is recognised as not ours. */
export const FRAME_MAGIC = 0x31464245;
export const FRAME_HEADER_BYTES = 40;

export const FrameKind = {
  /** Ring or perf buffer records of one subscription (records.ts layout). */
  events: 1,
  /** trace_pipe lines of one subscription, UTF-8, as records (records.ts layout). */
  lines: 2,
  /** One page of a map/dump: keys then values, packed as the kernel returned them. */
  mapPage: 3,
} as const;

/** Events or trace lines of subscription `subscription`, with what was lost since the previous frame. */
export interface RecordsFrame {
  kind: 'events' | 'lines';
  subscription: number;
  count: number;
  /** Lost in the kernel since the last frame (perf lost samples, trace ring overruns). */
  lostInKernel: number;
  /** Dropped inside eBPF Studio since the last frame (0 unless a bound was hit; always counted). */
  droppedInHelper: number;
  /** Times the ring buffer reader found positions it could not trust and skipped to the producer (the
   *  records in between are lost, their number unknown); 0 for perf buffers and trace lines. */
  resynced: number;
  /** Packed records, see records.ts. */
  records: Buffer;
}

/** The bytes of one map/dump page; the JSON answer names it by `token`. */
export interface MapPageFrame {
  kind: 'mapPage';
  token: number;
  count: number;
  keySize: number;
  /** Bytes per value as dumped (per-CPU maps: slot * CPUs). */
  valueSize: number;
  keys: Buffer;
  values: Buffer;
}

export type Frame = RecordsFrame | MapPageFrame;

/*
 * Frame header, little-endian:
 *   0  u32 magic "EBF1"      4  u16 kind       6  u16 header bytes (40)
 *   8  u32 id (subscription or page token)    12  u32 count
 *  16  records: f64 lost in kernel      map page: u32 key size, u32 value size
 *  24  records: f64 dropped in helper   map page: u32 keys bytes, u32 0
 *  32  u32 payload bytes               36  records: u32 resyncs   map page: u32 0
 *  40  payload
 */

/** The frame as buffers to write one after the other: the header, then the payload (never copied). */
export function encodeFrame(frame: Frame): Buffer[] {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUInt32LE(FRAME_MAGIC, 0);
  h.writeUInt16LE(FRAME_HEADER_BYTES, 6);
  h.writeUInt32LE(frame.count, 12);
  if (frame.kind === 'mapPage') {
    if (frame.keys.length !== frame.count * frame.keySize || frame.values.length !== frame.count * frame.valueSize)
      throw new Error(`map page of ${frame.count} entries has ${frame.keys.length}/${frame.values.length} bytes`);
    h.writeUInt16LE(FrameKind.mapPage, 4);
    h.writeUInt32LE(frame.token, 8);
    h.writeUInt32LE(frame.keySize, 16);
    h.writeUInt32LE(frame.valueSize, 20);
    h.writeUInt32LE(frame.keys.length, 24);
    h.writeUInt32LE(frame.keys.length + frame.values.length, 32);
    return [h, frame.keys, frame.values];
  }
  h.writeUInt16LE(FrameKind[frame.kind], 4);
  h.writeUInt32LE(frame.subscription, 8);
  h.writeDoubleLE(frame.lostInKernel, 16);
  h.writeDoubleLE(frame.droppedInHelper, 24);
  h.writeUInt32LE(frame.records.length, 32);
  h.writeUInt32LE(Math.min(frame.resynced, 0xffffffff), 36);
  return [h, frame.records];
}

/** Reads a frame body; the payload buffers are views into `body`, not copies. Throws on a malformed one. */
export function decodeFrame(body: Buffer): Frame {
  if (body.length < FRAME_HEADER_BYTES || body.readUInt32LE(0) !== FRAME_MAGIC)
    throw new Error(`not an eBPF Studio frame (${body.length} bytes)`);
  const kind = body.readUInt16LE(4);
  const headerBytes = body.readUInt16LE(6);
  const id = body.readUInt32LE(8);
  const count = body.readUInt32LE(12);
  const payloadBytes = body.readUInt32LE(32);
  if (headerBytes < FRAME_HEADER_BYTES || headerBytes + payloadBytes !== body.length)
    throw new Error(`frame of ${body.length} bytes announces ${headerBytes} + ${payloadBytes}`);
  const payload = body.subarray(headerBytes);
  switch (kind) {
    case FrameKind.events:
    case FrameKind.lines:
      return {
        kind: kind === FrameKind.events ? 'events' : 'lines',
        subscription: id,
        count,
        lostInKernel: body.readDoubleLE(16),
        droppedInHelper: body.readDoubleLE(24),
        resynced: body.readUInt32LE(36),
        records: payload,
      };
    case FrameKind.mapPage: {
      const keySize = body.readUInt32LE(16);
      const valueSize = body.readUInt32LE(20);
      const keysBytes = body.readUInt32LE(24);
      if (keysBytes !== count * keySize || payloadBytes - keysBytes !== count * valueSize)
        throw new Error(`map page of ${count} entries (${keySize}/${valueSize} bytes) has ${payloadBytes} bytes`);
      return {
        kind: 'mapPage',
        token: id,
        count,
        keySize,
        valueSize,
        keys: payload.subarray(0, keysBytes),
        values: payload.subarray(keysBytes),
      };
    }
    default:
      throw new Error(`unknown frame kind ${kind}`);
  }
}

/** A message split off the stream: JSON-RPC text, or a frame body. */
export type StreamMessage = { binary: false; body: Buffer } | { binary: true; body: Buffer };

/**
 * Splits the byte stream into messages as chunks arrive. A body is copied once, into a buffer of exactly
 * its size; a header block or body beyond `maxMessageBytes` is an error (the peer is broken or hostile).
 */
export class MessageSplitter {
  private head: Buffer = Buffer.alloc(0);
  private body: Buffer | undefined;
  private filled = 0;
  private binary = false;

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds a chunk; returns the messages it completed, in order. */
  push(chunk: Buffer): StreamMessage[] {
    const out: StreamMessage[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.body) {
        const n = Math.min(chunk.length - at, this.body.length - this.filled);
        chunk.copy(this.body, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === this.body.length) {
          out.push({ binary: this.binary, body: this.body } as StreamMessage);
          this.body = undefined;
        }
        continue;
      }
      // Header bytes: look for the blank line, carrying a partial header over from the last chunk.
      const joined = this.head.length ? Buffer.concat([this.head, chunk.subarray(at)]) : chunk.subarray(at);
      const end = joined.indexOf('\r\n\r\n');
      if (end < 0) {
        if (joined.length > 4096) throw new Error('message header longer than 4096 bytes');
        this.head = Buffer.from(joined);
        return out;
      }
      const consumedFromChunk = end + 4 - this.head.length;
      this.startBody(joined.toString('ascii', 0, end));
      this.head = Buffer.alloc(0);
      at += consumedFromChunk;
      if (this.body!.length === 0) {
        out.push({ binary: this.binary, body: this.body! } as StreamMessage);
        this.body = undefined;
      }
    }
    return out;
  }

  private startBody(header: string): void {
    let length: number | undefined;
    let binary = false;
    for (const line of header.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) throw new Error(`malformed message header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d{1,10}$/.test(value)) throw new Error(`bad Content-Length ${JSON.stringify(value)}`);
        length = Number(value);
      } else if (name === 'content-type') {
        binary = value.split(';')[0].trim() === FRAME_CONTENT_TYPE;
      }
    }
    if (length === undefined) throw new Error('message header without Content-Length');
    if (length > this.maxMessageBytes)
      throw new Error(`message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`);
    this.body = Buffer.allocUnsafe(length);
    this.filled = 0;
    this.binary = binary;
  }
}

/** The header block for a JSON-RPC message or a frame of `length` bytes. */
export function messageHeader(length: number, binary: boolean): Buffer {
  return Buffer.from(
    binary
      ? `Content-Length: ${length}\r\nContent-Type: ${FRAME_CONTENT_TYPE}\r\n\r\n`
      : `Content-Length: ${length}\r\n\r\n`,
    'ascii',
  );
}
