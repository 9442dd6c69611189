// aya-log in the trace panel: every load of eBPF Studio's with a map named AYA_LOGS (a ring buffer for
// aya-log ≥ 0.2.2 / aya-log-common 0.2.0, a perf event array before) is streamed through the helper's
// events subscription and its records decoded (formats/aya-log.ts) into lines
// "[LEVEL target] file:line message", attributed to the load. No vscode import: kernel tests use it.
import { decodeAyaLogRecord } from '../../../formats/aya-log';
import type { AyaLogRecord } from '../../../formats/aya-log-format';
import { ayaLogLine } from '../../../formats/aya-log-text';
import { splitRecords } from '../../../formats/event-decode';
import type { HelperClient } from '../../client/client';
import { LoadedSummary, Methods } from '../../../protocol/methods';
import type { RecordsFrame } from '../../../formats/frames';
import type { TraceEntry } from './source';
import { EarlyFrames } from './early-frames';

export const AYA_LOGS = 'AYA_LOGS';

type Helper = Pick<HelperClient, 'request' | 'onEvents' | 'ackEvents'>;

interface Stream {
  subscription: number;
  mapId: number;
  load: string;
  transport: 'ringbuf' | 'perf';
}

export class AyaLogStreams {
  private readonly streams = new Map<number, Stream>();
  private readonly early = new EarlyFrames();
  private readonly listener: { dispose(): void };
  /** Decoded lines, attributed to the load; level, target and file:line are in the text. */
  onLines: (entries: TraceEntry[], records: AyaLogRecord[]) => void = () => undefined;
  /** Records aya-log itself would have dropped (and why), counted so nothing vanishes silently. */
  undecodable = 0;
  lastError: string | undefined;

  constructor(private readonly helper: Helper) {
    this.listener = helper.onEvents((n) => this.receive(n));
  }

  /** Subscribes to the AYA_LOGS map of every current load not streamed yet; drops streams of gone loads. */
  async sync(loads?: LoadedSummary[]): Promise<void> {
    loads ??= await this.helper.request(Methods.listLoaded);
    const wanted = new Map<number, { load: string; type: string }>();
    for (const load of loads) {
      for (const map of load.maps)
        if (map.name === AYA_LOGS && (map.type === 'ringbuf' || map.type === 'perf_event_array'))
          wanted.set(map.id, { load: load.name, type: map.type });
    }
    for (const [subscription, stream] of this.streams) {
      if (wanted.has(stream.mapId)) continue;
      this.streams.delete(subscription);
      await this.helper.request(Methods.unsubscribe, { subscription }).catch(() => undefined);
    }
    const streamed = new Set([...this.streams.values()].map((s) => s.mapId));
    for (const [mapId, { load, type }] of wanted) {
      if (streamed.has(mapId)) continue;
      const transport = type === 'ringbuf' ? 'ringbuf' : 'perf';
      const { subscription } = await this.helper.request(
        Methods.subscribe,
        transport === 'ringbuf' ? { source: 'ringbuf', mapId } : { source: 'perf', mapId, pages: 8 },
      );
      this.streams.set(subscription, { subscription, mapId, load, transport });
      for (const frame of this.early.claim(subscription)) this.receive(frame);
    }
  }

  get mapIds(): number[] {
    return [...this.streams.values()].map((s) => s.mapId);
  }

  private receive(frame: RecordsFrame): void {
    const stream = this.streams.get(frame.subscription);
    if (!stream) {
      this.early.hold(frame);
      return;
    }
    try {
      this.decode(frame.records, stream);
    } finally {
      // Handed on: the helper may read this many bytes more from the kernel.
      this.helper.ackEvents(frame.subscription, frame.records.length);
    }
  }

  private decode(data: Buffer, stream: Stream): void {
    const { offsets, lengths, count } = splitRecords(data);
    const entries: TraceEntry[] = [];
    const records: AyaLogRecord[] = [];
    for (let i = 0; i < count; i++) {
      const result = decodeAyaLogRecord(data.subarray(offsets[i], offsets[i] + lengths[i]), {
        transport: stream.transport,
      });
      if (!result.ok) {
        this.undecodable++;
        this.lastError = result.error.message;
        entries.push({ raw: `[aya-log: undecodable record: ${result.error.message}]`, program: stream.load });
        continue;
      }
      records.push(result.record);
      entries.push({ raw: ayaLogLine(result.record), program: stream.load });
    }
    if (entries.length) this.onLines(entries, records);
  }

  async dispose(): Promise<void> {
    this.listener.dispose();
    for (const subscription of [...this.streams.keys()]) {
      this.streams.delete(subscription);
      await this.helper.request(Methods.unsubscribe, { subscription }).catch(() => undefined);
    }
  }
}
