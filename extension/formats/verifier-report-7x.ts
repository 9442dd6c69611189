// Reads the failure report Linux 7.3 appends to a rejected program's verifier log (torvalds/linux
// ce7c9f6c599b "Redesign Verification Log"). The classic log stays as it was, message line included;
// after it the kernel prints, from kernel/bpf/diagnostics.c (torvalds/linux @ 09a0c2d6786, bpf_diag_header,
// diag_section, bpf_diag_source, diag_print_history):
//
//   Verification failed: <Category>: <Problem>        categories: Register Type Safety, Memory Safety,
//                                                      Resource Lifetime Safety, Call Type Safety,
//   Reason:                                            Execution Context Safety, Program Structure, Policy
//     <text wrapped at 100 columns, indented two spaces>
//
//   At:
//     <func> @ <file>:<line>:<col>        or  <file>:<line>:<col>  or  insn <N> (no line info)
//     Source context:
//     >>> 13 | <source line>              (two lines either side; "..." where there is no line info)
//            | <indent>^-- error: <what is wrong here>
//     Instruction context:
//     >>> 10 | (61) r2 = *(u32 *)(r6 +0)  (two instructions either side)
//
//   Causal path:                           (only for register, argument, reference and context reports)
//     <one source block as above per event, label branch/update/spilled/invalidated/acquired/released/
//      context, separated by blank lines>  or  "no retained diagnostic events on this path"
//
//   Suggestion:
//     <text>
//
// Other sections ("Active lock") use the same shape. An earlier revision of the series printed source and
// instruction lanes side by side on one line without the "Source context:"/"Instruction context:" titles;
// both layouts are read. cilium/ebpf documents the report the same way (docs: "Since Linux 7.3, the
// verifier appends a human-readable diagnostics report", PR cilium/ebpf#2111). Pure: no I/O.

/** One place the report points at: the failure itself ("At") or an event on the causal path. */
export interface ReportSite {
  /** The subprogram, when the kernel named it ("helper_a @ case.c:13:36"). */
  function?: string;
  file?: string;
  line?: number;
  column?: number;
  /** The instruction index, from the ">>>" instruction lane. */
  insn?: number;
  /** That instruction as the kernel disassembled it: "(61) r2 = *(u32 *)(r6 +0)". */
  instruction?: string;
  /** The source line the kernel quoted (tabs expanded, maybe cut short with "..."). */
  sourceText?: string;
  /** "error" for the failure; "branch", "update", "spilled", "invalidated", "acquired", ... on the path. */
  label?: string;
  /** What the caret line says: "invalid dereference of R6 (a nullable memory pointer)". */
  message?: string;
}

export interface ReportSection {
  title: string;
  /** The section's lines without the two-space indent; blank lines kept. */
  lines: string[];
}

export interface DiagnosticReport {
  /** "Register Type Safety". */
  category: string;
  /** "Invalid dereference"; absent when the header names only a category. */
  problem?: string;
  /** The Reason section, unwrapped into one paragraph. */
  reason: string;
  at?: ReportSite;
  causalPath: ReportSite[];
  /** Causal path lines that are not events: "no retained diagnostic events on this path", "N older ... not retained". */
  causalNotes: string[];
  suggestion: string;
  sections: ReportSection[];
  /** Character offsets of the report in the log: [start, end), from its "Verification failed:" line to the end of its last section. */
  start: number;
  end: number;
}

const headerLine = /^Verification failed:\s*(.*)$/;
const sectionTitle = /^([A-Z][A-Za-z ]*):$/;
/** Lines the verifier prints after the report, or that end it. */
const trailerLine = /^(processed \d+ insns|verification time |stack depth |-- END PROG LOAD LOG --)/;
const siteLine = /^(?:(\S+) @ )?(\S+?):(\d+):(\d+)$/;
const insnSiteLine = /^insn (\d+)$/;
const caretLine = /^\s*\|\s*\^-- ([A-Za-z][\w -]*?): (.*)$/;
const caretContinuation = /^\s+\|\s{4,}(\S.*)$/;
const laneLine = /^(>>> | {4})\s*(\d+) \| (.*)$/;
/** A source lane and an instruction lane on one line (the earlier layout). */
const twoLaneLine = /^(>>> | {4})\s*(\d+) \| (.*?)\s+(>>> | {4})\s*(\d+) \| (\([0-9a-f]{2}\) .*)$/;
const instructionText = /^\([0-9a-f]{2}\) /;

/** Finds the report in a verifier log; undefined for logs of kernels before 7.3 or of accepted programs. */
export function parseDiagnosticReport(log: string): DiagnosticReport | undefined {
  const at = findReportStart(log);
  if (at < 0) return undefined;
  const lines: { text: string; start: number; end: number }[] = [];
  let pos = at;
  while (pos <= log.length) {
    let eol = log.indexOf('\n', pos);
    if (eol < 0) eol = log.length;
    const text = log.slice(pos, eol).replace(/\s+$/, '');
    if (lines.length > 0 && trailerLine.test(text)) break;
    lines.push({ text, start: pos, end: eol });
    if (eol >= log.length) break;
    pos = eol + 1;
  }
  while (lines.length > 1 && lines[lines.length - 1].text === '') lines.pop();

  const header = headerLine.exec(lines[0].text);
  if (!header) return undefined;
  const colon = header[1].indexOf(': ');
  const category = (colon >= 0 ? header[1].slice(0, colon) : header[1]).trim();
  const problem = colon >= 0 ? header[1].slice(colon + 2).trim() : undefined;

  const sections: ReportSection[] = [];
  for (const line of lines.slice(1)) {
    const title = sectionTitle.exec(line.text);
    if (title) {
      sections.push({ title: title[1], lines: [] });
    } else if (sections.length > 0) {
      sections[sections.length - 1].lines.push(line.text.startsWith('  ') ? line.text.slice(2) : line.text.trimStart());
    }
  }
  const section = (title: string) => sections.find((s) => s.title === title);
  const paragraph = (title: string) =>
    (section(title)?.lines ?? [])
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ');

  const atBlocks = sourceBlocks(section('At')?.lines ?? []);
  const causal = sourceBlocks(section('Causal path')?.lines ?? []);
  return {
    category,
    problem: problem || undefined,
    reason: paragraph('Reason'),
    at: atBlocks.sites[0],
    causalPath: causal.sites,
    causalNotes: causal.notes,
    suggestion: paragraph('Suggestion'),
    sections,
    start: lines[0].start,
    end: lines[lines.length - 1].end,
  };
}

/** The log without its 7.3 report (and the blank line the kernel prints before it): the classic log. */
export function withoutDiagnosticReport(log: string): string {
  const report = parseDiagnosticReport(log);
  if (!report) return log;
  let start = report.start;
  if (start > 0 && log[start - 1] === '\n' && start > 1 && log[start - 2] === '\n') start--;
  let end = report.end;
  if (log[end] === '\n') end++;
  while (log[end] === '\n') end++;
  return log.slice(0, start) + log.slice(end);
}

function findReportStart(log: string): number {
  // The report is printed once, at the rejection, so the last header is the one; look from the end.
  const at = log.lastIndexOf('\nVerification failed: ');
  if (at >= 0) return at + 1;
  return log.startsWith('Verification failed: ') ? 0 : -1;
}

/** Splits a section into bpf_diag_source blocks (a site line, lanes, a caret line, an instruction lane). */
function sourceBlocks(lines: string[]): { sites: ReportSite[]; notes: string[] } {
  const sites: ReportSite[] = [];
  const notes: string[] = [];
  let site: ReportSite | undefined;
  let inInstructions = false;
  let lastWasCaret = false;
  for (const raw of lines) {
    const line = raw.replace(/\s+$/, '');
    if (line === '') {
      lastWasCaret = false;
      continue;
    }
    const insnOnly = insnSiteLine.exec(line);
    const place = insnOnly ? undefined : siteLine.exec(line);
    if (insnOnly || place) {
      site = insnOnly
        ? { insn: Number(insnOnly[1]) }
        : { function: place![1], file: place![2], line: Number(place![3]), column: Number(place![4]) };
      if (site.function === undefined) delete site.function;
      sites.push(site);
      inInstructions = false;
      lastWasCaret = false;
      continue;
    }
    if (!site) {
      notes.push(line.trim());
      continue;
    }
    if (line === 'Source context:') {
      inInstructions = false;
      lastWasCaret = false;
      continue;
    }
    if (line === 'Instruction context:') {
      inInstructions = true;
      lastWasCaret = false;
      continue;
    }
    const caret = caretLine.exec(line);
    if (caret) {
      site.label = caret[1];
      site.message = caret[2].trim();
      lastWasCaret = true;
      continue;
    }
    if (lastWasCaret) {
      const more = caretContinuation.exec(line);
      if (more && !laneLine.test(line)) {
        site.message = `${site.message} ${more[1].trim()}`;
        continue;
      }
    }
    lastWasCaret = false;
    const two = twoLaneLine.exec(line);
    if (two) {
      if (two[1] === '>>> ') site.sourceText = two[3].trimEnd();
      if (two[4] === '>>> ') {
        site.insn = Number(two[5]);
        site.instruction = two[6];
      }
      continue;
    }
    const lane = laneLine.exec(line);
    if (lane) {
      const isInstruction = inInstructions || instructionText.test(lane[3]);
      if (lane[1] === '>>> ') {
        if (isInstruction) {
          site.insn = Number(lane[2]);
          site.instruction = lane[3];
        } else {
          site.sourceText = lane[3];
        }
      }
      continue;
    }
    // Lines outside any block shape are notes (counts of omitted or dropped events).
    notes.push(line.trim());
  }
  return { sites, notes };
}
