// The BPF C language server (bundled as dist/server.js, started by features/language-client.ts). It owns
// the build/verify diagnostics of *.bpf.c (clang errors and verifier rejections on their lines, computed
// by the same checkSource() as `ebpf-studio check`), hover and signature help for BPF helpers from the
// installed linux/bpf.h, completion of SEC() names, map types and map fields, and verdict CodeLenses.
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  CodeActionKind,
  CodeLens,
  CompletionItem,
  CompletionItemKind,
  createConnection,
  Diagnostic as LspDiagnostic,
  FileChangeType,
  InitializeResult,
  MarkupKind,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CheckResult, checkSource, Diagnostic, ProgramVerdict, VerifyOutcome } from '../toolchain/verify';
import { MissingToolError } from '../toolchain/toolchain';
import { prepareWarmCompile } from '../toolchain/compile';
import { WarmClangs } from '../toolchain/warm-clang';
import { kernelBtfNames } from './btf-names';
import {
  completionContext,
  KernelTargets,
  MAP_FIELDS,
  MAP_TYPES,
  sectionCompletions,
  tracefsTracepoints,
} from './completion';
import { helperHoverMarkdown, installedHelperDocs, UAPI_BPF_H } from './helper-docs';
import { debugPathLenses, findSecFunctions, lensTexts } from './lenses';
import { headInsns, type HeadInsns } from './head-stats';
import {
  BuildSettings,
  CheckParams,
  CheckRequest,
  CheckResponse,
  KernelChangedNotification,
  ProgramRunStats,
  RunStatsParams,
  RunStatsRequest,
  SettingsNotification,
  VerifyParams,
  VerifyRequest,
} from './lsp-ext';
import { activeParameter, wordAt } from './text';
import { contentDigest, DependencyIndex, includedFiles } from './includes';
import { legacyMapActions } from './code-actions';
import { toLsp } from './diagnostics';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

let settings: BuildSettings = { includeDirs: [], defines: [], onSave: true };
let codeLensRefresh = false;
/** The last check of each source: its verdicts feed the lenses. */
const lastChecks = new Map<string, CheckResult>();
/** Instructions processed per program of each source's git HEAD version, built in the background. */
const headChecks = new Map<string, HeadInsns>();
/** Files each source's last check published diagnostics on (headers too), so the next check clears them. */
const publishedFiles = new Map<string, Set<string>>();
/** What each source's last check read (the source and its headers), to re-check it when they change on disk. */
const dependencies = new DependencyIndex();
/** One check per source at a time; a save during a check runs one more after it. */
const running = new Map<string, { again: boolean; done: Promise<CheckResult | undefined> }>();

/** A clang per recently checked source, started ahead of its next save (toolchain/warm-clang.ts). */
const warmClangs = new WarmClangs();
process.on('exit', () => warmClangs.dispose());
connection.onShutdown(() => warmClangs.dispose());

const isBpfSource = (file: string) => file.endsWith('.bpf.c');

function lineText(file: string, line: number): string {
  const open = documents.get(pathToFileURL(file).toString());
  const text = open ? open.getText() : fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text.split('\n')[line] ?? '';
}

/** Publishes a check's diagnostics; resolves once they are written to the client. */
function publish(source: string, diagnostics: Diagnostic[]): Promise<unknown> {
  const byFile = new Map<string, LspDiagnostic[]>([[source, []]]);
  for (const d of diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), toLsp(d, lineText)]);
  for (const stale of publishedFiles.get(source) ?? []) if (!byFile.has(stale)) byFile.set(stale, []);
  publishedFiles.set(source, new Set([...byFile].filter(([, list]) => list.length > 0).map(([file]) => file)));
  return Promise.all(
    [...byFile].map(([file, list]) =>
      connection.sendDiagnostics({ uri: pathToFileURL(file).toString(), diagnostics: list }),
    ),
  );
}

async function askClientToVerify(objectPath: string, source: string, includeDirs: string[]): Promise<VerifyOutcome> {
  try {
    return await connection.sendRequest<VerifyOutcome>(VerifyRequest, {
      objectPath,
      source,
      includeDirs,
    } satisfies VerifyParams);
  } catch (error) {
    return { unavailable: `the editor did not answer the verify request (${(error as Error).message})` };
  }
}

function readFileOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Notes the content of the source and its headers as this check reads them (clang reads the disk). */
function recordDependencies(source: string): void {
  const digests = new Map<string, string>();
  for (const file of includedFiles(source, readFileOrUndefined, settings.includeDirs)) {
    const text = readFileOrUndefined(file);
    if (text !== undefined) digests.set(file, contentDigest(text));
  }
  dependencies.record(source, digests);
}

async function checkOnce(source: string): Promise<CheckResult | undefined> {
  const started = performance.now();
  recordDependencies(source);
  try {
    const options = {
      clangPath: settings.clangPath,
      includeDirs: settings.includeDirs,
      defines: settings.defines,
      outDir: settings.outDir,
      warm: warmClangs,
    };
    const result = await checkSource(askClientToVerify, source, options);
    connection.console.log(
      `${path.basename(source)}: ${result.built ? 'built' : 'build failed'} in ${Math.round(result.buildMs)} ms` +
        (result.built
          ? `, ${result.unverified ? `not verified (${result.unverified})` : `verified in ${Math.round(result.verifyMs)} ms`}`
          : '') +
        (result.warm ? ' (clang started ahead)' : '') +
        `; checked in ${Math.round(performance.now() - started)} ms`,
    );
    lastChecks.set(source, result);
    const published = publish(source, result.diagnostics);
    if (codeLensRefresh) void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    // What starts processes (the clang for the next save, git for HEAD) waits until the diagnostics are
    // written: a spawn blocks this process for tens of milliseconds on a busy machine.
    void published.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      void prepareWarmCompile(source, options).catch(() => undefined);
      if (result.programs.some((p) => p.status === 'verified')) void compareWithHead(source);
    });
    return result;
  } catch (error) {
    // A missing clang/bpftool/BTF is one diagnostic that says what to install, not a crash.
    const message = error instanceof MissingToolError ? error.message : `build failed: ${(error as Error).message}`;
    publish(source, [{ file: source, line: 1, column: 1, severity: 'error', origin: 'ebpf-studio', message }]);
    return undefined;
  }
}

/** Builds and verifies the HEAD version once per commit, then refreshes the lenses with the difference. */
async function compareWithHead(source: string): Promise<void> {
  const head = await headInsns(source, askClientToVerify, {
    clangPath: settings.clangPath,
    includeDirs: settings.includeDirs,
    defines: settings.defines,
  });
  if (!head || headChecks.get(source) === head) return;
  headChecks.set(source, head);
  if (codeLensRefresh) void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
}

/** Checks a source; concurrent requests for the same file share a run and coalesce into one more. */
function check(source: string): Promise<CheckResult | undefined> {
  const current = running.get(source);
  if (current) {
    current.again = true;
    return current.done.then(() => running.get(source)?.done ?? lastChecks.get(source));
  }
  const entry = { again: false, done: Promise.resolve<CheckResult | undefined>(undefined) };
  entry.done = (async () => {
    let result = await checkOnce(source);
    while (entry.again) {
      entry.again = false;
      result = await checkOnce(source);
    }
    running.delete(source);
    return result;
  })();
  running.set(source, entry);
  return entry.done;
}

connection.onInitialize((params): InitializeResult => {
  const options = params.initializationOptions as Partial<BuildSettings> | undefined;
  if (options) settings = { ...settings, ...options };
  codeLensRefresh = params.capabilities.workspace?.codeLens?.refreshSupport === true;
  if (installedHelperDocs().size === 0) {
    connection.console.warn(
      `${UAPI_BPF_H} was not found or has no helper descriptions: install linux-libc-dev for helper hovers.`,
    );
  }
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['"', '/', '(', ',', '_'] },
      signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
      codeLensProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'ebpf-studio-bpf-language-server' },
  };
});

connection.onNotification(SettingsNotification, (next: BuildSettings) => {
  settings = next;
});

documents.onDidOpen((e) => {
  const file = fileURLToPath(e.document.uri);
  if (isBpfSource(file) && settings.onSave) void check(file);
});

documents.onDidSave((e) => {
  const file = fileURLToPath(e.document.uri);
  if (isBpfSource(file) && settings.onSave) void check(file);
});

/**
 * Files changed on disk (git checkout, another editor, a generator): the client watches *.c and *.h. A
 * source whose last check read another content of a changed file is checked again, so its diagnostics
 * and CodeLens never describe a file that is no longer there; a header change re-checks its includers.
 */
connection.onDidChangeWatchedFiles(({ changes }) => {
  if (!settings.onSave) return;
  const again = new Set<string>();
  for (const change of changes) {
    const file = fileURLToPath(change.uri);
    const text = change.type === FileChangeType.Deleted ? undefined : readFileOrUndefined(file);
    const digest = text === undefined ? undefined : contentDigest(text);
    for (const source of dependencies.staleAfterChange(file, digest)) again.add(source);
    // A source deleted on disk: its diagnostics go with it.
    if (digest === undefined && isBpfSource(file) && dependencies.has(file)) {
      again.delete(file);
      dependencies.forget(file);
      lastChecks.delete(file);
      publish(file, []);
    }
  }
  for (const source of again) {
    connection.console.log(`${path.basename(source)}: changed on disk (or a header it includes did): checking again`);
    void check(source);
  }
});

connection.onRequest(CheckRequest, async ({ uri }: CheckParams): Promise<CheckResponse> => {
  const result = await check(fileURLToPath(uri));
  return { built: result?.built ?? false, objectPath: result?.objectPath };
});

connection.onHover(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return null;
  const word = wordAt(
    doc.getText({ start: { line: position.line, character: 0 }, end: { line: position.line + 1, character: 0 } }),
    position.character,
  );
  const helper = word ? installedHelperDocs().get(word) : undefined;
  return helper ? { contents: { kind: MarkupKind.Markdown, value: helperHoverMarkdown(helper) } } : null;
});

connection.onSignatureHelp(({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return null;
  const before = doc.getText({ start: { line: Math.max(0, position.line - 20), character: 0 }, end: position });
  const call = activeParameter(before);
  const helper = call ? installedHelperDocs().get(call.name) : undefined;
  if (!call || !helper) return null;
  return {
    signatures: [
      {
        label: helper.signature,
        documentation: { kind: MarkupKind.Markdown, value: helper.description },
        parameters: helper.params.map((p) => ({ label: p })),
      },
    ],
    activeSignature: 0,
    activeParameter: Math.min(call.index, Math.max(0, helper.params.length - 1)),
  };
});

let kernelTargets: { at: number; targets: KernelTargets } | undefined;

/** Tracepoints come and go with modules: re-read tracefs at most once a minute. */
function currentKernelTargets(): KernelTargets {
  if (!kernelTargets || Date.now() - kernelTargets.at > 60_000) {
    const btf = kernelBtfNames();
    kernelTargets = {
      at: Date.now(),
      targets: { tracepoints: tracefsTracepoints(), rawTracepoints: btf.rawTracepoints, functions: btf.functions },
    };
  }
  return kernelTargets.targets;
}

connection.onCompletion(({ textDocument, position }): CompletionItem[] => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  const prefix = doc.getText({ start: { line: position.line, character: 0 }, end: position });
  const context = completionContext(prefix);
  const replace = (typed: string) => ({
    start: { line: position.line, character: position.character - typed.length },
    end: position,
  });
  switch (context.kind) {
    case 'section':
      return sectionCompletions(context.typed, currentKernelTargets()).map((s) => ({
        label: s.label,
        kind: CompletionItemKind.Value,
        detail: s.detail,
        textEdit: { range: replace(context.typed), newText: s.label },
      }));
    case 'mapType':
      return MAP_TYPES.filter((t) => t.startsWith(context.typed)).map((t) => ({
        label: t,
        kind: CompletionItemKind.EnumMember,
        textEdit: { range: replace(context.typed), newText: t },
      }));
    case 'mapField':
      return MAP_FIELDS.filter((f) => f.macro === context.macro && f.field.startsWith(context.typed)).map((f) => ({
        label: f.field,
        kind: CompletionItemKind.Field,
        documentation: f.doc,
        textEdit: { range: replace(context.typed), newText: f.field },
      }));
    default:
      return [];
  }
});

connection.onCodeLens(async ({ textDocument }): Promise<CodeLens[]> => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return [];
  const file = fileURLToPath(textDocument.uri);
  const verdicts: ProgramVerdict[] = lastChecks.get(file)?.programs ?? [];
  let runStats: ProgramRunStats[] = [];
  try {
    runStats = await connection.sendRequest<ProgramRunStats[]>(RunStatsRequest, {
      source: file,
    } satisfies RunStatsParams);
  } catch {
    // No helper: verdicts only.
  }
  const functions = findSecFunctions(doc.getText());
  const range = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 0 } });
  return [
    ...lensTexts(functions, verdicts, runStats, headChecks.get(file)).map((lens) => ({
      range: range(lens.line),
      command: { title: lens.title, command: 'ebpf.showVerifierLog', arguments: [textDocument.uri, lens.program] },
    })),
    ...debugPathLenses(functions).map((lens) => ({
      range: range(lens.line),
      command: { title: lens.title, command: 'ebpf.debugVerifier', arguments: [textDocument.uri, lens.program] },
    })),
  ];
});

connection.onCodeAction(({ textDocument, context }) => {
  const doc = documents.get(textDocument.uri);
  return doc ? legacyMapActions(textDocument.uri, doc.getText(), context.diagnostics) : [];
});

connection.onNotification(KernelChangedNotification, () => {
  if (codeLensRefresh) void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
});

documents.listen(connection);
connection.listen();
