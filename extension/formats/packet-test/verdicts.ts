// Return codes by name for XDP and tc programs, and the names of a return value. Pure.

/** Return codes by name: XDP actions and tc actions (linux/bpf.h, linux/pkt_cls.h). */
export const VERDICTS: Record<string, number> = {
  XDP_ABORTED: 0,
  XDP_DROP: 1,
  XDP_PASS: 2,
  XDP_TX: 3,
  XDP_REDIRECT: 4,
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
};

/** Which verdict family a program type answers with, to name a return value in a diff. */
export function verdictFamily(programType: string): 'XDP' | 'TC' | undefined {
  if (programType === 'xdp') return 'XDP';
  if (programType === 'sched_cls' || programType === 'sched_act') return 'TC';
  return undefined;
}

/** "XDP_PASS (2)", or the bare number for socket filters (bytes kept) and unknown codes. */
export function verdictName(retval: number, family: 'XDP' | 'TC' | undefined): string {
  const name = family
    ? Object.entries(VERDICTS).find(([n, v]) => n.startsWith(`${family}_`) && v === retval)?.[0]
    : undefined;
  return name ? `${name} (${retval})` : String(retval);
}
