// The "Programs" view (ebpf.programs) in the eBPF activity-bar container: what eBPF Studio loaded, then
// every other program on the system. Refreshes on ebpf.refresh, kernel/helper changes and a timer.
import { Ctx } from '../ctx';
import { config } from '../config';
import { Methods } from '../helper/protocol';
import { programsTree } from '../views/programs-model';
import { fetchNodes, NodeTree, refreshOnChanges } from '../views/tree';

export function activate(ctx: Ctx): NodeTree {
  const tree = new NodeTree(
    'ebpf.programs',
    () =>
      fetchNodes(ctx, async (helper) => {
        const [loaded, programs, links] = await Promise.all([
          helper.request(Methods.listLoaded),
          helper.request(Methods.programs),
          // Links need kernel 5.8; without them programs simply show no attach points.
          helper.request(Methods.links).catch(() => []),
        ]);
        return programsTree({ loaded, programs, links });
      }),
    () => config.programsRefreshIntervalMs(),
  );
  refreshOnChanges(ctx, tree);
  return tree;
}
