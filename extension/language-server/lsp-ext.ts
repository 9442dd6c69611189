// The language server's own LSP messages, shared by the server and the extension's language client. The
// server never starts a helper: verification and kernel statistics are asked of the extension host, which
// owns the one privileged helper. Method names are plain strings with typed params and results, because the
// client and server packages each bring their own copy of the jsonrpc type classes.
import type { VerifyOutcome } from '../toolchain/verify';

export interface VerifyParams {
  objectPath: string;
  /** The C source the object was built from (absolute). */
  source: string;
  includeDirs: string[];
}

/** Server -> client: verify a built object through the helper (verifyOnly, skipRefused). */
export const VerifyRequest = 'ebpf/verify';
export type VerifyResult = VerifyOutcome;

export interface RunStatsParams {
  source: string;
}

export interface ProgramRunStats {
  program: string;
  id: number;
  runCount: number;
  runTimeNs: number;
}

/** Server -> client: run statistics of programs loaded from this source (empty when none is loaded). */
export const RunStatsRequest = 'ebpf/runStats';

/** Client -> server: something was loaded or unloaded; lenses showing run counts are stale. */
export const KernelChangedNotification = 'ebpf/kernelChanged';

/** Client -> server: re-check a source now (the build command, a load). */
export const CheckRequest = 'ebpf/check';
export interface CheckParams {
  uri: string;
}
export interface CheckResponse {
  built: boolean;
  objectPath?: string;
}

/** The build settings the server uses, sent as initializationOptions and on change. */
export interface BuildSettings {
  clangPath?: string;
  /** Already resolved to absolute paths by the client. */
  includeDirs: string[];
  defines: string[];
  /** Where objects go; next to each source (as a Makefile puts them) when unset. */
  outDir?: string;
  /** Build + verify on save (ebpfStudio.build.onSave). */
  onSave: boolean;
}

/** Client -> server: BuildSettings changed. */
export const SettingsNotification = 'ebpf/settings';
