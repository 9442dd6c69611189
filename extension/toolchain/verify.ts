// Build + verify: compiles a BPF C file, has the helper load every program without attaching it, and
// turns what clang and the verifier said into diagnostics on source lines. The CLI (`ebpf-studio check`)
// and the editor use this same code, so they always agree.
import * as fs from 'fs';
import * as path from 'path';
import { parseRejection, type SourceLocation } from '../formats/verifier-rejection';
import type { RequestType } from 'vscode-jsonrpc';
import { Methods, VerifierStats } from '../protocol/methods';
import { HelperError, HelperErrorData } from '../protocol/errors';
import { lineInProgram, mapDefinitionLine, programLine } from '../formats/bpf-source';
import { describeCoreFailure, parseCoreFailure } from '../formats/load-failure';
import { findLegacyMaps, legacyMapMessage } from '../formats/legacy-maps';
import { placeholderMaxEntries } from '../formats/map-types';
import { encodeGlobals } from './globals';
import { compileBpf, CompileOptions } from './compile';
import { libbpfRsCrateOf } from './cargo';
import { defaultVerifyCache, VerifyCache } from './verify-cache';

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
  /** What the tools said in their own words (libbpf's lines), kept beside the translated message. */
  detail?: string[];
  /** A stable code for diagnostics the editor has a quick fix for. */
  code?: string;
}

/**
 * What became of one program: verified; rejected by the verifier; refused (this kernel cannot verify it:
 * its program type is refused, or its attach target is not in this kernel); or failed (the load failed
 * before the verifier saw it). Exactly one per program of the object, placed on its SEC(...) line.
 */
export type ProgramVerdict = { program: string; section: string; file: string; line: number } & (
  | { status: 'verified'; stats: VerifierStats }
  | { status: 'rejected'; message: string; log: string; instruction?: string }
  | { status: 'refused'; message: string }
  | { status: 'failed'; message: string }
);

export interface CheckResult {
  source: string;
  objectPath?: string;
  built: boolean;
  programs: ProgramVerdict[];
  diagnostics: Diagnostic[];
  buildMs: number;
  verifyMs: number;
  /** Whether a clang started ahead of time built it (the language server's). */
  warm?: boolean;
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
  return programLine(sourceText, '', section);
}

function locationDiagnostic(location: SourceLocation, source: string, includeDirs: string[]) {
  return { file: resolveSourceFile(location.file, source, includeDirs), line: location.line };
}

/** What verifyObject needs of a helper connection (the CLI's HelperClient is one); no client code is bundled. */
export interface HelperRequester {
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
}

export interface VerifyOptions {
  /** `const volatile` (and other global) settings, NAME -> value as written in C (42, -1, 0x10, true). */
  globals?: Record<string, string>;
  /** Reuses the helper's answers for an object whose loader-visible content was verified before
   * (verify-cache.ts); defaultVerifyCache unless given, false to verify anew. */
  cache?: VerifyCache | false;
}

/** libbpf's own lines, kept beside a translated reason. */
function libbpfDetail(data: HelperErrorData): string[] | undefined {
  return 'libbpf' in data && data.libbpf && data.libbpf.length > 0 ? data.libbpf.map((l) => `libbpf: ${l}`) : undefined;
}

/**
 * Verifies every program of a built object, each on its own: a rejected or refused program, or one whose
 * attach target this kernel lacks, gets its verdict and the others are verified. Maps whose size is left
 * to the loader are verified with a placeholder size.
 */
export async function verifyObject(
  client: HelperRequester,
  objectPath: string,
  source: string,
  includeDirs: string[] = [],
  options: VerifyOptions = {},
): Promise<{ programs: ProgramVerdict[]; diagnostics: Diagnostic[] }> {
  const cache = options.cache ?? defaultVerifyCache;
  if (cache) client = cache.for(client, objectPath);
  const spec = await client.request(Methods.describe, { path: objectPath });
  const sourceText = fs.existsSync(source) ? fs.readFileSync(source, 'utf8') : '';
  const verdicts: ProgramVerdict[] = [];
  const diagnostics: Diagnostic[] = [];
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
  // Programs user space enables itself (SEC("?...")) are verified too: each gets a verdict.
  let remaining = spec.programs.map((p) => p.name);
  const sectionOf = (name: string) => spec.programs.find((p) => p.name === name)?.section ?? '';
  const at = (name: string) => ({ file: source, line: programLine(sourceText, name, sectionOf(name)) });
  const verdict = (name: string, rest: DistributiveOmit<ProgramVerdict, 'program' | 'section' | 'file' | 'line'>) =>
    verdicts.push({ program: name, section: sectionOf(name), ...at(name), ...rest } as ProgramVerdict);
  const othersNote = () => (spec.programs.length > 1 ? "; the object's other programs were verified" : '');

  const maxEntries: Record<string, number> = {};
  for (const map of spec.maps) {
    const placeholder = map.internal || map.maxEntries !== 0 ? undefined : placeholderMaxEntries(map.type);
    if (placeholder === undefined) continue;
    maxEntries[map.name] = placeholder;
    diagnostics.push({
      file: source,
      line: mapDefinitionLine(sourceText, map.name),
      column: 1,
      severity: 'note',
      origin: 'ebpf-studio',
      message:
        `${map.name}: max_entries is left to the loader; verified with a placeholder of ${placeholder} ` +
        `(set it with bpf_map__set_max_entries() before load)`,
    });
  }
  const variables = encodeGlobals(spec, options.globals ?? {});

  while (remaining.length > 0) {
    try {
      const result = await client.request(Methods.load, {
        path: objectPath,
        programs: remaining,
        verifyOnly: true,
        // Refusals come back one at a time as errors, with libbpf's lines, each set aside below.
        skipRefused: false,
        maxEntries: Object.keys(maxEntries).length > 0 ? maxEntries : undefined,
        variables: Object.keys(variables).length > 0 ? variables : undefined,
      });
      for (const program of result.programs) {
        if (program.loaded) {
          verdict(program.name, { status: 'verified', stats: program.stats });
        } else {
          const reason = withoutPrefix(program.attachNote ?? 'refused by this kernel');
          verdict(program.name, { status: 'refused', message: reason });
          diagnostics.push({
            ...at(program.name),
            column: 1,
            severity: 'warning',
            message: `${program.name}: cannot be verified on this kernel: ${reason}${othersNote()}`,
          });
        }
      }
      break;
    } catch (error) {
      if (!(error instanceof HelperError)) throw error;
      const data = error.data;
      if (data.kind === 'VerifierRejected') {
        // Both log formats: Linux 7.3's report is read as well as the classic tail.
        const failure = parseRejection(data.log);
        // libbpf poisons an instruction whose CO-RE relocation failed; the verifier stops there.
        const core = parseCoreFailure(data.log);
        const message = core ? describeCoreFailure(core) : data.message;
        verdict(data.program, { status: 'rejected', message, log: data.log, instruction: failure?.instruction });
        let where = failure?.location ? locationDiagnostic(failure.location, source, includeDirs) : at(data.program);
        const accessed = core?.member?.split('.').pop();
        const fieldLine = accessed && lineInProgram(sourceText, at(data.program).line, accessed);
        if (fieldLine) where = { file: source, line: fieldLine };
        diagnostics.push({
          ...where,
          column: 1,
          severity: 'error',
          // One line, so terminals, problem matchers and CI logs keep it together.
          message: core
            ? `${data.program}: ${message} (a CO-RE relocation failed; guard it with bpf_core_field_exists())`
            : `verifier rejected ${data.program}: ${data.message.split('\n').filter(Boolean).join('; ')}${failure?.instruction ? ` (at insn ${failure.instruction})` : ''}`,
          related: failure?.path
            .slice(-5)
            .map((p) => ({ ...locationDiagnostic(p, source, includeDirs), message: `on the path: ${p.code}` })),
          detail: core ? [`libbpf: ${core.text}`] : undefined,
        });
        remaining = remaining.filter((p) => p !== data.program);
      } else if ((data.kind === 'NotSupported' || data.kind === 'Internal') && data.program) {
        // This program was refused (its type, or its attach target is not in this kernel), or could not be
        // loaded for its own reason: its verdict on its SEC line, and on with the rest.
        const name = data.program;
        const refused = data.kind === 'NotSupported';
        const reason = withoutPrefix(error.message);
        verdict(name, { status: refused ? 'refused' : 'failed', message: reason });
        diagnostics.push({
          ...at(name),
          column: 1,
          severity: refused ? 'warning' : 'error',
          message: refused
            ? `${name}: cannot be verified on this kernel: ${reason}${othersNote()}`
            : `${name}: not verified: ${reason}`,
          detail: libbpfDetail(data),
        });
        remaining = remaining.filter((p) => p !== name);
      } else {
        // The object itself (a map, its BTF, its license) could not be loaded: the reason at the line it
        // concerns, and a verdict for each program that could therefore not be verified.
        const map = data.kind === 'Internal' ? data.map : undefined;
        const line = map ? mapDefinitionLine(sourceText, map) : 1;
        diagnostics.push({
          file: source,
          line,
          column: 1,
          severity: 'error',
          message: map ? `${map}: ${withoutPrefix(error.message)}` : withoutPrefix(error.message),
          detail: libbpfDetail(data),
        });
        const why = map ? `map \`${map}\` could not be created (line ${line})` : withoutPrefix(error.message);
        for (const name of remaining) verdict(name, { status: 'failed', message: `not verified: ${why}` });
        break;
      }
    }
  }
  // In source order, as a reader meets them.
  verdicts.sort((a, b) => a.line - b.line);
  return { programs: verdicts, diagnostics };
}

/** The helper's messages start with what failed ("Cannot load X (SEC(...)): "); the verdict is said beside X. */
function withoutPrefix(message: string): string {
  return message.replace(/^(Cannot load|Loading) \S+ \(SEC\("[^"]*"\)\)(?: failed)?:? /, '').replace(/\.$/, '');
}

/** Omit over each member of a union, so each verdict kind keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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
  let diagnostics: Diagnostic[] = build.diagnostics.map((d) => ({
    ...d,
    origin: 'clang' as const,
    file: path.resolve(path.dirname(source), d.file),
  }));
  diagnostics = legacyMapDiagnostics(source, diagnostics);
  const result: CheckResult = {
    source,
    built: build.ok,
    programs: [],
    diagnostics,
    buildMs: build.durationMs,
    verifyMs: 0,
    warm: 'warm' in build ? build.warm : undefined,
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

/**
 * One diagnostic per `struct bpf_map_def SEC("maps")` definition, saying that libbpf 1.0 removed them (the
 * editor offers a quick fix); clang's "incomplete type 'struct bpf_map_def'" errors it replaces are kept as
 * its detail.
 */
function legacyMapDiagnostics(source: string, diagnostics: Diagnostic[]): Diagnostic[] {
  if (source.endsWith('.o')) return diagnostics;
  const legacy = findLegacyMaps(fs.readFileSync(source, 'utf8'));
  if (legacy.length === 0) return diagnostics;
  const isAboutIt = (d: Diagnostic) => d.origin === 'clang' && /\bbpf_map_def\b/.test(d.message);
  const clangSaid = diagnostics.filter(isAboutIt);
  return [
    ...legacy.map((map): Diagnostic => ({
      file: source,
      line: map.start.line + 1,
      column: map.start.character + 1,
      severity: 'error',
      origin: 'ebpf-studio',
      code: LEGACY_MAP_CODE,
      message: legacyMapMessage(map.name),
      detail: [
        ...new Set(
          clangSaid.filter((d) => d.file === source && d.line === map.start.line + 1).map((d) => `clang: ${d.message}`),
        ),
      ],
    })),
    ...diagnostics.filter((d) => !isAboutIt(d)),
  ];
}

/** The code of the legacy-map diagnostic, which the language server's quick fix answers. */
export const LEGACY_MAP_CODE = 'legacy-map-definition';

/** `file:line:col: severity: message`, as compilers print, so terminals and CI link to the line. */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const file = path.relative(cwd, d.file) || d.file;
  const related = (d.related ?? [])
    .map((r) => `\n${path.relative(cwd, r.file) || r.file}:${r.line}:1: note: ${r.message}`)
    .join('');
  // Indented, so problem matchers see one diagnostic and people see libbpf's own words under it.
  const detail = (d.detail ?? []).map((l) => `\n    ${l}`).join('');
  return `${file}:${d.line}:${d.column}: ${d.severity}: ${d.message}${related}${detail}`;
}
