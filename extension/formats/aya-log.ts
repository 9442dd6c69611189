// Decodes aya-log records: what `aya_log_ebpf::info!(ctx, "...", ...)` in an aya program writes to the
// map AYA_LOGS, turned into a level, a target, a file:line and the message as aya-log would print it.
// Pure: no I/O; never throws on hostile bytes (every failure is a typed AyaLogError).
//
// The layouts, from the sources of github.com/aya-rs/aya at the release tags named below:
//
// * "ringbuf" — aya-log-common 0.2.0 with aya-log-ebpf 0.2.0 and aya-log 0.3.0 (repository tags
//   aya-log-common-v0.2.0, aya-log-ebpf-v0.2.0, aya-log-v0.3.0; commits 9be2d723 "aya-log: Replace
//   AsyncPerfEventArray with RingBuf" and 353b8338 "aya-log-ebpf: zero copy!"). AYA_LOGS is a
//   BPF_MAP_TYPE_RINGBUF. Each sample is reserved at a power of two between 64 and 8192 bytes
//   (aya-log-ebpf-macros/src/expand.rs), so it carries garbage after the record; the record starts
//   with its own length as a native-endian u16 that counts those two bytes.
//   Fields are [kind u8][len u16][value]. RecordFieldKind counts from 0 (Target = 0 … NumArgs = 5),
//   NumArgs is a u32, and ArgumentKind gained Pointer (= 21) with DisplayHint::Pointer (= 7, `{:p}`).
// * "perf" — aya-log-common 0.1.14 and 0.1.15, used by aya-log-ebpf 0.1.0 (which asks for
//   aya-log-common ^0.1.14, so either may be in a lock file) and aya-log 0.2.0 / 0.2.1. AYA_LOGS is a
//   BPF_MAP_TYPE_PERF_EVENT_ARRAY and a sample is the record with no length in front (perf pads it
//   to 8 bytes, so trailing bytes are ignored). Fields are [kind u8][len u16][value] as above, but
//   RecordField counts from 1 (Target = 1 … NumArgs = 6) and NumArgs is a usize (8 bytes on BPF).
//   0.1.15 (commit a75fc2f7) inserted Ipv4Addr, Ipv6Addr and ArrU8Len4 after F64, which renumbered
//   every later ArgumentKind: Str is 17 in 0.1.14 and 20 in 0.1.15. The two are told apart by trying
//   0.1.15 first: a record read with the wrong table fails on a value's size or hint.
// * aya-log-common 0.1.13 and older (aya-log ≤ 0.1.13, 2022) wrote usize tags and usize lengths with
//   other numbering (DisplayHint Ipv4 = 4, Ipv6 = 5, …). They are recognised and refused with
//   'unsupported-version' rather than misread.
//
// The level field is a u8: Error = 1, Warn, Info, Debug, Trace = 5 in every supported version.
// A message is a list of arguments: each literal piece of the format string is a Str argument, each
// `{…}` is a DisplayHint argument (Default = 1, LowerHex `:x`, UpperHex `:X`, Ip `:i`, LowerMac `:mac`,
// UpperMac `:MAC`, Pointer `:p` = 7) followed by the value. Formatting follows aya-log 0.3.0's `Format`
// impls (aya-log/src/lib.rs): a hint that does not apply to a value's kind is an error there too.
// One deliberate difference: aya-log 0.2.0 printed `{:x}` of a byte slice without zero padding (fixed
// in 0.2.1, aya PR #1008); this decoder always pads, as 0.2.1 and later do.

export type AyaLogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The aya-log-common release whose numbering a record uses. */
export type AyaLogVersion = '0.2.0' | '0.1.15' | '0.1.14';

/** How the record reached user space: a ring buffer sample (with the u16 length) or a perf sample. */
export type AyaLogTransport = 'ringbuf' | 'perf';

export type AyaDisplayHint = 'default' | 'lowerHex' | 'upperHex' | 'ip' | 'lowerMac' | 'upperMac' | 'pointer';

export type AyaArgumentKind =
  | 'I8'
  | 'I16'
  | 'I32'
  | 'I64'
  | 'Isize'
  | 'U8'
  | 'U16'
  | 'U32'
  | 'U64'
  | 'Usize'
  | 'F32'
  | 'F64'
  | 'Ipv4Addr'
  | 'Ipv6Addr'
  | 'ArrU8Len4'
  | 'ArrU8Len6'
  | 'ArrU8Len16'
  | 'ArrU16Len8'
  | 'Bytes'
  | 'Str'
  | 'Pointer';

/** One `{…}` of the format string with its value; literal pieces are only in the message. */
export interface AyaLogArgument {
  kind: AyaArgumentKind;
  /** The hint written before the value, if any (a Str after `{}` keeps it pending, as aya-log does). */
  hint?: AyaDisplayHint;
  /** Integers wider than 32 bits and pointers are bigints; addresses, MACs and byte slices are bytes. */
  value: number | bigint | string | Uint8Array;
  /** The value as it appears in the message. */
  text: string;
}

export interface AyaLogRecord {
  version: AyaLogVersion;
  level: AyaLogLevel;
  target: string;
  module: string;
  file: string;
  line: number;
  message: string;
  args: AyaLogArgument[];
  /** Bytes the record occupies (for a ring buffer sample, its u16 length; the rest is slack). */
  size: number;
}

export type AyaLogErrorKind =
  | 'truncated' // a length runs past the end of the bytes
  | 'bad-length' // the ring buffer record's u16 length is below 2 or past the sample
  | 'unknown-field' // a header tag that is no RecordField
  | 'duplicate-field'
  | 'bad-field' // a header value of the wrong size or not UTF-8
  | 'bad-level'
  | 'unknown-argument' // an argument tag that is no ArgumentKind of the version
  | 'bad-argument' // an argument value of the wrong size for its kind
  | 'bad-hint' // a display hint byte that is no DisplayHint
  | 'hint-mismatch' // a hint that does not apply to the value (aya-log drops such records)
  | 'unsupported-version';

export interface AyaLogError {
  kind: AyaLogErrorKind;
  /** Offset into the given bytes where decoding stopped. */
  offset: number;
  message: string;
}

export type AyaLogResult = { ok: true; record: AyaLogRecord } | { ok: false; error: AyaLogError };

export interface AyaLogDecodeOptions {
  transport: AyaLogTransport;
  /** Pins the numbering; by default ring buffers are 0.2.0 and perf samples try 0.1.15, then 0.1.14. */
  version?: AyaLogVersion;
  /** The byte order of the BPF target (bpfel unless the object says otherwise). */
  littleEndian?: boolean;
}

const LEVELS: readonly AyaLogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
const HINTS: readonly AyaDisplayHint[] = ['default', 'lowerHex', 'upperHex', 'ip', 'lowerMac', 'upperMac', 'pointer'];
const HEADER_FIELDS = ['target', 'level', 'module', 'file', 'line', 'numArgs'] as const;
type HeaderField = (typeof HEADER_FIELDS)[number];

interface VersionFacts {
  /** The wire value of RecordField(Kind)::Target; the rest follow in HEADER_FIELDS order. */
  firstField: number;
  numArgsSize: 4 | 8;
  /** ArgumentKind by wire value; index 0 is DisplayHint. */
  arguments: readonly AyaArgumentKind[];
  /** The highest DisplayHint wire value the version knows. */
  lastHint: number;
}

const INTEGERS = ['I8', 'I16', 'I32', 'I64', 'Isize', 'U8', 'U16', 'U32', 'U64', 'Usize', 'F32', 'F64'] as const;

/** One definition of each version's numbering (see the header comment for the sources). */
export const AYA_LOG_VERSIONS: Readonly<Record<AyaLogVersion, VersionFacts>> = {
  '0.2.0': {
    firstField: 0,
    numArgsSize: 4,
    arguments: [
      ...INTEGERS,
      'Ipv4Addr',
      'Ipv6Addr',
      'ArrU8Len4',
      'ArrU8Len6',
      'ArrU8Len16',
      'ArrU16Len8',
      'Bytes',
      'Str',
      'Pointer',
    ],
    lastHint: 7,
  },
  '0.1.15': {
    firstField: 1,
    numArgsSize: 8,
    arguments: [
      ...INTEGERS,
      'Ipv4Addr',
      'Ipv6Addr',
      'ArrU8Len4',
      'ArrU8Len6',
      'ArrU8Len16',
      'ArrU16Len8',
      'Bytes',
      'Str',
    ],
    lastHint: 6,
  },
  '0.1.14': {
    firstField: 1,
    numArgsSize: 8,
    arguments: [...INTEGERS, 'ArrU8Len6', 'ArrU8Len16', 'ArrU16Len8', 'Bytes', 'Str'],
    lastHint: 6,
  },
};

/** The wire value of an argument kind in a version (index + 1, since DisplayHint is 0), for writers and tests. */
export function ayaArgumentTag(version: AyaLogVersion, kind: AyaArgumentKind | 'DisplayHint'): number | undefined {
  if (kind === 'DisplayHint') return 0;
  const index = AYA_LOG_VERSIONS[version].arguments.indexOf(kind);
  return index < 0 ? undefined : index + 1;
}

/** The wire value of a header field in a version. */
export function ayaFieldTag(version: AyaLogVersion, field: HeaderField): number {
  return AYA_LOG_VERSIONS[version].firstField + HEADER_FIELDS.indexOf(field);
}

/** The wire value of a display hint (the same in every version that has it). */
export function ayaHintValue(hint: AyaDisplayHint): number {
  return HINTS.indexOf(hint) + 1;
}

/** The wire value of a level. */
export function ayaLevelValue(level: AyaLogLevel): number {
  return LEVELS.indexOf(level) + 1;
}

class Failure {
  constructor(readonly error: AyaLogError) {}
}

function fail(kind: AyaLogErrorKind, offset: number, message: string): never {
  // Thrown only inside this module and caught in decodeWith: the API itself never throws.
  throw new Failure({ kind, offset, message });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

/**
 * Decodes one record. `bytes` is one ring buffer or perf sample as the consumer hands it over. For
 * perf samples without a pinned version, 0.1.15 is tried before 0.1.14: under the wrong numbering a
 * real record fails on its first value whose kind moved (a Str read as ArrU8Len16 must be 16 bytes,
 * a Str read as an unknown kind fails at once), so the first that decodes is the writer's.
 */
export function decodeAyaLogRecord(bytes: Uint8Array, options: AyaLogDecodeOptions): AyaLogResult {
  const littleEndian = options.littleEndian ?? true;
  const candidates: AyaLogVersion[] = options.version
    ? [options.version]
    : options.transport === 'ringbuf'
      ? ['0.2.0']
      : ['0.1.15', '0.1.14'];
  let first: AyaLogResult | undefined;
  for (const version of candidates) {
    const result = decodeWith(bytes, options.transport, version, littleEndian);
    if (result.ok) return result;
    first ??= result;
  }
  if (options.transport === 'perf' && looksLikeUsizeTags(bytes, littleEndian)) {
    return {
      ok: false,
      error: {
        kind: 'unsupported-version',
        offset: 0,
        message: 'an aya-log record of aya-log-common 0.1.13 or older (usize tags and lengths), which is not decoded',
      },
    };
  }
  return first!;
}

/** ≤ 0.1.13 began every record with RecordField::Target = 1 as a usize, then the target's length as a usize. */
function looksLikeUsizeTags(bytes: Uint8Array, littleEndian: boolean): boolean {
  if (bytes.length < 16) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getBigUint64(0, littleEndian) === 1n && view.getBigUint64(8, littleEndian) < BigInt(bytes.length);
}

function decodeWith(
  bytes: Uint8Array,
  transport: AyaLogTransport,
  version: AyaLogVersion,
  littleEndian: boolean,
): AyaLogResult {
  try {
    return { ok: true, record: decodeRecord(bytes, transport, version, littleEndian) };
  } catch (error) {
    if (error instanceof Failure) return { ok: false, error: error.error };
    // Anything else is a bug in this module; still a value, never an exception, for the caller.
    return {
      ok: false,
      error: { kind: 'truncated', offset: 0, message: `internal decoding error: ${(error as Error).message}` },
    };
  }
}

function decodeRecord(
  bytes: Uint8Array,
  transport: AyaLogTransport,
  version: AyaLogVersion,
  littleEndian: boolean,
): AyaLogRecord {
  const facts = AYA_LOG_VERSIONS[version];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let end = bytes.length;
  if (transport === 'ringbuf') {
    if (bytes.length < 2) fail('truncated', 0, `a ring buffer record needs a 2-byte length; got ${bytes.length} bytes`);
    const size = view.getUint16(0, littleEndian);
    if (size < 2 || size > bytes.length)
      fail('bad-length', 0, `the record's length ${size} does not fit the ${bytes.length}-byte sample`);
    end = size;
    at = 2;
  }

  const readField = (): { tag: number; value: Uint8Array; start: number } => {
    const start = at;
    if (end - at < 3) fail('truncated', at, `a field needs a kind and a length at ${at}; ${end - at} bytes left`);
    const tag = bytes[at];
    const length = view.getUint16(at + 1, littleEndian);
    if (end - at - 3 < length)
      fail('truncated', at, `a field of ${length} bytes at ${at} runs past the record's ${end} bytes`);
    const value = bytes.subarray(at + 3, at + 3 + length);
    at += 3 + length;
    return { tag, value, start };
  };

  // aya-log 0.3.0 reads fields until it has all six and refuses a repeated one; the writers of every
  // version emit them once each, in HEADER_FIELDS order.
  const header = new Map<HeaderField, { value: Uint8Array; start: number }>();
  while (header.size < HEADER_FIELDS.length) {
    const { tag, value, start } = readField();
    const field = HEADER_FIELDS[tag - facts.firstField];
    if (field === undefined)
      fail('unknown-field', start, `header field kind ${tag} is not one of aya-log-common ${version}`);
    if (header.has(field)) fail('duplicate-field', start, `the header has ${field} twice`);
    header.set(field, { value, start });
  }

  const text = (field: 'target' | 'module' | 'file'): string => {
    const { value, start } = header.get(field)!;
    try {
      return utf8.decode(value);
    } catch {
      return fail('bad-field', start, `the ${field} is not UTF-8`);
    }
  };
  const fixed = (field: HeaderField, size: number): DataView => {
    const { value, start } = header.get(field)!;
    if (value.length !== size) fail('bad-field', start, `the ${field} is ${value.length} bytes, not ${size}`);
    return new DataView(value.buffer, value.byteOffset, value.byteLength);
  };

  const levelValue = fixed('level', 1).getUint8(0);
  const level = LEVELS[levelValue - 1];
  if (level === undefined)
    fail('bad-level', header.get('level')!.start, `level ${levelValue} is not 1 (error) to 5 (trace)`);
  const line = fixed('line', 4).getUint32(0, littleEndian);
  const numArgsView = fixed('numArgs', facts.numArgsSize);
  // A hostile count only runs the loop until the bytes end (every argument takes at least 3).
  const numArgs =
    facts.numArgsSize === 4
      ? BigInt(numArgsView.getUint32(0, littleEndian))
      : numArgsView.getBigUint64(0, littleEndian);

  let message = '';
  const args: AyaLogArgument[] = [];
  let pendingHint: AyaDisplayHint | undefined;
  for (let i = 0n; i < numArgs; i++) {
    const { tag, value, start } = readField();
    if (tag === 0) {
      if (value.length !== 1) fail('bad-argument', start, `a display hint is 1 byte, not ${value.length}`);
      const hint = HINTS[value[0] - 1];
      if (hint === undefined || value[0] > facts.lastHint)
        fail('bad-hint', start, `display hint ${value[0]} is not one of aya-log-common ${version}`);
      pendingHint = hint;
      continue;
    }
    const kind = facts.arguments[tag - 1];
    if (kind === undefined)
      fail('unknown-argument', start, `argument kind ${tag} is not one of aya-log-common ${version}`);
    if (kind === 'Str') {
      // aya-log logs an error for a non-UTF-8 piece and leaves it out; showing it replaced is more useful here.
      message += lenientUtf8.decode(value);
      continue;
    }
    const argument = formatArgument(kind, value, pendingHint, littleEndian, start);
    pendingHint = undefined;
    message += argument.text;
    args.push(argument);
  }

  return {
    version,
    level,
    target: text('target'),
    module: text('module'),
    file: text('file'),
    line,
    message,
    args,
    size: end,
  };
}

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

function formatArgument(
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
