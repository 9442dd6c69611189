// eBPF: Show Verifier Log (ebpf.showVerifierLog): the full verifier log of a program of the last check, never
// truncated, in a read-only editor with the bpf-verifier-log grammar, and `@ file:LINE` linked to sources.
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProgramVerdict } from '../../../toolchain/verify';
import { resolvedSourceLinks } from '../../../toolchain/source-links';
import { verifierLogHeader } from '../../../formats/verifier-log-links';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { ReadOnlyDocuments } from '../../ui/read-only-documents';
import { verdictPickTitle, verdictPicks } from './picks';

export const LANGUAGE_ID = 'bpf-verifier-log';

/** The last verification of each source (by absolute path), as the language server asked for it. */
const verifications = new Map<string, { objectPath: string; programs: ProgramVerdict[] }>();
const documents = new ReadOnlyDocuments(
  'ebpf-verifier-log',
  LANGUAGE_ID,
  '; this log is gone: run eBPF: Show Verifier Log again\n',
);

/** The verdicts of the last check of a source (absolute path), for the verifier's code actions. */
export function lastVerdicts(source: string): ProgramVerdict[] {
  return verifications.get(source)?.programs ?? [];
}

export function rememberVerification(source: string, objectPath: string, programs: ProgramVerdict[]): void {
  verifications.set(source, { objectPath, programs });
}

/**
 * A verified program's log is not kept by a verify-only load (statistics only, to stay fast): load it
 * once more with log level 1, unattached, read the log, and unload.
 */
async function fullLogOfVerified(
  helper: HelperClient,
  objectPath: string,
  source: string,
  program: string,
): Promise<string> {
  const load = await helper.request(Methods.load, {
    path: objectPath,
    programs: [program],
    attach: { [program]: { kind: 'none' } },
    logLevel: 1,
    source,
  });
  try {
    return (await helper.request(Methods.verifierLog, { loadId: load.loadId, program })).log;
  } finally {
    await helper.request(Methods.unload, { loadId: load.loadId });
  }
}

/**
 * Shows a verifier log in the one read-only log view: the grammar, and `@ file:LINE` linked to the source.
 * Used by Show Verifier Log and by a load the verifier rejected.
 */
export async function openVerifierLog(
  program: string,
  source: string,
  status: ProgramVerdict['status'],
  log: string,
): Promise<void> {
  await documents.show(`/${program}.verifier.log`, verifierLogHeader(program, source, status) + log, source);
}

/** Works without the helper for rejections (their log came with the error); a verified program's log needs it. */
export function showVerifierLog(ctx: Ctx) {
  return async (uriArg?: string | vscode.Uri, programArg?: string): Promise<void> => {
    const uri =
      typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : (uriArg ?? vscode.window.activeTextEditor?.document.uri);
    const source = uri?.fsPath;
    const checked = source ? verifications.get(source) : undefined;
    if (!source || !checked || checked.programs.length === 0) {
      void vscode.window.showInformationMessage(
        'No verifier result for this file yet: save a *.bpf.c (or run eBPF: Build and Verify) first.',
      );
      return;
    }
    let program = programArg;
    if (!program) {
      program =
        checked.programs.length === 1
          ? checked.programs[0].program
          : (
              await vscode.window.showQuickPick(verdictPicks(checked.programs), {
                title: verdictPickTitle(path.basename(source), checked.programs),
                placeHolder: 'Verifier log of which program?',
                matchOnDescription: true,
              })
            )?.program;
      if (!program) return;
    }
    const verdict = checked.programs.find((p) => p.program === program);
    if (!verdict) throw new Error(`${program} was not in the last check of ${path.basename(source)}.`);
    let log: string;
    if (verdict.status === 'rejected') log = verdict.log;
    else if (verdict.status === 'refused') log = `; ${verdict.message}\n`;
    else if (!ctx.helper)
      throw new Error(`The full log of the verified ${program} needs the eBPF Studio helper, which is not running.`);
    else
      log = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Verifier log of ${program}` },
        () => fullLogOfVerified(ctx.helper!, checked.objectPath, source, program!),
      );
    await openVerifierLog(program, source, verdict.status, log);
    ctx.log.info(`Verifier log of ${program}: ${log.length} characters.`);
  };
}

export function activate(ctx: Ctx): void {
  ctx.push(
    documents.register(),
    vscode.languages.registerDocumentLinkProvider([{ language: LANGUAGE_ID }, { language: 'bpf-disassembly' }], {
      provideDocumentLinks(doc) {
        return resolvedSourceLinks(doc.getText()).map((link) => {
          const target = vscode.Uri.file(link.file).with({ fragment: `L${link.line}` });
          return new vscode.DocumentLink(new vscode.Range(link.logLine, link.start, link.logLine, link.end), target);
        });
      },
    }),
  );
}
