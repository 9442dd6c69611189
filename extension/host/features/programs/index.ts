// The "Programs" view (ebpf.programs) in the eBPF activity-bar container: what eBPF Studio loaded, then
// every other program on the system, with attach points, owner processes and (with statistics on) run
// counts, ns per run and CPU%. Commands: ebpf.revealMaps, ebpf.openSource. Refreshes on ebpf.refresh,
// kernel/helper changes and a timer while visible.
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import { config } from '../../config';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { ProgramInfo } from '../../../protocol/types';
import { ViewNode } from '../../ui/node';
import { programsTree, runStats } from './model';
import { fetchNodes, NodeTree, refreshOnChanges } from '../../ui/tree';
import { onDidChangeStats, statsEnabled } from './stats';

/**
 * Converts the kernel's CLOCK_BOOTTIME load times into wall-clock milliseconds. The boot time is read
 * once per refresh, not once per program.
 */
function bootClockToEpochMs(): (ns: number) => number {
  let uptimeMs: number;
  try {
    // os.uptime() has whole seconds only; /proc/uptime has centiseconds.
    uptimeMs = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  } catch {
    uptimeMs = os.uptime() * 1000;
  }
  const bootedAtMs = Date.now() - uptimeMs;
  return (ns) => Math.round(bootedAtMs + ns / 1e6);
}

export function activate(ctx: Ctx): NodeTree {
  let previous: { at: number; programs: ProgramInfo[] } | undefined;
  const tree = new NodeTree(
    'ebpf.programs',
    () =>
      fetchNodes(ctx, async (helper) => {
        const [loaded, programs, links, owners] = await Promise.all([
          helper.request(Methods.listLoaded),
          helper.request(Methods.programs),
          // Links need kernel 5.8; without them programs simply show no attach points.
          helper.request(Methods.links).catch(() => []),
          helper.request(Methods.owners).catch(() => undefined),
        ]);
        const now = Date.now();
        const statsIntervalMs = previous ? now - previous.at : 0;
        const stats = statsEnabled() ? runStats(previous?.programs, programs, statsIntervalMs) : undefined;
        previous = { at: now, programs };
        return programsTree(
          { loaded, programs, links, owners: owners?.programs, stats, statsIntervalMs },
          undefined,
          bootClockToEpochMs(),
        );
      }),
    () => (statsEnabled() ? Math.min(1000, config.programsRefreshIntervalMs()) : config.programsRefreshIntervalMs()),
  );
  refreshOnChanges(ctx, tree);
  ctx.push(onDidChangeStats(() => tree.refresh()));
  return tree;
}

/** ebpf.revealMaps: shows a program's maps in the Maps view. */
export function revealMaps(_ctx: Ctx, helper: HelperClient) {
  return async (node?: ViewNode) => {
    if (node?.progId === undefined) return;
    const program = (await helper.request(Methods.programs)).find((p) => p.id === node.progId);
    if (!program) throw new Error(`Program ${node.progId} is no longer loaded.`);
    if (program.mapIds.length === 0) {
      void vscode.window.showInformationMessage(`${program.name} uses no maps.`);
      return;
    }
    const maps = (await helper.request(Methods.maps)).filter((m) => program.mapIds.includes(m.id));
    const pick = await vscode.window.showQuickPick(
      maps.map((m) => ({ label: m.name || `(unnamed ${m.id})`, description: `${m.type} · id ${m.id}`, id: m.id })),
      { title: `Maps of ${program.name}`, placeHolder: 'Open a map in the viewer' },
    );
    if (pick) await vscode.commands.executeCommand('ebpf.openMap', pick.id);
  };
}

/** ebpf.openSource: opens the C file a load of eBPF Studio was built from. */
export function openSource(_ctx: Ctx, helper: HelperClient) {
  return async (node?: ViewNode) => {
    const load = (await helper.request(Methods.listLoaded)).find((l) => l.loadId === node?.loadId);
    const file = load?.source ?? (load?.path.endsWith('.c') ? load.path : undefined);
    if (!file) {
      void vscode.window.showInformationMessage(
        'eBPF Studio does not know the source of this program (it was loaded from an object file, or found again from its pins).',
      );
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file));
  };
}
