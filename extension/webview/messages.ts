// Messages between the extension host and the webviews (map viewer, trace panel). Types only: both the
// host features and the browser bundles import them.
import type { StatsRow } from '../formats/program-stats';

export type { StatsRow };

export interface ViewerColumn {
  part: 'key' | 'value';
  label: string;
  type: string;
  /** Leaf path used in edit forms. */
  path: string;
  /** Integers, enums and the like can be plotted over time. */
  numeric: boolean;
}

export interface ViewerRow {
  index: number;
  keyHex: string;
  cpu: string;
  cells: string[];
  changed: number[];
}

export type ToMapViewer =
  | {
      type: 'init';
      title: string;
      summary: string;
      columns: ViewerColumn[];
      perCpu: boolean;
      cpus: number;
      /** Set when the map type cannot be listed, with what to do instead. */
      undumpable?: string;
      /** Set when keys or values have no BTF (shown as hex). */
      untyped?: string;
      /** Offer "Decode values as…" (a struct from a workspace object's BTF). */
      canPickStruct?: boolean;
    }
  | { type: 'meta'; rows: number; entries: number; loading: boolean; refreshedAt: number; readMs?: number }
  | { type: 'rows'; request: number; rows: ViewerRow[] }
  | { type: 'histograms'; histograms: { title: string; labels: string[]; counts: number[] }[] }
  | { type: 'series'; series: { id: string; label: string; points: [number, number][] }[] }
  | {
      type: 'form';
      mode: 'add' | 'edit';
      keyHex?: string;
      cpu?: number;
      key: { path: string; label: string; type: string; value: string }[];
      value: { path: string; label: string; type: string; value: string }[];
    }
  | { type: 'formError'; message: string; path?: string }
  | { type: 'formDone' }
  | { type: 'error'; message: string }
  /** The map cannot be read now (helper stopped, map unloaded): auto-refresh is off, the message says why. */
  | { type: 'paused'; message: string }
  /** Auto-refresh was set from outside the page (eBPF: Plot Map… turns it on). */
  | { type: 'autoRefresh'; intervalMs: number };

export type FromMapViewer =
  | { type: 'ready' }
  | { type: 'range'; request: number; start: number; count: number }
  | { type: 'filter'; text: string }
  | { type: 'sort'; column: number; descending: boolean }
  | { type: 'sort'; column: -1; descending: boolean }
  | { type: 'refresh' }
  | { type: 'autoRefresh'; intervalMs: number }
  | { type: 'openForm'; mode: 'add' | 'edit'; keyHex?: string; cpu?: string }
  | {
      type: 'save';
      mode: 'add' | 'edit';
      keyHex?: string;
      cpu?: number;
      key: Record<string, string>;
      value: Record<string, string>;
    }
  | { type: 'delete'; keyHex: string }
  | { type: 'export'; format: 'json' | 'csv' }
  | { type: 'plot'; keyHex: string; column: number }
  | { type: 'unplot'; id: string }
  | { type: 'pickStruct' };

export interface TraceRow {
  /** Monotonic sequence number. */
  seq: number;
  /** "trace" for trace_pipe lines, else the map the event came from. */
  source: string;
  /** Wall-clock time of day (HH:MM:SS.mmm) for every row, whatever clock its source uses. */
  time: string;
  /** The time in the source's own clock (trace_pipe: seconds since boot), shown on hover. */
  timeTitle?: string;
  task: string;
  pid: string;
  cpu: string;
  program: string;
  text: string;
}

export type ToTracePanel =
  | { type: 'rows'; rows: TraceRow[]; total: number }
  | { type: 'clear' }
  | {
      type: 'stats';
      eventsPerSecond: number;
      kept: number;
      maxLines: number;
      lostInKernel: number;
      droppedInHelper: number;
      droppedInPanel: number;
      resynced: number;
      reserveFailures?: number;
      paused: boolean;
      sources: string[];
      programs: string[];
      status: string;
    };

export type FromTracePanel =
  | { type: 'ready' }
  | { type: 'pause'; paused: boolean }
  | { type: 'clear' }
  | { type: 'filter'; program: string; pid: string; text: string }
  | { type: 'copy' }
  | { type: 'export' }
  | { type: 'addSource' };

export type ToStatsTable =
  | { type: 'rows'; rows: StatsRow[]; enabled: boolean; intervalMs: number; at: number }
  | { type: 'message'; text: string };

export type FromStatsTable = { type: 'ready' } | { type: 'toggle' } | { type: 'open'; id: number };
