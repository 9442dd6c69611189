// Which sources a change on disk makes stale (issue 11, item 2): a source's verdict depends on its own text
// and on every header it includes; the same content (the editor's own save) makes nothing stale.
import { strict as assert } from 'assert';
import * as path from 'path';
import {
  contentDigest,
  DependencyIndex,
  includedFiles,
  quotedIncludes,
} from '../../extension/language-server/includes';

describe('language server: what a verdict depends on', () => {
  const files: Record<string, string> = {
    '/w/a/prog.bpf.c': '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include "prog.h"\n#include "common.h"\n',
    '/w/a/prog.h': '#include "nested.h"\nstruct ev { int x; };\n',
    '/w/a/nested.h': '#define N 4\n',
    '/w/inc/common.h': '#include "prog.h" /* a cycle must not loop */\n',
    '/w/inc/vmlinux.h': '/* not followed: it is not a user header, but it is found like one */\n',
    '/w/b/other.bpf.c': '#include "../inc/common.h"\n',
  };
  const read = (f: string) => files[f];

  it('follows quoted includes next to the including file, then in -I dirs, through cycles', () => {
    assert.deepEqual(quotedIncludes(files['/w/a/prog.bpf.c']), ['vmlinux.h', 'prog.h', 'common.h']);
    assert.deepEqual(includedFiles('/w/a/prog.bpf.c', read, ['/w/inc']).sort(), [
      '/w/a/nested.h',
      '/w/a/prog.bpf.c',
      '/w/a/prog.h',
      '/w/inc/common.h',
      '/w/inc/vmlinux.h',
    ]);
    assert.deepEqual(includedFiles('/w/b/other.bpf.c', read).sort(), ['/w/b/other.bpf.c', '/w/inc/common.h']);
  });

  it('makes stale the sources that read another content of a changed file, and only those', () => {
    const index = new DependencyIndex();
    const record = (source: string, dirs: string[]) =>
      index.record(
        source,
        new Map(includedFiles(source, read, dirs).map((f) => [f, contentDigest(files[f])] as [string, string])),
      );
    record('/w/a/prog.bpf.c', ['/w/inc']);
    record('/w/b/other.bpf.c', []);
    // git checkout rewrote common.h: both sources include it.
    assert.deepEqual(index.staleAfterChange('/w/inc/common.h', contentDigest('changed')).sort(), [
      '/w/a/prog.bpf.c',
      '/w/b/other.bpf.c',
    ]);
    // A nested header of prog only.
    assert.deepEqual(index.staleAfterChange('/w/a/nested.h', contentDigest('#define N 5\n')), ['/w/a/prog.bpf.c']);
    // The source itself, deleted.
    assert.deepEqual(index.staleAfterChange('/w/b/other.bpf.c', undefined), ['/w/b/other.bpf.c']);
    // The editor's own save: the same content as checked.
    assert.deepEqual(index.staleAfterChange('/w/a/prog.h', contentDigest(files['/w/a/prog.h'])), []);
    assert.deepEqual(index.staleAfterChange(path.resolve('/w/unrelated.h'), 'x'), []);
  });
});
