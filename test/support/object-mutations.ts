// Mutations of BPF object files aimed at what parsers trip on: ELF and section header fields, the .BTF
// header and type records (member type ids, self-referencing structs), string tables, truncation and bit
// flips. Used by test/security/fuzz-objects.test.ts; exported so a saved finding can be replayed.
import fc from 'fast-check';
import { elfSections } from '../../extension/formats/elf-sections';

// ---- ELF64 and BTF layout, enough to aim mutations -----------------------------------------------------

export interface Section {
  index: number;
  name: string;
  /** Where its header is in the file. */
  header: number;
  offset: number;
  size: number;
}

/** The section table (the one ELF reader, extension/formats/elf-sections.ts), with where each header is. */
export function sections(elf: Buffer): Section[] {
  const out = elfSections(elf);
  if (!out) throw new Error('not a little-endian ELF64 file');
  return out.map((s) => ({ index: s.index, name: s.name, header: s.headerAt, offset: s.offset, size: s.size }));
}

/** BTF type records: where each starts in the file, its kind, and where its member type ids are. */
export interface BtfRecord {
  id: number;
  at: number;
  kind: number;
  memberTypeAt: number[];
}

export function btfRecords(elf: Buffer, btf: Section): { records: BtfRecord[]; header: number; strings: number } {
  const base = btf.offset;
  const hdrLen = elf.readUInt32LE(base + 4);
  const typeOff = elf.readUInt32LE(base + 8);
  const typeLen = elf.readUInt32LE(base + 12);
  const strOff = elf.readUInt32LE(base + 16);
  const start = base + hdrLen + typeOff;
  const records: BtfRecord[] = [];
  for (let at = start, id = 1; at < start + typeLen; id++) {
    const info = elf.readUInt32LE(at + 4);
    const kind = (info >> 24) & 0x1f;
    const vlen = info & 0xffff;
    const memberTypeAt: number[] = [];
    let extra = 0;
    switch (kind) {
      case 1: // INT
      case 14: // VAR
      case 17: // DECL_TAG
        extra = 4;
        break;
      case 3: // ARRAY: type, index_type, nelems
        extra = 12;
        memberTypeAt.push(at + 12);
        break;
      case 4: // STRUCT
      case 5: // UNION: name_off, type, offset per member
        extra = vlen * 12;
        for (let m = 0; m < vlen; m++) memberTypeAt.push(at + 12 + m * 12 + 4);
        break;
      case 6: // ENUM
      case 13: // FUNC_PROTO
        extra = vlen * 8;
        break;
      case 15: // DATASEC
      case 19: // ENUM64
        extra = vlen * 12;
        break;
    }
    records.push({ id, at, kind, memberTypeAt });
    at += 12 + extra;
  }
  return { records, header: base, strings: base + hdrLen + strOff };
}

// ---- mutations --------------------------------------------------------------------------------------

const boundary = fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x10000, 24, 64);
const u32 = fc.oneof(boundary, fc.integer({ min: 0, max: 0xffffffff }));

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'elfHeader'; field: number; value: number }
  | { op: 'sectionHeader'; section: number; field: number; value: number }
  | { op: 'btfHeader'; field: number; value: number }
  | { op: 'btfFlip'; at: number; bit: number }
  | { op: 'btfWord'; record: number; word: number; value: number }
  | { op: 'selfReference'; record: number }
  | { op: 'memberType'; record: number; member: number; target: number }
  | { op: 'unterminatedStrings' };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  // e_shoff, e_shnum, e_shstrndx, e_shentsize, e_ident class/data.
  fc.record({
    op: fc.constant('elfHeader' as const),
    field: fc.constantFrom(0x28, 0x3c, 0x3e, 0x3a, 4, 5),
    value: u32,
  }),
  // sh_name, sh_type, sh_offset, sh_size, sh_link, sh_info, sh_entsize.
  fc.record({
    op: fc.constant('sectionHeader' as const),
    section: fc.nat(),
    field: fc.constantFrom(0, 4, 24, 32, 40, 44, 56),
    value: u32,
  }),
  // magic, hdr_len, type_off, type_len, str_off, str_len.
  fc.record({ op: fc.constant('btfHeader' as const), field: fc.constantFrom(0, 4, 8, 12, 16, 20), value: u32 }),
  fc.record({ op: fc.constant('btfFlip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('btfWord' as const), record: fc.nat(), word: fc.nat({ max: 5 }), value: u32 }),
  fc.record({ op: fc.constant('selfReference' as const), record: fc.nat() }),
  fc.record({ op: fc.constant('memberType' as const), record: fc.nat(), member: fc.nat(), target: fc.nat() }),
  fc.constant({ op: 'unterminatedStrings' as const }),
);

function writeField(b: Buffer, at: number, size: 2 | 4 | 8, value: number): void {
  if (at < 0 || at + size > b.length) return;
  if (size === 2) b.writeUInt16LE(value & 0xffff, at);
  else if (size === 4) b.writeUInt32LE(value >>> 0, at);
  else b.writeBigUInt64LE(BigInt(value >>> 0), at);
}

/** Applies mutations in order; offsets come from the original layout, so later ones still aim. */
export function mutate(original: Buffer, mutations: Mutation[]): Buffer {
  const b = Buffer.from(original);
  const secs = sections(original);
  const btf = secs.find((s) => s.name === '.BTF')!;
  const { records, header, strings } = btfRecords(original, btf);
  const structs = records.filter((r) => r.kind === 4 || r.kind === 5);
  let length = b.length;
  for (const m of mutations) {
    switch (m.op) {
      case 'flip':
        b[m.at % b.length] ^= 1 << m.bit;
        break;
      case 'truncate':
        length = Math.min(length, m.at % b.length);
        break;
      case 'elfHeader':
        writeField(b, m.field, m.field === 0x28 ? 8 : m.field >= 0x3a ? 2 : 4, m.value);
        if (m.field < 8) b[m.field] = m.value & 0xff;
        break;
      case 'sectionHeader': {
        const s = secs[m.section % secs.length];
        writeField(b, s.header + m.field, m.field === 24 || m.field === 32 || m.field === 56 ? 8 : 4, m.value);
        break;
      }
      case 'btfHeader':
        writeField(b, header + m.field, m.field === 0 ? 2 : 4, m.value);
        break;
      case 'btfFlip':
        b[btf.offset + (m.at % btf.size)] ^= 1 << m.bit;
        break;
      case 'btfWord': {
        const r = records[m.record % records.length];
        writeField(b, r.at + m.word * 4, 4, m.value);
        break;
      }
      case 'selfReference': {
        // struct A { struct A x, y; }: the cyclic BTF of issue 10.
        if (structs.length === 0) break;
        const r = structs[m.record % structs.length];
        for (const at of r.memberTypeAt) writeField(b, at, 4, r.id);
        break;
      }
      case 'memberType': {
        const withMembers = records.filter((x) => x.memberTypeAt.length > 0);
        if (withMembers.length === 0) break;
        const r = withMembers[m.record % withMembers.length];
        writeField(b, r.memberTypeAt[m.member % r.memberTypeAt.length], 4, 1 + (m.target % records.length));
        break;
      }
      case 'unterminatedStrings': {
        // The last byte of .BTF's string section: no terminating NUL.
        const strLen = original.readUInt32LE(header + 20);
        if (strLen > 0) b[strings + strLen - 1] = 0x41;
        break;
      }
    }
  }
  return b.subarray(0, length);
}

// ---- named mutations: the findings of the fuzzing, replayable on any build of the seed objects ----------

function btfNamed(elf: Buffer, name: string, kinds: number[]): BtfRecord {
  const btf = sections(elf).find((s) => s.name === '.BTF')!;
  const { records, strings } = btfRecords(elf, btf);
  const found = records.find((r) => {
    if (!kinds.includes(r.kind)) return false;
    const at = strings + elf.readUInt32LE(r.at);
    return elf.toString('latin1', at, elf.indexOf(0, at)) === name;
  });
  if (!found) throw new Error(`no BTF type named ${name} of kind ${kinds.join('/')}`);
  return found;
}

/** The BTF VAR `name` (e.g. a map in .maps) refers to type id `typeId`, which need not exist. */
export function setVarType(elf: Buffer, name: string, typeId: number): Buffer {
  const b = Buffer.from(elf);
  b.writeUInt32LE(typeId >>> 0, btfNamed(elf, name, [14]).at + 8);
  return b;
}

/** The first variable of the DATASEC `section` (".rodata", ".bss", ...) claims `size` bytes. */
export function setDatasecVarSize(elf: Buffer, section: string, size: number): Buffer {
  const b = Buffer.from(elf);
  // struct btf_var_secinfo { type, offset, size } follows the 12-byte btf_type.
  b.writeUInt32LE(size >>> 0, btfNamed(elf, section, [15]).at + 12 + 8);
  return b;
}

/** struct `name` { struct `name` a, b, ...; }: every member of the struct is the struct itself. */
export function selfReferenceStruct(elf: Buffer, name: string): Buffer {
  const b = Buffer.from(elf);
  const r = btfNamed(elf, name, [4, 5]);
  for (const at of r.memberTypeAt) b.writeUInt32LE(r.id, at);
  return b;
}
