// Rust files of an aya eBPF crate: when the crate's object is built (target/bpfel-unknown-none/<profile>/),
// opening or saving one of its .rs files verifies that object through the helper, as a save of a *.bpf.c
// does through the language server: the verifier's diagnostics land on the Rust lines the object's line
// info names, and CodeLenses over each `#[xdp]`/`#[tracepoint]`... function give its verdict (Show
// Verifier Log) and, while a load of the object is held here, its run count and instructions.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { ayaBuiltObject, ayaCrateOf } from '../../../toolchain/aya-object';
import { Diagnostic, verifyObject } from '../../../toolchain/verify';
import { Ctx } from '../../ctx';
import { runStatsOfLoads } from '../../run-stats';
import { rememberVerification, lastVerdicts } from '../verifier-log';
import { rustLenses } from './model';

const severities = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  note: vscode.DiagnosticSeverity.Information,
};

/** The object each Rust file was last verified through, and its modification time then. */
const verified = new Map<string, { object: string; mtime: number }>();
/** Files each Rust file's last verification put diagnostics on, so the next one clears them. */
const reported = new Map<string, vscode.Uri[]>();

function objectOf(file: string): string | undefined {
  const crate = ayaCrateOf(file);
  return crate && ayaBuiltObject(crate);
}

function toVscode(d: Diagnostic): vscode.Diagnostic {
  const line = Math.max(0, d.line - 1);
  const diagnostic = new vscode.Diagnostic(
    new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
    d.message,
    severities[d.severity],
  );
  diagnostic.source = d.origin === 'verifier' || d.severity === 'error' ? 'bpf verifier' : 'eBPF Studio';
  if (d.related?.length)
    diagnostic.relatedInformation = d.related.map(
      (r) =>
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(vscode.Uri.file(r.file), new vscode.Position(Math.max(0, r.line - 1), 0)),
          r.message,
        ),
    );
  return diagnostic;
}

/** Verifies the crate's object for this Rust file, unless it was verified as it is now. */
async function verifyRustFile(
  ctx: Ctx,
  collection: vscode.DiagnosticCollection,
  file: string,
  force: boolean,
): Promise<boolean> {
  const helper = ctx.helper;
  const object = objectOf(file);
  if (!helper || !object) return false;
  const mtime = fs.statSync(object).mtimeMs;
  const last = verified.get(file);
  if (!force && last && last.object === object && last.mtime === mtime) return false;
  verified.set(file, { object, mtime });
  const { programs, diagnostics } = await verifyObject(helper, object, file);
  rememberVerification(file, object, programs);
  for (const uri of reported.get(file) ?? []) collection.delete(uri);
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
  reported.set(
    file,
    [...byFile.keys()].map((f) => vscode.Uri.file(f)),
  );
  for (const [f, list] of byFile) collection.set(vscode.Uri.file(f), list.map(toVscode));
  ctx.log.info(
    `${object}: verified for ${file}: ${programs.map((p) => `${p.program} ${p.status}`).join(', ') || 'no programs'}`,
  );
  return true;
}

const isRust = (doc: vscode.TextDocument) => doc.uri.scheme === 'file' && doc.fileName.endsWith('.rs');

export function activate(ctx: Ctx): void {
  const collection = vscode.languages.createDiagnosticCollection('ebpf-rust');
  const lensesChanged = new vscode.EventEmitter<void>();
  const check = (doc: vscode.TextDocument, force: boolean) => {
    if (!isRust(doc)) return;
    verifyRustFile(ctx, collection, doc.fileName, force).then(
      (changed) => changed && lensesChanged.fire(),
      (error) => ctx.log.warn(`Verifying the object of ${doc.fileName}: ${(error as Error).message}`),
    );
  };
  ctx.push(
    collection,
    lensesChanged,
    vscode.workspace.onDidOpenTextDocument((doc) => check(doc, false)),
    // A save may follow a cargo build: the object's time says whether it changed.
    vscode.workspace.onDidSaveTextDocument((doc) => check(doc, false)),
    ctx.onDidChangeKernelState(() => lensesChanged.fire()),
    ctx.onDidChangeHelper((state) => {
      if (state.status === 'running') for (const doc of vscode.workspace.textDocuments) check(doc, true);
    }),
    vscode.languages.registerCodeLensProvider(
      { scheme: 'file', pattern: '**/*.rs' },
      {
        onDidChangeCodeLenses: lensesChanged.event,
        async provideCodeLenses(doc) {
          const object = objectOf(doc.fileName);
          if (!object) return [];
          // A cargo build since the last verification: verify again, then these lenses are redrawn.
          check(doc, false);
          const stats = await runStatsOfLoads(ctx, (l) => l.path === object).catch(() => []);
          return rustLenses(doc.getText(), doc.uri.toString(), lastVerdicts(doc.fileName), stats).map(
            (l) =>
              new vscode.CodeLens(new vscode.Range(l.line, 0, l.line, 0), {
                title: l.title,
                command: l.command,
                arguments: l.args,
              }),
          );
        },
      },
    ),
  );
  for (const doc of vscode.workspace.textDocuments) check(doc, false);
}
