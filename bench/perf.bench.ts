// Perf buffer events (BPF_MAP_TYPE_PERF_EVENT_ARRAY, 64 pages per CPU on both sides) into the trace panel's
// data source against a libbpf perf_buffer consumer in C, with lost-in-kernel and dropped-inside counts that
// add up, then a flood (bench/event-flow.ts).
import { BenchResult, runIfMain } from './bench-env';
import { eventBench } from './event-flow';

export function run(): Promise<BenchResult> {
  return eventBench({
    label: 'perf buffer',
    program: 'produce_perf',
    map: 'bench_perf',
    producedVar: 'perf_produced',
    failedVar: 'perf_failed',
    cName: 'libbpf perf_buffer consumer in C',
    buffer: '64 pages per CPU',
    // Every sample wakes the reader (libbpf's perf_buffer defaults, on both sides): a slow producer.
    repeat: Number(process.env.BENCH_PERF_EVENTS ?? 250_000),
    runs: 1,
    floodSeconds: Number(process.env.BENCH_PERF_FLOOD_SECONDS ?? 20),
    lostNote:
      'bpf_perf_event_output failures (-ENOSPC) the program counted while its per-CPU buffer was full; the kernel reports the same as lost samples.',
    reportsLost: true,
  });
}

runIfMain(module, run);
