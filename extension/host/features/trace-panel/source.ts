// The trace panel's data source: bpf_printk lines from trace_pipe, parsed and attributed to the program
// whose format string they match, and ring/perf buffer events decoded with a struct from the object's BTF.
// Frames arrive as Buffers (never base64) and are acknowledged once handed on, which is what lets the
// helper read more from the kernel: this source is the far end of the backpressure. Events are split
// into records here but decoded only when a row is shown or exported. Counts what the kernel lost apart
// from what eBPF Studio dropped. No vscode import: kernel tests use it.
import { EarlyFrames } from './early-frames';
import type { BtfType } from '../../../protocol/types';
import { EventDecoder } from '../../../formats/event-decode';
import {
  autoEventStruct,
  eventStructCandidates,
  EventStructCandidate,
  rankEventStructs,
} from '../../../formats/event-struct';
import type { RecordsFrame } from '../../../formats/frames';
import { recordText, splitRecords } from '../../../formats/records';
import { parseTraceLine, TraceLine } from '../../../formats/trace-line';
import type { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';

export type TraceHelper = Pick<HelperClient, 'request' | 'onEvents' | 'ackEvents'>;

/** A bpf_printk format string of a program eBPF Studio loaded. */
export interface PrintkFormat {
  program: string;
  object: string;
  format: string;
  pattern: LineMatcher;
}

/** Tests whether a trace message is one a format prints. */
export interface LineMatcher {
  test(message: string): boolean;
}

type Piece = { literal: string } | { conv: string };

/** Integer-like conversions, matched greedily without backtracking (sticky: anchored at lastIndex). */
const CONVERSION: Record<string, RegExp> = {
  d: /\s*-?\d+/y,
  i: /\s*-?\d+/y,
  u: /\s*\d+/y,
  x: /\s*[0-9a-fA-F]+/y,
  X: /\s*[0-9a-fA-F]+/y,
  o: /\s*[0-7]+/y,
  p: /\S*/y,
};

/**
 * Turns a printf format into a matcher for the lines it prints (bpf_printk supports a printf subset). Not a
 * regular expression: a format with many %s became one whose lazy wildcards backtracked on every line that
 * did not match (polynomial in the line's length to the power of the %s count). Here a %s can end only where
 * the literal after it occurs, and each (piece, position) is tried at most once, so matching one line costs
 * at most pieces x positions.
 */
export function formatToPattern(format: string): LineMatcher {
  const body = format.replace(/\n$/, '');
  const pieces: Piece[] = [];
  const spec = /%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?(hh|h|ll|l|z|j|t)?([diouxXcspKk%])/g;
  let last = 0;
  const literal = (text: string) => {
    if (!text) return;
    const prev = pieces[pieces.length - 1];
    if (prev && 'literal' in prev) prev.literal += text;
    else pieces.push({ literal: text });
  };
  for (let m: RegExpExecArray | null; (m = spec.exec(body)); last = spec.lastIndex) {
    literal(body.slice(last, m.index));
    if (m[5] === '%') literal('%');
    else pieces.push({ conv: m[5] === 'K' || m[5] === 'k' ? 's' : m[5] });
  }
  literal(body.slice(last));
  return { test: (message) => matchPieces(pieces, message) };
}

function matchPieces(pieces: Piece[], s: string): boolean {
  // ok[pos]: the pieces from i on match s from pos to its end; built from the last piece backwards, so
  // each piece costs one pass over the positions (a %s takes the "any position after" of the next piece).
  const n = s.length;
  let ok = new Uint8Array(n + 1);
  ok[n] = 1;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i];
    const prev = ok;
    ok = new Uint8Array(n + 1);
    if ('literal' in piece) {
      const lit = piece.literal;
      for (let pos = 0; pos + lit.length <= n; pos++) if (prev[pos + lit.length] && s.startsWith(lit, pos)) ok[pos] = 1;
    } else if (piece.conv === 'c') {
      for (let pos = 0; pos < n; pos++) ok[pos] = prev[pos + 1];
    } else if (CONVERSION[piece.conv]) {
      const re = CONVERSION[piece.conv];
      for (let pos = 0; pos <= n; pos++) {
        re.lastIndex = pos;
        if (re.test(s) && prev[re.lastIndex]) ok[pos] = 1;
      }
    } else {
      // %s: any text, so it matches from pos if the rest matches from any position at or after it.
      let any = 0;
      for (let pos = n; pos >= 0; pos--) ok[pos] = any = any | prev[pos];
    }
  }
  return ok[0] === 1;
}

/** Bytes as the helper sends them: a Buffer in process, {type: 'Buffer', data} after JSON. */
function bytesOf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  const data = (v as { data?: number[] })?.data;
  return Buffer.from(Array.isArray(data) ? data : []);
}

/** bpf_printk keeps its format in a static ".____fmt" (or "___fmt") variable of the calling function. */
export function printkFormats(object: string, variables: { name: string; initial: unknown }[]): PrintkFormat[] {
  return variables.flatMap((v) => {
    const m = /^(\w+)\.(_{3,4}fmt\d*)$/.exec(v.name);
    if (!m) return [];
    const bytes = bytesOf(v.initial);
    const end = bytes.indexOf(0);
    const format = bytes.toString('utf8', 0, end < 0 ? bytes.length : end);
    return [{ program: m[1], object, format, pattern: formatToPattern(format) }];
  });
}

/** The program whose format a message matches: the most specific (longest literal) format wins. */
export function attribute(message: string, formats: PrintkFormat[]): PrintkFormat | undefined {
  let best: PrintkFormat | undefined;
  for (const f of formats) {
    if (!f.pattern.test(message)) continue;
    if (!best || literalLength(f.format) > literalLength(best.format)) best = f;
  }
  return best;
}

function literalLength(format: string): number {
  return format.replace(/%[^a-zA-Z%]*[a-zA-Z%]/g, '').length;
}

export interface TraceEntry {
  raw: string;
  /** Undefined for lines that are not in trace_pipe's format (they are kept as raw text). */
  line?: TraceLine;
  /** The program (and object) whose bpf_printk format matches, when one of eBPF Studio's does. */
  program?: string;
  object?: string;
}

export interface EventBatchDecoded {
  mapId: number;
  mapName: string;
  /** The struct used, or undefined while none fits (events show as hex). */
  structName?: string;
  decoder: EventDecoder;
  data: Buffer;
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
}

export interface DropCounters {
  /** Reported by the kernel: perf lost samples. */
  lostInKernel: number;
  /** Dropped by eBPF Studio's helper or addon because this side fell behind. */
  droppedInHelper: number;
  /** Ring buffer positions the helper could not trust (another writer of the consumer page): it skipped
   *  to the producer, losing an unknown number of records. */
  resynced: number;
}

interface EventSubscription {
  mapId: number;
  mapName: string;
  structs: Record<string, BtfType>;
  /** The same structs with where each comes from (object, its headers, kernel), for choosing one. */
  candidates: EventStructCandidate[];
  preferred?: string;
  structName?: string;
  decoder?: EventDecoder;
}

export class TraceSource {
  private readonly early = new EarlyFrames();
  private formats: PrintkFormat[] = [];
  private traceSubscription: number | undefined;
  private readonly events = new Map<number, EventSubscription>();
  private readonly listener: { dispose(): void };
  readonly drops: DropCounters = { lostInKernel: 0, droppedInHelper: 0, resynced: 0 };
  /** Records delivered to onLines/onEvents (lines skipped unparsed included), for counts that add up. */
  delivered = 0;
  /** Only the newest this many lines of a frame are parsed; the rest are passed on as `skipped`, since the
   * panel keeps no more than its ring holds. */
  lineLimit = Infinity;
  /** Bytes of records the helper may have in flight to this source before it acknowledges them: a
   * bounded amount of memory, large enough that the acknowledgement's round trip does not limit the rate. */
  window: number | undefined = 32 * 1024 * 1024;
  onLines: (entries: TraceEntry[], skipped: number) => void = () => undefined;
  onEvents: (batch: EventBatchDecoded) => void = () => undefined;
  onDrops: (drops: DropCounters) => void = () => undefined;

  constructor(private readonly helper: TraceHelper) {
    this.listener = helper.onEvents((n) => this.receive(n));
  }

  /** Re-reads the bpf_printk formats of everything eBPF Studio has loaded (call after a load). */
  async refreshFormats(): Promise<void> {
    const loads = await this.helper.request(Methods.listLoaded);
    const formats: PrintkFormat[] = [];
    for (const load of loads) {
      if (!load.path) continue;
      try {
        const spec = await this.helper.request(Methods.describe, { path: load.path });
        formats.push(...printkFormats(load.name, spec.variables));
      } catch {
        // The object file moved or was rebuilt away: its lines stay unattributed.
      }
    }
    this.formats = formats;
  }

  get knownFormats(): readonly PrintkFormat[] {
    return this.formats;
  }

  parse(raw: string): TraceEntry {
    const line = parseTraceLine(raw);
    const match = line && line.event === 'bpf_trace_printk' ? attribute(line.message, this.formats) : undefined;
    return { raw, line, program: match?.program, object: match?.object };
  }

  async startTrace(): Promise<void> {
    if (this.traceSubscription !== undefined) return;
    await this.refreshFormats();
    this.traceSubscription = (await this.helper.request(Methods.subscribe, { source: 'trace_pipe' })).subscription;
    this.claimEarly(this.traceSubscription);
  }

  async stopTrace(): Promise<void> {
    const id = this.traceSubscription;
    this.traceSubscription = undefined;
    if (id !== undefined) await this.helper.request(Methods.unsubscribe, { subscription: id }).catch(() => undefined);
  }

  /**
   * Streams a ring buffer or perf event array. `objectPath` is the object it was loaded from: its BTF
   * structs decode the events (guessed by size, or `preferred` once the user picked one). `candidates`,
   * when given (trace-panel/event-structs.ts), adds the source's header structs and ranks kernel types last.
   */
  async subscribeEvents(
    mapId: number,
    objectPath?: string,
    preferred?: string,
    candidates?: EventStructCandidate[],
  ): Promise<number> {
    const info = (await this.helper.request(Methods.maps)).find((m) => m.id === mapId);
    if (!info) throw new Error(`There is no map with id ${mapId}.`);
    if (info.type !== 'ringbuf' && info.type !== 'perf_event_array') {
      throw new Error(`${info.name} is a ${info.type} map: only ring buffers and perf event arrays stream events.`);
    }
    candidates ??= eventStructCandidates(
      objectPath ? await this.helper.request(Methods.structTypes, { path: objectPath }).catch(() => ({})) : {},
      {},
      new Set(),
    );
    const structs = Object.fromEntries(candidates.map((c) => [c.name, c.type]));
    const { subscription } = await this.helper.request(
      Methods.subscribe,
      info.type === 'ringbuf'
        ? { source: 'ringbuf', mapId, window: this.window }
        : { source: 'perf', mapId, pages: 64, window: this.window },
    );
    this.events.set(subscription, { mapId, mapName: info.name, structs, candidates, preferred });
    this.claimEarly(subscription);
    return subscription;
  }

  /** Struct names of a subscription's object whose size could fit an event (for a picker). */
  structChoices(subscription: number): string[] {
    return Object.keys(this.events.get(subscription)?.structs ?? {}).sort();
  }

  /** A subscription's structs in the order to offer them for `size`-byte events: own ones that fit first. */
  rankedStructs(subscription: number, size: number): EventStructCandidate[] {
    return rankEventStructs(this.events.get(subscription)?.candidates ?? [], size);
  }

  /** Decode a subscription's events with `name` from now on (remembered by the caller per map). */
  chooseStruct(subscription: number, name: string): void {
    const sub = this.events.get(subscription);
    if (!sub?.structs[name]) throw new Error(`No struct ${name} in the object's BTF.`);
    sub.preferred = name;
    sub.structName = name;
    sub.decoder = new EventDecoder(sub.structs[name]);
  }

  async unsubscribeEvents(subscription: number): Promise<void> {
    if (!this.events.delete(subscription)) return;
    await this.helper.request(Methods.unsubscribe, { subscription }).catch(() => undefined);
  }

  private receive(frame: RecordsFrame): void {
    if (frame.subscription !== this.traceSubscription && !this.events.has(frame.subscription)) {
      this.early.hold(frame);
      return;
    }
    try {
      this.handle(frame);
    } finally {
      // Handed on: the helper may send this many bytes more.
      this.helper.ackEvents(frame.subscription, frame.records.length);
    }
  }

  /** Replays frames that came before their subscription was registered. */
  private claimEarly(subscription: number): void {
    for (const f of this.early.claim(subscription)) this.receive(f);
  }

  private handle(n: RecordsFrame): void {
    if (n.lostInKernel || n.droppedInHelper || n.resynced) {
      this.drops.resynced += n.resynced;
      this.drops.lostInKernel += n.lostInKernel;
      this.drops.droppedInHelper += n.droppedInHelper;
      this.onDrops(this.drops);
    }
    if (n.kind === 'lines') {
      if (n.subscription !== this.traceSubscription || n.count === 0) return;
      const index = splitRecords(n.records, n.count);
      const from = Math.max(0, index.count - this.lineLimit);
      const entries: TraceEntry[] = [];
      for (let i = from; i < index.count; i++) entries.push(this.parse(recordText(n.records, index, i)));
      this.delivered += index.count;
      this.onLines(entries, from);
      return;
    }
    const sub = this.events.get(n.subscription);
    if (!sub || n.count === 0) return;
    const data = n.records;
    const { offsets, lengths, count } = splitRecords(data, n.count);
    if (count === 0) return;
    if (!sub.decoder || !sub.structName) {
      const name = autoEventStruct(sub.candidates, lengths[0], sub.preferred)?.name;
      if (name !== sub.structName || !sub.decoder) {
        sub.structName = name;
        sub.decoder = new EventDecoder(name ? sub.structs[name] : undefined);
      }
    }
    this.delivered += count;
    this.onEvents({
      mapId: sub.mapId,
      mapName: sub.mapName,
      structName: sub.structName,
      decoder: sub.decoder!,
      data,
      offsets,
      lengths,
      count,
    });
  }

  async dispose(): Promise<void> {
    this.listener.dispose();
    await this.stopTrace();
    for (const id of [...this.events.keys()]) await this.unsubscribeEvents(id);
  }
}
