// Property tests of event batches (issue 10): records packed as [u32 length][bytes] padded to 8, as the
// helper sends them, split and decoded with struct types. Well-formed batches split back into their
// records; mutated or random ones either split into records that lie inside the batch or are refused as
// cut short; decoding never reads outside its record and never throws.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import type { BtfType } from '../../extension/protocol/types';
import { EventDecoder, guessEventStruct, splitRecords } from '../../extension/formats/event-decode';
import { typeSize } from '../../extension/formats/btf-types';
import { fuzz, mutatedBytes } from '../support/fuzz';

/** Packs records the way extension/helper/subscriptions.ts does. */
function pack(records: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const r of records) {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(r.length);
    parts.push(head, Buffer.from(r), Buffer.alloc((8 - ((4 + r.length) % 8)) % 8));
  }
  return new Uint8Array(Buffer.concat(parts));
}

const records = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 24 });

/** A batch inside a bigger buffer, so reading past its end would read the surrounding bytes. */
function embedded(batch: Uint8Array, before: number, fill: number): Uint8Array {
  const backing = new Uint8Array(before + batch.length + 64).fill(fill);
  backing.set(batch, before);
  return backing.subarray(before, before + batch.length);
}

const int = (signed: boolean, size: number, name = `${signed ? 's' : 'u'}${size * 8}`): BtfType => ({
  kind: 'int',
  name,
  size,
  signed,
  char: name === 'char',
  bool: false,
  bits: size * 8,
});
/** Event structs as BPF programs declare them: integers, a comm string, a float, at C offsets. */
const eventStruct: fc.Arbitrary<BtfType> = fc
  .tuple(
    fc.stringMatching(/^[a-z_]{1,10}$/),
    fc.array(fc.constantFrom('u8', 's16', 'u32', 's64', 'comm', 'f64'), { minLength: 1, maxLength: 8 }),
  )
  .map(([name, kinds]) => {
    let at = 0;
    const members = kinds.map((k, i) => {
      const type: BtfType =
        k === 'comm'
          ? { kind: 'array', elem: int(true, 1, 'char'), length: 16, size: 16 }
          : k === 'f64'
            ? { kind: 'float', name: 'double', size: 8 }
            : int(k.startsWith('s'), Number(k.slice(1)) / 8);
      const align = k === 'comm' ? 1 : typeSize(type);
      at = Math.ceil(at / align) * align;
      const member = { name: `${k}_${i}`, bitOffset: at * 8, bitSize: 0, type };
      at += typeSize(type);
      return member;
    });
    const align = Math.max(...members.map((m) => (m.type.kind === 'array' ? 1 : typeSize(m.type))));
    return { kind: 'struct' as const, name, size: Math.ceil(at / align) * align, members };
  });

describe('fuzz: event batches', () => {
  it('a packed batch splits back into exactly its records', () => {
    fuzz(
      fc.tuple(records, fc.nat({ max: 16 })),
      ([recs, before]) => {
        const batch = embedded(pack(recs), before, 0xee);
        const { offsets, lengths, count } = splitRecords(batch);
        assert.equal(count, recs.length);
        recs.forEach((r, i) => assert.deepEqual(batch.subarray(offsets[i], offsets[i] + lengths[i]), r));
      },
      { runs: 2000 },
    );
  });

  it('random and mutated batches split into records inside the batch, or are refused as cut short', () => {
    const seeds = [pack([]), pack([new Uint8Array(24)]), pack([Uint8Array.of(1, 2, 3), new Uint8Array(17).fill(9)])];
    fuzz(
      fc.tuple(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), mutatedBytes(seeds)),
        fc.nat({ max: 16 }),
        fc.integer({ min: 0, max: 255 }),
      ),
      ([bytes, before, fill]) => {
        const batch = embedded(bytes, before, fill);
        let split: ReturnType<typeof splitRecords>;
        try {
          split = splitRecords(batch);
        } catch (error) {
          assert.match((error as Error).message, /^record batch is cut short/, `${error}`);
          return;
        }
        const { offsets, lengths, count } = split;
        assert.ok(count <= offsets.length && count <= lengths.length, `${count} records, room for ${offsets.length}`);
        for (let i = 0; i < count; i++) {
          assert.ok(offsets[i] >= 4 && offsets[i] + lengths[i] <= batch.length, `record ${i} lies inside`);
        }
      },
      { runs: 3000 },
    );
  });

  it('decoding a record reads only its own bytes and never throws', () => {
    fuzz(
      fc.tuple(fc.option(eventStruct, { nil: undefined }), records, fc.nat({ max: 16 })),
      ([type, recs, before]) => {
        const decoder = new EventDecoder(type);
        const packed = pack(recs);
        // The same batch amid different surrounding bytes must decode the same.
        const a = embedded(packed, before, 0x00);
        const b = embedded(packed, before, 0xff);
        const { offsets, lengths, count } = splitRecords(a);
        for (let i = 0; i < count; i++) {
          const row = decoder.decode(a, offsets[i], lengths[i]);
          assert.deepEqual(decoder.decode(b, offsets[i], lengths[i]), row, 'no byte outside the record is read');
          const decoded = type !== undefined && lengths[i] >= decoder.size;
          assert.equal(row.length, decoded ? decoder.columns.length : 1);
          for (const v of row) assert.ok(['number', 'string', 'boolean'].includes(typeof v));
        }
      },
      { runs: 2000 },
    );
  });

  it('the struct guessed for an event size fits that size', () => {
    fuzz(
      fc.tuple(
        fc.uniqueArray(eventStruct, { selector: (t) => (t.kind === 'struct' ? t.name : ''), maxLength: 6 }),
        fc.nat({ max: 200 }),
        fc.option(fc.stringMatching(/^[a-z_]{1,10}$/), { nil: undefined }),
      ),
      ([types, size, preferred]) => {
        const structs = Object.fromEntries(types.map((t) => [(t as { name: string }).name, t]));
        const name = guessEventStruct(structs, size, preferred);
        if (name === undefined) return;
        assert.ok(name in structs);
        const s = typeSize(structs[name]);
        // Exactly the size (ring buffer), or padded to 8 with its 4-byte header (perf buffer).
        assert.ok(s === size || (s < size && s > size - 8), `${name} (${s} bytes) for ${size}`);
      },
      { runs: 2000 },
    );
  });
});
