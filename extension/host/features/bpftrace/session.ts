// One bpftrace run as the extension host sees it: the helper's bpftrace/output notifications for one run
// parsed into printf lines, the latest print of every map, and stderr diagnostics. No vscode import:
// kernel tests drive it through the real helper.
import {
  BpftraceEvent,
  BpftraceOutputParser,
  BpftraceStderr,
  parseBpftraceStderr,
} from '../../../formats/bpftrace-output';
import type { HelperClient } from '../../client/client';
import { Methods, Notifications } from '../../../protocol/methods';
import { BpftraceOutputNotification, BpftraceRunInfo, BpftraceStopResult } from '../../../protocol/bpftrace';

export type BpftraceHelper = Pick<HelperClient, 'request' | 'onNotification'>;
export type BpftraceMapEvent = Extract<BpftraceEvent, { type: 'map' | 'hist' | 'stats' }>;

export class BpftraceSession {
  private readonly parser = new BpftraceOutputParser();
  private partialText = '';
  private stderrText = '';
  private readonly listener: { dispose(): void };
  /** The newest print of each map, by name (with the @). */
  readonly maps = new Map<string, BpftraceMapEvent>();
  exit: BpftraceStopResult | undefined;
  /** Whole printf/time/cat/... lines, without their newline. */
  onText: (lines: string[]) => void = () => undefined;
  /** A map printed: by print(@m), interval prints, or at exit (`atExit`). */
  onMap: (event: BpftraceMapEvent) => void = () => undefined;
  onStderr: (text: string) => void = () => undefined;
  onExit: (result: BpftraceStopResult, stderr: BpftraceStderr) => void = () => undefined;
  /** Every event, for callers that want more (lost events, helper errors). */
  onEvent: (event: BpftraceEvent) => void = () => undefined;

  private constructor(
    private readonly helper: BpftraceHelper,
    readonly info: BpftraceRunInfo,
    pending: BpftraceOutputNotification[],
  ) {
    this.listener = helper.onNotification(Notifications.bpftrace, (n) => {
      if (n.run === this.info.run) this.receive(n);
    });
    // Output that arrived between the reply and this listener (rare: the reply comes first on the wire).
    for (const n of pending) if (n.run === info.run) this.receive(n);
  }

  /** Starts `bpftrace -f json script` in the helper; output is delivered through the on* callbacks. */
  static async start(helper: BpftraceHelper, script: string): Promise<BpftraceSession> {
    // Listen before asking, so that nothing the run prints at once is missed.
    const early: BpftraceOutputNotification[] = [];
    const buffer = helper.onNotification(Notifications.bpftrace, (n) => early.push(n));
    try {
      const info = await helper.request(Methods.bpftraceRun, { path: script });
      return new BpftraceSession(helper, info, early);
    } finally {
      buffer.dispose();
    }
  }

  get name(): string {
    return `bpftrace:${this.info.path.split('/').pop()}`;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGINT: bpftrace prints its maps and exits; resolves after its output has arrived. */
  async stop(): Promise<BpftraceStopResult> {
    if (this.exit) return this.exit;
    return this.helper.request(Methods.bpftraceStop, { run: this.info.run });
  }

  dispose(): void {
    this.listener.dispose();
  }

  private receive(n: BpftraceOutputNotification): void {
    if (n.stdout) this.events(this.parser.push(n.stdout));
    if (n.stderr) {
      this.stderrText += n.stderr;
      this.onStderr(n.stderr);
    }
    if (n.exit) {
      this.events(this.parser.end());
      if (this.partialText) this.onText([this.partialText]);
      this.partialText = '';
      this.exit = n.exit;
      this.onExit(n.exit, parseBpftraceStderr(this.stderrText, { file: this.info.path }));
      this.listener.dispose();
    }
  }

  private events(events: BpftraceEvent[]): void {
    const lines: string[] = [];
    for (const event of events) {
      this.onEvent(event);
      if (event.type === 'text') {
        // printf may print half a line, or several: rows are whole lines.
        const parts = (this.partialText + event.text).split('\n');
        this.partialText = parts.pop() ?? '';
        lines.push(...parts);
      } else if (event.type === 'map' || event.type === 'hist' || event.type === 'stats') {
        this.maps.set(event.name, event);
        this.onMap(event);
      } else if (event.type === 'other') {
        lines.push(event.line);
      }
    }
    if (lines.length) this.onText(lines);
  }
}
