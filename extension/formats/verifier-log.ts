// Reads the kernel verifier's log: its statistics, the message that explains a rejection, and the
// source line the failing instruction came from (the kernel prints `; <code> @ <file>:<line>` from the
// object's BTF line info). Pure: used by the helper, the language server and the CLI alike.
import type { VerifierStats } from '../protocol/methods';

export function parseVerifierStats(log: string): VerifierStats {
  const stats: VerifierStats = {};
  const processed =
    /processed (\d+) insns \(limit (\d+)\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+) mark_read (\d+)/.exec(
      log,
    );
  if (processed) {
    [
      stats.insnsProcessed,
      stats.insnsLimit,
      stats.maxStatesPerInsn,
      stats.totalStates,
      stats.peakStates,
      stats.markRead,
    ] = processed.slice(1).map(Number);
  }
  const time = /verification time (\d+) usec/.exec(log);
  if (time) stats.verificationTimeUsec = Number(time[1]);
  const stack = /stack depth ([\d+]+)/.exec(log);
  if (stack) stats.stackDepth = stack[1].split('+').filter(Boolean).map(Number);
  return stats;
}

export interface SourceLocation {
  file: string;
  line: number;
  /** The source text the kernel quoted. */
  code: string;
}

export interface VerifierFailure {
  /** The verifier's own words for why it refused, e.g. "R0 invalid mem access 'map_value_or_null'". */
  message: string;
  /** The instruction it refused, as the log prints it: "2: (79) r1 = *(u64 *)(r0 +0)". */
  instruction?: string;
  /** Where that instruction came from, when the object has line info. */
  location?: SourceLocation;
  /** The source lines on the path to it, oldest first, without repeats of the failing one. */
  path: SourceLocation[];
}

const sourceAnnotation = /^; (.*?) @ (\S+):(\d+)$/;
const instructionLine = /^(\d+): \([0-9a-f]{2}\) /;
const stateLine =
  /^(\d+: )?(R\d+(_[rwD]+)?=|frame\d+:|from \d+ to \d+|last_idx|regs=|parent |propagating|mark_precise|\s)/;
const trailer = /^(processed \d+ insns|verification time|stack depth|ERROR: |-- END PROG LOAD LOG --)/;

/** Finds what a failed verification log says went wrong. Returns undefined for an empty log. */
export function parseVerifierFailure(log: string): VerifierFailure | undefined {
  // trimEnd, not /\s+$/: the regex is quadratic in a run of blanks (seconds for a 64 KiB line).
  const lines = log.split('\n').map((l) => l.trimEnd());
  let end = lines.length;
  while (end > 0 && (lines[end - 1] === '' || trailer.test(lines[end - 1]))) end--;
  if (end === 0) return undefined;

  // The message is the run of plain lines at the end, before the statistics trailer.
  let start = end;
  while (
    start > 0 &&
    !instructionLine.test(lines[start - 1]) &&
    !sourceAnnotation.test(lines[start - 1]) &&
    !stateLine.test(lines[start - 1])
  ) {
    start--;
  }
  const messageLines = lines.slice(start, end).filter(Boolean);
  const message = messageLines.length > 0 ? messageLines.join('\n') : lines[end - 1];

  let instruction: string | undefined;
  for (let i = start - 1; i >= 0; i--) {
    if (instructionLine.test(lines[i])) {
      instruction = lines[i].replace(/\s+;.*$/, '');
      break;
    }
  }

  const path: SourceLocation[] = [];
  for (const line of lines.slice(0, start)) {
    const m = sourceAnnotation.exec(line);
    if (!m || Number(m[3]) === 0) continue;
    const location = { code: m[1], file: m[2], line: Number(m[3]) };
    const last = path[path.length - 1];
    if (!last || last.file !== location.file || last.line !== location.line) path.push(location);
  }
  const location = path.pop();
  return {
    message,
    instruction,
    location,
    path: path.filter((p) => p.file !== location?.file || p.line !== location?.line),
  };
}
