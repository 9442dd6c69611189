// Decodes map keys and values and event records with the BtfType trees the helper sends: one leaf, all
// leaves of a value, a value as a tree for export, per-CPU sums. Pure code, run by both processes (the
// helper for per-CPU slots, the host for everything shown). Types are flattened in btf-leaves.ts, named in
// btf-types.ts; typed input is parsed back in btf-encode.ts.
import type { BtfType } from '../protocol/types';
import { alignedInteger, bigToScalar, cString, hex, readBits, toSigned } from './btf-bits';
import { Leaf, leavesOf, MAX_EXPANDED_ARRAY } from './btf-leaves';
import { indexTree, isCharType, resolve, typeSize } from './btf-types';

/** A decoded scalar: numbers beyond 2^53 stay exact as decimal strings. */
export type Scalar = number | string | boolean;
/** A decoded value as a tree, for export: structs are objects, arrays are arrays. */
export type Decoded = Scalar | Decoded[] | { [field: string]: Decoded };

/** Structs, unions and arrays decodeTree expands before the rest of a value is given as hex: refs let a
 * small tree stand for an exponential one, and arrays of up to 4096 elements nest. */
const MAX_TREE_NODES = 1 << 16;

/** The integer value of a numeric leaf (int, bool, char, enum), for sums and plots. */
export function leafInteger(leaf: Leaf, buf: Uint8Array, base = 0): bigint | undefined {
  if (leaf.kind !== 'int' && leaf.kind !== 'char' && leaf.kind !== 'bool' && leaf.kind !== 'enum') return undefined;
  const raw = readBits(buf, base, leaf.bitOffset, leaf.bits);
  return leaf.signed ? toSigned(raw, leaf.bits) : raw;
}

/** Decodes one leaf of a value that starts at `base` in `buf`. */
export function decodeLeaf(leaf: Leaf, buf: Uint8Array, base = 0): Scalar {
  const start = base + Math.floor(leaf.bitOffset / 8);
  switch (leaf.kind) {
    case 'bool':
      return readBits(buf, base, leaf.bitOffset, leaf.bits) !== 0n;
    case 'int':
    case 'char':
      if ((leaf.bitOffset & 7) === 0) {
        const fast = alignedInteger(buf, start, leaf.bits, leaf.signed);
        if (fast !== undefined) return fast;
      }
      return bigToScalar(leafInteger(leaf, buf, base)!);
    case 'enum': {
      const v = leafInteger(leaf, buf, base)!;
      // Unnamed 64-bit values stay exact (as decimal strings beyond 2^53), so they can be written back.
      return leaf.enumValues?.find((e) => e.value === Number(v))?.name ?? bigToScalar(v);
    }
    case 'float': {
      const size = leaf.bits / 8;
      const view =
        start + size <= buf.length
          ? new DataView(buf.buffer, buf.byteOffset + start, size)
          : new DataView(Uint8Array.from({ length: size }, (_, i) => buf[start + i] ?? 0).buffer);
      return leaf.bits === 32
        ? view.getFloat32(0, true)
        : leaf.bits === 64
          ? view.getFloat64(0, true)
          : hex(buf, start, start + leaf.bits / 8);
    }
    case 'ptr':
      return `0x${readBits(buf, base, leaf.bitOffset, leaf.bits).toString(16)}`;
    case 'string':
      return cString(buf, start, leaf.bits / 8);
    case 'bytes':
      return hex(buf, start, start + leaf.bits / 8);
  }
}

/** Decodes all leaves of a value: path -> scalar. */
export function decodeLeaves(leaves: Leaf[], buf: Uint8Array, base = 0): Scalar[] {
  return leaves.map((leaf) => decodeLeaf(leaf, buf, base));
}

/**
 * Decodes a value into a tree that mirrors its C type (export to JSON). `ref` nodes are followed through
 * the tree's index; a struct met again inside itself (cyclic BTF), and whatever lies past the node budget,
 * is given as the hex of its bytes. Nothing is read past the end of the struct or array element that holds
 * it (unchecked BTF can put a 16 MiB member in an 8-byte struct): what lies beyond is cut, as leavesOf
 * cuts what lies past the value's end.
 */
export function decodeTree(type: BtfType, buf: Uint8Array, base = 0, bitOffset = 0, bitfield = 0): Decoded {
  const index = indexTree(type);
  const open = new Set<number>();
  let nodes = 0;
  const bytesWithin = (at: number, bits: number, limit: number) =>
    at >= limit ? '' : hex(buf, base + Math.floor(at / 8), base + Math.floor(Math.min(at + bits, limit) / 8));
  const walk = (t: BtfType, at: number, width: number, limit: number): Decoded => {
    const r = resolve(t, index);
    if (++nodes > MAX_TREE_NODES) return bytesWithin(at, width || typeSize(r) * 8, limit);
    switch (r.kind) {
      case 'struct':
      case 'union': {
        if (r.id !== undefined && open.has(r.id)) return bytesWithin(at, typeSize(r) * 8, limit);
        if (r.id !== undefined) open.add(r.id);
        const inner = Math.min(limit, at + typeSize(r) * 8);
        const out: { [field: string]: Decoded } = {};
        r.members.forEach((m, i) => {
          const value = walk(m.type, at + m.bitOffset, m.bitSize, inner);
          if (!m.name && value !== null && typeof value === 'object' && !Array.isArray(value))
            Object.assign(out, value);
          else out[m.name || `(anon${i})`] = value;
        });
        if (r.id !== undefined) open.delete(r.id);
        return out;
      }
      case 'array':
        if (!isCharType(r.elem, index) && r.length <= MAX_EXPANDED_ARRAY * 16 && typeSize(r.elem) > 0) {
          const step = typeSize(r.elem) * 8;
          return Array.from({ length: r.length }, (_, i) =>
            walk(r.elem, at + i * step, 0, Math.min(limit, at + (i + 1) * step)),
          );
        }
        break;
    }
    // A scalar, a char array, a huge array or a ref the tree lacks: leavesOf makes exactly one leaf of it.
    const leaf = leavesOf(r, index)[0];
    const bits = width || leaf.bits;
    if ((leaf.kind === 'bytes' || leaf.kind === 'string') && at + leaf.bitOffset + bits > limit)
      return bytesWithin(at + leaf.bitOffset, bits, limit);
    return decodeLeaf({ ...leaf, bitOffset: at + leaf.bitOffset, bits }, buf, base);
  };
  return walk(type, bitOffset, bitfield, bitOffset + (bitfield || typeSize(type) * 8));
}

/** Shows a scalar in a table cell. */
export function formatScalar(value: Scalar): string {
  return typeof value === 'string' ? value : String(value);
}

/** Values of per-CPU maps: round_up(valueSize, 8) bytes per possible CPU. */
export function perCpuSlot(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** The sum over CPUs of each numeric leaf (blank for leaves that do not add up: strings, pointers). */
export function sumPerCpu(leaves: Leaf[], buf: Uint8Array, base: number, cpus: number, slot: number): Scalar[] {
  return leaves.map((leaf) => {
    if (leaf.kind !== 'int' && leaf.kind !== 'float') return '';
    if (leaf.kind === 'float') {
      let s = 0;
      for (let c = 0; c < cpus; c++) s += Number(decodeLeaf(leaf, buf, base + c * slot));
      return s;
    }
    let s = 0n;
    for (let c = 0; c < cpus; c++) s += leafInteger(leaf, buf, base + c * slot)!;
    return bigToScalar(s);
  });
}
