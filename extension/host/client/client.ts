// Starts the privileged helper (elevating as configured), speaks JSON-RPC to it over its stdio, and
// reports when it dies. Bulk bytes (event batches, trace lines, map pages) arrive as binary frames on the
// same stdio (formats/frames.ts): records frames go to onEvents, map pages are attached to the map/dump
// answer that names them. Free of the vscode API, so the CLI and tests use exactly what the extension uses.
import { ChildProcess, spawn } from 'child_process';
import {
  createMessageConnection,
  MessageConnection,
  NotificationType,
  RequestType,
  RequestType0,
  ResponseError,
} from 'vscode-jsonrpc/node';
import { Emitter, Event } from 'vscode-jsonrpc';
import { ElevationSetting, explainRefusal, HelperCommand, helperCommands } from './elevation';
import { decodeFrame, MapPageFrame, RecordsFrame } from '../../formats/frames';
import { FramedMessageReader, FramedMessageWriter } from '../../formats/framed-stream';
import {
  InitializeResult,
  LoadedSummary,
  LogNotification,
  Methods,
  Notifications,
  PROTOCOL_VERSION,
} from '../../protocol/methods';
import { HelperError, HelperErrorData } from '../../protocol/errors';

// The typed error belongs to the protocol; re-exported for the client's callers.
export { HelperError };

export interface HelperClientOptions {
  /** Absolute path of the bundled helper (dist/helper.js). */
  helperScript: string;
  /** The runtime to run it with; the extension host's own executable by default. */
  runtime?: string;
  elevation?: ElevationSetting;
  clientName?: string;
  /** The window the helper serves (six hex digits and a label): a restarted helper of the same window takes
   * over its pins; another window's pinned loads are shown as theirs. */
  session?: { id: string; label: string };
  /** An explicit restart: take the loads the previous helper of this window handed over. */
  adopt?: boolean;
  /** How long the helper may take to answer `initialize` (a pkexec dialog waits for the user). */
  startTimeoutMs?: number;
}

/** The helper's refusal to change an object eBPF Studio did not load (see HelperErrorData). */
export type NotOwnedData = Extract<HelperErrorData, { kind: 'NotOwned' }>;

/**
 * Asked when the helper refuses to change an object that belongs to other software: the host shows the
 * helper's message (which names the holders) in a modal; true sends the same request again with a grant for
 * that one object. `action` is the verb for the button: "Write", "Delete", "Run".
 */
export type GrantPrompt = (refusal: { action: string; message: string; data: NotOwnedData }) => Promise<boolean>;

const GRANT_ACTIONS: Record<string, string> = {
  [Methods.mapUpdate.method]: 'Write',
  [Methods.mapEdit.method]: 'Write',
  [Methods.mapDelete.method]: 'Delete',
  [Methods.testRun.method]: 'Run',
  [Methods.unload.method]: 'Unload',
};

/** The helper could not be started: elevation refused, runtime missing, or it died at once. */
export class HelperStartError extends Error {
  override name = 'HelperStartError';
}

/** Map pages whose answer has not been read yet; normally at most one per request in flight. */
const MAX_UNCLAIMED_PAGES = 32;

/**
 * Frames from the helper: records go to a listener, map pages wait (briefly) for the answer naming them.
 * The helper writes a page's frame before its answer on the same stream, so the page is always here first.
 */
class FrameRouter {
  readonly pages = new Map<number, MapPageFrame>();
  onRecords: (frame: RecordsFrame) => void = () => undefined;
  onError: (error: Error) => void = () => undefined;

  accept(body: Buffer): void {
    let frame;
    try {
      frame = decodeFrame(body);
    } catch (error) {
      this.onError(error as Error);
      return;
    }
    if (frame.kind !== 'mapPage') {
      this.onRecords(frame);
      return;
    }
    this.pages.set(frame.token, frame);
    // Answers that never came (a cancelled request) must not keep their pages alive.
    if (this.pages.size > MAX_UNCLAIMED_PAGES) this.pages.delete(this.pages.keys().next().value!);
  }

  /** Attaches the page an answer names (`frame`) to it as `page`. */
  claim(result: unknown): void {
    const r = result as { frame?: unknown; page?: unknown } | null;
    if (!r || typeof r !== 'object' || typeof r.frame !== 'number') return;
    const frame = this.pages.get(r.frame);
    if (!frame)
      throw new HelperError(`The helper's answer names frame ${r.frame}, which never came.`, { kind: 'Internal' });
    this.pages.delete(r.frame);
    r.page = { keys: frame.keys, values: frame.values };
  }
}

/** How a helper ended; `unpinned` names the loads (known to this client) that left the kernel with it. */
export interface HelperExit {
  code: number | null;
  signal: string | null;
  expected: boolean;
  unpinned: string[];
}

export class HelperClient {
  private readonly exitEmitter = new Emitter<HelperExit>();
  private readonly eventsEmitter = new Emitter<RecordsFrame>();
  private readonly logEmitter = new Emitter<LogNotification>();
  private closing = false;
  private exited = false;
  private grantPrompt: GrantPrompt | undefined;
  /** The loads as the helper last described them (load, pin, unload, list), for the exit report. */
  private readonly loads = new Map<string, LoadedSummary>();
  private stats = false;

  /** Fires once when the helper process ends; `expected` is false for a crash or a kill. */
  readonly onExit: Event<HelperExit> = this.exitEmitter.event;
  /** Records frames (events, trace lines) of every subscription; acknowledge them with ackEvents. */
  readonly onEvents: Event<RecordsFrame> = this.eventsEmitter.event;
  readonly onLog: Event<LogNotification> = this.logEmitter.event;

  private constructor(
    private readonly child: ChildProcess,
    private readonly connection: MessageConnection,
    private readonly frames: FrameRouter,
    readonly info: InitializeResult,
    readonly startedVia: HelperCommand['via'],
  ) {
    frames.onRecords = (frame) => this.eventsEmitter.fire(frame);
    frames.onError = (error) =>
      this.logEmitter.fire({
        level: 'error',
        message: `a binary frame from the helper was malformed: ${error.message}`,
      });
    connection.onNotification(Notifications.log, (e) => this.logEmitter.fire(e));
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.connection.dispose();
      // What was loaded and not pinned left the kernel with the helper (handed-over loads leave when the
      // next helper starts without adopting them).
      const unpinned = [...this.loads.values()].filter((l) => !l.pinned && !l.owner).map((l) => l.loadId);
      this.exitEmitter.fire({ code, signal, expected: this.closing, unpinned });
    });
  }

  private readonly notificationEmitters = new Map<string, Emitter<unknown>>();

  /**
   * One of the helper's other notifications (features that have their own, e.g. bpftrace output). The
   * connection keeps one handler per method, so listeners share it through an emitter.
   */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): { dispose(): void } {
    let emitter = this.notificationEmitters.get(type.method);
    if (!emitter) {
      const created = new Emitter<unknown>();
      this.notificationEmitters.set(type.method, created);
      this.connection.onNotification(type, (params: P) => created.fire(params));
      emitter = created;
    }
    return emitter.event(handler as (params: unknown) => void);
  }

  get pid(): number {
    return this.info.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Starts the helper, trying each configured way in turn; throws HelperStartError with every reason. */
  static async start(options: HelperClientOptions): Promise<HelperClient> {
    const commands = helperCommands(
      options.elevation ?? 'auto',
      options.runtime ?? process.execPath,
      options.helperScript,
    );
    if (commands.length === 0) {
      throw new HelperStartError(
        'eBPF Studio needs root to load BPF programs, and neither sudo nor pkexec is installed. ' +
          'Install one of them, or run VS Code with CAP_BPF/CAP_SYS_ADMIN.',
      );
    }
    const reasons: string[] = [];
    for (const command of commands) {
      try {
        return await HelperClient.startWith(command, options);
      } catch (error) {
        reasons.push((error as Error).message);
      }
    }
    throw new HelperStartError(reasons.join('\n'));
  }

  private static startWith(command: HelperCommand, options: HelperClientOptions): Promise<HelperClient> {
    return new Promise((resolve, reject) => {
      const child = spawn(command.command, command.args, { env: command.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      let settled = false;
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        // Keep the tail: it is what explains a refusal.
        stderr = (stderr + chunk).slice(-8192);
      });
      // A refused elevation closes the pipes at once: writes then fail with EPIPE, which the exit
      // handler below explains; it must not become an unhandled error.
      child.stdin!.on('error', () => undefined);
      const frames = new FrameRouter();
      // A failed write is always a dead helper: the exit handler reports it, and disposing the connection
      // rejects the pending requests (vscode-jsonrpc would otherwise raise an unhandled rejection).
      const connection = createMessageConnection(
        new FramedMessageReader(child.stdout!, {
          maxMessageBytes: 1024 * 1024 * 1024,
          onFrame: (body) => frames.accept(body),
        }),
        new FramedMessageWriter(child.stdin!, { ignoreErrors: true }),
      );
      connection.onError(() => undefined);
      connection.listen();
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connection.dispose();
        child.kill('SIGKILL');
        reject(new HelperStartError(message));
      };
      const timer = setTimeout(
        () =>
          fail(
            `The eBPF Studio helper did not answer within ${(options.startTimeoutMs ?? 120_000) / 1000} s (${command.via}).`,
          ),
        options.startTimeoutMs ?? 120_000,
      );
      child.once('error', (error) =>
        fail(`Could not run ${command.command} to start the eBPF Studio helper: ${error.message}`),
      );
      child.once('exit', (code) => {
        // Let stderr drain before explaining.
        setImmediate(() => fail(explainRefusal(command, code, stderr)));
      });
      connection
        .sendRequest(Methods.initialize, {
          protocolVersion: PROTOCOL_VERSION,
          clientName: options.clientName ?? 'ebpf-studio',
          session: options.session,
          adopt: options.adopt,
        })
        .then((info) => {
          if (settled) return;
          if (info.protocolVersion !== PROTOCOL_VERSION) {
            fail(
              `The helper speaks protocol ${info.protocolVersion}, this extension ${PROTOCOL_VERSION}: reinstall eBPF Studio.`,
            );
            return;
          }
          settled = true;
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.removeAllListeners('error');
          child.stderr!.removeAllListeners('data');
          child.stderr!.resume();
          resolve(new HelperClient(child, connection, frames, info, command.via));
        })
        .catch((error: Error) => {
          // A refused elevation closes the pipe before it exits: let the exit handler explain it.
          const explainLater = setTimeout(
            () => fail(`The eBPF Studio helper failed to initialize: ${error.message}`),
            2000,
          );
          child.once('exit', () => clearTimeout(explainLater));
        });
    });
  }

  /** Who decides when the helper refuses to change another tool's object; without one, the refusal stands. */
  setGrantPrompt(prompt: GrantPrompt | undefined): void {
    this.grantPrompt = prompt;
  }

  /**
   * A typed request; helper errors come back as HelperError with their data. A NotOwned refusal that the
   * user may override goes to the grant prompt, and the request is sent again with a grant for that object.
   */
  async request<R>(type: RequestType0<R, void>): Promise<R>;
  async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
  async request<P, R>(type: RequestType0<R, void> | RequestType<P, R, void>, params?: P): Promise<R> {
    try {
      return await this.send(type, params);
    } catch (error) {
      const action = GRANT_ACTIONS[type.method];
      if (
        !(error instanceof HelperError) ||
        error.data.kind !== 'NotOwned' ||
        !error.data.grantable ||
        !action ||
        !this.grantPrompt ||
        params === undefined ||
        (params as { grant?: number }).grant !== undefined
      )
        throw error;
      if (!(await this.grantPrompt({ action, message: error.message, data: error.data }))) throw error;
      const grant = error.data.object === 'load' ? error.data.loadId : error.data.id;
      return this.send(type, { ...params, grant } as P);
    }
  }

  /** Whether run-time statistics are on (kernel/stats), so a restarted helper can turn them on again. */
  get statsEnabled(): boolean {
    return this.stats;
  }

  /** Keeps `loads` and `stats` as the helper's answers describe them. */
  private track(method: string, params: unknown, result: unknown): void {
    if (method === Methods.listLoaded.method) {
      this.loads.clear();
      for (const load of result as LoadedSummary[]) this.loads.set(load.loadId, load);
    } else if (method === Methods.load.method || method === Methods.pin.method) {
      const load = result as LoadedSummary;
      if (load.loadId) this.loads.set(load.loadId, load);
    } else if (method === Methods.unload.method) {
      this.loads.delete((params as { loadId: string }).loadId);
    } else if (method === Methods.setStats.method) {
      this.stats = (result as { enabled: boolean }).enabled;
    }
  }

  private async send<P, R>(type: RequestType0<R, void> | RequestType<P, R, void>, params?: P): Promise<R> {
    const result = await this.sendRaw(type, params);
    this.track(type.method, params, result);
    return result;
  }

  private async sendRaw<P, R>(type: RequestType0<R, void> | RequestType<P, R, void>, params?: P): Promise<R> {
    if (this.exited) throw new HelperError('The eBPF Studio helper is not running.', { kind: 'Internal' });
    let result: R;
    try {
      result =
        params === undefined
          ? await this.connection.sendRequest(type as RequestType0<R, void>)
          : await this.connection.sendRequest(type as RequestType<P, R, void>, params);
    } catch (error) {
      if (error instanceof ResponseError) {
        throw new HelperError(error.message, (error.data as HelperErrorData) ?? { kind: 'Internal' });
      }
      throw new HelperError(
        this.exited ? 'The eBPF Studio helper stopped while working on the request.' : (error as Error).message,
        { kind: 'Internal' },
      );
    }
    this.frames.claim(result);
    return result;
  }

  /** Tells the helper this client has taken `bytes` of a subscription's records (its window reopens). */
  ackEvents(subscription: number, bytes: number): void {
    if (!this.exited && bytes > 0)
      void this.connection.sendNotification(Notifications.eventsAck, { subscription, bytes });
  }

  notify<P>(type: NotificationType<P>, params: P): void {
    void this.connection.sendNotification(type, params);
  }

  /** Asks the helper to release everything it holds and exit; kills it if it does not within 5 s. */
  async dispose(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    const exited = new Promise<void>((resolve) => this.onExit(() => resolve()));
    try {
      await Promise.race([this.connection.sendRequest(Methods.shutdown), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      // It may already be gone; the kill below settles it.
    }
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
