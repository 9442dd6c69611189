// CodeLens text over each SEC(...) function: the verifier's verdict and statistics from the last check,
// and, when a load from this source runs, its run count and average run time. Pure.
import type { SecFunction } from '../formats/bpf-source';
import type { ProgramVerdict } from '../toolchain/verify';
import type { ProgramRunStats } from './lsp-ext';

// The SEC(...) locator is shared with the toolchain, which puts each verdict on the same line.
export { findSecFunctions } from '../formats/bpf-source';
export type { SecFunction } from '../formats/bpf-source';

/** " (+37 since HEAD)", " (−12 since HEAD)", " (= HEAD)", or "" when HEAD has no count for it. */
export function sinceHead(now: number | undefined, head: number | undefined): string {
  if (now === undefined || head === undefined) return '';
  const delta = now - head;
  if (delta === 0) return ' (= HEAD)';
  return ` (${delta > 0 ? '+' : '−'}${Math.abs(delta)} since HEAD)`;
}

function verdictTitle(verdict: ProgramVerdict, headInsns?: number): string {
  switch (verdict.status) {
    case 'verified': {
      const s = verdict.stats;
      const parts = ['$(pass) verified'];
      if (s.insnsProcessed !== undefined)
        parts.push(`${s.insnsProcessed} insns processed${sinceHead(s.insnsProcessed, headInsns)}`);
      if (s.totalStates !== undefined) parts.push(`${s.totalStates} states (peak ${s.peakStates ?? '?'})`);
      if (s.stackDepth) parts.push(`stack ${s.stackDepth.join('+')} B`);
      if (s.verificationTimeUsec !== undefined) parts.push(`${s.verificationTimeUsec} µs`);
      return parts.join(' · ');
    }
    case 'rejected':
      return `$(error) rejected by the verifier: ${verdict.message.split('\n')[0]}`;
    case 'refused':
      return `$(circle-slash) cannot be verified on this kernel: ${verdict.message}`;
    case 'failed':
      return `$(error) ${verdict.message}`;
  }
}

export interface LensText {
  line: number;
  title: string;
  program: string;
}

/** One lens per SEC function with a verdict, plus one with run statistics when it is loaded. `headInsns`:
 *  instructions processed per program in the git HEAD version, for the change since. */
export function lensTexts(
  functions: SecFunction[],
  verdicts: ProgramVerdict[],
  runStats: ProgramRunStats[],
  headInsns?: ReadonlyMap<string, number>,
): LensText[] {
  const lenses: LensText[] = [];
  for (const fn of functions) {
    const verdict = verdicts.find((v) => v.program === fn.name);
    if (verdict)
      lenses.push({ line: fn.line, title: verdictTitle(verdict, headInsns?.get(fn.name)), program: fn.name });
    const stats = runStats.find((r) => r.program === fn.name);
    if (stats) {
      const average =
        stats.runCount > 0 ? `avg ${Math.round(stats.runTimeNs / stats.runCount)} ns` : 'no run time (stats off)';
      lenses.push({
        line: fn.line,
        title: `$(pulse) loaded (id ${stats.id}): ran ${stats.runCount} times · ${average}`,
        program: fn.name,
      });
    }
  }
  // A program whose SEC function the text does not show plainly (a macro wraps it) keeps its verdict,
  // on the line the toolchain found for it.
  for (const verdict of verdicts) {
    if (functions.some((fn) => fn.name === verdict.program) || !(verdict.line > 0)) continue;
    lenses.push({ line: verdict.line - 1, title: verdictTitle(verdict), program: verdict.program });
  }
  return lenses;
}

/** "Debug path" over each SEC function: eBPF: Debug Verifier Path on that program. */
export function debugPathLenses(functions: SecFunction[]): LensText[] {
  return functions.map((fn) => ({ line: fn.line, title: '$(debug-alt) Debug path', program: fn.name }));
}
