// Build + verify: compiles a BPF C file, has the helper load every program without attaching it, and
// turns what clang and the verifier said into diagnostics on source lines. The CLI (`ebpf-studio check`)
// and the editor use this same code, so they always agree.
import * as fs from 'fs';
import * as path from 'path';
import { parseVerifierFailure, SourceLocation } from '../formats/verifier-log';
import type { RequestType } from 'vscode-jsonrpc';
import { HelperError, Methods, VerifierStats } from '../protocol/methods';
import { compileBpf, CompileOptions } from './compile';
import { libbpfRsCrateOf } from './cargo';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'note';
  message: string;
  /** Who said it: clang, the kernel's verifier, or eBPF Studio about the verification itself. */
  origin?: 'clang' | 'verifier' | 'ebpf-studio';
  /** Source lines on the verifier's path to the failure. */
  related?: { file: string; line: number; message: string }[];
}

export type ProgramVerdict =
  | { program: string; section: string; status: 'verified'; stats: VerifierStats }
  | { program: string; section: string; status: 'rejected'; message: string; log: string; instruction?: string }
  | { program: string; section: string; status: 'refused'; message: string };

export interface CheckResult {
  source: string;
  objectPath?: string;
  built: boolean;
  programs: ProgramVerdict[];
  diagnostics: Diagnostic[];
  buildMs: number;
  verifyMs: number;
  /** Why the programs were not verified (the helper is not running), when they were not. */
  unverified?: string;
}

/** The verifier names files as the object's line info does (often a bare name): find it on disk. */
export function resolveSourceFile(reported: string, source: string, includeDirs: string[] = []): string {
  if (path.isAbsolute(reported) && fs.existsSync(reported)) return reported;
  for (const dir of [path.dirname(source), ...includeDirs]) {
    const candidate = path.resolve(dir, reported);
    if (fs.existsSync(candidate)) return candidate;
  }
  const rust = resolveCrateFile(reported, source);
  if (rust) return rust;
  return path.basename(reported) === path.basename(source) ? source : reported;
}

/**
 * Rust objects (aya) name files relative to their crate ("src/main.rs") or by the absolute path of the
 * machine that built them, and sit deep in target/bpfel-unknown-none/<profile>/: look in the folders
 * above the object for the path, then for its tail from a "src" folder on.
 */
function resolveCrateFile(reported: string, source: string): string | undefined {
  const parts = reported.split(/[\\/]/).filter(Boolean);
  const src = parts.lastIndexOf('src');
  const tails = [
    ...new Set([
      path.isAbsolute(reported) ? '' : reported,
      src >= 0 ? parts.slice(src).join('/') : '',
      // The verifier's log names a line's file by its base name only ("main.rs").
      parts.length === 1 && reported.endsWith('.rs') ? `src/${reported}` : '',
    ]),
  ].filter(Boolean);
  if (tails.length === 0) return undefined;
  let dir = path.dirname(path.resolve(source));
  for (let depth = 0; depth < 8; depth++) {
    for (const tail of tails) {
      const candidate = path.join(dir, tail);
      if (fs.existsSync(candidate)) return candidate;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** The line of `SEC("section")` that declares a program, for messages that belong to no instruction. */
export function sectionLine(sourceText: string, section: string): number {
  const lines = sourceText.split('\n');
  const index = lines.findIndex((l) => l.includes(`SEC("${section}")`));
  return index >= 0 ? index + 1 : 1;
}

function locationDiagnostic(location: SourceLocation, source: string, includeDirs: string[]) {
  return { file: resolveSourceFile(location.file, source, includeDirs), line: location.line };
}

/** Verifies each program of a built object; a rejected or refused program does not hide the others. */
/** What verifyObject needs of a helper connection (the CLI's HelperClient is one); no client code is bundled. */
export interface HelperRequester {
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
}

export async function verifyObject(
  client: HelperRequester,
  objectPath: string,
  source: string,
  includeDirs: string[] = [],
): Promise<{ programs: ProgramVerdict[]; diagnostics: Diagnostic[] }> {
  const spec = await client.request(Methods.describe, { path: objectPath });
  const sourceText = fs.existsSync(source) ? fs.readFileSync(source, 'utf8') : '';
  const verdicts: ProgramVerdict[] = [];
  const diagnostics: Diagnostic[] = [];
  let remaining = spec.programs.filter((p) => p.autoload).map((p) => p.name);
  if (spec.programs.length === 0) {
    diagnostics.push({
      file: source,
      line: 1,
      column: 1,
      severity: 'warning',
      origin: 'ebpf-studio',
      message: 'no programs (no SEC("...") functions): nothing to verify or load',
    });
  }
  const sectionOf = (name: string) => spec.programs.find((p) => p.name === name)?.section ?? '';

  while (remaining.length > 0) {
    try {
      const result = await client.request(Methods.load, {
        path: objectPath,
        programs: remaining,
        verifyOnly: true,
        skipRefused: true,
      });
      for (const program of result.programs) {
        if (program.loaded) {
          verdicts.push({ program: program.name, section: program.section, status: 'verified', stats: program.stats });
        } else {
          const message = program.attachNote ?? 'refused by this kernel';
          verdicts.push({ program: program.name, section: program.section, status: 'refused', message });
          diagnostics.push({
            file: source,
            line: sectionLine(sourceText, program.section),
            column: 1,
            severity: 'error',
            message: `${program.name}: cannot be verified on this kernel: ${message}`,
          });
        }
      }
      break;
    } catch (error) {
      if (!(error instanceof HelperError)) throw error;
      const data = error.data;
      if (data.kind === 'VerifierRejected') {
        const failure = parseVerifierFailure(data.log);
        verdicts.push({
          program: data.program,
          section: sectionOf(data.program),
          status: 'rejected',
          message: data.message,
          log: data.log,
          instruction: failure?.instruction,
        });
        const at = failure?.location
          ? locationDiagnostic(failure.location, source, includeDirs)
          : { file: source, line: sectionLine(sourceText, sectionOf(data.program)) };
        diagnostics.push({
          ...at,
          column: 1,
          severity: 'error',
          // One line, so terminals, problem matchers and CI logs keep it together.
          message: `verifier rejected ${data.program}: ${data.message.split('\n').filter(Boolean).join('; ')}${failure?.instruction ? ` (at insn ${failure.instruction})` : ''}`,
          related: failure?.path
            .slice(-5)
            .map((p) => ({ ...locationDiagnostic(p, source, includeDirs), message: `on the path: ${p.code}` })),
        });
        remaining = remaining.filter((p) => p !== data.program);
      } else if (data.kind === 'NotSupported' && data.program) {
        // Every program left was refused (skipRefused only skips while others remain): report this one
        // on its SEC line and go on with the rest.
        const refused = data.program;
        verdicts.push({ program: refused, section: sectionOf(refused), status: 'refused', message: error.message });
        diagnostics.push({
          file: source,
          line: sectionLine(sourceText, sectionOf(refused)),
          column: 1,
          severity: 'error',
          message: `${refused}: cannot be verified on this kernel: ${error.message}`,
        });
        remaining = remaining.filter((p) => p !== refused);
      } else {
        diagnostics.push({ file: source, line: 1, column: 1, severity: 'error', message: error.message });
        break;
      }
    }
  }
  return { programs: verdicts, diagnostics };
}

/** What verifying a built object gave, or why it could not be verified (no helper). */
export type VerifyOutcome = { programs: ProgramVerdict[]; diagnostics: Diagnostic[] } | { unavailable: string };

/**
 * Verifies a built object. The CLI passes a function over its own helper client; the language server one
 * that asks the extension host (which owns the helper) over LSP, so both run verifyObject().
 */
export type Verifier = (objectPath: string, source: string, includeDirs: string[]) => Promise<VerifyOutcome>;

export async function checkSource(
  verifier: Verifier | undefined,
  source: string,
  options: CompileOptions = {},
): Promise<CheckResult> {
  if (!fs.existsSync(source)) throw new Error(`No such file: ${source}`);
  // A libbpf-rs crate's src/bpf/*.bpf.c find their headers as libbpf-cargo's build does.
  const crate = libbpfRsCrateOf(source);
  if (crate) options = { ...options, includeDirs: [...(options.includeDirs ?? []), ...crate.includeDirs] };
  // An object is verified as it is: handing it to clang would "link" it and build nothing.
  const build = source.endsWith('.o')
    ? { ok: true, objectPath: source, diagnostics: [], stderr: '', durationMs: 0 }
    : await compileBpf(source, options);
  const diagnostics: Diagnostic[] = build.diagnostics.map((d) => ({
    ...d,
    origin: 'clang' as const,
    file: path.resolve(path.dirname(source), d.file),
  }));
  const result: CheckResult = {
    source,
    built: build.ok,
    programs: [],
    diagnostics,
    buildMs: build.durationMs,
    verifyMs: 0,
  };
  if (!build.ok) {
    if (diagnostics.length === 0)
      diagnostics.push({
        file: source,
        line: 1,
        column: 1,
        severity: 'error',
        message: build.stderr.trim() || 'clang failed',
      });
    return result;
  }
  result.objectPath = build.objectPath;
  if (verifier) {
    const started = performance.now();
    const includeDirs = options.includeDirs ?? [];
    const verified = await verifier(build.objectPath, source, includeDirs);
    if ('unavailable' in verified) {
      result.unverified = verified.unavailable;
      result.diagnostics.push({
        file: source,
        line: 1,
        column: 1,
        severity: 'note',
        origin: 'ebpf-studio',
        message: `not verified: ${verified.unavailable}`,
      });
    } else {
      result.programs = verified.programs;
      result.diagnostics.push(...verified.diagnostics.map((d) => ({ origin: 'verifier' as const, ...d })));
    }
    result.verifyMs = performance.now() - started;
  }
  return result;
}

/** `file:line:col: severity: message`, as compilers print, so terminals and CI link to the line. */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const file = path.relative(cwd, d.file) || d.file;
  const related = (d.related ?? [])
    .map((r) => `\n${path.relative(cwd, r.file) || r.file}:${r.line}:1: note: ${r.message}`)
    .join('');
  return `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${related}`;
}
