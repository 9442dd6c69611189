// Where aya programs are in Rust source text: the `#[xdp]`, `#[tracepoint]`, `#[kprobe(...)]`... attribute
// over each program function, which is where a C program's SEC(...) line would be, so that verdict lenses
// land over the Rust function. Pure (text in, lines out).

/** aya-ebpf's program attribute macros (aya-ebpf-macros 0.1), each the program kind it declares. */
export const AYA_PROGRAM_ATTRIBUTES = [
  'btf_tracepoint',
  'cgroup_device',
  'cgroup_skb',
  'cgroup_sock',
  'cgroup_sock_addr',
  'cgroup_sockopt',
  'cgroup_sysctl',
  'classifier',
  'fentry',
  'fexit',
  'flow_dissector',
  'kprobe',
  'kretprobe',
  'lsm',
  'perf_event',
  'raw_tracepoint',
  'sk_lookup',
  'sk_msg',
  'sk_skb',
  'sock_ops',
  'socket_filter',
  'stream_parser',
  'stream_verdict',
  'tracepoint',
  'uprobe',
  'uretprobe',
  'xdp',
] as const;

export interface RustProgram {
  /** The attribute: xdp, tracepoint, ... */
  kind: string;
  /** The program's name in the object: the function's, or the attribute's `name = "..."` (older aya-bpf). */
  name: string;
  /** 0-based line of the attribute. */
  line: number;
  /** 0-based line of the `fn`. */
  fnLine: number;
}

const attributes = AYA_PROGRAM_ATTRIBUTES.join('|');
// The attribute (its arguments on one line or several), other attributes and comments, then the fn.
const pattern = new RegExp(
  `^[ \\t]*#\\[(?:aya_ebpf::macros::|aya_bpf::macros::|macros::)?(${attributes})\\b(\\((?:[^()]|\\([^()]*\\))*\\))?\\]` +
    `(?:\\s*(?:#\\[[^\\]]*\\]|//[^\\n]*))*\\s*(?:pub(?:\\([^)]*\\))?\\s+)?(?:unsafe\\s+)?(?:extern\\s+"C"\\s+)?fn\\s+([A-Za-z_]\\w*)`,
  'gm',
);

/** Every aya program function of a Rust file, in source order. */
export function findRustPrograms(text: string): RustProgram[] {
  const found: RustProgram[] = [];
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length - 1;
  for (const m of text.matchAll(pattern)) {
    const named = m[2] ? /\bname\s*=\s*"([^"]+)"/.exec(m[2])?.[1] : undefined;
    const fnOffset = m.index + m[0].lastIndexOf('fn ');
    found.push({ kind: m[1], name: named ?? m[3], line: lineAt(m.index), fnLine: lineAt(fnOffset) });
  }
  return found;
}
