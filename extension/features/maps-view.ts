// The "Maps" view (ebpf.maps): maps of eBPF Studio's own loads first, then every other map on the system.
// Refreshes like the Programs view (ebpf.refresh, kernel/helper changes, a timer while visible).
import { Ctx } from '../ctx';
import { config } from '../config';
import { Methods } from '../helper/protocol';
import { mapsTree } from '../views/maps-model';
import { fetchNodes, NodeTree, refreshOnChanges } from '../views/tree';

export function activate(ctx: Ctx): NodeTree {
  const tree = new NodeTree(
    'ebpf.maps',
    () =>
      fetchNodes(ctx, async (helper) => {
        const [loaded, maps] = await Promise.all([helper.request(Methods.listLoaded), helper.request(Methods.maps)]);
        return mapsTree({ loaded, maps });
      }),
    () => config.programsRefreshIntervalMs(),
  );
  refreshOnChanges(ctx, tree);
  return tree;
}
