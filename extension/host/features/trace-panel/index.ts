// The "eBPF Trace" panel (webview view ebpf.trace in the panel area): bpf_printk lines from trace_pipe and
// ring/perf buffer events, decoded. Commands ebpf.showTrace, ebpf.clearTrace, ebpf.streamEvents.
// Records are kept in a bounded ring (ebpfStudio.trace.maxLines) and sent to the webview 4 times a second.
import * as vscode from 'vscode';
import { config } from '../../config';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import type { ViewNode } from '../../ui/node';
import { rowsAsText, TraceModel } from './model';
import { TraceSource } from './source';
import { eventStructsOfLoad } from './event-structs';
import { structPickItems } from './struct-picks';
import { resolveIncludeDirs } from '../build/options';
import { AyaLogStreams } from './aya-log';
import { webviewHtml } from '../../ui/webview-html';
import { FromTracePanelSchema, parseWebviewMessage } from '../../ui/webview-messages';
import { TRACE_BODY, TRACE_CSS } from './page';
import type { FromTracePanel, ToTracePanel } from '../../../webview/messages';

const VIEW_ID = 'ebpf.trace';
const FLUSH_MS = 250;
/** workspaceState key: "<object path>#<map name>" -> the struct the user picked for its events. */
const STRUCT_CHOICES = 'ebpf.trace.structChoices';

class TracePanel implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private source: TraceSource | undefined;
  /** AYA_LOGS maps of eBPF Studio's loads, decoded into lines. */
  private aya: AyaLogStreams | undefined;
  private sourceHelper: HelperClient | undefined;
  private readonly model = new TraceModel(config.traceMaxLines());
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private status = 'not started';
  /** Event subscription -> the load whose map it streams: an unload ends the stream. */
  private readonly streams = new Map<number, string>();
  /** Map id -> the load that owns it, for attributing events. */
  private readonly mapOwners = new Map<number, string>();
  /** Globals in which streamed programs count their own losses (ring buffer reserve failures). */
  private lossCounters: { mapId: number; offset: number; size: number; name: string }[] = [];
  private programLosses: number | undefined;
  private lastCounterRead = 0;

  constructor(private readonly ctx: Ctx) {
    ctx.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (config.affects(e, 'trace.maxLines')) {
          this.model.resize(config.traceMaxLines());
          if (this.source) this.source.lineLimit = this.model.maxLines;
        }
      }),
      ctx.onDidChangeHelper(() => void this.restart()),
      ctx.onDidChangeKernelState(() => {
        void this.source?.refreshFormats().catch(() => undefined);
        void this.dropStreamsOfUnloaded().catch(() => undefined);
      }),
      ctx.onDidChangeKernelState(() => void this.aya?.sync().catch(() => undefined)),
      { dispose: () => void this.stop() },
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      title: 'eBPF Trace',
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'trace-panel.js')).toString(),
      css: TRACE_CSS,
      body: TRACE_BODY,
    });
    view.webview.onDidReceiveMessage((raw: unknown) => {
      const m = parseWebviewMessage(FromTracePanelSchema, raw, (why) => this.ctx.log.warn(`trace panel: ${why}`));
      if (m) this.handle(m).catch((e) => this.ctx.log.warn(`trace panel: ${(e as Error).message}`));
    });
    view.onDidDispose(() => (this.view = undefined));
    void this.start();
  }

  private post(m: ToTracePanel): void {
    void this.view?.webview.postMessage(m);
  }

  /** Subscribes to trace_pipe through the running helper (once per helper). */
  async start(): Promise<void> {
    const helper = this.ctx.helper;
    if (!helper) {
      this.status = 'helper not running';
      this.sendStats();
      return;
    }
    if (this.source && this.sourceHelper === helper) return;
    await this.stop();
    const source = new TraceSource(helper);
    this.source = source;
    this.sourceHelper = helper;
    source.lineLimit = this.model.maxLines;
    source.onLines = (entries, skipped) => this.model.addLines(entries, Date.now(), skipped);
    source.onEvents = (batch) => this.model.addEvents(batch, this.mapOwners.get(batch.mapId) ?? '');
    this.aya = new AyaLogStreams(helper);
    this.aya.onLines = (entries) => this.model.addLines(entries);
    await this.aya.sync().catch((e) => this.ctx.log.warn(`aya-log: ${(e as Error).message}`));
    try {
      await source.startTrace();
      this.status = `tracing (${source.knownFormats.length} bpf_printk formats of eBPF Studio's programs known)`;
    } catch (error) {
      this.status = `trace_pipe unavailable: ${(error as Error).message}`;
    }
    clearInterval(this.timer);
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.sendStats();
  }

  /**
   * A stream holds its map open: once the load that owns it is unloaded, the stream ends, so the map
   * leaves the kernel with its program instead of living on in the helper.
   */
  private async dropStreamsOfUnloaded(): Promise<void> {
    const helper = this.ctx.helper;
    const source = this.source;
    if (!helper || !source || this.streams.size === 0) return;
    const loaded = new Set((await helper.request(Methods.listLoaded)).map((l) => l.loadId));
    for (const [subscription, loadId] of this.streams) {
      if (loaded.has(loadId)) continue;
      this.streams.delete(subscription);
      await source.unsubscribeEvents(subscription);
      this.status = 'tracing';
    }
  }

  private async restart(): Promise<void> {
    if (this.view || this.source) await this.start();
  }

  private async stop(): Promise<void> {
    clearInterval(this.timer);
    this.streams.clear();
    const source = this.source;
    const aya = this.aya;
    this.source = undefined;
    this.aya = undefined;
    this.sourceHelper = undefined;
    if (aya && this.ctx.helper) await aya.dispose().catch(() => undefined);
    if (source && this.ctx.helper) await source.dispose().catch(() => undefined);
  }

  private flush(): void {
    if (!this.view?.visible) {
      // Nobody is looking: keep the ring, send nothing.
      return;
    }
    if (!this.paused) {
      const rows = this.model.takeNew();
      if (rows.length) this.post({ type: 'rows', rows, total: this.model.kept });
    }
    this.sendStats();
  }

  /** Sums the loss counters of streamed programs, at most once a second. */
  private readLossCounters(): void {
    const helper = this.ctx.helper;
    if (!helper || this.lossCounters.length === 0 || Date.now() - this.lastCounterRead < 1000) return;
    this.lastCounterRead = Date.now();
    void Promise.all(
      this.lossCounters.map(async (c) => {
        const r = await helper.request(Methods.mapLookup, { mapId: c.mapId, key: '00000000' });
        const b = r.value ? Buffer.from(r.value, 'hex') : undefined;
        return !b || b.length < c.offset + c.size
          ? 0
          : c.size === 8
            ? Number(b.readBigUInt64LE(c.offset))
            : b.readUInt32LE(c.offset);
      }),
    ).then(
      (values) => (this.programLosses = values.reduce((a, b) => a + b, 0)),
      () => undefined,
    );
  }

  private sendStats(): void {
    this.readLossCounters();
    this.post({
      type: 'stats',
      eventsPerSecond: this.model.eventsPerSecond(Date.now()),
      kept: this.model.kept,
      maxLines: this.model.maxLines,
      lostInKernel: this.source?.drops.lostInKernel ?? 0,
      droppedInHelper: this.source?.drops.droppedInHelper ?? 0,
      resynced: this.source?.drops.resynced ?? 0,
      droppedInPanel: this.model.droppedInPanel,
      reserveFailures: this.programLosses,
      paused: this.paused,
      sources: [...this.model.sources],
      programs: [...this.model.programs].sort(),
      status: this.status,
    });
  }

  /** Lines from outside trace_pipe (bpftrace's printf output), attributed to `program`. */
  addExternalLines(program: string, lines: string[]): void {
    this.model.addLines(lines.map((raw) => ({ raw, program })));
  }

  clear(): void {
    this.model.clear();
    this.post({ type: 'clear' });
    this.sendStats();
  }

  private async handle(m: FromTracePanel): Promise<void> {
    switch (m.type) {
      case 'ready':
        // Rows flushed while the page was loading may have reached it already: redraw from scratch.
        this.post({ type: 'clear' });
        this.post({ type: 'rows', rows: this.model.redrawRows(), total: this.model.kept });
        this.sendStats();
        return;
      case 'pause':
        this.paused = m.paused;
        if (!m.paused) this.flush();
        this.sendStats();
        return;
      case 'clear':
        this.clear();
        return;
      case 'filter':
        this.model.filter = { program: m.program, pid: m.pid, text: m.text };
        this.post({ type: 'clear' });
        this.post({ type: 'rows', rows: this.model.redrawRows(), total: this.model.kept });
        return;
      case 'copy':
        await vscode.env.clipboard.writeText(rowsAsText(this.model.allRows()));
        void vscode.window.showInformationMessage(`Copied ${this.model.allRows().length} trace lines.`);
        return;
      case 'export': {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const target = await vscode.window.showSaveDialog({
          title: 'Export trace output',
          defaultUri: folder ? vscode.Uri.joinPath(folder, 'trace.txt') : undefined,
          filters: { Text: ['txt', 'log'] },
        });
        if (target) await vscode.workspace.fs.writeFile(target, Buffer.from(rowsAsText(this.model.allRows()), 'utf8'));
        return;
      }
      case 'addSource':
        await vscode.commands.executeCommand('ebpf.streamEvents');
        return;
    }
  }

  /**
   * Ring buffers tell nobody when bpf_ringbuf_reserve fails: programs count that themselves, in a global
   * named like "dropped", "lost" or "reserve_failed". Those counters are read and shown as kernel-side losses.
   */
  private async findLossCounters(
    helper: HelperClient,
    load: { path: string; maps: { id: number; name: string; internal: boolean }[] },
  ): Promise<void> {
    if (!load.path) return;
    const spec = await helper.request(Methods.describe, { path: load.path }).catch(() => undefined);
    for (const v of spec?.variables ?? []) {
      if (!/(drop|lost|fail)/i.test(v.name) || (v.size !== 4 && v.size !== 8) || v.section.startsWith('.rodata'))
        continue;
      const map = load.maps.find((m) => m.internal && m.name.endsWith(v.section));
      if (map && !this.lossCounters.some((c) => c.mapId === map.id && c.offset === v.offset)) {
        this.lossCounters.push({ mapId: map.id, offset: v.offset, size: v.size, name: v.name });
      }
    }
  }

  /** Streams a ring buffer or perf event array of one of eBPF Studio's loads into the panel. */
  async streamEvents(helper: HelperClient, node?: ViewNode): Promise<void> {
    await this.start();
    const source = this.source;
    if (!source) throw new Error('The trace panel could not start: the helper is not running.');
    const loads = await helper.request(Methods.listLoaded);
    const candidates = loads.flatMap((l) =>
      l.maps.filter((m) => m.type === 'ringbuf' || m.type === 'perf_event_array').map((m) => ({ load: l, map: m })),
    );
    let chosen = node?.mapId !== undefined ? candidates.find((c) => c.map.id === node.mapId) : undefined;
    if (!chosen) {
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage(
          'No program loaded by eBPF Studio has a ring buffer or perf event array.',
        );
        return;
      }
      const pick = await vscode.window.showQuickPick(
        candidates.map((c) => ({
          label: c.map.name,
          description: `${c.map.type} · ${c.load.name} · id ${c.map.id}`,
          c,
        })),
        { title: 'Stream events into the trace panel' },
      );
      if (!pick) return;
      chosen = pick.c;
    }
    const rememberKey = `${chosen.load.path}#${chosen.map.name}`;
    const remembered = this.ctx.extension.workspaceState.get<Record<string, string>>(STRUCT_CHOICES, {});
    this.mapOwners.set(chosen.map.id, chosen.load.name);
    // The object's own structs, its source's header structs and kernel types last: the samples and programs
    // written the usual way (an event struct in a shared header) decode without a question.
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const structs = await eventStructsOfLoad(helper, chosen.load, {
      clangPath: config.clangPath(),
      includeDirs: resolveIncludeDirs(config.buildIncludeDirs(), folder, folder ?? process.cwd()),
      defines: config.buildDefines(),
    });
    const subscription = await source.subscribeEvents(
      chosen.map.id,
      chosen.load.path || undefined,
      remembered[rememberKey],
      structs,
    );
    this.streams.set(subscription, chosen.load.loadId);
    // When no struct has the events' size, or several do, ask once and remember the answer.
    const previous = source.onEvents;
    let asked = Boolean(remembered[rememberKey]);
    source.onEvents = (batch) => {
      previous(batch);
      if (batch.mapId !== chosen!.map.id || batch.structName || asked) return;
      asked = true;
      void (async () => {
        const size = batch.lengths[0];
        const items = structPickItems(source.rankedStructs(subscription, size), size);
        const chosenItem = await vscode.window.showQuickPick(items, {
          title: `Which struct are the ${size}-byte events of ${chosen!.map.name}?`,
          placeHolder: 'Picked once and remembered for this object',
          matchOnDescription: true,
        });
        const pick = chosenItem?.name;
        if (!pick) return;
        source.chooseStruct(subscription, pick);
        await this.ctx.extension.workspaceState.update(STRUCT_CHOICES, { ...remembered, [rememberKey]: pick });
      })();
    };
    await this.findLossCounters(helper, chosen.load);
    this.status = `tracing; streaming ${chosen.map.name} (${chosen.map.type})`;
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
  }
}

let panel: TracePanel | undefined;

export function activate(ctx: Ctx): void {
  panel = new TracePanel(ctx);
  ctx.push(
    vscode.window.registerWebviewViewProvider(VIEW_ID, panel, { webviewOptions: { retainContextWhenHidden: true } }),
  );
}

/** ebpf.showTrace */
export function showTrace(_ctx: Ctx) {
  return async () => {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    await panel?.start();
  };
}

/** The hook for other line sources (bpftrace runs): rows with `program` set, filterable like the rest. */
export function addExternalLines(program: string, lines: string[]): void {
  panel?.addExternalLines(program, lines);
}

/** ebpf.clearTrace */
export function clearTrace() {
  return () => panel?.clear();
}

/** ebpf.streamEvents */
export function streamEvents(ctx: Ctx, helper: HelperClient) {
  return (node?: ViewNode) => panel?.streamEvents(helper, node);
}
