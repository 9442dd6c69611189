// Helper process: which sections libbpf attaches by itself, and what the others need, in words.

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
