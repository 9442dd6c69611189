// aya-log record decoding (extension/formats/aya-log.ts). Records are written here by a small encoder that
// follows aya-log-common's Field/Header writers; the expected messages are those of aya's own
// integration test (test/integration-test/src/tests/log.rs at tag aya-log-v0.3.0), so the decoder is held
// to what aya-log itself prints.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  AyaArgumentKind,
  AyaDisplayHint,
  AyaLogLevel,
  AyaLogResult,
  AyaLogTransport,
  AyaLogVersion,
  ayaArgumentTag,
  ayaFieldTag,
  ayaHintValue,
  ayaLevelValue,
} from '../../extension/formats/aya-log-format';
import { decodeAyaLogRecord } from '../../extension/formats/aya-log';
import { ayaLogLine, ipv6Text, rustFloat } from '../../extension/formats/aya-log-text';

type Piece = string | { kind: AyaArgumentKind; hint?: AyaDisplayHint; bytes: Uint8Array };

interface Header {
  level: AyaLogLevel;
  target?: string;
  module?: string;
  file?: string;
  line?: number;
}

/** One [kind u8][len u16][value] field. */
function field(tag: number, value: Uint8Array, le: boolean): Uint8Array {
  const out = new Uint8Array(3 + value.length);
  out[0] = tag;
  new DataView(out.buffer).setUint16(1, value.length, le);
  out.set(value, 3);
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
const text = (s: string) => new TextEncoder().encode(s);

function num(size: number, write: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  write(new DataView(out.buffer));
  return out;
}

/** Writes a record as the aya-log-ebpf macros of `version` do; a ring buffer record gets its u16 length. */
function encode(
  version: AyaLogVersion,
  header: Header,
  pieces: Piece[],
  opts: { le?: boolean; transport?: AyaLogTransport } = {},
): Uint8Array {
  const le = opts.le ?? true;
  const transport = opts.transport ?? (version === '0.2.0' ? 'ringbuf' : 'perf');
  const args: Uint8Array[] = [];
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      args.push(field(ayaArgumentTag(version, 'Str')!, text(piece), le));
      continue;
    }
    if (piece.hint) args.push(field(0, Uint8Array.of(ayaHintValue(piece.hint)), le));
    const tag = ayaArgumentTag(version, piece.kind);
    assert.ok(tag !== undefined, `${piece.kind} exists in ${version}`);
    args.push(field(tag, piece.bytes, le));
  }
  const numArgs =
    version === '0.2.0'
      ? num(4, (v) => v.setUint32(0, args.length, le))
      : num(8, (v) => v.setBigUint64(0, BigInt(args.length), le));
  const body = concat([
    field(ayaFieldTag(version, 'target'), text(header.target ?? 'log'), le),
    field(ayaFieldTag(version, 'level'), Uint8Array.of(ayaLevelValue(header.level)), le),
    field(ayaFieldTag(version, 'module'), text(header.module ?? 'log'), le),
    field(ayaFieldTag(version, 'file'), text(header.file ?? 'src/log.rs'), le),
    field(
      ayaFieldTag(version, 'line'),
      num(4, (v) => v.setUint32(0, header.line ?? 29, le)),
      le,
    ),
    field(ayaFieldTag(version, 'numArgs'), numArgs, le),
    ...args,
  ]);
  if (transport === 'perf') return body;
  return concat([num(2, (v) => v.setUint16(0, body.length + 2, le)), body]);
}

const i32 = (x: number, hint?: AyaDisplayHint): Piece => ({
  kind: 'I32',
  hint,
  bytes: num(4, (v) => v.setInt32(0, x, true)),
});
const u32 = (x: number, hint?: AyaDisplayHint): Piece => ({
  kind: 'U32',
  hint,
  bytes: num(4, (v) => v.setUint32(0, x, true)),
});
const bytes = (kind: AyaArgumentKind, b: number[], hint?: AyaDisplayHint): Piece => ({
  kind,
  hint,
  bytes: Uint8Array.from(b),
});
/** `{}` of a &str: the hint, then the string (which leaves the hint pending, as in aya-log). */
const strArg = (s: string): Piece[] => [{ kind: 'Str', hint: 'default', bytes: text(s) }];

function ok(result: AyaLogResult) {
  if (!result.ok) assert.fail(`expected a record, got ${result.error.kind}: ${result.error.message}`);
  return result.record;
}

const IPV4 = [10, 0, 0, 1];
const IPV6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const MAC = [4, 32, 6, 9, 0, 64];

/** aya's test_log cases: format pieces, level and the body aya-log prints. */
function integrationCases(
  version: AyaLogVersion,
): { name: string; level: AyaLogLevel; pieces: Piece[]; body: string }[] {
  const cases = [
    { name: 'a plain message', level: 'debug' as const, pieces: ['Hello from eBPF!'], body: 'Hello from eBPF!' },
    {
      name: 'integers, a &str and bytes in hex',
      level: 'error' as const,
      pieces: [
        i32(69, 'default'),
        ', ',
        i32(420, 'default'),
        ', ',
        ...strArg('wao'),
        ', ',
        bytes('Bytes', [0x77, 0x61, 0x6f], 'lowerHex'),
      ],
      body: '69, 420, wao, 77616f',
    },
    {
      name: 'a u32 as an IPv4 address',
      level: 'info' as const,
      pieces: ['ip as bits: ipv4: ', u32(0x0a000001, 'ip')],
      body: 'ip as bits: ipv4: 10.0.0.1',
    },
    {
      name: 'MAC addresses',
      level: 'trace' as const,
      pieces: ['mac lc: ', bytes('ArrU8Len6', MAC, 'lowerMac'), ', mac uc: ', bytes('ArrU8Len6', MAC, 'upperMac')],
      body: 'mac lc: 04:20:06:09:00:40, mac uc: 04:20:06:09:00:40',
    },
    {
      name: 'integers in hex',
      level: 'warn' as const,
      pieces: ['hex lc: ', i32(0x2f, 'lowerHex'), ', hex uc: ', i32(0x2f, 'upperHex')],
      body: 'hex lc: 2f, hex uc: 2F',
    },
    {
      name: 'a byte slice in hex',
      level: 'debug' as const,
      pieces: [
        'hex lc: ',
        bytes('Bytes', [0xde, 0xad, 0xbe, 0xef], 'lowerHex'),
        ', hex uc: ',
        bytes('Bytes', [0xde, 0xad, 0xbe, 0xef], 'upperHex'),
      ],
      body: 'hex lc: deadbeef, hex uc: DEADBEEF',
    },
    {
      name: 'an IPv6 address from [u8; 16]',
      level: 'info' as const,
      pieces: ['ipv6: ', bytes('ArrU8Len16', IPV6, 'ip')],
      body: 'ipv6: 2001:db8::1',
    },
  ];
  if (version !== '0.1.14') {
    cases.push(
      {
        name: 'Ipv4Addr and Ipv6Addr without a hint',
        level: 'info',
        pieces: [
          'ip structs, without format hint: ipv4: ',
          bytes('Ipv4Addr', IPV4, 'default'),
          ', ipv6: ',
          bytes('Ipv6Addr', IPV6, 'default'),
        ],
        body: 'ip structs, without format hint: ipv4: 10.0.0.1, ipv6: 2001:db8::1',
      },
      {
        name: 'octets with :i',
        level: 'info',
        pieces: ['ip as octets: ipv4: ', bytes('ArrU8Len4', IPV4, 'ip'), ', ipv6: ', bytes('ArrU8Len16', IPV6, 'ip')],
        body: 'ip as octets: ipv4: 10.0.0.1, ipv6: 2001:db8::1',
      },
    );
  }
  if (version === '0.2.0') {
    cases.push({
      name: 'a pointer',
      level: 'debug',
      pieces: [
        'ptr: ',
        { kind: 'Pointer', hint: 'pointer', bytes: num(8, (v) => v.setBigUint64(0, 0xdeadbeefn, true)) },
      ],
      body: 'ptr: 0xdeadbeef',
    });
  }
  return cases;
}

describe('aya-log records', () => {
  for (const version of ['0.2.0', '0.1.15', '0.1.14'] as AyaLogVersion[]) {
    const transport: AyaLogTransport = version === '0.2.0' ? 'ringbuf' : 'perf';
    describe(`aya-log-common ${version} (${transport})`, () => {
      for (const c of integrationCases(version)) {
        it(`decodes ${c.name} as aya-log prints it`, () => {
          const record = ok(decodeAyaLogRecord(encode(version, { level: c.level, line: 42 }, c.pieces), { transport }));
          assert.equal(record.message, c.body);
          assert.equal(record.level, c.level);
          assert.deepEqual([record.target, record.module, record.file, record.line], ['log', 'log', 'src/log.rs', 42]);
          assert.equal(record.version, version, 'the version is recognised without being named');
        });
      }
    });
  }

  it('lists each parameter with its kind, hint, value and text, and no literal pieces', () => {
    const record = ok(
      decodeAyaLogRecord(
        encode('0.2.0', { level: 'info' }, ['pid ', u32(1234, 'default'), ' addr ', bytes('Ipv4Addr', IPV4, 'ip')]),
        { transport: 'ringbuf' },
      ),
    );
    assert.deepEqual(
      record.args.map((a) => [a.kind, a.hint, a.text]),
      [
        ['U32', 'default', '1234'],
        ['Ipv4Addr', 'ip', '10.0.0.1'],
      ],
    );
    assert.equal(record.args[0].value, 1234);
    assert.deepEqual(Array.from(record.args[1].value as Uint8Array), IPV4);
  });

  it('reads a ring buffer record only up to its u16 length: the reserved sample carries slack', () => {
    const record = encode('0.2.0', { level: 'warn' }, ['slack follows']);
    const sample = new Uint8Array(64).fill(0xa5);
    sample.set(record);
    const decoded = ok(decodeAyaLogRecord(sample, { transport: 'ringbuf' }));
    assert.equal(decoded.message, 'slack follows');
    assert.equal(decoded.size, record.length);
  });

  it('ignores the padding after a perf sample', () => {
    const record = encode('0.1.15', { level: 'info' }, ['padded']);
    const padded = new Uint8Array(record.length + 5);
    padded.set(record);
    assert.equal(ok(decodeAyaLogRecord(padded, { transport: 'perf' })).message, 'padded');
  });

  it('tells 0.1.14 from 0.1.15 numbering by which one decodes, and honours a pinned version', () => {
    const pieces: Piece[] = ['mac ', bytes('ArrU8Len6', MAC, 'upperMac'), ' n=', u32(7, 'default')];
    const old = encode('0.1.14', { level: 'info' }, pieces);
    const newer = encode('0.1.15', { level: 'info' }, pieces);
    assert.notDeepEqual(old, newer, 'the same record differs on the wire');
    assert.equal(ok(decodeAyaLogRecord(old, { transport: 'perf' })).version, '0.1.14');
    assert.equal(ok(decodeAyaLogRecord(newer, { transport: 'perf' })).version, '0.1.15');
    const wrong = decodeAyaLogRecord(old, { transport: 'perf', version: '0.1.15' });
    assert.equal(wrong.ok, false, 'a 0.1.14 record does not decode as 0.1.15');
  });

  it('refuses the ring buffer layout read as perf and the reverse (field numbering and length prefix differ)', () => {
    const ring = encode('0.2.0', { level: 'info' }, ['x']);
    assert.equal(decodeAyaLogRecord(ring, { transport: 'perf' }).ok, false);
    const perf = encode('0.1.15', { level: 'info' }, ['x']);
    assert.equal(decodeAyaLogRecord(perf, { transport: 'ringbuf' }).ok, false);
  });

  it('recognises records of aya-log-common 0.1.13 and older and says so', () => {
    // ≤ 0.1.13: [tag usize][len usize][value], RecordField::Target = 1.
    const usize = (n: number) => num(8, (v) => v.setBigUint64(0, BigInt(n), true));
    const legacy = concat([usize(1), usize(3), text('log'), usize(2), usize(8), usize(3)]);
    const result = decodeAyaLogRecord(legacy, { transport: 'perf' });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.kind, 'unsupported-version');
  });

  it('decodes big-endian records when told the target is bpfeb', () => {
    const record = encode('0.2.0', { level: 'info', line: 258 }, ['n=', u32(0, 'default')], { le: false });
    const decoded = ok(decodeAyaLogRecord(record, { transport: 'ringbuf', littleEndian: false }));
    assert.equal(decoded.line, 258);
  });

  describe('formats values as Rust does', () => {
    const one = (piece: Piece) =>
      ok(decodeAyaLogRecord(encode('0.2.0', { level: 'info' }, [piece]), { transport: 'ringbuf' })).message;

    it("prints negative integers in hex as two's complement of their width", () => {
      assert.equal(one({ kind: 'I8', hint: 'lowerHex', bytes: Uint8Array.of(0xff) }), 'ff');
      assert.equal(one(i32(-2, 'upperHex')), 'FFFFFFFE');
      assert.equal(
        one({ kind: 'I64', hint: 'lowerHex', bytes: num(8, (v) => v.setBigInt64(0, -1n, true)) }),
        'ffffffffffffffff',
      );
      assert.equal(
        one({ kind: 'I64', bytes: num(8, (v) => v.setBigInt64(0, -9007199254740993n, true)) }),
        '-9007199254740993',
      );
      assert.equal(
        one({ kind: 'Usize', hint: 'default', bytes: num(8, (v) => v.setBigUint64(0, 18446744073709551615n, true)) }),
        '18446744073709551615',
      );
    });

    it('prints floats with the shortest digits and no exponent', () => {
      const f32 = (x: number) => one({ kind: 'F32', hint: 'default', bytes: num(4, (v) => v.setFloat32(0, x, true)) });
      const f64 = (x: number) => one({ kind: 'F64', bytes: num(8, (v) => v.setFloat64(0, x, true)) });
      assert.equal(f32(0.1), '0.1');
      assert.equal(f32(1), '1');
      assert.equal(f64(1e21), '1000000000000000000000');
      assert.equal(f64(1.5e-7), '0.00000015');
      assert.equal(f64(-0), '-0');
      assert.equal(f64(NaN), 'NaN');
      assert.equal(f64(-Infinity), '-inf');
      assert.equal(
        rustFloat(Math.fround(3.4028234663852886e38), true),
        '340282350000000000000000000000000000000',
        'f32::MAX',
      );
    });

    it("writes IPv6 addresses as Rust's Display does (RFC 5952, ::ffff:a.b.c.d)", () => {
      assert.equal(ipv6Text([0, 0, 0, 0, 0, 0, 0, 0]), '::');
      assert.equal(ipv6Text([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
      assert.equal(ipv6Text([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]), '::ffff:192.0.2.128');
      assert.equal(ipv6Text([0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329]), '2001:db8::ff00:42:8329');
      assert.equal(ipv6Text([1, 0, 0, 1, 0, 0, 0, 1]), '1:0:0:1::1', 'the longest run of zeros');
      assert.equal(ipv6Text([1, 0, 0, 1, 0, 0, 1, 1]), '1::1:0:0:1:1', 'the first of equal runs');
      assert.equal(ipv6Text([1, 0, 1, 0, 1, 0, 1, 0]), '1:0:1:0:1:0:1:0', 'a single zero is not compressed');
      assert.equal(
        one(bytes('ArrU16Len8', [0x01, 0x20, 0xb8, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00], 'ip')),
        '2001:db8::1',
        '[u16; 8] is read as little-endian pairs',
      );
    });
  });

  describe('refuses malformed records with a typed error and never throws', () => {
    const good = encode('0.2.0', { level: 'info' }, [
      'n=',
      u32(5, 'default'),
      ' mac ',
      bytes('ArrU8Len6', MAC, 'lowerMac'),
    ]);

    function errorKind(bytes: Uint8Array, transport: AyaLogTransport = 'ringbuf', version?: AyaLogVersion): string {
      const result = decodeAyaLogRecord(bytes, { transport, version });
      assert.equal(result.ok, false);
      return result.ok ? '' : result.error.kind;
    }

    it('every cut-short record', () => {
      for (let n = 0; n < good.length; n++) {
        const cut = good.slice(0, n);
        const result = decodeAyaLogRecord(cut, { transport: 'ringbuf' });
        assert.equal(result.ok, false, `${n} bytes`);
        // Cut with the length kept intact, the length runs past the sample.
        if (!result.ok) assert.ok(['truncated', 'bad-length'].includes(result.error.kind), result.error.kind);
      }
      const shortened = good.slice();
      new DataView(shortened.buffer).setUint16(0, good.length - 1, true);
      assert.equal(errorKind(shortened), 'truncated', 'a length that ends inside the last field');
    });

    it('a header field kind out of range, a repeated field, a bad level', () => {
      const header = (mutate: (b: Uint8Array) => void) => {
        const b = good.slice();
        mutate(b);
        return b;
      };
      assert.equal(
        errorKind(
          header((b) => {
            b[2] = 9;
          }),
        ),
        'unknown-field',
      );
      assert.equal(
        errorKind(
          header((b) => {
            b[2 + 3 + 3] = ayaFieldTag('0.2.0', 'target');
          }),
        ),
        'duplicate-field',
      );
      const levelAt = 2 + 3 + 3 + 3; // length, target "log", then the level's value
      assert.equal(
        errorKind(
          header((b) => {
            b[levelAt] = 0;
          }),
        ),
        'bad-level',
      );
      assert.equal(
        errorKind(
          header((b) => {
            b[levelAt] = 6;
          }),
        ),
        'bad-level',
      );
    });

    it('an unknown argument kind, a bad hint, a hint that does not apply, a value of the wrong size', () => {
      const with1 = (piece: Piece[]) => encode('0.2.0', { level: 'info' }, piece);
      const unknown = with1(['x']);
      unknown[unknown.length - 4] = 99; // the Str's kind
      assert.equal(errorKind(unknown), 'unknown-argument');
      const badHint = with1([u32(1, 'default')]);
      badHint[badHint.length - 7 - 1] = 8; // the hint's value, before the u32 field (3 + 4 bytes)
      assert.equal(errorKind(badHint), 'bad-hint');
      assert.equal(errorKind(with1([u32(1, 'lowerMac')])), 'hint-mismatch');
      assert.equal(errorKind(with1([bytes('Bytes', [1, 2], 'default')])), 'hint-mismatch');
      assert.equal(errorKind(with1([{ kind: 'U32', bytes: Uint8Array.of(1, 2) }])), 'bad-argument');
      assert.equal(
        errorKind(
          encode('0.1.15', { level: 'info' }, [u32(1, 'default')]).map((b, i, all) => (i === all.length - 8 ? 7 : b)),
          'perf',
          '0.1.15',
        ),
        'bad-hint',
        'Pointer (7) is no hint in 0.1.15',
      );
    });

    it('a header value that is not UTF-8', () => {
      const b = good.slice();
      b[2 + 3] = 0xff; // the target's first byte
      assert.equal(errorKind(b), 'bad-field');
    });

    it('random damage: thousands of mutated and random records all come back as values', () => {
      // A seeded generator keeps failures reproducible (fast-check is not installed; see the report).
      let seed = 0x9e3779b9;
      const random = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const samples = [
        good,
        encode('0.1.15', { level: 'trace' }, ['a', u32(1, 'ip'), 'b']),
        encode('0.1.14', { level: 'error' }, ['z']),
      ];
      let decoded = 0;
      for (let i = 0; i < 5000; i++) {
        const base = samples[i % samples.length];
        const b =
          i % 10 === 0
            ? Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256))
            : base.slice();
        for (let k = 0; k < 1 + Math.floor(random() * 4) && b.length > 0; k++)
          b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
        for (const transport of ['ringbuf', 'perf'] as const) {
          const result = decodeAyaLogRecord(b, { transport });
          assert.equal(typeof result.ok, 'boolean');
          if (result.ok) {
            decoded++;
            assert.equal(typeof result.record.message, 'string');
            assert.ok(result.record.size <= b.length);
          } else {
            assert.ok(result.error.offset >= 0 && result.error.offset <= b.length, `offset ${result.error.offset}`);
            assert.notEqual(result.error.kind, undefined);
            assert.ok(!result.error.message.startsWith('internal'), result.error.message);
          }
        }
      }
      assert.ok(decoded > 0, 'some mutations leave a decodable record (e.g. a changed digit of a string)');
    });
  });

  it('agrees with the numbers the kernel fixtures write (test/kernel/fixtures/aya_log_writer.h)', () => {
    const header = fs.readFileSync(path.join(__dirname, '..', 'kernel', 'fixtures', 'aya_log_writer.h'), 'utf8');
    const defines = new Map([...header.matchAll(/^#define (AYA_\w+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    const checks: [string, number | undefined][] = [
      ['AYA_LEVEL_ERROR', ayaLevelValue('error')],
      ['AYA_LEVEL_TRACE', ayaLevelValue('trace')],
      ['AYA_HINT_DEFAULT', ayaHintValue('default')],
      ['AYA_HINT_IP', ayaHintValue('ip')],
      ['AYA_HINT_UPPER_MAC', ayaHintValue('upperMac')],
      ['AYA_HINT_POINTER', ayaHintValue('pointer')],
      ['AYA_V020_FIELD_TARGET', ayaFieldTag('0.2.0', 'target')],
      ['AYA_V01X_FIELD_TARGET', ayaFieldTag('0.1.15', 'target')],
      ['AYA_ARG_I32', ayaArgumentTag('0.1.14', 'I32')],
      ['AYA_ARG_U32', ayaArgumentTag('0.2.0', 'U32')],
      ['AYA_ARG_U64', ayaArgumentTag('0.1.15', 'U64')],
    ];
    const byVersion: [string, AyaLogVersion][] = [
      ['V020', '0.2.0'],
      ['V0115', '0.1.15'],
      ['V0114', '0.1.14'],
    ];
    const kinds: [string, AyaArgumentKind][] = [
      ['IPV4_ADDR', 'Ipv4Addr'],
      ['IPV6_ADDR', 'Ipv6Addr'],
      ['ARR_U8_LEN6', 'ArrU8Len6'],
      ['ARR_U8_LEN16', 'ArrU8Len16'],
      ['BYTES', 'Bytes'],
      ['STR', 'Str'],
      ['POINTER', 'Pointer'],
    ];
    for (const [prefix, version] of byVersion) {
      for (const [suffix, kind] of kinds) {
        const name = `AYA_${prefix}_ARG_${suffix}`;
        if (defines.has(name)) checks.push([name, ayaArgumentTag(version, kind)]);
      }
    }
    assert.ok(checks.length > 20, `${checks.length} numbers checked`);
    for (const [name, value] of checks) assert.equal(defines.get(name), value, name);
  });

  it('formats a record on one line for logs', () => {
    const record = ok(
      decodeAyaLogRecord(encode('0.2.0', { level: 'warn', file: 'src/main.rs', line: 12, target: 'app' }, ['hi']), {
        transport: 'ringbuf',
      }),
    );
    assert.equal(ayaLogLine(record), '[WARN app] src/main.rs:12 hi');
  });
});
