// eBPF: Unload… (ebpf.unload) and eBPF: Pin (ebpf.pin) on eBPF Studio's own loads (extension host).
import * as vscode from 'vscode';
import type { Cmd, Ctx } from '../../ctx';
import type { HelperClient } from '../../client/client';
import { LoadedSummary, Methods } from '../../../protocol/methods';
import { loadIdOf } from './plan';

/** Own loads to act on: the one given (tree menu) or one the user picks. Never other programs. */
async function pickLoad(
  helper: HelperClient,
  arg: unknown,
  verb: string,
  filter: (l: LoadedSummary) => boolean,
): Promise<LoadedSummary | undefined> {
  const loaded = (await helper.request(Methods.listLoaded)).filter(filter);
  const id = loadIdOf(arg);
  if (id) {
    const found = loaded.find((l) => l.loadId === id);
    if (!found)
      void vscode.window.showWarningMessage(`eBPF Studio holds no load "${id}" to ${verb.toLowerCase()} any more.`);
    return found;
  }
  if (loaded.length === 0) {
    void vscode.window.showInformationMessage(`eBPF Studio has nothing loaded to ${verb.toLowerCase()}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    loaded.map((l) => ({
      label: l.name,
      description: `${l.programs.filter((p) => p.loaded).length} programs${l.pinned ? ' · pinned' : ''}`,
      detail: l.path,
      load: l,
    })),
    { title: `eBPF: ${verb}`, placeHolder: `What eBPF Studio loaded: pick one to ${verb.toLowerCase()}` },
  );
  return pick?.load;
}

/** ebpf.unload: only what eBPF Studio loaded (listLoaded), optionally given by load id or tree node. */
export function unload(ctx: Ctx, helper: HelperClient): Cmd {
  return async (arg?: unknown) => {
    const target = await pickLoad(helper, arg, 'Unload', () => true);
    if (!target) return;
    await helper.request(Methods.unload, { loadId: target.loadId });
    ctx.kernelStateChanged();
    void vscode.window.showInformationMessage(
      `Unloaded ${target.name}${target.pinned ? ' and removed its pins' : ''}.`,
    );
  };
}

/** ebpf.pin: pins one of eBPF Studio's loads under bpffs, so it outlives the helper. */
export function pin(ctx: Ctx, helper: HelperClient): Cmd {
  return async (arg?: unknown) => {
    const target = await pickLoad(helper, arg, 'Pin', (l) => !l.pinned || loadIdOf(arg) === l.loadId);
    if (!target) return;
    if (target.pinned) {
      void vscode.window.showInformationMessage(`${target.name} is already pinned.`);
      return;
    }
    const pinned = await helper.request(Methods.pin, { loadId: target.loadId });
    ctx.kernelStateChanged();
    void vscode.window.showInformationMessage(
      `Pinned ${pinned.name} under ${helper.info.bpffsPrefix}: it stays loaded when the helper or VS Code stops.`,
    );
  };
}
