// eBPF: Show Program Statistics (ebpf.showStats): a table of every program's runs/s, average ns, CPU% and
// total runs with a trend, like bpftop, refreshed every second while it is visible. Opening it turns the
// kernel's statistics on (they cost each run a little); its button and eBPF: Toggle Program Statistics
// turn them off again.
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { ViewNode } from '../../ui/node';
import { webviewHtml } from '../../ui/webview-html';
import type { FromStatsTable, ToStatsTable } from '../../../webview/messages';
import { StatsHistory } from './stats-model';
import { STATS_BODY, STATS_CSS } from './stats-page';
import { onDidChangeStats, setStats, statsEnabled } from './stats';

const REFRESH_MS = 1000;

class StatsTable {
  private readonly panel: vscode.WebviewPanel;
  private readonly history = new StatsHistory();
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly ctx: Ctx) {
    const dist = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel('ebpf.stats', 'eBPF: Program Statistics', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist],
      retainContextWhenHidden: true,
    });
    this.panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'ebpf.svg');
    const webview = this.panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      title: 'eBPF: Program Statistics',
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'stats-table.js')).toString(),
      css: STATS_CSS,
      body: STATS_BODY,
    });
    const subscriptions = [
      webview.onDidReceiveMessage((m: FromStatsTable) =>
        this.handle(m).catch((e) => this.post({ type: 'message', text: (e as Error).message })),
      ),
      this.panel.onDidChangeViewState(() => this.schedule(0)),
      onDidChangeStats(() => {
        this.history.reset();
        this.schedule(0);
      }),
      ctx.onDidChangeHelper(() => this.history.reset()),
    ];
    this.panel.onDidDispose(() => {
      this.disposed = true;
      clearTimeout(this.timer);
      subscriptions.forEach((d) => d.dispose());
      table = undefined;
    });
  }

  reveal(): void {
    this.panel.reveal();
  }

  private post(m: ToStatsTable): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private async handle(m: FromStatsTable): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.schedule(0);
        return;
      case 'toggle':
        await vscode.commands.executeCommand('ebpf.toggleStats');
        return;
      case 'open':
        await vscode.commands.executeCommand('ebpf.showInstructions', m.id);
        return;
    }
  }

  /** Reads again after `ms`; only while the table is visible, since nobody reads it otherwise. */
  private schedule(ms = REFRESH_MS): void {
    clearTimeout(this.timer);
    if (this.disposed || !this.panel.visible) return;
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), ms);
  }

  private async refresh(): Promise<void> {
    const helper = this.ctx.helper;
    if (!helper) {
      this.post({ type: 'message', text: 'The eBPF Studio helper is not running.' });
      return;
    }
    const [programs, loaded] = await Promise.all([
      helper.request(Methods.programs),
      helper.request(Methods.listLoaded).catch(() => []),
    ]);
    const own = new Map(loaded.flatMap((l) => l.programs.filter((p) => p.loaded).map((p) => [p.id, l.name] as const)));
    const at = Date.now();
    this.post({
      type: 'rows',
      rows: this.history.update(programs, at, own),
      enabled: statsEnabled(),
      intervalMs: REFRESH_MS,
      at,
    });
  }
}

let table: StatsTable | undefined;

/** ebpf.showStats: opens the table, turning the kernel's statistics on when they are off. */
export function showStats(ctx: Ctx, helper: HelperClient) {
  return async (_node?: ViewNode): Promise<void> => {
    if (!statsEnabled()) await setStats(helper, true);
    if (table) table.reveal();
    else table = new StatsTable(ctx);
  };
}
