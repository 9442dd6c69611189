// What the map viewer shows, kept on the extension side: the map's pages as packed bytes (68 MB for a
// million 68-byte entries, decoded only for the rows on screen), the row order after filter and sort, the
// previous snapshot for "changed" highlighting, and the history of plotted values. No vscode import.
import { decodeLeaf, formatScalar, leafInteger, Scalar } from '../../../formats/btf-decode';
import { log2BucketLabel } from '../../../formats/btf-histograms';
import { MapSource, RawPage } from '../maps/source';
import type { ViewerRow } from '../../../webview/messages';

export interface Histogram {
  title: string;
  labels: string[];
  counts: number[];
}

/**
 * The message line above the table. A failed read says so until a read succeeds; other messages (a
 * refused delete, a paused viewer) stay until something replaces them, since a later read says nothing
 * about them.
 */
export class MessageLine {
  private showsReadFailure = false;

  /** The text for a read that failed. */
  readFailed(error: Error): string {
    this.showsReadFailure = true;
    return `Reading the map failed: ${error.message}`;
  }

  /** After a good read: "" to clear a read failure still shown, else undefined (leave the line alone). */
  readSucceeded(): string | undefined {
    if (!this.showsReadFailure) return undefined;
    this.showsReadFailure = false;
    return '';
  }

  /** Any other message (or "" to clear) replaced what the line showed. */
  replaced(): void {
    this.showsReadFailure = false;
  }
}

/** Snapshots bigger than this compare by position only (hash maps keep their order between reads). */
const MAX_KEYED_COMPARE = 200_000;

export class MapViewerModel {
  private pages: RawPage[] = [];
  /** Entry offsets: pageStart[i] is the global index of page i's first entry. */
  private pageStart: number[] = [];
  private total = 0;
  /** Entry indices in display order, when filtered or sorted. */
  private order: Int32Array | undefined;
  private previous: { pages: RawPage[]; pageStart: number[]; byKey?: Map<string, number> } | undefined;
  private filterText = '';
  private sortBy: { column: number; descending: boolean } | undefined;
  /** Plotted values over time: keyHex + column -> [time ms, value]. */
  readonly series = new Map<string, { keyHex: string; column: number; points: [number, number][] }>();

  constructor(readonly source: MapSource) {}

  get entryCount(): number {
    return this.total;
  }

  /** Rows per entry: 1, or the sum plus one per CPU. */
  get rowsPerEntry(): number {
    return this.source.cpus > 0 ? this.source.cpus + 1 : 1;
  }

  /** Rows in the current view. */
  get rowCount(): number {
    return (this.order ? this.order.length : this.total) * this.rowsPerEntry;
  }

  get allPages(): RawPage[] {
    return this.pages;
  }

  private pending: RawPage[] | undefined;

  /**
   * Starts a new snapshot. Progressive (the first read): pages show as they arrive. Otherwise (refreshes)
   * the table keeps showing the old snapshot until the new one is complete, then compares against it.
   */
  beginSnapshot(progressive: boolean): void {
    if (!progressive) {
      this.pending = [];
      return;
    }
    this.pending = undefined;
    this.pages = [];
    this.pageStart = [];
    this.total = 0;
    this.order = undefined;
  }

  addPage(page: RawPage): void {
    if (this.pending) {
      this.pending.push(page);
      return;
    }
    this.pageStart.push(this.total);
    this.pages.push(page);
    this.total += page.count;
  }

  /**
   * Drops a refresh that failed part way (the map left the kernel, the helper stopped): the table keeps
   * the last complete snapshot rather than showing the pages read so far, or none.
   */
  abandonSnapshot(): void {
    this.pending = undefined;
  }

  /** Makes the new snapshot current (keeping the old for "changed"), re-applies filter and sort. */
  finishSnapshot(): void {
    if (this.pending) {
      if (this.pages.length > 0) {
        const byKey = this.total <= MAX_KEYED_COMPARE ? this.keyIndex(this.pages) : undefined;
        this.previous = { pages: this.pages, pageStart: this.pageStart, byKey };
      }
      const pages = this.pending;
      this.pending = undefined;
      this.pages = [];
      this.pageStart = [];
      this.total = 0;
      for (const page of pages) this.addPage(page);
    }
    this.recordSeries();
    this.applyView();
  }

  setFilter(text: string): void {
    this.filterText = text.trim().toLowerCase();
    this.applyView();
  }

  setSort(sort: { column: number; descending: boolean } | undefined): void {
    this.sortBy = sort;
    this.applyView();
  }

  private keyIndex(pages: RawPage[]): Map<string, number> {
    const map = new Map<string, number>();
    const ks = this.source.info.keySize;
    let g = 0;
    for (const p of pages)
      for (let i = 0; i < p.count; i++, g++) map.set(p.keys.toString('hex', i * ks, (i + 1) * ks), g);
    return map;
  }

  private locate(entry: number, pages = this.pages, starts = this.pageStart): [RawPage, number] {
    // Binary search over page starts: pages are large, so there are few of them.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= entry) lo = mid;
      else hi = mid - 1;
    }
    return [pages[lo], entry - starts[lo]];
  }

  /** Every cell of an entry as text: key leaves, then value leaves (per-CPU: the sum). */
  private cellsOf(page: RawPage, i: number): string[] {
    const e = this.source.decode(page, i);
    return [...e.key, ...e.value].map(formatScalar);
  }

  private applyView(): boolean {
    if (!this.filterText && !this.sortBy) {
      this.order = undefined;
      return false;
    }
    let indices: number[] = [];
    if (this.filterText) {
      const needle = this.filterText;
      let g = 0;
      for (const p of this.pages) {
        for (let i = 0; i < p.count; i++, g++) {
          if (this.cellsOf(p, i).some((c) => c.toLowerCase().includes(needle))) indices.push(g);
        }
      }
    } else {
      indices = Array.from({ length: this.total }, (_, i) => i);
    }
    if (this.sortBy) {
      const { column, descending } = this.sortBy;
      const keys = indices.map((g) => this.sortKey(g, column));
      const idx = indices.map((_, i) => i);
      idx.sort((a, b) => {
        const x = keys[a];
        const y = keys[b];
        const c =
          typeof x === 'bigint' && typeof y === 'bigint'
            ? x < y
              ? -1
              : x > y
                ? 1
                : 0
            : String(x).localeCompare(String(y));
        return descending ? -c : c;
      });
      indices = idx.map((i) => indices[i]);
    }
    this.order = Int32Array.from(indices);
    return true;
  }

  /** The value a column sorts by: integers numerically (exact for 64 bits), the rest as text. */
  private sortKey(entry: number, column: number): bigint | string {
    const [page, i] = this.locate(entry);
    const { leaf, part } = this.columnLeaf(column);
    const base = part === 'key' ? i * this.source.info.keySize : i * this.source.userValueSize;
    const buf = part === 'key' ? page.keys : page.values;
    if (part === 'value' && this.source.cpus > 0) {
      const v = this.source.decode(page, i).value[column - this.source.keyLeaves.length];
      return typeof v === 'number' || /^-?\d+$/.test(String(v)) ? BigInt(v as number | string) : String(v);
    }
    return leafInteger(leaf, buf, base) ?? formatScalar(decodeLeaf(leaf, buf, base));
  }

  private columnLeaf(column: number) {
    const k = this.source.keyLeaves.length;
    return column < k
      ? { leaf: this.source.keyLeaves[column], part: 'key' as const }
      : { leaf: this.source.valueLeaves[column - k], part: 'value' as const };
  }

  /**
   * Rows [start, start + count) of the current view, decoded, with changed cells marked: the one conversion
   * from the wire's packed pages to the rows the webview draws. Nothing else is decoded.
   */
  rows(start: number, count: number): ViewerRow[] {
    const out: ViewerRow[] = [];
    const per = this.rowsPerEntry;
    const end = Math.min(this.rowCount, start + count);
    for (let r = start; r < end; r++) {
      const pos = Math.floor(r / per);
      const sub = r % per;
      const entry = this.order ? this.order[pos] : pos;
      const [page, i] = this.locate(entry);
      const decoded = this.source.decode(page, i);
      const keyCells = decoded.key.map(formatScalar);
      const values: Scalar[] = sub === 0 ? decoded.value : decoded.perCpu![sub - 1];
      const cells = [...keyCells, ...values.map(formatScalar)];
      out.push({
        index: r,
        keyHex: decoded.keyHex,
        cpu: per === 1 ? '' : sub === 0 ? 'Σ' : String(sub - 1),
        cells,
        changed: this.changedCells(entry, decoded.keyHex, page, i, sub),
      });
    }
    return out;
  }

  private changedCells(entry: number, keyHex: string, page: RawPage, i: number, sub: number): number[] {
    const prev = this.previous;
    if (!prev) return [];
    let old: number | undefined;
    if (prev.byKey) old = prev.byKey.get(keyHex);
    else {
      // Large maps: compare with the entry at the same position when it has the same key.
      const [p, j] = this.locate(entry, prev.pages, prev.pageStart);
      if (
        p &&
        j < p.count &&
        p.keys.toString('hex', j * this.source.info.keySize, (j + 1) * this.source.info.keySize) === keyHex
      )
        old = entry;
    }
    const keys = this.source.keyLeaves.length;
    if (old === undefined) return this.source.valueLeaves.map((_, c) => keys + c);
    const [op, oi] = this.locate(old, prev.pages, prev.pageStart);
    const before = this.source.decode(op, oi);
    const now = this.source.decode(page, i);
    const a = sub === 0 ? before.value : before.perCpu![sub - 1];
    const b = sub === 0 ? now.value : now.perCpu![sub - 1];
    const changed: number[] = [];
    for (let c = 0; c < b.length; c++) if (a[c] !== b[c]) changed.push(keys + c);
    return changed;
  }

  /** Starts plotting one numeric cell over time (recorded at each refresh). */
  track(keyHex: string, column: number): string {
    const id = `${keyHex}:${column}`;
    if (!this.series.has(id)) this.series.set(id, { keyHex, column, points: [] });
    this.recordSeries();
    return id;
  }

  untrack(id: string): void {
    this.series.delete(id);
  }

  private recordSeries(now = Date.now()): void {
    if (this.series.size === 0) return;
    const byKey = this.total <= MAX_KEYED_COMPARE * 5 ? this.keyIndex(this.pages) : undefined;
    for (const s of this.series.values()) {
      const entry = byKey?.get(s.keyHex);
      if (entry === undefined) continue;
      const [page, i] = this.locate(entry);
      const value = Number([...this.source.decode(page, i).key, ...this.source.decode(page, i).value][s.column]);
      if (!Number.isFinite(value)) continue;
      s.points.push([now, value]);
      if (s.points.length > 3600) s.points.shift();
    }
  }

  /** Log2 histograms of the value (bcc-style slots[]), summed over entries and CPUs; or, for an array map
   * named like a histogram with one integer per slot, the values by key. */
  histograms(): Histogram[] {
    const out: Histogram[] = this.source.histograms.map((shape) => {
      const counts = this.source.histogramCounts(this.pages, shape);
      return {
        title: `${this.source.info.name}${shape.path ? `.${shape.path}` : ''} (log2 buckets)`,
        labels: counts.map((_, i) => log2BucketLabel(i)),
        counts,
      };
    });
    const v = this.source.valueLeaves;
    if (
      out.length === 0 &&
      /array/.test(this.source.info.type) &&
      v.length === 1 &&
      v[0].kind === 'int' &&
      /hist|slot|bucket|log2/i.test(this.source.info.name)
    ) {
      const counts: number[] = [];
      const labels: string[] = [];
      for (const p of this.pages) {
        for (let i = 0; i < p.count; i++) {
          const e = this.source.decode(p, i);
          labels.push(log2BucketLabel(Number(e.key[0])));
          counts.push(Number(e.value[0]));
        }
      }
      out.push({ title: `${this.source.info.name} (log2 buckets by key)`, labels, counts });
    }
    return out;
  }
}
