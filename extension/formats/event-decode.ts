// Ring and perf buffer events as the helper sends them (extension/helper/subscriptions.ts): records in
// the layout of records.ts inside binary frames (frames.ts). Decodes each with a struct from the object's
// BTF, guessed from the record size when exactly one struct fits. Pure.
import type { BtfType } from '../protocol/types';
import { decodeLeaf, Scalar } from './btf-decode';
import { alignedInteger } from './btf-bits';
import { Leaf, leavesOf } from './btf-leaves';
import { typeSize } from './btf-types';

export { splitRecords } from './records';

/**
 * The struct an event of `size` bytes most likely is. Ring buffer records are exactly the reserved size;
 * perf samples are padded so that size + 4 is a multiple of 8, hence the small window below `size`.
 * A `preferred` name (picked by the user once and remembered) wins when it still fits.
 */
export function guessEventStruct(
  structs: Record<string, BtfType>,
  size: number,
  preferred?: string,
): string | undefined {
  const fits = (t: BtfType) =>
    typeSize(t) === size ||
    (typeSize(t) < size && typeSize(t) > size - 8 && (typeSize(t) + 4 + 7) >> 3 === (size + 4) >> 3);
  if (preferred && structs[preferred] && fits(structs[preferred])) return preferred;
  // Program context and kernel types (xdp_md is 24 bytes, like many events) are never what a program emits.
  const candidates = Object.keys(structs).filter((name) => !KERNEL_STRUCT.test(name));
  const exact = candidates.filter((name) => typeSize(structs[name]) === size);
  if (exact.length === 1) return exact[0];
  if (exact.length > 1) return undefined;
  const padded = candidates.filter((name) => fits(structs[name]));
  return padded.length === 1 ? padded[0] : undefined;
}

const KERNEL_STRUCT =
  /^(xdp_md|__sk_buff|pt_regs|user_pt_regs|sk_msg_md|sk_reuseport_md|bpf_\w+|trace_event_raw_\w+|trace_entry|task_struct|sock|sk_buff|file|inode|bpf_sock\w*)$/;

/** Reads one leaf of a record that starts at `base`, which holds at least the struct's size. */
type LeafReader = (buf: Uint8Array, base: number) => Scalar;

/**
 * A reader for one leaf, chosen once per struct rather than per event: byte-aligned integers of 8 to 64 bits
 * (nearly every field of an event) are read straight from the bytes; the rest go through decodeLeaf. The
 * result is decodeLeaf's for every leaf (the unit tests compare them).
 */
function leafReader(leaf: Leaf): LeafReader {
  const at = Math.floor(leaf.bitOffset / 8);
  const plain = (leaf.kind === 'int' || leaf.kind === 'char') && (leaf.bitOffset & 7) === 0;
  if (!plain) return (buf, base) => decodeLeaf(leaf, buf, base);
  switch (leaf.bits) {
    case 8:
      return leaf.signed ? (buf, base) => (buf[base + at] << 24) >> 24 : (buf, base) => buf[base + at];
    case 16:
      return leaf.signed
        ? (buf, base) => ((buf[base + at] | (buf[base + at + 1] << 8)) << 16) >> 16
        : (buf, base) => buf[base + at] | (buf[base + at + 1] << 8);
    case 32:
      return leaf.signed
        ? (buf, base) =>
            buf[base + at] | (buf[base + at + 1] << 8) | (buf[base + at + 2] << 16) | (buf[base + at + 3] << 24)
        : (buf, base) =>
            (buf[base + at] | (buf[base + at + 1] << 8) | (buf[base + at + 2] << 16) | (buf[base + at + 3] << 24)) >>>
            0;
    case 64:
      return (buf, base) => {
        const i = base + at;
        const hi = (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24)) >>> 0;
        // Up to 2^53 a number; beyond (and negative values), alignedInteger's exact decimal string.
        if (hi < 0x200000)
          return hi * 0x100000000 + ((buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) >>> 0);
        return alignedInteger(buf, i, 64, leaf.signed)!;
      };
  }
  return (buf, base) => decodeLeaf(leaf, buf, base);
}

/** Decodes records of one struct type into rows of scalars (one per leaf), or hex when no type is known. */
export class EventDecoder {
  readonly leaves: Leaf[];
  readonly size: number;
  private readonly readers: LeafReader[];

  constructor(readonly type: BtfType | undefined) {
    this.leaves = type ? leavesOf(type) : [];
    this.size = type ? typeSize(type) : 0;
    this.readers = this.leaves.map(leafReader);
  }

  /** Column names: the struct's leaf paths, or "bytes" for undecoded events. */
  get columns(): string[] {
    return this.type ? this.leaves.map((l) => l.path || 'value') : ['bytes'];
  }

  /** Every leaf of the record at `offset`: the row as the panel and an export show it. */
  decode(data: Uint8Array, offset: number, length: number): Scalar[] {
    if (!this.type || length < this.size)
      return [Buffer.from(data.buffer, data.byteOffset + offset, length).toString('hex')];
    const readers = this.readers;
    const row = new Array<Scalar>(readers.length);
    for (let i = 0; i < readers.length; i++) row[i] = readers[i](data, offset);
    return row;
  }

  /** Leaf `leaf` of the record at `offset` alone (a column, a filter, a plot), or undefined when the record
   *  is shorter than the struct. */
  decodeLeaf(leaf: number, data: Uint8Array, offset: number, length: number): Scalar | undefined {
    if (!this.type || length < this.size || leaf < 0 || leaf >= this.readers.length) return undefined;
    return this.readers[leaf](data, offset);
  }
}
