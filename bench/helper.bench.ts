// The helper's fixed costs: start to first answer (spawn, elevation when needed, initialize), the program
// list with 200 and 1,000 programs loaded (kernel/programs: info and links, against `bpftool -j prog list`),
// and the run-statistics overhead per program run while the Programs view shows statistics
// (BPF_ENABLE_STATS, measured with BPF_PROG_TEST_RUN's own per-run time).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../extension/host/client/client';
import { Methods } from '../extension/protocol/methods';
import { compileBpf } from '../extension/toolchain/compile';
import { helperScript, tempDir } from '../test/support/kernel';
import { BenchResult, runIfMain } from './bench-env';
import { medianRange, Metric, rounds, timeMs } from './metrics';

const ROUNDS = Number(process.env.BENCH_HELPER_ROUNDS ?? 5);
const PROGRAM_COUNTS = (process.env.BENCH_PROGRAM_COUNTS ?? '200,1000').split(',').map(Number);

export async function run(): Promise<BenchResult> {
  const rows: (string | number)[][] = [];
  const metrics: Metric[] = [];
  const start = await rounds(ROUNDS, async () => {
    let client: HelperClient | undefined;
    const ms = await timeMs(async () => {
      client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'bench' });
      await client.request(Methods.listLoaded);
    });
    await client!.dispose();
    return ms;
  });
  rows.push(['helper start to first answer', medianRange(start), '', '']);
  metrics.push({ name: 'helper start to first answer', value: start.median, unit: 'ms', met: null });

  const work = tempDir('bench-helper');
  const built = await compileBpf(path.join(__dirname, '..', 'test', 'kernel', 'fixtures', 'xdp_pass.bpf.c'), {
    outDir: work,
  });
  if (!built.ok) throw new Error(built.stderr);
  const client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'bench' });
  const loads: string[] = [];
  try {
    for (const count of PROGRAM_COUNTS) {
      while (loads.length < count) loads.push((await client.request(Methods.load, { path: built.objectPath })).loadId);
      const studio = await rounds(ROUNDS, () =>
        timeMs(async () => {
          const [programs] = await Promise.all([client.request(Methods.programs), client.request(Methods.links)]);
          if (programs.length < count) throw new Error(`listed ${programs.length} programs`);
        }),
      );
      const bpftool = await rounds(ROUNDS, () =>
        timeMs(() => {
          const r = spawnSync('bpftool', ['-j', 'prog', 'list'], {
            stdio: ['ignore', 'pipe', 'pipe'],
            maxBuffer: 1 << 28,
          });
          if (r.status !== 0) throw new Error(`bpftool: ${r.stderr}`);
        }),
      );
      const ratio = bpftool.median / studio.median;
      rows.push([
        `program list, ${count} programs (+ links)`,
        medianRange(studio),
        medianRange(bpftool),
        `${ratio.toFixed(1)}x`,
      ]);
      metrics.push({
        name: `program list with ${count} programs`,
        value: studio.median,
        unit: 'ms',
        reference: `bpftool -j prog list ${bpftool.median.toFixed(0)} ms`,
        ratio,
        met: null,
      });
    }

    // Statistics overhead: ns per run of a trivial XDP program with and without BPF_ENABLE_STATS.
    const progId = (await client.request(Methods.listLoaded))[0].programs[0].id;
    const perRun = async () =>
      (await client.request(Methods.testRun, { progId, data: '00'.repeat(64), repeat: 1_000_000 })).durationNs;
    const off = await rounds(ROUNDS, perRun);
    await client.request(Methods.setStats, { enabled: true });
    const on = await rounds(ROUNDS, perRun);
    await client.request(Methods.setStats, { enabled: false });
    rows.push([
      'ns per program run, statistics off / on',
      medianRange(off),
      medianRange(on),
      `+${(on.median - off.median).toFixed(1)} ns`,
    ]);
    metrics.push({
      name: 'run-statistics overhead per program run',
      value: on.median - off.median,
      unit: 'ns',
      reference: `${off.median.toFixed(1)} ns per run without statistics`,
      ratio: on.median / off.median,
      met: null,
    });
  } finally {
    for (const id of loads) await client.request(Methods.unload, { loadId: id });
    await client.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
  return {
    title: `helper: median (min–max) of ${ROUNDS} rounds after a warm-up`,
    columns: ['what', 'eBPF Studio ms', 'reference ms', 'vs reference'],
    rows,
    notes: [
      'Program list reference: bpftool -j prog list (no C lister is built). Extension activation: bench/activation.bench.ts (in code-server).',
    ],
    metrics,
  };
}

runIfMain(module, run);
