// Pure parts of the helper supervisor in ctx.ts: the status bar text for each helper state and the crash
// policy (restart with backoff, give up after too many crashes in a minute). No vscode import.
import type { InitializeResult } from '../protocol/methods';

export type HelperState =
  | { status: 'starting' }
  | { status: 'running'; info: InitializeResult; via: string }
  | { status: 'stopped'; reason: string; restricted?: boolean };

/**
 * Workspace trust (issue 9): in Restricted Mode nothing of the workspace reaches a compiler or the root
 * helper, since a repository's sources, settings and tasks are not the user's own yet.
 */
export interface TrustPolicy {
  startHelper: boolean;
  runClang: boolean;
  /** Why not, for views, the status bar and refused commands. */
  reason?: string;
}

export const RESTRICTED_REASON =
  'this workspace is not trusted (Restricted Mode): eBPF Studio runs no compiler and does not start its root ' +
  'helper until you trust it';

export function trustPolicy(trusted: boolean): TrustPolicy {
  return trusted
    ? { startHelper: true, runClang: true }
    : { startHelper: false, runClang: false, reason: RESTRICTED_REASON };
}

/** The helper state while the workspace is not trusted. */
export function restrictedState(): HelperState {
  return { status: 'stopped', reason: RESTRICTED_REASON, restricted: true };
}

/** "root via sudo", "root" (started directly), "uid 1000, no elevation". */
export function helperIdentity(info: Pick<InitializeResult, 'uid'>, via: string): string {
  const who = info.uid === 0 ? 'root' : `uid ${info.uid}`;
  switch (via) {
    case 'direct':
      return who;
    case 'none':
      return `${who}, no elevation`;
    case 'custom':
      return `${who} via custom command`;
    default:
      return `${who} via ${via}`;
  }
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Command the status bar item runs when clicked. */
  command: 'ebpf.restartHelper' | 'ebpf.showOutput' | 'workbench.trust.manage';
  error: boolean;
}

export function statusView(state: HelperState): StatusView {
  switch (state.status) {
    case 'starting':
      return {
        text: '$(sync~spin) eBPF: starting helper…',
        tooltip: 'Starting the eBPF Studio helper (a password prompt may be waiting).',
        command: 'ebpf.showOutput',
        error: false,
      };
    case 'running': {
      const i = state.info;
      return {
        text: `$(pulse) eBPF: helper running (${helperIdentity(i, state.via)})`,
        tooltip:
          `eBPF Studio helper, pid ${i.pid}\nKernel ${i.kernelRelease}, libbpf ${i.libbpfVersion}\n` +
          `Pins under ${i.bpffsPrefix}\nClick to show the log.`,
        command: 'ebpf.showOutput',
        error: false,
      };
    }
    case 'stopped':
      if (state.restricted)
        return {
          text: '$(shield) eBPF: Restricted Mode',
          tooltip: `${state.reason}.\nClick to manage workspace trust.`,
          command: 'workbench.trust.manage',
          error: false,
        };
      return {
        text: '$(error) eBPF: helper not running',
        tooltip: `${state.reason}\nClick to restart the helper.`,
        command: 'ebpf.restartHelper',
        error: true,
      };
  }
}

/** "signal SIGKILL", "exit code 1". */
export function exitReason(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal) return `signal ${exit.signal}`;
  return `exit code ${exit.code ?? 'unknown'}`;
}

export type CrashDecision = { action: 'restart'; delayMs: number } | { action: 'giveUp'; crashes: number };

/**
 * Restarts a crashed helper after 0.5 s, 1 s, 2 s, … and gives up once `maxCrashes` crashes fall within
 * `windowMs`, so a helper that dies at once does not loop (or keep raising pkexec dialogs).
 */
export class CrashPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly maxCrashes = 3,
    private readonly windowMs = 60_000,
    private readonly baseDelayMs = 500,
  ) {}

  recordCrash(now: number): CrashDecision {
    this.crashes = [...this.crashes.filter((t) => now - t < this.windowMs), now];
    if (this.crashes.length >= this.maxCrashes) return { action: 'giveUp', crashes: this.crashes.length };
    return { action: 'restart', delayMs: this.baseDelayMs * 2 ** (this.crashes.length - 1) };
  }

  /** A restart the user asked for starts the count afresh. */
  reset(): void {
    this.crashes = [];
  }
}
