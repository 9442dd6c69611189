// Whole-map reads into the extension side through the real helper and HelperClient (map/dump pages as
// binary frames, kept as Buffers), side by side in the same run with a plain libbpf batch reader in C
// (bench/c/map_batch.c) and `bpftool -j map dump`: 10k, 100k and 1M entries of u32 -> u64 and
// u32 -> 64-byte struct. Also the first screen of the 1M map (open + 100 decoded rows) against the whole
// read, and the peak RSS of the helper and of this process (the extension host's side).
// Goals (issue 16): >= 0.5x the C reader's rate, >= 15x bpftool for 1M, first screen <= 0.1x the read.
import { execFile, execFileSync, spawnSync } from 'child_process';
import { promisify } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { Methods } from '../extension/protocol/methods';
import { MapSource } from '../extension/host/features/maps/source';
import { MapViewerModel } from '../extension/host/features/map-viewer/model';
import { BenchResult, runIfMain, withBenchEnv } from './bench-env';
import {
  atLeast,
  atMost,
  medianRange,
  Metric,
  ownPeakRssMiB,
  peakRssMiB,
  resetPeakRss,
  rounds,
  timeMs,
} from './metrics';

const execFileAsync = promisify(execFile);

const SIZES = (process.env.BENCH_MAP_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_MAP_ROUNDS ?? 3);
const MAPS = [
  { map: 'counts', label: 'u32 -> u64' },
  { map: 'records', label: 'u32 -> 64-byte struct' },
];

export function run(): Promise<BenchResult> {
  return withBenchEnv(
    'map',
    { baseline: 'map_batch', bpfSource: path.join(__dirname, 'map-dump.bpf.c') },
    async ({ baseline: reader, objectPath, client }) => {
      const rows: (string | number)[][] = [];
      const metrics: Metric[] = [];
      const notes: string[] = [];
      for (const size of SIZES) {
        // The peaks reported are those of the largest reads alone, not of an earlier benchmark in this process.
        if (size === Math.max(...SIZES)) {
          resetPeakRss(client.pid);
          resetPeakRss();
        }
        const load = await client.request(Methods.load, {
          path: objectPath,
          maxEntries: { records: size, counts: size },
        });
        try {
          for (const { map, label } of MAPS) {
            const mapId = load.maps.find((m) => m.name === map)!.id;
            execFileSync(reader, ['fill', String(mapId), String(size)]);
            let count = 0;
            const studio = await rounds(ROUNDS, async () => {
              const source = await MapSource.open(client, mapId);
              return timeMs(async () => {
                count = (await source.readAll()).reduce((n, p) => n + p.count, 0);
              });
            });
            if (count !== size) throw new Error(`${map}: eBPF Studio read ${count} entries of ${size}`);
            const c = await rounds(ROUNDS, () => {
              const r = JSON.parse(execFileSync(reader, ['read', String(mapId)], { encoding: 'utf8' })) as {
                count: number;
                ms: number;
              };
              if (r.count !== size) throw new Error(`${map}: the C reader read ${r.count} entries of ${size}`);
              return r.ms;
            });
            // bpftool writes JSON for every byte (to /dev/null here, which only flatters it): once per map.
            const devnull = fs.openSync('/dev/null', 'w');
            const bpftool = await timeMs(() => {
              const r = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(mapId)], {
                stdio: ['ignore', devnull, 'pipe'],
              });
              if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
            });
            fs.closeSync(devnull);
            const vsC = c.median / studio.median;
            const vsBpftool = bpftool / studio.median;
            rows.push([
              `${size.toLocaleString('en-US')} × ${label}`,
              medianRange(studio),
              medianRange(c),
              bpftool,
              `${vsC.toFixed(2)}x`,
              `${vsBpftool.toFixed(1)}x`,
            ]);
            const name = `map dump ${size} ${label}`;
            metrics.push(
              atLeast(
                `${name}, vs C batch reader`,
                studio.median,
                'ms',
                `C batch reader ${c.median.toFixed(1)} ms`,
                vsC,
                0.5,
              ),
              size >= 1_000_000
                ? atLeast(
                    `${name}, vs bpftool`,
                    studio.median,
                    'ms',
                    `bpftool -j map dump ${bpftool.toFixed(0)} ms`,
                    vsBpftool,
                    15,
                  )
                : {
                    name: `${name}, vs bpftool`,
                    value: studio.median,
                    unit: 'ms',
                    reference: `bpftool -j map dump ${bpftool.toFixed(0)} ms`,
                    ratio: vsBpftool,
                    met: null,
                  },
            );

            if (size === Math.max(...SIZES) && map === 'records') {
              // First screen: open the map (one round trip with the first page) and decode the 100 rows shown.
              let whole = 0;
              const first = await rounds(ROUNDS, async () => {
                let shown = 0;
                const ms = await timeMs(async () => {
                  const model = new MapViewerModel(await MapSource.open(client, mapId));
                  model.beginSnapshot(true);
                  model.addPage((await model.source.readPage(256)).page);
                  shown = model.rows(0, 100).length;
                });
                if (shown !== 100) throw new Error(`first screen showed ${shown} rows`);
                return ms;
              });
              whole = studio.median;
              rows.push([
                `first screen (100 decoded rows) of ${size.toLocaleString('en-US')}`,
                medianRange(first),
                '',
                '',
                '',
                '',
              ]);
              metrics.push(
                atMost(
                  'first screen of 1M entries vs the whole read',
                  first.median,
                  'ms',
                  `whole read ${whole.toFixed(0)} ms`,
                  first.median / whole,
                  0.1,
                ),
              );
              const decode = await timeMs(async () => {
                const source = await MapSource.open(client, mapId);
                let n = 0;
                for (const _ of source.entries(await source.readAll())) n++;
                if (n !== size) throw new Error(`decoded ${n}`);
              });
              rows.push([`  read + decode every entry (export, full sort)`, decode, '', '', '', '']);
              // Browsable while a program updates it: reads during a churn of random updates, each
              // complete (updates in place never add or remove keys), with the helper's peak memory.
              const churnProg = load.programs.find((p) => p.name === 'churn_records')!.id;
              const churnSeconds = Math.max(3, (studio.median * (ROUNDS + 1)) / 1000 + 1);
              const churner = execFileAsync(reader, ['churn', String(churnProg), String(churnSeconds)]);
              const busy = await rounds(ROUNDS, async () => {
                const source = await MapSource.open(client, mapId);
                let n = 0;
                const ms = await timeMs(async () => {
                  n = (await source.readAll()).reduce((sum, p) => sum + p.count, 0);
                });
                if (n !== size) throw new Error(`read ${n} of ${size} entries while a program updated them`);
                return ms;
              });
              const churned = JSON.parse((await churner).stdout) as { runs: number; ms: number };
              const updatesPerSecond = (churned.runs / churned.ms) * 1000;
              rows.push([
                `  the same while a program updates it (${(updatesPerSecond / 1e6).toFixed(1)} M updates/s)`,
                medianRange(busy),
                '',
                '',
                `${(c.median / busy.median).toFixed(2)}x`,
                '',
              ]);
              metrics.push({
                name: 'map dump 1M struct while a program updates it, vs C batch reader (idle map)',
                value: busy.median,
                unit: 'ms',
                reference: `C batch reader ${c.median.toFixed(1)} ms; ${(updatesPerSecond / 1e6).toFixed(1)} M updates/s`,
                ratio: c.median / busy.median,
                met: null,
              });
              const helperRss = peakRssMiB(client.pid);
              metrics.push(
                { name: 'peak RSS of the helper during the 1M read', value: helperRss ?? NaN, unit: 'MiB', met: null },
                {
                  name: 'peak RSS of the host side during the 1M read',
                  value: ownPeakRssMiB(),
                  unit: 'MiB',
                  met: null,
                },
              );
              notes.push(
                `Peak RSS during the ${size.toLocaleString('en-US')}-entry reads: helper ${helperRss?.toFixed(0) ?? '?'} MiB, host side ${ownPeakRssMiB().toFixed(0)} MiB.`,
              );
            }
          }
        } finally {
          await client.request(Methods.unload, { loadId: load.loadId });
        }
      }
      return {
        title: `map dump into the extension side: median (min–max) of ${ROUNDS} rounds after a warm-up; bpftool once`,
        columns: [
          'map',
          'eBPF Studio ms',
          'C batch reader ms',
          'bpftool ms',
          'rate vs C (goal >= 0.5x)',
          'vs bpftool (goal >= 15x at 1M)',
        ],
        rows,
        notes: [
          'eBPF Studio: helper map/dump pages as binary frames, into Buffers on this side; the table decodes only the rows on screen.',
          ...notes,
        ],
        metrics,
      };
    },
  );
}

runIfMain(module, run);
