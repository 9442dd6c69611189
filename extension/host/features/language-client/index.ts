// Starts the BPF C language server (dist/server.js) for *.bpf.c and answers what it asks of the extension
// host: verification (ebpf/verify) and run statistics (ebpf/runStats) go through ctx's one helper. Commands:
// ebpf.build (build + verify the active file now).
import * as path from 'path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { verifyObject, VerifyOutcome } from '../../../toolchain/verify';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { runStatsOfLoads } from '../../run-stats';
import { trustPolicy } from '../../helper-state';
import {
  BuildSettings,
  CheckRequest,
  CheckResponse,
  KernelChangedNotification,
  RunStatsParams,
  RunStatsRequest,
  SettingsNotification,
  VerifyParams,
  VerifyRequest,
} from '../../../language-server/lsp-ext';
import { resolveIncludeDirs } from '../build/options';
import { rememberVerification } from '../verifier-log';

let client: LanguageClient | undefined;

function buildSettings(): BuildSettings {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return {
    clangPath: config.clangPath(),
    includeDirs: resolveIncludeDirs(config.buildIncludeDirs(), folder, folder ?? process.cwd()),
    defines: config.buildDefines(),
    onSave: config.buildOnSave(),
  };
}

async function verify(ctx: Ctx, params: VerifyParams): Promise<VerifyOutcome> {
  const helper = ctx.helper;
  if (!helper) {
    const state = ctx.helperState;
    const reason = state.status === 'stopped' ? state.reason : 'it is still starting';
    return {
      unavailable: `the eBPF Studio helper, which loads programs into the kernel's verifier, is not running (${reason})`,
    };
  }
  const outcome = await verifyObject(helper, params.objectPath, params.source, params.includeDirs);
  rememberVerification(params.source, params.objectPath, outcome.programs);
  return outcome;
}

/** Builds and verifies a source now through the language server; resolves once its diagnostics are out. */
export async function checkNow(uri: vscode.Uri): Promise<CheckResponse | undefined> {
  return client?.sendRequest<CheckResponse>(CheckRequest, { uri: uri.toString() });
}

export function buildActiveFile(): () => Promise<void> {
  return async () => {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || !doc.fileName.endsWith('.bpf.c')) {
      void vscode.window.showInformationMessage('eBPF: Build and Verify works on a *.bpf.c file: open one first.');
      return;
    }
    if (doc.isDirty) await doc.save();
    const trust = trustPolicy(vscode.workspace.isTrusted);
    if (!trust.runClang) throw new Error(`Not built: ${trust.reason}.`);
    if (!client) throw new Error('The BPF language server is not running; see the eBPF Studio log.');
    await checkNow(doc.uri);
  };
}

export function activate(ctx: Ctx): void {
  const serverModule = path.join(ctx.extension.extensionPath, 'dist', 'server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6010'] },
    },
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{c,h}');
  ctx.push(watcher);
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', pattern: '**/*.bpf.c' }],
    initializationOptions: buildSettings(),
    outputChannel: ctx.log,
    // Changes on disk (git checkout, another editor) reach the server, which re-checks the sources whose
    // last verdict read the changed file: the source itself or a header it includes.
    synchronize: { fileEvents: watcher },
  };
  client = new LanguageClient('ebpf.languageServer', 'eBPF Studio BPF language server', serverOptions, clientOptions);
  const started = client;
  started.onRequest(VerifyRequest, (params: VerifyParams) => verify(ctx, params));
  started.onRequest(RunStatsRequest, (params: RunStatsParams) =>
    runStatsOfLoads(ctx, (l) => l.source === params.source),
  );
  ctx.push(
    { dispose: () => void started.stop().catch(() => undefined) },
    ctx.onDidChangeKernelState(() => void started.sendNotification(KernelChangedNotification, {})),
    ctx.onDidChangeHelper((state) => {
      // Sources checked while the helper was down said "not verified": check them again now.
      if (state.status !== 'running') return;
      for (const doc of vscode.workspace.textDocuments)
        if (doc.uri.scheme === 'file' && doc.fileName.endsWith('.bpf.c')) void checkNow(doc.uri);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (config.affects(e, 'clangPath', 'build.includeDirs', 'build.defines', 'build.onSave'))
        void started.sendNotification(SettingsNotification, buildSettings());
    }),
  );
  started.start().catch((error) => ctx.log.error(`The BPF language server did not start: ${(error as Error).message}`));
}
