// Converts what the helper reports (listLoaded, kernel/programs, kernel/links) into the Programs view's
// nodes: "Loaded here" (eBPF Studio's own loads) above "Other programs on this system". Pure.
import type { LoadedSummary, ProgramReport } from '../helper/protocol';
import type { LinkInfo, ProgramInfo } from '../../native/types';
import { ContextValues, ViewNode } from './node';

/** Wire data of one refresh. */
export interface ProgramsSnapshot {
  loaded: LoadedSummary[];
  programs: ProgramInfo[];
  links: LinkInfo[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function ownProgramNode(load: LoadedSummary, p: ProgramReport): ViewNode {
  const where = !p.loaded ? 'not loaded' : p.attachment ? p.attachment.description : 'not attached';
  const stats = p.stats.insnsProcessed !== undefined ? `\nVerifier: ${p.stats.insnsProcessed} instructions processed` : '';
  const attach = p.attachment
    ? `\nAttached: ${p.attachment.kind} ${p.attachment.description}${p.attachment.linkId ? ` (link ${p.attachment.linkId})` : ''}`
    : p.attachNote
      ? `\n${p.loaded ? 'Not attached' : 'Not loaded'}: ${p.attachNote.replace(/^loaded, not attached: /, '')}`
      : '';
  return {
    id: `load:${load.loadId}:prog:${p.name}`,
    label: p.name,
    description: p.loaded ? `${p.type} · id ${p.id} · ${where}` : `${p.type} · ${where}`,
    tooltip: `${p.name} (${p.type}), section "${p.section}"${p.loaded ? `, id ${p.id}` : ''}${attach}${stats}`,
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
    tooltip: `Map ${m.name} (${m.type}), id ${m.id}${m.internal ? '\nHolds the object\'s global variables.' : ''}`,
    icon: m.internal ? 'symbol-variable' : 'database',
    contextValue: ContextValues.ownMap,
    loadId: load.loadId,
    mapId: m.id,
  };
}

export function loadNode(load: LoadedSummary, formatTime: (ms: number) => string = (ms) => new Date(ms).toLocaleString()): ViewNode {
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
    children: [...load.programs.map((p) => ownProgramNode(load, p)), ...load.maps.map((m) => ownMapNode(load, m))],
  };
}

function linkNode(link: LinkInfo): ViewNode {
  return {
    id: `link:${link.id}`,
    label: link.target || `link ${link.id}`,
    description: `${link.type} · link ${link.id}`,
    tooltip: `Link ${link.id} (${link.type})${link.attachType ? `, attach type ${link.attachType}` : ''}` +
      (link.target ? `\nTarget: ${link.target}` : ''),
    icon: 'link',
  };
}

export function otherProgramNode(p: ProgramInfo, links: LinkInfo[]): ViewNode {
  const own = links.filter((l) => l.progId === p.id);
  const runs =
    p.runCount > 0 ? `\nRuns: ${p.runCount}, ${Math.round(p.runTimeNs / p.runCount)} ns each on average` : '';
  return {
    id: `prog:${p.id}`,
    label: p.name || `(unnamed ${p.id})`,
    description: `${p.type} · id ${p.id}${own.length > 0 ? ` · ${own.map((l) => l.target || l.type).join(', ')}` : ''}`,
    tooltip:
      `${p.name || '(unnamed)'} (${p.type}), id ${p.id}\nTag ${p.tag}\nLoaded by uid ${p.uid}` +
      `\n${p.verifiedInsns} verified instructions, ${p.jitedBytes} bytes JITed` +
      (p.mapIds.length > 0 ? `\nMaps: ${p.mapIds.join(', ')}` : '') +
      runs,
    icon: 'symbol-event',
    contextValue: ContextValues.program,
    progId: p.id,
    expanded: false,
    children: own.length > 0 ? own.map(linkNode) : undefined,
  };
}

/** The two groups of the Programs view. */
export function programsTree(s: ProgramsSnapshot, formatTime?: (ms: number) => string): ViewNode[] {
  const ownIds = new Set(s.loaded.flatMap((l) => l.programs.filter((p) => p.loaded).map((p) => p.id)));
  const others = s.programs.filter((p) => !ownIds.has(p.id)).sort((a, b) => a.id - b.id);
  const own: ViewNode[] =
    s.loaded.length > 0
      ? [...s.loaded].sort((a, b) => a.loadedAt - b.loadedAt).map((l) => loadNode(l, formatTime))
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
      children: others.map((p) => otherProgramNode(p, s.links)),
    },
  ];
}
