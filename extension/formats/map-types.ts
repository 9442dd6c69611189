// Facts about kernel map types by the names libbpf gives them (libbpf_bpf_map_type_str), shared by the
// helper and the extension's decoders.

/** Per-CPU maps hold one value slot per possible CPU, each rounded up to 8 bytes. */
export function isPerCpuMapType(type: string): boolean {
  return type.startsWith('percpu_') || type.includes('_percpu_');
}

/** Local storage maps: the kernel wants max_entries 0, since they grow with their owners. */
const SIZED_BY_OWNER = new Set([
  'sk_storage',
  'inode_storage',
  'task_storage',
  'cgrp_storage',
  'cgroup_storage',
  'percpu_cgroup_storage',
]);

/**
 * The max_entries to verify with when an object leaves a map's size to its loader (max_entries 0, set
 * with bpf_map__set_max_entries() from a command-line option or the CPU count). The verifier's checks
 * do not depend on the size; the kernel only refuses 0. A ring buffer must be a power-of-two number of
 * pages. undefined: the kernel or libbpf sizes the map itself (libbpf gives a perf event array one
 * slot per CPU).
 */
export function placeholderMaxEntries(type: string, pageSize = 4096): number | undefined {
  if (type === 'perf_event_array' || type === 'struct_ops' || SIZED_BY_OWNER.has(type)) return undefined;
  if (type === 'ringbuf' || type === 'user_ringbuf') return pageSize;
  return 1;
}

/** Map types whose entries cannot be listed, and what to do instead; undefined for listable types. */
export function undumpableReason(type: string): string | undefined {
  switch (type) {
    case 'ringbuf':
    case 'user_ringbuf':
      return 'A ring buffer streams events instead of holding entries: open it in the Trace Output panel (eBPF: Show Trace Output).';
    case 'perf_event_array':
      return 'A perf event array holds one perf buffer per CPU, not entries: open it in the Trace Output panel (eBPF: Show Trace Output).';
    case 'queue':
    case 'stack':
      return `A ${type} can only be read by popping, which would take the entries away from the program.`;
    case 'bloom_filter':
      return 'A bloom filter only answers "maybe present" for a given value; it has no entries to list.';
    case 'struct_ops':
      return 'A struct_ops map holds kernel callbacks, not data.';
    case 'arena':
      return 'An arena is memory shared with the program, not entries.';
    default:
      return undefined;
  }
}

/**
 * Map types whose values are file descriptors when written and ids when read (prog_array, maps of maps,
 * sockmap/sockhash, and the like): an edit names an object to open by id, never raw bytes.
 */
export function fdValueKind(type: string): 'program' | 'map' | 'socket' | undefined {
  switch (type) {
    case 'prog_array':
      return 'program';
    case 'array_of_maps':
    case 'hash_of_maps':
      return 'map';
    case 'sockmap':
    case 'sockhash':
    case 'reuseport_sockarray':
      return 'socket';
    default:
      return undefined;
  }
}

/** LRU maps evict another entry to make room for a new one, silently. */
export function isLruMapType(type: string): boolean {
  return type.startsWith('lru_');
}
