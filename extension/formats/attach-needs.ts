// What a program needs before it can be attached, read from its section and program type: the one rule
// behind the helper's "loaded, not attached: needs …" note and the load dialog's target questions. Pure
// code, run by both the helper and the extension host.

/** What a section needs to attach, as a kind the helper and the load dialog both read. */
export type AttachNeed =
  /** libbpf attaches it from the section alone ("tracepoint/sched/x", "uprobe//bin/bash:readline"). */
  | { kind: 'auto' }
  | { kind: 'xdp' }
  /** direction undefined: the section ("tc", "classifier") does not say, so ask. */
  | { kind: 'tc'; direction?: 'ingress' | 'egress' }
  | { kind: 'socket' }
  | { kind: 'cgroup' }
  /** A bare "uprobe" / "uretprobe": a binary and a function from the user. */
  | { kind: 'uprobe'; retprobe: boolean }
  /** xdp/devmap and xdp/cpumap programs run from a map entry, not from an interface. */
  | { kind: 'map-entry' }
  /** Something this project cannot ask for (netkit, a bare "kprobe", an unknown section). */
  | { kind: 'unnamed' };

/** What the load dialog must ask the user for; everything it cannot ask for is "none". */
export type TargetNeed =
  Extract<AttachNeed, { kind: 'xdp' | 'tc' | 'socket' | 'cgroup' | 'uprobe' }> | { kind: 'none' };

/** Sections libbpf attaches by itself (with "<binary>:<function>" for uprobes and USDT). */
const AUTO_ATTACHED =
  /^(tracepoint|tp|raw_tracepoint|raw_tp|raw_tracepoint\.w|raw_tp\.w|tp_btf|fentry|fexit|fmod_ret|fentry\.s|fexit\.s|fmod_ret\.s|lsm|lsm\.s|kprobe|kretprobe|kprobe\.multi|kretprobe\.multi|iter|iter\.s)\//;
const UPROBE_LIKE = /^(uprobe|uretprobe|uprobe\.s|uretprobe\.s|usdt)\//;

/** True when libbpf can attach the section without a target from the user. */
export function autoAttachable(section: string): boolean {
  if (UPROBE_LIKE.test(section)) return section.includes(':');
  return AUTO_ATTACHED.test(section);
}

/** Decides from the section (as libbpf reads it) and the program type what a program needs to attach. */
export function attachNeed(program: { section: string; type: string }): AttachNeed {
  const { section, type } = program;
  const head = section.split('/')[0];
  if (head === 'xdp' || head === 'xdp.frags')
    return /^xdp(\.frags)?\/(devmap|cpumap)/.test(section) ? { kind: 'map-entry' } : { kind: 'xdp' };
  if (['tc', 'tcx', 'classifier', 'action'].includes(head) || (type === 'sched_cls' && head !== 'netkit')) {
    const direction = /\/(ingress|egress)$/.exec(section)?.[1] as 'ingress' | 'egress' | undefined;
    return direction ? { kind: 'tc', direction } : { kind: 'tc' };
  }
  if (head === 'socket' || type === 'socket_filter') return { kind: 'socket' };
  if (head.startsWith('cgroup') || head === 'sockops' || type.startsWith('cgroup') || type === 'sock_ops')
    return { kind: 'cgroup' };
  if (autoAttachable(section)) return { kind: 'auto' };
  const uprobe = /^u(ret)?probe(\.s)?$/.exec(head);
  // "uprobe/<binary>:<function>" is attached by libbpf (above); without the colon libbpf cannot.
  if (uprobe && !section.slice(head.length + 1).includes(':')) return { kind: 'uprobe', retprobe: uprobe[1] === 'ret' };
  return { kind: 'unnamed' };
}

/** What the load dialog asks for before attaching: the kinds it has a picker for, else nothing. */
export function targetNeed(program: { section: string; type: string }): TargetNeed {
  const need = attachNeed(program);
  switch (need.kind) {
    case 'xdp':
    case 'tc':
    case 'socket':
    case 'cgroup':
    case 'uprobe':
      return need;
    default:
      return { kind: 'none' };
  }
}

/** What a section needs before it can be attached, in words for the load report; undefined when nothing. */
export function attachNeedWords(section: string, type: string): string | undefined {
  const need = attachNeed({ section, type });
  switch (need.kind) {
    case 'auto':
      return undefined;
    case 'xdp':
      return 'an interface (XDP)';
    case 'tc':
      return need.direction ? `an interface (tc ${need.direction})` : 'an interface and a direction (tc)';
    case 'socket':
      return 'an interface to open a socket on';
    case 'cgroup':
      return 'a cgroup v2 directory';
    case 'uprobe':
      return 'a binary and a function (uprobe)';
    case 'map-entry':
      return 'a devmap or cpumap entry (it runs from a map, not an interface)';
    case 'unnamed':
      return 'a target this section does not name';
  }
}
