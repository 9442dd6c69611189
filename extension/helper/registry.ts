// What eBPF Studio itself loaded: objects, their attachments and pins. Only entries here can be
// unloaded or pinned, so other programs on the system are never touched. Pins live under BPFFS_PREFIX
// and are found again when a new helper starts.
import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon, ObjectSpec } from '../../native/types';
import { BPFFS_PREFIX, LoadedSummary, LoadParams } from '../protocol/methods';
import { HelperFailure } from './errors';
import { faultPoint } from './faults';
import { explainLoadFailure } from './load-failures';
import { checkAttachRequests, encodeVariables } from './load-requests';
import { attachAll, loadIdFor, OwnedLoad } from './loads';
import { collision, HANDOFF_DIR, pinInto, removeDeadStaging, removePinsIn } from './pin-folders';
import { kernelTables, summaryFromPins } from './pinned-loads';
import { Sessions, sessionOfLoadId } from './sessions';
import { withObjectFile } from './system';
import {
  forgetAttachments,
  forgetStale,
  netlinkDescription,
  readRecords,
  recordAttachments,
  recordIsLive,
  releaseRecords,
  summaryFromRecords,
  TC_RECORD_DIR,
  TcRecord,
} from './tc-netlink';

// Read by the unit tests under its old address.
export { linkDescription } from './pinned-loads';

export class Registry {
  private readonly loads = new Map<string, OwnedLoad>();

  constructor(
    private readonly native: NativeAddon,
    private readonly sessions: Sessions,
  ) {}

  list(): LoadedSummary[] {
    this.rediscover();
    return [...this.loads.values()].map((l) => l.summary);
  }

  /** The kernel ids of every program and map of the loads here: the objects the user may change. */
  ownedIds(): { programs: Set<number>; maps: Set<number> } {
    const programs = new Set<number>();
    const maps = new Set<number>();
    for (const { summary, foreign } of this.loads.values()) {
      if (foreign) continue;
      for (const p of summary.programs) if (p.loaded) programs.add(p.id);
      for (const m of summary.maps) maps.add(m.id);
    }
    return { programs, maps };
  }

  /** Describes the object file at `file` (read once, through a private copy: see withObjectFile). */
  describe(file: string): Promise<ObjectSpec> {
    return withObjectFile(file, (copy) => this.describeCopy(copy));
  }

  /** On the addon's worker pool: a huge object must not stop the helper answering other requests. */
  private async describeCopy(file: string): Promise<ObjectSpec> {
    try {
      return await this.native.describeAsync(file);
    } catch (error) {
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: (error as Error).message },
        (error as Error).message,
      );
    }
  }

  load(params: LoadParams): Promise<LoadedSummary> {
    return withObjectFile(params.path, (copy) => this.loadCopy(params, copy));
  }

  /** Loads `copy`, the checked private copy of params.path; messages and the summary name params.path. */
  private async loadCopy(params: LoadParams, copy: string): Promise<LoadedSummary> {
    const spec = await this.describeCopy(copy);
    const wanted = params.programs ?? spec.programs.filter((p) => p.autoload).map((p) => p.name);
    for (const name of wanted) {
      if (!spec.programs.some((p) => p.name === name)) {
        throw new HelperFailure(
          { kind: 'BadInput', field: 'programs', reason: `no program named ${name}` },
          `${path.basename(params.path)} has no program named "${name}" (it has: ${spec.programs.map((p) => p.name).join(', ')}).`,
        );
      }
    }
    if (wanted.length === 0) {
      const why = spec.programs.length === 0 ? 'it has no programs (no SEC("...") functions)' : 'no program was chosen';
      throw new HelperFailure(
        { kind: 'BadInput', field: 'programs', reason: why },
        `Nothing to load from ${path.basename(params.path)}: ${why}.`,
      );
    }
    checkAttachRequests(params, wanted);
    const variables = encodeVariables(spec, params.variables ?? {});
    let programs = wanted;
    const refused = new Map<string, string>();
    for (;;) {
      const outcome = await this.native.loadObject({
        path: copy,
        programs,
        variables,
        maxEntries: params.maxEntries,
        logLevel: (params.logLevel ?? 0) | 4,
        // A verify (every save) relocates against the kernel types it reaches, not the whole kernel BTF.
        minimalCoreBtf: params.verifyOnly === true,
      });
      if (outcome.object) faultPoint('load:loaded');
      if (outcome.object) {
        const load = attachAll(this.native, params, spec, outcome.object, outcome.programs, refused, (name) =>
          loadIdFor(name, this.sessions.id, (id) => this.loads.has(id) || fs.existsSync(path.join(BPFFS_PREFIX, id))),
        );
        if (!params.verifyOnly) {
          this.loads.set(load.summary.loadId, load);
          this.record(load);
        }
        return load.summary;
      }
      const failure = explainLoadFailure(spec, outcome.error!, outcome.programs, outcome.libbpfLog);
      const failedProgram = outcome.error?.program;
      if (params.skipRefused && failure.data.kind === 'NotSupported' && failedProgram && programs.length > 1) {
        refused.set(failedProgram, failure.message);
        programs = programs.filter((p) => p !== failedProgram);
        continue;
      }
      throw failure;
    }
  }

  /** Netlink tc filters outlive the helper: unrecorded, a crash would leave them attached and unseen, so a
   * load whose filters cannot be recorded is unloaded again. */
  private record(load: OwnedLoad): void {
    try {
      recordAttachments(load.summary, load.attachments);
    } catch (error) {
      this.release(load);
      this.loads.delete(load.summary.loadId);
      throw new HelperFailure(
        { kind: 'Internal', errno: (error as { errno?: number }).errno },
        `${load.summary.name} was unloaded: its netlink tc filters could not be recorded under ${TC_RECORD_DIR} (${(error as Error).message}).`,
      );
    }
  }

  /** Takes a load's attachments out of the kernel and closes it; with `recorded`, also the netlink filters an
   * earlier helper added for it (not at shutdown for another window's load: they are that window's). */
  private release(load: OwnedLoad, recorded = true): void {
    for (const attachment of load.attachments) attachment.detach();
    forgetAttachments(load.summary.loadId, load.attachments);
    if (load.netlink && recorded) releaseRecords(this.native, load.netlink);
    load.object?.close();
  }

  private owned(loadId: string): OwnedLoad {
    const load = this.loads.get(loadId);
    if (!load)
      throw new HelperFailure(
        { kind: 'NotFound', what: loadId },
        `eBPF Studio has not loaded anything called "${loadId}".`,
      );
    return load;
  }

  verifierLog(loadId: string, program: string): string {
    const log = this.owned(loadId).logs.get(program);
    if (log === undefined)
      throw new HelperFailure({ kind: 'NotFound', what: program }, `No verifier log for ${program} in ${loadId}.`);
    return log;
  }

  /** Pins programs, maps and links under BPFFS_PREFIX/<loadId>/ so they outlive the helper (see pinInto). */
  pin(loadId: string): LoadedSummary {
    const load = this.owned(loadId);
    if (load.summary.pinned) return load.summary;
    const dir = path.join(BPFFS_PREFIX, loadId);
    if (load.handedOff) {
      // Already pinned, under HANDOFF_DIR: moving the folder is pinning it.
      if (fs.existsSync(dir)) collision(loadId, dir);
      fs.renameSync(path.join(HANDOFF_DIR, loadId), dir);
      load.handedOff = false;
    } else {
      try {
        pinInto(this.native, load, dir);
      } catch (error) {
        if (error instanceof HelperFailure) throw error;
        throw new HelperFailure(
          { kind: 'Internal', errno: (error as { errno?: number }).errno },
          `Pinning ${loadId} failed: ${(error as Error).message}`,
        );
      }
    }
    load.summary.pinned = true;
    return load.summary;
  }

  unload(loadId: string, grant?: string): void {
    const load = this.owned(loadId);
    if (load.foreign && grant !== loadId) {
      const { pid, label } = load.foreign;
      throw new HelperFailure(
        {
          kind: 'NotOwned',
          object: 'load',
          id: 0,
          loadId,
          name: load.summary.name,
          holders: [{ pid, comm: label }],
          grantable: true,
        },
        `${loadId} was loaded and pinned by eBPF Studio in another window (${label}, helper pid ${pid}); ` +
          'unloading it takes it away from that window.',
      );
    }
    if (load.summary.pinned) removePinsIn(this.native, path.join(BPFFS_PREFIX, loadId));
    faultPoint('unload:unpinned');
    if (load.handedOff) removePinsIn(this.native, path.join(HANDOFF_DIR, loadId));
    this.release(load);
    this.loads.delete(loadId);
  }

  /**
   * Finds what earlier helpers pinned, so a restart (or a crash) loses nothing that was pinned. A pinned load
   * of another window whose helper is alive is listed as that window's (its owner shown, not the user's to
   * change here); one whose window is gone is adopted. Loads of other windows unpinned since are dropped.
   */
  rediscover(atStart = false): void {
    const records = readRecords();
    const dirs = fs.existsSync(BPFFS_PREFIX)
      ? fs
          .readdirSync(BPFFS_PREFIX)
          .filter((d) => d !== path.basename(HANDOFF_DIR) && d !== path.basename(TC_RECORD_DIR))
      : [];
    for (const [loadId, load] of this.loads)
      if (load.foreign && !dirs.includes(loadId) && !records.some((r) => r.loadId === loadId))
        this.loads.delete(loadId);
    if (dirs.every((d) => this.loads.has(d)) && records.every((r) => this.loads.has(r.loadId))) return;
    const kernel = kernelTables(this.native);
    for (const loadId of dirs) {
      if (removeDeadStaging(this.native, loadId)) continue;
      if (this.loads.has(loadId) || !/^[a-z0-9_-]{1,64}$/.test(loadId)) continue;
      const foreign = this.foreignOwner(loadId, atStart);
      const summary = summaryFromPins(this.native, path.join(BPFFS_PREFIX, loadId), loadId, kernel);
      if (foreign) summary.owner = { pid: foreign.pid, label: foreign.label };
      this.loads.set(loadId, { summary, attachments: [], logs: new Map(), foreign });
    }
    this.rediscoverNetlink(records, atStart, kernel);
  }

  /**
   * The window a found load belongs to when it is not this one's. At start, a closed window's loads are
   * adopted (the user restarted or reopened it); later, they may be a restarting window's, so they are shown
   * as another window's until this helper starts again.
   */
  private foreignOwner(loadId: string, atStart: boolean): { pid: number; label: string } | undefined {
    const session = sessionOfLoadId(loadId);
    if (!session || session === this.sessions.id) return undefined;
    return (
      this.sessions.liveSession(session) ??
      (atStart ? undefined : { pid: 0, label: 'another eBPF Studio window, since closed' })
    );
  }

  /**
   * Netlink tc filters recorded by helpers that are gone (or by another window's): a load that is pinned gets
   * them as its attachments; one that is not is listed from its records, unpinned, so that Unload removes the
   * filters. A record whose filter is no longer in the kernel is forgotten.
   */
  private rediscoverNetlink(records: TcRecord[], atStart: boolean, kernel: ReturnType<typeof kernelTables>): void {
    const byLoad = new Map<string, TcRecord[]>();
    for (const record of records) {
      const known = this.loads.get(record.loadId);
      if (known?.object || known?.netlink) continue;
      const session = sessionOfLoadId(record.loadId);
      const live = session && session !== this.sessions.id ? this.sessions.liveSession(session) : undefined;
      if (!live && !recordIsLive(this.native, record)) {
        forgetStale(record);
        continue;
      }
      byLoad.set(record.loadId, [...(byLoad.get(record.loadId) ?? []), record]);
    }
    for (const [loadId, found] of byLoad) {
      const pinned = this.loads.get(loadId);
      if (pinned) {
        pinned.netlink = found;
        for (const record of found) {
          const program = pinned.summary.programs.find((p) => p.id === record.progId);
          if (program) program.attachment = { kind: 'tc', linkId: 0, description: netlinkDescription(record) };
        }
        continue;
      }
      const foreign = this.foreignOwner(loadId, atStart);
      const summary = summaryFromRecords(loadId, found, kernel.programs, kernel.maps);
      if (foreign) summary.owner = { pid: foreign.pid, label: foreign.label };
      this.loads.set(loadId, { summary, attachments: [], logs: new Map(), foreign, netlink: found });
    }
  }

  /**
   * Explicit restart, old helper: parks every unpinned load of the user under HANDOFF_DIR/<loadId>/ (programs,
   * maps and links pinned, so attachments stay) with its summary and verifier logs beside it, for the next
   * helper of this window. All or nothing: when one cannot be parked, what was parked is unpinned again.
   */
  handoff(): string[] {
    const parked: string[] = [];
    const loads = [...this.loads.values()].filter((l) => !l.summary.pinned && !l.foreign && l.object);
    try {
      for (const load of loads) {
        pinInto(this.native, load, path.join(HANDOFF_DIR, load.summary.loadId));
        parked.push(load.summary.loadId);
        this.sessions.saveHandoff(load.summary.loadId, { summary: load.summary, logs: Object.fromEntries(load.logs) });
      }
    } catch (error) {
      for (const loadId of parked) {
        removePinsIn(this.native, path.join(HANDOFF_DIR, loadId));
        this.sessions.takeHandoff(loadId);
      }
      throw new HelperFailure(
        { kind: 'Internal', errno: (error as { errno?: number }).errno },
        `The loads could not be handed to a new helper: ${(error as Error).message}`,
      );
    }
    return parked;
  }

  /**
   * New helper: takes the loads its window's previous helper parked when `adopt` (an explicit restart);
   * otherwise (a crash, or a restart that did not hand over) they leave the kernel as unpinned loads do, and
   * their ids are returned. Parked loads of windows whose helper is gone leave too; a live window's stay.
   */
  adoptHandoff(adopt: boolean): string[] {
    if (!fs.existsSync(HANDOFF_DIR)) return [];
    const released: string[] = [];
    const kernel = kernelTables(this.native);
    for (const loadId of fs.readdirSync(HANDOFF_DIR)) {
      if (!/^[a-z0-9_-]{1,64}$/.test(loadId)) continue;
      const dir = path.join(HANDOFF_DIR, loadId);
      const session = sessionOfLoadId(loadId);
      const mine = session === this.sessions.id;
      if (!mine && session && this.sessions.liveSession(session)) continue;
      const saved = this.sessions.takeHandoff(loadId);
      if (mine && adopt) {
        const fromPins = summaryFromPins(this.native, dir, loadId, kernel);
        // The saved summary (path, sections, statistics) stands when the kernel still has its programs.
        const summary =
          saved && saved.summary.programs.every((p) => !p.loaded || fromPins.programs.some((k) => k.id === p.id))
            ? { ...saved.summary, pinned: false }
            : { ...fromPins, pinned: false };
        this.loads.set(loadId, {
          summary,
          attachments: [],
          logs: new Map(Object.entries(saved?.logs ?? {})),
          handedOff: true,
        });
      } else {
        removePinsIn(this.native, dir);
        released.push(loadId);
      }
    }
    try {
      fs.rmdirSync(HANDOFF_DIR);
    } catch {
      // Another window's parked loads are still there.
    }
    return released;
  }

  /** On shutdown or when the parent goes away: what is not pinned leaves the kernel with our fds. */
  closeAll(): void {
    for (const load of this.loads.values()) {
      this.release(load, !load.foreign);
      // A handed-over load is an unpinned one kept by pins only across the restart: it leaves now too.
      if (load.handedOff) removePinsIn(this.native, path.join(HANDOFF_DIR, load.summary.loadId));
    }
    this.loads.clear();
    try {
      fs.rmdirSync(HANDOFF_DIR);
    } catch {
      // Absent, or holding another window's parked loads.
    }
  }
}
