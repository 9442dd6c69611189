// Converts listLoaded and kernel/maps into the Maps view's nodes: maps of eBPF Studio's own loads first,
// then every other map on the system. Pure.
import type { LoadedSummary } from '../helper/protocol';
import type { MapInfo } from '../../native/types';
import { ContextValues, ViewNode } from './node';

export interface MapsSnapshot {
  loaded: LoadedSummary[];
  maps: MapInfo[];
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
  const own: ViewNode[] = s.loaded.flatMap((load) =>
    load.maps.map((m): ViewNode => {
      const info = byId.get(m.id);
      return {
        id: `own-map:${m.id}`,
        label: m.name,
        description: `${info ? mapShape(info) : m.type} · ${load.name}`,
        tooltip: `${info ? mapTooltip(info) : `Map ${m.name}, id ${m.id}\nType ${m.type}`}\nLoaded by eBPF Studio (${load.name})`,
        icon: m.internal ? 'symbol-variable' : 'database',
        contextValue: ContextValues.ownMap,
        loadId: load.loadId,
        mapId: m.id,
      };
    }),
  );
  const ownIds = new Set(s.loaded.flatMap((l) => l.maps.map((m) => m.id)));
  const others = s.maps
    .filter((m) => !ownIds.has(m.id))
    .sort((a, b) => a.id - b.id)
    .map(
      (m): ViewNode => ({
        id: `map:${m.id}`,
        label: m.name || `(unnamed ${m.id})`,
        description: `${mapShape(m)} · id ${m.id}`,
        tooltip: mapTooltip(m),
        icon: 'database',
        contextValue: ContextValues.map,
        mapId: m.id,
      }),
    );
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
