// Reads a 1,000,000-entry hash map (u32 -> 64-byte struct) end to end into the extension side, through the
// real helper and HelperClient (map/dump pages, base64 over JSON-RPC), side by side in the same run with
// `bpftool -j map dump` and with a plain libbpf batch reader in C (bench/c/map_batch.c, built now with cc).
// Goals: >= 10x bpftool, >= 0.5x the C reader.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileBpf } from '../extension/build/compile';
import { HelperClient } from '../extension/helper/client';
import { Methods } from '../extension/helper/protocol';
import { MapSource } from '../extension/views/map-source';

const ENTRIES = Number(process.env.BENCH_MAP_ENTRIES ?? 1_000_000);
const RUNS = 3;
const root = path.join(__dirname, '..');

function buildC(name: string, out: string): string {
  const binary = path.join(out, name);
  execFileSync('cc', ['-O2', '-o', binary, path.join(__dirname, 'c', `${name}.c`), '-lbpf'], { stdio: 'inherit' });
  return binary;
}

function best(times: number[]): number {
  return Math.min(...times);
}

export interface BenchResult {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export async function run(): Promise<BenchResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-bench-map-'));
  const reader = buildC('map_batch', work);
  const built = await compileBpf(path.join(__dirname, 'map-dump.bpf.c'), { outDir: work });
  if (!built.ok) throw new Error(built.stderr);
  const client = await HelperClient.start({ helperScript: path.join(root, 'dist', 'helper.js'), elevation: 'auto', clientName: 'bench' });
  try {
    const load = await client.request(Methods.load, { path: built.objectPath, maxEntries: { records: ENTRIES } });
    const mapId = load.maps.find((m) => m.name === 'records')!.id;
    execFileSync(reader, ['fill', String(mapId), String(ENTRIES)]);

    // eBPF Studio: pages of packed entries reach this process as Buffers, ready for the viewer to decode.
    const studio: number[] = [];
    let studioCount = 0;
    const source = await MapSource.open(client, mapId);
    for (let run = 0; run < RUNS; run++) {
      const start = process.hrtime.bigint();
      const pages = await source.readAll();
      studio.push(Number(process.hrtime.bigint() - start) / 1e6);
      studioCount = pages.reduce((n, p) => n + p.count, 0);
    }
    // Decoding every entry (what export or a full sort does; the table decodes only visible rows).
    const pages = await source.readAll();
    const decodeStart = process.hrtime.bigint();
    let decoded = 0;
    for (const _ of source.entries(pages)) decoded++;
    const decodeMs = Number(process.hrtime.bigint() - decodeStart) / 1e6;

    const c: number[] = [];
    let cCount = 0;
    for (let run = 0; run < RUNS; run++) {
      const r = JSON.parse(execFileSync(reader, ['read', String(mapId)], { encoding: 'utf8' })) as { count: number; ms: number };
      c.push(r.ms);
      cCount = r.count;
    }

    // bpftool writes JSON for every byte; its output goes to /dev/null, which only flatters it.
    const bpftool: number[] = [];
    for (let run = 0; run < 1; run++) {
      const devnull = fs.openSync('/dev/null', 'w');
      const start = process.hrtime.bigint();
      const r = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(mapId)], { stdio: ['ignore', devnull, 'pipe'] });
      bpftool.push(Number(process.hrtime.bigint() - start) / 1e6);
      fs.closeSync(devnull);
      if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
    }

    if (studioCount !== ENTRIES || cCount !== ENTRIES || decoded !== ENTRIES) {
      throw new Error(`entry counts differ: eBPF Studio ${studioCount}, decoded ${decoded}, C ${cCount}, expected ${ENTRIES}`);
    }
    const s = best(studio);
    const rate = (ms: number) => Math.round((ENTRIES / ms) * 1000);
    return {
      title: `map dump: ${ENTRIES} entries of u32 -> 64-byte struct, read into the extension side (best of ${RUNS}; bpftool once)`,
      columns: ['reader', 'ms', 'entries/s', 'eBPF Studio is'],
      rows: [
        ['eBPF Studio (helper + HelperClient, map/dump)', s, rate(s), ''],
        ['  + decoding every entry with BTF', s + decodeMs, rate(s + decodeMs), ''],
        ['libbpf batch reader in C', best(c), rate(best(c)), `${(best(c) / s).toFixed(2)}x the C reader (goal >= 0.5x)`],
        ['bpftool -j map dump > /dev/null', best(bpftool), rate(best(bpftool)), `${(best(bpftool) / s).toFixed(1)}x faster than bpftool (goal >= 10x)`],
      ],
      notes: ['The table decodes only the rows on screen; full decoding is what an export or a sort over every entry costs.'],
    };
  } finally {
    for (const l of await client.request(Methods.listLoaded)) await client.request(Methods.unload, { loadId: l.loadId });
    await client.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 1)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
