// Pure parts around build + verify: clang's backend errors on their line, verifier log links, and the
// clangd compile_commands.json merge.
import { strict as assert } from 'assert';
import { parseClangDiagnostics } from '../../extension/toolchain/compile';
import { sourceFromHeader, verifierLogHeader, verifierLogLinks } from '../../extension/formats/verifier-log-links';
import { mergeCompileCommands } from '../../extension/host/features/build/clangd-config';

describe('build and verify helpers', () => {
  it('puts the BPF backend\'s "Error at line" on its line', () => {
    const stderr =
      'Error at line 10: Unsupport signed division for DAG: 0x1: i64 = sdiv 0x2, Constant:i64<64>, core.bpf.c:10:54Please convert to unsigned div/mod.\nfatal error: error in backend: Cannot select\n';
    assert.deepStrictEqual(parseClangDiagnostics(stderr), [
      {
        file: 'core.bpf.c',
        line: 10,
        column: 54,
        severity: 'error',
        message: 'Unsupport signed division: Please convert to unsigned div/mod.',
      },
    ]);
    assert.deepStrictEqual(parseClangDiagnostics("a.bpf.c:3:5: error: expected ';' after expression\n"), [
      { file: 'a.bpf.c', line: 3, column: 5, severity: 'error', message: "expected ';' after expression" },
    ]);
  });

  it('links `@ file:LINE` annotations of a verifier log', () => {
    const log =
      verifierLogHeader('f', '/src/a.bpf.c', 'rejected') +
      '0: R1=ctx() R10=fp0\n; int x = 1; @ a.bpf.c:12\n0: (b7) r0 = 0\n; skipped @ a.bpf.c:0\n';
    assert.equal(sourceFromHeader(log), '/src/a.bpf.c');
    const links = verifierLogLinks(log);
    assert.equal(links.length, 1);
    const l = links[0];
    assert.deepStrictEqual({ ...l }, { logLine: 3, start: 15, end: 25, file: 'a.bpf.c', line: 12 });
    assert.equal(log.split('\n')[3].slice(l.start, l.end), 'a.bpf.c:12');
  });

  it('merges compile commands, replacing only our files', () => {
    const existing = JSON.stringify([
      { directory: '/w', file: '/w/main.c', arguments: ['cc', '-c', 'main.c'] },
      { directory: '/w', file: '/w/a.bpf.c', arguments: ['old'] },
    ]);
    const merged = JSON.parse(
      mergeCompileCommands(existing, [{ directory: '/w', file: '/w/a.bpf.c', arguments: ['clang', '-target', 'bpf'] }]),
    );
    assert.deepStrictEqual(
      merged.map((e: { file: string }) => e.file),
      ['/w/main.c', '/w/a.bpf.c'],
    );
    assert.deepStrictEqual(merged[1].arguments, ['clang', '-target', 'bpf']);
    assert.throws(() => mergeCompileCommands('{}', []), /not a JSON array/);
  });
});
