// Parses what a user typed for a BTF value (the map viewer's Add/Edit form, per field) back into bytes,
// refusing with an EncodeError that names the field, what was typed and what is allowed. Pure code, run
// by the extension host.
import type { BtfType } from '../protocol/types';
import { unescapeCString, writeBits } from './btf-bits';
import { Leaf, leavesOf } from './btf-leaves';
import { typeName, typeSize } from './btf-types';

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
  const start = Math.floor(leaf.bitOffset / 8);
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
