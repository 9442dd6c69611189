// Per-program verification keys: for each program of a BPF object, a digest of everything that can change
// what the verifier says about it, so a save that changes one program verifies only that one again
// (toolchain/verify-cache.ts). Pure: the object's bytes in, keys out.
//
// A key covers, with every string table offset resolved to its string (the .BTF string table also holds the
// text of every source line, so raw offsets move on any edit):
// - the object as a whole, as every program's load sees it: the ELF header's kind, the license and version,
//   the BTF types, the map definitions (.maps and its relocations), .struct_ops, the name, kind and size of
//   every data section (each becomes a map), the symbols outside code (variables, maps, externs), and any
//   other section libbpf may read;
// - the program's own instructions and relocations (symbol, its section, its kind), and the same for each
//   subprogram it reaches through calls or callback addresses, transitively (.text);
// - the contents of the data sections those instructions name (.rodata*, .data*, .bss size);
// - the .BTF.ext func_info and CO-RE relocation records of those functions.
// The `lines` key adds their line_info (file name, line, column, source text): a rejection's log and the
// line its diagnostic lands on depend on it, an accepted program's statistics do not.
// When something is not understood, there are no keys and the caller verifies everything: a false "changed"
// costs a load, a false "unchanged" would publish a wrong diagnostic.
import { createHash } from 'crypto';
import {
  elfRelocations,
  elfSections,
  elfSymbols,
  sectionBytes,
  SHF,
  SHN_UNDEF,
  SHT,
  STT,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
} from './elf-sections';
import { ignoredByLoader } from './object-digest';

export interface ProgramKey {
  /** What an accepted (or refused-by-type) verdict depends on. */
  verdict: string;
  /** verdict + the line info of the program and its subprograms: what a rejection's log depends on. */
  lines: string;
}

interface Func {
  id: string;
  section: ElfSection;
  symbol: ElfSymbol;
  start: number;
  end: number;
}

/** BTF_KIND_* -> bytes after the 12-byte common header (per member, for kinds with vlen), and where names are. */
const BTF_KINDS: Record<number, { fixed: number; member: number; memberName: boolean }> = {
  1: { fixed: 4, member: 0, memberName: false }, // INT
  2: { fixed: 0, member: 0, memberName: false }, // PTR
  3: { fixed: 12, member: 0, memberName: false }, // ARRAY
  4: { fixed: 0, member: 12, memberName: true }, // STRUCT
  5: { fixed: 0, member: 12, memberName: true }, // UNION
  6: { fixed: 0, member: 8, memberName: true }, // ENUM
  7: { fixed: 0, member: 0, memberName: false }, // FWD
  8: { fixed: 0, member: 0, memberName: false }, // TYPEDEF
  9: { fixed: 0, member: 0, memberName: false }, // VOLATILE
  10: { fixed: 0, member: 0, memberName: false }, // CONST
  11: { fixed: 0, member: 0, memberName: false }, // RESTRICT
  12: { fixed: 0, member: 0, memberName: false }, // FUNC
  13: { fixed: 0, member: 8, memberName: true }, // FUNC_PROTO
  14: { fixed: 4, member: 0, memberName: false }, // VAR
  15: { fixed: 0, member: 12, memberName: false }, // DATASEC
  16: { fixed: 0, member: 0, memberName: false }, // FLOAT
  17: { fixed: 4, member: 0, memberName: false }, // DECL_TAG
  18: { fixed: 0, member: 0, memberName: false }, // TYPE_TAG
  19: { fixed: 0, member: 12, memberName: true }, // ENUM64
};

class Unsupported extends Error {}

/** A stable text for a BTF string table offset: the string it names. */
type Strings = (offset: number) => string;

/**
 * The BTF type records with each name offset replaced by its string: what the kernel checks and what type
 * ids mean, without the positions of strings (which move whenever a source line's text does).
 */
function btfTypes(btf: Buffer): { types: string; strings: Strings } {
  if (btf.length < 24 || btf.readUInt16LE(0) !== 0xeb9f) throw new Unsupported('BTF header');
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = btf.readUInt32LE(8);
  const typeLen = btf.readUInt32LE(12);
  const strOff = btf.readUInt32LE(16);
  const strLen = btf.readUInt32LE(20);
  const typesAt = hdrLen + typeOff;
  const stringsAt = hdrLen + strOff;
  if (typesAt + typeLen > btf.length || stringsAt + strLen > btf.length) throw new Unsupported('BTF bounds');
  const table = btf.subarray(stringsAt, stringsAt + strLen);
  const strings: Strings = (offset) => {
    if (offset >= table.length) throw new Unsupported('BTF string offset');
    const end = table.indexOf(0, offset);
    return table.toString('latin1', offset, end < 0 ? table.length : end);
  };
  const out: string[] = [];
  const end = typesAt + typeLen;
  for (let at = typesAt; at < end;) {
    if (at + 12 > end) throw new Unsupported('BTF type');
    const info = btf.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const layout = BTF_KINDS[kind];
    if (!layout) throw new Unsupported(`BTF kind ${kind}`);
    const size = 12 + layout.fixed + vlen * layout.member;
    if (at + size > end) throw new Unsupported('BTF type');
    const words: string[] = [strings(btf.readUInt32LE(at)), String(info), String(btf.readUInt32LE(at + 8))];
    for (let o = 12; o < 12 + layout.fixed; o += 4) words.push(String(btf.readUInt32LE(at + o)));
    for (let m = 0; m < vlen; m++) {
      const base = at + 12 + layout.fixed + m * layout.member;
      for (let o = 0; o < layout.member; o += 4) {
        const word = btf.readUInt32LE(base + o);
        words.push(o === 0 && layout.memberName ? strings(word) : String(word));
      }
    }
    out.push(words.join(','));
    at += size;
  }
  return { types: out.join('\n'), strings };
}

interface ExtRecord {
  section: string;
  insnOff: number;
  text: string;
}

/** The .BTF.ext records (func_info, line_info, core_relo) by kind, offsets in bytes of their section. */
function btfExt(ext: Buffer | undefined, strings: Strings): Record<'func' | 'line' | 'core', ExtRecord[]> {
  const out: Record<'func' | 'line' | 'core', ExtRecord[]> = { func: [], line: [], core: [] };
  if (!ext) return out;
  if (ext.length < 24 || ext.readUInt16LE(0) !== 0xeb9f) throw new Unsupported('BTF.ext header');
  const hdrLen = ext.readUInt32LE(4);
  const parts: { kind: 'func' | 'line' | 'core'; off: number; len: number; recSize: number }[] = [
    { kind: 'func', off: ext.readUInt32LE(8), len: ext.readUInt32LE(12), recSize: 8 },
    { kind: 'line', off: ext.readUInt32LE(16), len: ext.readUInt32LE(20), recSize: 16 },
  ];
  if (hdrLen >= 32) parts.push({ kind: 'core', off: ext.readUInt32LE(24), len: ext.readUInt32LE(28), recSize: 16 });
  for (const part of parts) {
    if (part.len === 0) continue;
    const start = hdrLen + part.off;
    const end = start + part.len;
    if (end > ext.length || part.len < 4) throw new Unsupported('BTF.ext bounds');
    const recSize = ext.readUInt32LE(start);
    if (recSize < part.recSize) throw new Unsupported('BTF.ext record size');
    for (let at = start + 4; at < end;) {
      if (at + 8 > end) throw new Unsupported('BTF.ext block');
      const section = strings(ext.readUInt32LE(at));
      const count = ext.readUInt32LE(at + 4);
      at += 8;
      if (at + count * recSize > end) throw new Unsupported('BTF.ext block');
      for (let i = 0; i < count; i++, at += recSize) {
        const insnOff = ext.readUInt32LE(at);
        const w = (o: number) => ext.readUInt32LE(at + o);
        let text: string;
        if (part.kind === 'func') text = `func ${w(4)}`;
        else if (part.kind === 'line')
          // file, line text, line number and column (line_col = line << 10 | column).
          text = `line ${strings(w(4))}\0${strings(w(8))}\0${w(12) >>> 10}:${w(12) & 0x3ff}`;
        else text = `core ${w(4)} ${strings(w(8))} ${w(12)}`;
        // Bytes past the known fields of a record (a newer format) are kept as they are.
        if (recSize > part.recSize) text += ` ${ext.subarray(at + part.recSize, at + recSize).toString('hex')}`;
        out[part.kind].push({ section, insnOff, text });
      }
    }
  }
  return out;
}

const isExec = (s: ElfSection) => (s.flags & SHF.EXECINSTR) !== 0n && s.type === SHT.PROGBITS;
const isRelocation = (s: ElfSection) => s.type === SHT.REL || s.type === SHT.RELA;
/** Sections whose contents only the programs that name them see (each becomes a map of its own). */
const isData = (s: ElfSection) =>
  (s.flags & SHF.ALLOC) !== 0n &&
  (s.flags & SHF.EXECINSTR) === 0n &&
  (s.type === SHT.PROGBITS || s.type === SHT.NOBITS) &&
  s.name !== '.maps' &&
  !s.name.startsWith('.struct_ops') &&
  s.name !== 'maps' &&
  s.name !== 'license' &&
  s.name !== 'version';

/** BPF instructions whose imm names code: a call (BPF_JMP|BPF_CALL) and a 64-bit immediate load. */
const CALL = 0x85;
const LD_IMM64 = 0x18;
const PSEUDO_CALL = 1;
const PSEUDO_FUNC = 4;

/**
 * The keys of every program of `elf` (a function symbol in an executable section other than .text), by
 * program name; undefined when the object is not one this code understands (then verify everything).
 */
export function programKeys(elf: Buffer): Map<string, ProgramKey> | undefined {
  try {
    return computeKeys(elf);
  } catch (error) {
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  }
}

function computeKeys(elf: Buffer): Map<string, ProgramKey> {
  const sections = elfSections(elf);
  if (!sections) throw new Unsupported('ELF');
  const symbols = elfSymbols(elf, sections);
  if (!symbols) throw new Unsupported('symbols');
  const bytesOf = (s: ElfSection) => {
    const b = sectionBytes(elf, s);
    if (!b) throw new Unsupported(`section ${s.name}`);
    return b;
  };
  const sectionName = (shndx: number) =>
    shndx === SHN_UNDEF ? '(extern)' : shndx >= 0xff00 ? `(special ${shndx})` : (sections[shndx]?.name ?? '?');

  const btfSection = sections.find((s) => s.name === '.BTF');
  const btf = btfSection ? btfTypes(bytesOf(btfSection)) : undefined;
  const extSection = sections.find((s) => s.name === '.BTF.ext');
  if (extSection && !btf) throw new Unsupported('.BTF.ext without .BTF');
  const ext = btfExt(extSection && bytesOf(extSection), btf?.strings ?? (() => ''));

  // Functions: by section, in address order; one without a size runs to the next one (or the section end).
  const funcs: Func[] = [];
  const bySection = new Map<number, Func[]>();
  for (const section of sections.filter(isExec)) {
    const own = symbols
      .filter((y) => y.shndx === section.index && y.type === STT.FUNC)
      .sort((a, b) => a.value - b.value);
    const list = own.map((symbol, i) => ({
      id: `${section.name}\0${symbol.name}`,
      section,
      symbol,
      start: symbol.value,
      end: symbol.size > 0 ? symbol.value + symbol.size : (own[i + 1]?.value ?? section.size),
    }));
    for (const f of list) if (f.end > section.size || f.start > f.end) throw new Unsupported('function bounds');
    bySection.set(section.index, list);
    funcs.push(...list);
  }
  const relocationsOf = new Map<number, ElfRelocation[]>();
  for (const r of sections.filter(isRelocation)) {
    const target = sections[r.info];
    if (!target || !isExec(target)) continue;
    const entries = elfRelocations(elf, r);
    if (!entries) throw new Unsupported(`relocations ${r.name}`);
    relocationsOf.set(target.index, [...(relocationsOf.get(target.index) ?? []), ...entries]);
  }

  // What every program's load sees.
  const global = createHash('sha256');
  global.update(elf.subarray(0, 0x18)); // e_ident, e_type, e_machine, e_version
  global.update(elf.subarray(0x30, 0x34)); // e_flags
  global.update(`btf\0${btf?.types ?? '(none)'}\0`);
  for (const s of sections) {
    if (ignoredByLoader(s.name) || isExec(s) || s.type === SHT.SYMTAB || s.type === SHT.STRTAB) continue;
    if (s.name === '.BTF' || s.name === '.BTF.ext') continue;
    const target = isRelocation(s) ? sections[s.info] : undefined;
    // Code relocations belong to their functions; .BTF's and .BTF.ext's are not read by libbpf. (Their sizes
    // change with any edit, so not even those are hashed here.)
    if (target && (isExec(target) || target.name === '.BTF' || target.name === '.BTF.ext')) continue;
    global.update(`section\0${s.name}\0${s.type}\0${s.flags}\0${s.size}\0${s.entsize}\0`);
    if (target) {
      const entries = elfRelocations(elf, s);
      if (!entries) throw new Unsupported(`relocations ${s.name}`);
      for (const e of entries)
        global.update(`rel\0${target.name}\0${e.offset}\0${e.type}\0${e.addend}\0${symbolText(e.symbol)}\0`);
    } else if (!isData(s)) {
      global.update(bytesOf(s));
    }
  }
  for (const y of symbols) {
    const inCode = y.shndx !== SHN_UNDEF && y.shndx < 0xff00 && sections[y.shndx] && isExec(sections[y.shndx]);
    if (inCode || y.type === STT.SECTION || y.type === STT.FILE || y.index === 0) continue;
    global.update(`sym\0${y.name}\0${y.type}\0${y.bind}\0${y.other}\0${sectionName(y.shndx)}\0${y.value}\0${y.size}\0`);
  }
  const globalDigest = global.digest('hex');

  function symbolText(index: number): string {
    const y = symbols![index];
    if (!y) throw new Unsupported('relocation symbol');
    return `${y.name}\0${y.type}\0${y.bind}\0${sectionName(y.shndx)}`;
  }

  const funcAt = (sectionIndex: number, offset: number) => bySection.get(sectionIndex)?.find((f) => f.start === offset);

  // One function on its own: what it says, and which functions and data sections it names.
  interface Own {
    hash: string;
    lines: string;
    calls: Func[];
    data: Set<number>;
  }
  const owns = new Map<string, Own>();
  const ownOf = (f: Func): Own => {
    const known = owns.get(f.id);
    if (known) return known;
    const code = Buffer.from(bytesOf(f.section).subarray(f.start, f.end));
    const h = createHash('sha256');
    const { symbol } = f;
    h.update(`func\0${f.id}\0${f.section.flags}\0${symbol.bind}\0${symbol.other}\0${f.end - f.start}\0`);
    const calls: Func[] = [];
    const data = new Set<number>();
    const relocated = new Set<number>();
    const reach = (section: ElfSection, target: number, at: number, what: string) => {
      const callee = funcAt(section.index, target);
      if (callee) {
        // Where a callee sits in its section moves when code before it changes: name it instead, and
        // clear the position from the instruction.
        calls.push(callee);
        code.writeInt32LE(0, at - f.start + 4);
        h.update(`${what}\0${at - f.start}\0${callee.id}\0`);
      } else {
        // Not a function start: the whole section, as it is, is this function's business.
        for (const g of bySection.get(section.index) ?? []) calls.push(g);
        h.update(`${what}\0${at - f.start}\0(inside ${section.name})\0`);
      }
    };
    for (const r of relocationsOf.get(f.section.index) ?? []) {
      if (r.offset < f.start || r.offset >= f.end) continue;
      if (r.offset + 8 > f.end) throw new Unsupported('relocation bounds');
      relocated.add(r.offset);
      const y = symbols[r.symbol];
      if (!y) throw new Unsupported('relocation symbol');
      const opcode = code[r.offset - f.start];
      const imm = code.readInt32LE(r.offset - f.start + 4);
      const target = y.shndx !== SHN_UNDEF && y.shndx < 0xff00 ? sections[y.shndx] : undefined;
      h.update(`rel\0${r.offset - f.start}\0${r.type}\0${r.addend}\0${symbolText(r.symbol)}\0`);
      if (target && isExec(target)) {
        // libbpf: a call's target is the symbol + (imm + 1) instructions; a callback's address the symbol + imm bytes.
        if (opcode === CALL) reach(target, y.value + (imm + 1) * 8, r.offset, 'call');
        else if (opcode === LD_IMM64) reach(target, y.value + imm, r.offset, 'func');
        else reach(target, -1, r.offset, 'code');
      } else {
        h.update(`value\0${y.value}\0${y.size}\0`);
        if (target && isData(target)) data.add(target.index);
      }
    }
    // Calls and callback addresses within the same section need no relocation: pc-relative.
    for (let at = f.start; at + 8 <= f.end; at += 8) {
      if (relocated.has(at)) continue;
      const opcode = code[at - f.start];
      const src = code[at - f.start + 1] >> 4;
      if ((opcode === CALL && src === PSEUDO_CALL) || (opcode === LD_IMM64 && src === PSEUDO_FUNC)) {
        const target = at + (code.readInt32LE(at - f.start + 4) + 1) * 8;
        if (target < f.start || target >= f.end) reach(f.section, target, at, 'pc-call');
      }
    }
    h.update(code);
    const mine = (records: ExtRecord[]) =>
      records
        .filter((r) => r.section === f.section.name && r.insnOff >= f.start && r.insnOff < f.end)
        .map((r) => `${r.insnOff - f.start} ${r.text}`);
    for (const r of mine(ext.func)) h.update(`${r}\0`);
    for (const r of mine(ext.core)) h.update(`${r}\0`);
    // Where line info starts is part of what the kernel checks; what it says is for the `lines` key.
    const lineRecords = mine(ext.line);
    for (const r of lineRecords) h.update(`line at ${r.split(' ')[0]}\0`);
    const own = { hash: h.digest('hex'), lines: lineRecords.join('\n'), calls, data };
    owns.set(f.id, own);
    return own;
  };

  const keys = new Map<string, ProgramKey>();
  for (const program of funcs) {
    if (program.section.name === '.text') continue;
    // The program and everything it reaches, each once, in a stable order.
    const reached = new Map<string, Func>([[program.id, program]]);
    const queue = [program];
    while (queue.length > 0) {
      for (const callee of ownOf(queue.shift()!).calls) {
        if (!reached.has(callee.id)) {
          reached.set(callee.id, callee);
          queue.push(callee);
        }
      }
    }
    const verdict = createHash('sha256');
    const data = new Set<number>();
    verdict.update(`${globalDigest}\0program\0${program.id}\0`);
    const ordered = [...reached.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const f of ordered) {
      const own = ownOf(f);
      verdict.update(`${f.id}\0${own.hash}\0`);
      for (const d of own.data) data.add(d);
    }
    for (const d of [...data].sort((a, b) => a - b)) {
      const s = sections[d];
      verdict.update(`data\0${s.name}\0`);
      verdict.update(bytesOf(s));
    }
    const verdictKey = verdict.digest('hex');
    const lines = createHash('sha256').update(`${verdictKey}\0`);
    for (const f of ordered) lines.update(`${f.id}\0${ownOf(f).lines}\0`);
    keys.set(program.symbol.name, { verdict: verdictKey, lines: lines.digest('hex') });
  }
  return keys;
}
