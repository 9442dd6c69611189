// Ring buffer events into the trace panel's data source against a libbpf ring_buffer consumer in C, with
// lost-in-kernel and dropped-inside counts that add up, then the issue-10 flood (bench/event-flow.ts).
import { BenchResult, runIfMain } from './bench-env';
import { eventBench } from './event-flow';

export function run(): Promise<BenchResult> {
  return eventBench({
    label: 'ring buffer',
    program: 'produce',
    map: 'bench_events',
    producedVar: 'produced',
    failedVar: 'reserve_failed',
    cName: 'libbpf ring_buffer consumer in C',
    buffer: '64 MiB ring',
    drainEvents: Number(process.env.BENCH_RINGBUF_DRAIN ?? 2_000_000),
    repeat: 1_000_000,
    runs: Number(process.env.BENCH_RINGBUF_RUNS ?? 4),
    floodSeconds: Number(process.env.BENCH_FLOOD_SECONDS ?? 60),
    lostNote:
      'reserve failures the program counted while its consumer was behind (the helper stops draining when the extension side has not acknowledged its window).',
    reportsLost: false,
  });
}

runIfMain(module, run);
