// The "Maps" view (ebpf.maps): maps of eBPF Studio's own loads first, then every other map on the system,
// with the programs using each. Expanding a map shows its first entries decoded; clicking it opens the map
// viewer (ebpf.openMap). Refreshes like the Programs view (ebpf.refresh, kernel/helper changes, a timer).
import { Ctx } from '../../ctx';
import { config } from '../../config';
import { formatScalar } from '../../../formats/btf-decode';
import { Methods } from '../../../protocol/methods';
import { MapSource, undumpableReason } from './source';
import { mapsTree } from './model';
import { ViewNode } from '../../ui/node';
import { fetchNodes, NodeTree, refreshOnChanges } from '../../ui/tree';

/** Entries shown under an expanded map; the viewer shows the rest. */
const PREVIEW_ENTRIES = 10;
/** Own maps up to this size get their current entry count on every refresh (one batch read). */
const COUNT_UP_TO = 65536;

export function activate(ctx: Ctx): NodeTree {
  const tree = new NodeTree(
    'ebpf.maps',
    () =>
      fetchNodes(ctx, async (helper) => {
        const [loaded, maps, programs] = await Promise.all([
          helper.request(Methods.listLoaded),
          helper.request(Methods.maps),
          helper.request(Methods.programs).catch(() => []),
        ]);
        const entries: Record<number, number> = {};
        const own = new Set(loaded.flatMap((l) => l.maps.map((m) => m.id)));
        await Promise.all(
          maps
            .filter((m) => own.has(m.id) && m.maxEntries <= COUNT_UP_TO && !undumpableReason(m.type))
            .map(async (m) => {
              const r = await helper
                .request(Methods.mapDump, { mapId: m.id, count: m.maxEntries })
                .catch(() => undefined);
              if (r && !r.cursor) entries[m.id] = r.count;
            }),
        );
        return mapsTree({ loaded, maps, programs, entries });
      }),
    () => config.programsRefreshIntervalMs(),
    (node) => previewEntries(ctx, node),
  );
  refreshOnChanges(ctx, tree);
  return tree;
}

/** The first entries of a map, decoded with its BTF, as child nodes. */
async function previewEntries(ctx: Ctx, node: ViewNode): Promise<ViewNode[]> {
  const helper = ctx.helper;
  if (!helper || node.mapId === undefined) return [];
  try {
    const source = await MapSource.open(helper, node.mapId);
    if (source.undumpable)
      return [{ id: `${node.id}:undumpable`, label: source.undumpable, icon: 'info', tooltip: source.undumpable }];
    const { page, cursor } = await source.readPage(PREVIEW_ENTRIES);
    const cols = source.columns;
    const keyCount = source.keyLeaves.length;
    const children: ViewNode[] = [];
    for (let i = 0; i < page.count; i++) {
      const e = source.decode(page, i);
      const key = e.key.map(formatScalar).join(', ');
      const value = e.value
        .map((v, j) => (cols[keyCount + j].path ? `${cols[keyCount + j].path}=${formatScalar(v)}` : formatScalar(v)))
        .join(' ');
      children.push({
        id: `${node.id}:entry:${e.keyHex}`,
        label: key,
        description: (source.cpus ? 'Σ ' : '') + value,
        tooltip: `key ${key}\n${value.split(' ').join('\n')}`,
        icon: 'symbol-field',
        command: { command: 'ebpf.openMap', title: 'Open Map', arguments: [node.mapId] },
      });
    }
    if (page.count === 0) children.push({ id: `${node.id}:empty`, label: 'empty', icon: 'circle-outline' });
    if (cursor) {
      children.push({
        id: `${node.id}:more`,
        label: 'Open the map viewer for all entries…',
        icon: 'table',
        command: { command: 'ebpf.openMap', title: 'Open Map', arguments: [node.mapId] },
      });
    }
    return children;
  } catch (error) {
    return [{ id: `${node.id}:error`, label: `could not read: ${(error as Error).message}`, icon: 'warning' }];
  }
}
