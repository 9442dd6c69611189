// `check -G NAME=VALUE`, as veristat's -G: a global (usually a `const volatile` setting) given a value
// for verification, written as in C (42, -1, 0x1f, true, an enum value's name). Globals not given keep
// the object's defaults.
import type { BtfType, ObjectSpec } from '../protocol/types';

/** Follows typedefs (and const/volatile, which BTF resolution already drops) to the value's type. */
function resolved(type: BtfType): BtfType {
  return type.kind === 'typedef' ? resolved(type.target) : type;
}

function integerBytes(value: bigint, size: number, signed: boolean, name: string): Buffer {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (value < min || value > max)
    throw new Error(`-G ${name}: ${value} does not fit in ${size} byte${size > 1 ? 's' : ''} (${min}..${max})`);
  const out = Buffer.alloc(size);
  let v = BigInt.asUintN(size * 8, value);
  // BPF objects are little-endian on every host eBPF Studio supports (x86-64, arm64).
  for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

function parseInteger(text: string, name: string): bigint {
  const t = text.trim().toLowerCase();
  if (t === 'true') return 1n;
  if (t === 'false') return 0n;
  const negative = t.startsWith('-');
  const digits = negative ? t.slice(1) : t;
  if (!/^(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|\d+)u?l{0,2}$/.test(digits))
    throw new Error(`-G ${name}=${text}: not an integer (write it as in C: 42, -1, 0x1f, true)`);
  const n = BigInt(digits.replace(/u?l{0,2}$/, '').replace(/^0(?=[0-7])/, '0o'));
  return negative ? -n : n;
}

/** NAME -> hex bytes for the helper's load (LoadParams.variables); throws a message for -G on bad input. */
export function encodeGlobals(spec: ObjectSpec, globals: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(globals)) {
    const variable = spec.variables.find((v) => v.name === name);
    if (!variable) {
      const names = spec.variables.map((v) => v.name).join(', ') || 'none';
      throw new Error(`-G ${name}: ${spec.name} has no global variable "${name}" (its globals: ${names})`);
    }
    const type = resolved(variable.type);
    let bytes: Buffer;
    if (type.kind === 'int') {
      bytes = integerBytes(parseInteger(text, name), variable.size, type.signed, name);
    } else if (type.kind === 'enum') {
      const named = type.values.find((v) => v.name === text.trim());
      const value = named ? BigInt(named.value) : parseInteger(text, name);
      bytes = integerBytes(value, variable.size, type.signed || value < 0n, name);
    } else if (type.kind === 'array' && type.length === variable.size && resolved(type.elem).kind === 'int') {
      // char name[16]: a string, NUL-padded.
      const string = Buffer.from(text, 'utf8');
      if (string.length >= variable.size)
        throw new Error(`-G ${name}: "${text}" needs ${string.length + 1} bytes; ${name} has ${variable.size}`);
      bytes = Buffer.alloc(variable.size);
      string.copy(bytes);
    } else {
      throw new Error(`-G ${name}: only integers, enums, booleans and char arrays can be set (it is ${type.kind})`);
    }
    out[name] = bytes.toString('hex');
  }
  return out;
}
