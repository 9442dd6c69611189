// The language server's build/verify diagnostics in LSP form (run by the language server): a verifier
// diagnostic covers the statement on its line, clang's starts at its column, and libbpf's own lines and
// related places come along as related information.
import { pathToFileURL } from 'url';
import { Diagnostic as LspDiagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import type { Diagnostic } from '../toolchain/verify';

const severities = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  note: DiagnosticSeverity.Information,
};

function emptyAsUndefined<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

/** A verifier diagnostic covers the statement on its line; clang's starts at its column. */
export function toLsp(d: Diagnostic, lineText: (file: string, line: number) => string): LspDiagnostic {
  const line = Math.max(0, d.line - 1);
  let start = Math.max(0, d.column - 1);
  let end = start;
  if (d.origin !== 'clang') {
    const text = lineText(d.file, line);
    start = text.length - text.trimStart().length;
    end = Math.max(start, text.trimEnd().length);
  }
  return {
    range: { start: { line, character: start }, end: { line, character: end } },
    severity: severities[d.severity],
    code: d.code,
    source: d.origin === 'clang' ? 'clang' : d.origin === 'verifier' ? 'bpf verifier' : 'eBPF Studio',
    message: d.message,
    relatedInformation: emptyAsUndefined([
      ...(d.related ?? []).map((r) => ({
        location: {
          uri: pathToFileURL(r.file).toString(),
          range: {
            start: { line: r.line - 1, character: 0 },
            end: { line: r.line - 1, character: lineText(r.file, r.line - 1).length },
          },
        },
        message: r.message,
      })),
      // libbpf's own lines, at the diagnostic's line, under the translated message.
      ...(d.detail ?? []).map((message) => ({
        location: {
          uri: pathToFileURL(d.file).toString(),
          range: { start: { line, character: start }, end: { line, character: end } },
        },
        message,
      })),
    ]),
  };
}
