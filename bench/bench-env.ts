// What the side-by-side benchmarks share: a scratch directory with a C baseline built against the system
// libbpf and a BPF object built by the product's compiler, a helper started for the run, and the cleanup
// (unload what the run loaded, stop the helper, remove the scratch directory) even when the run fails.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileBpf } from '../extension/toolchain/compile';
import { HelperClient } from '../extension/host/client/client';
import { Methods } from '../extension/protocol/methods';
import type { Metric } from './metrics';

export interface BenchResult {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
  /** Rows of bench/results.json. */
  metrics?: Metric[];
}

export interface BenchEnv {
  /** The C baseline, bench/c/<name>.c built into the scratch directory. */
  baseline: string;
  /** The benchmark's BPF object. */
  objectPath: string;
  client: HelperClient;
}

export async function withBenchEnv<T>(
  name: string,
  setup: { baseline: string; libs?: string[]; bpfSource: string },
  body: (env: BenchEnv) => Promise<T>,
): Promise<T> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `ebpf-studio-bench-${name}-`));
  try {
    const baseline = path.join(work, setup.baseline);
    execFileSync(
      'cc',
      ['-O2', '-o', baseline, path.join(__dirname, 'c', `${setup.baseline}.c`), '-lbpf', ...(setup.libs ?? [])],
      { stdio: 'inherit' },
    );
    const built = await compileBpf(setup.bpfSource, { outDir: work });
    if (!built.ok) throw new Error(built.stderr);
    const client = await HelperClient.start({
      helperScript: path.join(__dirname, '..', 'dist', 'helper.js'),
      // BENCH_HELPER_ELEVATION: a command that wraps the helper's start (e.g. a profiler's), as the setting.
      elevation: process.env.BENCH_HELPER_ELEVATION ?? 'auto',
      clientName: 'bench',
    });
    try {
      return await body({ baseline, objectPath: built.objectPath, client });
    } finally {
      for (const l of await client.request(Methods.listLoaded))
        await client.request(Methods.unload, { loadId: l.loadId });
      await client.dispose();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Reads the u64 globals of a loaded object's .bss (the counters a benchmark's program keeps): the returned
 * function takes one snapshot of the section and gives a reader of it by variable name.
 */
export async function bssCounters(
  client: HelperClient,
  objectPath: string,
  maps: { id: number; name: string }[],
): Promise<() => Promise<(name: string) => number>> {
  const spec = await client.request(Methods.describe, { path: objectPath });
  const bssId = maps.find((m) => m.name.endsWith('.bss'))!.id;
  return async () => {
    const { value } = await client.request(Methods.mapLookup, { mapId: bssId, key: '00000000' });
    const bss = Buffer.from(value!, 'hex');
    return (name: string) => Number(bss.readBigUInt64LE(spec.variables.find((v) => v.name === name)!.offset));
  };
}

/** `tsx bench/x.bench.ts` runs one benchmark alone and prints its result as JSON. */
export function runIfMain(module: NodeModule, run: () => Promise<BenchResult>): void {
  if (require.main !== module) return;
  run().then(
    (r) => console.log(JSON.stringify(r, null, 1)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
