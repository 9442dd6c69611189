// Why the verifier refused a program, from its log, in both log formats: the classic one (message line
// after the last instruction, `; <code> @ <file>:<line>` annotations from BTF line info) and Linux 7.3's,
// which keeps the classic log and appends a structured report (see verifier-report-7x.ts). For a 7.3 log
// this answers what the classic reading answers for the same log without the report, so diagnostics stay
// put on new kernels; the report rides along for explanations. Pure: no I/O.
import { type DiagnosticReport, parseDiagnosticReport } from './verifier-report-7x';

export interface SourceLocation {
  file: string;
  line: number;
  /** The source text the kernel quoted. */
  code: string;
}

export interface Rejection {
  /** The verifier's own words, e.g. "R0 invalid mem access 'map_value_or_null'" (several lines at times). */
  message: string;
  /** Index of the refused instruction. */
  insn?: number;
  /** The refused instruction as the log prints it: "7: (79) r0 = *(u64 *)(r0 +0)". */
  instruction?: string;
  /** Where that instruction came from, when the object has line info. */
  location?: SourceLocation;
  /** Source lines of the log before it, oldest first, consecutive repeats and the failing line left out. */
  path: SourceLocation[];
  /** Linux 7.3's report, when the log has one. */
  report?: DiagnosticReport;
}

const sourceAnnotation = /^; (.*?) @ (\S+):(\d+)$/;
const instructionLine = /^(\d+): \([0-9a-f]{2}\) /;
const stateLine =
  /^(\d+: )?(R\d+(_[rwD]+)?=|frame\d+:|from \d+ to \d+|last_idx|regs=|parent |propagating|mark_precise|\s)/;
const trailer = /^(processed \d+ insns|verification time|stack depth|ERROR: |-- END PROG LOAD LOG --)/;

/** Finds what a verifier log says went wrong. Undefined for an empty log. */
export function parseRejection(log: string): Rejection | undefined {
  const report = parseDiagnosticReport(log);
  const classic = report ? log.slice(0, report.start) + log.slice(report.end) : log;
  const rejection = parseClassic(classic);
  if (!report) return rejection;
  const at = report.at;
  const fromReport: Rejection = rejection ?? { message: '', path: [] };
  if (!fromReport.message)
    fromReport.message = at?.message ?? [report.category, report.problem].filter(Boolean).join(': ');
  if (fromReport.instruction === undefined && at?.insn !== undefined && at.instruction) {
    fromReport.insn = at.insn;
    fromReport.instruction = `${at.insn}: ${at.instruction}`;
  }
  if (!fromReport.location && at?.file && at.line) {
    fromReport.location = { file: at.file, line: at.line, code: at.sourceText?.trim() ?? '' };
  }
  fromReport.report = report;
  return fromReport;
}

/** The classic reading alone (no 7.3 report), for logs of kernels before 7.3 and callers that want only it. */
export function parseClassic(log: string): Rejection | undefined {
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
  let insn: number | undefined;
  for (let i = start - 1; i >= 0; i--) {
    const m = instructionLine.exec(lines[i]);
    if (m) {
      instruction = lines[i].replace(/\s+;.*$/, '');
      insn = Number(m[1]);
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
    insn,
    instruction,
    location,
    path: path.filter((p) => p.file !== location?.file || p.line !== location?.line),
  };
}
