// bpf_printk lines: a program prints one numbered line per run (bench/printk.bpf.c, BPF_PROG_TEST_RUN with
// repeat), read by the trace panel's data source (TraceSource over the helper's trace_pipe reader, every
// line parsed and attributed to its program) and, in the same run, by `cat trace_pipe` into a file. trace_pipe
// is one destructive stream, so the two read in turns, never at once. Each reader's lines are counted by the
// sequence numbers they carry; what neither got was overwritten in the kernel's trace ring (its per-CPU
// "overrun" counters).
// Two loads: as fast as the program prints (lines/s of each reader; both lose lines here, since the kernel's
// trace ring is small: 7 kB per CPU until something expands it, which this benchmark does not do), and paced
// (BENCH_PRINTK_PACED_RATES, 10,000 and 40,000 lines/s in bursts of 50), where cat should get every line: every line
// eBPF Studio misses that cat got is one it loses that cat would get (goal: none).
import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Methods } from '../extension/protocol/methods';
import { TraceSource } from '../extension/host/features/trace-panel/source';
import type { HelperClient } from '../extension/host/client/client';
import { BenchResult, bssCounters, runIfMain, withBenchEnv } from './bench-env';
import { medianRange, Metric, Rounds, summarize } from './metrics';

const ROUNDS = Number(process.env.BENCH_PRINTK_ROUNDS ?? 3);
/** Lines per round at full speed: RUNS test runs of REPEAT. */
const REPEAT = 100_000;
const RUNS = Number(process.env.BENCH_PRINTK_RUNS ?? 5);
/** Paced rounds: PACED_SECONDS at each of PACED_RATES lines/s, in bursts of PACED_BURST lines (small enough
 *  for the trace ring's few kB before a reader comes). */
const PACED_SECONDS = Number(process.env.BENCH_PRINTK_PACED_SECONDS ?? 2);
const PACED_RATES = (process.env.BENCH_PRINTK_PACED_RATES ?? '10000,40000').split(',').map(Number);
const PACED_BURST = 50;
/** A reader that has had nothing new for this long has caught up. */
const IDLE_MS = 300;
const SEQ = /bench_printk seq=(\d+)/;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exec = (file: string, args: string[]) =>
  new Promise<void>((resolve, reject) => execFile(file, args, (error) => (error ? reject(error) : resolve())));

function tracefs(): string {
  return fs.existsSync('/sys/kernel/tracing/trace_pipe') ? '/sys/kernel/tracing' : '/sys/kernel/debug/tracing';
}

/** The trace ring's per-CPU "overrun" counters, summed: entries the kernel overwrote unread. */
function overruns(): number {
  const root = path.join(tracefs(), 'per_cpu');
  let total = 0;
  for (const cpu of fs.readdirSync(root))
    total += Number(/^overrun:\s*(\d+)/m.exec(fs.readFileSync(path.join(root, cpu, 'stats'), 'utf8'))?.[1] ?? 0);
  return total;
}

/** buffer_size_kb as the kernel shows it, e.g. "7 (expanded: 1408)". */
function ringSize(): string {
  return fs.readFileSync(path.join(tracefs(), 'buffer_size_kb'), 'utf8').trim();
}

interface Take {
  produced: number;
  /** Lines of this stretch the reader got (by sequence number, each once). */
  delivered: number;
  /** Entries the trace ring overwrote meanwhile (ours, and any other writer's). */
  overrun: number;
  ms: number;
}

/** Waits until `progress` stops changing for IDLE_MS (or 20 s); returns when it last changed. */
async function idle(progress: () => number): Promise<bigint> {
  let last = progress();
  let at = process.hrtime.bigint();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && Number(process.hrtime.bigint() - at) / 1e6 < IDLE_MS) {
    await sleep(20);
    const now = progress();
    if (now !== last) {
      last = now;
      at = process.hrtime.bigint();
    }
  }
  return at;
}

/** Distinct sequence numbers in [from, to). */
function countRange(seqs: number[], from: number, to: number): number {
  const seen = new Uint8Array(Math.max(0, to - from));
  let n = 0;
  for (const s of seqs) if (s >= from && s < to && !seen[s - from]) n += seen[s - from] = 1;
  return n;
}

type Printed = () => Promise<number>;

/** A reader of trace_pipe for one stretch: what it has read so far and the sequence numbers in it. */
interface Reader {
  progress(): number;
  /** Stops reading; the sequence numbers of every line it read. */
  finish(): Promise<number[]>;
}

/** One stretch: `produce` prints while `reader` reads; counts what it got of what was printed meanwhile. */
async function take(reader: Reader, printed: Printed, produce: () => Promise<void>): Promise<Take> {
  let seqs: number[] | undefined;
  try {
    const before = await printed();
    const ring = overruns();
    const start = process.hrtime.bigint();
    await produce();
    const after = await printed();
    const lastAt = await idle(() => reader.progress());
    seqs = await reader.finish();
    return {
      produced: after - before,
      delivered: countRange(seqs, before, after),
      overrun: overruns() - ring,
      ms: Number(lastAt - start) / 1e6,
    };
  } finally {
    if (!seqs) await reader.finish();
  }
}

/** eBPF Studio's trace source over the helper; every line must be attributed to say(). */
async function studioReader(client: HelperClient): Promise<Reader> {
  const trace = new TraceSource(client);
  const seqs: number[] = [];
  let attributed = 0;
  trace.onLines = (entries) => {
    for (const e of entries) {
      const m = SEQ.exec(e.line?.message ?? e.raw);
      if (!m) continue;
      seqs.push(Number(m[1]));
      if (e.program === 'say') attributed++;
    }
  };
  await trace.startTrace();
  return {
    progress: () => seqs.length,
    finish: async () => {
      await trace.dispose();
      if (attributed !== seqs.length) throw new Error(`${seqs.length - attributed} lines not attributed to say()`);
      return seqs;
    },
  };
}

/** `cat trace_pipe` into a file. */
function catReader(work: string): Reader {
  const file = path.join(work, 'trace_pipe.txt');
  const out = fs.openSync(file, 'w');
  const cat = spawn('cat', [path.join(tracefs(), 'trace_pipe')], { stdio: ['ignore', out, 'inherit'] });
  return {
    progress: () => fs.fstatSync(out).size,
    finish: async () => {
      cat.kill();
      await new Promise((r) => (cat.exitCode !== null || cat.signalCode !== null ? r(null) : cat.once('exit', r)));
      const seqs: number[] = [];
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const m = SEQ.exec(line);
        if (m) seqs.push(Number(m[1]));
      }
      fs.closeSync(out);
      fs.rmSync(file, { force: true });
      return seqs;
    },
  };
}

export function run(): Promise<BenchResult> {
  const setup = { baseline: 'events_consumer', libs: ['-lpthread'], bpfSource: path.join(__dirname, 'printk.bpf.c') };
  return withBenchEnv('printk', setup, async ({ baseline: driver, objectPath, client }) => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-bench-printk-'));
    const load = await client.request(Methods.load, { path: objectPath });
    try {
      const progId = String(load.programs.find((p) => p.name === 'say')!.id);
      const globals = await bssCounters(client, objectPath, load.maps);
      const printed = async () => (await globals())('printed');
      const full = () => exec(driver, ['produce', progId, String(REPEAT), String(RUNS)]);

      const studio: Take[] = [];
      const cat: Take[] = [];
      for (let round = 0; round <= ROUNDS; round++) {
        const s = await take(await studioReader(client), printed, full);
        const c = await take(catReader(work), printed, full);
        // Round 0 warms up.
        if (round === 0) continue;
        studio.push(s);
        cat.push(c);
      }
      const rate = (t: Take) => (t.delivered / t.ms) * 1000;
      const sRate = summarize(studio.map(rate));
      const cRate = summarize(cat.map(rate));

      const sum = (ts: Take[], k: keyof Take) => ts.reduce((n, t) => n + t[k], 0);
      const perMillion = (r: Rounds) =>
        medianRange({ ...r, median: r.median / 1e3, min: r.min / 1e3, max: r.max / 1e3 }, 0);
      const row = (name: string, ts: Take[], r?: Rounds) => [
        name,
        sum(ts, 'produced'),
        sum(ts, 'delivered'),
        sum(ts, 'produced') - sum(ts, 'delivered'),
        sum(ts, 'overrun'),
        r ? perMillion(r) : '',
      ];
      const lostFull = Math.max(0, sum(cat, 'delivered') - sum(studio, 'delivered'));
      const ratio = sRate.median / cRate.median;
      const rows = [
        row('eBPF Studio trace source, full speed', studio, sRate),
        row('cat trace_pipe, full speed', cat, cRate),
      ];
      const metrics: Metric[] = [
        {
          name: 'bpf_printk lines/s read at full speed vs cat trace_pipe',
          value: sRate.median,
          unit: 'lines/s',
          reference: `cat trace_pipe ${Math.round(cRate.median)} lines/s`,
          ratio,
          met: null,
        },
        {
          name: 'bpf_printk lines eBPF Studio loses that cat gets, full speed',
          value: lostFull,
          unit: 'lines',
          reference: `cat got ${sum(cat, 'delivered')} of ${sum(cat, 'produced')}`,
          met: null,
        },
      ];
      const pacedNotes: string[] = [];

      // Paced: bursts of PACED_BURST lines with a gap between them, PACED_SECONDS at each rate.
      for (const pace of PACED_RATES) {
        const gapUs = Math.round((PACED_BURST / pace) * 1e6);
        const bursts = Math.ceil((pace * PACED_SECONDS) / PACED_BURST);
        const paced = () => exec(driver, ['produce', progId, String(PACED_BURST), String(bursts), String(gapUs)]);
        const studioPaced: Take[] = [];
        const catPaced: Take[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          studioPaced.push(await take(await studioReader(client), printed, paced));
          catPaced.push(await take(catReader(work), printed, paced));
        }
        // Lines cat got that eBPF Studio did not (round by round, as shares of what was printed, never below 0).
        const lostVsCat = Math.round(
          studioPaced.reduce(
            (n, t, i) =>
              n + Math.max(0, catPaced[i].delivered / catPaced[i].produced - t.delivered / t.produced) * t.produced,
            0,
          ),
        );
        rows.push(
          row(`eBPF Studio trace source, paced ${pace}/s`, studioPaced),
          row(`cat trace_pipe, paced ${pace}/s`, catPaced),
        );
        metrics.push({
          name: `bpf_printk lines eBPF Studio loses that cat gets, paced at ${pace} lines/s`,
          value: lostVsCat,
          unit: 'lines',
          reference: `cat got ${sum(catPaced, 'delivered')} of ${sum(catPaced, 'produced')}`,
          goal: '= 0',
          met: lostVsCat === 0,
        });
        pacedNotes.push(`${lostVsCat} at ${pace} lines/s`);
      }
      return {
        title: `bpf_printk lines: ${ROUNDS} rounds after a warm-up of ${RUNS} x ${REPEAT} lines as fast as the program prints, then ${ROUNDS} rounds of ${PACED_SECONDS} s paced at each of ${PACED_RATES.join(', ')} lines/s in bursts of ${PACED_BURST}`,
        columns: ['reader', 'printed', 'got', 'missed', 'trace ring overrun', 'k lines/s median (min–max)'],
        rows,
        notes: [
          `eBPF Studio read ${ratio.toFixed(2)}x cat's lines/s at full speed and missed ${lostFull} more lines than cat there; lines it lost that cat got when paced (goal 0): ${pacedNotes.join(', ')}.`,
          `Missed lines were overwritten in the kernel's trace ring before the reader came (buffer_size_kb here: ${ringSize()}); the overrun column counts every entry overwritten, ours and any other writer's.`,
          'The two readers take turns: trace_pipe hands each line to one reader only.',
        ],
        metrics,
      };
    } finally {
      await client.request(Methods.unload, { loadId: load.loadId });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}

runIfMain(module, run);
