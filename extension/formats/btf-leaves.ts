// A BTF type flattened into "leaves", one per scalar (an int, a bitfield, an enum, a char array shown as
// a string, a pointer shown as hex): what the map viewer's columns, forms, filters and plots and the event
// decoders work on. Follows `ref` nodes within a budget. Pure code, run by both processes.
import type { BtfMember, BtfType } from '../protocol/types';
import { BtfIndex, indexTree, isCharType, missingRef, resolve, typeName, typeSize } from './btf-types';

export type LeafKind = 'int' | 'bool' | 'char' | 'enum' | 'float' | 'ptr' | 'string' | 'bytes';

/** One scalar inside a type, at a fixed bit position. */
export interface Leaf {
  /** "count", "inner.pid", "slots[3]", "comm"; "" when the whole type is one scalar. */
  path: string;
  kind: LeafKind;
  /** From the start of the value, in bits (bitfields need it). */
  bitOffset: number;
  /** Width in bits: 8 * size, or the bitfield's width. */
  bits: number;
  signed: boolean;
  /** The C type as a user reads it: "u32", "s64", "enum state", "char[16]", "void *". */
  label: string;
  enumValues?: { name: string; value: number }[];
}

/** Arrays longer than this are one hex cell instead of a leaf per element. */
export const MAX_EXPANDED_ARRAY = 256;
/** A type with more leaves than this is edited and shown as hex: no one reads 5,000 columns. */
const MAX_LEAVES = 1024;
/** Nodes visited while flattening: refs let a small tree stand for an exponential one (struct s1 { struct
 * s0 a, b, c, d; } ... with empty structs at the bottom gives no leaves to stop at), so the walk is bounded
 * too. Past it the value is one hex leaf, as past MAX_LEAVES. */
const MAX_VISITS = 1 << 16;
const MAX_SCALAR_BITS = 128;

function isScalarKind(kind: BtfType['kind']): boolean {
  return kind === 'int' || kind === 'enum' || kind === 'float' || kind === 'ptr';
}

function plausibleWidth(bits: number): boolean {
  return Number.isInteger(bits) && bits > 0 && bits <= MAX_SCALAR_BITS;
}

/** The whole of a type as one hex leaf. */
export function bytesLeaf(type: BtfType, label = typeName(type)): Leaf {
  return { path: '', kind: 'bytes', bitOffset: 0, bits: typeSize(type) * 8, signed: false, label };
}

/**
 * Flattens a type into its leaves, in memory order. `ref` nodes are followed through the tree's index
 * (built from `type` unless given); a struct met again inside itself (cyclic BTF) is its bytes, and so is a
 * ref to an id the tree does not describe, labelled with what is wrong.
 */
export function leavesOf(type: BtfType, index: BtfIndex = indexTree(type)): Leaf[] {
  const leaves: Leaf[] = [];
  const open = new Set<number>();
  let visits = 0;
  const add = (t: BtfType, path: string, bitOffset: number, bitfield: number) => {
    if (leaves.length > MAX_LEAVES || ++visits > MAX_VISITS) return;
    const r = resolve(t, index);
    const label = t.kind === 'typedef' && r.kind !== 'struct' && r.kind !== 'union' ? t.name : typeName(r);
    const bytes = (why: string) =>
      leaves.push({ path, kind: 'bytes', bitOffset, bits: typeSize(r) * 8, signed: false, label: why });
    // Hostile or corrupt BTF can give a scalar any width: only real widths are read as numbers, the rest
    // as bytes (a BigInt of billions of bits cannot even be made).
    if (isScalarKind(r.kind) && !plausibleWidth(bitfield || typeSize(r) * 8)) {
      bytes(`${label} (width not a scalar's)`);
      return;
    }
    switch (r.kind) {
      case 'int':
        leaves.push({
          path,
          kind: r.bool ? 'bool' : r.char && !bitfield ? 'char' : 'int',
          bitOffset,
          bits: bitfield || r.size * 8,
          signed: r.signed,
          label: bitfield ? `${label} : ${bitfield}` : label,
        });
        return;
      case 'enum':
        leaves.push({
          path,
          kind: 'enum',
          bitOffset,
          bits: bitfield || r.size * 8,
          signed: r.signed,
          label,
          enumValues: r.values,
        });
        return;
      case 'float':
        leaves.push({ path, kind: 'float', bitOffset, bits: r.size * 8, signed: true, label });
        return;
      case 'ptr':
        leaves.push({ path, kind: 'ptr', bitOffset, bits: r.size * 8, signed: false, label });
        return;
      case 'array':
        if (isCharType(r.elem, index)) {
          leaves.push({ path, kind: 'string', bitOffset, bits: r.size * 8, signed: false, label: `char[${r.length}]` });
          return;
        }
        if (r.length > MAX_EXPANDED_ARRAY || typeSize(r.elem) === 0) break;
        for (let i = 0; i < r.length; i++) add(r.elem, `${path}[${i}]`, bitOffset + i * typeSize(r.elem) * 8, 0);
        return;
      case 'struct':
      case 'union': {
        // C cannot hold a struct inside itself by value: only cyclic BTF leads here.
        if (r.id !== undefined && open.has(r.id)) return void bytes(`${label} (contains itself)`);
        if (r.id !== undefined) open.add(r.id);
        for (const m of r.members)
          add(m.type, memberPath(path, m, r.members, index), bitOffset + m.bitOffset, m.bitSize);
        if (r.id !== undefined) open.delete(r.id);
        return;
      }
      case 'ref':
        return void bytes(missingRef(r, index) ?? label);
    }
    // Anything else (forward declarations, huge arrays, unknown kinds): raw bytes.
    bytes(typeName(r));
  };
  add(type, '', 0, 0);
  if (leaves.length > MAX_LEAVES || visits > MAX_VISITS) return [bytesLeaf(type)];
  return insideValue(leaves, typeSize(type) * 8);
}

/**
 * Only what lies inside the value. A compiler never puts a member past its struct's end, but an object's
 * BTF is not checked by the kernel before the event decoders read it: a 1 MiB array inside an 8-byte
 * struct would otherwise be hex-dumped from zeros for every event. A leaf cut by the end becomes the bytes
 * that are there.
 */
function insideValue(leaves: Leaf[], end: number): Leaf[] {
  return leaves.flatMap((leaf) => {
    if (leaf.bitOffset + leaf.bits <= end) return [leaf];
    const bytes = Math.floor((end - leaf.bitOffset) / 8);
    if (leaf.bitOffset % 8 !== 0 || bytes <= 0) return [];
    return [
      { ...leaf, kind: 'bytes', bits: bytes * 8, signed: false, label: `${leaf.label} (cut at ${end / 8} bytes)` },
    ];
  });
}

/** A member's path below its parent's; anonymous structs and unions fold into their parent, as C lets
 * you name their fields directly. */
export function memberPath(parent: string, m: BtfMember, siblings: BtfMember[], index?: BtfIndex): string {
  const name = m.name || `(anon${siblings.indexOf(m)})`;
  if (!m.name && ['struct', 'union'].includes(resolve(m.type, index).kind)) return parent;
  return parent ? `${parent}.${name}` : name;
}
