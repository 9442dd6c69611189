// Whether a process may load BPF programs, from the CapEff line of /proc/<pid>/status. Pure: each
// process reads its own status file and asks here.

// CAP_SYS_ADMIN (21) alone, or CAP_BPF (39) with CAP_PERFMON (38) and CAP_NET_ADMIN (12), lets a
// process load and attach everything eBPF Studio offers (kernel 5.8+ split the capabilities).
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export function effectiveCapabilities(statusText: string): bigint {
  const line = statusText.split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt('0x' + line.slice('CapEff:'.length).trim()) : 0n;
}

export function hasBpfPrivileges(caps: bigint): boolean {
  const has = (bit: bigint) => (caps & (1n << bit)) !== 0n;
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON) && has(CAP_NET_ADMIN));
}
