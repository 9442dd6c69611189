// Property tests of the BTF value codec (issue 10): BtfType trees generated like C types (ints of 1/2/4/8
// bytes, chars, bools, enums, floats, pointers, arrays, structs with members at their offsets and
// bitfields, unions, typedefs) over random bytes. Decoding never throws on a buffer of any length; the
// typed map-entry input (encodeValue, what the map viewer's Add/Edit form sends) throws only EncodeError;
// what the viewer shows for a field, typed back unchanged, writes back the same bytes.
import { strict as assert } from 'assert';
import fc from 'fast-check';
import type { BtfMember, BtfType } from '../../extension/protocol/types';
import {
  decodeLeaf,
  decodeLeaves,
  decodeTree,
  formatScalar,
  leafInteger,
  sumPerCpu,
} from '../../extension/formats/btf-decode';
import { EncodeError, encodeValue } from '../../extension/formats/btf-encode';
import { findHistograms } from '../../extension/formats/btf-histograms';
import { Leaf, leavesOf } from '../../extension/formats/btf-leaves';
import { resolve, typeName, typeSize } from '../../extension/formats/btf-types';
import { EventDecoder } from '../../extension/formats/event-decode';
import { decodeVariable, encodeVariable, VariableInputError } from '../../extension/host/features/load/variables';
import { fuzz } from '../support/fuzz';

// ---- C-like types ----------------------------------------------------------------------------------

const identifier = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/);

function alignOf(t: BtfType): number {
  const r = resolve(t);
  switch (r.kind) {
    case 'array':
      return alignOf(r.elem);
    case 'struct':
    case 'union':
      return Math.max(1, ...r.members.map((m) => alignOf(m.type)));
    case 'void':
      return 1;
    default:
      return Math.min(8, Math.max(1, r.size));
  }
}
const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

const intType: fc.Arbitrary<BtfType> = fc.oneof(
  fc.tuple(fc.constantFrom(1, 2, 4, 8), fc.boolean()).map(([size, signed]) => ({
    kind: 'int' as const,
    name: `${signed ? '' : 'unsigned '}int${size * 8}`,
    size,
    signed,
    char: false,
    bool: false,
    bits: size * 8,
  })),
  fc.boolean().map((signed) => ({
    kind: 'int' as const,
    name: 'char',
    size: 1,
    signed,
    char: true,
    bool: false,
    bits: 8,
  })),
  fc.constant<BtfType>({ kind: 'int', name: '_Bool', size: 1, signed: false, char: false, bool: true, bits: 8 }),
);

/** Enumerators fit the enum's size and sign, with unique names (C requires it). */
const enumType: fc.Arbitrary<BtfType> = fc
  .tuple(fc.constantFrom(1, 2, 4, 8), fc.boolean(), identifier)
  .chain(([size, signed, name]) => {
    const bits = BigInt(size * 8);
    const [min, max] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
    // Enumerator values cross the wire as JSON numbers: exact up to 2^53.
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    const value = fc.bigInt({ min: min < -safe ? -safe : min, max: max > safe ? safe : max }).map(Number);
    return fc
      .uniqueArray(fc.record({ name: identifier.map((n) => `E_${n}`), value }), {
        selector: (e) => e.name,
        maxLength: 6,
      })
      .map((values) => ({ kind: 'enum' as const, name, size, signed, values }));
  });

const scalarType: fc.Arbitrary<BtfType> = fc.oneof(
  { weight: 6, arbitrary: intType },
  { weight: 2, arbitrary: enumType },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(4, 8)
      .map((size) => ({ kind: 'float' as const, name: size === 4 ? 'float' : 'double', size })),
  },
  { weight: 1, arbitrary: identifier.map((target) => ({ kind: 'ptr' as const, size: 8, target })) },
);

interface MemberPlan {
  name: string;
  type: BtfType;
  /** Bitfield width, 0 for a plain member. */
  width: number;
}

/** Lays members out as C does: each at its alignment, bitfields packed into their storage unit. */
function layOut(kind: 'struct' | 'union', name: string, plans: MemberPlan[]): BtfType {
  const members: BtfMember[] = [];
  let bit = 0;
  let end = 0;
  for (const p of plans) {
    const size = typeSize(p.type);
    let at: number;
    if (kind === 'union') at = 0;
    else if (p.width > 0) {
      const unit = size * 8;
      at = Math.floor(bit / unit) === Math.floor((bit + p.width - 1) / unit) ? bit : roundUp(bit, unit);
    } else at = roundUp(bit, alignOf(p.type) * 8);
    members.push({ name: p.name, bitOffset: at, bitSize: p.width, type: p.type });
    bit = kind === 'union' ? 0 : at + (p.width || size * 8);
    end = Math.max(end, at + (p.width || size * 8));
  }
  const align = Math.max(1, ...members.map((m) => alignOf(m.type)));
  return { kind, name, size: roundUp(Math.ceil(end / 8), align), members };
}

/** The field names a member brings into its struct: its own, or an anonymous struct's, folded. */
function visibleNames(m: { name: string; type: BtfType }): string[] {
  const r = resolve(m.type);
  if (m.name || (r.kind !== 'struct' && r.kind !== 'union')) return [m.name];
  return r.members.flatMap(visibleNames);
}

/** C's naming rules: only struct and union members may be anonymous (clang's BTF has no unnamed
 * bitfields), and no field name is visible twice, counting those folded in from anonymous members. */
function cNames(plans: MemberPlan[]): MemberPlan[] {
  const seen = new Set<string>();
  return plans.map((p, i) => {
    const r = resolve(p.type);
    let name = p.name || (r.kind === 'struct' || r.kind === 'union' ? '' : `f${i}`);
    if (!name && visibleNames(p).some((n) => seen.has(n))) name = `m${i}`;
    while (name && seen.has(name)) name = `${name}_${i}`;
    visibleNames({ name, type: p.type }).forEach((n) => seen.add(n));
    return { ...p, name };
  });
}

const { type: cType, record: cRecord } = fc.letrec<{
  type: BtfType;
  array: BtfType;
  record: BtfType;
  typedef: BtfType;
}>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    { weight: 5, arbitrary: scalarType },
    { weight: 1, arbitrary: tie('array') },
    { weight: 2, arbitrary: tie('record') },
    { weight: 1, arbitrary: tie('typedef') },
  ),
  array: fc
    .tuple(tie('type'), fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(16, 300)))
    .map(([elem, length]) => ({ kind: 'array' as const, elem, length, size: typeSize(elem) * length })),
  record: fc
    .tuple(
      fc.constantFrom('struct' as const, 'union' as const),
      fc.option(identifier, { nil: '' }),
      fc.array(
        fc.tuple(fc.option(identifier, { nil: '' }), tie('type'), fc.nat()).map(([name, type, w]): MemberPlan => {
          const r = resolve(type);
          // Only integers (and enums) can be bitfields; about one in three is.
          const width =
            (r.kind === 'int' && !r.bool) || r.kind === 'enum' ? (w % 3 === 0 ? 1 + (w % (r.size * 8)) : 0) : 0;
          return { name, type, width };
        }),
        { maxLength: 6 },
      ),
    )
    .map(([kind, name, plans]) => layOut(kind, name, cNames(plans))),
  typedef: fc
    .tuple(identifier, tie('type'))
    .map(([name, target]) => ({ kind: 'typedef' as const, name: `${name}_t`, size: typeSize(target), target })),
}));

/** A type and bytes of exactly its size. */
const typeAndValue = cType
  .filter((t) => typeSize(t) <= 4096)
  .chain((type) =>
    fc.tuple(fc.constant(type), fc.uint8Array({ minLength: typeSize(type), maxLength: typeSize(type) })),
  );

const isScalar = (v: unknown) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/** Leaves whose bytes an unchanged edit must keep exactly; the others normalize (bool 2 -> 1, a string's
 * bytes after its NUL, a float's NaN payload or -0) and are compared by what the viewer shows. */
const exactKinds = new Set<Leaf['kind']>(['int', 'char', 'enum', 'ptr', 'bytes']);

describe('fuzz: BTF values (decode, typed input)', () => {
  it('generated types flatten into leaves that lie inside the value', () => {
    fuzz(
      cType,
      (type) => {
        const size = typeSize(type);
        const leaves = leavesOf(type);
        assert.ok(leaves.length <= 1025);
        for (const leaf of leaves) {
          assert.ok(leaf.bitOffset >= 0 && leaf.bits >= 0, `${leaf.path}: offset ${leaf.bitOffset}, ${leaf.bits} bits`);
          assert.ok(leaf.bitOffset + leaf.bits <= size * 8, `${leaf.path} ends inside the ${size} bytes`);
        }
        assert.equal(typeof typeName(type), 'string');
        findHistograms(type, 'slots');
      },
      { runs: 2000 },
    );
  });

  it('decoding never throws on a buffer of any length and gives scalars', () => {
    fuzz(
      // decodeTree expands arrays of up to 4096 elements at every level (unlike leavesOf, it has no budget):
      // values are bounded here to what a map entry or an event realistically holds.
      fc.tuple(
        cType.filter((t) => typeSize(t) <= 16384),
        fc.uint8Array({ maxLength: 256 }),
        fc.nat({ max: 300 }),
      ),
      ([type, buf, at]) => {
        const base = Math.min(at, buf.length);
        const leaves = leavesOf(type);
        for (const v of decodeLeaves(leaves, buf, base)) assert.ok(isScalar(v), `${v} is a scalar`);
        for (const v of sumPerCpu(leaves, buf, base, 2, Math.ceil(typeSize(type) / 8) * 8)) assert.ok(isScalar(v));
        JSON.stringify(decodeTree(type, buf, base));
      },
      { runs: 2000 },
    );
  });

  it('each field, typed back as shown, writes back the same value (per-leaf edit round trip)', () => {
    fuzz(
      typeAndValue,
      ([type, bytes]) => {
        const original = Buffer.from(bytes);
        // Each edit flattens the type again: a spread of at most 24 leaves keeps big types affordable.
        const leaves = leavesOf(type);
        const step = Math.max(1, Math.floor(leaves.length / 24));
        for (const leaf of leaves.filter((_, i) => i % step === 0)) {
          const shown = formatScalar(decodeLeaf(leaf, original));
          const written = encodeValue(type, { [leaf.path]: shown }, original);
          assert.equal(formatScalar(decodeLeaf(leaf, written)), shown, `${leaf.path} (${leaf.label}) shows the same`);
          if (exactKinds.has(leaf.kind))
            assert.deepEqual(written, original, `${leaf.path} (${leaf.label}) keeps its bytes`);
        }
      },
      { runs: 1500 },
    );
  });

  it('random text for a field is either refused with EncodeError or written so it reads back the same', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
      fc.bigInt({ min: 0n, max: 1n << 70n }).map((v) => `0x${v.toString(16)}`),
      fc.constantFrom(
        '',
        ' ',
        '-',
        '0x',
        '0b2',
        '1e3',
        '1.5',
        'true',
        'FALSE',
        'NaN',
        '-Infinity',
        "'a'",
        '\\x4',
        '\\\\',
        '00 11 22',
      ),
    );
    fuzz(
      fc.tuple(typeAndValue, fc.nat(), text, fc.boolean()),
      ([[type, bytes], pick, typed, known]) => {
        const leaves = leavesOf(type);
        const path = known && leaves.length > 0 ? leaves[pick % leaves.length].path : `${typed}.x`;
        let written: Buffer;
        try {
          written = encodeValue(type, { [path]: typed }, Buffer.from(bytes));
        } catch (error) {
          assert.ok(error instanceof EncodeError, `only EncodeError, got ${error}`);
          assert.ok(error.message.length > 0);
          return;
        }
        assert.equal(written.length, typeSize(type));
        // Idempotent: what the field now shows, typed again, changes nothing.
        const leaf = leaves.find((l) => l.path === path)!;
        const shown = formatScalar(decodeLeaf(leaf, written));
        assert.deepEqual(encodeValue(type, { [path]: shown }, written), written);
      },
      { runs: 2000 },
    );
  });

  it('valid integers in any notation are written exactly and read back', () => {
    const notation = fc.constantFrom('dec', 'hex', 'oct', 'bin', 'plus', 'underscores', 'spaces');
    fuzz(
      fc.tuple(typeAndValue, fc.nat(), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), notation),
      ([[type, bytes], pick, random, how]) => {
        const leaves = leavesOf(type).filter((l) => l.kind === 'int' || l.kind === 'char');
        if (leaves.length === 0) return;
        const leaf = leaves[pick % leaves.length];
        const span = 1n << BigInt(leaf.bits);
        const min = leaf.signed ? -(span >> 1n) : 0n;
        const value = min + (random % span);
        const magnitude = value < 0n ? -value : value;
        const sign = value < 0n ? '-' : how === 'plus' ? '+' : '';
        const body =
          how === 'hex'
            ? `0x${magnitude.toString(16)}`
            : how === 'oct'
              ? `0o${magnitude.toString(8)}`
              : how === 'bin'
                ? `0b${magnitude.toString(2)}`
                : how === 'underscores'
                  ? magnitude.toString().replace(/(\d)(?=(\d{3})+$)/g, '$1_')
                  : magnitude.toString();
        const typed = how === 'spaces' ? `  ${sign}${body}\t` : `${sign}${body}`;
        const written = encodeValue(type, { [leaf.path]: typed }, Buffer.from(bytes));
        assert.equal(leafInteger(leaf, written), value, `${typed} into ${leaf.path} (${leaf.label})`);
      },
      { runs: 2000 },
    );
  });

  it('valid strings, floats, enum names and bools are written and read back', () => {
    fuzz(
      fc.tuple(typeAndValue, fc.nat(), fc.string({ maxLength: 24 }), fc.double(), fc.boolean()),
      ([[type, bytes], pick, s, x, b]) => {
        const leaves = leavesOf(type).filter((l) => ['string', 'float', 'enum', 'bool'].includes(l.kind));
        if (leaves.length === 0) return;
        const leaf = leaves[pick % leaves.length];
        const base = Buffer.from(bytes);
        switch (leaf.kind) {
          case 'string': {
            const fits = Buffer.byteLength(s) < leaf.bits / 8 && !s.includes('\0') && !s.includes('\\');
            if (!fits) return;
            const written = encodeValue(type, { [leaf.path]: s }, base);
            const shown = decodeLeaf(leaf, written) as string;
            // Printable ASCII reads back as typed; other bytes show as \xNN, which write the same bytes.
            if (/^[\x20-\x7e]*$/.test(s)) assert.equal(shown, s);
            assert.deepEqual(encodeValue(type, { [leaf.path]: shown }, written), written);
            return;
          }
          case 'float': {
            const written = encodeValue(type, { [leaf.path]: String(x) }, base);
            const expected = leaf.bits === 32 ? Math.fround(x) : x;
            assert.equal(formatScalar(decodeLeaf(leaf, written)), String(expected));
            return;
          }
          case 'enum': {
            const named = leaf.enumValues?.[pick % Math.max(1, leaf.enumValues.length)];
            // A bitfield narrower than the enum holds only some enumerators; the others are refused (tested above).
            const span = 1n << BigInt(leaf.bits);
            const [min, max] = leaf.signed ? [-(span >> 1n), (span >> 1n) - 1n] : [0n, span - 1n];
            if (!named || BigInt(named.value) < min || BigInt(named.value) > max) return;
            const written = encodeValue(type, { [leaf.path]: named.name }, base);
            assert.equal(Number(leafInteger(leaf, written)), named.value);
            return;
          }
          case 'bool': {
            const written = encodeValue(type, { [leaf.path]: b ? 'TRUE' : '0' }, base);
            assert.equal(decodeLeaf(leaf, written), b);
            return;
          }
        }
      },
      { runs: 2000 },
    );
  });
});

/** Every node of a tree, depth first, with the struct members that hold them. */
function nodes(t: BtfType, out: BtfType[] = []): BtfType[] {
  out.push(t);
  if (t.kind === 'struct' || t.kind === 'union') t.members.forEach((m) => nodes(m.type, out));
  else if (t.kind === 'array') nodes(t.elem, out);
  else if (t.kind === 'typedef') nodes(t.target, out);
  return out;
}

/** Trees an object's BTF can describe when nothing checked it: sizes that do not add up, members past
 * their struct's end, huge arrays inside small structs (what the fuzzing of objects found). */
const hostileTrees = (ops: string[]) =>
  fc
    .tuple(
      cType.map(withIds),
      fc.array(
        fc.record({
          pick: fc.nat(),
          op: fc.constantFrom(...ops),
          value: fc.oneof(fc.nat({ max: 64 }), fc.integer({ min: 1 << 16, max: 1 << 24 })),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([type, edits]) => {
      const tree = structuredClone(type);
      const all = nodes(tree);
      for (const { pick, op, value } of edits) {
        const n = all[pick % all.length] as { size?: number; members?: BtfMember[]; id?: number; name?: string };
        if (op === 'size' && n.size !== undefined) n.size = value;
        const m = n.members?.[pick % Math.max(1, n.members.length)];
        if (op === 'offset' && m) m.bitOffset = value * 8;
        if (op === 'bigMember' && m) {
          const elem: BtfType = { kind: 'int', name: 'int', size: 4, signed: true, char: false, bool: false, bits: 32 };
          m.type = { kind: 'array', elem, length: value, size: value * 4 };
        }
        // A struct that holds itself (what the addon gives for cyclic BTF), or a ref to an id never given.
        if (op === 'cycle' && m && n.id !== undefined)
          m.type = { kind: 'ref', id: n.id, name: `struct ${n.name}`, size: n.size ?? 0 };
        if (op === 'missingRef' && m) m.type = { kind: 'ref', id: 1e6 + value, name: 'struct gone', size: value };
      }
      return tree;
    });

const hostileType = hostileTrees(['size', 'offset', 'bigMember', 'cycle', 'missingRef']);

describe('fuzz: BTF trees nothing checked', () => {
  it("flatten into leaves inside the value and decode in time bounded by the value's size", () => {
    fuzz(
      fc.tuple(hostileType, fc.nat({ max: 64 })),
      ([type, extra]) => {
        const size = typeSize(type);
        if (size > 1 << 16) return;
        const leaves = leavesOf(type);
        for (const leaf of leaves) assert.ok(leaf.bitOffset + leaf.bits <= size * 8, `${leaf.path} lies inside`);
        const buf = new Uint8Array(size + extra);
        for (const v of decodeLeaves(leaves, buf, 0)) assert.ok(isScalar(v));
        for (const v of new EventDecoder(type).decode(buf, 0, buf.length)) assert.ok(isScalar(v));
      },
      { runs: 1500, slowCaseMs: 1000 },
    );
  });
});

// ---- trees with refs (issue 10) -----------------------------------------------------------------------

/** A copy of a node with `visit` applied to its children (members, element, typedef target). */
function mapChildren(t: BtfType, visit: (child: BtfType) => BtfType): BtfType {
  switch (t.kind) {
    case 'struct':
    case 'union':
      return { ...t, members: t.members.map((m) => ({ ...m, type: visit(m.type) })) };
    case 'array':
      return { ...t, elem: visit(t.elem) };
    case 'typedef':
      return { ...t, target: visit(t.target) };
    default:
      return t;
  }
}

/** Gives every struct and union an id, the same one to structs that are the same, as BTF does. */
function withIds(tree: BtfType): BtfType {
  const ids = new Map<string, number>();
  const visit = (t: BtfType): BtfType => {
    const copy = mapChildren(t, visit);
    if (copy.kind !== 'struct' && copy.kind !== 'union') return copy;
    const key = JSON.stringify({ ...copy, id: 0 });
    if (!ids.has(key)) ids.set(key, ids.size + 1);
    return { ...copy, id: ids.get(key) };
  };
  return visit(tree);
}

/** Bounds a tree as the addon does past its node budget: a struct met again after it was given in full
 * (depth first, members in order) becomes a ref to it, where `choices` says so. */
function withRefs(tree: BtfType, choices: boolean[]): BtfType {
  const given = new Set<number>();
  let k = 0;
  const visit = (t: BtfType): BtfType => {
    if ((t.kind === 'struct' || t.kind === 'union') && t.id !== undefined) {
      if (given.has(t.id) && choices[k++ % choices.length])
        return { kind: 'ref', id: t.id, name: `${t.kind} ${t.name || '(anon)'}`, size: t.size };
      given.add(t.id);
    }
    return mapChildren(t, visit);
  };
  return visit(tree);
}

/** A struct or union that holds one struct several times (as members and in an array), in full and with
 * refs, and bytes of its size. */
const sharedTrees = fc
  .tuple(
    cRecord,
    fc.array(fc.option(cType, { nil: undefined }), { minLength: 1, maxLength: 4 }),
    fc.constantFrom('struct' as const, 'union' as const),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
  )
  .map(([shared, slots, kind, choices]) => {
    const plans: MemberPlan[] = slots.map((t, i) => ({ name: `m${i}`, type: t ?? shared, width: 0 }));
    plans.push({ name: 'again', type: shared, width: 0 });
    plans.push({
      name: 'pair',
      type: { kind: 'array', elem: shared, length: 2, size: 2 * typeSize(shared) },
      width: 0,
    });
    const full = withIds(layOut(kind, 'outer', plans));
    return { full, refs: withRefs(full, choices) };
  })
  .filter(({ full }) => typeSize(full) <= 4096)
  .chain((trees) =>
    fc.tuple(fc.constant(trees), fc.uint8Array({ minLength: typeSize(trees.full), maxLength: typeSize(trees.full) })),
  );

describe('fuzz: BTF trees with refs', () => {
  it('refs that cycle or name no node decode and take typed input without a hang or another error', () => {
    fuzz(
      fc.tuple(
        hostileTrees(['cycle', 'missingRef', 'offset']),
        fc.nat({ max: 64 }),
        fc.nat(),
        fc.string({ maxLength: 16 }),
      ),
      ([type, extra, pick, typed]) => {
        const size = typeSize(type);
        if (size > 1 << 16) return;
        const buf = new Uint8Array(size + extra);
        const leaves = leavesOf(type);
        for (const leaf of leaves) assert.ok(leaf.bitOffset + leaf.bits <= size * 8, `${leaf.path} lies inside`);
        for (const v of decodeLeaves(leaves, buf, 0)) assert.ok(isScalar(v));
        JSON.stringify(decodeTree(type, buf, 0));
        if (leaves.length === 0) return;
        try {
          encodeValue(type, { [leaves[pick % leaves.length].path]: typed }, buf.subarray(0, size));
        } catch (error) {
          assert.ok(error instanceof EncodeError, `only EncodeError, got ${error}`);
        }
      },
      { runs: 1500, slowCaseMs: 1000 },
    );
  });

  it('a tree with refs flattens, decodes and takes typed input exactly as the same tree in full', () => {
    fuzz(
      sharedTrees,
      ([{ full, refs }, bytes]) => {
        const leaves = leavesOf(refs);
        assert.deepEqual(leaves, leavesOf(full));
        assert.deepEqual(decodeTree(refs, bytes), decodeTree(full, bytes));
        assert.deepEqual(new EventDecoder(refs).decode(bytes, 0, bytes.length), decodeLeaves(leaves, bytes));
        const step = Math.max(1, Math.floor(leaves.length / 8));
        for (const leaf of leaves.filter((_, i) => i % step === 0)) {
          const shown = formatScalar(decodeLeaf(leaf, bytes));
          const original = Buffer.from(bytes);
          assert.deepEqual(
            encodeValue(refs, { [leaf.path]: shown }, original),
            encodeValue(full, { [leaf.path]: shown }, original),
          );
        }
      },
      { runs: 1000 },
    );
  });

  it('random text behind a ref is refused with EncodeError or written as in the tree in full', () => {
    fuzz(
      fc.tuple(sharedTrees, fc.nat(), fc.string({ maxLength: 24 })),
      ([[{ full, refs }, bytes], pick, typed]) => {
        const leaves = leavesOf(refs);
        if (leaves.length === 0) return;
        const path = leaves[pick % leaves.length].path;
        const attempt = (t: BtfType) => {
          try {
            return encodeValue(t, { [path]: typed }, Buffer.from(bytes));
          } catch (error) {
            assert.ok(error instanceof EncodeError, `only EncodeError, got ${error}`);
            return error.message;
          }
        };
        assert.deepEqual(attempt(refs), attempt(full));
      },
      { runs: 1000 },
    );
  });
});

describe('fuzz: load-time variables (typed input of const volatile globals)', () => {
  const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

  it("random text is either refused with VariableInputError or encoded to exactly the type's size", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
      fc.array(fc.integer({ min: -300, max: 300 }).map(String), { maxLength: 12 }).map((xs) => `[${xs.join(', ')}]`),
      fc.constantFrom('', "'", "'a'", "'é'", 'true', 'nan', '-Infinity', '0x', '00 ff', '[]'),
    );
    fuzz(
      fc.tuple(
        cType.filter((t) => typeSize(t) <= 4096),
        text,
      ),
      ([type, typed]) => {
        let hex: string;
        try {
          hex = encodeVariable(type, typed);
        } catch (error) {
          assert.ok(error instanceof VariableInputError, `only VariableInputError, got ${error}`);
          return;
        }
        assert.equal(hex.length, typeSize(type) * 2);
        assert.match(hex, /^([0-9a-f]{2})*$/);
      },
      { runs: 2000 },
    );
  });

  it('the current bytes, shown and typed back unchanged, show the same', () => {
    fuzz(
      typeAndValue,
      ([type, bytes]) => {
        const shown = decodeVariable(type, bytes);
        let hex: string;
        try {
          hex = encodeVariable(type, shown);
        } catch (error) {
          // FIXME: a char array that is not UTF-8 shows U+FFFD for each bad byte (3 bytes in UTF-8), so the
          // text shown for it may no longer fit and is refused; decodeVariable could escape such bytes as
          // btf-decode's cString does (\xNN) and encodeBytes read the escapes back.
          assert.ok(error instanceof VariableInputError && shown.includes('\uFFFD'), `${error}`);
          return;
        }
        assert.equal(decodeVariable(type, fromHex(hex)), shown);
      },
      { runs: 2000 },
    );
  });
});
