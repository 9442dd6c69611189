import { strict as assert } from 'assert';
import type { BtfType } from '../../extension/protocol/types';
import { decodeLeaf, decodeLeaves, decodeTree, perCpuSlot, sumPerCpu } from '../../extension/formats/btf-decode';
import { EncodeError, encodeValue } from '../../extension/formats/btf-encode';
import { findHistograms, log2BucketLabel } from '../../extension/formats/btf-histograms';
import { type Leaf, leavesOf } from '../../extension/formats/btf-leaves';
import { bytesType } from '../../extension/formats/btf-types';
import { EventDecoder, guessEventStruct, splitRecords } from '../../extension/formats/event-decode';

const u8: BtfType = { kind: 'int', name: 'unsigned char', size: 1, signed: false, char: true, bool: false, bits: 8 };
const char: BtfType = { kind: 'int', name: 'char', size: 1, signed: true, char: true, bool: false, bits: 8 };
const u32: BtfType = {
  kind: 'typedef',
  name: '__u32',
  size: 4,
  target: { kind: 'int', name: 'unsigned int', size: 4, signed: false, char: false, bool: false, bits: 32 },
};
const s32: BtfType = { kind: 'int', name: 'int', size: 4, signed: true, char: false, bool: false, bits: 32 };
const u64: BtfType = {
  kind: 'typedef',
  name: '__u64',
  size: 8,
  target: { kind: 'int', name: 'unsigned long long', size: 8, signed: false, char: false, bool: false, bits: 64 },
};
const boolT: BtfType = { kind: 'int', name: '_Bool', size: 1, signed: false, char: false, bool: true, bits: 8 };
const state: BtfType = {
  kind: 'enum',
  name: 'state',
  size: 4,
  signed: false,
  values: [
    { name: 'IDLE', value: 0 },
    { name: 'RUNNING', value: 2 },
  ],
};

// struct counter { __u64 count; __u32 last_pid; __u32 kind : 4; __u32 spare : 28; char comm[8]; enum state st;
//                  void *where; int delta; union { __u32 a; __u64 b; } u; _Bool on; }
const counter: BtfType = {
  kind: 'struct',
  name: 'counter',
  size: 56,
  members: [
    { name: 'count', bitOffset: 0, bitSize: 0, type: u64 },
    { name: 'last_pid', bitOffset: 64, bitSize: 0, type: u32 },
    { name: 'kind', bitOffset: 96, bitSize: 4, type: u32 },
    { name: 'spare', bitOffset: 100, bitSize: 28, type: u32 },
    { name: 'comm', bitOffset: 128, bitSize: 0, type: { kind: 'array', size: 8, elem: char, length: 8 } },
    { name: 'st', bitOffset: 192, bitSize: 0, type: state },
    { name: 'delta', bitOffset: 224, bitSize: 0, type: s32 },
    { name: 'where', bitOffset: 256, bitSize: 0, type: { kind: 'ptr', size: 8, target: 'void' } },
    {
      name: 'u',
      bitOffset: 320,
      bitSize: 0,
      type: {
        kind: 'union',
        name: '',
        size: 8,
        members: [
          { name: 'a', bitOffset: 0, bitSize: 0, type: u32 },
          { name: 'b', bitOffset: 0, bitSize: 0, type: u64 },
        ],
      },
    },
    { name: 'on', bitOffset: 384, bitSize: 0, type: boolT },
  ],
};

function sample(): Buffer {
  const b = Buffer.alloc(56);
  b.writeBigUInt64LE(2n ** 60n + 1n, 0);
  b.writeUInt32LE(4242, 8);
  b.writeUInt32LE(3 | (100 << 4), 12);
  b.write('bash', 16);
  b.writeUInt32LE(2, 24);
  b.writeInt32LE(-5, 28);
  b.writeBigUInt64LE(0xffff8880deadbeefn, 32);
  b.writeBigUInt64LE(7n, 40);
  b[48] = 1;
  return b;
}

describe('btf-decode', () => {
  it('shows a scalar wider than its whole buffer (hostile BTF: a 374 MB __u64) up to the buffer, at once', () => {
    const wide: BtfType = {
      kind: 'typedef',
      name: '__u64',
      size: 374527659,
      target: {
        kind: 'int',
        name: 'unsigned long long',
        size: 374527659,
        signed: false,
        char: false,
        bool: false,
        bits: 64,
      },
    };
    const buf = new Uint8Array(16).fill(0xab);
    const started = performance.now();
    const [value] = decodeLeaves(leavesOf(wide), buf, 0);
    assert.equal(value, 'ab'.repeat(16));
    assert.ok(performance.now() - started < 1000, 'decoded without walking the claimed width');
  });

  it('decodes a member placed past 2^31 bits (hostile BTF) as nothing, at once, in every decoder', () => {
    // The fuzz tier found a member at bit 67,452,596,160: `>> 3` on it wrapped to a negative byte offset and
    // the hex of its 158 MB claimed width was walked from there (out of memory).
    const far: Leaf = {
      path: 'far',
      kind: 'bytes',
      bitOffset: 67452596160,
      bits: 1266906688,
      signed: false,
      label: 'u8[]',
    };
    const buf = new Uint8Array(3264);
    const started = performance.now();
    assert.equal(decodeLeaf(far, buf, 0), '');
    assert.ok(performance.now() - started < 1000, 'decoded without walking the claimed width');
  });

  it('flattens a struct into leaves with paths and C labels', () => {
    const leaves = leavesOf(counter);
    assert.deepEqual(
      leaves.map((l) => [l.path, l.kind, l.label]),
      [
        ['count', 'int', '__u64'],
        ['last_pid', 'int', '__u32'],
        ['kind', 'int', '__u32 : 4'],
        ['spare', 'int', '__u32 : 28'],
        ['comm', 'string', 'char[8]'],
        ['st', 'enum', 'enum state'],
        ['delta', 'int', 's32'],
        ['where', 'ptr', 'void *'],
        ['u.a', 'int', '__u32'],
        ['u.b', 'int', '__u64'],
        ['on', 'bool', 'bool'],
      ],
    );
  });

  it('decodes ints beyond 2^53 exactly, bitfields, char arrays, enums, signed ints, pointers as hex, unions and bools', () => {
    assert.deepEqual(decodeLeaves(leavesOf(counter), sample()), [
      (2n ** 60n + 1n).toString(),
      4242,
      3,
      100,
      'bash',
      'RUNNING',
      -5,
      '0xffff8880deadbeef',
      7,
      7,
      true,
    ]);
  });

  it('decodes 64-bit integers exactly on the fast path: large unsigned and negative signed', () => {
    const s64: BtfType = { kind: 'int', name: 'long long', size: 8, signed: true, char: false, bool: false, bits: 64 };
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(-5n);
    assert.deepEqual(decodeLeaves(leavesOf(s64), b), [-5]);
    b.writeBigInt64LE(-(2n ** 62n));
    assert.deepEqual(decodeLeaves(leavesOf(s64), b), [(-(2n ** 62n)).toString()]);
    b.writeBigUInt64LE(2n ** 64n - 1n);
    assert.deepEqual(decodeLeaves(leavesOf(u64), b), ['18446744073709551615']);
  });

  it('decodes a tree for export, with anonymous unions under their member name', () => {
    const tree = decodeTree(counter, sample()) as Record<string, unknown>;
    assert.equal(tree.comm, 'bash');
    assert.deepEqual(tree.u, { a: 7, b: 7 });
    assert.equal(tree.kind, 3);
  });

  it('encodes typed fields on top of the current value and round-trips', () => {
    const base = sample();
    const out = encodeValue(
      counter,
      { kind: '9', comm: 'zsh', st: 'IDLE', delta: '-7', where: '0x10', 'u.a': '0xff' },
      base,
    );
    const decoded = decodeLeaves(leavesOf(counter), out);
    assert.deepEqual(decoded.slice(0, 9), [(2n ** 60n + 1n).toString(), 4242, 9, 100, 'zsh', 'IDLE', -7, '0x10', 255]);
    // The bitfield's neighbour kept its bits.
    assert.equal(out.readUInt32LE(12) >>> 4, 100);
  });

  it('refuses values that do not fit, naming the field, the type and what is allowed', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ last_pid: 'abc' }, /field "last_pid" \(__u32\): "abc" is not an integer \(allowed: 0 … 4294967295\)/],
      [{ kind: '16' }, /field "kind" \(__u32 : 4\): 16 is out of range \(allowed: 0 … 15\)/],
      [{ delta: '2147483648' }, /out of range \(allowed: -2147483648 … 2147483647\)/],
      [{ comm: 'much-too-long' }, /13 bytes long; at most 8 fit/],
      [{ st: 'SLEEPING' }, /not one of IDLE, RUNNING/],
      [{ on: 'maybe' }, /not true or false/],
      [{ nope: '1' }, /has no field "nope"/],
    ];
    for (const [fields, message] of cases) {
      assert.throws(
        () => encodeValue(counter, fields, sample()),
        (e: unknown) => e instanceof EncodeError && message.test(e.message),
      );
    }
  });

  it('falls back to hex for types without BTF', () => {
    const t = bytesType(4);
    assert.deepEqual(decodeLeaves(leavesOf(t), Buffer.from([1, 2, 3, 4])), ['01020304']);
    assert.deepEqual([...encodeValue(t, { '': '0a 0b 0c 0d' })], [10, 11, 12, 13]);
    assert.throws(() => encodeValue(t, { '': '0a0b' }), /exactly 4 bytes as hex/);
  });

  it('sums per-CPU values over the CPUs', () => {
    const leaves = leavesOf(u64);
    const slot = perCpuSlot(8);
    const b = Buffer.alloc(slot * 3);
    [5n, 7n, 2n ** 62n].forEach((v, i) => b.writeBigUInt64LE(v, i * slot));
    assert.deepEqual(sumPerCpu(leaves, b, 0, 3, slot), [(2n ** 62n + 12n).toString()]);
    assert.equal(perCpuSlot(12), 16);
  });

  it('finds bcc-style slots[] histograms and labels log2 buckets like bcc', () => {
    const hist: BtfType = {
      kind: 'struct',
      name: 'hist',
      size: 8 * 4 + 16,
      members: [
        { name: 'slots', bitOffset: 0, bitSize: 0, type: { kind: 'array', size: 32, elem: s32, length: 8 } },
        { name: 'comm', bitOffset: 256, bitSize: 0, type: { kind: 'array', size: 16, elem: u8, length: 16 } },
      ],
    };
    const [h] = findHistograms(hist);
    assert.equal(h.path, 'slots');
    assert.deepEqual(h.leafIndices, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(findHistograms(counter), []);
    assert.deepEqual([0, 1, 2, 10].map(log2BucketLabel), ['0 -> 1', '2 -> 3', '4 -> 7', '1024 -> 2047']);
  });
});

describe('event-decode', () => {
  const event: BtfType = {
    kind: 'struct',
    name: 'event',
    size: 24,
    members: [
      { name: 'pid', bitOffset: 0, bitSize: 0, type: u32 },
      { name: 'tag', bitOffset: 32, bitSize: 0, type: u32 },
      { name: 'comm', bitOffset: 64, bitSize: 0, type: { kind: 'array', size: 16, elem: char, length: 16 } },
    ],
  };

  function pack(records: Buffer[]): Buffer {
    return Buffer.concat(
      records.map((r) => {
        const out = Buffer.alloc((4 + r.length + 7) & ~7);
        out.writeUInt32LE(r.length, 0);
        r.copy(out, 4);
        return out;
      }),
    );
  }

  it('splits [u32 length][bytes] records padded to 8 and decodes them with the struct', () => {
    const one = Buffer.alloc(24);
    one.writeUInt32LE(77, 0);
    one.writeUInt32LE(7, 4);
    one.write('sh', 8);
    const packed = pack([one, Buffer.from([1, 2, 3])]);
    const { offsets, lengths, count } = splitRecords(packed);
    assert.equal(count, 2);
    assert.deepEqual([lengths[0], lengths[1]], [24, 3]);
    const decoder = new EventDecoder(event);
    assert.deepEqual(decoder.columns, ['pid', 'tag', 'comm']);
    assert.deepEqual(decoder.decode(packed, offsets[0], lengths[0]), [77, 7, 'sh']);
    // Too short for the struct: shown as hex rather than misread.
    assert.deepEqual(decoder.decode(packed, offsets[1], lengths[1]), ['010203']);
  });

  it('refuses a batch whose last record is cut short', () => {
    const packed = pack([Buffer.alloc(16)]).subarray(0, 12);
    assert.throws(() => splitRecords(packed), /cut short/);
  });

  it('guesses the struct from the size, allows perf padding, and keeps a remembered choice', () => {
    const other: BtfType = { kind: 'struct', name: 'other', size: 8, members: [] };
    const twin: BtfType = { kind: 'struct', name: 'twin', size: 24, members: [] };
    assert.equal(guessEventStruct({ event, other }, 24), 'event');
    assert.equal(guessEventStruct({ event, other }, 28), 'event');
    assert.equal(guessEventStruct({ event, other, twin }, 24), undefined);
    assert.equal(guessEventStruct({ event, other, twin }, 24, 'twin'), 'twin');
    assert.equal(guessEventStruct({ event, other }, 100), undefined);
    // A program's context type of the same size is not an event.
    assert.equal(guessEventStruct({ event, xdp_md: { ...twin, name: 'xdp_md' } }, 24), 'event');
  });
});
