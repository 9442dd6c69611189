// The map viewer's commands, run in the extension host: ebpf.openMap "eBPF: Open Map…" (also clicking a map in
// the Maps view) and ebpf.plotMap "eBPF: Plot Map…"; one panel per map (panel.ts), found again when reopened.
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { ViewNode } from '../../ui/node';
import { MapSource } from '../maps/source';
import { MapViewerPanel } from './panel';

const open = new Map<number, MapViewerPanel>();

/** ebpf.openMap: from a Maps view node, a map id, or a quick pick of every map. */
export function openMap(ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    await openViewer(ctx, helper, arg);
  };
}

/** ebpf.plotMap: opens the viewer and asks which entry and which numeric field to plot over time. */
export function plotMap(ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    const panel = await openViewer(ctx, helper, arg, 'eBPF: Plot Map…');
    await panel?.askPlot();
  };
}

async function openViewer(
  ctx: Ctx,
  helper: HelperClient,
  arg: ViewNode | number | undefined,
  title = 'eBPF: Open Map…',
): Promise<MapViewerPanel | undefined> {
  let mapId = typeof arg === 'number' ? arg : arg?.mapId;
  if (mapId === undefined) {
    const [maps, loaded] = await Promise.all([helper.request(Methods.maps), helper.request(Methods.listLoaded)]);
    const own = new Set(loaded.flatMap((l) => l.maps.map((m) => m.id)));
    const pick = await vscode.window.showQuickPick(
      [...maps]
        .sort((a, b) => Number(own.has(b.id)) - Number(own.has(a.id)) || a.id - b.id)
        .map((m) => ({
          label: m.name || `(unnamed ${m.id})`,
          description: `${m.type} · id ${m.id}${own.has(m.id) ? ' · loaded here' : ''}`,
          id: m.id,
        })),
      { title, placeHolder: 'Pick a map to view (type its name, type or id)', matchOnDescription: true },
    );
    if (!pick) return undefined;
    mapId = pick.id;
  }
  const existing = open.get(mapId);
  if (existing) {
    existing.reveal();
    return existing;
  }
  const source = await MapSource.open(helper, mapId);
  const panel = new MapViewerPanel(ctx, helper, source);
  const id = mapId;
  open.set(id, panel);
  panel.onDispose(() => open.delete(id));
  return panel;
}
