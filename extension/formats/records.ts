// The record layout of every packed batch eBPF Studio moves: ring and perf buffer events (packed by the
// addon's consumer thread, native/src/core/events.cc) and trace_pipe lines (packed by the helper).
// Each record is [u32 length, little-endian][length bytes], padded with zeros to a multiple of 8 bytes, so
// every record starts 8-byte aligned. This is the one TypeScript definition; the C++ packer follows it.
// Pure.

/** Every record starts at a multiple of this. */
export const RECORD_ALIGN = 8;
/** The length prefix. */
export const RECORD_HEADER = 4;

/** Bytes one record of `length` payload bytes takes, padding included. */
export function recordSpan(length: number): number {
  return (RECORD_HEADER + length + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** Where each record of a packed batch lies: offsets of payloads and their lengths. */
export interface RecordIndex {
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
}

/**
 * Indexes a packed batch without copying it; throws when a record runs past the end. `expected` is the
 * record count the frame announces: the index is sized to it (8 bytes a record) instead of to the most
 * records the bytes could hold, which for small events is as many bytes again as the batch, freshly
 * allocated for every frame. A batch holding more records than announced still indexes them all.
 */
export function splitRecords(data: Uint8Array, expected?: number): RecordIndex {
  // Every record takes at least 8 bytes but the last, which may end unpadded after 4: this bounds the count.
  const max = Math.ceil(data.length / RECORD_ALIGN);
  let size = expected !== undefined && expected >= 0 ? Math.min(expected, max) : max;
  let offsets: Uint32Array<ArrayBuffer> = new Uint32Array(size);
  let lengths: Uint32Array<ArrayBuffer> = new Uint32Array(size);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let count = 0;
  for (let at = 0; at + RECORD_HEADER <= data.length;) {
    const length = view.getUint32(at, true);
    if (at + RECORD_HEADER + length > data.length)
      throw new Error(`record batch is cut short: a record of ${length} bytes at ${at} runs past ${data.length}`);
    if (count === size) {
      size = Math.min(max, Math.max(16, size * 2));
      offsets = grow(offsets, size);
      lengths = grow(lengths, size);
    }
    offsets[count] = at + RECORD_HEADER;
    lengths[count] = length;
    count++;
    at += recordSpan(length);
  }
  return { offsets, lengths, count };
}

function grow(a: Uint32Array, size: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}

/** Packs payloads into one batch in the layout above. */
export function packRecords(payloads: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const p of payloads) size += recordSpan(p.length);
  const out = Buffer.alloc(size);
  let at = 0;
  for (const p of payloads) {
    out.writeUInt32LE(p.length, at);
    out.set(p, at + RECORD_HEADER);
    at += recordSpan(p.length);
  }
  return out;
}

/**
 * Packs text lines as UTF-8 records, written straight into one buffer (no Buffer per line). The size is
 * bounded first with the worst case of 3 bytes per UTF-16 unit, then trimmed.
 */
export function packLines(lines: readonly string[]): Buffer {
  let bound = 0;
  for (const l of lines) bound += recordSpan(l.length * 3);
  const out = Buffer.alloc(bound);
  let at = 0;
  for (const l of lines) {
    const n = out.write(l, at + RECORD_HEADER, 'utf8');
    out.writeUInt32LE(n, at);
    at += recordSpan(n);
  }
  return out.subarray(0, at);
}

/** Record `i` of an indexed batch as text. */
export function recordText(data: Buffer, index: RecordIndex, i: number): string {
  return data.toString('utf8', index.offsets[i], index.offsets[i] + index.lengths[i]);
}
