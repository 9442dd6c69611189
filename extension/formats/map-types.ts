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
