// The `@ file:LINE` annotations of a verifier log or an instruction view, resolved to files on disk: the
// object's line info names a file relatively (clang's "x.bpf.c", an aya crate's "src/main.rs") or by a
// path on the machine that built it, so a name not found as it is gets looked up from the source or object
// named in the text's `# source:` header (for Rust, in the crate above the object). One definition for the
// editor's link provider and its tests.
import * as fs from 'fs';
import * as path from 'path';
import { LogLink, sourceFromHeader, verifierLogLinks } from '../formats/verifier-log-links';
import { resolveSourceFile } from './verify';

export function resolvedSourceLinks(text: string): LogLink[] {
  const source = sourceFromHeader(text);
  return verifierLogLinks(text).map((link) => ({
    ...link,
    // Disassembly names files as the object's BTF does: absolute, from the machine that built it (where
    // the crate may have been elsewhere); logs may name them bare.
    file:
      source && !(path.isAbsolute(link.file) && fs.existsSync(link.file))
        ? resolveSourceFile(link.file, source)
        : link.file,
  }));
}

/** The `# source:` line an instruction view starts with when its program's object or source is known. */
export function sourceHeader(source: string): string {
  return `# source: ${source}\n`;
}
