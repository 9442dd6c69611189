// A digest of a BPF object file as a loader sees it: every ELF section except the DWARF debug sections
// (.debug_*, and their relocations), which libbpf never reads. clang writes the source's MD5 into
// .debug_line, so an edit that changes no code (a comment at the end of the file) changes the file's bytes
// but not this digest: the object verifies exactly as before.
import { createHash } from 'crypto';

const ignored = (name: string) => /^\.(rela?)?\.?debug_/.test(name) || name === '.llvm_addrsig';

/** The digest, or undefined when `elf` is not a little-endian ELF64 file (then compare whole bytes). */
export function loaderDigest(elf: Buffer): string | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length || shstrndx >= shnum) return undefined;
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: elf.readUInt32LE(at),
      type: elf.readUInt32LE(at + 4),
      flags: elf.readBigUInt64LE(at + 8),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
      link: elf.readUInt32LE(at + 0x28),
      info: elf.readUInt32LE(at + 0x2c),
      entsize: elf.readBigUInt64LE(at + 0x38),
    };
  };
  const names = header(shstrndx);
  const nameOf = (offset: number) => {
    const start = names.offset + offset;
    const end = elf.indexOf(0, start);
    return elf.toString('latin1', start, end < 0 ? start : end);
  };
  const hash = createHash('sha256');
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const name = nameOf(h.name);
    if (ignored(name)) continue;
    // SHT_NOBITS (.bss) has a size but no bytes in the file.
    const bytes = h.type === 8 ? Buffer.alloc(0) : elf.subarray(h.offset, h.offset + h.size);
    if (h.type !== 8 && h.offset + h.size > elf.length) return undefined;
    hash.update(`${i}\0${name}\0${h.type}\0${h.flags}\0${h.size}\0${h.link}\0${h.info}\0${h.entsize}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
