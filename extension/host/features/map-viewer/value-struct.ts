// The map viewer's struct pick, run in the extension host: for a map without value BTF, offers the structs of the
// value's size from the BTF of the workspace's .bpf.o files and of eBPF Studio's loads, to decode values with.
import * as vscode from 'vscode';
import type { BtfType } from '../../../protocol/types';
import type { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { MapSource } from '../maps/source';

/** The panel's running helper and current map. */
export interface StructPickSource {
  readonly helper: HelperClient;
  readonly source: MapSource;
}

/** The struct picked (`type` undefined if it left the object meanwhile); undefined when none is picked. */
export async function pickValueStruct(from: StructPickSource): Promise<{ type: BtfType | undefined } | undefined> {
  const size = from.source.info.valueSize;
  const loads = await from.helper.request(Methods.listLoaded);
  const files = new Set<string>(loads.map((l) => l.path).filter(Boolean));
  for (const uri of await vscode.workspace.findFiles('**/*.bpf.o', '**/node_modules/**', 200)) files.add(uri.fsPath);
  const choices: { label: string; description: string; file: string }[] = [];
  for (const file of files) {
    const structs = await from.helper
      .request(Methods.structTypes, { path: file })
      .catch(() => ({}) as Record<string, never>);
    for (const [name, type] of Object.entries(structs)) {
      if (type.kind !== 'void' && type.size === size)
        choices.push({ label: `struct ${name}`, description: vscode.workspace.asRelativePath(file), file });
    }
  }
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(
      `No struct of ${size} bytes in the BTF of the workspace's .bpf.o files or of eBPF Studio's loads.`,
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(choices, {
    title: `Decode the ${size}-byte values of ${from.source.info.name} as…`,
  });
  if (!pick) return undefined;
  const structs = await from.helper.request(Methods.structTypes, { path: pick.file });
  return { type: structs[pick.label.replace(/^struct /, '')] };
}
