import { strict as assert } from 'assert';
import {
  buildFailureSummary,
  diagnosticsByFile,
  resolveIncludeDirs,
} from '../../extension/host/features/build/options';

describe('build-options', () => {
  it('resolveIncludeDirs substitutes ${workspaceFolder} and resolves relative dirs from it', () => {
    assert.deepEqual(
      resolveIncludeDirs(['include', '${workspaceFolder}/libbpf/src', '/usr/include/x'], '/w', '/w/src'),
      ['/w/include', '/w/libbpf/src', '/usr/include/x'],
    );
    assert.deepEqual(resolveIncludeDirs(['inc'], undefined, '/w/src'), ['/w/src/inc']);
  });

  it('diagnosticsByFile groups per absolute file with 0-based positions', () => {
    const byFile = diagnosticsByFile(
      [
        { file: '/w/a.bpf.c', line: 12, column: 5, severity: 'error', message: 'boom' },
        { file: 'a.h', line: 1, column: 1, severity: 'note', message: 'here' },
      ],
      '/w',
    );
    assert.deepEqual([...byFile.keys()], ['/w/a.bpf.c', '/w/a.h']);
    assert.deepEqual(byFile.get('/w/a.bpf.c'), [{ line: 11, column: 4, severity: 'error', message: 'boom' }]);
  });

  it('buildFailureSummary names the first error and counts the rest', () => {
    const d = (line: number) => ({
      file: '/w/a.bpf.c',
      line,
      column: 2,
      severity: 'error' as const,
      message: `e${line}`,
    });
    assert.equal(buildFailureSummary([d(3), d(4), d(5)], ''), 'a.bpf.c:3:2: e3 (and 2 more errors)');
    assert.equal(buildFailureSummary([], 'clang: fatal\n'), 'clang: fatal');
  });
});
