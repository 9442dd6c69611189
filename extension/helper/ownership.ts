// Which kernel objects are the user's to change. What eBPF Studio loaded (this helper's registry) may be
// written, deleted from, test-run and streamed; everything else on the machine belongs to other software
// (Cilium, systemd, a security agent, another VS Code window) and is read-only: a write, a delete or a test
// run is refused with a NotOwned error that names the holders, unless the request carries a grant for that
// one object (the host asks the user first). Streaming never takes events from another consumer: perf event
// arrays of other software are never subscribed (perf_buffer__new replaces the owner's per-CPU slots and
// deletes them again), a ring buffer another process holds is refused (two consumers race one consumer
// position), and each map has at most one subscription.
import type { NativeAddon } from '../../native/types';
import { HelperFailure } from './errors';
import { OwnerProcess, scanFileHolders, scanOwners } from './owners';
import type { Sessions } from './sessions';
import type { SubscribeParams } from '../protocol/methods';

export interface OwnedIds {
  programs: ReadonlySet<number>;
  maps: ReadonlySet<number>;
}

export interface OwnershipOptions {
  /** What this helper loaded (or adopted), asked at each check: loads come and go. */
  owned: () => OwnedIds;
  /** Processes holding fds on programs and maps; /proc by default. */
  scan?: () => { programs: Record<number, OwnerProcess[]>; maps: Record<number, OwnerProcess[]> };
  /** This helper's pid: its own fds are not another holder. */
  selfPid?: number;
  /** The machine's trace_pipe reader lock (several windows); without it trace_pipe is not checked. */
  sessions?: Sessions;
  /** Where trace_pipe is, asked when the first trace subscription starts. */
  tracePipe?: () => string;
}

/** "cilium-agent (pid 812), bpftool (pid 9)", or what keeps the object when no process does. */
export function describeHolders(holders: OwnerProcess[]): string {
  if (holders.length === 0) return 'other software (no process holds it open: a pin or a program keeps it)';
  const shown = holders.slice(0, 4).map((h) => `${h.comm} (pid ${h.pid})`);
  return holders.length > 4 ? `${shown.join(', ')} and ${holders.length - 4} more` : shown.join(', ');
}

const WRITE_EFFECT = {
  update: 'writing changes what it does',
  delete: 'deleting an entry changes what it does',
  testRun: 'a test run executes it and can change the maps it shares with its owner',
} as const;

export class Ownership {
  /** Map id -> the subscription streaming it: one per map, in this helper. */
  private readonly streamed = new Map<number, number>();
  private readonly traceSubscriptions = new Set<number>();
  private readonly scan: NonNullable<OwnershipOptions['scan']>;
  private readonly selfPid: number;

  constructor(
    private readonly native: Pick<NativeAddon, 'listMaps' | 'listPrograms'>,
    private readonly options: OwnershipOptions,
  ) {
    this.scan = options.scan ?? (() => scanOwners());
    this.selfPid = options.selfPid ?? process.pid;
  }

  private holders(object: 'map' | 'program', id: number): OwnerProcess[] {
    const table = object === 'map' ? this.scan().maps : this.scan().programs;
    return (table[id] ?? []).filter((h) => h.pid !== this.selfPid);
  }

  private nameOf(object: 'map' | 'program', id: number): string {
    try {
      const list = object === 'map' ? this.native.listMaps() : this.native.listPrograms();
      return list.find((o) => o.id === id)?.name || `${object} ${id}`;
    } catch {
      return `${object} ${id}`;
    }
  }

  private refuse(object: 'map' | 'program', id: number, grantable: boolean, why: (who: string) => string): never {
    const holders = this.holders(object, id);
    const name = this.nameOf(object, id);
    throw new HelperFailure(
      { kind: 'NotOwned', object, id, name, holders, grantable },
      `${name} ${why(describeHolders(holders))}`,
    );
  }

  /** map/update and map/delete: allowed on maps eBPF Studio loaded, or with a grant for exactly this map. */
  checkMapWrite(mapId: number, grant: number | undefined, action: 'update' | 'delete'): void {
    if (this.options.owned().maps.has(mapId) || grant === mapId) return;
    this.refuse('map', mapId, true, (who) => `belongs to ${who}; ${WRITE_EFFECT[action]}.`);
  }

  /** prog/testRun: allowed on programs eBPF Studio loaded, or with a grant for exactly this program. */
  checkTestRun(progId: number, grant: number | undefined): void {
    if (this.options.owned().programs.has(progId) || grant === progId) return;
    this.refuse('program', progId, true, (who) => `belongs to ${who}; ${WRITE_EFFECT.testRun}.`);
  }

  /**
   * events/subscribe on a map, before anything is opened. Never grantable: there is no way to read these
   * buffers without taking events from (or breaking) the software that consumes them.
   */
  checkSubscribe(params: SubscribeParams): void {
    if (params.source === 'trace_pipe') return this.claimTracePipe();
    const mapId = params.mapId;
    const already = this.streamed.get(mapId);
    if (already !== undefined) {
      throw new HelperFailure(
        { kind: 'BadInput', field: 'mapId', reason: `already streamed by subscription ${already}` },
        `${this.nameOf('map', mapId)} is already streamed (subscription ${already}): a second reader would take ` +
          'events from the first. Use the open stream, or stop it first.',
      );
    }
    const ours = this.options.owned().maps.has(mapId);
    const others = this.holders('map', mapId);
    if (params.source === 'perf' && (!ours || others.length > 0)) {
      this.refuse(
        'map',
        mapId,
        false,
        (who) =>
          `is a perf event array of ${who}: streaming it would replace its per-CPU buffers, and it would ` +
          'receive no event again. eBPF Studio streams only perf event arrays it loaded.',
      );
    }
    if (params.source === 'ringbuf' && others.length > 0) {
      this.refuse(
        'map',
        mapId,
        false,
        (who) =>
          `is a ring buffer that ${who} also holds, and so likely consumes: a ring buffer has one consumer ` +
          'position, and a second reader would take events from it.',
      );
    }
  }

  /**
   * trace_pipe is one destructive stream per machine: each line goes to one reader. The first trace
   * subscription of this helper takes the machine's reader lock (held until the last one ends); another
   * eBPF Studio window holding it, or any other process with trace_pipe open (cat, bpftrace), is named.
   */
  private claimTracePipe(): void {
    if (this.traceSubscriptions.size > 0 || !this.options.sessions) return;
    const refuse = (holders: OwnerProcess[], who: string): never => {
      throw new HelperFailure(
        { kind: 'NotOwned', object: 'trace_pipe', id: 0, name: 'trace_pipe', holders, grantable: false },
        `trace_pipe is being read by ${who}: it is one stream for the whole machine, and each line goes to ` +
          'one reader only. Use the trace panel of that window, or stop that reader first.',
      );
    };
    const file = this.options.tracePipe?.();
    const others = file ? scanFileHolders(file, this.selfPid) : [];
    const window = this.options.sessions.acquireTracePipe();
    if (window)
      refuse([{ pid: window.pid, comm: window.label }], `eBPF Studio in ${window.label} (helper pid ${window.pid})`);
    if (others.length > 0) {
      this.options.sessions.releaseTracePipe();
      refuse(others, describeHolders(others));
    }
  }

  /** Records that `subscription` streams `params`' map (or trace_pipe); call after it opened. */
  subscribed(params: SubscribeParams, subscription: number): void {
    if (params.source === 'trace_pipe') this.traceSubscriptions.add(subscription);
    else this.streamed.set(params.mapId, subscription);
  }

  /** The subscription could not be opened after checkSubscribe passed: give back what it claimed. */
  failed(params: SubscribeParams): void {
    if (params.source === 'trace_pipe' && this.traceSubscriptions.size === 0) this.options.sessions?.releaseTracePipe();
  }

  unsubscribed(subscription: number): void {
    for (const [mapId, id] of this.streamed) if (id === subscription) this.streamed.delete(mapId);
    if (this.traceSubscriptions.delete(subscription) && this.traceSubscriptions.size === 0)
      this.options.sessions?.releaseTracePipe();
  }

  clearSubscriptions(): void {
    this.streamed.clear();
    this.traceSubscriptions.clear();
    this.options.sessions?.releaseTracePipe();
  }
}
