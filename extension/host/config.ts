// Every eBPF Studio setting, read through one typed getter each (declared in package.json
// contributes.configuration). Reads are live: call the getter when the value is needed.
import * as vscode from 'vscode';
import type { ElevationSetting } from './client/elevation';
import { LIMITS } from '../protocol/methods';

const SECTION = 'ebpfStudio';

function get<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration(SECTION).get<T>(key, fallback);
}

function stringList(key: string): string[] {
  const value = get<unknown>(key, []);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
}

function positiveInt(key: string, fallback: number, min: number): number {
  const value = get<unknown>(key, fallback);
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(min, Math.floor(value)) : fallback;
}

export const config = {
  /** "auto" | "pkexec" | "sudo" | "none", or a custom command the helper's argv is appended to. */
  helperElevation(): ElevationSetting {
    return get<string>('helper.elevation', 'auto').trim() || 'auto';
  },
  /** Empty: find clang on PATH. */
  clangPath(): string | undefined {
    return get<string>('clangPath', '').trim() || undefined;
  },
  buildIncludeDirs(): string[] {
    return stringList('build.includeDirs');
  },
  buildDefines(): string[] {
    return stringList('build.defines');
  },
  buildOnSave(): boolean {
    return get<boolean>('build.onSave', true);
  },
  programsRefreshIntervalMs(): number {
    return positiveInt('programs.refreshIntervalMs', 2000, 250);
  },
  traceMaxLines(): number {
    // The ring is allocated up front: bounded (package.json declares the same maximum).
    return Math.min(LIMITS.traceMaxLines, positiveInt('trace.maxLines', 10000, 100));
  },
  /** Register states as inline values while debugging the verifier's path. */
  debuggerInlineValues(): boolean {
    return get<boolean>('debugger.inlineValues', true);
  },
  /** Whether a configuration change touches one of the given keys (relative to "ebpfStudio."). */
  affects(event: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
    return keys.some((k) => event.affectsConfiguration(`${SECTION}.${k}`));
  },
};
