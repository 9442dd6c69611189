// Pure conversions between what a user types for a `const volatile` variable and the hex bytes the
// helper's load method takes (little-endian, exactly the variable's size). No vscode import: unit-tested.
import type { BtfType, VariableSpec } from '../../../protocol/types';

/** Thrown for text that does not fit the variable; the message is shown to the user as is. */
export class VariableInputError extends Error {
  override name = 'VariableInputError';
}

/**
 * Variables a user may set before load: globals libbpf puts in .rodata (or a custom .rodata.* section).
 * Function-local statics such as bpf_printk's "trace_fork.____fmt" are named with a dot: not settable.
 */
export function settableVariables<V extends Pick<VariableSpec, 'section' | 'name'>>(variables: V[]): V[] {
  return variables.filter(
    (v) => (v.section === '.rodata' || v.section.startsWith('.rodata.')) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name),
  );
}

/** A one-byte int BTF calls char (its CHAR encoding bit is often absent): arrays of it are text. */
function isChar(type: BtfType): boolean {
  const r = resolveType(type);
  return r.kind === 'int' && r.size === 1 && (r.char || r.name === 'char');
}

/** Follows typedefs to the type that says how the bytes are laid out. */
export function resolveType(type: BtfType): BtfType {
  let t = type;
  for (let depth = 0; t.kind === 'typedef' && depth < 64; depth++) t = t.target;
  return t;
}

/** A readable name for the type, for prompts: "__u32 (unsigned 32-bit)", "char[16]". */
export function describeType(type: BtfType): string {
  const r = resolveType(type);
  const name = type.kind === 'typedef' ? type.name : undefined;
  let shape: string;
  switch (r.kind) {
    case 'int':
      shape = r.bool ? 'bool' : r.char ? 'char' : `${r.signed ? 'signed' : 'unsigned'} ${r.size * 8}-bit`;
      break;
    case 'float':
      shape = `${r.size * 8}-bit float`;
      break;
    case 'enum':
      shape = `enum ${r.name || '(anonymous)'}`;
      break;
    case 'array':
      shape = `${describeType(r.elem)}[${r.length}]`;
      break;
    case 'struct':
    case 'union':
      shape = `${r.kind} ${r.name || '(anonymous)'}`;
      break;
    case 'ptr':
      shape = `pointer to ${r.target}`;
      break;
    case 'void':
      shape = 'void';
      break;
    default:
      shape = `${r.kind} ${r.name}`;
  }
  return name ? `${name} (${shape})` : shape;
}

/**
 * The initial bytes of a variable as they crossed the JSON boundary. A Buffer serialised by JSON.stringify
 * arrives as {type: "Buffer", data: [...]}; a helper may also send lower-case hex or base64.
 */
export function variableBytes(initial: unknown, size: number): Uint8Array {
  if (initial instanceof Uint8Array) return new Uint8Array(initial);
  if (Array.isArray(initial)) return Uint8Array.from(initial as number[]);
  if (initial && typeof initial === 'object' && Array.isArray((initial as { data?: unknown }).data)) {
    return Uint8Array.from((initial as { data: number[] }).data);
  }
  if (typeof initial === 'string') {
    if (initial.length === size * 2 && /^[0-9a-fA-F]*$/.test(initial)) return fromHex(initial);
    return new Uint8Array(Buffer.from(initial, 'base64'));
  }
  return new Uint8Array(size);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function sizeOf(type: BtfType): number {
  const r = resolveType(type);
  if (r.kind === 'void') return 0;
  if (r.kind === 'array') return r.size || sizeOf(r.elem) * r.length;
  return r.size;
}

function parseInteger(text: string, what: string): bigint {
  const t = text.trim().replace(/_/g, '');
  const m = /^([+-]?)(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i.exec(t);
  if (!m) throw new VariableInputError(`"${text.trim()}" is not an integer (${what} takes decimal, 0x hex, 0b or 0o).`);
  const magnitude = BigInt(m[2].replace(/^0([XBO])/, (_, p: string) => '0' + p.toLowerCase()));
  return m[1] === '-' ? -magnitude : magnitude;
}

function encodeInt(value: bigint, size: number, signed: boolean, what: string): Uint8Array {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (value < min || value > max) {
    throw new VariableInputError(`${value} does not fit ${what}: it takes ${min} to ${max}.`);
  }
  let v = BigInt.asUintN(Number(bits), value);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function decodeInt(bytes: Uint8Array, signed: boolean): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return signed ? BigInt.asIntN(bytes.length * 8, v) : v;
}

function parseHexBytes(text: string, size: number): Uint8Array {
  const t = text
    .trim()
    .replace(/^0x/i, '')
    .replace(/[\s:,]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(t)) {
    throw new VariableInputError(`"${text.trim()}" is not hex bytes (two hex digits per byte, e.g. "01 00 ff").`);
  }
  if (t.length !== size * 2) {
    throw new VariableInputError(`Expected exactly ${size} byte${size === 1 ? '' : 's'} of hex, got ${t.length / 2}.`);
  }
  return fromHex(t.toLowerCase());
}

/** Splits "1, 2, 3" or "[1 2 3]" into its elements. */
function splitList(text: string): string[] {
  const t = text.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  return t === '' ? [] : t.split(/[\s,]+/).filter(Boolean);
}

function encodeBytes(type: BtfType, text: string): Uint8Array {
  const r = resolveType(type);
  const what = describeType(type);
  switch (r.kind) {
    case 'int': {
      const t = text.trim();
      if (r.bool) {
        if (/^(true|1)$/i.test(t)) return encodeInt(1n, r.size, false, what);
        if (/^(false|0)$/i.test(t)) return encodeInt(0n, r.size, false, what);
        throw new VariableInputError(`"${t}" is not a bool: use true or false.`);
      }
      if (r.char) {
        const quoted = /^'(.)'$/u.exec(t);
        if (quoted) {
          const code = quoted[1].codePointAt(0)!;
          if (code > 0x7f) throw new VariableInputError(`'${quoted[1]}' is not an ASCII character.`);
          return encodeInt(BigInt(code), r.size, false, what);
        }
      }
      return encodeInt(parseInteger(t, what), r.size, r.signed, what);
    }
    case 'enum': {
      const t = text.trim();
      const named = r.values.find((v) => v.name === t);
      const value = named ? BigInt(named.value) : parseInteger(t, what);
      // A negative value is stored as two's complement, a positive one as unsigned, so either reading of
      // the bits is accepted whatever signedness BTF recorded.
      return encodeInt(value, r.size, value < 0n, what);
    }
    case 'float': {
      const t = text.trim();
      const n = Number(t);
      if (t === '' || (Number.isNaN(n) && !/^nan$/i.test(t))) throw new VariableInputError(`"${t}" is not a number.`);
      const out = new Uint8Array(r.size);
      const view = new DataView(out.buffer);
      if (r.size === 4) view.setFloat32(0, n, true);
      else if (r.size === 8) view.setFloat64(0, n, true);
      else return parseHexBytes(text, r.size);
      return out;
    }
    case 'array': {
      const elem = resolveType(r.elem);
      const size = sizeOf(r);
      if (isChar(elem)) {
        // A C string: typed as text, stored NUL-padded.
        const bytes = new TextEncoder().encode(text);
        if (bytes.length > size) {
          throw new VariableInputError(`"${text}" is ${bytes.length} bytes; ${what} holds at most ${size}.`);
        }
        const out = new Uint8Array(size);
        out.set(bytes);
        return out;
      }
      if (elem.kind === 'int' || elem.kind === 'enum' || elem.kind === 'float') {
        const items = splitList(text);
        if (items.length > r.length) {
          throw new VariableInputError(`${what} has ${r.length} elements, got ${items.length}.`);
        }
        const out = new Uint8Array(size);
        const elemSize = sizeOf(r.elem);
        items.forEach((item, i) => {
          try {
            out.set(encodeBytes(r.elem, item), i * elemSize);
          } catch (error) {
            throw new VariableInputError(`Element ${i}: ${(error as Error).message}`);
          }
        });
        return out;
      }
      return parseHexBytes(text, size);
    }
    default:
      // Structs, unions, pointers and anything else: raw bytes.
      return parseHexBytes(text, sizeOf(type));
  }
}

/**
 * Encodes what the user typed as the variable's bytes, little-endian hex of exactly the type's size.
 * Throws VariableInputError with a message fit for the user when the text does not fit the type.
 */
export function encodeVariable(type: BtfType, text: string): string {
  return toHex(encodeBytes(type, text));
}

/** The variable's current bytes as the user would type them (integers in decimal). */
export function decodeVariable(type: BtfType, bytes: Uint8Array): string {
  const r = resolveType(type);
  switch (r.kind) {
    case 'int': {
      const v = decodeInt(bytes.subarray(0, r.size), r.signed);
      if (r.bool) return v === 0n ? 'false' : 'true';
      return v.toString();
    }
    case 'enum': {
      const v = decodeInt(bytes.subarray(0, r.size), r.signed);
      return (
        r.values.find((e) => BigInt(e.value) === v || BigInt.asUintN(r.size * 8, BigInt(e.value)) === v)?.name ??
        v.toString()
      );
    }
    case 'float': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (r.size === 4) return String(view.getFloat32(0, true));
      if (r.size === 8) return String(view.getFloat64(0, true));
      return toHex(bytes);
    }
    case 'array': {
      const elem = resolveType(r.elem);
      if (isChar(elem)) {
        const end = bytes.indexOf(0);
        return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
      }
      if (elem.kind === 'int' || elem.kind === 'enum' || elem.kind === 'float') {
        const elemSize = sizeOf(r.elem);
        const items: string[] = [];
        for (let i = 0; i < r.length; i++)
          items.push(decodeVariable(r.elem, bytes.subarray(i * elemSize, (i + 1) * elemSize)));
        return items.join(', ');
      }
      return toHex(bytes);
    }
    default:
      return toHex(bytes);
  }
}

/** What the input box says about the expected form of the value. */
export function inputHint(type: BtfType): string {
  const r = resolveType(type);
  switch (r.kind) {
    case 'int':
      return r.bool ? 'true or false' : 'an integer (decimal, or 0x hex)';
    case 'enum':
      return `one of ${r.values.map((v) => v.name).join(', ') || 'its values'}, or an integer`;
    case 'float':
      return 'a number';
    case 'array': {
      const elem = resolveType(r.elem);
      if (isChar(elem)) return `text, at most ${sizeOf(r)} bytes`;
      if (elem.kind === 'int' || elem.kind === 'enum' || elem.kind === 'float')
        return `up to ${r.length} comma-separated values`;
      return `${sizeOf(r)} bytes of hex`;
    }
    default:
      return `${sizeOf(type)} bytes of hex`;
  }
}
