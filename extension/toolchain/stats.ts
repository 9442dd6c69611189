// Verifier statistics for CI, as veristat gives them: per program its verdict, instructions processed,
// states, peak states, stack depth, verification time and JITed size (`check --stats`), written as JSON
// (`--stats-json FILE`) and compared with an earlier run (`--compare BASE.json`), failing on a
// regression beyond a threshold the user gives (`--fail-above 10%`).
import * as path from 'path';
import { z } from 'zod';
import type { CheckResult } from './verify';

export const ProgramStats = z.object({
  /** The source, relative to the directory check ran in, so runs on other machines compare. */
  file: z.string(),
  program: z.string(),
  section: z.string(),
  verdict: z.enum(['verified', 'rejected', 'refused', 'failed']),
  insnsProcessed: z.number().optional(),
  totalStates: z.number().optional(),
  peakStates: z.number().optional(),
  /** Bytes of stack, all subprograms together. */
  stackDepth: z.number().optional(),
  verificationTimeUsec: z.number().optional(),
  jitedBytes: z.number().optional(),
});
export type ProgramStats = z.infer<typeof ProgramStats>;

export const StatsFile = z.object({
  tool: z.literal('ebpf-studio'),
  version: z.literal(1),
  kernel: z.string(),
  programs: z.array(ProgramStats),
});
export type StatsFile = z.infer<typeof StatsFile>;

/** The metrics a comparison gates on: verification time is left out, it changes from run to run. */
export const GATED_METRICS = ['insnsProcessed', 'totalStates', 'peakStates', 'stackDepth', 'jitedBytes'] as const;
const ALL_METRICS = [...GATED_METRICS, 'verificationTimeUsec'] as const;
type Metric = (typeof ALL_METRICS)[number];
const LABEL: Record<Metric, string> = {
  insnsProcessed: 'insns',
  totalStates: 'states',
  peakStates: 'peak states',
  stackDepth: 'stack',
  jitedBytes: 'jited',
  verificationTimeUsec: 'time (us)',
};

export function programStats(results: CheckResult[], cwd = process.cwd()): ProgramStats[] {
  return results.flatMap((result) =>
    result.programs.map((p) => {
      const row: ProgramStats = {
        file: path.relative(cwd, result.source) || result.source,
        program: p.program,
        section: p.section,
        verdict: p.status,
      };
      if (p.status === 'verified') {
        const s = p.stats;
        row.insnsProcessed = s.insnsProcessed;
        row.totalStates = s.totalStates;
        row.peakStates = s.peakStates;
        row.stackDepth = s.stackDepth?.reduce((a, b) => a + b, 0);
        row.verificationTimeUsec = s.verificationTimeUsec;
        row.jitedBytes = s.jitedBytes;
      }
      return row;
    }),
  );
}

/** Columns padded to their widest cell; the first `left` columns align left, numbers right. */
function table(rows: string[][], left = 3): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < left ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const show = (n: number | undefined) => (n === undefined ? '-' : String(n));

export function formatStats(rows: ProgramStats[]): string {
  return table([
    ['File', 'Program', 'Verdict', ...ALL_METRICS.map((m) => LABEL[m])],
    ...rows.map((r) => [r.file, r.program, r.verdict, ...ALL_METRICS.map((m) => show(r[m]))]),
  ]);
}

/** A threshold as given to --fail-above: "10%" (relative to the base) or "500" (in the metric's unit). */
export type Threshold = { percent: number } | { absolute: number };

export function parseThreshold(text: string): Threshold {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) throw new Error(`--fail-above takes a number or a percentage (10%, 500), got "${text}"`);
  return m[2] ? { percent: Number(m[1]) } : { absolute: Number(m[1]) };
}

export interface MetricDelta {
  metric: Metric;
  base?: number;
  current?: number;
  delta?: number;
  /** Relative to the base; undefined when the base is 0 or missing. */
  percent?: number;
}

export interface ProgramComparison {
  file: string;
  program: string;
  status: 'added' | 'removed' | 'both';
  baseVerdict?: ProgramStats['verdict'];
  verdict?: ProgramStats['verdict'];
  deltas: MetricDelta[];
  /** Why this program fails the comparison, if it does. */
  regressions: string[];
}

export interface Comparison {
  programs: ProgramComparison[];
  regressions: number;
}

function beyond(d: MetricDelta, threshold: Threshold | undefined): boolean {
  if (!threshold || d.delta === undefined || d.delta <= 0) return false;
  if ('absolute' in threshold) return d.delta > threshold.absolute;
  // A metric that grows from nothing is beyond any relative threshold.
  return d.percent === undefined ? true : d.percent > threshold.percent;
}

/** Per program: deltas (absolute and %), added and removed programs, verdict changes, and regressions. */
export function compareStats(base: StatsFile, current: ProgramStats[], threshold?: Threshold): Comparison {
  const key = (p: { file: string; program: string }) => `${p.file}\0${p.program}`;
  const before = new Map(base.programs.map((p) => [key(p), p]));
  const after = new Map(current.map((p) => [key(p), p]));
  const programs: ProgramComparison[] = [];
  for (const [k, now] of after) {
    const was = before.get(k);
    const deltas = ALL_METRICS.map((metric): MetricDelta => {
      const b = was?.[metric];
      const c = now[metric];
      const delta = b !== undefined && c !== undefined ? c - b : undefined;
      const percent = delta !== undefined && b ? (delta / b) * 100 : undefined;
      return { metric, base: b, current: c, delta, percent };
    });
    const regressions: string[] = [];
    if (was && was.verdict === 'verified' && now.verdict !== 'verified')
      regressions.push(`verdict ${was.verdict} -> ${now.verdict}`);
    for (const d of deltas) {
      if ((GATED_METRICS as readonly string[]).includes(d.metric) && beyond(d, threshold))
        regressions.push(
          `${LABEL[d.metric]} ${d.base} -> ${d.current} (+${d.delta}${d.percent !== undefined ? `, +${d.percent.toFixed(1)}%` : ''})`,
        );
    }
    programs.push({
      file: now.file,
      program: now.program,
      status: was ? 'both' : 'added',
      baseVerdict: was?.verdict,
      verdict: now.verdict,
      deltas,
      regressions,
    });
  }
  for (const [k, was] of before) {
    if (!after.has(k))
      programs.push({
        file: was.file,
        program: was.program,
        status: 'removed',
        baseVerdict: was.verdict,
        deltas: [],
        regressions: [],
      });
  }
  return { programs, regressions: programs.filter((p) => p.regressions.length > 0).length };
}

function deltaCell(d: MetricDelta | undefined): string {
  if (!d || (d.base === undefined && d.current === undefined)) return '-';
  if (d.delta === undefined) return `${show(d.base)} -> ${show(d.current)}`;
  const sign = d.delta > 0 ? '+' : '';
  const percent = d.percent === undefined ? '' : ` ${sign}${d.percent.toFixed(1)}%`;
  return d.delta === 0 ? show(d.current) : `${d.base} -> ${d.current} (${sign}${d.delta}${percent})`;
}

export function formatComparison(comparison: Comparison): string {
  const rows = comparison.programs.map((p) => {
    const verdict =
      p.status === 'added'
        ? `added (${p.verdict})`
        : p.status === 'removed'
          ? `removed (was ${p.baseVerdict})`
          : p.baseVerdict === p.verdict
            ? p.verdict!
            : `${p.baseVerdict} -> ${p.verdict}`;
    return [
      p.file,
      p.program,
      verdict,
      ...ALL_METRICS.map((m) => deltaCell(p.deltas.find((d) => d.metric === m))),
      p.regressions.length > 0 ? 'REGRESSION' : '',
    ];
  });
  const lines = [table([['File', 'Program', 'Verdict', ...ALL_METRICS.map((m) => LABEL[m]), ''], ...rows])];
  for (const p of comparison.programs)
    for (const r of p.regressions) lines.push(`regression: ${p.file}: ${p.program}: ${r}`);
  return lines.join('\n');
}
