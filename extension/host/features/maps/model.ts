// Converts listLoaded and kernel/maps into the Maps view's nodes: maps of eBPF Studio's own loads first,
// then every other map on the system. Pure.
import type { LoadedSummary } from '../../../protocol/methods';
import type { MapInfo, ProgramInfo } from '../../../protocol/types';
import { ContextValues, ViewNode } from '../../ui/node';

export interface MapsSnapshot {
  loaded: LoadedSummary[];
  maps: MapInfo[];
  /** For "used by": programs name the maps they use. */
  programs?: ProgramInfo[];
  /** Current entry counts by map id, where they were counted. */
  entries?: Record<number, number>;
}

/** "views_fork, other_prog" for each map id, from the programs' map id lists. */
export function mapUsers(programs: ProgramInfo[]): Map<number, string[]> {
  const users = new Map<number, string[]>();
  for (const p of programs)
    for (const id of p.mapIds) users.set(id, [...(users.get(id) ?? []), p.name || `prog ${p.id}`]);
  return users;
}

function openCommand(mapId: number): ViewNode['command'] {
  return { command: 'ebpf.openMap', title: 'Open Map', arguments: [mapId] };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "hash · 4 → 8 B · max 10240". */
export function mapShape(m: Pick<MapInfo, 'type' | 'keySize' | 'valueSize' | 'maxEntries'>): string {
  return `${m.type} · ${m.keySize} → ${m.valueSize} B · max ${m.maxEntries}`;
}

export function mapTooltip(m: MapInfo): string {
  return (
    `Map ${m.name || '(unnamed)'}, id ${m.id}\nType ${m.type}\nKey ${m.keySize} B, value ${m.valueSize} B, ` +
    `max ${m.maxEntries} entries` +
    (m.flags ? `\nFlags 0x${m.flags.toString(16)}` : '') +
    (m.btfId ? `\nBTF id ${m.btfId}` : '\nNo BTF: keys and values show as hex')
  );
}

export function mapsTree(s: MapsSnapshot): ViewNode[] {
  const byId = new Map(s.maps.map((m) => [m.id, m]));
  const users = mapUsers(s.programs ?? []);
  const extra = (id: number) => {
    const n = s.entries?.[id];
    const used = users.get(id);
    return {
      description: n !== undefined ? ` · ${plural(n, 'entry').replace(/entrys$/, 'entries')}` : '',
      tooltip:
        (n !== undefined ? `\nCurrent entries: ${n}` : '') +
        (used ? `\nUsed by ${used.join(', ')}` : '\nUsed by no program'),
    };
  };
  const own: ViewNode[] = s.loaded.flatMap((load) =>
    load.maps.map((m): ViewNode => {
      const info = byId.get(m.id);
      const more = extra(m.id);
      return {
        id: `own-map:${m.id}`,
        label: m.name,
        description: `${info ? mapShape(info) : m.type}${more.description} · ${load.name}`,
        tooltip: `${info ? mapTooltip(info) : `Map ${m.name}, id ${m.id}\nType ${m.type}`}\nLoaded by eBPF Studio (${load.name})${more.tooltip}`,
        icon: m.internal ? 'symbol-variable' : 'database',
        contextValue: ContextValues.ownMap,
        loadId: load.loadId,
        mapId: m.id,
        lazy: true,
        command: openCommand(m.id),
      };
    }),
  );
  const ownIds = new Set(s.loaded.flatMap((l) => l.maps.map((m) => m.id)));
  const others = s.maps
    .filter((m) => !ownIds.has(m.id))
    .sort((a, b) => a.id - b.id)
    .map((m): ViewNode => ({
      id: `map:${m.id}`,
      label: m.name || `(unnamed ${m.id})`,
      description: `${mapShape(m)}${extra(m.id).description} · id ${m.id}`,
      tooltip: mapTooltip(m) + extra(m.id).tooltip,
      icon: 'database',
      contextValue: ContextValues.map,
      mapId: m.id,
      lazy: true,
      command: openCommand(m.id),
    }));
  return [
    {
      id: 'maps:own',
      label: 'Loaded here',
      description: plural(own.length, 'map'),
      icon: 'home',
      contextValue: ContextValues.group,
      expanded: true,
      children: own.length > 0 ? own : [{ id: 'maps:own:empty', label: 'no maps of eBPF Studio loads' }],
    },
    {
      id: 'maps:others',
      label: 'Other maps on this system',
      description: plural(others.length, 'map'),
      icon: 'server',
      contextValue: ContextValues.group,
      expanded: false,
      children: others,
    },
  ];
}
