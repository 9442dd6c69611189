// Program run statistics as the statistics table shows them (the host computes the rows, the webview
// sorts and draws them): the row shape, the sort and a text sparkline for the trend. Pure.

/** A row of the program statistics table (eBPF: Show Program Statistics). */
export interface StatsRow {
  id: number;
  name: string;
  type: string;
  /** The eBPF Studio load it belongs to, when it is one of ours. */
  load?: string;
  runsPerSecond: number;
  avgNs: number;
  cpuPercent: number;
  totalRuns: number;
  /** runs/s at each of the last refreshes, oldest first. */
  trend: number[];
}

export type StatsColumn = 'name' | 'id' | 'type' | 'runsPerSecond' | 'avgNs' | 'cpuPercent' | 'totalRuns';

/** Rows in the order a header click asks for; ties by id so rows never jump between equal values. */
export function sortStatsRows(rows: StatsRow[], column: StatsColumn, descending: boolean): StatsRow[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    const c = typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : Number(x) - Number(y);
    return sign * c || a.id - b.id;
  });
}

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of a trend, scaled to its own maximum: "▁▁▃▇█▅". */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (max > 0 ? BARS[Math.min(7, Math.round((v / max) * 7))] : BARS[0])).join('');
}
