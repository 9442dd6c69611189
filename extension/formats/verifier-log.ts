// Reads the kernel verifier's log: its statistics, the message that explains a rejection, and the
// source line the failing instruction came from (the kernel prints `; <code> @ <file>:<line>` from the
// object's BTF line info). Pure: used by the helper, the language server and the CLI alike.
import type { VerifierStats } from '../protocol/methods';
import { parseClassic, type Rejection, type SourceLocation } from './verifier-rejection';

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

// The classic log's rejection is read in one place, verifier-rejection.ts (which also reads Linux 7.3's
// report); these names stay for callers that want the classic reading only.
export type { SourceLocation };
export type VerifierFailure = Pick<Rejection, 'message' | 'instruction' | 'location' | 'path'>;

/** Finds what a failed verification log says went wrong. Returns undefined for an empty log. */
export function parseVerifierFailure(log: string): VerifierFailure | undefined {
  return parseClassic(log);
}
