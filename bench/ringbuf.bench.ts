// Ring buffer events pushed as fast as a program can produce them (BPF_PROG_TEST_RUN with repeat on an XDP
// program that writes one 24-byte event per run), delivered decoded to the trace panel's data source
// (addon thread -> helper -> binary frames -> TraceSource, acknowledged, every event decoded with its BTF
// struct) and, in the same run, to a plain libbpf ring_buffer consumer in C (bench/c/ringbuf_consumer.c).
// Every event is accounted for: runs = delivered + lost in kernel (reserve failures the program counted)
// + dropped inside eBPF Studio; a remainder would be a loss nobody counted and is reported as such.
// Then the load test of issue 10: a flood of BENCH_FLOOD_SECONDS (default 60) with the same accounting and
// the peak RSS of the helper and of this process.
// Goals (issue 16): >= 0.6x the C consumer's delivered rate; 0 dropped inside eBPF Studio.
import { execFile, execFileSync } from 'child_process';
import * as path from 'path';
import { Methods } from '../extension/protocol/methods';
import { TraceSource } from '../extension/host/features/trace-panel/source';
import type { HelperClient } from '../extension/host/client/client';
import { BenchResult, runIfMain, withBenchEnv } from './bench-env';
import { atLeast, medianRange, Metric, ownPeakRssMiB, peakRssMiB, summarize } from './metrics';

const REPEAT = 1_000_000;
const RUNS = Number(process.env.BENCH_RINGBUF_RUNS ?? 4);
const ROUNDS = Number(process.env.BENCH_RINGBUF_ROUNDS ?? 3);
const FLOOD_SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 60);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exec = (file: string, args: string[]) =>
  new Promise<void>((resolve, reject) => execFile(file, args, (error) => (error ? reject(error) : resolve())));

interface Flow {
  attempts: number;
  delivered: number;
  lostInKernel: number;
  droppedInside: number;
  ms: number;
}

/** Streams into a TraceSource while `produce` runs; returns the accounting of that stretch. */
async function studioFlow(
  client: HelperClient,
  mapId: number,
  objectPath: string,
  counters: () => Promise<{ produced: number; failed: number }>,
  produce: () => Promise<number>,
): Promise<Flow> {
  const trace = new TraceSource(client);
  let delivered = 0;
  let checksum = 0;
  let lastAt = 0n;
  trace.onEvents = (batch) => {
    for (let i = 0; i < batch.count; i++)
      checksum += Number(batch.decoder.decode(batch.data, batch.offsets[i], batch.lengths[i])[0]);
    delivered += batch.count;
    lastAt = process.hrtime.bigint();
  };
  const subscription = await trace.subscribeEvents(mapId, objectPath, 'bench_event');
  const before = await counters();
  const start = process.hrtime.bigint();
  const attempts = await produce();
  const after = await counters();
  const produced = after.produced - before.produced;
  for (let idle = 0; delivered < produced && idle < 40; idle++) {
    const seen = delivered;
    await sleep(50);
    if (delivered !== seen) idle = 0;
  }
  await trace.unsubscribeEvents(subscription);
  await trace.dispose();
  if (checksum < 0) throw new Error('unreachable: keeps the decoding from being optimised away');
  return {
    attempts,
    delivered,
    lostInKernel: after.failed - before.failed,
    droppedInside: trace.drops.droppedInHelper,
    ms: Number(lastAt - start) / 1e6,
  };
}

const unaccounted = (f: Flow) => f.attempts - f.delivered - f.lostInKernel - f.droppedInside;

export function run(): Promise<BenchResult> {
  const setup = { baseline: 'ringbuf_consumer', libs: ['-lpthread'], bpfSource: path.join(__dirname, 'ringbuf.bpf.c') };
  return withBenchEnv('ringbuf', setup, async ({ baseline: consumer, objectPath, client }) => {
    const spec = await client.request(Methods.describe, { path: objectPath });
    const load = await client.request(Methods.load, { path: objectPath });
    const progId = load.programs.find((p) => p.name === 'produce')!.id;
    const mapId = load.maps.find((m) => m.name === 'bench_events')!.id;
    const bssId = load.maps.find((m) => m.name.endsWith('.bss'))!.id;
    const offset = (name: string) => spec.variables.find((v) => v.name === name)!.offset;
    const counters = async () => {
      const bss = Buffer.from(
        (await client.request(Methods.mapLookup, { mapId: bssId, key: '00000000' })).value!,
        'hex',
      );
      return {
        produced: Number(bss.readBigUInt64LE(offset('produced'))),
        failed: Number(bss.readBigUInt64LE(offset('reserve_failed'))),
      };
    };
    const burst = async () => {
      await exec(consumer, ['produce', String(progId), String(REPEAT), String(RUNS)]);
      return REPEAT * RUNS;
    };

    const studio: Flow[] = [];
    const c: Flow[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const s = await studioFlow(client, mapId, objectPath, counters, burst);
      const before = await counters();
      const r = JSON.parse(
        execFileSync(consumer, ['consume', String(mapId), String(progId), String(REPEAT), String(RUNS)], {
          encoding: 'utf8',
        }),
      ) as { received: number; ms: number };
      const after = await counters();
      // Round 0 warms up.
      if (round === 0) continue;
      studio.push(s);
      c.push({
        attempts: REPEAT * RUNS,
        delivered: r.received,
        lostInKernel: after.failed - before.failed,
        droppedInside: 0,
        ms: r.ms,
      });
    }
    const rate = (f: Flow) => (f.delivered / f.ms) * 1000;
    const sRate = summarize(studio.map(rate));
    const cRate = summarize(c.map(rate));
    const sum = (fs: Flow[], k: keyof Flow) => fs.reduce((n, f) => n + f[k], 0);
    const row = (name: string, fs: Flow[], r: ReturnType<typeof summarize>) => [
      name,
      sum(fs, 'attempts'),
      sum(fs, 'delivered'),
      sum(fs, 'lostInKernel'),
      sum(fs, 'droppedInside'),
      fs.reduce((n, f) => n + unaccounted(f), 0),
      medianRange({ ...r, median: r.median / 1e6, min: r.min / 1e6, max: r.max / 1e6 }, 2),
    ];

    // The load test: a flood for FLOOD_SECONDS, bursts back to back.
    const flood = await studioFlow(client, mapId, objectPath, counters, async () => {
      const until = Date.now() + FLOOD_SECONDS * 1000;
      let attempts = 0;
      while (Date.now() < until) attempts += await burst();
      return attempts;
    });
    const helperRss = peakRssMiB(client.pid) ?? NaN;
    const hostRss = ownPeakRssMiB();
    await client.request(Methods.unload, { loadId: load.loadId });

    const ratio = sRate.median / cRate.median;
    const metrics: Metric[] = [
      atLeast(
        'ring buffer events delivered decoded vs C ring_buffer consumer',
        sRate.median,
        'events/s',
        `C consumer ${Math.round(cRate.median)} events/s`,
        ratio,
        0.6,
      ),
      {
        name: 'ring buffer events dropped inside eBPF Studio (incl. unaccounted)',
        value: sum(studio, 'droppedInside') + studio.reduce((n, f) => n + unaccounted(f), 0),
        unit: 'events',
        goal: '= 0',
        met: sum(studio, 'droppedInside') === 0 && studio.every((f) => unaccounted(f) === 0),
      },
      { name: `flood ${FLOOD_SECONDS} s: produced (program runs)`, value: flood.attempts, unit: 'events', met: null },
      { name: `flood ${FLOOD_SECONDS} s: delivered`, value: flood.delivered, unit: 'events', met: null },
      { name: `flood ${FLOOD_SECONDS} s: lost in kernel`, value: flood.lostInKernel, unit: 'events', met: null },
      {
        name: `flood ${FLOOD_SECONDS} s: dropped inside eBPF Studio (incl. unaccounted)`,
        value: flood.droppedInside + unaccounted(flood),
        unit: 'events',
        goal: '= 0',
        met: flood.droppedInside === 0 && unaccounted(flood) === 0,
      },
      { name: 'peak RSS of the helper after the flood', value: helperRss, unit: 'MiB', met: null },
      { name: 'peak RSS of the host side after the flood', value: hostRss, unit: 'MiB', met: null },
    ];
    return {
      title: `ring buffer: ${ROUNDS} rounds after a warm-up, each ${RUNS} x BPF_PROG_TEST_RUN repeat ${REPEAT} (24-byte events, 16 MiB ring); then a ${FLOOD_SECONDS} s flood`,
      columns: [
        'consumer',
        'runs',
        'delivered',
        'lost in kernel',
        'dropped inside',
        'unaccounted',
        'M events/s median (min–max)',
      ],
      rows: [
        row('eBPF Studio, decoded in the trace source', studio, sRate),
        row('libbpf ring_buffer consumer in C', c, cRate),
        [
          `flood, ${FLOOD_SECONDS} s (eBPF Studio)`,
          flood.attempts,
          flood.delivered,
          flood.lostInKernel,
          flood.droppedInside,
          unaccounted(flood),
          (((flood.delivered / flood.ms) * 1000) / 1e6).toFixed(2),
        ],
      ],
      notes: [
        `eBPF Studio delivered ${ratio.toFixed(2)}x the C consumer's rate (goal >= 0.6x); runs = delivered + lost in kernel + dropped inside + unaccounted.`,
        'Lost in kernel: reserve failures the program counted while its consumer was behind (the helper stops draining when the extension side has not acknowledged its window).',
        `Peak RSS after the flood: helper ${helperRss.toFixed(0)} MiB, host side ${hostRss.toFixed(0)} MiB.`,
      ],
      metrics,
    };
  });
}

runIfMain(module, run);
