// Reads a 1,000,000-entry hash map (u32 -> 64-byte struct) end to end into the extension side, through the
// real helper and HelperClient (map/dump pages, base64 over JSON-RPC), side by side in the same run with
// `bpftool -j map dump` and with a plain libbpf batch reader in C (bench/c/map_batch.c, built now with cc).
// Goals: >= 10x bpftool, >= 0.5x the C reader.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Methods } from '../extension/protocol/methods';
import { MapSource } from '../extension/host/features/maps/source';
import { BenchResult, runIfMain, withBenchEnv } from './bench-env';

const ENTRIES = Number(process.env.BENCH_MAP_ENTRIES ?? 1_000_000);
const RUNS = 3;

function best(times: number[]): number {
  return Math.min(...times);
}

export function run(): Promise<BenchResult> {
  return withBenchEnv(
    'map',
    { baseline: 'map_batch', bpfSource: path.join(__dirname, 'map-dump.bpf.c') },
    async ({ baseline: reader, objectPath, client }) => {
      const load = await client.request(Methods.load, { path: objectPath, maxEntries: { records: ENTRIES } });
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
        const r = JSON.parse(execFileSync(reader, ['read', String(mapId)], { encoding: 'utf8' })) as {
          count: number;
          ms: number;
        };
        c.push(r.ms);
        cCount = r.count;
      }

      // bpftool writes JSON for every byte; its output goes to /dev/null, which only flatters it.
      const bpftool: number[] = [];
      for (let run = 0; run < 1; run++) {
        const devnull = fs.openSync('/dev/null', 'w');
        const start = process.hrtime.bigint();
        const r = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(mapId)], {
          stdio: ['ignore', devnull, 'pipe'],
        });
        bpftool.push(Number(process.hrtime.bigint() - start) / 1e6);
        fs.closeSync(devnull);
        if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
      }

      if (studioCount !== ENTRIES || cCount !== ENTRIES || decoded !== ENTRIES) {
        throw new Error(
          `entry counts differ: eBPF Studio ${studioCount}, decoded ${decoded}, C ${cCount}, expected ${ENTRIES}`,
        );
      }
      const s = best(studio);
      const rate = (ms: number) => Math.round((ENTRIES / ms) * 1000);
      return {
        title: `map dump: ${ENTRIES} entries of u32 -> 64-byte struct, read into the extension side (best of ${RUNS}; bpftool once)`,
        columns: ['reader', 'ms', 'entries/s', 'eBPF Studio is'],
        rows: [
          ['eBPF Studio (helper + HelperClient, map/dump)', s, rate(s), ''],
          ['  + decoding every entry with BTF', s + decodeMs, rate(s + decodeMs), ''],
          [
            'libbpf batch reader in C',
            best(c),
            rate(best(c)),
            `${(best(c) / s).toFixed(2)}x the C reader (goal >= 0.5x)`,
          ],
          [
            'bpftool -j map dump > /dev/null',
            best(bpftool),
            rate(best(bpftool)),
            `${(best(bpftool) / s).toFixed(1)}x faster than bpftool (goal >= 10x)`,
          ],
        ],
        notes: [
          'The table decodes only the rows on screen; full decoding is what an export or a sort over every entry costs.',
        ],
      };
    },
  );
}

runIfMain(module, run);
