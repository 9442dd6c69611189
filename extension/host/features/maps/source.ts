// The map viewer's data source: reads a kernel map page by page through the helper (map/dump: packed
// keys and values in binary frames, kept as Buffers), decodes keys and values with the map's BTF
// (formats/btf-decode.ts) only for the rows asked for, and writes typed edits back after checking them
// against the same types. Opening a map is one round trip: the first map/dump answer carries the map's
// info, BTF types and CPU count with the first page. No vscode import: the kernel tests drive it directly.
import type { BtfType, MapInfo } from '../../../protocol/types';
import {
  decodeLeaves,
  decodeTree,
  Decoded,
  formatScalar,
  leafInteger,
  perCpuSlot,
  Scalar,
  sumPerCpu,
} from '../../../formats/btf-decode';
import { bytesType, typeName } from '../../../formats/btf-types';
import { EncodeError, encodeValue } from '../../../formats/btf-encode';
import { findHistograms, HistogramShape } from '../../../formats/btf-histograms';
import { Leaf, leavesOf } from '../../../formats/btf-leaves';
import { fdValueKind, undumpableReason } from '../../../formats/map-types';
import type { HelperClient } from '../../client/client';
import type { ViewerColumn } from '../../../webview/messages';
import { MapDumpResult, MapEditResult, MapEditValue, Methods } from '../../../protocol/methods';
import { HelperError } from '../../../protocol/errors';

export { undumpableReason };

/** What the data source needs of the helper client (tests and benchmarks pass the real one). */
export type HelperRequests = Pick<HelperClient, 'request'>;

/** Leaf kinds whose values can be plotted over time. */
const NUMERIC_KINDS = new Set(['int', 'enum', 'bool', 'char', 'float']);

/** Entries in the first page, which comes with the answer that opens the map (a first screen and more). */
export const OPENING_PAGE = 256;
/** The opening page stands in for a first read only this soon after opening; later reads are fresh. */
const OPENING_PAGE_FRESH_MS = 2000;

/** The packed bytes of a map/dump answer (the client attaches them from the binary frame). */
function pageOf(r: MapDumpResult): RawPage {
  if (!r.page) throw new Error(`map/dump answer without its page (frame ${r.frame})`);
  return { count: r.count, keys: r.page.keys, values: r.page.values };
}

/** One page of raw entries: packed keys and values as the kernel returned them. */
export interface RawPage {
  count: number;
  keys: Buffer;
  values: Buffer;
}

/** A decoded entry: key cells, then value cells; per-CPU maps add one value row per CPU and a sum. */
export interface DecodedEntry {
  keyHex: string;
  key: Scalar[];
  value: Scalar[];
  /** Per-CPU maps only: the value on each CPU (value holds the sum). */
  perCpu?: Scalar[][];
}

/** One input of the Add/Edit entry form. */
export interface FormField {
  path: string;
  label: string;
  /** C type, shown beside the input. */
  type: string;
  value: string;
}

/**
 * The form's label for a leaf: a single scalar key or value is just "key" or "value" (its type stands
 * beside the input); a key field is "key pid", told apart from value fields, which go by their path.
 */
export function formFieldLabel(part: 'key' | 'value', path: string): string {
  if (!path) return part;
  return part === 'key' ? `key ${path}` : path;
}

export class MapSource {
  readonly keyLeaves: Leaf[];
  readonly valueLeaves: Leaf[];
  readonly histograms: HistogramShape[];
  /** Per-CPU maps: how many CPUs each value spans (0 otherwise). */
  readonly cpus: number;
  /** Bytes of one value as dumped (per-CPU: slot * cpus). */
  readonly userValueSize: number;

  private opening: { page: RawPage; cursor?: string; at: number } | undefined;

  private constructor(
    private readonly helper: HelperRequests,
    readonly info: MapInfo,
    readonly keyType: BtfType,
    readonly valueType: BtfType,
    /** Whether the types come from BTF (else hex stand-ins, or a struct the user picked). */
    readonly typed: { key: boolean; value: boolean },
    /** Why the map cannot be listed, when it cannot. */
    readonly undumpable: string | undefined,
    cpus: number,
  ) {
    this.keyLeaves = leavesOf(keyType);
    this.valueLeaves = leavesOf(valueType);
    this.histograms = findHistograms(valueType, info.name);
    this.cpus = cpus;
    this.userValueSize = cpus > 0 ? perCpuSlot(info.valueSize) * cpus : info.valueSize;
  }

  /** Opens map `mapId` with one map/dump (info, types, CPUs and the first page); `valueOverride` is a
   * struct the user picked for a map without value BTF. */
  static async open(helper: HelperRequests, mapId: number, valueOverride?: BtfType): Promise<MapSource> {
    let first: MapDumpResult;
    try {
      first = await helper.request(Methods.mapDump, { mapId, count: OPENING_PAGE });
    } catch (error) {
      if (error instanceof HelperError && error.data.kind === 'NotFound')
        throw new Error(`There is no map with id ${mapId} in the kernel (it may have been unloaded).`, {
          cause: error,
        });
      throw error;
    }
    const info = first.map;
    if (!info) throw new Error(`map/dump of map ${mapId} did not describe the map`);
    const types = first.types ?? { key: null, value: null };
    const undumpable = undumpableReason(info.type);
    const usable = (t: BtfType | null, size: number) => (t && t.kind !== 'void' && typeSizeOf(t) === size ? t : null);
    const key = usable(types.key, info.keySize);
    const value = usable(valueOverride ?? null, info.valueSize) ?? usable(types.value, info.valueSize);
    const source = new MapSource(
      helper,
      info,
      key ?? bytesType(info.keySize),
      value ?? bytesType(info.valueSize),
      { key: key !== null, value: value !== null },
      undumpable,
      first.perCpu,
    );
    if (!undumpable) source.opening = { page: pageOf(first), cursor: first.cursor, at: Date.now() };
    return source;
  }

  /** The table's columns, as the webview takes them: key leaves, then value leaves. */
  get columns(): ViewerColumn[] {
    const cols = (part: 'key' | 'value', leaves: Leaf[], type: BtfType): ViewerColumn[] =>
      leaves.map((l) => ({
        part,
        path: l.path,
        label: l.path || part,
        type: l.path ? l.label : typeName(type),
        numeric: NUMERIC_KINDS.has(l.kind),
      }));
    return [...cols('key', this.keyLeaves, this.keyType), ...cols('value', this.valueLeaves, this.valueType)];
  }

  /** The form's inputs for the key or the value, one per leaf, filled with `values`. */
  formFields(part: 'key' | 'value', values: string[]): FormField[] {
    const leaves = part === 'key' ? this.keyLeaves : this.valueLeaves;
    return leaves.map((l, i) => ({
      path: l.path,
      label: formFieldLabel(part, l.path),
      type: l.label,
      value: values[i],
    }));
  }

  /** Reads up to `count` entries after `cursor` (undefined: from the start; right after opening, that is
   * the page that came with the opening answer). */
  async readPage(count: number, cursor?: string): Promise<{ page: RawPage; cursor?: string }> {
    if (this.undumpable) throw new Error(this.undumpable);
    const opening = this.opening;
    this.opening = undefined;
    if (
      cursor === undefined &&
      opening &&
      opening.page.count <= count &&
      Date.now() - opening.at < OPENING_PAGE_FRESH_MS
    )
      return { page: opening.page, cursor: opening.cursor };
    const r: MapDumpResult = await this.helper.request(Methods.mapDump, { mapId: this.info.id, count, cursor });
    return { page: pageOf(r), cursor: r.cursor };
  }

  /** Reads the whole map, page after page (each page's cursor comes from the one before). `onPage` sees
   * each page as it arrives and may return false to stop. */
  async readAll(pageSize = 65536, onPage?: (page: RawPage, total: number) => void | boolean): Promise<RawPage[]> {
    const pages: RawPage[] = [];
    let total = 0;
    let cursor: string | undefined;
    for (;;) {
      const { page, cursor: next } = await this.readPage(pageSize, cursor);
      pages.push(page);
      total += page.count;
      if (onPage?.(page, total) === false || !next) break;
      cursor = next;
    }
    return pages;
  }

  /** Decodes entry `i` of a page. */
  decode(page: RawPage, i: number): DecodedEntry {
    const keySize = this.info.keySize;
    const keyHex = page.keys.toString('hex', i * keySize, (i + 1) * keySize);
    const key = decodeLeaves(this.keyLeaves, page.keys, i * keySize);
    const base = i * this.userValueSize;
    if (this.cpus === 0) return { keyHex, key, value: decodeLeaves(this.valueLeaves, page.values, base) };
    const slot = perCpuSlot(this.info.valueSize);
    const perCpu = Array.from({ length: this.cpus }, (_, c) =>
      decodeLeaves(this.valueLeaves, page.values, base + c * slot),
    );
    return { keyHex, key, value: sumPerCpu(this.valueLeaves, page.values, base, this.cpus, slot), perCpu };
  }

  /** Every entry of the given pages, decoded (export, filters, sorting). */
  *entries(pages: RawPage[]): Generator<DecodedEntry> {
    for (const page of pages) for (let i = 0; i < page.count; i++) yield this.decode(page, i);
  }

  /** The value of one key as a tree (export to JSON, the edit form's starting point). */
  async lookup(keyHex: string): Promise<Buffer | undefined> {
    const r = await this.helper.request(Methods.mapLookup, { mapId: this.info.id, key: keyHex });
    return r.value === null ? undefined : Buffer.from(r.value, 'hex');
  }

  /** Key bytes from typed fields (path -> text); throws EncodeError naming the field. */
  encodeKey(fields: Record<string, string>): Buffer {
    return encodeValue(this.keyType, fields, undefined, 'key');
  }

  /** For maps whose values are program or map references (prog_array, maps of maps): which kind. */
  get referenceKind(): 'program' | 'map' | 'socket' | undefined {
    return fdValueKind(this.info.type);
  }

  /**
   * Writes an entry from typed fields, as one map/edit call. Every field is checked against the BTF types
   * before anything is sent: a bad value throws EncodeError and the map is left as it was. `seen` is the
   * value the user started from (the form's starting point): fields not given keep its values, and the
   * helper refuses the write if the entry no longer holds it ("changed since you opened it: reload?").
   * Per-CPU maps get the value on `cpu` (the other CPUs keep their current values), or on every CPU. Maps
   * of program or map references take the id of the object to reference in their single value field.
   */
  async write(
    key: { hex: string } | { fields: Record<string, string> },
    valueFields: Record<string, string>,
    options: { mode?: 'add' | 'edit'; flags?: 'any' | 'noexist' | 'exist'; cpu?: number; seen?: Buffer } = {},
  ): Promise<MapEditResult> {
    const mode = options.mode ?? (options.flags === 'noexist' ? 'add' : 'edit');
    // A write makes the page that came with the opening answer stale.
    this.opening = undefined;
    const keyBytes = 'hex' in key ? Buffer.from(key.hex, 'hex') : this.encodeKey(key.fields);
    if (keyBytes.length !== this.info.keySize)
      throw new Error(`A key of ${this.info.name} has ${this.info.keySize} bytes, not ${keyBytes.length}.`);
    const seen = mode === 'edit' ? (options.seen ?? (await this.lookup(keyBytes.toString('hex')))) : undefined;
    const slot = perCpuSlot(this.info.valueSize);
    const cpu = this.cpus > 0 ? options.cpu : undefined;
    // What the user saw, compared by the helper: one CPU's slot, or the whole value.
    const expected = seen && cpu !== undefined ? seen.subarray(cpu * slot, cpu * slot + this.info.valueSize) : seen;
    let value: MapEditValue;
    const reference = this.referenceKind;
    if (reference === 'program' || reference === 'map') {
      const text = (valueFields[this.valueLeaves[0]?.path ?? ''] ?? '').trim();
      const id = Number(text);
      if (!/^\d+$/.test(text) || id < 1 || id > 0x7fffffff)
        throw new EncodeError(
          this.valueLeaves[0]?.path ?? '',
          `value: the id of the ${reference} to put here, not ${JSON.stringify(text)}`,
        );
      value = { kind: reference, id };
    } else {
      const base = seen
        ? this.cpus > 0
          ? seen.subarray((cpu ?? 0) * slot, (cpu ?? 0) * slot + this.info.valueSize)
          : seen
        : undefined;
      value = { kind: 'bytes', bytes: encodeValue(this.valueType, valueFields, base, 'value').toString('hex'), cpu };
    }
    return this.helper.request(Methods.mapEdit, {
      mapId: this.info.id,
      key: keyBytes.toString('hex'),
      mode,
      expected: expected?.toString('hex'),
      value,
    });
  }

  async delete(keyHex: string): Promise<boolean> {
    this.opening = undefined;
    return (await this.helper.request(Methods.mapDelete, { mapId: this.info.id, key: keyHex })).deleted;
  }

  /** Decoded key and value trees of an entry (JSON export). */
  entryTree(page: RawPage, i: number): { key: Decoded; value: Decoded | Decoded[] } {
    const key = decodeTree(this.keyType, page.keys, i * this.info.keySize);
    const base = i * this.userValueSize;
    if (this.cpus === 0) return { key, value: decodeTree(this.valueType, page.values, base) };
    const slot = perCpuSlot(this.info.valueSize);
    return {
      key,
      value: Array.from({ length: this.cpus }, (_, c) => decodeTree(this.valueType, page.values, base + c * slot)),
    };
  }

  /** Bucket counts of a log2 histogram, summed over all entries (and CPUs). */
  histogramCounts(pages: RawPage[], shape: HistogramShape): number[] {
    const counts = shape.leafIndices.map(() => 0n);
    const slot = this.cpus ? perCpuSlot(this.info.valueSize) : 0;
    for (const page of pages) {
      for (let i = 0; i < page.count; i++) {
        for (let c = 0; c < Math.max(1, this.cpus); c++) {
          const base = i * this.userValueSize + c * slot;
          shape.leafIndices.forEach(
            (li, b) => (counts[b] += leafInteger(this.valueLeaves[li], page.values, base) ?? 0n),
          );
        }
      }
    }
    return counts.map(Number);
  }
}

function typeSizeOf(t: BtfType): number {
  return t.kind === 'void' ? 0 : t.size;
}

/** JSON export: an array of {key, value} trees, value per CPU for per-CPU maps. */
export function exportJson(source: MapSource, pages: RawPage[]): string {
  const out: unknown[] = [];
  for (const page of pages) for (let i = 0; i < page.count; i++) out.push(source.entryTree(page, i));
  return JSON.stringify(out, null, 2);
}

function csvCell(v: Scalar): string {
  const s = formatScalar(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV export: one column per key and value leaf; per-CPU maps get a cpu column and a row per CPU. */
export function exportCsv(source: MapSource, pages: RawPage[]): string {
  const header = source.columns.map((c) => `${c.part}${c.path ? `.${c.path}` : ''}`);
  const lines = [(source.cpus ? ['cpu', ...header] : header).map(csvCell).join(',')];
  for (const e of source.entries(pages)) {
    if (!e.perCpu) lines.push([...e.key, ...e.value].map(csvCell).join(','));
    else e.perCpu.forEach((v, cpu) => lines.push([cpu, ...e.key, ...v].map(csvCell).join(',')));
  }
  return lines.join('\n') + '\n';
}
