// How many instructions the verifier processed at each source line: where a complexity failure ("program
// is too large", "too many states", "infinite loop detected") spends its budget. Every instruction line
// of the log counts once at the C line it belongs to (the nearest `; code @ file:line` before it, as the
// trace attributes steps), and so does every pruned visit (`N: safe`, `from X to Y: safe`), which the
// kernel also counts as processed; at level 2 the total matches `processed N insns`. A level 1 log
// holds only the path that failed, so its table covers that path. Pure: no I/O.
import { sourceAnnotationAt } from './verifier-trace-failure';

export interface LineHeatRow {
  file: string;
  line: number;
  /** The source text the kernel quoted. */
  code: string;
  /** Instructions processed at this line. */
  insns: number;
  /** insns / total, 0..1. */
  share: number;
}

export interface LineHeat {
  /** Hottest first; ties by file, then line. */
  rows: LineHeatRow[];
  /** Instructions counted, attributed or not. */
  total: number;
  /** Instructions before any line annotation (objects without line info). */
  unattributed: number;
}

const pruned = /^(?:(\d+): safe|from \d+ to (\d+)(?: \(speculative execution\))?: safe)$/;

export function lineHeat(log: string): LineHeat {
  const rows: LineHeatRow[] = [];
  const index = new Map<string, number>();
  let insnRow = new Int32Array(1024).fill(-1);
  let current = -1;
  let total = 0;
  let unattributed = 0;
  const count = (row: number) => {
    total++;
    if (row < 0) unattributed++;
    else rows[row].insns++;
  };

  const len = log.length;
  let pos = 0;
  while (pos < len) {
    let eol = log.indexOf('\n', pos);
    if (eol < 0) eol = len;
    let end = eol;
    if (end > pos && log.charCodeAt(end - 1) === 13) end--;
    const c0 = log.charCodeAt(pos);
    if (c0 === 59) {
      const at = sourceAnnotationAt(log, pos, end);
      if (at) {
        const key = `${at.file}:${at.line}`;
        let row = index.get(key);
        if (row === undefined) {
          row = rows.push({ file: at.file, line: at.line, code: at.code, insns: 0, share: 0 }) - 1;
          index.set(key, row);
        }
        current = row;
      }
    } else if (c0 >= 48 && c0 <= 57) {
      let i = pos;
      let n = 0;
      while (i < end) {
        const c = log.charCodeAt(i);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        i++;
      }
      if (
        log.charCodeAt(i) === 58 &&
        log.charCodeAt(i + 1) === 32 &&
        log.charCodeAt(i + 2) === 40 &&
        log.charCodeAt(i + 5) === 41
      ) {
        if (n >= insnRow.length) {
          const bigger = new Int32Array(Math.max(n + 1, insnRow.length * 2)).fill(-1);
          bigger.set(insnRow);
          insnRow = bigger;
        }
        insnRow[n] = current;
        count(current);
      } else if (log.startsWith('safe', i + 2) && i + 6 === end) {
        count(n < insnRow.length && insnRow[n] >= 0 ? insnRow[n] : current);
      }
    } else if (c0 === 102 && log.startsWith('from ', pos) && log.endsWith(': safe', end)) {
      const m = pruned.exec(log.slice(pos, end));
      if (m) {
        const n = Number(m[2]);
        count(n < insnRow.length && insnRow[n] >= 0 ? insnRow[n] : current);
      }
    }
    pos = eol + 1;
  }

  for (const row of rows) row.share = total > 0 ? row.insns / total : 0;
  return {
    rows: rows
      .filter((r) => r.insns > 0)
      .sort((a, b) => b.insns - a.insns || a.file.localeCompare(b.file) || a.line - b.line),
    total,
    unattributed,
  };
}
