// The view model every eBPF tree shows: plain data that the pure convert functions produce and that
// views/tree.ts turns into vscode.TreeItems. No vscode import, so the models are unit-tested.

export interface ViewNode {
  /** Stable across refreshes, so expansion and selection survive them. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id ("symbol-event", "database", ...). */
  icon?: string;
  /** Drives the view/item/context menus (see package.json). */
  contextValue?: string;
  expanded?: boolean;
  children?: ViewNode[];
  command?: { command: string; title: string; arguments?: unknown[] };
  /** Set on nodes of loads made by eBPF Studio, so Unload/Pin get it as their argument. */
  loadId?: string;
  /** Set on map nodes, for commands that open a map. */
  mapId?: number;
  /** Set on program nodes. */
  progId?: number;
  /** Children are fetched when the node is expanded (a map's first entries). */
  lazy?: boolean;
}

/** Context values; menus in package.json match them. */
export const ContextValues = {
  ownLoad: 'ebpf.ownLoad',
  ownLoadPinned: 'ebpf.ownLoad.pinned',
  ownProgram: 'ebpf.ownProgram',
  program: 'ebpf.program',
  ownMap: 'ebpf.ownMap',
  map: 'ebpf.map',
  group: 'ebpf.group',
  helperDown: 'ebpf.helperDown',
} as const;

/** The single item a view shows while the helper is not running. */
export function helperDownNodes(
  state: { status: 'starting' } | { status: 'stopped'; reason: string; restricted?: boolean },
): ViewNode[] {
  if (state.status === 'starting') {
    return [{ id: 'helper-starting', label: 'starting the eBPF Studio helper…', icon: 'sync~spin' }];
  }
  if (state.restricted) {
    return [
      {
        id: 'helper-restricted',
        label: 'Restricted Mode: trust this workspace to load and inspect programs',
        tooltip: state.reason,
        icon: 'shield',
        command: { command: 'workbench.trust.manage', title: 'Manage Workspace Trust' },
      },
    ];
  }
  return [
    {
      id: 'helper-down',
      label: 'helper not running — click to restart',
      description: state.reason.split('\n')[0],
      tooltip: state.reason,
      icon: 'error',
      contextValue: ContextValues.helperDown,
      command: { command: 'ebpf.restartHelper', title: 'Restart Helper' },
    },
  ];
}
