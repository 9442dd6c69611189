// Builds *.bpf.c with clang (extension/build/compile.ts) on save (ebpfStudio.build.onSave) and before a
// load; clang's errors and warnings go to the 'ebpf-build' diagnostics owned by the context.
import * as path from 'path';
import * as vscode from 'vscode';
import { compileBpf, CompileResult } from '../build/compile';
import { config } from '../config';
import { Ctx } from '../ctx';
import { diagnosticsByFile, resolveIncludeDirs } from './build-options';

const severities = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  note: vscode.DiagnosticSeverity.Information,
};

/** Files each source's last build reported on (headers included), so a new build clears them all. */
const reportedFiles = new Map<string, vscode.Uri[]>();

/** Compiles one source and replaces the diagnostics of the files it touched. */
export async function buildSource(ctx: Ctx, source: vscode.Uri): Promise<CompileResult> {
  const folder = vscode.workspace.getWorkspaceFolder(source)?.uri.fsPath;
  const sourceDir = path.dirname(source.fsPath);
  const result = await compileBpf(source.fsPath, {
    clangPath: config.clangPath(),
    includeDirs: resolveIncludeDirs(config.buildIncludeDirs(), folder, sourceDir),
    defines: config.buildDefines(),
  });
  ctx.log.info(`${result.ok ? 'Built' : 'Build failed'} in ${Math.round(result.durationMs)} ms: ${result.command.join(' ')}`);
  if (!result.ok && result.stderr) ctx.log.info(result.stderr.trimEnd());
  for (const uri of reportedFiles.get(source.fsPath) ?? [source]) ctx.buildDiagnostics.delete(uri);
  const byFile = diagnosticsByFile(result.diagnostics, sourceDir);
  reportedFiles.set(source.fsPath, [source, ...[...byFile.keys()].map((file) => vscode.Uri.file(file))]);
  for (const [file, list] of byFile) {
    ctx.buildDiagnostics.set(
      vscode.Uri.file(file),
      list.map((d) => {
        const diagnostic = new vscode.Diagnostic(new vscode.Range(d.line, d.column, d.line, d.column), d.message, severities[d.severity]);
        diagnostic.source = 'clang';
        return diagnostic;
      }),
    );
  }
  return result;
}

export function activate(ctx: Ctx): void {
  ctx.push(
    vscode.workspace.onDidSaveTextDocument(async (doc) => {
      if (!doc.uri.fsPath.endsWith('.bpf.c') || doc.uri.scheme !== 'file' || !config.buildOnSave()) return;
      try {
        await buildSource(ctx, doc.uri);
      } catch (error) {
        // A missing clang is worth saying once per save, not as a modal: the status is in the log too.
        ctx.log.error(`Build of ${doc.uri.fsPath} failed: ${(error as Error).message}`);
        void vscode.window.setStatusBarMessage(`$(error) eBPF build: ${(error as Error).message}`, 10_000);
      }
    }),
  );
}
