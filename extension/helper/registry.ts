// What eBPF Studio itself loaded: objects, their attachments and pins. Only entries here can be
// unloaded or pinned, so other programs on the system are never touched. Pins live under BPFFS_PREFIX
// and are found again when a new helper starts.
import * as fs from 'fs';
import * as path from 'path';
import type {
  Attachment,
  AttachTarget,
  LinkInfo,
  LoadedObject,
  NativeAddon,
  ObjectSpec,
  ProgramLoadReport,
} from '../../native/types';
import { parseVerifierStats } from '../formats/verifier-log';
import { libbpfLines, mapCreateFailure, missingAttachTarget } from '../formats/load-failure';
import { parseRejection } from '../formats/verifier-rejection';
import { errnoName, HelperFailure } from './errors';
import { AttachRequest, BPFFS_PREFIX, LoadedSummary, LoadParams, ProgramReport } from '../protocol/methods';
import {
  checkCgroupPath,
  checkUprobeBinary,
  interfaceIndex,
  lockdownMode,
  tracefsRoot,
  withObjectFile,
} from './system';
import { withTracepointCategory } from './tracepoints';
import { faultPoint } from './faults';
import { nameOfLoadId, SessionRecord, Sessions, sessionOfLoadId } from './sessions';

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EBUSY = 16;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

interface OwnedLoad {
  summary: LoadedSummary;
  /** Absent for loads found pinned by an earlier helper: the kernel holds them through their pins. */
  object?: LoadedObject;
  attachments: Attachment[];
  logs: Map<string, string>;
  /** Set for a pinned load of another window whose helper is alive: not the user's to change here. */
  foreign?: SessionRecord;
  /** Handed over by the previous helper of this window (explicit restart): pinned under HANDOFF_DIR only to
   * survive the restart, and released like any unpinned load when this helper exits or unloads it. */
  handedOff?: boolean;
}

/** Where an explicit restart parks the window's unpinned loads for the next helper (bpffs has no dots). */
export const HANDOFF_DIR = path.join(BPFFS_PREFIX, 'handoff');

/** Sections libbpf attaches by itself; the others need a target (interface, cgroup, binary). */
export function autoAttachable(section: string): boolean {
  if (/^(uprobe|uretprobe|uprobe\.s|uretprobe\.s|usdt)\//.test(section)) return section.includes(':');
  return /^(tracepoint|tp|raw_tracepoint|raw_tp|raw_tracepoint\.w|raw_tp\.w|tp_btf|fentry|fexit|fmod_ret|fentry\.s|fexit\.s|fmod_ret\.s|lsm|lsm\.s|kprobe|kretprobe|kprobe\.multi|kretprobe\.multi|iter|iter\.s)\//.test(
    section,
  );
}

/** What a section needs before it can be attached, in words for the load dialog. */
export function attachNeed(section: string, type: string): string | undefined {
  if (autoAttachable(section)) return undefined;
  if (type === 'xdp') return 'an interface (XDP)';
  if (type === 'sched_cls' || type === 'sched_act') return 'an interface and a direction (tc)';
  if (type === 'socket_filter') return 'an interface to open a socket on';
  if (type.startsWith('cgroup')) return 'a cgroup v2 directory';
  if (type === 'kprobe' && /^u(ret)?probe/.test(section)) return 'a binary and a function (uprobe)';
  return 'a target this section does not name';
}

/** Converts CLOCK_BOOTTIME nanoseconds (what the kernel reports) into a wall-clock time. */
export function bootTimeToEpochMs(
  bootNs: number,
  uptimeSeconds = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]),
): number {
  return Math.round(Date.now() - (uptimeSeconds * 1e3 - bootNs / 1e6));
}

/**
 * An attach point as the kernel describes a link, in the words the load reported it with. A tracepoint
 * link names only the tracepoint: its category comes from tracefs (`eventsDir`), when tracefs is there.
 */
export function linkDescription(link: LinkInfo, eventsDir?: string): string {
  if (!link.target) return link.type;
  if (link.type !== 'perf_event') return `${link.type}/${link.target}`;
  return `tracepoint/${eventsDir ? withTracepointCategory(eventsDir, link.target) : link.target}`;
}

function tracefsEvents(): string | undefined {
  try {
    return path.join(tracefsRoot(), 'events');
  } catch {
    return undefined;
  }
}

/** bpffs refuses names with dots (internal maps are called "obj.rodata"), so pins use underscores. */
/** Pins in progress live in `<prefix>/pinning--<pid>--<loadId>` until they are complete. */
const STAGING_PREFIX = 'pinning--';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pinName(kind: 'prog' | 'map', name: string): string {
  return `${kind}_${name.replace(/\./g, '_')}`;
}

/** "<name>-<session>-<n>": the session id keeps two windows' helpers from choosing the same id. */
function loadIdFor(name: string, session: string, taken: (id: string) => boolean): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 48) || 'object';
  for (let n = 1; ; n++) {
    const id = `${base}-${session}-${n}`;
    if (!taken(id)) return id;
  }
}

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
  describe(file: string): ObjectSpec {
    return withObjectFile(file, (copy) => this.describeCopy(copy));
  }

  private describeCopy(file: string): ObjectSpec {
    try {
      return this.native.describeObject(file);
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
    const spec = this.describeCopy(copy);
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
    this.checkAttachRequests(params, wanted);
    const variables = this.encodeVariables(spec, params.variables ?? {});
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
      if (outcome.object) return this.attachAll(params, spec, outcome.object, outcome.programs, refused);
      const failure = this.explainLoadFailure(spec, outcome.error!, outcome.programs, outcome.libbpfLog);
      const failedProgram = outcome.error?.program;
      if (params.skipRefused && failure.data.kind === 'NotSupported' && failedProgram && programs.length > 1) {
        refused.set(failedProgram, failure.message);
        programs = programs.filter((p) => p !== failedProgram);
        continue;
      }
      throw failure;
    }
  }

  /** Attach requests are checked before anything is loaded: a typo in a program name must not load the
   * object unattached, and a uprobe without a function would otherwise go to offset 0 of the binary. */
  private checkAttachRequests(params: LoadParams, wanted: string[]): void {
    for (const [name, request] of Object.entries(params.attach ?? {})) {
      if (!wanted.includes(name)) {
        throw new HelperFailure(
          { kind: 'BadInput', field: `attach.${name}`, reason: 'not a program being loaded' },
          `Cannot attach "${name}": ${path.basename(params.path)} loads no program of that name (programs loaded: ${wanted.join(', ')}).`,
        );
      }
      if (request.kind === 'uprobe') {
        if (request.func === undefined && request.offset === undefined) {
          throw new HelperFailure(
            { kind: 'BadInput', field: `attach.${name}.func`, reason: 'a uprobe needs a function or an offset' },
            `Cannot attach ${name}: a uprobe needs a function name (or an offset) in ${request.binary}.`,
          );
        }
        checkUprobeBinary(request.binary);
      }
    }
  }

  private encodeVariables(spec: ObjectSpec, values: Record<string, string>): Record<string, Buffer> {
    const encoded: Record<string, Buffer> = {};
    for (const [name, hex] of Object.entries(values)) {
      const variable = spec.variables.find((v) => v.name === name);
      if (!variable) {
        throw new HelperFailure(
          { kind: 'BadInput', field: `variables.${name}`, reason: 'no such global variable' },
          `The object has no global variable "${name}".`,
        );
      }
      if (
        !variable.section.startsWith('.rodata') &&
        !variable.section.startsWith('.data') &&
        variable.section !== '.bss'
      ) {
        throw new HelperFailure(
          { kind: 'BadInput', field: `variables.${name}`, reason: `in section ${variable.section}` },
          `"${name}" cannot be set before load.`,
        );
      }
      const bytes = Buffer.from(hex, 'hex');
      if (bytes.length !== variable.size) {
        throw new HelperFailure(
          { kind: 'BadInput', field: `variables.${name}`, reason: `needs ${variable.size} bytes, got ${bytes.length}` },
          `"${name}" is ${variable.size} bytes long; the value given has ${bytes.length}.`,
        );
      }
      encoded[name] = bytes;
    }
    return encoded;
  }

  /** Names the cause of a failed load: a refused program type, a verifier rejection, or libbpf's error. */
  private explainLoadFailure(
    spec: ObjectSpec,
    error: { errno: number; message: string; program?: string },
    reports: ProgramLoadReport[],
    libbpfLog: string,
  ): HelperFailure {
    const program = spec.programs.find((p) => p.name === error.program);
    const report = reports.find((r) => r.name === error.program);
    // libbpf looks the attach target up in the kernel's BTF before the program reaches the verifier.
    const missing = program && missingAttachTarget(program.name, program.section, libbpfLog);
    if (program && missing && (error.errno === ESRCH || error.errno === ENOENT)) {
      return new HelperFailure(
        {
          kind: 'NotSupported',
          feature: 'attach target',
          reason: missing,
          program: program.name,
          libbpf: libbpfLines(libbpfLog, { program: program.name }),
        },
        `Cannot load ${program.name} (SEC("${program.section}")): ${missing}.`,
      );
    }
    if (program && (error.errno === EPERM || error.errno === EOPNOTSUPP || error.errno === ENOTSUPP)) {
      const lockdown = lockdownMode();
      const cause =
        lockdown && lockdown !== 'none'
          ? `the kernel is in lockdown mode "${lockdown}"`
          : "the kernel's security policy (a BPF LSM or seccomp policy, or restrictions of this VM) forbids them; ordinary hosts allow root to load them";
      const kind = program.expectedAttachType ? `${program.type} (${program.expectedAttachType})` : program.type;
      return new HelperFailure(
        {
          kind: 'NotSupported',
          feature: `${kind} programs`,
          reason: `${errnoName(error.errno)}: likely cause: ${cause}`,
          program: program.name,
        },
        `Cannot load ${program.name} (SEC("${program.section}")): this kernel refuses ${kind} programs with ` +
          `${errnoName(error.errno)}. Likely cause: ${cause}.`,
      );
    }
    if (program && report?.log) {
      const failure = parseRejection(report.log);
      const where = failure?.location ? ` at ${failure.location.file}:${failure.location.line}` : '';
      const message = failure?.message ?? error.message;
      return new HelperFailure(
        { kind: 'VerifierRejected', program: program.name, message, log: report.log, errno: error.errno },
        `The verifier rejected ${program.name}${where}: ${message}`,
      );
    }
    const map = mapCreateFailure(libbpfLog);
    if (map) {
      return new HelperFailure(
        {
          kind: 'Internal',
          errno: error.errno,
          map: map.map,
          libbpf: libbpfLines(libbpfLog, { map: map.map }),
        },
        `Map ${map.map} of ${spec.name} could not be created (${errnoName(error.errno)}): ${map.reason}` +
          (spec.maps.find((m) => m.name === map.map)?.maxEntries === 0
            ? ': its max_entries is 0, left to the loader to set (maxEntries).'
            : '.'),
      );
    }
    const lines = libbpfLines(libbpfLog, { program: program?.name });
    const reason = error.message.replace(/^load \S+?(: program \S+)?: /, '');
    return new HelperFailure(
      { kind: 'Internal', errno: error.errno, program: program?.name, libbpf: lines },
      program
        ? `Loading ${program.name} (SEC("${program.section}")) failed (${errnoName(error.errno)}): ${reason}.`
        : `Loading ${spec.name} failed (${errnoName(error.errno)}): ${reason}.`,
    );
  }

  private resolveTarget(request: AttachRequest): AttachTarget {
    switch (request.kind) {
      case 'xdp':
        return { kind: 'xdp', ifindex: interfaceIndex(request.interface), mode: request.mode };
      case 'tc':
        return { kind: 'tc', ifindex: interfaceIndex(request.interface), direction: request.direction };
      case 'socket':
        return { kind: 'socket', ifindex: request.interface ? interfaceIndex(request.interface) : 0 };
      case 'cgroup':
        return { kind: 'cgroup', path: checkCgroupPath(request.path) };
      case 'uprobe':
        checkUprobeBinary(request.binary);
        return request;
      case 'none':
        throw new Error('unreachable: "none" is never attached');
      default:
        return request;
    }
  }

  private attachFailure(
    program: string,
    request: AttachRequest,
    error: { errno?: number; message: string },
  ): HelperFailure {
    if (request.kind === 'auto' || request.kind === 'tracepoint') {
      if (
        error.errno === ENOENT &&
        !fs.existsSync('/sys/bus/event_source/devices/kprobe') &&
        /kprobe|kretprobe/.test(error.message)
      ) {
        return new HelperFailure(
          {
            kind: 'NotSupported',
            feature: 'kprobes',
            reason: 'this kernel is built without kprobe events (CONFIG_KPROBE_EVENTS)',
          },
          `Cannot attach ${program}: this kernel has no kprobe support (CONFIG_KPROBE_EVENTS is off).`,
        );
      }
    }
    if (error.errno === EBUSY && (request.kind === 'xdp' || request.kind === 'tc')) {
      const hook = request.kind === 'xdp' ? 'an XDP' : `a tc ${request.direction}`;
      return new HelperFailure(
        { kind: 'BadInput', field: 'interface', reason: `${request.interface} already has ${hook} program attached` },
        `Cannot attach ${program}: ${request.interface} already has ${hook} program attached. Unload or detach that one first (the Programs view lists what is attached where).`,
      );
    }
    if (error.errno === EPERM || error.errno === EOPNOTSUPP || error.errno === ENOTSUPP) {
      return new HelperFailure(
        {
          kind: 'NotSupported',
          feature: `attaching ${request.kind}`,
          reason: `${errnoName(error.errno!)}: ${error.message}`,
        },
        `Cannot attach ${program}: the kernel refused (${errnoName(error.errno!)}): ${error.message}`,
      );
    }
    return new HelperFailure({ kind: 'Internal', errno: error.errno }, `Cannot attach ${program}: ${error.message}`);
  }

  private attachAll(
    params: LoadParams,
    spec: ObjectSpec,
    object: LoadedObject,
    reports: ProgramLoadReport[],
    refused: Map<string, string>,
  ): LoadedSummary {
    const attachments: Attachment[] = [];
    const programs: ProgramReport[] = [];
    try {
      for (const loaded of object.programs()) {
        const report = reports.find((r) => r.name === loaded.name);
        const programReport: ProgramReport = {
          name: loaded.name,
          section: loaded.section,
          type: loaded.type,
          loaded: true,
          id: loaded.id,
          stats: parseVerifierStats(report?.log ?? ''),
        };
        const request =
          params.attach?.[loaded.name] ?? (autoAttachable(loaded.section) ? { kind: 'auto' as const } : undefined);
        if (request && request.kind !== 'none' && !params.verifyOnly) {
          const target = this.resolveTarget(request);
          let attachment: Attachment;
          try {
            attachment = object.attach(loaded.name, target);
          } catch (error) {
            throw this.attachFailure(loaded.name, request, error as Error & { errno?: number });
          }
          attachments.push(attachment);
          faultPoint('load:attached');
          programReport.attachment = {
            kind: attachment.kind,
            linkId: attachment.linkId,
            description: attachment.description,
          };
        } else if (!request) {
          programReport.attachNote = `loaded, not attached: needs ${attachNeed(loaded.section, loaded.type)}`;
        }
        programs.push(programReport);
      }
      for (const [name, reason] of refused) {
        const program = spec.programs.find((p) => p.name === name)!;
        programs.push({
          name,
          section: program.section,
          type: program.type,
          loaded: false,
          id: 0,
          stats: {},
          attachNote: reason,
        });
      }
    } catch (error) {
      // Nothing half-done stays in the kernel: detach what was attached and close the object.
      for (const attachment of attachments) attachment.detach();
      object.close();
      throw error;
    }
    const summary: LoadedSummary = {
      loadId: params.verifyOnly
        ? ''
        : loadIdFor(
            object.name,
            this.sessions.id,
            (id) => this.loads.has(id) || fs.existsSync(path.join(BPFFS_PREFIX, id)),
          ),
      name: object.name,
      path: params.path,
      source: params.source,
      loadedAt: Date.now(),
      pinned: false,
      programs,
      maps: object.maps().map((m) => ({ name: m.name, id: m.id, type: m.type, internal: m.internal })),
    };
    const logs = new Map(reports.map((r) => [r.name, r.log]));
    if (params.verifyOnly) {
      // What the JIT made of each program, for `check --stats` (read before the object is closed).
      const loadedIds = new Set(programs.filter((p) => p.loaded).map((p) => p.id));
      for (const info of this.native.listPrograms().filter((p) => loadedIds.has(p.id))) {
        const report = programs.find((p) => p.id === info.id);
        if (report) report.stats.jitedBytes = info.jitedBytes;
      }
      object.close();
    } else {
      this.loads.set(summary.loadId, { summary, object, attachments, logs });
    }
    return summary;
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
      if (fs.existsSync(dir)) this.collision(loadId, dir);
      fs.renameSync(path.join(HANDOFF_DIR, loadId), dir);
      load.handedOff = false;
    } else {
      try {
        this.pinInto(load, dir);
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

  private collision(loadId: string, dir: string): never {
    throw new HelperFailure(
      { kind: 'BadInput', field: 'loadId', reason: `${dir} already exists` },
      `Pinning ${loadId} failed: ${dir} already exists (another helper's pins); nothing was changed.`,
    );
  }

  /**
   * Pins a load's programs, maps and links into `dir`, which must not exist. They are pinned into a staging
   * folder beside it, named after this helper's pid, and renamed into place at the end: a helper that dies
   * half-way leaves no half-pinned load (the next helper removes a dead helper's staging folder, and what it
   * held leaves the kernel as an unpinned load would). On failure, what this call pinned is unpinned.
   */
  private pinInto(load: OwnedLoad, dir: string): void {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    // A directory already there is another helper's, and is left alone.
    if (fs.existsSync(dir)) this.collision(load.summary.loadId, dir);
    const staging = path.join(path.dirname(dir), `${STAGING_PREFIX}${process.pid}--${path.basename(dir)}`);
    fs.mkdirSync(staging, { mode: 0o700 });
    const pinned: string[] = [];
    const pinTo = (file: string, pin: (file: string) => void) => {
      pin(file);
      pinned.push(file);
    };
    try {
      for (const program of load.object!.programs())
        pinTo(path.join(staging, pinName('prog', program.name)), (f) => load.object!.pinProgram(program.name, f));
      faultPoint('pin:partial');
      for (const map of load.object!.maps())
        pinTo(path.join(staging, pinName('map', map.name)), (f) => load.object!.pinMap(map.name, f));
      load.attachments.forEach((attachment, i) => {
        if (attachment.linkId) pinTo(path.join(staging, `link_${i}`), (f) => attachment.pin(f));
      });
      // Into place in one step; should another helper have taken the name meanwhile, rename fails and the
      // pins are removed here, its folder untouched.
      fs.renameSync(staging, dir);
    } catch (error) {
      for (const file of pinned) this.native.unpin(file);
      fs.rmdirSync(staging);
      throw error;
    }
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
    if (load.summary.pinned) this.removePins(loadId);
    faultPoint('unload:unpinned');
    if (load.handedOff) this.removePinsIn(path.join(HANDOFF_DIR, loadId));
    for (const attachment of load.attachments) attachment.detach();
    load.object?.close();
    this.loads.delete(loadId);
  }

  private removePins(loadId: string): void {
    this.removePinsIn(path.join(BPFFS_PREFIX, loadId));
  }

  private removePinsIn(dir: string): void {
    // Only ever a load's folder below our own prefix: load ids are validated and joined, never taken as paths.
    if (![BPFFS_PREFIX, HANDOFF_DIR].includes(path.dirname(dir))) throw new Error(`refusing to touch ${dir}`);
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir)) this.native.unpin(path.join(dir, entry));
    fs.rmdirSync(dir);
  }

  /** A staging folder of a pin that did not finish: removed when its helper is gone. True for any staging folder. */
  private removeDeadStaging(entry: string): boolean {
    const staging = new RegExp(`^${STAGING_PREFIX}(\\d+)--`).exec(entry);
    if (!staging) return false;
    if (processAlive(Number(staging[1]))) return true;
    const dir = path.join(BPFFS_PREFIX, entry);
    for (const pin of fs.readdirSync(dir)) this.native.unpin(path.join(dir, pin));
    fs.rmdirSync(dir);
    return true;
  }

  /**
   * Finds what earlier helpers pinned, so a restart (or a crash) loses nothing that was pinned. A pinned load
   * of another window whose helper is alive is listed as that window's (its owner shown, not the user's to
   * change here); one whose window is gone is adopted. Loads of other windows unpinned since are dropped.
   */
  rediscover(atStart = false): void {
    const dirs = fs.existsSync(BPFFS_PREFIX)
      ? fs.readdirSync(BPFFS_PREFIX).filter((d) => d !== path.basename(HANDOFF_DIR))
      : [];
    for (const [loadId, load] of this.loads) if (load.foreign && !dirs.includes(loadId)) this.loads.delete(loadId);
    if (dirs.every((d) => this.loads.has(d))) return;
    const kernel = this.kernelTables();
    for (const loadId of dirs) {
      if (this.removeDeadStaging(loadId)) continue;
      if (this.loads.has(loadId) || !/^[a-z0-9_-]{1,64}$/.test(loadId)) continue;
      const session = sessionOfLoadId(loadId);
      // At start, a closed window's pins are adopted (the user restarted or reopened it); later, they may be a
      // restarting window's, so they are shown as another window's until this helper starts again.
      const foreign =
        session && session !== this.sessions.id
          ? (this.sessions.liveSession(session) ??
            (atStart ? undefined : { pid: 0, label: 'another eBPF Studio window, since closed' }))
          : undefined;
      const summary = this.summaryFromPins(path.join(BPFFS_PREFIX, loadId), loadId, kernel);
      if (foreign) summary.owner = { pid: foreign.pid, label: foreign.label };
      this.loads.set(loadId, { summary, attachments: [], logs: new Map(), foreign });
    }
  }

  private kernelTables() {
    return {
      programs: new Map(this.native.listPrograms().map((p) => [p.id, p])),
      maps: new Map(this.native.listMaps().map((m) => [m.id, m])),
      links: new Map(this.native.listLinks().map((l) => [l.id, l])),
      events: tracefsEvents(),
    };
  }

  /** What a folder of pins holds, described from the kernel's lists. */
  private summaryFromPins(dir: string, loadId: string, kernel: ReturnType<Registry['kernelTables']>): LoadedSummary {
    const summary: LoadedSummary = {
      loadId,
      name: nameOfLoadId(loadId),
      path: '',
      loadedAt: 0,
      pinned: true,
      programs: [],
      maps: [],
    };
    const linked = new Map<number, { linkId: number; description: string }>();
    for (const entry of fs.readdirSync(dir)) {
      let pinned: { kind: string; id: number };
      try {
        pinned = this.native.pinnedObjectInfo(path.join(dir, entry));
      } catch {
        continue;
      }
      if (pinned.kind === 'link') {
        const link = kernel.links.get(pinned.id);
        if (link) linked.set(link.progId, { linkId: link.id, description: linkDescription(link, kernel.events) });
      } else if (pinned.kind === 'prog') {
        const info = kernel.programs.get(pinned.id);
        if (info) {
          summary.programs.push({
            name: info.name,
            section: '',
            type: info.type,
            loaded: true,
            id: info.id,
            stats: { insnsProcessed: info.verifiedInsns },
          });
          summary.loadedAt = Math.max(summary.loadedAt, bootTimeToEpochMs(info.loadTimeNs));
        }
      } else if (pinned.kind === 'map') {
        const info = kernel.maps.get(pinned.id);
        if (info)
          summary.maps.push({ name: info.name, id: info.id, type: info.type, internal: info.name.includes('.') });
      }
    }
    for (const program of summary.programs) {
      const link = linked.get(program.id);
      if (link) program.attachment = { kind: 'link', ...link };
    }
    return summary;
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
        this.pinInto(load, path.join(HANDOFF_DIR, load.summary.loadId));
        parked.push(load.summary.loadId);
        this.sessions.saveHandoff(load.summary.loadId, { summary: load.summary, logs: Object.fromEntries(load.logs) });
      }
    } catch (error) {
      for (const loadId of parked) {
        this.removePinsIn(path.join(HANDOFF_DIR, loadId));
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
    const kernel = this.kernelTables();
    for (const loadId of fs.readdirSync(HANDOFF_DIR)) {
      if (!/^[a-z0-9_-]{1,64}$/.test(loadId)) continue;
      const dir = path.join(HANDOFF_DIR, loadId);
      const session = sessionOfLoadId(loadId);
      const mine = session === this.sessions.id;
      if (!mine && session && this.sessions.liveSession(session)) continue;
      const saved = this.sessions.takeHandoff(loadId);
      if (mine && adopt) {
        const fromPins = this.summaryFromPins(dir, loadId, kernel);
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
        this.removePinsIn(dir);
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
      for (const attachment of load.attachments) attachment.detach();
      load.object?.close();
      // A handed-over load is an unpinned one kept by pins only across the restart: it leaves now too.
      if (load.handedOff) this.removePinsIn(path.join(HANDOFF_DIR, load.summary.loadId));
    }
    this.loads.clear();
    try {
      fs.rmdirSync(HANDOFF_DIR);
    } catch {
      // Absent, or holding another window's parked loads.
    }
  }
}
