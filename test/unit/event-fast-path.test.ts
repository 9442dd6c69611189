// The event path's per-struct readers and sized record index (issue 16): EventDecoder reads byte-aligned
// integers with readers chosen once per struct, which must give exactly what decodeLeaf gives for every
// leaf (signed and unsigned, 8 to 64 bits, beyond 2^53, bitfields and other kinds through decodeLeaf);
// splitRecords sized to the count a frame announces indexes the same records, and all of them when a
// batch holds more than announced.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import type { BtfType } from '../../extension/protocol/types';
import { decodeLeaf } from '../../extension/formats/btf-decode';
import { EventDecoder } from '../../extension/formats/event-decode';
import { packRecords, splitRecords } from '../../extension/formats/records';
import { fuzz } from '../support/fuzz';

const int = (signed: boolean, size: number, char = false): BtfType => ({
  kind: 'int',
  name: char ? 'char' : `${signed ? 's' : 'u'}${size * 8}`,
  size,
  signed,
  char,
  bool: false,
  bits: size * 8,
});

/** Every aligned integer width both ways, a char, a bitfield, a bool and a char array. */
const mixed: BtfType = {
  kind: 'struct',
  name: 'mixed',
  size: 48,
  members: [
    { name: 'u8', bitOffset: 0, bitSize: 0, type: int(false, 1) },
    { name: 's8', bitOffset: 8, bitSize: 0, type: int(true, 1) },
    { name: 'u16', bitOffset: 16, bitSize: 0, type: int(false, 2) },
    { name: 's16', bitOffset: 32, bitSize: 0, type: int(true, 2) },
    { name: 'c', bitOffset: 48, bitSize: 0, type: int(true, 1, true) },
    { name: 'bits', bitOffset: 56, bitSize: 5, type: int(false, 1) },
    { name: 'u32', bitOffset: 64, bitSize: 0, type: int(false, 4) },
    { name: 's32', bitOffset: 96, bitSize: 0, type: int(true, 4) },
    { name: 'u64', bitOffset: 128, bitSize: 0, type: int(false, 8) },
    { name: 's64', bitOffset: 192, bitSize: 0, type: int(true, 8) },
    {
      name: 'flag',
      bitOffset: 256,
      bitSize: 0,
      type: { kind: 'int', name: '_Bool', size: 1, signed: false, char: false, bool: true, bits: 8 },
    },
    {
      name: 'comm',
      bitOffset: 264,
      bitSize: 0,
      type: { kind: 'array', elem: int(true, 1, true), length: 8 },
    },
  ],
} as BtfType;

describe('event fast path', () => {
  it('decodes every leaf exactly as decodeLeaf does, at any offset in a batch', () => {
    const decoder = new EventDecoder(mixed);
    assert.ok(decoder.leaves.length >= 12);
    fuzz(fc.tuple(fc.uint8Array({ minLength: 48, maxLength: 48 }), fc.nat(40)), ([bytes, pad]) => {
      const batch = new Uint8Array(pad + 48 + 8);
      batch.set(bytes, pad);
      const row = decoder.decode(batch, pad, 48);
      const expected = decoder.leaves.map((leaf) => decodeLeaf(leaf, batch, pad));
      assert.deepEqual(row, expected);
      decoder.leaves.forEach((_, i) => assert.deepEqual(decoder.decodeLeaf(i, batch, pad, 48), expected[i]));
    });
  });

  it('keeps 64-bit values beyond 2^53 and negative ones exact', () => {
    const decoder = new EventDecoder(mixed);
    const b = Buffer.alloc(48);
    b.writeBigUInt64LE(2n ** 64n - 1n, 16);
    b.writeBigInt64LE(-5n, 24);
    const row = decoder.decode(b, 0, 48);
    const at = (path: string) => row[decoder.leaves.findIndex((l) => l.path === path)];
    assert.equal(at('u64'), '18446744073709551615');
    assert.equal(at('s64'), -5);
    b.writeBigUInt64LE(2n ** 53n - 1n, 16);
    assert.equal(decoder.decode(b, 0, 48)[decoder.leaves.findIndex((l) => l.path === 'u64')], 2 ** 53 - 1);
  });

  it('gives hex for a record shorter than the struct, and no single leaf of it', () => {
    const decoder = new EventDecoder(mixed);
    assert.deepEqual(decoder.decode(Buffer.from([1, 2, 3]), 0, 3), ['010203']);
    assert.equal(decoder.decodeLeaf(0, Buffer.from([1, 2, 3]), 0, 3), undefined);
  });

  it('indexes the same records sized to the announced count, and all of them when there are more', () => {
    fuzz(
      fc.tuple(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }), fc.nat(40)),
      ([payloads, announced]) => {
        const packed = packRecords(payloads);
        const full = splitRecords(packed);
        const sized = splitRecords(packed, announced);
        assert.equal(sized.count, payloads.length);
        assert.deepEqual(sized.offsets.subarray(0, sized.count), full.offsets.subarray(0, full.count));
        assert.deepEqual(sized.lengths.subarray(0, sized.count), full.lengths.subarray(0, full.count));
        // Announced right, the index takes 8 bytes a record and nothing more.
        if (announced === payloads.length) assert.equal(sized.offsets.length, payloads.length);
      },
    );
  });
});
