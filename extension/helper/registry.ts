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
import { parseRejection } from '../formats/verifier-rejection';
import { errnoName, HelperFailure } from './errors';
import { AttachRequest, BPFFS_PREFIX, LoadedSummary, LoadParams, ProgramReport } from '../protocol/methods';
import { checkCgroupPath, checkObjectFile, checkUprobeBinary, interfaceIndex, lockdownMode } from './system';
import { faultPoint } from './faults';

const EPERM = 1;
const ENOENT = 2;
const EBUSY = 16;
const EOPNOTSUPP = 95;
const ENOTSUPP = 524;

interface OwnedLoad {
  summary: LoadedSummary;
  /** Absent for loads found pinned by an earlier helper: the kernel holds them through their pins. */
  object?: LoadedObject;
  attachments: Attachment[];
  logs: Map<string, string>;
}

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

/** An attach point as the kernel describes a link, in the words the load reported it with. */
export function linkDescription(link: LinkInfo): string {
  return link.target ? `${link.type === 'perf_event' ? 'tracepoint' : link.type}/${link.target}` : link.type;
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

function loadIdFor(name: string, taken: (id: string) => boolean): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 48) || 'object';
  for (let n = 1; ; n++) {
    const id = `${base}-${n}`;
    if (!taken(id)) return id;
  }
}

export class Registry {
  private readonly loads = new Map<string, OwnedLoad>();

  constructor(private readonly native: NativeAddon) {}

  list(): LoadedSummary[] {
    return [...this.loads.values()].map((l) => l.summary);
  }

  describe(file: string): ObjectSpec {
    checkObjectFile(file);
    try {
      return this.native.describeObject(file);
    } catch (error) {
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: (error as Error).message },
        (error as Error).message,
      );
    }
  }

  async load(params: LoadParams): Promise<LoadedSummary> {
    const spec = this.describe(params.path);
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
        path: params.path,
        programs,
        variables,
        maxEntries: params.maxEntries,
        logLevel: (params.logLevel ?? 0) | 4,
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
    const libbpfLines = libbpfLog
      .split('\n')
      .filter((l) => /error|fail|invalid|missing|unknown/i.test(l))
      .slice(-3)
      .join(' ');
    return new HelperFailure(
      { kind: 'Internal', errno: error.errno },
      `Loading ${spec.name} failed (${errnoName(error.errno)}): ${error.message}${libbpfLines ? ` — libbpf: ${libbpfLines}` : ''}`,
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
        : loadIdFor(object.name, (id) => this.loads.has(id) || fs.existsSync(path.join(BPFFS_PREFIX, id))),
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

  /**
   * Pins programs, maps and links under BPFFS_PREFIX/<loadId>/ so they outlive the helper. They are pinned
   * into a staging folder named after this helper's pid and renamed into place at the end, so a helper that
   * dies half-way leaves no half-pinned load: the next helper removes a dead helper's staging folder, and
   * what it held leaves the kernel as an unpinned load would.
   */
  pin(loadId: string): LoadedSummary {
    const load = this.owned(loadId);
    if (load.summary.pinned) return load.summary;
    const dir = path.join(BPFFS_PREFIX, `${STAGING_PREFIX}${process.pid}--${loadId}`);
    fs.mkdirSync(dir, { recursive: true });
    try {
      for (const program of load.object!.programs())
        load.object!.pinProgram(program.name, path.join(dir, pinName('prog', program.name)));
      faultPoint('pin:partial');
      for (const map of load.object!.maps()) load.object!.pinMap(map.name, path.join(dir, pinName('map', map.name)));
      load.attachments.forEach((attachment, i) => {
        if (attachment.linkId) attachment.pin(path.join(dir, `link_${i}`));
      });
      fs.renameSync(dir, path.join(BPFFS_PREFIX, loadId));
    } catch (error) {
      for (const entry of fs.readdirSync(dir)) this.native.unpin(path.join(dir, entry));
      fs.rmdirSync(dir);
      throw new HelperFailure(
        { kind: 'Internal', errno: (error as { errno?: number }).errno },
        `Pinning ${loadId} failed: ${(error as Error).message}`,
      );
    }
    load.summary.pinned = true;
    return load.summary;
  }

  unload(loadId: string): void {
    const load = this.owned(loadId);
    if (load.summary.pinned) this.removePins(loadId);
    faultPoint('unload:unpinned');
    for (const attachment of load.attachments) attachment.detach();
    load.object?.close();
    this.loads.delete(loadId);
  }

  private removePins(loadId: string): void {
    const dir = path.join(BPFFS_PREFIX, loadId);
    // Only ever below our own prefix: the load id was validated and joined, never taken as a path.
    if (path.dirname(dir) !== BPFFS_PREFIX) throw new Error(`refusing to touch ${dir}`);
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

  /** Finds what an earlier helper pinned, so a restart (or a crash) loses nothing that was pinned. */
  rediscover(): void {
    if (!fs.existsSync(BPFFS_PREFIX)) return;
    const programs = new Map(this.native.listPrograms().map((p) => [p.id, p]));
    const maps = new Map(this.native.listMaps().map((m) => [m.id, m]));
    const links = new Map(this.native.listLinks().map((l) => [l.id, l]));
    for (const loadId of fs.readdirSync(BPFFS_PREFIX)) {
      if (this.removeDeadStaging(loadId)) continue;
      if (this.loads.has(loadId) || !/^[a-z0-9_-]{1,64}$/.test(loadId)) continue;
      const dir = path.join(BPFFS_PREFIX, loadId);
      const summary: LoadedSummary = {
        loadId,
        name: loadId.replace(/-\d+$/, ''),
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
          const link = links.get(pinned.id);
          if (link) linked.set(link.progId, { linkId: link.id, description: linkDescription(link) });
        } else if (pinned.kind === 'prog') {
          const info = programs.get(pinned.id);
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
          const info = maps.get(pinned.id);
          if (info)
            summary.maps.push({ name: info.name, id: info.id, type: info.type, internal: info.name.includes('.') });
        }
      }
      for (const program of summary.programs) {
        const link = linked.get(program.id);
        if (link) program.attachment = { kind: 'link', ...link };
      }
      this.loads.set(loadId, { summary, attachments: [], logs: new Map() });
    }
  }

  /** On shutdown or when the parent goes away: what is not pinned leaves the kernel with our fds. */
  closeAll(): void {
    for (const load of this.loads.values()) {
      for (const attachment of load.attachments) attachment.detach();
      load.object?.close();
    }
    this.loads.clear();
  }
}
