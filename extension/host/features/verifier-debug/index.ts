// eBPF: Debug Verifier Path (ebpf.debugVerifier) and the `ebpf-verifier` debug type: builds the source, has
// the helper verify one program with log level 2 (every state, never truncated) and replays that log in
// the debug adapter of extension/debug-adapter/, run inline. While a session is stopped, the registers each
// line on the path left behind show as inline values (ebpfStudio.debugger.inlineValues).
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DEBUG_TYPE,
  type ObtainedLog,
  VerifierDebugSession,
  type VerifierLaunchArgs,
} from '../../../debug-adapter/session';
import type { LineSummary } from '../../../debug-adapter/walk';
import { findSecFunctions } from '../../../language-server/lenses';
import { Methods } from '../../../protocol/methods';
import { HelperError } from '../../../protocol/errors';
import type { HelperClient } from '../../client/client';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { checkNow } from '../language-client';

/**
 * The level-2 log of one program: a verify-only load answers a rejection with its log; an accepted
 * program's log needs a load that keeps it (unattached) until object/verifierLog has read it.
 */
export async function levelTwoLog(helper: HelperClient, objectPath: string, source: string, program: string) {
  try {
    await helper.request(Methods.load, {
      path: objectPath,
      programs: [program],
      verifyOnly: true,
      logLevel: 2,
      source,
    });
  } catch (error) {
    if (error instanceof HelperError && error.data.kind === 'VerifierRejected')
      return { log: error.data.log, verdict: 'rejected' } satisfies ObtainedLog;
    throw error;
  }
  const load = await helper.request(Methods.load, {
    path: objectPath,
    programs: [program],
    attach: { [program]: { kind: 'none' } },
    logLevel: 2,
    source,
  });
  try {
    const log = (await helper.request(Methods.verifierLog, { loadId: load.loadId, program })).log;
    return { log, verdict: 'accepted' } satisfies ObtainedLog;
  } finally {
    await helper.request(Methods.unload, { loadId: load.loadId });
  }
}

async function obtainLog(ctx: Ctx, args: VerifierLaunchArgs): Promise<ObtainedLog> {
  if (!args.source || !args.program)
    throw new Error('An ebpf-verifier launch needs "source" (a *.bpf.c) and "program".');
  const helper = ctx.helper;
  if (!helper) throw new Error('Debugging the verifier needs the eBPF Studio helper, which is not running.');
  const built = await checkNow(vscode.Uri.file(args.source));
  if (!built?.built || !built.objectPath)
    throw new Error(`${path.basename(args.source)} did not build: see the Problems view.`);
  const obtained = await levelTwoLog(helper, built.objectPath, args.source, args.program);
  ctx.log.info(
    `Verifier log of ${args.program} for debugging: ${obtained.log.length} characters (${obtained.verdict}).`,
  );
  return obtained;
}

/** Which program of a source to debug: the one asked for, the only one, or the user's pick. */
async function pickProgram(source: string, program?: string): Promise<string | undefined> {
  if (program) return program;
  const doc = await vscode.workspace.openTextDocument(source);
  const names = findSecFunctions(doc.getText()).map((f) => f.name);
  if (names.length <= 1) return names[0];
  return vscode.window.showQuickPick(names, { placeHolder: 'Debug the verifier on which program?' });
}

/** eBPF: Debug Verifier Path [uri, program]: from the palette, the "Debug path" lens, or a code action. */
export function debugVerifier(ctx: Ctx) {
  return async (uriArg?: string | vscode.Uri, programArg?: string): Promise<void> => {
    const uri =
      typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : (uriArg ?? vscode.window.activeTextEditor?.document.uri);
    if (!uri || !uri.fsPath.endsWith('.bpf.c')) {
      void vscode.window.showInformationMessage('eBPF: Debug Verifier Path works on a *.bpf.c file: open one first.');
      return;
    }
    const program = await pickProgram(uri.fsPath, programArg);
    if (!program) return;
    const configuration: vscode.DebugConfiguration & VerifierLaunchArgs = {
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Verifier path of ${program}`,
      source: uri.fsPath,
      program,
    };
    ctx.log.info(`Debugging the verifier's path of ${program} in ${path.basename(uri.fsPath)}.`);
    await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(uri), configuration);
  };
}

/** The registers each line left behind, at the end of the line, while an ebpf-verifier session is stopped. */
class InlineValues implements vscode.InlineValuesProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeInlineValues = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  async provideInlineValues(document: vscode.TextDocument, viewPort: vscode.Range): Promise<vscode.InlineValue[]> {
    const session = vscode.debug.activeDebugSession;
    if (!config.debuggerInlineValues() || session?.type !== DEBUG_TYPE) return [];
    const answer = (await session.customRequest('inlineValues')) as { lines: LineSummary[] };
    return answer.lines
      .filter((l) => l.file === document.uri.fsPath && l.registers.length > 0)
      .filter((l) => l.line - 1 >= viewPort.start.line && l.line - 1 <= viewPort.end.line)
      .map((l) => {
        const end = document.lineAt(l.line - 1).range.end;
        const text = l.registers.map((r) => `${r.name}=${shorten(r.text)}`).join('  ');
        return new vscode.InlineValueText(new vscode.Range(end, end), text);
      });
  }
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function activate(ctx: Ctx): void {
  const inlineValues = new InlineValues();
  ctx.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: () =>
        new vscode.DebugAdapterInlineImplementation(new VerifierDebugSession((args) => obtainLog(ctx, args))),
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      // F5 with no launch.json, or one missing its source/program: the active *.bpf.c and its program.
      async resolveDebugConfiguration(_folder, configuration: vscode.DebugConfiguration & VerifierLaunchArgs) {
        if (!configuration.type) {
          configuration.type = DEBUG_TYPE;
          configuration.request = 'launch';
          configuration.name = 'Debug the verifier path';
        }
        if (!configuration.logFile) {
          configuration.source ??= vscode.window.activeTextEditor?.document.uri.fsPath;
          if (!configuration.source?.endsWith('.bpf.c')) {
            void vscode.window.showInformationMessage('Open the *.bpf.c whose verifier path you want to debug.');
            return undefined;
          }
          configuration.program = await pickProgram(configuration.source, configuration.program);
          if (!configuration.program) return undefined;
        }
        return configuration;
      },
    }),
    vscode.languages.registerInlineValuesProvider({ scheme: 'file', pattern: '**/*.bpf.c' }, inlineValues),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (config.affects(e, 'debugger.inlineValues')) inlineValues.refresh();
    }),
  );
}
