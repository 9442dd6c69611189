// Which files a BPF source's verdict depends on: the source and every header it includes with quotes,
// followed through nested includes, found as the compiler finds them (next to the including file, then
// in the -I directories). A change on disk to any of them makes the last verdict stale.
import * as crypto from 'crypto';
import * as path from 'path';

/** `#include "..."` names in C text (system headers in <...> do not change under the user). */
export function quotedIncludes(text: string): string[] {
  return [...text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)].map((m) => m[1]);
}

/**
 * The source and the headers it includes, transitively. `read` returns a file's text, or undefined when
 * there is no such file; a header not found is left out (clang says so in its own diagnostics).
 */
export function includedFiles(
  source: string,
  read: (file: string) => string | undefined,
  includeDirs: string[] = [],
): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = read(file);
    if (text === undefined) return;
    seen.add(file);
    for (const name of quotedIncludes(text)) {
      const found = [path.dirname(file), ...includeDirs]
        .map((dir) => path.resolve(dir, name))
        .find((candidate) => read(candidate) !== undefined);
      if (found) visit(found);
    }
  };
  visit(path.resolve(source));
  return [...seen];
}

/** A digest of a file's content: a change event whose content a check has already seen is skipped. */
export function contentDigest(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}

/**
 * What each source's last check read, by file and content digest. A file changed on disk makes stale the
 * sources whose check read another content of it; the same content (the editor's own save, which the save
 * handler checks already) makes nothing stale.
 */
export class DependencyIndex {
  private readonly bySource = new Map<string, Map<string, string>>();

  /** Records the files (and their digests) a check of `source` is about to read. */
  record(source: string, digests: Map<string, string>): void {
    this.bySource.set(source, digests);
  }

  forget(source: string): void {
    this.bySource.delete(source);
  }

  has(source: string): boolean {
    return this.bySource.has(source);
  }

  /** Sources to check again because `file` now has `digest` (undefined: it was deleted). */
  staleAfterChange(file: string, digest: string | undefined): string[] {
    const out: string[] = [];
    for (const [source, files] of this.bySource) {
      const seen = files.get(file);
      if (seen !== undefined && seen !== digest) out.push(source);
    }
    return out;
  }
}
