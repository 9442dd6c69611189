// The map viewer: a webview panel per map (command ebpf.openMap "eBPF: Open Map…", and clicking a map in the
// Maps view). Reads the map in pages through MapSource, keeps the bytes here and sends the webview only the
// rows on screen; auto-refresh, filter/sort, typed add/edit/delete, JSON/CSV export and plots.
import * as path from 'path';
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import type { BtfType } from '../../../protocol/types';
import { decodeLeaves, formatScalar } from '../../../formats/btf-decode';
import { EncodeError } from '../../../formats/btf-encode';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { HelperError } from '../../../protocol/errors';
import type { ViewNode } from '../../ui/node';
import { exportCsv, exportJson, MapSource } from '../maps/source';
import { MapViewerModel, MessageLine } from './model';
import { webviewHtml } from '../../ui/webview-html';
import { FromMapViewerSchema, parseWebviewMessage } from '../../ui/webview-messages';
import { MAP_VIEWER_BODY, MAP_VIEWER_CSS } from './page';
import type { FromMapViewer, ToMapViewer, ViewerColumn } from '../../../webview/messages';

/** The first page is small so the table shows at once; the rest comes in big pages. */
const FIRST_PAGE = 2000;
const PAGE = 65536;

const open = new Map<number, MapViewerPanel>();

/** ebpf.openMap: from a Maps view node, a map id, or a quick pick of every map. */
export function openMap(ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    await openViewer(ctx, helper, arg);
  };
}

/** ebpf.plotMap: opens the viewer and asks which entry and which numeric field to plot over time. */
export function plotMap(ctx: Ctx, helper: HelperClient) {
  return async (arg?: ViewNode | number): Promise<void> => {
    const panel = await openViewer(ctx, helper, arg, 'eBPF: Plot Map…');
    await panel?.askPlot();
  };
}

async function openViewer(
  ctx: Ctx,
  helper: HelperClient,
  arg: ViewNode | number | undefined,
  title = 'eBPF: Open Map…',
): Promise<MapViewerPanel | undefined> {
  {
    let mapId = typeof arg === 'number' ? arg : arg?.mapId;
    if (mapId === undefined) {
      const [maps, loaded] = await Promise.all([helper.request(Methods.maps), helper.request(Methods.listLoaded)]);
      const own = new Set(loaded.flatMap((l) => l.maps.map((m) => m.id)));
      const pick = await vscode.window.showQuickPick(
        [...maps]
          .sort((a, b) => Number(own.has(b.id)) - Number(own.has(a.id)) || a.id - b.id)
          .map((m) => ({
            label: m.name || `(unnamed ${m.id})`,
            description: `${m.type} · id ${m.id}${own.has(m.id) ? ' · loaded here' : ''}`,
            id: m.id,
          })),
        { title, placeHolder: 'Pick a map to view (type its name, type or id)', matchOnDescription: true },
      );
      if (!pick) return undefined;
      mapId = pick.id;
    }
    const existing = open.get(mapId);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const source = await MapSource.open(helper, mapId);
    const panel = new MapViewerPanel(ctx, helper, source);
    open.set(mapId, panel);
    panel.onDispose(() => open.delete(mapId!));
    return panel;
  }
}

class MapViewerPanel {
  private readonly panel: vscode.WebviewPanel;
  private model: MapViewerModel;
  private reading: Promise<void> | undefined;
  /** The value the open edit form started from (map/edit's `expected`). */
  private formSeen: Buffer | undefined;
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
        await this.openForm(m.mode, m.keyHex, m.cpu);
        return;
      case 'save':
        await this.save(m);
        return;
      case 'delete': {
        const pick = await vscode.window.showWarningMessage(
          `Delete this entry from ${this.source.info.name}? Programs using the map see the change at once.`,
          { modal: true },
          'Delete',
        );
        if (pick !== 'Delete') return;
        await this.source.delete(m.keyHex);
        await this.refresh(false);
        return;
      }
      case 'export':
        await this.export(m.format);
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
    const size = this.source.info.valueSize;
    const loads = await this.helper.request(Methods.listLoaded);
    const files = new Set<string>(loads.map((l) => l.path).filter(Boolean));
    for (const uri of await vscode.workspace.findFiles('**/*.bpf.o', '**/node_modules/**', 200)) files.add(uri.fsPath);
    const choices: { label: string; description: string; file: string }[] = [];
    for (const file of files) {
      const structs = await this.helper
        .request(Methods.structTypes, { path: file })
        .catch(() => ({}) as Record<string, never>);
      for (const [name, type] of Object.entries(structs)) {
        if (type.kind !== 'void' && type.size === size)
          choices.push({ label: `struct ${name}`, description: vscode.workspace.asRelativePath(file), file });
      }
    }
    if (choices.length === 0) {
      void vscode.window.showInformationMessage(
        `No struct of ${size} bytes in the BTF of the workspace's .bpf.o files or of eBPF Studio's loads.`,
      );
      return;
    }
    const pick = await vscode.window.showQuickPick(choices, {
      title: `Decode the ${size}-byte values of ${this.source.info.name} as…`,
    });
    if (!pick) return;
    const structs = await this.helper.request(Methods.structTypes, { path: pick.file });
    this.valueOverride = structs[pick.label.replace(/^struct /, '')];
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
    const cols = this.source.columns;
    this.post({
      type: 'series',
      series: [...this.model.series.entries()].map(([id, s]) => ({
        id,
        label: `${cols[s.column].label} @ key ${s.keyHex}`,
        points: s.points,
      })),
    });
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
    const name = this.source.info.name || `map ${this.source.info.id}`;
    if (this.source.undumpable) {
      void vscode.window.showInformationMessage(`${name} cannot be plotted: ${this.source.undumpable}`);
      return;
    }
    const columns = this.columns();
    const numeric = columns.flatMap((c, i) => (c.part === 'value' && c.numeric ? [i] : []));
    if (numeric.length === 0) {
      void vscode.window.showInformationMessage(`${name} has no numeric value field to plot.`);
      return;
    }
    const keyCount = this.source.keyLeaves.length;
    const rows = this.model
      .rows(0, Math.min(this.model.rowCount, 2000))
      .filter((r) => r.cpu === '' || r.cpu === 'Σ')
      .slice(0, 500);
    if (rows.length === 0) {
      void vscode.window.showInformationMessage(`${name} is empty: nothing to plot yet.`);
      return;
    }
    const entry = await vscode.window.showQuickPick(
      rows.map((r) => ({
        label: r.cells.slice(0, keyCount).join(', '),
        description: r.cells
          .slice(keyCount)
          .map((v, j) => `${columns[keyCount + j].label}=${v}`)
          .join(' '),
        keyHex: r.keyHex,
      })),
      { title: `Plot ${name}: which entry?`, placeHolder: 'The key whose value to follow over time' },
    );
    if (!entry) return;
    let column = numeric[0];
    if (numeric.length > 1) {
      const field = await vscode.window.showQuickPick(
        numeric.map((i) => ({ label: columns[i].label, description: columns[i].type, i })),
        { title: `Plot ${name}: which field?` },
      );
      if (!field) return;
      column = field.i;
    }
    this.model.track(entry.keyHex, column);
    this.sendSeries();
    if (this.autoMs === 0) {
      this.setAuto(1000);
      this.post({ type: 'autoRefresh', intervalMs: 1000 });
    }
    this.reveal();
  }

  private async openForm(mode: 'add' | 'edit', keyHex?: string, cpuText?: string): Promise<void> {
    const keyLeaves = this.source.keyLeaves;
    const valueLeaves = this.source.valueLeaves;
    const cpu = cpuText && cpuText !== 'Σ' ? Number(cpuText) : undefined;
    let keyValues = keyLeaves.map(() => '');
    let values = valueLeaves.map((l) =>
      l.kind === 'string'
        ? ''
        : l.kind === 'bytes'
          ? '00'.repeat(l.bits / 8)
          : l.kind === 'bool'
            ? 'false'
            : l.kind === 'ptr'
              ? '0x0'
              : l.kind === 'enum'
                ? (l.enumValues?.[0]?.name ?? '0')
                : '0',
    );
    this.formSeen = undefined;
    if (mode === 'edit' && keyHex) {
      const current = await this.source.lookup(keyHex);
      if (!current) throw new Error('This entry is gone: it was deleted since the last refresh.');
      // What the user sees in the form: the save is refused if the entry changes meanwhile.
      this.formSeen = current;
      const page = { count: 1, keys: Buffer.from(keyHex, 'hex'), values: current };
      const decoded = this.source.decode(page, 0);
      keyValues = decoded.key.map(String);
      values = (
        cpu !== undefined && decoded.perCpu ? decoded.perCpu[cpu] : decoded.perCpu ? decoded.perCpu[0] : decoded.value
      ).map(String);
    }
    this.post({
      type: 'form',
      mode,
      keyHex,
      cpu,
      key: this.source.formFields('key', keyValues),
      value: this.source.formFields('value', values),
    });
  }

  /**
   * Add entry with a key the map holds already: says so and offers to edit that entry (its current value
   * in the form) or to overwrite it with the value typed, instead of the kernel's "File exists".
   */
  private async offerEditExisting(m: Extract<FromMapViewer, { type: 'save' }>, keyHex: string): Promise<void> {
    const keyText = decodeLeaves(this.source.keyLeaves, Buffer.from(keyHex, 'hex'), 0).map(formatScalar).join(', ');
    this.post({ type: 'formError', message: `${this.source.info.name} already has an entry with key ${keyText}.` });
    const choice = await vscode.window.showWarningMessage(
      `${this.source.info.name} already has an entry with key ${keyText}: edit it instead?`,
      'Edit Existing Entry',
      'Overwrite',
    );
    if (choice === 'Edit Existing Entry') await this.openForm('edit', keyHex);
    else if (choice === 'Overwrite') await this.save({ ...m, mode: 'edit', keyHex });
  }

  private async save(m: Extract<FromMapViewer, { type: 'save' }>): Promise<void> {
    let warning: string | undefined;
    try {
      if (m.mode === 'add') {
        // Arrays hold every key, and map/edit writes them on Add: ask first, whatever the map type.
        const keyHex = this.source.encodeKey(m.key).toString('hex');
        if (await this.source.lookup(keyHex).catch(() => undefined)) {
          await this.offerEditExisting(m, keyHex);
          return;
        }
      }
      const result =
        m.mode === 'add'
          ? await this.source.write({ fields: m.key }, m.value, { mode: 'add' })
          : await this.source.write({ hex: m.keyHex! }, m.value, { mode: 'edit', cpu: m.cpu, seen: this.formSeen });
      warning = result.warning;
    } catch (error) {
      // A key added meanwhile (Conflict "exists"): offer to edit it instead, as above.
      if (m.mode === 'add' && error instanceof HelperError && error.data.kind === 'Conflict') {
        await this.offerEditExisting(m, this.source.encodeKey(m.key).toString('hex'));
        return;
      }
      // A value that does not fit its type, or the kernel refusing (map full, key exists): nothing was written.
      this.post({
        type: 'formError',
        message: (error as Error).message,
        path: error instanceof EncodeError ? error.path : undefined,
      });
      return;
    }
    this.post({ type: 'formDone' });
    if (warning) void vscode.window.showWarningMessage(warning);
    await this.refresh(false);
  }

  private async export(format: 'json' | 'csv'): Promise<void> {
    const name = (this.source.info.name || `map-${this.source.info.id}`).replace(/[^\w.-]/g, '_');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: `Export ${this.source.info.name} as ${format.toUpperCase()}`,
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${name}.${format}`) : undefined,
      filters: format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
    });
    if (!target) return;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${this.source.info.name}…` },
      async () => {
        const pages = this.model.allPages;
        const text = format === 'json' ? exportJson(this.source, pages) : exportCsv(this.source, pages);
        await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
      },
    );
    this.ctx.log.info(`Exported ${this.model.entryCount} entries of ${this.source.info.name} to ${target.fsPath}`);
    void vscode.window.showInformationMessage(
      `Exported ${this.model.entryCount.toLocaleString('en-US')} entries to ${path.basename(target.fsPath)}.`,
    );
  }
}
