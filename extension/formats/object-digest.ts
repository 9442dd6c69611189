// A digest of a BPF object file as a loader sees it: every ELF section except the DWARF debug sections
// (.debug_*, and their relocations), which libbpf never reads. clang writes the source's MD5 into
// .debug_line, so an edit that changes no code (a comment at the end of the file) changes the file's bytes
// but not this digest: the object verifies exactly as before.
import { createHash } from 'crypto';
import { elfSections, sectionBytes } from './elf-sections';

/** Sections libbpf never reads: DWARF (and its relocations) and the linker's address-significance table. */
export const ignoredByLoader = (name: string) => /^\.(rela?)?\.?debug_/.test(name) || name === '.llvm_addrsig';

/** The digest, or undefined when `elf` is not a little-endian ELF64 file (then compare whole bytes). */
export function loaderDigest(elf: Buffer): string | undefined {
  const sections = elfSections(elf);
  if (!sections) return undefined;
  const hash = createHash('sha256');
  for (const s of sections) {
    if (ignoredByLoader(s.name)) continue;
    const bytes = sectionBytes(elf, s);
    if (!bytes) return undefined;
    hash.update(`${s.index}\0${s.name}\0${s.type}\0${s.flags}\0${s.size}\0${s.link}\0${s.info}\0${s.entsize}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
