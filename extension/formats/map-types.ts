// Facts about kernel map types by the names libbpf gives them (libbpf_bpf_map_type_str), shared by the
// helper and the extension's decoders.

/** Per-CPU maps hold one value slot per possible CPU, each rounded up to 8 bytes. */
export function isPerCpuMapType(type: string): boolean {
  return type.startsWith('percpu_') || type.includes('_percpu_');
}
