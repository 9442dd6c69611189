// Names the kernel functions that translated BPF instructions call. In a raw xlated dump a helper call's
// imm is the helper's address relative to __bpf_call_base (as bpftool resolves it), so /proc/kallsyms
// gives its name. Pure: the helper reads the file, this matches addresses.

/** For each call imm, the kernel symbol at __bpf_call_base + imm (exact match only). */
export function callTargetNames(kallsyms: string, imms: number[]): Record<string, string> {
  if (imms.length === 0) return {};
  const base = /^([0-9a-f]+) \S+ __bpf_call_base$/m.exec(kallsyms);
  if (!base || /^0+$/.test(base[1])) return {};
  const baseAddress = BigInt(`0x${base[1]}`);
  const wanted = new Map<bigint, number[]>();
  for (const imm of new Set(imms)) {
    const address = baseAddress + BigInt(imm);
    wanted.set(address, [...(wanted.get(address) ?? []), imm]);
  }
  const names: Record<string, string> = {};
  for (const line of kallsyms.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const imms = wanted.get(BigInt(`0x${line.slice(0, space)}`));
    if (!imms) continue;
    const name = line.slice(space + 3).split(/\s/)[0];
    for (const imm of imms) names[imm] ??= name;
  }
  return names;
}
