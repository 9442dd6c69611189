// Converts what the helper reports (listLoaded, kernel/programs, kernel/links) into the Programs view's
// nodes: "Loaded here" (eBPF Studio's own loads) above "Other programs on this system". Pure.
import type { LoadedSummary, ProgramReport } from '../../../protocol/methods';
import type { LinkInfo, ProgramInfo } from '../../../protocol/types';
import { ContextValues, ViewNode } from '../../ui/node';

/** Wire data of one refresh. */
export interface ProgramsSnapshot {
  loaded: LoadedSummary[];
  programs: ProgramInfo[];
  links: LinkInfo[];
  /** Processes holding each program (kernel/owners), when known. */
  owners?: Record<number, { pid: number; comm: string }[]>;
  /** Run statistics since the previous refresh, while statistics are on. */
  stats?: Map<number, RunStats>;
  /** How long the interval behind `stats` was. */
  statsIntervalMs?: number;
}

/** What a program cost between two refreshes (BPF_ENABLE_STATS must be on for the kernel to count). */
export interface RunStats {
  runs: number;
  avgNs: number;
  /** Share of one CPU spent in the program over the interval, in percent. */
  cpuPercent: number;
  totalRuns: number;
}

/** Run counts and times over the interval between two listings of kernel/programs. */
export function runStats(
  previous: ProgramInfo[] | undefined,
  current: ProgramInfo[],
  elapsedMs: number,
): Map<number, RunStats> {
  const before = new Map((previous ?? []).map((p) => [p.id, p]));
  const out = new Map<number, RunStats>();
  for (const p of current) {
    const b = before.get(p.id);
    const runs = b ? p.runCount - b.runCount : p.runCount;
    const ns = b ? p.runTimeNs - b.runTimeNs : p.runTimeNs;
    out.set(p.id, {
      runs,
      avgNs: runs > 0 ? Math.round(ns / runs) : p.runCount > 0 ? Math.round(p.runTimeNs / p.runCount) : 0,
      cpuPercent: b && elapsedMs > 0 ? (ns / (elapsedMs * 1e6)) * 100 : 0,
      totalRuns: p.runCount,
    });
  }
  return out;
}

/** " · 1,204 runs/s · 312 ns · 0.04% CPU". */
export function statsText(s: RunStats | undefined, elapsedMs: number): string {
  if (!s) return '';
  const rate = elapsedMs > 0 ? Math.round((s.runs * 1000) / elapsedMs) : s.runs;
  return ` · ${rate.toLocaleString('en-US')} runs/s · ${s.avgNs} ns · ${s.cpuPercent.toFixed(2)}% CPU`;
}

function ownersText(owners: { pid: number; comm: string }[] | undefined): string {
  return owners && owners.length > 0 ? `\nHeld by ${owners.map((o) => `${o.comm} (pid ${o.pid})`).join(', ')}` : '';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function ownProgramNode(load: LoadedSummary, p: ProgramReport, s: ProgramsSnapshot, info?: ProgramInfo): ViewNode {
  const where = !p.loaded ? 'not loaded' : p.attachment ? p.attachment.description : 'not attached';
  const stats =
    p.stats.insnsProcessed !== undefined ? `\nVerifier: ${p.stats.insnsProcessed} instructions processed` : '';
  const attach = p.attachment
    ? `\nAttached: ${p.attachment.kind} ${p.attachment.description}${p.attachment.linkId ? ` (link ${p.attachment.linkId})` : ''}`
    : p.attachNote
      ? `\n${p.loaded ? 'Not attached' : 'Not loaded'}: ${p.attachNote.replace(/^loaded, not attached: /, '')}`
      : '';
  return {
    id: `load:${load.loadId}:prog:${p.name}`,
    label: p.name,
    description:
      (p.loaded ? `${p.type} · id ${p.id} · ${where}` : `${p.type} · ${where}`) +
      statsText(s.stats?.get(p.id), s.statsIntervalMs ?? 0),
    tooltip:
      `${p.name} (${p.type}), section "${p.section}"${p.loaded ? `, id ${p.id}` : ''}${attach}${stats}` +
      (info ? `\nTag ${info.tag}` : '') +
      (load.source ? `\nSource: ${load.source}` : '') +
      ownersText(s.owners?.[p.id]) +
      runsTooltip(s.stats?.get(p.id)),
    icon: p.loaded ? (p.attachment ? 'symbol-event' : 'debug-disconnect') : 'circle-slash',
    contextValue: ContextValues.ownProgram,
    loadId: load.loadId,
    progId: p.loaded ? p.id : undefined,
  };
}

function ownMapNode(load: LoadedSummary, m: LoadedSummary['maps'][number]): ViewNode {
  return {
    id: `load:${load.loadId}:map:${m.name}`,
    label: m.name,
    description: `${m.type} map · id ${m.id}${m.internal ? ' · globals' : ''}`,
    tooltip: `Map ${m.name} (${m.type}), id ${m.id}${m.internal ? "\nHolds the object's global variables." : ''}`,
    icon: m.internal ? 'symbol-variable' : 'database',
    contextValue: ContextValues.ownMap,
    loadId: load.loadId,
    mapId: m.id,
  };
}

function runsTooltip(r: RunStats | undefined): string {
  return r
    ? `\nRuns: ${r.totalRuns} in total, ${r.avgNs} ns each on average, ${r.cpuPercent.toFixed(2)}% of a CPU lately`
    : '';
}

export function loadNode(
  load: LoadedSummary,
  formatTime: (ms: number) => string = (ms) => new Date(ms).toLocaleString(),
  s: ProgramsSnapshot = { loaded: [], programs: [], links: [] },
): ViewNode {
  const infos = new Map(s.programs.map((p) => [p.id, p]));
  const loaded = load.programs.filter((p) => p.loaded).length;
  return {
    id: `load:${load.loadId}`,
    label: load.name,
    description: `${plural(loaded, 'program')}${load.pinned ? ' · pinned' : ''}`,
    tooltip:
      // A load the helper re-discovered from its pins after a restart knows neither path nor source.
      (load.path ? `Loaded by eBPF Studio from ${load.path}` : `Loaded by eBPF Studio, found again from its pins`) +
      (load.source ? `\nSource: ${load.source}` : '') +
      (load.loadedAt > 0 ? `\nLoaded ${formatTime(load.loadedAt)}` : '') +
      (load.pinned ? '\nPinned: survives a helper restart' : '\nNot pinned: unloaded when the helper stops'),
    icon: load.pinned ? 'pinned' : 'package',
    contextValue: load.pinned ? ContextValues.ownLoadPinned : ContextValues.ownLoad,
    expanded: true,
    loadId: load.loadId,
    children: [
      ...load.programs.map((p) => ownProgramNode(load, p, s, infos.get(p.id))),
      ...load.maps.map((m) => ownMapNode(load, m)),
    ],
  };
}

function linkNode(link: LinkInfo): ViewNode {
  return {
    id: `link:${link.id}`,
    label: link.target || `link ${link.id}`,
    description: `${link.type} · link ${link.id}`,
    tooltip:
      `Link ${link.id} (${link.type})${link.attachType ? `, attach type ${link.attachType}` : ''}` +
      (link.target ? `\nTarget: ${link.target}` : ''),
    icon: 'link',
  };
}

export function otherProgramNode(
  p: ProgramInfo,
  links: LinkInfo[],
  s: Pick<ProgramsSnapshot, 'owners' | 'stats' | 'statsIntervalMs'> = {},
  formatTime: (ms: number) => string = (ms) => new Date(ms).toLocaleString(),
  bootToEpochMs?: (ns: number) => number,
): ViewNode {
  const own = links.filter((l) => l.progId === p.id);
  const runs =
    p.runCount > 0 ? `\nRuns: ${p.runCount}, ${Math.round(p.runTimeNs / p.runCount)} ns each on average` : '';
  return {
    id: `prog:${p.id}`,
    label: p.name || `(unnamed ${p.id})`,
    description:
      `${p.type} · id ${p.id}${own.length > 0 ? ` · ${own.map((l) => l.target || l.type).join(', ')}` : ''}` +
      statsText(s.stats?.get(p.id), s.statsIntervalMs ?? 0),
    tooltip:
      `${p.name || '(unnamed)'} (${p.type}), id ${p.id}\nTag ${p.tag}\nLoaded by uid ${p.uid}` +
      (bootToEpochMs && p.loadTimeNs ? ` at ${formatTime(bootToEpochMs(p.loadTimeNs))}` : '') +
      `\n${p.verifiedInsns} verified instructions, ${p.jitedBytes} bytes JITed` +
      (p.mapIds.length > 0 ? `\nMaps: ${p.mapIds.join(', ')}` : '') +
      ownersText(s.owners?.[p.id]) +
      (s.stats ? runsTooltip(s.stats.get(p.id)) : runs),
    icon: 'symbol-event',
    contextValue: ContextValues.program,
    progId: p.id,
    expanded: false,
    children: own.length > 0 ? own.map(linkNode) : undefined,
  };
}

/** The two groups of the Programs view. */
export function programsTree(
  s: ProgramsSnapshot,
  formatTime?: (ms: number) => string,
  bootToEpochMs?: (ns: number) => number,
): ViewNode[] {
  const ownIds = new Set(s.loaded.flatMap((l) => l.programs.filter((p) => p.loaded).map((p) => p.id)));
  const others = s.programs.filter((p) => !ownIds.has(p.id)).sort((a, b) => a.id - b.id);
  const own: ViewNode[] =
    s.loaded.length > 0
      ? [...s.loaded].sort((a, b) => a.loadedAt - b.loadedAt).map((l) => loadNode(l, formatTime, s))
      : [
          {
            id: 'own:empty',
            label: 'nothing loaded yet — eBPF: Load Program…',
            icon: 'add',
            command: { command: 'ebpf.loadProgram', title: 'Load Program…' },
          },
        ];
  return [
    {
      id: 'group:own',
      label: 'Loaded here',
      description: plural(s.loaded.length, 'object'),
      icon: 'home',
      contextValue: ContextValues.group,
      expanded: true,
      children: own,
    },
    {
      id: 'group:others',
      label: 'Other programs on this system',
      description: plural(others.length, 'program'),
      icon: 'server',
      contextValue: ContextValues.group,
      expanded: false,
      children: others.map((p) => otherProgramNode(p, s.links, s, formatTime, bootToEpochMs)),
    },
  ];
}
