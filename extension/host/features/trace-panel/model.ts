// What the trace panel keeps: the last N records (trace lines and decoded events) in a ring, so memory stays
// bounded at any rate; events are kept as references into their batch and formatted only when shown.
// Filters by program, pid and text; measures events per second. No vscode import.
import { formatScalar } from '../../../formats/btf-decode';
import type { TraceRow } from '../../../webview/messages';
import type { EventBatchDecoded, TraceEntry } from './source';

type Kept =
  | { seq: number; at: number; line: TraceEntry }
  | { seq: number; at: number; batch: EventBatchDecoded; i: number; program: string };

export interface TraceFilter {
  program: string;
  pid: string;
  text: string;
}

export class TraceModel {
  private ring: (Kept | undefined)[];
  private head = 0;
  private size = 0;
  private seq = 0;
  private sentSeq = 0;
  /** Records received per 100 ms slot over the last second. */
  private readonly rate = new Array<number>(10).fill(0);
  private rateSlot = 0;
  filter: TraceFilter = { program: '', pid: '', text: '' };
  /** Records that arrived (kept or since pushed out of the ring). */
  received = 0;
  /** Records that arrived but were pushed out of the ring before the webview was offered them. */
  droppedInPanel = 0;
  readonly programs = new Set<string>();
  readonly sources = new Set<string>(['trace_pipe']);
  /**
   * Wall-clock ms minus trace_pipe's clock (seconds since boot) in ms. A line arrives after it was printed,
   * so the smallest difference seen is the closest estimate; it shows printk lines in the wall clock the
   * ring buffer events use.
   */
  private traceClockOffsetMs: number | undefined;

  constructor(private capacity: number) {
    this.ring = new Array(capacity);
  }

  get kept(): number {
    return this.size;
  }

  get maxLines(): number {
    return this.capacity;
  }

  /** Changes N, keeping the newest records. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const all = this.keptRecords().slice(-capacity);
    this.capacity = capacity;
    this.ring = new Array(capacity);
    this.head = 0;
    this.size = 0;
    for (const k of all) this.push(k);
  }

  private push(k: Kept): void {
    this.ring[(this.head + this.size) % this.capacity] = k;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  private count(n: number, now: number): void {
    const slot = Math.floor(now / 100);
    if (slot !== this.rateSlot) {
      for (let s = this.rateSlot + 1; s <= slot && s - this.rateSlot <= 10; s++) this.rate[s % 10] = 0;
      this.rateSlot = slot;
    }
    this.rate[slot % 10] += n;
    this.received += n;
  }

  eventsPerSecond(now: number): number {
    this.count(0, now);
    return this.rate.reduce((a, b) => a + b, 0);
  }

  /** `skipped`: older lines of the same batch the source did not even parse (more than the ring holds). */
  addLines(entries: TraceEntry[], now = Date.now(), skipped = 0): void {
    this.count(entries.length + skipped, now);
    // Only the newest `capacity` can stay: skip the rest without touching them.
    const from = Math.max(0, entries.length - this.capacity);
    this.seq += skipped + from;
    for (let i = from; i < entries.length; i++) {
      const line = entries[i];
      if (line.program) this.programs.add(line.program);
      if (line.line) {
        const offset = now - line.line.timestamp * 1000;
        if (this.traceClockOffsetMs === undefined || offset < this.traceClockOffsetMs) this.traceClockOffsetMs = offset;
      }
      this.push({ seq: ++this.seq, at: now, line });
    }
  }

  /** `program` names what emitted them: the load owning the map. */
  addEvents(batch: EventBatchDecoded, program: string, now = Date.now()): void {
    this.count(batch.count, now);
    this.sources.add(batch.mapName);
    if (program) this.programs.add(program);
    const from = Math.max(0, batch.count - this.capacity);
    this.seq += from;
    for (let i = from; i < batch.count; i++) this.push({ seq: ++this.seq, at: now, batch, i, program });
  }

  clear(): void {
    this.ring = new Array(this.capacity);
    this.head = 0;
    this.size = 0;
    this.sentSeq = this.seq;
  }

  private keptRecords(): Kept[] {
    const out: Kept[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.capacity]!);
    return out;
  }

  /** A record as a row of the panel. */
  format(k: Kept): TraceRow {
    if ('line' in k) {
      const l = k.line.line;
      return {
        seq: k.seq,
        source: 'trace',
        time: l ? timeOfDay(l.timestamp * 1000 + (this.traceClockOffsetMs ?? k.at - l.timestamp * 1000)) : '',
        timeTitle: l ? `${l.timestamp.toFixed(6)} s since boot (trace_pipe's clock)` : undefined,
        task: l?.task ?? '',
        pid: l ? String(l.pid) : '',
        cpu: l ? String(l.cpu) : '',
        program: k.line.program ?? '',
        text: l ? l.message : k.line.raw,
      };
    }
    const { batch, i } = k;
    const cells = batch.decoder.decode(batch.data, batch.offsets[i], batch.lengths[i]);
    const columns = batch.decoder.columns;
    const pidAt = columns.findIndex((c) => c === 'pid' || c === 'tgid');
    const commAt = columns.findIndex((c) => c === 'comm' || c === 'task');
    return {
      seq: k.seq,
      source: batch.mapName,
      time: timeOfDay(k.at),
      timeTitle: `received ${new Date(k.at).toISOString()}`,
      task: commAt >= 0 ? formatScalar(cells[commAt]) : '',
      pid: pidAt >= 0 ? formatScalar(cells[pidAt]) : '',
      cpu: '',
      program: k.program,
      text: batch.structName
        ? columns.map((c, j) => `${c}=${formatScalar(cells[j])}`).join(' ')
        : `(${batch.lengths[i]} bytes, no struct picked) ${formatScalar(cells[0])}`,
    };
  }

  matches(row: TraceRow): boolean {
    const f = this.filter;
    if (f.program && row.program !== f.program && row.source !== f.program) return false;
    if (f.pid && row.pid !== f.pid.trim()) return false;
    if (f.text && !`${row.task} ${row.text}`.toLowerCase().includes(f.text.toLowerCase())) return false;
    return true;
  }

  /** Rows that arrived since the last call, filtered (at most the ring's size). Records that arrived since
   * and were already pushed out of the ring are counted in droppedInPanel. */
  takeNew(): TraceRow[] {
    const rows: TraceRow[] = [];
    let offered = 0;
    for (const k of this.keptRecords()) {
      if (k.seq <= this.sentSeq) continue;
      offered++;
      const row = this.format(k);
      if (this.matches(row)) rows.push(row);
    }
    // Sequence numbers are given to every record that arrived, kept or not.
    this.droppedInPanel += this.seq - this.sentSeq - offered;
    this.sentSeq = this.seq;
    return rows;
  }

  /** Every kept row that passes the filter, all counted as sent: the page is redrawn with exactly these
   * (when it loads, after a filter change), so the next takeNew() starts after them. */
  redrawRows(): TraceRow[] {
    this.takeNew();
    return this.allRows();
  }

  /** Every kept row that passes the filter (for copy and export; nothing is marked as sent). */
  allRows(): TraceRow[] {
    return this.keptRecords()
      .map((k) => this.format(k))
      .filter((r) => this.matches(r));
  }
}

/** "14:03:07.512": local time of day with milliseconds, the one clock the panel shows. */
export function timeOfDay(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Rows as text, one per line (copy and export). */
export function rowsAsText(rows: TraceRow[]): string {
  return (
    rows
      .map((r) =>
        [r.time, r.source, r.task && `${r.task}-${r.pid}`, r.cpu && `[${r.cpu}]`, r.program && `<${r.program}>`, r.text]
          .filter(Boolean)
          .join(' '),
      )
      .join('\n') + '\n'
  );
}
