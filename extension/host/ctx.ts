// The one context object handed to every feature: it supervises the helper (start, status bar, context key
// ebpf.helper.running, restart after a crash), owns the log channel and the build diagnostics, and swaps
// helper-using commands for a "helper is not running" handler while the helper is down.
import * as crypto from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { config } from './config';
import { HelperClient, HelperError, HelperExit } from './client/client';
import { HelperInstallError } from './client/installed';
import { Methods } from '../protocol/methods';
import { CrashPolicy, exitReason, HelperState, restrictedState, statusView, trustPolicy } from './helper-state';

/** A command handler as registered with VS Code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Cmd = (...args: any[]) => unknown;

/**
 * One entry of the command table in main.ts. `helper` commands get the running client and are replaced by
 * an explanation while the helper is down; `always` commands work without it.
 */
export type CommandFactory = { helper: (ctx: Ctx, helper: HelperClient) => Cmd } | { always: (ctx: Ctx) => Cmd };

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  /** Diagnostics of clang builds (load of a .bpf.c, build on save). */
  readonly buildDiagnostics: vscode.DiagnosticCollection;

  private readonly kernelStateEmitter = new vscode.EventEmitter<void>();
  /** Fires after eBPF Studio loaded, unloaded or pinned something (and on an explicit refresh). */
  readonly onDidChangeKernelState = this.kernelStateEmitter.event;
  private readonly helperEmitter = new vscode.EventEmitter<HelperState>();
  /** Fires when the helper starts, stops or is restarted: views refresh from the new helper. */
  readonly onDidChangeHelper = this.helperEmitter.event;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly statusItem: vscode.StatusBarItem;
  private readonly crashPolicy = new CrashPolicy();
  private readonly commands = new Map<string, CommandFactory>();
  private readonly handlers = new Map<string, Cmd>();
  private client: HelperClient | undefined;
  private state: HelperState = { status: 'stopped', reason: 'it has not been started yet' };
  private starting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** What the next start restores after an explicit restart: the handed-over loads and statistics. */
  private restore: { adopt: boolean; stats: boolean } | undefined;
  /** This window, as the helper knows it: kept across helper restarts, so the new helper adopts its pins. */
  private readonly session = {
    id: crypto.randomBytes(3).toString('hex'),
    label: `window "${vscode.workspace.name ?? 'no folder'}" (VS Code pid ${process.pid})`,
  };

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('eBPF Studio', { log: true });
    this.buildDiagnostics = vscode.languages.createDiagnosticCollection('ebpf-build');
    this.statusItem = vscode.window.createStatusBarItem('ebpf.helper', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'eBPF Studio helper';
    this.disposables.push(
      this.log,
      this.buildDiagnostics,
      this.statusItem,
      this.kernelStateEmitter,
      this.helperEmitter,
    );
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration(async (e) => {
        if (!config.affects(e, 'helper.elevation')) return;
        const pick = await vscode.window.showInformationMessage(
          'Restart the eBPF Studio helper to use the new elevation setting? Programs that are not pinned are unloaded.',
          'Restart Helper',
        );
        if (pick) await this.restartHelper();
      }),
    );
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.startHelper()));
    this.render();
  }

  /** Where esbuild puts the helper bundle. */
  get helperScript(): string {
    return path.join(this.extension.extensionPath, 'dist', 'helper.js');
  }

  /** The running helper, for views; commands get it as an argument instead. */
  get helper(): HelperClient | undefined {
    return this.client;
  }

  get helperState(): HelperState {
    return this.state;
  }

  /** Adds a disposable that lives as long as the context. */
  push(...items: vscode.Disposable[]): void {
    this.disposables.push(...items);
  }

  kernelStateChanged(): void {
    this.kernelStateEmitter.fire();
  }

  /** Registers the command table; handlers are swapped whenever the helper starts or stops. */
  registerCommands(table: Record<string, CommandFactory>): void {
    for (const [id, factory] of Object.entries(table)) {
      this.commands.set(id, factory);
      this.disposables.push(
        vscode.commands.registerCommand(id, (...args: unknown[]) => this.handlers.get(id)!(...args)),
      );
    }
    this.swapHandlers();
  }

  /** Runs `activate` now in a trusted workspace, else once the user trusts it (nothing runs clang before). */
  whenTrusted(activate: () => void): void {
    if (trustPolicy(vscode.workspace.isTrusted).runClang) activate();
    else this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(activate));
  }

  /** Starts the helper unless it is running or starting; resolves once it runs or has failed. */
  startHelper(): Promise<void> {
    if (this.client || this.disposed) return Promise.resolve();
    if (!trustPolicy(vscode.workspace.isTrusted).startHelper) {
      this.setState(restrictedState());
      return Promise.resolve();
    }
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * Stops the helper if it runs and starts a new one that keeps what the user loaded: unpinned loads are
   * handed over (parked under the pin prefix and adopted), statistics are turned on again if they were on.
   * When the hand-over fails, the user is asked first, with the list of what would leave the kernel.
   */
  async restartHelper(): Promise<void> {
    this.crashPolicy.reset();
    clearTimeout(this.restartTimer);
    await this.starting;
    const old = this.client;
    if (old) {
      const handed = await this.handOver(old);
      if (handed === undefined) return;
      if (handed.length > 0) this.log.info(`Handing ${handed.join(', ')} over to the new helper.`);
      this.restore = { adopt: true, stats: old.statsEnabled };
      this.log.info(`Stopping the helper (pid ${old.pid}) for a restart.`);
      this.client = undefined;
      this.setState({ status: 'stopped', reason: 'it is restarting' });
      await old.dispose();
    }
    await this.startHelper();
  }

  /** Parks the old helper's unpinned loads for the next one; undefined when the user cancelled the restart. */
  private async handOver(old: HelperClient): Promise<string[] | undefined> {
    let leaving: string[] = [];
    try {
      leaving = (await old.request(Methods.listLoaded)).filter((l) => !l.pinned && !l.owner).map((l) => l.loadId);
      if (leaving.length === 0) return [];
      return (await old.request(Methods.handoff)).loadIds;
    } catch (error) {
      const restart = 'Restart Anyway';
      const pick = await vscode.window.showWarningMessage(
        `The eBPF Studio helper cannot hand its loads to a new helper. Restarting removes from the kernel: ${leaving.join(', ') || 'nothing'}.`,
        { modal: true, detail: (error as Error).message },
        restart,
      );
      return pick === restart ? [] : undefined;
    }
  }

  private async start(): Promise<void> {
    this.setState({ status: 'starting' });
    const elevation = config.helperElevation();
    this.log.info(`Starting the helper ${this.helperScript} (elevation: ${elevation}).`);
    let client: HelperClient;
    try {
      client = await HelperClient.start({
        helperScript: this.helperScript,
        elevation,
        clientName: `vscode ${vscode.version}`,
        session: this.session,
        adopt: this.restore?.adopt,
      });
    } catch (error) {
      const reason = (error as Error).message;
      this.log.error(`The helper did not start: ${reason}`);
      this.setState({ status: 'stopped', reason });
      // Not installed, another version, or changed: offer the (re)install instead of a restart (issue 9).
      if (error instanceof HelperInstallError)
        void vscode.window.showErrorMessage(reason, error.action).then((pick) => {
          if (pick) void vscode.commands.executeCommand('ebpf.installHelper');
        });
      else void this.offerRestart(`eBPF Studio could not start its helper: ${reason}`, 'Restart Helper');
      return;
    }
    if (this.disposed) {
      await client.dispose();
      return;
    }
    const i = client.info;
    this.log.info(
      `Helper running: pid ${i.pid}, uid ${i.uid} (${client.startedVia}), kernel ${i.kernelRelease}, libbpf ${i.libbpfVersion}.`,
    );
    for (const [mount, what] of Object.entries(i.mounts)) this.log.info(`bpffs ${mount}: ${what}`);
    const restore = this.restore;
    this.restore = undefined;
    if (i.released?.length) {
      const message = `Unpinned loads of the previous helper left the kernel: ${i.released.join(', ')}.`;
      this.log.warn(message);
      void vscode.window.showWarningMessage(message);
    }
    if (restore?.stats) await client.request(Methods.setStats, { enabled: true }).catch(() => undefined);
    client.onLog((m) => {
      const line = `[helper] ${m.message}`;
      if (m.level === 'error') this.log.error(line);
      else if (m.level === 'warn') this.log.warn(line);
      else this.log.info(line);
    });
    client.onExit((exit) => this.onHelperExit(client, exit));
    // Another tool's map or program: the user decides, in a modal that names its holders (issue 9).
    client.setGrantPrompt(async ({ action, message }) => {
      const pick = await vscode.window.showWarningMessage(
        message,
        { modal: true, detail: 'eBPF Studio did not load it. Allow this one change?' },
        action,
      );
      if (pick === action) this.log.warn(`Allowed by the user: ${message}`);
      return pick === action;
    });
    this.client = client;
    this.setState({ status: 'running', info: i, via: client.startedVia });
  }

  private onHelperExit(client: HelperClient, exit: HelperExit): void {
    if (client !== this.client) return;
    this.client = undefined;
    const reason = exitReason(exit);
    if (exit.expected || this.disposed) {
      this.setState({ status: 'stopped', reason: `it was stopped (${reason})` });
      return;
    }
    this.log.error(`The helper (pid ${client.pid}) stopped unexpectedly: ${reason}.`);
    // Statistics come back on with the restarted helper; unpinned loads cannot (the kernel freed them).
    this.restore = { adopt: false, stats: client.statsEnabled };
    const left = exit.unpinned.length > 0 ? ` Unpinned loads left the kernel: ${exit.unpinned.join(', ')}.` : '';
    if (left) this.log.warn(left.trim());
    const decision = this.crashPolicy.recordCrash(Date.now());
    if (decision.action === 'restart') {
      this.setState({ status: 'stopped', reason: `it stopped (${reason}) and is restarting` });
      void vscode.window.showWarningMessage(`The eBPF Studio helper stopped (${reason}); restarting…${left}`);
      this.restartTimer = setTimeout(() => void this.startHelper(), decision.delayMs);
      return;
    }
    const times = `${decision.crashes} times within a minute (last: ${reason})`;
    this.setState({ status: 'stopped', reason: `it stopped ${times}` });
    void this.offerRestart(
      `The eBPF Studio helper stopped ${times}; it is not restarted again automatically.${left}`,
      'Restart',
    );
  }

  private async offerRestart(message: string, button: string): Promise<void> {
    const pick = await vscode.window.showErrorMessage(message, button, 'Show Log');
    if (pick === button) await this.restartHelper();
    else if (pick === 'Show Log') this.log.show();
  }

  private setState(state: HelperState): void {
    this.state = state;
    void vscode.commands.executeCommand('setContext', 'ebpf.helper.running', state.status === 'running');
    this.render();
    this.swapHandlers();
    this.helperEmitter.fire(state);
  }

  private render(): void {
    const view = statusView(this.state);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.command;
    this.statusItem.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.statusItem.show();
  }

  private swapHandlers(): void {
    const client = this.client;
    for (const [id, factory] of this.commands) {
      const handler =
        'always' in factory ? factory.always(this) : client ? factory.helper(this, client) : this.helperDown(id);
      this.handlers.set(id, this.guard(id, handler));
    }
  }

  /** Stands in for a helper command while the helper is down; waits for a helper that is starting. */
  private helperDown(id: string): Cmd {
    return async (...args: unknown[]) => {
      if (this.state.status === 'starting') {
        await this.starting;
        if (this.client) return this.handlers.get(id)!(...args);
      }
      if (this.state.status === 'stopped' && this.state.restricted) {
        const manage = 'Manage Workspace Trust';
        if ((await vscode.window.showWarningMessage(`eBPF Studio: ${this.state.reason}.`, manage)) === manage)
          await vscode.commands.executeCommand('workbench.trust.manage');
        return;
      }
      const reason = this.state.status === 'stopped' ? this.state.reason : 'it did not start';
      const pick = await vscode.window.showErrorMessage(
        `The eBPF Studio helper is not running: ${reason}`,
        'Restart Helper',
      );
      if (pick) await this.restartHelper();
    };
  }

  /** Shows what a handler threw instead of letting VS Code print "command failed". */
  private guard(id: string, handler: Cmd): Cmd {
    return async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        const message = (error as Error).message ?? String(error);
        this.log.error(
          `${id}: ${error instanceof HelperError ? `${message} ${JSON.stringify(error.data)}` : ((error as Error).stack ?? message)}`,
        );
        void vscode.window.showErrorMessage(message);
      }
    };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
    await client?.dispose();
  }
}
