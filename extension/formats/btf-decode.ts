// Decodes map keys and values with the BtfType trees the helper sends (native/types.ts), and parses what a
// user typed back into bytes. A type is flattened once into "leaves" (one per scalar: an int, a bitfield, an
// enum, a char array shown as a string, a pointer shown as hex), which is what the map viewer's columns,
// forms, filters and plots work on. Pure: no vscode, no helper, no native code.
import type { BtfMember, BtfType } from '../protocol/types';

/** A decoded scalar: numbers beyond 2^53 stay exact as decimal strings. */
export type Scalar = number | string | boolean;
/** A decoded value as a tree, for export: structs are objects, arrays are arrays. */
export type Decoded = Scalar | Decoded[] | { [field: string]: Decoded };

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
const MAX_EXPANDED_ARRAY = 256;
/** A type with more leaves than this is edited and shown as hex: no one reads 5,000 columns. */
const MAX_LEAVES = 1024;

/** Size in bytes of any BtfType. */
export function typeSize(type: BtfType): number {
  return type.kind === 'void' ? 0 : type.size;
}

/** Follows typedefs to the type that says how the bytes look. */
export function resolve(type: BtfType): BtfType {
  let t = type;
  while (t.kind === 'typedef') t = t.target;
  return t;
}

/** A readable name of a type, the way it would be declared. */
export function typeName(type: BtfType): string {
  switch (type.kind) {
    case 'void':
      return 'void';
    case 'int':
      if (type.bool) return 'bool';
      if (type.char) return 'char';
      return `${type.signed ? 's' : 'u'}${type.size * 8}`;
    case 'float':
      return type.name;
    case 'ptr':
      return `${type.target || 'void'} *`;
    case 'array':
      return `${typeName(type.elem)}[${type.length}]`;
    case 'struct':
    case 'union':
      return `${type.kind} ${type.name || '(anon)'}`;
    case 'enum':
      return `enum ${type.name || '(anon)'}`;
    case 'typedef':
      return type.name;
    default:
      return type.name || type.kind;
  }
}

function isCharType(t: BtfType): boolean {
  const r = resolve(t);
  return (
    r.kind === 'int' &&
    r.size === 1 &&
    (r.char || r.name === 'char' || r.name === 'signed char' || r.name === 'unsigned char')
  );
}

/** Stand-in when a map has no BTF for its key or value: one hex leaf of the right size. */
export function bytesType(size: number): BtfType {
  return { kind: 'unknown', name: `${size} bytes`, size };
}

/** Flattens a type into its leaves, in memory order. */
const MAX_SCALAR_BITS = 128;

function isScalarKind(kind: BtfType['kind']): boolean {
  return kind === 'int' || kind === 'enum' || kind === 'float' || kind === 'ptr';
}

function plausibleWidth(bits: number): boolean {
  return Number.isInteger(bits) && bits > 0 && bits <= MAX_SCALAR_BITS;
}

export function leavesOf(type: BtfType): Leaf[] {
  const leaves: Leaf[] = [];
  const add = (t: BtfType, path: string, bitOffset: number, bitfield: number) => {
    if (leaves.length > MAX_LEAVES) return;
    const r = resolve(t);
    const label = t.kind === 'typedef' && r.kind !== 'struct' && r.kind !== 'union' ? t.name : typeName(r);
    // Hostile or corrupt BTF can give a scalar any width: only real widths are read as numbers, the rest
    // as bytes (a BigInt of billions of bits cannot even be made).
    if (isScalarKind(r.kind) && !plausibleWidth(bitfield || typeSize(r) * 8)) {
      leaves.push({
        path,
        kind: 'bytes',
        bitOffset,
        bits: typeSize(r) * 8,
        signed: false,
        label: `${label} (width not a scalar's)`,
      });
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
        if (isCharType(r.elem)) {
          leaves.push({ path, kind: 'string', bitOffset, bits: r.size * 8, signed: false, label: `char[${r.length}]` });
          return;
        }
        if (r.length > MAX_EXPANDED_ARRAY || typeSize(r.elem) === 0) break;
        for (let i = 0; i < r.length; i++) add(r.elem, `${path}[${i}]`, bitOffset + i * typeSize(r.elem) * 8, 0);
        return;
      case 'struct':
      case 'union':
        for (const m of r.members) add(m.type, memberPath(path, m, r.members), bitOffset + m.bitOffset, m.bitSize);
        return;
    }
    // Anything else (forward declarations, huge arrays, unknown kinds): raw bytes.
    leaves.push({ path, kind: 'bytes', bitOffset, bits: typeSize(r) * 8, signed: false, label: typeName(r) });
  };
  add(type, '', 0, 0);
  if (leaves.length > MAX_LEAVES)
    return [{ path: '', kind: 'bytes', bitOffset: 0, bits: typeSize(type) * 8, signed: false, label: typeName(type) }];
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
    const bytes = (end - leaf.bitOffset) >> 3;
    if (leaf.bitOffset % 8 !== 0 || bytes <= 0) return [];
    return [
      { ...leaf, kind: 'bytes', bits: bytes * 8, signed: false, label: `${leaf.label} (cut at ${end / 8} bytes)` },
    ];
  });
}

function memberPath(parent: string, m: BtfMember, siblings: BtfMember[]): string {
  // Anonymous structs and unions fold into their parent, as C lets you name their fields directly.
  const name = m.name || `(anon${siblings.indexOf(m)})`;
  if (!m.name && ['struct', 'union'].includes(resolve(m.type).kind)) return parent;
  return parent ? `${parent}.${name}` : name;
}

/** Reads `bits` bits little-endian starting `bitOffset` bits into `buf` (plus `base` bytes). */
export function readBits(buf: Uint8Array, base: number, bitOffset: number, bits: number): bigint {
  const first = base + (bitOffset >> 3);
  const shift = bitOffset & 7;
  const last = base + ((bitOffset + bits + 7) >> 3);
  let v = 0n;
  for (let i = last - 1; i >= first; i--) v = (v << 8n) | BigInt(buf[i] ?? 0);
  return (v >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
}

/** Writes the low `bits` bits of `value` at `bitOffset`, leaving the neighbouring bits as they were. */
export function writeBits(buf: Uint8Array, base: number, bitOffset: number, bits: number, value: bigint): void {
  const first = base + (bitOffset >> 3);
  const shift = BigInt(bitOffset & 7);
  const span = ((bitOffset & 7) + bits + 7) >> 3;
  let word = 0n;
  for (let i = span - 1; i >= 0; i--) word = (word << 8n) | BigInt(buf[first + i]);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  word = (word & ~mask) | ((value << shift) & mask);
  for (let i = 0; i < span; i++) {
    buf[first + i] = Number(word & 0xffn);
    word >>= 8n;
  }
}

function toSigned(v: bigint, bits: number): bigint {
  return v >= 1n << BigInt(bits - 1) ? v - (1n << BigInt(bits)) : v;
}

function bigToScalar(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function hex(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += (buf[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/** C string of a char array: up to the first NUL; bytes that are not printable ASCII show as \xNN. */
function cString(buf: Uint8Array, from: number, length: number): string {
  let s = '';
  for (let i = from; i < from + length; i++) {
    const c = buf[i];
    // Past the end of a short buffer reads as the terminating NUL.
    if (c === 0 || c === undefined) break;
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : c === 0x5c
          ? '\\\\'
          : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The inverse of cString's escapes: "\\\\" is a backslash, "\\xNN" a byte; other text is UTF-8. */
function unescapeCString(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const m of text.matchAll(/\\\\|\\x([0-9a-fA-F]{2})/g)) {
    parts.push(Buffer.from(text.slice(from, m.index), 'utf8'), Buffer.from([m[1] ? parseInt(m[1], 16) : 0x5c]));
    from = m.index! + m[0].length;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** The integer value of a numeric leaf (int, bool, char, enum), for sums and plots. */
export function leafInteger(leaf: Leaf, buf: Uint8Array, base = 0): bigint | undefined {
  if (leaf.kind !== 'int' && leaf.kind !== 'char' && leaf.kind !== 'bool' && leaf.kind !== 'enum') return undefined;
  const raw = readBits(buf, base, leaf.bitOffset, leaf.bits);
  return leaf.signed ? toSigned(raw, leaf.bits) : raw;
}

/** Byte-aligned 8/16/32/64-bit integers without a bit-by-bit walk (events arrive by the million); values
 * beyond 2^53 come back as exact decimal strings. */
function alignedInteger(buf: Uint8Array, at: number, bits: number, signed: boolean): number | string | undefined {
  // A value cut short by its buffer takes the bit-by-bit path, which reads missing bytes as zeros.
  if (at + (bits >> 3) > buf.length) return undefined;
  switch (bits) {
    case 8:
      return signed ? (buf[at] << 24) >> 24 : buf[at];
    case 16: {
      const v = buf[at] | (buf[at + 1] << 8);
      return signed ? (v << 16) >> 16 : v;
    }
    case 32: {
      const v = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
      return signed ? v : v >>> 0;
    }
    case 64: {
      const lo = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
      const hi = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
      if (hi < 0x200000) return hi * 0x100000000 + lo;
      // Beyond 2^53 (timestamps, hashes, negative numbers): exact, as a decimal string.
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      return bigToScalar(signed ? BigInt.asIntN(64, v) : v);
    }
  }
  return undefined;
}

/** Decodes one leaf of a value that starts at `base` in `buf`. */
export function decodeLeaf(leaf: Leaf, buf: Uint8Array, base = 0): Scalar {
  const start = base + (leaf.bitOffset >> 3);
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

/** Decodes a value into a tree that mirrors its C type (export to JSON). */
export function decodeTree(type: BtfType, buf: Uint8Array, base = 0, bitOffset = 0, bitfield = 0): Decoded {
  const r = resolve(type);
  switch (r.kind) {
    case 'struct':
    case 'union': {
      const out: { [field: string]: Decoded } = {};
      r.members.forEach((m, i) => {
        const value = decodeTree(m.type, buf, base, bitOffset + m.bitOffset, m.bitSize);
        if (!m.name && value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, value);
        else out[m.name || `(anon${i})`] = value;
      });
      return out;
    }
    case 'array':
      if (!isCharType(r.elem) && r.length <= MAX_EXPANDED_ARRAY * 16 && typeSize(r.elem) > 0) {
        const step = typeSize(r.elem) * 8;
        return Array.from({ length: r.length }, (_, i) => decodeTree(r.elem, buf, base, bitOffset + i * step, 0));
      }
      break;
  }
  // A scalar, a char array or a huge array: leavesOf makes exactly one leaf of it.
  const leaf = leavesOf(r)[0];
  return decodeLeaf({ ...leaf, bitOffset: bitOffset + leaf.bitOffset, bits: bitfield || leaf.bits }, buf, base);
}

/** Shows a scalar in a table cell. */
export function formatScalar(value: Scalar): string {
  return typeof value === 'string' ? value : String(value);
}

/** Why a typed value was refused: which field, what was typed, what is allowed. */
export class EncodeError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'EncodeError';
  }
}

function fieldName(leaf: Leaf, what: string): string {
  return leaf.path ? `${what} field "${leaf.path}" (${leaf.label})` : `${what} (${leaf.label})`;
}

function parseInteger(text: string): bigint | undefined {
  const t = text.trim().replace(/_/g, '');
  if (!/^[-+]?(0x[0-9a-f]+|0b[01]+|0o[0-7]+|\d+)$/i.test(t)) return undefined;
  const negative = t.startsWith('-');
  const body = t.replace(/^[-+]/, '');
  const v = BigInt(body);
  return negative ? -v : v;
}

function integerRange(leaf: Leaf): [bigint, bigint] {
  const bits = BigInt(leaf.bits);
  return leaf.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

/** Parses what a user typed for one leaf and writes it into `buf`; throws EncodeError when it does not fit. */
export function encodeLeaf(leaf: Leaf, text: string, buf: Uint8Array, what = 'value'): void {
  const name = fieldName(leaf, what);
  const start = leaf.bitOffset >> 3;
  const t = text.trim();
  const writeInt = (v: bigint) =>
    writeBits(buf, 0, leaf.bitOffset, leaf.bits, v < 0n ? v + (1n << BigInt(leaf.bits)) : v);
  switch (leaf.kind) {
    case 'bool': {
      const v = /^(true|1)$/i.test(t) ? 1n : /^(false|0)$/i.test(t) ? 0n : undefined;
      if (v === undefined) throw new EncodeError(leaf.path, `${name}: "${text}" is not true or false.`);
      writeInt(v);
      return;
    }
    case 'char':
    case 'int': {
      let v = parseInteger(t);
      // A character, bare or in quotes; a lone quote is the quote character.
      if (v === undefined && leaf.kind === 'char' && /^'.'$|^.$/.test(t))
        v = BigInt(t.charCodeAt(t.length === 3 ? 1 : 0));
      const [min, max] = integerRange(leaf);
      if (v === undefined)
        throw new EncodeError(leaf.path, `${name}: "${text}" is not an integer (allowed: ${min} … ${max}).`);
      if (v < min || v > max)
        throw new EncodeError(leaf.path, `${name}: ${t} is out of range (allowed: ${min} … ${max}).`);
      writeInt(v);
      return;
    }
    case 'enum': {
      const named = leaf.enumValues?.find((e) => e.name === t);
      const v = named ? BigInt(named.value) : parseInteger(t);
      const [min, max] = integerRange(leaf);
      const names = leaf.enumValues?.map((e) => e.name).join(', ') ?? '';
      if (v === undefined || v < min || v > max)
        throw new EncodeError(
          leaf.path,
          `${name}: "${text}" is not one of ${names || 'its values'} or a number that fits.`,
        );
      writeInt(v);
      return;
    }
    case 'float': {
      // NaN and ±Infinity are floats too: what the viewer shows for them must be accepted back.
      const v = Number(t);
      if (t === '' || (Number.isNaN(v) && t !== 'NaN'))
        throw new EncodeError(leaf.path, `${name}: "${text}" is not a number.`);
      const view = new DataView(buf.buffer, buf.byteOffset + start, leaf.bits / 8);
      if (leaf.bits === 32) view.setFloat32(0, v, true);
      else view.setFloat64(0, v, true);
      return;
    }
    case 'ptr': {
      const v = parseInteger(t);
      const [, max] = integerRange(leaf);
      if (v === undefined || v < 0n || v > max)
        throw new EncodeError(leaf.path, `${name}: "${text}" is not an address (0x… up to ${leaf.bits} bits).`);
      writeInt(v);
      return;
    }
    case 'string': {
      const length = leaf.bits / 8;
      // Strings are taken as typed (leading or trailing spaces may matter), with the two escapes the viewer
      // shows (\\ and \xNN, see cString) read back, so an unchanged string writes back the same bytes.
      const bytes = unescapeCString(text);
      if (bytes.length > length)
        throw new EncodeError(leaf.path, `${name}: "${text}" is ${bytes.length} bytes long; at most ${length} fit.`);
      buf.fill(0, start, start + length);
      buf.set(bytes, start);
      return;
    }
    case 'bytes': {
      const size = leaf.bits / 8;
      const digits = t.replace(/^0x/i, '').replace(/[\s:]/g, '');
      if (!/^([0-9a-f]{2})*$/i.test(digits) || digits.length !== size * 2) {
        throw new EncodeError(
          leaf.path,
          `${name}: needs exactly ${size} bytes as hex (${size * 2} hex digits), got "${text}".`,
        );
      }
      buf.set(Buffer.from(digits, 'hex'), start);
      return;
    }
  }
}

/**
 * Builds the bytes of a value from typed text per leaf path, on top of `base` (the current value when
 * editing, zeros when adding): only the fields given change, so an edited union member is not overwritten
 * by its siblings. Every field is checked before anything is returned; unknown paths are errors too.
 */
export function encodeValue(type: BtfType, fields: Record<string, string>, base?: Uint8Array, what = 'value'): Buffer {
  const size = typeSize(type);
  const out = Buffer.alloc(size);
  if (base) {
    if (base.length !== size)
      throw new EncodeError(
        '',
        `The current ${what} has ${base.length} bytes; its type ${typeName(type)} has ${size}.`,
      );
    out.set(base);
  }
  const leaves = leavesOf(type);
  const byPath = new Map(leaves.map((l) => [l.path, l]));
  const errors: EncodeError[] = [];
  for (const [path, text] of Object.entries(fields)) {
    const leaf = byPath.get(path);
    if (!leaf) {
      errors.push(new EncodeError(path, `The ${what} type ${typeName(type)} has no field "${path}".`));
      continue;
    }
    try {
      encodeLeaf(leaf, text, out, what);
    } catch (error) {
      if (error instanceof EncodeError) errors.push(error);
      else throw error;
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new EncodeError(errors[0].path, errors.map((e) => e.message).join('\n'));
  return out;
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

/** A bcc-style log2 histogram inside a value: an integer array named like `slots`. */
export interface HistogramShape {
  /** The array's path ("slots", "hist.slots"), or "" when the value itself is the array. */
  path: string;
  /** Indices into leavesOf(valueType) of the buckets, in order. */
  leafIndices: number[];
}

export function findHistograms(valueType: BtfType, mapName = ''): HistogramShape[] {
  const leaves = leavesOf(valueType);
  const arrays = new Map<string, number[]>();
  leaves.forEach((leaf, i) => {
    const m = /^(.*)\[(\d+)\]$/.exec(leaf.path);
    if (!m || leaf.kind !== 'int' || m[1].includes('[')) return;
    (arrays.get(m[1]) ?? arrays.set(m[1], []).get(m[1])!).push(i);
  });
  return [...arrays.entries()]
    .filter(([path, idx]) => idx.length >= 2 && /(^|[._])(slots|hist|buckets|log2)\w*$/i.test(path || mapName))
    .map(([path, leafIndices]) => ({ path, leafIndices }));
}

/** bcc's bucket labels for log2 histograms: 0 -> 1, 2 -> 3, 4 -> 7, ... */
export function log2BucketLabel(i: number): string {
  const high = (1n << BigInt(i + 1)) - 1n;
  let low = (1n << BigInt(i + 1)) >> 1n;
  if (low === high) low -= 1n;
  return `${low} -> ${high}`;
}
