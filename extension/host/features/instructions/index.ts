// eBPF: Show Instructions (ebpf.showInstructions): a loaded program's translated and JITed instructions,
// interleaved with the source lines they came from, in a read-only editor (bpf-disassembly grammar; the
// `@ file:LINE` annotations link to the sources through verifier-log.ts's link provider).
import * as vscode from 'vscode';
import { renderInstructions } from '../../../formats/disasm-view';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { ReadOnlyDocuments } from '../../ui/read-only-documents';
import { sourceHeader } from '../../../toolchain/source-links';

export const LANGUAGE_ID = 'bpf-disassembly';
const documents = new ReadOnlyDocuments(
  'ebpf-instructions',
  LANGUAGE_ID,
  '# gone: run eBPF: Show Instructions again\n',
);

/** A program id from what the command was invoked with: a number, or a view item carrying `id`/`progId`. */
function programIdOf(arg: unknown): number | undefined {
  if (typeof arg === 'number') return arg;
  if (arg && typeof arg === 'object') {
    const o = arg as Record<string, unknown>;
    for (const key of ['progId', 'id']) if (typeof o[key] === 'number') return o[key] as number;
    if (o.program && typeof o.program === 'object') return programIdOf(o.program);
  }
  return undefined;
}

async function pickProgram(helper: HelperClient): Promise<number | undefined> {
  const own = await helper.request(Methods.listLoaded);
  const ownIds = new Set(own.flatMap((l) => l.programs.filter((p) => p.loaded).map((p) => p.id)));
  const programs = (await helper.request(Methods.programs)).sort(
    (a, b) => Number(ownIds.has(b.id)) - Number(ownIds.has(a.id)) || b.id - a.id,
  );
  if (programs.length === 0) {
    void vscode.window.showInformationMessage('No BPF programs are loaded: load one first (eBPF: Load Program…).');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    programs.map((p) => ({
      label: p.name || `(id ${p.id})`,
      description: `id ${p.id} · ${p.type}${ownIds.has(p.id) ? ' · loaded by eBPF Studio' : ''}`,
      id: p.id,
    })),
    { placeHolder: 'Show the instructions of which program?' },
  );
  return pick?.id;
}

export function showInstructions(ctx: Ctx, helper: HelperClient) {
  return async (arg?: unknown): Promise<void> => {
    const progId = programIdOf(arg) ?? (await pickProgram(helper));
    if (progId === undefined) return;
    const result = await helper.request(Methods.instructions, { progId });
    // A load of ours knows its source (or object): line info naming files relatively ("src/main.rs" of an
    // aya crate) then links to them, looked up from there.
    const load = (await helper.request(Methods.listLoaded)).find((l) => l.programs.some((p) => p.id === progId));
    const header = load ? sourceHeader(load.source ?? load.path) : '';
    await documents.show(`/${result.name || 'prog'}-${progId}.bpf-insns`, header + renderInstructions(result, progId));
    ctx.log.info(
      `Instructions of ${result.name} (id ${progId}): ${Buffer.from(result.xlated, 'base64').length / 8} xlated slots.`,
    );
  };
}

export function activate(ctx: Ctx): void {
  ctx.push(documents.register());
}
