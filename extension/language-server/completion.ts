// What the language server completes in BPF C: SEC("...") names (every program type libbpf 1.x knows,
// the live tracepoints of this kernel from tracefs, raw tracepoints and functions from its BTF), map types
// and map definition fields. The context detection and item lists are pure; kernel lists are passed in.
import * as fs from 'fs';
import * as path from 'path';

export interface SectionDef {
  /** The prefix as written in SEC(""): "tracepoint/", "xdp", "fentry/". */
  prefix: string;
  programType: string;
  /** What follows the prefix, in words. */
  target?: string;
}

/** libbpf's section names (libbpf.c section_defs), grouped by what they attach to. */
export const SECTION_DEFS: SectionDef[] = [
  { prefix: 'socket', programType: 'socket_filter' },
  { prefix: 'sk_reuseport/migrate', programType: 'sk_reuseport' },
  { prefix: 'sk_reuseport', programType: 'sk_reuseport' },
  { prefix: 'kprobe/', programType: 'kprobe', target: 'kernel function[+offset]' },
  { prefix: 'uprobe/', programType: 'kprobe', target: 'binary:function' },
  { prefix: 'uprobe.s/', programType: 'kprobe', target: 'binary:function (sleepable)' },
  { prefix: 'kretprobe/', programType: 'kprobe', target: 'kernel function' },
  { prefix: 'uretprobe/', programType: 'kprobe', target: 'binary:function' },
  { prefix: 'uretprobe.s/', programType: 'kprobe', target: 'binary:function (sleepable)' },
  { prefix: 'kprobe.multi/', programType: 'kprobe', target: 'function glob' },
  { prefix: 'kretprobe.multi/', programType: 'kprobe', target: 'function glob' },
  { prefix: 'ksyscall/', programType: 'kprobe', target: 'syscall name' },
  { prefix: 'kretsyscall/', programType: 'kprobe', target: 'syscall name' },
  { prefix: 'usdt/', programType: 'kprobe', target: 'binary:provider:name' },
  { prefix: 'tc', programType: 'sched_cls' },
  { prefix: 'tc/ingress', programType: 'sched_cls' },
  { prefix: 'tc/egress', programType: 'sched_cls' },
  { prefix: 'tcx/ingress', programType: 'sched_cls' },
  { prefix: 'tcx/egress', programType: 'sched_cls' },
  { prefix: 'classifier', programType: 'sched_cls' },
  { prefix: 'action', programType: 'sched_act' },
  { prefix: 'tracepoint/', programType: 'tracepoint', target: 'category/name' },
  { prefix: 'tp/', programType: 'tracepoint', target: 'category/name' },
  { prefix: 'raw_tracepoint/', programType: 'raw_tracepoint', target: 'tracepoint name' },
  { prefix: 'raw_tp/', programType: 'raw_tracepoint', target: 'tracepoint name' },
  { prefix: 'raw_tracepoint.w/', programType: 'raw_tracepoint_writable', target: 'tracepoint name' },
  { prefix: 'raw_tp.w/', programType: 'raw_tracepoint_writable', target: 'tracepoint name' },
  { prefix: 'tp_btf/', programType: 'tracing', target: 'tracepoint name' },
  { prefix: 'fentry/', programType: 'tracing', target: 'kernel function' },
  { prefix: 'fmod_ret/', programType: 'tracing', target: 'kernel function' },
  { prefix: 'fexit/', programType: 'tracing', target: 'kernel function' },
  { prefix: 'fentry.s/', programType: 'tracing', target: 'kernel function (sleepable)' },
  { prefix: 'fmod_ret.s/', programType: 'tracing', target: 'kernel function (sleepable)' },
  { prefix: 'fexit.s/', programType: 'tracing', target: 'kernel function (sleepable)' },
  { prefix: 'freplace/', programType: 'ext', target: 'function of the target program' },
  { prefix: 'lsm/', programType: 'lsm', target: 'LSM hook' },
  { prefix: 'lsm.s/', programType: 'lsm', target: 'LSM hook (sleepable)' },
  { prefix: 'lsm_cgroup/', programType: 'lsm', target: 'LSM hook' },
  { prefix: 'iter/', programType: 'tracing', target: 'iterator (task, bpf_map, ...)' },
  { prefix: 'iter.s/', programType: 'tracing', target: 'iterator (sleepable)' },
  { prefix: 'syscall', programType: 'syscall' },
  { prefix: 'xdp.frags/devmap', programType: 'xdp' },
  { prefix: 'xdp/devmap', programType: 'xdp' },
  { prefix: 'xdp.frags/cpumap', programType: 'xdp' },
  { prefix: 'xdp/cpumap', programType: 'xdp' },
  { prefix: 'xdp.frags', programType: 'xdp' },
  { prefix: 'xdp', programType: 'xdp' },
  { prefix: 'perf_event', programType: 'perf_event' },
  { prefix: 'lwt_in', programType: 'lwt_in' },
  { prefix: 'lwt_out', programType: 'lwt_out' },
  { prefix: 'lwt_xmit', programType: 'lwt_xmit' },
  { prefix: 'lwt_seg6local', programType: 'lwt_seg6local' },
  { prefix: 'sockops', programType: 'sock_ops' },
  { prefix: 'sk_skb/stream_parser', programType: 'sk_skb' },
  { prefix: 'sk_skb/stream_verdict', programType: 'sk_skb' },
  { prefix: 'sk_skb', programType: 'sk_skb' },
  { prefix: 'sk_msg', programType: 'sk_msg' },
  { prefix: 'lirc_mode2', programType: 'lirc_mode2' },
  { prefix: 'flow_dissector', programType: 'flow_dissector' },
  { prefix: 'cgroup_skb/ingress', programType: 'cgroup_skb' },
  { prefix: 'cgroup_skb/egress', programType: 'cgroup_skb' },
  { prefix: 'cgroup/skb', programType: 'cgroup_skb' },
  { prefix: 'cgroup/sock_create', programType: 'cgroup_sock' },
  { prefix: 'cgroup/sock_release', programType: 'cgroup_sock' },
  { prefix: 'cgroup/sock', programType: 'cgroup_sock' },
  { prefix: 'cgroup/post_bind4', programType: 'cgroup_sock' },
  { prefix: 'cgroup/post_bind6', programType: 'cgroup_sock' },
  { prefix: 'cgroup/bind4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/bind6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/connect4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/connect6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/sendmsg4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/sendmsg6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/recvmsg4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/recvmsg6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/getpeername4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/getpeername6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/getsockname4', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/getsockname6', programType: 'cgroup_sock_addr' },
  { prefix: 'cgroup/sysctl', programType: 'cgroup_sysctl' },
  { prefix: 'cgroup/getsockopt', programType: 'cgroup_sockopt' },
  { prefix: 'cgroup/setsockopt', programType: 'cgroup_sockopt' },
  { prefix: 'cgroup/dev', programType: 'cgroup_device' },
  { prefix: 'struct_ops/', programType: 'struct_ops', target: 'member of the struct_ops map' },
  { prefix: 'struct_ops.s/', programType: 'struct_ops', target: 'member (sleepable)' },
  { prefix: 'sk_lookup', programType: 'sk_lookup' },
  { prefix: 'netfilter', programType: 'netfilter' },
];

/** Map types for `__uint(type, BPF_MAP_TYPE_...)`. */
export const MAP_TYPES = [
  'HASH',
  'ARRAY',
  'PROG_ARRAY',
  'PERF_EVENT_ARRAY',
  'PERCPU_HASH',
  'PERCPU_ARRAY',
  'STACK_TRACE',
  'CGROUP_ARRAY',
  'LRU_HASH',
  'LRU_PERCPU_HASH',
  'LPM_TRIE',
  'ARRAY_OF_MAPS',
  'HASH_OF_MAPS',
  'DEVMAP',
  'SOCKMAP',
  'CPUMAP',
  'XSKMAP',
  'SOCKHASH',
  'CGROUP_STORAGE',
  'REUSEPORT_SOCKARRAY',
  'PERCPU_CGROUP_STORAGE',
  'QUEUE',
  'STACK',
  'SK_STORAGE',
  'DEVMAP_HASH',
  'STRUCT_OPS',
  'RINGBUF',
  'INODE_STORAGE',
  'TASK_STORAGE',
  'BLOOM_FILTER',
  'USER_RINGBUF',
  'CGRP_STORAGE',
].map((t) => `BPF_MAP_TYPE_${t}`);

/** Fields of a BTF-defined map (`struct { ... } name SEC(".maps")`), as libbpf reads them. */
export const MAP_FIELDS: { macro: '__uint' | '__type' | '__array'; field: string; doc: string }[] = [
  { macro: '__uint', field: 'type', doc: 'The map type, BPF_MAP_TYPE_*.' },
  {
    macro: '__uint',
    field: 'max_entries',
    doc: 'How many entries the map holds (bytes for a ring buffer, a power of two).',
  },
  { macro: '__type', field: 'key', doc: 'The key type; libbpf takes key_size from it.' },
  { macro: '__type', field: 'value', doc: 'The value type; libbpf takes value_size from it.' },
  { macro: '__uint', field: 'key_size', doc: 'Key size in bytes, when no key type is given.' },
  { macro: '__uint', field: 'value_size', doc: 'Value size in bytes, when no value type is given.' },
  { macro: '__uint', field: 'map_flags', doc: 'BPF_F_* flags (BPF_F_NO_PREALLOC, BPF_F_MMAPABLE, ...).' },
  { macro: '__uint', field: 'numa_node', doc: 'NUMA node to allocate on (with BPF_F_NUMA_NODE).' },
  { macro: '__uint', field: 'pinning', doc: "LIBBPF_PIN_BY_NAME to pin under the object's pin root." },
  { macro: '__uint', field: 'map_extra', doc: 'Map-type specific (bloom filter hash count).' },
  { macro: '__array', field: 'values', doc: 'Inner map or program array contents.' },
];

export type CompletionContext =
  | { kind: 'section'; typed: string }
  | { kind: 'mapType'; typed: string }
  | { kind: 'mapField'; macro: string; typed: string }
  | { kind: 'none' };

/** Decides what to complete from the text of the line up to the cursor. */
export function completionContext(linePrefix: string): CompletionContext {
  const section = /\bSEC\(\s*"([^"]*)$/.exec(linePrefix);
  if (section) return { kind: 'section', typed: section[1] };
  const mapType = /__uint\(\s*type\s*,\s*([A-Z0-9_]*)$/.exec(linePrefix);
  if (mapType) return { kind: 'mapType', typed: mapType[1] };
  const field = /\b(__uint|__type|__array)\(\s*([a-z_]*)$/.exec(linePrefix);
  if (field) return { kind: 'mapField', macro: field[1], typed: field[2] };
  return { kind: 'none' };
}

export interface KernelTargets {
  /** "category/name" from tracefs events/. */
  tracepoints: string[];
  rawTracepoints: string[];
  functions: string[];
}

export interface SectionCompletion {
  /** The whole section text this item inserts ("tracepoint/sched/sched_process_fork"). */
  label: string;
  detail: string;
}

const TRACEPOINT_PREFIXES = ['tracepoint/', 'tp/'];
const RAW_TP_PREFIXES = ['raw_tracepoint/', 'raw_tp/', 'tp_btf/', 'raw_tracepoint.w/', 'raw_tp.w/'];
const FUNCTION_PREFIXES = ['fentry/', 'fexit/', 'fmod_ret/', 'kprobe/', 'kretprobe/', 'fentry.s/', 'fexit.s/'];
/** Enough to choose from without sending 50k items for "fentry/" alone. */
const MAX_TARGETS = 2000;

/**
 * Section names for what was typed inside SEC(": program types until a prefix with a target is complete,
 * then the kernel's targets for it, filtered by what follows the prefix.
 */
export function sectionCompletions(typed: string, kernel: KernelTargets): SectionCompletion[] {
  const withTargets = (prefixes: string[], targets: string[], what: string) => {
    const prefix = prefixes.find((p) => typed.startsWith(p));
    if (!prefix) return undefined;
    const rest = typed.slice(prefix.length);
    return targets
      .filter((t) => t.startsWith(rest))
      .slice(0, MAX_TARGETS)
      .map((t) => ({ label: prefix + t, detail: what }));
  };
  return (
    withTargets(TRACEPOINT_PREFIXES, kernel.tracepoints, 'tracepoint of this kernel (tracefs)') ??
    withTargets(RAW_TP_PREFIXES, kernel.rawTracepoints, 'raw tracepoint of this kernel (BTF)') ??
    withTargets(FUNCTION_PREFIXES, kernel.functions, 'kernel function (BTF)') ??
    SECTION_DEFS.filter((d) => d.prefix.startsWith(typed) || typed.startsWith(d.prefix)).map((d) => ({
      label: d.prefix,
      detail: `${d.programType} program${d.target ? `; then: ${d.target}` : ''}`,
    }))
  );
}

/** The tracepoints under tracefs events/ as "category/name"; empty when tracefs is not readable. */
export function tracefsTracepoints(roots = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']): string[] {
  for (const root of roots) {
    const events = path.join(root, 'events');
    let categories: fs.Dirent[];
    try {
      categories = fs.readdirSync(events, { withFileTypes: true });
    } catch {
      continue;
    }
    const found: string[] = [];
    for (const category of categories) {
      if (!category.isDirectory()) continue;
      try {
        for (const event of fs.readdirSync(path.join(events, category.name), { withFileTypes: true })) {
          if (event.isDirectory()) found.push(`${category.name}/${event.name}`);
        }
      } catch {
        // A category we may not read: the others still count.
      }
    }
    return found.sort();
  }
  return [];
}
