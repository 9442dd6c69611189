// A vscode TreeDataProvider over ViewNode trees: the feature supplies a function that fetches and converts
// one snapshot; this refreshes it on demand and on a timer while the view is visible.
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { helperDownNodes, ViewNode } from './node';

export class NodeTree implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ViewNode>;
  private roots: Promise<ViewNode[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    viewId: string,
    private readonly load: () => Promise<ViewNode[]>,
    private readonly intervalMs: () => number,
    /** Fetches the children of nodes marked lazy, when they are expanded. */
    private readonly loadChildren?: (node: ViewNode) => Promise<ViewNode[]>,
  ) {
    this.view = vscode.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.changed,
      this.view.onDidChangeVisibility(() => this.schedule()),
    );
    this.schedule();
  }

  /** Fetches a new snapshot the next time VS Code asks for the roots. */
  refresh(): void {
    this.roots = undefined;
    this.changed.fire(undefined);
  }

  /**
   * Polls only while the view is visible: other programs come and go without telling anyone. A poll that
   * finds the same nodes tells VS Code nothing: every change event makes it forget the tree's elements
   * until it asks again, and a context menu command run in that window got no node (Pin asked which load).
   */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.view.visible) return;
    this.timer = setTimeout(() => {
      const shown = this.roots;
      const next = this.load();
      void Promise.all([shown, next]).then(([before, after]) => {
        if (this.roots !== shown) return;
        this.roots = next;
        if (JSON.stringify(before) !== JSON.stringify(after)) this.changed.fire(undefined);
      });
      this.schedule();
    }, this.intervalMs());
  }

  getTreeItem(node: ViewNode): vscode.TreeItem {
    const state =
      node.children || node.lazy
        ? node.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    item.command = node.command;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    return item;
  }

  getChildren(node?: ViewNode): ViewNode[] | Promise<ViewNode[]> {
    if (node?.lazy && this.loadChildren) return this.loadChildren(node);
    if (node) return node.children ?? [];
    this.roots ??= this.load();
    return this.roots;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** The roots of a view: the helper-down item, the built nodes, or an item saying why listing failed. */
export async function fetchNodes(
  ctx: Ctx,
  build: (helper: NonNullable<Ctx['helper']>) => Promise<ViewNode[]>,
): Promise<ViewNode[]> {
  const helper = ctx.helper;
  const state = ctx.helperState;
  if (!helper || state.status !== 'running')
    return helperDownNodes(state.status === 'running' ? { status: 'starting' } : state);
  try {
    return await build(helper);
  } catch (error) {
    const message = (error as Error).message;
    ctx.log.warn(`Refreshing a view failed: ${message}`);
    return [{ id: 'error', label: `could not list: ${message}`, tooltip: message, icon: 'warning' }];
  }
}

/** Makes a tree refresh whenever eBPF Studio changed the kernel or the helper came or went. */
export function refreshOnChanges(ctx: Ctx, tree: NodeTree): void {
  ctx.push(
    tree,
    ctx.onDidChangeKernelState(() => tree.refresh()),
    ctx.onDidChangeHelper(() => tree.refresh()),
  );
}
