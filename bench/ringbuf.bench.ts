// Ring buffer events pushed as fast as a program can produce them (BPF_PROG_TEST_RUN with repeat on an XDP
// program that writes one 24-byte event per run), consumed by eBPF Studio (addon thread -> helper batches ->
// JSON-RPC -> TraceSource, every event split and decoded with its BTF struct) and, in the same run, by a
// plain libbpf ring_buffer consumer in C (bench/c/ringbuf_consumer.c). Reports events/s that reached the
// consumer, kernel-side losses (reserve failures counted by the program) and losses inside eBPF Studio.
// Goal: >= 1,000,000 events/s with no loss inside eBPF Studio.
import { execFile, execFileSync } from 'child_process';
import * as path from 'path';
import { Methods } from '../extension/protocol/methods';
import { TraceSource } from '../extension/host/features/trace-panel/source';
import { BenchResult, runIfMain, withBenchEnv } from './bench-env';

const REPEAT = 1_000_000;
const RUNS = Number(process.env.BENCH_RINGBUF_RUNS ?? 4);
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

    // eBPF Studio.
    const trace = new TraceSource(client);
    let received = 0;
    let checksum = 0;
    let lastAt = 0n;
    let structName: string | undefined;
    trace.onEvents = (batch) => {
      structName = batch.structName;
      for (let i = 0; i < batch.count; i++)
        checksum += Number(batch.decoder.decode(batch.data, batch.offsets[i], batch.lengths[i])[0]);
      received += batch.count;
      lastAt = process.hrtime.bigint();
    };
    const subscription = await trace.subscribeEvents(mapId, objectPath, 'bench_event');
    const before = await counters();
    const start = process.hrtime.bigint();
    // The producer runs in a process of its own, as the kernel produces events while the helper streams them.
    await new Promise<void>((resolve, reject) =>
      execFile(consumer, ['produce', String(progId), String(REPEAT), String(RUNS)], (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    const after = await counters();
    const expected = after.produced - before.produced;
    for (let idle = 0; received < expected && idle < 40; idle++) {
      const seen = received;
      await new Promise((r) => setTimeout(r, 50));
      if (received !== seen) idle = 0;
    }
    await trace.unsubscribeEvents(subscription);
    await trace.dispose();
    const studioMs = Number(lastAt - start) / 1e6;
    const studioKernelLost = after.failed - before.failed;

    // libbpf in C on the same program and map.
    const cBefore = await counters();
    const c = JSON.parse(
      execFileSync(consumer, ['consume', String(mapId), String(progId), String(REPEAT), String(RUNS)], {
        encoding: 'utf8',
      }),
    ) as { received: number; ms: number };
    const cAfter = await counters();
    const cKernelLost = cAfter.failed - cBefore.failed;

    const total = REPEAT * RUNS;
    const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
    return {
      title: `ring buffer: ${RUNS} x BPF_PROG_TEST_RUN repeat ${REPEAT} (${total} program runs, 24-byte events, 16 MiB ring)`,
      columns: ['consumer', 'received', 'ms', 'events/s', 'lost in kernel', 'lost in eBPF Studio'],
      rows: [
        [
          `eBPF Studio (decoded as struct ${structName ?? '?'})`,
          received,
          studioMs,
          rate(received, studioMs),
          studioKernelLost,
          trace.drops.droppedInHelper + (expected - received),
        ],
        ['libbpf ring_buffer consumer in C', c.received, c.ms, rate(c.received, c.ms), cKernelLost, '-'],
      ],
      notes: [
        `eBPF Studio reached ${((rate(received, studioMs) / rate(c.received, c.ms)) * 100).toFixed(0)}% of the C consumer's rate (goal: >= 1,000,000 events/s, no loss inside eBPF Studio).`,
        'Lost in kernel: reserve failures the program counted because its consumer fell behind the producer.',
        `Checksum of decoded sequence numbers: ${checksum}.`,
      ],
    };
  });
}

runIfMain(module, run);
