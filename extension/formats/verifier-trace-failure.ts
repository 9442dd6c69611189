// The end of a verifier walk: the `; <code> @ <file>:<line>` annotations, the lines an accepted program's
// log may end with, and the rejection found at the tail with the path that led to it. Pure code, run by
// the host and the verifier debug adapter.
import { parseRejection, type SourceLocation } from './verifier-rejection';
import type { TraceFailure, TraceOptions } from './verifier-trace-types';
import type { VerifierTrace } from './verifier-trace-walk';

/**
 * Reads `; <code> @ <file>:<line>` from log[pos, end). Line 0 (code the compiler did not tie to a line)
 * gives undefined: such instructions stay with the line before them.
 */
export function sourceAnnotationAt(log: string, pos: number, end: number): SourceLocation | undefined {
  if (log.charCodeAt(pos) !== 59) return undefined;
  const text = pos === 0 && end === log.length ? log : log.slice(pos, end);
  const at = text.lastIndexOf(' @ ');
  if (at < 0) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= at) return undefined;
  const line = Number(text.slice(colon + 1));
  if (!Number.isInteger(line) || line <= 0) return undefined;
  return { file: text.slice(at + 3, colon), line, code: text.slice(Math.min(2, at), at).trim() };
}

/** Lines a verifier prints after an accepted program's last instruction: not a rejection. */
const benignTail = [
  /is safe for any args that match its prototype\.?$/,
  /^Func#\d+ .* is global and assumed valid\.?$/,
  /^\(\d+(,\d+)*\) frame \d+ insn \d+/,
  /live stack update done/,
  /^SCC (enter|exit)/,
  /^(\d+: |from \d+ to \d+( \(speculative execution\))?: )?safe$/,
  /^func#\d+ @\d+$/,
  /^Live regs before insn:$/,
  // With no message at all the classic reading falls back to the last line: an instruction or a state.
  /^\d+: /,
];

/** The rejection at the end of the walk: its message from the log's tail, its path from the walk. */
export function findFailure(
  log: string,
  trace: VerifierTrace,
  lastStepLineStart: number,
  verdict: TraceOptions['verdict'],
): TraceFailure | undefined {
  if (verdict === 'accepted') return undefined;
  // Only the tail is read again: the last instruction, the message, a 7.3 report and the statistics.
  const tail = lastStepLineStart >= 0 ? log.slice(lastStepLineStart) : log;
  const rejection = parseRejection(tail);
  if (!rejection) return undefined;
  const said = rejection.message.split('\n').some((l) => l.trim() !== '' && !benignTail.some((b) => b.test(l.trim())));
  if (!said && !rejection.report && verdict !== 'rejected') return undefined;
  const last = trace.length - 1;
  const lastStep = last >= 0 ? trace.step(last) : undefined;
  if (!lastStep || rejection.insn !== lastStep.insn) {
    return {
      message: rejection.message,
      path: [],
      report: rejection.report,
      ...(rejection.location ? { location: rejection.location } : {}),
    };
  }
  const location =
    lastStep.file !== undefined
      ? { file: lastStep.file, line: lastStep.line!, code: lastStep.code ?? '' }
      : rejection.location;
  const path: SourceLocation[] = [];
  for (const [first, lastInRun] of trace.pathTo(last)) {
    for (let i = first; i <= lastInRun; i++) {
      const index = trace.locationIndex(i);
      if (index < 0) continue;
      const l = trace.sourceLocations[index];
      const prev = path[path.length - 1];
      if (!prev || prev.file !== l.file || prev.line !== l.line) path.push(l);
    }
  }
  return {
    message: rejection.message,
    step: last,
    insn: lastStep.insn,
    instruction: rejection.instruction,
    location,
    path: path.filter((p) => !location || p.file !== location.file || p.line !== location.line),
    report: rejection.report,
  };
}
