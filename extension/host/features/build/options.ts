// Pure parts of building a .bpf.c from the editor: settings turned into compile options, and clang's
// diagnostics grouped per file for the 'ebpf-build' collection. No vscode import.
import * as path from 'path';
import type { CompileDiagnostic } from '../../../toolchain/compile';

/**
 * Include directories from ebpfStudio.build.includeDirs: "${workspaceFolder}" is substituted, relative paths
 * are taken from the workspace folder (else the source's directory), never from the host's cwd.
 */
export function resolveIncludeDirs(dirs: string[], workspaceFolder: string | undefined, sourceDir: string): string[] {
  const base = workspaceFolder ?? sourceDir;
  return dirs.map((dir) => {
    const expanded = dir.replace(/\$\{workspaceFolder\}/g, base).replace(/^~(?=\/|$)/, process.env.HOME ?? '~');
    return path.resolve(base, expanded);
  });
}

export interface FileDiagnostic {
  /** 0-based, as editors count. */
  line: number;
  column: number;
  severity: CompileDiagnostic['severity'];
  message: string;
}

/** clang's 1-based positions, per absolute file path (relative paths are taken from the source's directory). */
export function diagnosticsByFile(diagnostics: CompileDiagnostic[], sourceDir: string): Map<string, FileDiagnostic[]> {
  const byFile = new Map<string, FileDiagnostic[]>();
  for (const d of diagnostics) {
    const file = path.resolve(sourceDir, d.file);
    const list = byFile.get(file) ?? [];
    list.push({
      line: Math.max(0, d.line - 1),
      column: Math.max(0, d.column - 1),
      severity: d.severity,
      message: d.message,
    });
    byFile.set(file, list);
  }
  return byFile;
}

/** The first error, as a one-line summary: "fork_trace.bpf.c:12:5: use of undeclared identifier 'x'". */
export function buildFailureSummary(diagnostics: CompileDiagnostic[], stderr: string): string {
  const first = diagnostics.find((d) => d.severity === 'error');
  if (first) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const more = errors > 1 ? ` (and ${errors - 1} more error${errors === 2 ? '' : 's'})` : '';
    return `${path.basename(first.file)}:${first.line}:${first.column}: ${first.message}${more}`;
  }
  return stderr.trim().split('\n').slice(-1)[0] || 'clang failed without a message';
}
