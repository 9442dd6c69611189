// The map viewer's panel, run in the extension host: a webview per map that reads the map in pages through
// MapSource, keeps the bytes here and sends the webview only the rows on screen; auto-refresh, filter/sort, and
// the page's messages handed to the flows beside it (edit.ts, export.ts, plot.ts, value-struct.ts).
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import type { BtfType } from '../../../protocol/types';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { MapSource } from '../maps/source';
import { MapViewerModel, MessageLine } from './model';
import { webviewHtml } from '../../ui/webview-html';
import { FromMapViewerSchema, parseWebviewMessage } from '../../ui/webview-messages';
import { MAP_VIEWER_BODY, MAP_VIEWER_CSS } from './page';
import type { FromMapViewer, ToMapViewer, ViewerColumn } from '../../../webview/messages';
import { EditTarget, EntryEditor } from './edit';
import { ExportSource, exportMap } from './export';
import { pickPlot, PlotSource, seriesMessage } from './plot';
import { pickValueStruct, StructPickSource } from './value-struct';

/** The first page is small so the table shows at once; the rest comes in big pages. */
const FIRST_PAGE = 2000;
const PAGE = 65536;

/** The panel as its flows see it; read at each use, since the panel reopens its map (new helper, struct picked). */
type PanelView = EditTarget & ExportSource & PlotSource & StructPickSource;

export class MapViewerPanel {
  private readonly panel: vscode.WebviewPanel;
  private model: MapViewerModel;
  private reading: Promise<void> | undefined;
  private autoTimer: NodeJS.Timeout | undefined;
  private autoMs = 0;
  private disposed = false;
  private readonly disposeHandlers: (() => void)[] = [];
  /** The struct picked for values without BTF, kept when the map is opened again through a new helper. */
  private valueOverride: BtfType | undefined;
  /** Set once the map has left the kernel: map ids are not reused soon, so it does not come back. */
  private gone = false;
  /** What the message line above the table shows, so a good read clears a read failure. */
  private readonly messageLine = new MessageLine();
  /** Settles once the first read of the map ended (eBPF: Plot Map… offers its entries). */
  private firstReadEnded: () => void = () => undefined;
  private readonly firstRead = new Promise<void>((resolve) => (this.firstReadEnded = resolve));
  private readonly view: PanelView = MapViewerPanel.viewOf(this);
  private readonly editor = new EntryEditor(this.view);

  private static viewOf(panel: MapViewerPanel): PanelView {
    return {
      get helper() {
        return panel.helper;
      },
      get source() {
        return panel.source;
      },
      get model() {
        return panel.model;
      },
      post: (m) => panel.post(m),
      refresh: (first) => panel.refresh(first),
    };
  }

  constructor(
    private readonly ctx: Ctx,
    private helper: HelperClient,
    private source: MapSource,
  ) {
    const dist = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview');
    const name = source.info.name || `map ${source.info.id}`;
    this.panel = vscode.window.createWebviewPanel('ebpf.mapViewer', `Map: ${name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist],
      retainContextWhenHidden: true,
    });
    this.panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'ebpf.svg');
    this.model = new MapViewerModel(source);
    const webview = this.panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      title: `Map ${name}`,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'map-viewer.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'map-viewer.css')).toString(),
      css: MAP_VIEWER_CSS,
      body: MAP_VIEWER_BODY,
    });
    webview.onDidReceiveMessage((raw: unknown) => {
      const m = parseWebviewMessage(FromMapViewerSchema, raw, (why) => this.ctx.log.warn(`map viewer: ${why}`));
      if (m) this.handle(m).catch((e) => this.showError((e as Error).message));
    });
    // The viewer outlives helpers and loads: it follows the running helper and says when its map is gone,
    // instead of showing the last read as if it were current.
    const subscriptions = [
      ctx.onDidChangeHelper(() => void this.followHelper()),
      ctx.onDidChangeKernelState(() => void this.checkMapGoneSoon()),
    ];
    this.panel.onDidDispose(() => {
      this.disposed = true;
      clearTimeout(this.autoTimer);
      subscriptions.forEach((d) => d.dispose());
      for (const h of this.disposeHandlers) h();
    });
  }

  private get mapName(): string {
    return `${this.source.info.name || 'map'} (id ${this.source.info.id})`;
  }

  /** Stops auto-refresh and says why on the page; the table keeps what was read last. */
  private pause(message: string): void {
    this.setAuto(0);
    this.messageLine.replaced();
    this.post({ type: 'paused', message: `${message} The table shows what was read last.` });
  }

  /** A stopped helper pauses the viewer; a new one reads the map again, if the map outlived the old one. */
  private async followHelper(): Promise<void> {
    const helper = this.ctx.helper;
    if (this.disposed || helper === this.helper) return;
    if (this.gone) {
      // Nothing to read again; requests (Delete, Refresh) go to the running helper and say so themselves.
      if (helper) this.helper = helper;
      return;
    }
    if (!helper) {
      this.pause('The eBPF Studio helper is not running; the map is read again when it is back.');
      return;
    }
    this.helper = helper;
    let source: MapSource;
    try {
      source = await MapSource.open(helper, this.source.info.id, this.valueOverride);
    } catch {
      this.gone = true;
      this.pause(
        `${this.mapName} is no longer in the kernel: it was not pinned, so it left with the helper that stopped.`,
      );
      return;
    }
    if (this.disposed) return;
    this.source = source;
    this.model = new MapViewerModel(source);
    this.showError('');
    await this.handle({ type: 'ready' });
  }

  /**
   * After an unload: the kernel frees a map once its last reference goes, which can be a moment after the
   * unload returned (a stream or a reader closing its fd): look again a little later before concluding.
   */
  private async checkMapGoneSoon(): Promise<void> {
    for (const delay of [0, 500, 2000]) {
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.disposed || !(await this.checkMapStillThere())) return;
    }
  }

  /** After an unload (or a failed read): is the map still in the kernel? */
  private async checkMapStillThere(): Promise<boolean> {
    if (this.disposed || this.gone) return !this.gone;
    const maps = await this.helper.request(Methods.maps).catch(() => undefined);
    if (!maps || maps.some((m) => m.id === this.source.info.id)) return true;
    this.gone = true;
    this.pause(`${this.mapName} is no longer in the kernel (its program was unloaded).`);
    return false;
  }

  reveal(): void {
    this.panel.reveal();
  }

  onDispose(handler: () => void): void {
    this.disposeHandlers.push(handler);
  }

  /** Shows `message` on the message line ("" clears it). */
  private showError(message: string): void {
    this.messageLine.replaced();
    this.post({ type: 'error', message });
  }

  private post(m: ToMapViewer): void {
    if (!this.disposed) void this.panel.webview.postMessage(m);
  }

  private columns(): ViewerColumn[] {
    return this.source.columns;
  }

  private summary(): string {
    const i = this.source.info;
    return `${i.type} · id ${i.id} · key ${i.keySize} B · value ${i.valueSize} B${this.source.cpus ? ` × ${this.source.cpus} CPUs` : ''} · max ${i.maxEntries.toLocaleString('en-US')} entries`;
  }

  private async handle(m: FromMapViewer): Promise<void> {
    switch (m.type) {
      case 'ready': {
        const untyped = [!this.source.typed.key && 'keys', !this.source.typed.value && 'values'].filter(Boolean);
        this.post({
          type: 'init',
          title: this.source.info.name || `map ${this.source.info.id}`,
          summary: this.summary(),
          columns: this.columns(),
          perCpu: this.source.cpus > 0,
          cpus: this.source.cpus,
          undumpable: this.source.undumpable,
          untyped: untyped.length ? `This map has no BTF for its ${untyped.join(' and ')}: shown as hex.` : undefined,
          canPickStruct: !this.source.typed.value && !this.source.undumpable,
        });
        if (!this.source.undumpable) await this.refresh(true);
        return;
      }
      case 'range':
        this.post({ type: 'rows', request: m.request, rows: this.model.rows(m.start, Math.min(m.count, 500)) });
        return;
      case 'filter':
        await this.withProgress('Filtering', async () => this.model.setFilter(m.text));
        this.sendMeta();
        return;
      case 'sort':
        await this.withProgress('Sorting', async () =>
          this.model.setSort(m.column < 0 ? undefined : { column: m.column, descending: m.descending }),
        );
        this.sendMeta();
        return;
      case 'refresh':
        await this.refresh(false);
        return;
      case 'autoRefresh':
        this.setAuto(m.intervalMs);
        return;
      case 'openForm':
        await this.editor.openForm(m.mode, m.keyHex, m.cpu);
        return;
      case 'save':
        await this.editor.save(m);
        return;
      case 'delete':
        await this.editor.delete(m.keyHex);
        return;
      case 'export':
        await exportMap(this.ctx, this.view, m.format);
        return;
      case 'plot': {
        this.model.track(m.keyHex, m.column);
        this.sendSeries();
        return;
      }
      case 'pickStruct':
        await this.pickStruct();
        return;
      case 'unplot':
        this.model.untrack(m.id);
        this.sendSeries();
        return;
    }
  }

  /** Maps without value BTF: decode values with a struct of the same size from a workspace object's BTF. */
  private async pickStruct(): Promise<void> {
    const picked = await pickValueStruct(this.view);
    if (!picked) return;
    this.valueOverride = picked.type;
    this.source = await MapSource.open(this.helper, this.source.info.id, this.valueOverride);
    this.model = new MapViewerModel(this.source);
    await this.handle({ type: 'ready' });
  }

  private withProgress<T>(what: string, task: () => Promise<T>): Thenable<T> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `${what} ${this.source.info.name}…` },
      task,
    );
  }

  private sendMeta(readMs?: number): void {
    this.post({
      type: 'meta',
      rows: this.model.rowCount,
      entries: this.model.entryCount,
      loading: this.reading !== undefined,
      refreshedAt: Date.now(),
      readMs,
    });
  }

  private sendSeries(): void {
    this.post(seriesMessage(this.source, this.model));
  }

  /** Reads the whole map again; the first page is shown as soon as it arrives. */
  private refresh(first: boolean): Promise<void> {
    if (this.reading) return this.reading;
    const started = Date.now();
    const reading = this.withProgress('Reading', async () => {
      this.model.beginSnapshot(first);
      let cursor: string | undefined;
      let size = first ? FIRST_PAGE : PAGE;
      for (;;) {
        const { page, cursor: next } = await this.source.readPage(size, cursor);
        this.model.addPage(page);
        if (first) this.sendMeta();
        if (!next || this.disposed) break;
        cursor = next;
        size = PAGE;
      }
    });
    this.reading = Promise.resolve(reading).then(
      () => {
        const cleared = this.messageLine.readSucceeded();
        if (cleared !== undefined) this.post({ type: 'error', message: cleared });
      },
      async (error) => {
        this.model.abandonSnapshot();
        if (await this.checkMapStillThere())
          this.post({ type: 'error', message: this.messageLine.readFailed(error as Error) });
      },
    );
    return this.reading.finally(() => {
      this.reading = undefined;
      this.firstReadEnded();
      this.model.finishSnapshot();
      this.sendMeta(Date.now() - started);
      const histograms = this.model.histograms();
      if (histograms.length) this.post({ type: 'histograms', histograms });
      if (this.model.series.size) this.sendSeries();
    });
  }

  private setAuto(ms: number): void {
    this.autoMs = ms;
    clearTimeout(this.autoTimer);
    const tick = () => {
      if (this.disposed || this.autoMs === 0) return;
      // The next read starts after this one ends: a big map never piles up reads.
      void this.refresh(false).then(() => (this.autoTimer = setTimeout(tick, this.autoMs)));
    };
    if (ms > 0) this.autoTimer = setTimeout(tick, ms);
  }

  /** eBPF: Plot Map…: which entry (by key) and which numeric field; then plots it, refreshing every second. */
  async askPlot(): Promise<void> {
    await this.firstRead;
    const picked = await pickPlot(this.view);
    if (!picked) return;
    this.model.track(picked.keyHex, picked.column);
    this.sendSeries();
    if (this.autoMs === 0) {
      this.setAuto(1000);
      this.post({ type: 'autoRefresh', intervalMs: 1000 });
    }
    this.reveal();
  }
}
