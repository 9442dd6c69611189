// Pure decisions behind "eBPF: Load Program…": which programs need a target the user must choose, how
// typed targets become attach requests, and how load results and helper errors read. No vscode import.
import type { AttachRequest, Capability, HelperErrorData, LoadedSummary, ProgramReport } from '../helper/protocol';
import type { ProgramSpec } from '../../native/types';

/** What the user must supply before a program can be attached. */
export type TargetNeed =
  | { kind: 'none' }
  | { kind: 'xdp' }
  /** direction undefined: the section ("tc", "classifier") does not say, so ask. */
  | { kind: 'tc'; direction?: 'ingress' | 'egress' }
  | { kind: 'socket' }
  | { kind: 'cgroup' }
  | { kind: 'uprobe'; retprobe: boolean };

/**
 * Decides from the section (as libbpf reads it) and the program type what target to ask for. Sections that
 * name their target ("tracepoint/sched/x", "uprobe//bin/bash:readline", "tcx/ingress" still needs an
 * interface) or that attach without one (fentry, lsm, raw_tp) need nothing.
 */
export function targetNeed(program: Pick<ProgramSpec, 'section' | 'type'>): TargetNeed {
  const { section, type } = program;
  const head = section.split('/')[0];
  if (head === 'xdp' || head === 'xdp.frags') {
    // xdp/devmap and xdp/cpumap programs run from a map entry, not from an interface.
    return /^xdp(\.frags)?\/(devmap|cpumap)/.test(section) ? { kind: 'none' } : { kind: 'xdp' };
  }
  if (head === 'tc' || head === 'tcx' || head === 'classifier' || head === 'action' || (type === 'sched_cls' && head !== 'netkit')) {
    const dir = /\/(ingress|egress)$/.exec(section)?.[1] as 'ingress' | 'egress' | undefined;
    return dir ? { kind: 'tc', direction: dir } : { kind: 'tc' };
  }
  if (head === 'socket' || type === 'socket_filter') return { kind: 'socket' };
  if (head.startsWith('cgroup') || head === 'sockops' || type.startsWith('cgroup') || type === 'sock_ops') {
    return { kind: 'cgroup' };
  }
  const uprobe = /^u(ret)?probe(\.s)?$/.exec(head);
  if (uprobe) {
    // libbpf auto-attaches "uprobe/<binary>:<function>"; a bare "uprobe" needs both from the user.
    const rest = section.slice(head.length + 1);
    return rest.includes(':') ? { kind: 'none' } : { kind: 'uprobe', retprobe: uprobe[1] === 'ret' };
  }
  return { kind: 'none' };
}

/** Parses "binary:function", "binary:function+0x10" or "binary:0x1234" into a uprobe attach request. */
export function parseUprobeTarget(text: string, retprobe: boolean): AttachRequest {
  const t = text.trim();
  const colon = t.lastIndexOf(':');
  if (colon <= 0 || colon === t.length - 1) {
    throw new Error(`"${t}" is not binary:function (for example /usr/bin/bash:readline).`);
  }
  const binary = t.slice(0, colon);
  const where = t.slice(colon + 1);
  if (!binary.startsWith('/')) throw new Error(`The binary must be an absolute path, got "${binary}".`);
  const offsetOnly = /^(0x[0-9a-f]+|\d+)$/i.exec(where);
  if (offsetOnly) return { kind: 'uprobe', binary, offset: Number(offsetOnly[1]), retprobe };
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(where);
  if (!m) throw new Error(`"${where}" is not a function name (optionally +offset) or an offset.`);
  return m[2] === undefined
    ? { kind: 'uprobe', binary, func: m[1], retprobe }
    : { kind: 'uprobe', binary, func: m[1], offset: Number(m[2]), retprobe };
}

/** The cgroup v2 mount point from /proc/mounts text, preferring /sys/fs/cgroup/unified on hybrid setups. */
export function cgroup2Mount(procMounts: string): string | undefined {
  const mounts = procMounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3 && f[2] === 'cgroup2')
    // /proc/mounts escapes spaces in paths as \040.
    .map((f) => f[1].replace(/\\040/g, ' '));
  return mounts.find((m) => m === '/sys/fs/cgroup/unified') ?? mounts[0];
}

/** The capability entry for a program type, whichever key convention the helper used. */
export function capabilityFor(caps: Record<string, Capability>, programType: string): Capability | undefined {
  return caps[`prog_type:${programType}`] ?? caps[`prog_type.${programType}`] ?? caps[`prog:${programType}`] ?? caps[programType];
}

/**
 * The selected programs a NotSupported error refers to: the helper names either a program or a program
 * type in `feature` (possibly with a prefix such as "prog_type:"). Empty when it matches none.
 */
export function refusedPrograms(
  feature: string,
  selected: Pick<ProgramSpec, 'name' | 'type'>[],
  failedProgram?: string,
): string[] {
  const byName = selected.filter((p) => p.name === feature || p.name === failedProgram);
  if (byName.length > 0) return byName.map((p) => p.name);
  const bare = feature.replace(/^(prog_type|program|prog)[:.]/, '');
  return selected.filter((p) => p.type === bare || feature.endsWith(`:${p.type}`)).map((p) => p.name);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function attachPoint(p: ProgramReport): string {
  const a = p.attachment!;
  return a.description.startsWith(a.kind) ? a.description : `${a.kind} ${a.description}`;
}

/** "Loaded fork_trace: 1 program attached (tracepoint sched/sched_process_fork)". */
export function loadSuccessMessage(summary: LoadedSummary): string {
  const loaded = summary.programs.filter((p) => p.loaded);
  const attached = loaded.filter((p) => p.attachment);
  const unattached = loaded.filter((p) => !p.attachment);
  const parts: string[] = [];
  if (attached.length > 0) parts.push(`${plural(attached.length, 'program')} attached (${attached.map(attachPoint).join('; ')})`);
  if (unattached.length > 0) {
    const notes = unattached.map((p) => (p.attachNote ? `${p.name}: ${p.attachNote}` : p.name));
    parts.push(`${plural(unattached.length, 'program')} loaded but not attached (${notes.join('; ')})`);
  }
  if (parts.length === 0) parts.push('no programs loaded');
  const pinned = summary.pinned ? ', pinned' : '';
  return `Loaded ${summary.name}: ${parts.join(', ')}${pinned}`;
}

/** One explanation per helper error kind; the UI adds buttons. */
export function explainLoadError(data: HelperErrorData, message: string, refused: string[] = []): string {
  switch (data.kind) {
    case 'NotSupported': {
      const type = data.feature.replace(/^(prog_type|program|prog)[:.]/, '');
      const who = refused.length > 0 ? refused.join(', ') : data.feature;
      return `Cannot load ${who}: this kernel refuses ${type} programs. ${data.reason}`.trim();
    }
    case 'VerifierRejected':
      return `The verifier rejected ${data.program}: ${data.message}`;
    case 'Permission':
      return `The eBPF Studio helper lacks a privilege: ${data.need}. ${message}`.trim();
    case 'BadInput':
      return `Cannot load: ${data.field} ${data.reason}`;
    case 'NotFound':
      return `Cannot load: ${data.what} was not found.`;
    case 'Internal':
      return `Loading failed: ${message}${data.errno ? ` (errno ${data.errno})` : ''}`;
  }
}

/** The load a command was invoked on: a load id string, or a tree node carrying one. */
export function loadIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && typeof (arg as { loadId?: unknown }).loadId === 'string') {
    return (arg as { loadId: string }).loadId;
  }
  return undefined;
}
