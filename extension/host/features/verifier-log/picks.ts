// The choices of "eBPF: Show Verifier Log" when a source has several programs: each says how the
// verifier judged it, rejected ones first, so the user sees at once which log explains the failure. Pure.
import type { ProgramVerdict } from '../../../toolchain/verify';

export interface VerdictPick {
  label: string;
  description: string;
  detail?: string;
  program: string;
}

const ORDER: Record<ProgramVerdict['status'], number> = { rejected: 0, failed: 1, refused: 2, verified: 3 };

export function verdictPicks(programs: ProgramVerdict[]): VerdictPick[] {
  return [...programs]
    .sort((a, b) => ORDER[a.status] - ORDER[b.status])
    .map((p) => {
      switch (p.status) {
        case 'rejected':
          return {
            label: `$(error) ${p.program}`,
            description: `rejected by the verifier · ${p.section}`,
            detail: p.message,
            program: p.program,
          };
        case 'refused':
          return {
            label: `$(circle-slash) ${p.program}`,
            description: `not verified: this kernel refuses it · ${p.section}`,
            detail: p.message,
            program: p.program,
          };
        case 'failed':
          return {
            label: `$(warning) ${p.program}`,
            description: `not verified: the object did not load · ${p.section}`,
            detail: p.message,
            program: p.program,
          };
        default:
          return {
            label: `$(pass) ${p.program}`,
            description:
              `verified · ${p.section}` +
              (p.stats.insnsProcessed !== undefined ? ` · ${p.stats.insnsProcessed} instructions processed` : ''),
            program: p.program,
          };
      }
    });
}

/** The picker's title: says how many were rejected. */
export function verdictPickTitle(file: string, programs: ProgramVerdict[]): string {
  const rejected = programs.filter((p) => p.status === 'rejected').map((p) => p.program);
  return rejected.length
    ? `Verifier log of ${file}: ${rejected.join(', ')} ${rejected.length === 1 ? 'was' : 'were'} rejected`
    : `Verifier log of ${file}: every program passed`;
}
