// The section table, symbols and relocations of a little-endian ELF64 file, as clang -target bpf writes
// them: the one reader behind the loader digest, the per-program verification keys and the tests that
// build damaged objects. Pure: bytes in, plain records out. Layout: https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.sheader.html

export const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF = { WRITE: 0x1n, ALLOC: 0x2n, EXECINSTR: 0x4n } as const;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const SHN_UNDEF = 0;

export interface ElfSection {
  index: number;
  name: string;
  /** Where this section's header is in the file. */
  headerAt: number;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: bigint;
}

/** Whether `elf` starts as a little-endian ELF64 file. */
export function isElf64LE(elf: Buffer): boolean {
  return elf.length >= 64 && elf.readUInt32BE(0) === 0x7f454c46 && elf[4] === 2 && elf[5] === 1;
}

/**
 * Every section header, with its name; undefined when `elf` is not a little-endian ELF64 file or its header
 * table or section-name table lies outside the file. Section contents are not checked (see sectionBytes).
 */
export function elfSections(elf: Buffer): ElfSection[] | undefined {
  if (!isElf64LE(elf)) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length || shstrndx >= shnum) return undefined;
  const names = Number(elf.readBigUInt64LE(shoff + shstrndx * shentsize + 0x18));
  if (names >= elf.length) return undefined;
  const out: ElfSection[] = [];
  for (let index = 0; index < shnum; index++) {
    const at = shoff + index * shentsize;
    out.push({
      index,
      name: cString(elf, names + elf.readUInt32LE(at)),
      headerAt: at,
      type: elf.readUInt32LE(at + 4),
      flags: elf.readBigUInt64LE(at + 8),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
      link: elf.readUInt32LE(at + 0x28),
      info: elf.readUInt32LE(at + 0x2c),
      entsize: elf.readBigUInt64LE(at + 0x38),
    });
  }
  return out;
}

/** A section's bytes (none for SHT_NOBITS, which has a size but no bytes); undefined when outside the file. */
export function sectionBytes(elf: Buffer, section: ElfSection): Buffer | undefined {
  if (section.type === SHT.NOBITS) return Buffer.alloc(0);
  if (section.offset + section.size > elf.length) return undefined;
  return elf.subarray(section.offset, section.offset + section.size);
}

/** A NUL-terminated string at `at` (empty when `at` is outside the buffer). */
export function cString(bytes: Buffer, at: number): string {
  if (at < 0 || at >= bytes.length) return '';
  const end = bytes.indexOf(0, at);
  return bytes.toString('latin1', at, end < 0 ? bytes.length : end);
}

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  /** STT_*. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
  /** Visibility (st_other). */
  other: number;
  /** The section it is defined in; SHN_UNDEF for an extern, >= 0xff00 for special indices. */
  shndx: number;
}

/** The symbols of the (first) SHT_SYMTAB section; undefined when there is none or it lies outside the file. */
export function elfSymbols(elf: Buffer, sections: ElfSection[]): ElfSymbol[] | undefined {
  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  const strtab = symtab && sections[symtab.link];
  if (!symtab || !strtab) return undefined;
  const bytes = sectionBytes(elf, symtab);
  const strings = sectionBytes(elf, strtab);
  if (!bytes || !strings) return undefined;
  const out: ElfSymbol[] = [];
  for (let at = 0, index = 0; at + 24 <= bytes.length; at += 24, index++) {
    const info = bytes[at + 4];
    out.push({
      index,
      name: cString(strings, bytes.readUInt32LE(at)),
      type: info & 0xf,
      bind: info >> 4,
      other: bytes[at + 5],
      shndx: bytes.readUInt16LE(at + 6),
      value: Number(bytes.readBigUInt64LE(at + 8)),
      size: Number(bytes.readBigUInt64LE(at + 16)),
    });
  }
  return out;
}

export interface ElfRelocation {
  /** Offset in the section the relocations apply to (the section header's info). */
  offset: number;
  symbol: number;
  type: number;
  /** RELA only; REL keeps the addend in the relocated bytes (BPF objects use REL). */
  addend?: bigint;
}

/** The entries of an SHT_REL or SHT_RELA section; undefined when it lies outside the file. */
export function elfRelocations(elf: Buffer, section: ElfSection): ElfRelocation[] | undefined {
  const bytes = sectionBytes(elf, section);
  if (!bytes) return undefined;
  const rela = section.type === SHT.RELA;
  const size = rela ? 24 : 16;
  const out: ElfRelocation[] = [];
  for (let at = 0; at + size <= bytes.length; at += size) {
    const info = bytes.readBigUInt64LE(at + 8);
    out.push({
      offset: Number(bytes.readBigUInt64LE(at)),
      symbol: Number(info >> 32n),
      type: Number(info & 0xffffffffn),
      addend: rela ? bytes.readBigInt64LE(at + 16) : undefined,
    });
  }
  return out;
}
