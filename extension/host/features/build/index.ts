// Builds *.bpf.c before a load (load-commands) and offers the build commands: ebpf.build (build and verify
// the active file through the language server, which owns the build/verify diagnostics on save) and
// ebpf.configureClangd (compile_commands.json entries for the workspace's BPF sources, only when asked).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { compileBpf, compileCommandFor, CompileResult } from '../../../toolchain/compile';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { trustPolicy } from '../../helper-state';
import { diagnosticsByFile, resolveIncludeDirs } from './options';
import { mergeCompileCommands } from './clangd-config';

const severities = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  note: vscode.DiagnosticSeverity.Information,
};

/** Files each source's last build reported on (headers included), so a new build clears them all. */
const reportedFiles = new Map<string, vscode.Uri[]>();

function compileOptionsFor(source: vscode.Uri) {
  const folder = vscode.workspace.getWorkspaceFolder(source)?.uri.fsPath;
  return {
    clangPath: config.clangPath(),
    includeDirs: resolveIncludeDirs(config.buildIncludeDirs(), folder, path.dirname(source.fsPath)),
    defines: config.buildDefines(),
  };
}

/** Compiles one source for a load and replaces the diagnostics of the files it touched. */
export async function buildSource(ctx: Ctx, source: vscode.Uri): Promise<CompileResult> {
  const trust = trustPolicy(vscode.workspace.isTrusted);
  if (!trust.runClang) throw new Error(`Not built: ${trust.reason}.`);
  const sourceDir = path.dirname(source.fsPath);
  const result = await compileBpf(source.fsPath, compileOptionsFor(source));
  ctx.log.info(
    `${result.ok ? 'Built' : 'Build failed'} in ${Math.round(result.durationMs)} ms: ${result.command.join(' ')}`,
  );
  if (!result.ok && result.stderr) ctx.log.info(result.stderr.trimEnd());
  for (const uri of reportedFiles.get(source.fsPath) ?? [source]) ctx.buildDiagnostics.delete(uri);
  // A clean build says nothing here: the language server's diagnostics (build and verifier) stand.
  if (result.ok) return result;
  const byFile = diagnosticsByFile(result.diagnostics, sourceDir);
  reportedFiles.set(source.fsPath, [source, ...[...byFile.keys()].map((file) => vscode.Uri.file(file))]);
  for (const [file, list] of byFile) {
    ctx.buildDiagnostics.set(
      vscode.Uri.file(file),
      list.map((d) => {
        const diagnostic = new vscode.Diagnostic(
          new vscode.Range(d.line, d.column, d.line, d.column),
          d.message,
          severities[d.severity],
        );
        diagnostic.source = 'clang';
        return diagnostic;
      }),
    );
  }
  return result;
}

/** eBPF: Configure clangd for BPF Sources: writes/merges compile_commands.json in each workspace folder. */
export function configureClangd(ctx: Ctx) {
  return async (): Promise<void> => {
    const sources = await vscode.workspace.findFiles('**/*.bpf.c', '**/node_modules/**');
    if (sources.length === 0) {
      void vscode.window.showInformationMessage('No *.bpf.c files in this workspace.');
      return;
    }
    const byFolder = new Map<string, vscode.Uri[]>();
    for (const uri of sources) {
      const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), uri]);
    }
    const written: string[] = [];
    for (const [folder, uris] of byFolder) {
      const entries = await Promise.all(
        uris.map(async (uri) => ({
          directory: path.dirname(uri.fsPath),
          file: uri.fsPath,
          arguments: await compileCommandFor(uri.fsPath, compileOptionsFor(uri)),
        })),
      );
      const file = path.join(folder, 'compile_commands.json');
      const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
      fs.writeFileSync(file, mergeCompileCommands(existing, entries));
      written.push(file);
    }
    ctx.log.info(`Wrote clangd compile commands for ${sources.length} BPF source(s): ${written.join(', ')}`);
    void vscode.window.showInformationMessage(
      `clangd now builds ${sources.length} BPF source(s) with eBPF Studio's flags (${written.map((w) => path.basename(path.dirname(w)) + '/compile_commands.json').join(', ')}).`,
    );
  };
}
