// An aya-log record's arguments as text, the way aya-log 0.3.0's `Format` impls print them (hex, IP and
// MAC addresses, pointers, Rust's float formatting), and the line shown for a record. Pure code, run by
// the extension host.

import { AyaArgumentKind, AyaDisplayHint, AyaLogArgument, AyaLogRecord, fail } from './aya-log-format';

const INT_SIZES: Partial<Record<AyaArgumentKind, { size: number; signed: boolean }>> = {
  I8: { size: 1, signed: true },
  I16: { size: 2, signed: true },
  I32: { size: 4, signed: true },
  I64: { size: 8, signed: true },
  Isize: { size: 8, signed: true },
  U8: { size: 1, signed: false },
  U16: { size: 2, signed: false },
  U32: { size: 4, signed: false },
  U64: { size: 8, signed: false },
  Usize: { size: 8, signed: false },
};

// isize and usize are 8 bytes: the writer is a 64-bit BPF target and the reader a 64-bit host.
const VALUE_SIZES: Partial<Record<AyaArgumentKind, number>> = {
  F32: 4,
  F64: 8,
  Ipv4Addr: 4,
  Ipv6Addr: 16,
  ArrU8Len4: 4,
  ArrU8Len6: 6,
  ArrU8Len16: 16,
  ArrU16Len8: 16,
  Pointer: 8,
};

export function formatArgument(
  kind: AyaArgumentKind,
  value: Uint8Array,
  hint: AyaDisplayHint | undefined,
  littleEndian: boolean,
  at: number,
): AyaLogArgument {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const expected = INT_SIZES[kind]?.size ?? VALUE_SIZES[kind];
  if (expected !== undefined && value.length !== expected)
    fail('bad-argument', at, `a ${kind} is ${expected} bytes, not ${value.length}`);
  const mismatch = (): never => fail('hint-mismatch', at, `the hint ${hint} does not apply to a ${kind}`);
  const done = (v: AyaLogArgument['value'], text: string): AyaLogArgument => ({
    kind,
    ...(hint ? { hint } : {}),
    value: v,
    text,
  });

  const integer = INT_SIZES[kind];
  if (integer) {
    const raw = readInteger(view, integer.size, integer.signed, littleEndian);
    if (hint === undefined || hint === 'default') return done(raw, raw.toString());
    if (hint === 'lowerHex' || hint === 'upperHex') {
      // Rust prints a negative number's two's complement at the type's width.
      const unsigned =
        typeof raw === 'bigint' ? BigInt.asUintN(integer.size * 8, raw) : raw < 0 ? raw + 2 ** (integer.size * 8) : raw;
      const hex = unsigned.toString(16);
      return done(raw, hint === 'upperHex' ? hex.toUpperCase() : hex);
    }
    if (hint === 'ip' && kind === 'U32') return done(raw, ipv4Text(Number(raw) >>> 0));
    return mismatch();
  }
  switch (kind) {
    case 'F32':
    case 'F64': {
      if (hint !== undefined && hint !== 'default') return mismatch();
      const x = kind === 'F32' ? view.getFloat32(0, littleEndian) : view.getFloat64(0, littleEndian);
      return done(x, rustFloat(x, kind === 'F32'));
    }
    case 'Ipv4Addr':
    case 'ArrU8Len4':
      if (hint !== undefined && hint !== 'default' && hint !== 'ip') return mismatch();
      return done(value.slice(), ipv4Text(view.getUint32(0, false)));
    case 'Ipv6Addr':
      if (hint !== undefined && hint !== 'default' && hint !== 'ip') return mismatch();
      return done(value.slice(), ipv6Text(segmentsOf(view, false)));
    case 'ArrU8Len16':
      if (hint !== 'ip') return mismatch();
      return done(value.slice(), ipv6Text(segmentsOf(view, false)));
    case 'ArrU16Len8':
      // aya-log reads the [u16; 8] as little-endian pairs whatever the host (`s[1] << 8 | s[0]`).
      if (hint !== 'ip') return mismatch();
      return done(value.slice(), ipv6Text(segmentsOf(view, true)));
    case 'ArrU8Len6': {
      if (hint !== 'lowerMac' && hint !== 'upperMac') return mismatch();
      const mac = Array.from(value, (b) => b.toString(16).padStart(2, '0')).join(':');
      return done(value.slice(), hint === 'upperMac' ? mac.toUpperCase() : mac);
    }
    case 'Bytes': {
      if (hint !== 'lowerHex' && hint !== 'upperHex') return mismatch();
      const hex = Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');
      return done(value.slice(), hint === 'upperHex' ? hex.toUpperCase() : hex);
    }
    case 'Pointer': {
      if (hint !== 'pointer') return mismatch();
      const address = view.getBigUint64(0, littleEndian);
      return done(address, `0x${address.toString(16)}`);
    }
    default:
      return fail('unknown-argument', at, `argument kind ${kind} has no formatter`);
  }
}

function readInteger(view: DataView, size: number, signed: boolean, littleEndian: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? view.getInt8(0) : view.getUint8(0);
    case 2:
      return signed ? view.getInt16(0, littleEndian) : view.getUint16(0, littleEndian);
    case 4:
      return signed ? view.getInt32(0, littleEndian) : view.getUint32(0, littleEndian);
    default:
      return signed ? view.getBigInt64(0, littleEndian) : view.getBigUint64(0, littleEndian);
  }
}

function segmentsOf(view: DataView, littleEndian: boolean): number[] {
  return Array.from({ length: 8 }, (_, i) => view.getUint16(i * 2, littleEndian));
}

export function ipv4Text(address: number): string {
  return [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff].join('.');
}

/** IPv6 text as Rust's `Display for Ipv6Addr` writes it: RFC 5952, with `::ffff:a.b.c.d` for IPv4-mapped. */
export function ipv6Text(segments: readonly number[]): string {
  if (segments.slice(0, 5).every((s) => s === 0) && segments[5] === 0xffff) {
    return `::ffff:${ipv4Text(((segments[6] << 16) | segments[7]) >>> 0)}`;
  }
  // The longest run of zero segments (the first of equal runs) becomes "::" when it is longer than one.
  let best = { start: 0, length: 0 };
  let current = { start: 0, length: 0 };
  segments.forEach((s, i) => {
    if (s !== 0) {
      current = { start: i + 1, length: 0 };
      return;
    }
    current.length++;
    if (current.length > best.length) best = { ...current };
  });
  const hex = (part: readonly number[]) => part.map((s) => s.toString(16)).join(':');
  if (best.length > 1) return `${hex(segments.slice(0, best.start))}::${hex(segments.slice(best.start + best.length))}`;
  return hex(segments);
}

/**
 * A float as Rust's `Display` writes it: the shortest digits that read back to the same f32/f64, never
 * in exponent form ("1e21" is "1000000000000000000000"), "NaN", "inf", "-inf", "-0".
 */
export function rustFloat(x: number, single: boolean): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  let shortest = String(x);
  if (single) {
    for (let digits = 1; digits <= 9; digits++) {
      const candidate = x.toPrecision(digits);
      if (Math.fround(Number(candidate)) === x) {
        shortest = String(Number(candidate));
        break;
      }
    }
  }
  return plainDecimal(shortest);
}

/** "1.5e-7" → "0.00000015", "1e+21" → "1000000000000000000000"; plain input passes through. */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, whole, fraction = '', exponentText] = m;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A record on one line, as aya-log's docs show one: `[INFO target] src/main.rs:12 message`. */
export function ayaLogLine(record: AyaLogRecord): string {
  return `[${record.level.toUpperCase()} ${record.target}] ${record.file}:${record.line} ${record.message}`;
}
