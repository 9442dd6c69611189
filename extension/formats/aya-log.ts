// Decodes aya-log records: what `aya_log_ebpf::info!(ctx, "...", ...)` in an aya program writes to the
// map AYA_LOGS, turned into a level, a target, a file:line and the message as aya-log would print it.
// Pure code, run by the extension host; never throws on hostile bytes (every failure is a typed
// AyaLogError). The layouts per version are described in aya-log-format.ts.

import {
  AYA_LOG_VERSIONS,
  AyaDisplayHint,
  AyaLogArgument,
  AyaLogDecodeOptions,
  AyaLogRecord,
  AyaLogResult,
  AyaLogTransport,
  AyaLogVersion,
  fail,
  Failure,
  HEADER_FIELDS,
  HeaderField,
  HINTS,
  LEVELS,
} from './aya-log-format';
import { formatArgument } from './aya-log-text';

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
