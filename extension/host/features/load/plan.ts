// Pure decisions behind "eBPF: Load Program…": which programs need a target the user must choose, how
// typed targets become attach requests, and how load results and helper errors read. No vscode import.
import type { AttachRequest, Capability, LoadedSummary, ProgramReport } from '../../../protocol/methods';
import type { HelperErrorData } from '../../../protocol/errors';
import type { ProgramSpec } from '../../../protocol/types';

// What the user must supply before a program can be attached: the one rule, shared with the helper.
export { targetNeed, type TargetNeed } from '../../../formats/attach-needs';

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

/**
 * The capability the helper probed for a program (keys as in helper/probes.ts: "program:xdp",
 * "program:tc", "program:fentry", "attach:uprobe", ...); undefined when nothing was probed for it.
 */
export function capabilityFor(
  caps: Record<string, Capability>,
  program: Pick<ProgramSpec, 'section' | 'type' | 'expectedAttachType'>,
): Capability | undefined {
  const { section, type, expectedAttachType } = program;
  let key: string | undefined;
  let attachKey: string | undefined;
  if (type === 'sched_cls' || type === 'sched_act') key = 'program:tc';
  else if (type === 'kprobe') {
    const probe = /^u(ret)?probe/.test(section) ? 'uprobe' : 'kprobe';
    key = `program:${probe}`;
    attachKey = `attach:${probe}`;
  } else if (type === 'tracing') {
    key = {
      trace_fentry: 'program:fentry',
      trace_fexit: 'program:fexit',
      trace_raw_tp: 'program:tp_btf',
      trace_iter: 'program:iter',
    }[expectedAttachType];
  } else key = `program:${type}`;
  // Programs that attach without a target were also attached by the probes ("attach:tracepoint", "attach:lsm").
  attachKey ??= key?.replace(/^program:/, 'attach:');
  const cap = key ? caps[key] : undefined;
  if (cap && !cap.supported) return cap;
  const attach = attachKey ? caps[attachKey] : undefined;
  return attach && !attach.supported ? attach : cap;
}

/** "xdp programs" or "tracing (trace_fentry) programs", as the helper names a refused program type. */
function refusedType(feature: string): { type: string; attachType?: string } | undefined {
  const m = /^(\S+)(?: \((\S+)\))? programs$/.exec(feature);
  return m ? { type: m[1], attachType: m[2] } : undefined;
}

/**
 * The selected programs a NotSupported error refers to: every program of the refused type ("xdp programs",
 * "tracing (trace_fentry) programs"), or the one the helper's message names ("Cannot load x", "Cannot
 * attach x"). Empty when it matches none.
 */
export function refusedPrograms(
  feature: string,
  message: string,
  selected: Pick<ProgramSpec, 'name' | 'type' | 'expectedAttachType'>[],
): string[] {
  const named = /^Cannot (?:load|attach) ([A-Za-z_][A-Za-z0-9_]*)/.exec(message)?.[1];
  const refused = refusedType(feature);
  const byType = refused
    ? selected.filter(
        (p) => p.type === refused.type && (!refused.attachType || p.expectedAttachType === refused.attachType),
      )
    : [];
  const names = new Set([...byType.map((p) => p.name), ...selected.filter((p) => p.name === named).map((p) => p.name)]);
  return selected.map((p) => p.name).filter((n) => names.has(n));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "tracepoint sched/sched_process_fork": an auto attachment's description is libbpf's section text. */
export function attachPoint(a: { kind: string; description: string }): string {
  if (a.kind === 'auto') {
    const m = /^([A-Za-z_.]+)\/(.+)$/.exec(a.description);
    return m ? `${m[1]} ${m[2]}` : a.description;
  }
  // The addon describes network attachments as "lo (xdp)" or "eth0 (tc ingress)".
  const net = /^(\S+) \((.+)\)$/.exec(a.description);
  if (net && net[2].startsWith(a.kind)) return `${net[2]} on ${net[1]}`;
  return a.description.startsWith(a.kind) ? a.description : `${a.kind} ${a.description}`;
}

/** "Loaded fork_trace: 1 program attached (tracepoint sched/sched_process_fork)". */
export function loadSuccessMessage(summary: LoadedSummary): string {
  const loaded = summary.programs.filter((p) => p.loaded);
  const attached = loaded.filter((p) => p.attachment);
  const unattached = loaded.filter((p) => !p.attachment);
  const refused = summary.programs.filter((p) => !p.loaded);
  const note = (p: ProgramReport) =>
    p.attachNote ? `${p.name}: ${p.attachNote.replace(/^loaded, not attached: /, '')}` : p.name;
  const parts: string[] = [];
  if (attached.length > 0)
    parts.push(
      `${plural(attached.length, 'program')} attached (${attached.map((p) => attachPoint(p.attachment!)).join('; ')})`,
    );
  if (unattached.length > 0)
    parts.push(`${plural(unattached.length, 'program')} loaded but not attached (${unattached.map(note).join('; ')})`);
  // Why each was refused is long (the helper's full explanation); the Programs view's tooltip has it.
  if (refused.length > 0)
    parts.push(`${plural(refused.length, 'program')} refused by the kernel (${refused.map((p) => p.name).join(', ')})`);
  if (parts.length === 0) parts.push('no programs loaded');
  return `Loaded ${summary.name}: ${parts.join(', ')}${summary.pinned ? ', pinned' : ''}`;
}

/** One explanation per helper error kind; the UI adds buttons. `refused` names the programs concerned. */
export function explainLoadError(data: HelperErrorData, message: string, refused: string[] = []): string {
  switch (data.kind) {
    case 'NotSupported': {
      const type = refusedType(data.feature);
      if (!type) return message;
      // The helper's reason reads "EPERM: likely cause: ...".
      const m = /^(E[A-Z0-9]+): *(.*)$/s.exec(data.reason);
      const errno = m ? ` (${m[1]})` : '';
      const rest = m ? m[2] : data.reason;
      const reason = rest ? ` ${rest.charAt(0).toUpperCase()}${rest.slice(1)}${/[.!]$/.test(rest) ? '' : '.'}` : '';
      const who =
        refused.length > 0 ? refused.join(', ') : (/^Cannot load ([A-Za-z_]\w*)/.exec(message)?.[1] ?? 'the object');
      const kind = type.attachType ? `${type.type} (${type.attachType})` : type.type;
      return `Cannot load ${who}: this kernel refuses ${kind} programs${errno}.${reason}`;
    }
    case 'VerifierRejected':
      return message.startsWith('The verifier rejected')
        ? message
        : `The verifier rejected ${data.program}: ${data.message}`;
    case 'Permission':
      return `The eBPF Studio helper lacks a privilege (${data.need}): ${message}`;
    case 'BadInput':
    case 'NotFound':
    case 'Conflict':
    case 'Internal':
    case 'NotOwned':
      return message;
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

/** Picked in the load dialog by default: what the object marks autoload and the probes say this kernel runs. */
export function preselectProgram(program: Pick<ProgramSpec, 'autoload'>, capability: Capability | undefined): boolean {
  return program.autoload !== false && (capability === undefined || capability.supported);
}

/**
 * Interfaces that carry a default route, from /proc/net/route (IPv4) and /proc/net/ipv6_route (IPv6): the
 * machine's uplink, where a dropping XDP or tc program cuts the user off (and, on a remote machine, the
 * editor with it). IPv6's "unreachable" default on lo (RTF_REJECT) does not count.
 */
export function defaultRouteInterfaces(ipv4Routes: string, ipv6Routes = ''): Set<string> {
  const out = new Set<string>();
  for (const line of ipv4Routes.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = parseInt(f[3], 16);
    // RTF_UP and destination 0.0.0.0/0.
    if (f[1] === '00000000' && f[7] === '00000000' && flags & 0x1) out.add(f[0]);
  }
  for (const line of ipv6Routes.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8], 16);
    if (/^0{32}$/.test(f[0]) && f[1] === '00' && flags & 0x1 && !(flags & 0x200)) out.add(f[9]);
  }
  return out;
}

export interface InterfaceChoice {
  name: string;
  /** State and address, as /sys/class/net says. */
  detail: string;
  defaultRoute: boolean;
}

/** Where an interface goes in the picker: test interfaces first, the uplink last. */
function interfaceRank(i: InterfaceChoice): number {
  if (i.defaultRoute) return 3;
  if (/^(veth|lo$|dummy|ifb|tap|tun)/.test(i.name)) return i.name === 'lo' ? 1 : 0;
  return 2;
}

/**
 * The tc/XDP/socket interface picker's order: test interfaces (veth, dummy, lo) first, then the others,
 * and the ones carrying the default route last, so that Enter never attaches a program to the uplink.
 * The interface used last comes first among its own rank, never ahead of a safer one.
 */
export function orderInterfaces(interfaces: InterfaceChoice[], last?: string): InterfaceChoice[] {
  return [...interfaces].sort(
    (a, b) =>
      interfaceRank(a) - interfaceRank(b) ||
      Number(b.name === last) - Number(a.name === last) ||
      a.name.localeCompare(b.name),
  );
}

/** The description a picker row shows: the uplink says so. */
export function interfaceDescription(i: InterfaceChoice): string {
  return [i.defaultRoute ? '$(warning) carries the default route (uplink)' : '', i.detail].filter(Boolean).join(' · ');
}
