// The statistics table's rows (eBPF: Show Program Statistics), like bpftop's: per program runs/s, average
// ns per run, CPU% over the last interval, total runs, and a short trend of runs/s. Pure.
import type { ProgramInfo } from '../../../protocol/types';
import { runStats } from './model';
import type { StatsRow } from '../../../formats/program-stats';

/** Points kept for each program's trend (one per refresh: a minute at one refresh a second). */
export const TREND_POINTS = 60;

/**
 * Keeps what the table needs between refreshes: the previous listing (for rates) and each program's
 * recent runs/s. Programs that left the kernel leave the table and their history.
 */
export class StatsHistory {
  private previous: { at: number; programs: ProgramInfo[] } | undefined;
  private readonly trends = new Map<number, number[]>();

  /** One refresh: rows for every program, with its own loads marked. */
  update(programs: ProgramInfo[], at: number, own: ReadonlyMap<number, string> = new Map()): StatsRow[] {
    const elapsedMs = this.previous ? at - this.previous.at : 0;
    const stats = runStats(this.previous?.programs, programs, elapsedMs);
    const first = !this.previous;
    this.previous = { at, programs };
    const seen = new Set<number>();
    const rows = programs.map((p): StatsRow => {
      seen.add(p.id);
      const s = stats.get(p.id)!;
      const runsPerSecond = elapsedMs > 0 ? (s.runs * 1000) / elapsedMs : 0;
      const trend = this.trends.get(p.id) ?? [];
      if (!first) {
        trend.push(runsPerSecond);
        if (trend.length > TREND_POINTS) trend.shift();
      }
      this.trends.set(p.id, trend);
      return {
        id: p.id,
        name: p.name || `(unnamed ${p.id})`,
        type: p.type,
        load: own.get(p.id),
        runsPerSecond,
        avgNs: s.avgNs,
        cpuPercent: s.cpuPercent,
        totalRuns: p.runCount,
        trend: [...trend],
      };
    });
    for (const id of [...this.trends.keys()]) if (!seen.has(id)) this.trends.delete(id);
    return rows;
  }

  reset(): void {
    this.previous = undefined;
    this.trends.clear();
  }
}
