// What every benchmark reports besides its printed table: rows of bench/results.json
// ({name, value, unit, reference, ratio, goal, met}), and the statistics of several rounds after a warm-up.
import * as fs from 'fs';

export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run ("libbpf batch reader in C: 323 ms"). */
  reference?: string;
  /** eBPF Studio against the reference, in the sense the goal states (e.g. "x the C reader's rate"). */
  ratio?: number;
  goal?: string;
  /** Whether the goal is met; null when the row has no goal. */
  met: boolean | null;
}

export interface Rounds {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

/** Runs `fn` once to warm up, then `rounds` times; returns the median and range of what it returns. */
export async function rounds(count: number, fn: () => Promise<number> | number, warmUp = true): Promise<Rounds> {
  if (warmUp) await fn();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await fn());
  return summarize(samples);
}

export function summarize(samples: number[]): Rounds {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples };
}

/** "123.4 (120.1–130.2)" */
export function medianRange(r: Rounds, digits = 1): string {
  return `${r.median.toFixed(digits)} (${r.min.toFixed(digits)}–${r.max.toFixed(digits)})`;
}

export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Peak resident set (VmHWM) of a process, in MiB; undefined when it cannot be read. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a new peak: sets the VmHWM of a process back to its current RSS (clear_refs "5", Linux 4.0), so a
 * peak read afterwards belongs to what ran since, not to an earlier benchmark in the same process. Returns
 * the resident set it starts from (memory an earlier benchmark left in this heap stays in it), in MiB.
 */
export function resetPeakRss(pid: number = process.pid): number | undefined {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not ours to reset (another user's process without root): the peak then covers its whole life.
  }
  // Right after the reset, the peak is the resident set the phase starts from.
  return peakRssMiB(pid);
}

/** This process's peak resident set in MiB (the extension host's side of a benchmark). */
export function ownPeakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** A metric whose goal is "at least `goal` times the reference". */
export function atLeast(
  name: string,
  value: number,
  unit: string,
  reference: string,
  ratio: number,
  goal: number,
): Metric {
  return { name, value, unit, reference, ratio, goal: `>= ${goal}x`, met: ratio >= goal };
}

/** A metric whose goal is "at most `goal` times the reference". */
export function atMost(
  name: string,
  value: number,
  unit: string,
  reference: string,
  ratio: number,
  goal: number,
): Metric {
  return { name, value, unit, reference, ratio, goal: `<= ${goal}x`, met: ratio <= goal };
}
