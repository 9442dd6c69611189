// The maps a bpftrace run printed, as rows of the map viewer's table (map, key, value) and as its
// histogram plots. Read-only: bpftrace's maps live in its own process. No vscode import.
import { bpftraceHistogramPlots, BpftraceNumber, BpftraceStats, BpftraceValue } from '../../../formats/bpftrace-output';
import type { ViewerColumn, ViewerRow } from '../../../webview/messages';
import type { BpftraceMapEvent } from './session';

export const BPFTRACE_COLUMNS: ViewerColumn[] = [
  { part: 'key', label: 'map', type: 'bpftrace map', path: 'map', numeric: false },
  { part: 'key', label: 'key', type: 'string', path: 'key', numeric: false },
  { part: 'value', label: 'value', type: 'bpftrace value', path: 'value', numeric: true },
];

export function valueText(value: BpftraceValue): string {
  if (Array.isArray(value)) return `(${value.map(valueText).join(', ')})`;
  return typeof value === 'string' ? value : String(value);
}

function statsText(value: BpftraceNumber | BpftraceStats): string {
  if (typeof value !== 'object') return String(value);
  return `count ${value.count}, average ${value.average}, total ${value.total}`;
}

/** One row per entry, maps in name order (as bpftrace prints them at exit), entries as printed. */
export function bpftraceRows(maps: Iterable<BpftraceMapEvent>): ViewerRow[] {
  const rows: ViewerRow[] = [];
  const sorted = [...maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const map of sorted) {
    for (const entry of map.entries) {
      const value =
        map.type === 'map'
          ? valueText(entry.value as BpftraceValue)
          : map.type === 'stats'
            ? statsText(entry.value as BpftraceNumber | BpftraceStats)
            : `histogram, ${(entry.value as { count: BpftraceNumber }[]).reduce((n, b) => n + Number(b.count), 0)} samples`;
      rows.push({ index: rows.length, keyHex: '', cpu: '', cells: [map.name, entry.key ?? '', value], changed: [] });
    }
  }
  return rows;
}

/** Every hist/lhist of the run, one plot per key. */
export function bpftracePlots(
  maps: Iterable<BpftraceMapEvent>,
): { title: string; labels: string[]; counts: number[] }[] {
  return [...maps].flatMap((m) => (m.type === 'hist' ? bpftraceHistogramPlots(m) : []));
}

/** The rows as JSON for export: numbers beyond 2^53 stay exact as strings. */
export function bpftraceMapsJson(maps: Iterable<BpftraceMapEvent>): string {
  const out: Record<string, unknown> = {};
  for (const m of maps) out[m.name] = m.entries;
  return JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
