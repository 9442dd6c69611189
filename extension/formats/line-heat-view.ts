// What the heat map of a complexity failure shows: the sorted table (a read-only document) and, per source
// line, a level 1..5 and a label for the editor's decorations. The kernel messages that mean "the verifier
// ran out of budget" live here too, so the diagnostic's code action and the command agree. Pure; run by the host.
import type { LineHeat, LineHeatRow } from './line-heat';

/** The rejections whose cause is the amount of work, not one instruction: a heat map answers them. */
export const complexityFailure =
  /program is too large|too many states|infinite loop detected|the sequence of \d+ jumps is too complex|BPF program is too large|combined stack size .* too large|loop is not bounded/;

export function isComplexityFailure(message: string): boolean {
  return complexityFailure.test(message);
}

export interface HeatMark {
  file: string;
  line: number;
  /** 1 (cool) .. 5 (hottest), by share of the hottest line. */
  level: number;
  /** "543 insns · 65%". */
  label: string;
}

const percent = (share: number) => `${share >= 0.1 ? Math.round(share * 100) : (share * 100).toFixed(1)}%`;

export function heatMarks(heat: LineHeat): HeatMark[] {
  const hottest = heat.rows[0]?.insns ?? 0;
  return heat.rows.map((row) => ({
    file: row.file,
    line: row.line,
    level: hottest > 0 ? Math.max(1, Math.ceil((row.insns / hottest) * 5)) : 1,
    label: `${row.insns.toLocaleString('en-US')} insns · ${percent(row.share)}`,
  }));
}

/** The sorted table: hottest line first, with its share and the code the kernel quoted. */
export function heatTable(heat: LineHeat, title: string, limit = 200): string {
  const rows: LineHeatRow[] = heat.rows.slice(0, limit);
  const width = (values: string[]) => Math.max(...values.map((v) => v.length));
  const where = rows.map((r) => `${r.file}:${r.line}`);
  const insns = rows.map((r) => r.insns.toLocaleString('en-US'));
  const shares = rows.map((r) => percent(r.share));
  const [w1, w2, w3] = [width(['line', ...where]), width(['insns', ...insns]), width(['share', ...shares])];
  const out = [
    `; ${title}`,
    `; ${heat.total.toLocaleString('en-US')} instructions processed` +
      (heat.unattributed > 0 ? ` (${heat.unattributed.toLocaleString('en-US')} before any line info)` : '') +
      `, at ${heat.rows.length} source lines, hottest first.`,
    '',
    `${'line'.padEnd(w1)}  ${'insns'.padStart(w2)}  ${'share'.padStart(w3)}  code`,
    ...rows.map((r, i) => `${where[i].padEnd(w1)}  ${insns[i].padStart(w2)}  ${shares[i].padStart(w3)}  ${r.code}`),
  ];
  if (heat.rows.length > limit) out.push(`; … ${heat.rows.length - limit} cooler lines left out`);
  return out.join('\n') + '\n';
}
