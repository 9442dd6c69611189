// Ring and perf buffer events as the helper sends them (extension/helper/subscriptions.ts): records in
// the layout of records.ts inside binary frames (frames.ts). Decodes each with a struct from the object's
// BTF, guessed from the record size when exactly one struct fits. Pure.
import type { BtfType } from '../protocol/types';
import { decodeLeaves, Scalar } from './btf-decode';
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

/** Decodes records of one struct type into rows of scalars (one per leaf), or hex when no type is known. */
export class EventDecoder {
  readonly leaves: Leaf[];
  readonly size: number;

  constructor(readonly type: BtfType | undefined) {
    this.leaves = type ? leavesOf(type) : [];
    this.size = type ? typeSize(type) : 0;
  }

  /** Column names: the struct's leaf paths, or "bytes" for undecoded events. */
  get columns(): string[] {
    return this.type ? this.leaves.map((l) => l.path || 'value') : ['bytes'];
  }

  decode(data: Uint8Array, offset: number, length: number): Scalar[] {
    if (!this.type || length < this.size)
      return [Buffer.from(data.buffer, data.byteOffset + offset, length).toString('hex')];
    return decodeLeaves(this.leaves, data, offset);
  }
}
