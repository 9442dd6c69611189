// The aya-log wire format: record fields, argument kinds and display hints per aya-log-common version,
// the shapes of a decoded record and of a typed failure. Pure code, run by the extension host.
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

export const LEVELS: readonly AyaLogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
export const HINTS: readonly AyaDisplayHint[] = [
  'default',
  'lowerHex',
  'upperHex',
  'ip',
  'lowerMac',
  'upperMac',
  'pointer',
];
export const HEADER_FIELDS = ['target', 'level', 'module', 'file', 'line', 'numArgs'] as const;
export type HeaderField = (typeof HEADER_FIELDS)[number];

export interface VersionFacts {
  /** The wire value of RecordField(Kind)::Target; the rest follow in HEADER_FIELDS order. */
  firstField: number;
  numArgsSize: 4 | 8;
  /** ArgumentKind by wire value; index 0 is DisplayHint. */
  arguments: readonly AyaArgumentKind[];
  /** The highest DisplayHint wire value the version knows. */
  lastHint: number;
}

export const INTEGERS = ['I8', 'I16', 'I32', 'I64', 'Isize', 'U8', 'U16', 'U32', 'U64', 'Usize', 'F32', 'F64'] as const;

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

export class Failure {
  constructor(readonly error: AyaLogError) {}
}

export function fail(kind: AyaLogErrorKind, offset: number, message: string): never {
  // Thrown only inside this module and caught in decodeWith: the API itself never throws.
  throw new Failure({ kind, offset, message });
}
