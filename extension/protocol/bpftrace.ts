// The helper's wire for bpftrace runs: parameters (zod, as in methods.ts) and results. Pure; the method
// names are in methods.ts with the rest.
import { z } from 'zod';
import { absolutePath } from './fields';

/** A bpftrace script the helper may run: an absolute path ending in .bt. */
const bpftraceScript = absolutePath.refine((p) => p.endsWith('.bt'), { message: 'must be a bpftrace script (.bt)' });
export const BpftraceScriptParams = z.object({ path: bpftraceScript });
export type BpftraceScriptParams = z.infer<typeof BpftraceScriptParams>;
export const BpftraceRunIdParams = z.object({ run: z.number().int().min(1).max(0x7fffffff) });
export type BpftraceRunIdParams = z.infer<typeof BpftraceRunIdParams>;

/** A bpftrace process the helper started (`bpftrace -f json FILE`); its output arrives as notifications. */
export interface BpftraceRunInfo {
  run: number;
  pid: number;
  path: string;
  startedAt: number;
}

export interface BpftraceStopResult {
  exitCode: number | null;
  signal: string | null;
}

/** `bpftrace --emit-elf` of a script: parsed, checked and compiled, nothing loaded. */
export interface BpftraceCheckResult {
  ok: boolean;
  exitCode: number | null;
  /** bpftrace's stderr, its diagnostics as `FILE:LINE:COL-ENDCOL: LEVEL: message`; FILE is the path given. */
  stderr: string;
}

/** Helper -> client: output of one bpftrace run, in chunks (a chunk may end inside a line). */
export interface BpftraceOutputNotification {
  run: number;
  /** `-f json` lines. */
  stdout?: string;
  stderr?: string;
  /** Set once, last, when the process has ended. */
  exit?: BpftraceStopResult;
}
