// What a right-click on a map offers besides Open, Stream and Plot: eBPF: Export Map… (ebpf.exportMap, the
// whole map as JSON or CSV), eBPF: Show Programs Using Map (ebpf.showMapUsers) and, on maps of eBPF
// Studio's loads, eBPF: Pin (the load the map belongs to, without asking which).
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { ViewNode } from '../../ui/node';
import { exportCsv, exportJson, MapSource } from './source';
import { mapUsers } from './model';

/** The map a command acts on: the tree node's, an id, or one the user picks. */
async function mapIdOf(helper: HelperClient, arg: ViewNode | number | undefined, title: string) {
  const id = typeof arg === 'number' ? arg : arg?.mapId;
  if (id !== undefined) return id;
  const maps = await helper.request(Methods.maps);
  const pick = await vscode.window.showQuickPick(
    maps.map((m) => ({ label: m.name || `(unnamed ${m.id})`, description: `${m.type} · id ${m.id}`, id: m.id })),
    { title, placeHolder: 'Pick a map' },
  );
  return pick?.id;
}

/** ebpf.exportMap */
export function exportMap(ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    const mapId = await mapIdOf(helper, arg, 'eBPF: Export Map…');
    if (mapId === undefined) return;
    const source = await MapSource.open(helper, mapId);
    const name = source.info.name || `map ${mapId}`;
    if (source.undumpable) {
      void vscode.window.showInformationMessage(`${name} cannot be exported: ${source.undumpable}`);
      return;
    }
    const format = await vscode.window.showQuickPick(
      [
        { label: 'JSON', description: 'keys and values decoded with the map’s BTF', format: 'json' as const },
        { label: 'CSV', description: 'one row per entry (per CPU for per-CPU maps)', format: 'csv' as const },
      ],
      { title: `Export ${name} as…` },
    );
    if (!format) return;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const file = `${name.replace(/[^\w.-]/g, '_')}.${format.format}`;
    const target = await vscode.window.showSaveDialog({
      title: `Export ${name} as ${format.label}`,
      defaultUri: folder ? vscode.Uri.joinPath(folder, file) : undefined,
      filters: format.format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
    });
    if (!target) return;
    const entries = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${name}…` },
      async () => {
        const pages = await source.readAll();
        const text = format.format === 'json' ? exportJson(source, pages) : exportCsv(source, pages);
        await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
        return pages.reduce((n, p) => n + p.count, 0);
      },
    );
    ctx.log.info(`Exported ${entries} entries of ${name} to ${target.fsPath}`);
    void vscode.window.showInformationMessage(
      `Exported ${entries.toLocaleString('en-US')} entries of ${name} to ${vscode.workspace.asRelativePath(target)}.`,
    );
  };
}

/** ebpf.showMapUsers: the programs whose map list names this map; picking one shows its instructions. */
export function showMapUsers(_ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    const mapId = await mapIdOf(helper, arg, 'eBPF: Show Programs Using Map');
    if (mapId === undefined) return;
    const [maps, programs] = await Promise.all([helper.request(Methods.maps), helper.request(Methods.programs)]);
    const name = maps.find((m) => m.id === mapId)?.name || `map ${mapId}`;
    const users = programs.filter((p) => p.mapIds.includes(mapId));
    if (users.length === 0) {
      void vscode.window.showInformationMessage(`No program uses ${name} (id ${mapId}).`);
      return;
    }
    const pick = await vscode.window.showQuickPick(
      users.map((p) => ({
        label: p.name || `(unnamed ${p.id})`,
        description: `${p.type} · id ${p.id}`,
        detail: `Also uses: ${
          p.mapIds
            .filter((id) => id !== mapId)
            .map((id) => maps.find((m) => m.id === id)?.name || `map ${id}`)
            .join(', ') || 'no other map'
        }`,
        progId: p.id,
      })),
      {
        title: `Programs using ${name}: ${mapUsers(users).get(mapId)?.length ?? users.length}`,
        placeHolder: 'Pick one to see its instructions',
      },
    );
    if (pick) await vscode.commands.executeCommand('ebpf.showInstructions', pick.progId);
  };
}
