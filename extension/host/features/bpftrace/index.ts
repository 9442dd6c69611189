// bpftrace scripts: ebpf.runBpftrace runs the .bt file through the helper (printf lines into the trace
// panel, maps into a read-only map viewer with histograms), ebpf.stopBpftrace stops a run (it then prints
// its maps), and saving a .bt file checks it with `bpftrace --emit-elf` into diagnostics on its lines.
import * as path from 'path';
import * as vscode from 'vscode';
import { Ctx } from '../../ctx';
import { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { BpftraceDiagnostic, parseBpftraceStderr, utf16Column } from '../../../formats/bpftrace-output';
import { addExternalLines } from '../trace-panel';
import { webviewHtml } from '../../ui/webview-html';
import { MAP_VIEWER_BODY, MAP_VIEWER_CSS } from '../map-viewer/page';
import type { FromMapViewer, ToMapViewer } from '../../../webview/messages';
import { BpftraceMapEvent, BpftraceSession } from './session';
import { BPFTRACE_COLUMNS, bpftraceMapsJson, bpftracePlots, bpftraceRows } from './model';

const LANGUAGE = 'bpftrace';
/** The map viewer's editing controls mean nothing for maps bpftrace has printed. */
const READ_ONLY_CSS = `#add, #editRow, #deleteRow, #plotCell, #refresh, #controls label, #pickStruct { display: none !important; }`;

const sessions = new Set<BpftraceSession>();
let diagnostics: vscode.DiagnosticCollection | undefined;

/** A read-only map viewer of one run's printed maps, updated at every print. */
class BpftraceMapsPanel {
  private readonly panel: vscode.WebviewPanel;
  private ready = false;

  constructor(
    ctx: Ctx,
    private readonly session: BpftraceSession,
  ) {
    const dist = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview');
    this.panel = vscode.window.createWebviewPanel(
      'ebpf.bpftraceMaps',
      `Maps: ${path.basename(session.info.path)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true },
    );
    const webview = this.panel.webview;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      title: `bpftrace maps`,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'map-viewer.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'map-viewer.css')).toString(),
      css: MAP_VIEWER_CSS + READ_ONLY_CSS,
      body: MAP_VIEWER_BODY,
    });
    webview.onDidReceiveMessage((m: FromMapViewer) =>
      this.handle(m).catch((e) => ctx.log.warn(`bpftrace maps: ${(e as Error).message}`)),
    );
    this.panel.onDidDispose(() => (this.disposed = true));
  }

  disposed = false;

  private post(m: ToMapViewer): void {
    void this.panel.webview.postMessage(m);
  }

  /** Sends the maps as they are now. */
  update(): void {
    if (!this.ready || this.disposed) return;
    const maps = [...this.session.maps.values()];
    const rows = bpftraceRows(maps);
    const atExit = maps.some((m) => m.atExit);
    this.post({
      type: 'init',
      title: `${this.session.name}`,
      summary: ` ${maps.length} maps, ${atExit ? 'printed at exit' : 'as last printed (print() or interval)'}; read-only`,
      columns: BPFTRACE_COLUMNS,
      perCpu: false,
      cpus: 1,
    });
    this.post({ type: 'meta', rows: rows.length, entries: rows.length, loading: false, refreshedAt: Date.now() });
    this.post({ type: 'rows', request: 0, rows });
    this.post({ type: 'histograms', histograms: bpftracePlots(maps) });
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  private async handle(m: FromMapViewer): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.update();
        return;
      case 'range':
        // All rows were sent with the init; a scroll asks again for the same ones.
        this.post({ type: 'rows', request: m.request, rows: bpftraceRows(this.session.maps.values()) });
        return;
      case 'export': {
        const doc = await vscode.workspace.openTextDocument({
          language: m.format === 'json' ? 'json' : 'plaintext',
          content:
            m.format === 'json'
              ? bpftraceMapsJson(this.session.maps.values())
              : bpftraceRows(this.session.maps.values())
                  .map((r) => r.cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(','))
                  .join('\n'),
        });
        await vscode.window.showTextDocument(doc, { preview: false });
        return;
      }
      case 'openForm':
      case 'save':
      case 'delete':
        this.post({ type: 'error', message: 'These maps are what bpftrace printed: they cannot be edited.' });
        return;
      default:
        return;
    }
  }
}

function scriptOf(uri?: vscode.Uri): vscode.Uri | undefined {
  if (uri instanceof vscode.Uri) return uri;
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (doc.languageId === LANGUAGE || doc.fileName.endsWith('.bt')) ? doc.uri : undefined;
}

/** ebpf.runBpftrace */
export function runBpftrace(ctx: Ctx, helper: HelperClient) {
  return async (uri?: vscode.Uri) => {
    const script = scriptOf(uri);
    if (!script || script.scheme !== 'file' || !script.fsPath.endsWith('.bt')) {
      void vscode.window.showInformationMessage('Open a bpftrace script (.bt file) to run it.');
      return;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === script.toString());
    if (doc?.isDirty) await doc.save();
    await vscode.commands.executeCommand('ebpf.showTrace');
    const session = await BpftraceSession.start(helper, script.fsPath);
    sessions.add(session);
    void vscode.commands.executeCommand('setContext', 'ebpf.bpftrace.running', true);
    ctx.log.info(`bpftrace: started ${script.fsPath} (pid ${session.info.pid}, run ${session.info.run})`);
    let panel: BpftraceMapsPanel | undefined;
    const showMaps = () => {
      if (!panel || panel.disposed) panel = new BpftraceMapsPanel(ctx, session);
      panel.update();
    };
    session.onText = (lines) => addExternalLines(session.name, lines);
    // Its programs and maps exist once bpftrace says it attached: the views list them with bpftrace as holder.
    session.onEvent = (event) => {
      if (event.type === 'attached') ctx.kernelStateChanged();
    };
    session.onStderr = (text) => ctx.log.info(`bpftrace ${path.basename(script.fsPath)}: ${text.trimEnd()}`);
    session.onMap = (event: BpftraceMapEvent) => {
      // print() and interval prints update an open panel and open one the first time.
      if (!event.atExit) showMaps();
    };
    session.onExit = (result, stderr) => {
      sessions.delete(session);
      void vscode.commands.executeCommand('setContext', 'ebpf.bpftrace.running', sessions.size > 0);
      setDiagnostics(script, stderr.diagnostics);
      if (session.maps.size > 0) {
        showMaps();
        panel?.reveal();
      }
      ctx.kernelStateChanged();
      const how = result.signal ? `was killed (${result.signal})` : `exited with code ${result.exitCode}`;
      const firstError = stderr.diagnostics.find((d) => d.severity === 'error' && !d.known);
      if (result.exitCode !== 0 && firstError) {
        void vscode.window.showErrorMessage(`bpftrace ${path.basename(script.fsPath)}: ${firstError.message}`);
      } else {
        ctx.log.info(`bpftrace: ${script.fsPath} ${how}`);
      }
    };
    ctx.kernelStateChanged();
  };
}

/** ebpf.stopBpftrace: the run of the active script, or one picked from the running ones. */
export function stopBpftrace(_ctx: Ctx, _helper: HelperClient) {
  return async (uri?: vscode.Uri) => {
    const running = [...sessions];
    const script = scriptOf(uri)?.fsPath;
    let chosen = running.filter((s) => s.info.path === script);
    if (chosen.length === 0 && running.length > 1) {
      const pick = await vscode.window.showQuickPick(
        running.map((s) => ({ label: s.name, description: `pid ${s.info.pid}`, s })),
        { title: 'Stop which bpftrace script?' },
      );
      chosen = pick ? [pick.s] : [];
    } else if (chosen.length === 0) chosen = running;
    if (chosen.length === 0) {
      void vscode.window.showInformationMessage('No bpftrace script is running.');
      return;
    }
    // bpftrace detaches every probe before printing its maps: seconds for hundreds of tracepoints.
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Stopping ${chosen.map((s) => path.basename(s.info.path)).join(', ')}: detaching its probes, then its maps…`,
      },
      async () => {
        for (const s of chosen) await s.stop();
      },
    );
  };
}

function setDiagnostics(script: vscode.Uri, found: BpftraceDiagnostic[]): void {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === script.toString());
  const located = found.filter((d) => d.line !== undefined && (d.file === undefined || d.file === script.fsPath));
  diagnostics?.set(
    script,
    located.map((d) => {
      const line = Math.max(0, d.line! - 1);
      const text = doc && line < doc.lineCount ? doc.lineAt(line).text : '';
      const range =
        d.endLine !== undefined
          ? new vscode.Range(line, 0, Math.max(line, d.endLine - 1), Number.MAX_SAFE_INTEGER)
          : new vscode.Range(line, utf16Column(text, d.column ?? 1), line, utf16Column(text, d.endColumn ?? 1));
      const severity =
        d.severity === 'error'
          ? vscode.DiagnosticSeverity.Error
          : d.severity === 'warning'
            ? vscode.DiagnosticSeverity.Warning
            : vscode.DiagnosticSeverity.Information;
      const diagnostic = new vscode.Diagnostic(range, d.message, severity);
      diagnostic.source = 'bpftrace';
      return diagnostic;
    }),
  );
}

/** Saves check the script through the helper (bpftrace needs root even to compile). */
async function checkOnSave(ctx: Ctx, doc: vscode.TextDocument): Promise<void> {
  if (doc.uri.scheme !== 'file' || !doc.fileName.endsWith('.bt')) return;
  const helper = ctx.helper;
  if (!helper) return;
  try {
    const result = await helper.request(Methods.bpftraceCheck, { path: doc.fileName });
    setDiagnostics(doc.uri, parseBpftraceStderr(result.stderr, { file: doc.fileName }).diagnostics);
  } catch (error) {
    ctx.log.warn(`bpftrace check of ${doc.fileName}: ${(error as Error).message}`);
  }
}

export function activate(ctx: Ctx): void {
  diagnostics = vscode.languages.createDiagnosticCollection('bpftrace');
  ctx.push(
    diagnostics,
    vscode.workspace.onDidSaveTextDocument((doc) => void checkOnSave(ctx, doc)),
    vscode.workspace.onDidCloseTextDocument((doc) => diagnostics?.delete(doc.uri)),
    { dispose: () => sessions.forEach((s) => s.dispose()) },
  );
}
