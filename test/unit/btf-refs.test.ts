// BTF trees with `ref` nodes (protocol/types.ts): the addon gives a struct in full once and names it by id
// after that (past its node budget, or where hostile BTF nests a struct in itself). Decoding and typed
// input follow refs through the tree's by-id index, and stay bounded on cycles and on refs to nothing.
import { strict as assert } from 'assert';
import type { BtfType } from '../../extension/protocol/types';
import { decodeLeaves, decodeTree } from '../../extension/formats/btf-decode';
import { EncodeError, encodeValue } from '../../extension/formats/btf-encode';
import { leavesOf } from '../../extension/formats/btf-leaves';
import { indexTree, missingRef, resolve, typeName } from '../../extension/formats/btf-types';
import { EventDecoder } from '../../extension/formats/event-decode';

const u32: BtfType = { kind: 'int', name: 'unsigned int', size: 4, signed: false, char: false, bool: false, bits: 32 };
const s64: BtfType = { kind: 'int', name: 'long long', size: 8, signed: true, char: false, bool: false, bits: 64 };

// struct point { __u32 x; __u32 y; }
const point = (id: number): BtfType => ({
  kind: 'struct',
  name: 'point',
  size: 8,
  id,
  members: [
    { name: 'x', bitOffset: 0, bitSize: 0, type: u32 },
    { name: 'y', bitOffset: 32, bitSize: 0, type: u32 },
  ],
});
const pointRef: BtfType = { kind: 'ref', id: 7, name: 'struct point', size: 8 };

/** struct segment { struct point from; s64 len; struct point to; }, `to` given as `toType`. */
const segment = (toType: BtfType): BtfType => ({
  kind: 'struct',
  name: 'segment',
  size: 24,
  id: 9,
  members: [
    { name: 'from', bitOffset: 0, bitSize: 0, type: point(7) },
    { name: 'len', bitOffset: 64, bitSize: 0, type: s64 },
    { name: 'to', bitOffset: 128, bitSize: 0, type: toType },
  ],
});

function segmentBytes(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(1, 0);
  b.writeUInt32LE(2, 4);
  b.writeBigInt64LE(-3n, 8);
  b.writeUInt32LE(4, 16);
  b.writeUInt32LE(5, 20);
  return b;
}

describe('btf refs', () => {
  it('a struct given twice, the second time as a ref, decodes both like the tree in full', () => {
    const withRef = segment(pointRef);
    const full = segment(point(7));
    const leaves = leavesOf(withRef);
    assert.deepEqual(leaves, leavesOf(full));
    assert.deepEqual(
      leaves.map((l) => `${l.path}:${l.label}`),
      ['from.x:u32', 'from.y:u32', 'len:s64', 'to.x:u32', 'to.y:u32'],
    );
    assert.deepEqual(decodeLeaves(leaves, segmentBytes()), [1, 2, -3, 4, 5]);
    assert.deepEqual(decodeTree(withRef, segmentBytes()), { from: { x: 1, y: 2 }, len: -3, to: { x: 4, y: 5 } });
    assert.deepEqual(new EventDecoder(withRef).decode(segmentBytes(), 0, 24), [1, 2, -3, 4, 5]);
  });

  it('typed input reaches the fields behind a ref', () => {
    const written = encodeValue(segment(pointRef), { 'to.y': '99', 'from.x': '0x10' }, segmentBytes());
    assert.deepEqual(decodeTree(segment(pointRef), written), { from: { x: 16, y: 2 }, len: -3, to: { x: 4, y: 99 } });
    assert.throws(
      () => encodeValue(segment(pointRef), { 'to.x': '-1' }),
      (e: unknown) => e instanceof EncodeError && e.path === 'to.x' && /out of range/.test(e.message),
    );
  });

  it('refs are followed through typedefs, arrays and anonymous members', () => {
    const pointT: BtfType = { kind: 'typedef', name: 'point_t', size: 8, target: point(7) };
    const value: BtfType = {
      kind: 'struct',
      name: 'path',
      size: 32,
      id: 1,
      members: [
        { name: 'start', bitOffset: 0, bitSize: 0, type: pointT },
        { name: 'via', bitOffset: 64, bitSize: 0, type: { kind: 'array', size: 16, length: 2, elem: pointRef } },
        // An anonymous struct member given as a ref folds into its parent, as the struct in full would.
        { name: '', bitOffset: 192, bitSize: 0, type: pointRef },
      ],
    };
    assert.deepEqual(
      leavesOf(value).map((l) => l.path),
      ['start.x', 'start.y', 'via[0].x', 'via[0].y', 'via[1].x', 'via[1].y', 'x', 'y'],
    );
    const bytes = Buffer.from(Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
    assert.deepEqual(decodeTree(value, bytes), {
      start: { x: 1, y: 2 },
      via: [
        { x: 3, y: 4 },
        { x: 5, y: 6 },
      ],
      x: 7,
      y: 8,
    });
  });

  it('indexes the first node of each id and resolves a ref to it; typeName reads as the struct', () => {
    const index = indexTree(segment(pointRef));
    assert.deepEqual([...index.keys()].sort(), [7, 9]);
    assert.equal(resolve(pointRef, index), index.get(7));
    assert.equal(resolve(pointRef), pointRef, 'without an index a ref stays a ref');
    assert.equal(typeName(pointRef), 'struct point');
  });

  it('a self-referential struct through a pointer is a pointer leaf', () => {
    // struct node { s64 value; struct node *next; }: the addon cuts pointers to their target's name.
    const node: BtfType = {
      kind: 'struct',
      name: 'node',
      size: 16,
      id: 3,
      members: [
        { name: 'value', bitOffset: 0, bitSize: 0, type: s64 },
        { name: 'next', bitOffset: 64, bitSize: 0, type: { kind: 'ptr', size: 8, target: 'struct node' } },
      ],
    };
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64LE(42n, 0);
    bytes.writeBigUInt64LE(0xffff888000001000n, 8);
    assert.deepEqual(
      leavesOf(node).map((l) => [l.path, l.kind, l.label]),
      [
        ['value', 'int', 's64'],
        ['next', 'ptr', 'struct node *'],
      ],
    );
    assert.deepEqual(decodeTree(node, bytes), { value: 42, next: '0xffff888000001000' });
  });

  it('a struct that contains itself (cyclic BTF, as the addon gives it) is its bytes, not a hang', () => {
    // What the addon makes of `struct A { struct A x, y; }` (test/security/hostile-objects.test.ts).
    const a: BtfType = {
      kind: 'struct',
      name: 'A',
      size: 16,
      id: 5,
      members: ['x', 'y'].map((name, i) => ({
        name,
        bitOffset: i * 64,
        bitSize: 0,
        type: { kind: 'ref' as const, id: 5, name: 'struct A', size: 16 },
      })),
    };
    const leaves = leavesOf(a);
    assert.deepEqual(
      leaves.map((l) => [l.path, l.kind, l.bitOffset, l.bits, l.label]),
      [
        ['x', 'bytes', 0, 128, 'struct A (contains itself)'],
        ['y', 'bytes', 64, 64, 'struct A (contains itself) (cut at 16 bytes)'],
      ],
    );
    const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    assert.deepEqual(decodeLeaves(leaves, bytes), ['00112233445566778899aabbccddeeff', '8899aabbccddeeff']);
    assert.deepEqual(decodeTree(a, bytes), {
      x: '00112233445566778899aabbccddeeff',
      y: '8899aabbccddeeff', // cut at the value's end, as its leaf is,
    });
  });

  it('a ref to an id the tree does not describe is named as such and read as bytes', () => {
    const broken = segment({ kind: 'ref', id: 404, name: 'struct point', size: 8 });
    const leaves = leavesOf(broken);
    const to = leaves.find((l) => l.path === 'to')!;
    assert.equal(to.kind, 'bytes');
    assert.equal(to.label, 'struct point: refers to BTF type 404, which this tree does not describe');
    assert.equal(missingRef(broken.kind === 'struct' ? broken.members[2].type : broken, indexTree(broken)), to.label);
    assert.deepEqual(decodeTree(broken, segmentBytes()), {
      from: { x: 1, y: 2 },
      len: -3,
      to: '0400000005000000',
    });
    // It can still be written as hex; anything else is a typed refusal.
    const written = encodeValue(broken, { to: '0a0000000b000000' }, segmentBytes());
    assert.equal(written.readUInt32LE(20), 11);
    assert.throws(() => encodeValue(broken, { 'to.x': '1' }), EncodeError);
  });

  it('refs standing for an exponential tree are bounded: s1 { s0 a, b, c, d; } ... s24 with empty s0', () => {
    let t: BtfType = { kind: 'struct', name: 's0', size: 0, id: 100, members: [] };
    for (let i = 1; i <= 24; i++) {
      const prev: BtfType = t;
      const ref: BtfType = { kind: 'ref', id: 100 + i - 1, name: `struct s${i - 1}`, size: 0 };
      t = {
        kind: 'struct',
        name: `s${i}`,
        size: 0,
        id: 100 + i,
        members: ['a', 'b', 'c', 'd'].map((name, k) => ({
          name,
          bitOffset: 0,
          bitSize: 0,
          type: k === 0 ? prev : ref,
        })),
      };
    }
    const started = Date.now();
    assert.deepEqual(leavesOf(t), [
      { path: '', kind: 'bytes', bitOffset: 0, bits: 0, signed: false, label: 'struct s24' },
    ]);
    assert.equal(typeof decodeTree(t, new Uint8Array(0)), 'object');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  });
});
