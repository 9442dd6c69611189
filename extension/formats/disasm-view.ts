// The text of eBPF: Show Instructions: translated instructions and JITed bytes of a loaded program,
// each run preceded by the source line it came from (`; <code> @ <file>:<line>`, as the verifier log
// writes it, so the same links and colours apply). Pure: takes the helper's prog/instructions result; run by the host.
import type { InstructionsResult } from '../protocol/methods';
import { decodeInstructions, formatInstruction } from './bpf-disasm';

interface LineStart {
  /** Offset in the image (instruction slots for xlated, bytes for JIT). */
  at: number;
  annotation: string;
}

function annotation(li: InstructionsResult['lineInfo'][number]): string {
  if (li.line === 0) return '; (no source line: compiler-generated)';
  return `; ${li.text.trim()} @ ${li.file}:${li.line}`;
}

/** Byte offset in the JIT image of each line info entry (functions lie back to back in the image). */
export function jitedLineOffsets(
  result: Pick<InstructionsResult, 'jitedLineAddresses' | 'jitedFunctionAddresses' | 'jitedFunctionLengths'>,
): (number | undefined)[] {
  const starts = result.jitedFunctionAddresses.map((a) => BigInt(`0x${a}`));
  const imageStart: number[] = [];
  let total = 0;
  for (const len of result.jitedFunctionLengths) {
    imageStart.push(total);
    total += len;
  }
  return result.jitedLineAddresses.map((a) => {
    const address = BigInt(`0x${a}`);
    const fn = starts.findIndex(
      (start, i) => address >= start && address < start + BigInt(result.jitedFunctionLengths[i] ?? 0),
    );
    return fn < 0 ? undefined : imageStart[fn] + Number(address - starts[fn]);
  });
}

/** Sorted, with records that repeat the previous line (other columns of it) dropped. */
function distinctStarts(starts: LineStart[]): LineStart[] {
  const sorted = [...starts].sort((a, b) => a.at - b.at);
  return sorted.filter((s, i) => i === 0 || s.annotation !== sorted[i - 1].annotation);
}

function withAnnotations<T>(
  items: T[],
  position: (item: T) => number,
  starts: LineStart[],
  render: (item: T) => string,
): string[] {
  const sorted = distinctStarts(starts);
  const out: string[] = [];
  let next = 0;
  let last = '';
  for (const item of items) {
    const at = position(item);
    while (next < sorted.length && sorted[next].at <= at) {
      // Several records for one line (different columns) read as one: print the line once per run.
      if (sorted[next].annotation !== last) out.push(sorted[next].annotation);
      last = sorted[next].annotation;
      next++;
    }
    out.push(render(item));
  }
  return out;
}

function hexRows(bytes: Buffer, from: number, to: number): { at: number; text: string }[] {
  const rows: { at: number; text: string }[] = [];
  for (let at = from; at < to; at += 16) {
    const chunk = bytes.subarray(at, Math.min(at + 16, to));
    rows.push({
      at,
      text: `${at.toString(16).padStart(5, ' ')}:  ${[...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`,
    });
  }
  return rows;
}

export function renderInstructions(result: InstructionsResult, progId: number): string {
  const xlated = Buffer.from(result.xlated, 'base64');
  const jited = Buffer.from(result.jited, 'base64');
  const insns = decodeInstructions(xlated, (imm) => result.callTargets[String(imm)]);
  const header = [
    `# eBPF Studio: instructions of ${result.name} (id ${progId}, tag ${result.tag})`,
    `# ${xlated.length / 8} translated instruction slots; ${jited.length} bytes of ${result.arch} JIT code`,
    '',
    '# ---- translated (xlated) instructions, after the verifier ----',
  ];
  if (xlated.length === 0)
    header.push('# (the kernel withheld the image: dumping needs root and kernel.kptr_restrict permits it)');
  const xlatedLines = withAnnotations(
    insns,
    (i) => i.index,
    result.lineInfo.map((li) => ({ at: li.insnOffset, annotation: annotation(li) })),
    (i) => formatInstruction(i).padStart(formatInstruction(i).length + Math.max(0, 4 - String(i.index).length), ' '),
  );
  const jitHeader = ['', `# ---- JITed ${result.arch} code, hex bytes per source line ----`];
  if (jited.length === 0) jitHeader.push('# (no JIT image: net.core.bpf_jit_enable is off, or the kernel withheld it)');
  const offsets = jitedLineOffsets(result);
  const starts = distinctStarts(
    result.lineInfo.flatMap((li, i) =>
      offsets[i] === undefined ? [] : [{ at: offsets[i]!, annotation: annotation(li) }],
    ),
  );
  const jitLines = withAnnotations(
    hexRows(jited, 0, jited.length).flatMap((row) => splitRow(row, starts, jited)),
    (r) => r.at,
    starts,
    (r) => r.text,
  );
  return [...header, ...xlatedLines, ...jitHeader, ...jitLines, ''].join('\n');
}

/** Splits a 16-byte row where a source line starts inside it, so each line's bytes stand under it. */
function splitRow(
  row: { at: number; text: string },
  starts: LineStart[],
  bytes: Buffer,
): { at: number; text: string }[] {
  const end = Math.min(row.at + 16, bytes.length);
  const cuts = [...new Set(starts.map((s) => s.at).filter((at) => at > row.at && at < end))].sort((a, b) => a - b);
  if (cuts.length === 0) return [row];
  const bounds = [row.at, ...cuts, end];
  return bounds.slice(0, -1).flatMap((from, i) => hexRows(bytes, from, bounds[i + 1]));
}
