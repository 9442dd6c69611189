// What the helper answered when it verified an object, kept per object file and reused while what it depends
// on is the same. A save that changes no code (a comment, a blank line at the end) leaves the object's
// loader-visible content (formats/object-digest.ts) as it was: nothing is asked again. A save that changes
// some programs changes their keys (formats/program-keys.ts): a verify-only load asks the helper about those
// programs alone and reuses the verdicts of the others. Only the helper's answers are kept; verifyObject()
// turns them into diagnostics against the source as it is now, so what is published is exactly what a full
// verification of this object would publish.
import * as fs from 'fs';
import type { RequestType } from 'vscode-jsonrpc';
import { loaderDigest } from '../formats/object-digest';
import { programKeys, type ProgramKey } from '../formats/program-keys';
import { Methods, type LoadParams, type LoadResult, type ProgramReport } from '../protocol/methods';
import { HelperError } from '../protocol/errors';

/** What verify.ts's HelperRequester is (declared here too: verify.ts imports this file). */
interface HelperRequester {
  request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R>;
}

type Answer = { value: unknown } | { error: HelperError };

/** One program's verdict: its report in a load's result (with that result, to answer in its shape), or the
 * rejection or refusal the helper raised for it. */
type Verdict = { report: ProgramReport; result: LoadResult } | { error: HelperError };

interface Entry {
  digest: string;
  answers: Map<string, Answer>;
  /** Per-program verdicts by program key (+ load options), across the object's versions. */
  verdicts: Map<string, Verdict>;
  keys?: Map<string, ProgramKey>;
}

/** Objects remembered at once (one per recently saved source); the least recently used is forgotten. */
const MAX_OBJECTS = 16;
/** Program verdicts remembered per object; the oldest are forgotten first. */
const MAX_VERDICTS = 256;

export interface VerifyCacheStats {
  /** Requests answered from the cache. */
  hits: number;
  /** Requests sent to the helper. */
  misses: number;
  /** Programs the helper was asked to load (verify-only loads), and programs whose verdict was reused. */
  programsLoaded: number;
  programsReused: number;
}

export class VerifyCache {
  private readonly objects = new Map<string, Entry>();
  readonly stats: VerifyCacheStats = { hits: 0, misses: 0, programsLoaded: 0, programsReused: 0 };

  /**
   * A requester that answers the requests about `objectPath` as the helper did for the same content, and
   * asks `client` otherwise. Undefined digest (not an ELF64 file): nothing is reused.
   */
  for(client: HelperRequester, objectPath: string): HelperRequester {
    let digest: string | undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = fs.readFileSync(objectPath);
      digest = loaderDigest(bytes);
    } catch {
      digest = undefined;
    }
    if (digest === undefined || !bytes) {
      this.objects.delete(objectPath);
      return client;
    }
    let entry = this.objects.get(objectPath);
    if (!entry) entry = { digest, answers: new Map(), verdicts: new Map() };
    else if (entry.digest !== digest) entry = { digest, answers: new Map(), verdicts: entry.verdicts };
    // Most recently used last.
    this.objects.delete(objectPath);
    this.objects.set(objectPath, entry);
    while (this.objects.size > MAX_OBJECTS) this.objects.delete(this.objects.keys().next().value as string);
    const object = entry;
    const objectBytes = bytes;
    const answers = entry.answers;
    const stats = this.stats;
    return {
      async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
        const modules = loadedModules();
        const key = `${type.method}\0${JSON.stringify(params)}\0${modules}`;
        const known = answers.get(key);
        if (known) {
          stats.hits++;
          if ('error' in known) throw known.error;
          return structuredClone(known.value) as R;
        }
        stats.misses++;
        const load = params as LoadParams;
        const perProgram = type.method === Methods.load.method && load.verifyOnly === true && load.programs;
        if (perProgram) {
          object.keys ??= programKeys(objectBytes);
          if (object.keys && load.programs!.every((p) => object.keys!.has(p))) {
            try {
              const value = await loadReusing(client, load, object.keys, object.verdicts, modules, stats);
              answers.set(key, { value: structuredClone(value) });
              return structuredClone(value) as R;
            } catch (error) {
              if (isVerdict(error)) answers.set(key, { error });
              throw error;
            }
          }
        }
        if (perProgram) stats.programsLoaded += load.programs!.length;
        try {
          const value = await client.request(type, params);
          answers.set(key, { value: structuredClone(value) });
          return value;
        } catch (error) {
          // A verdict (a rejection, a refusal) is the object's; anything else (the helper went away, a
          // transient failure) is asked again next time.
          if (isVerdict(error)) answers.set(key, { error });
          throw error;
        }
      },
    };
  }

  clear(): void {
    this.objects.clear();
  }
}

const isVerdict = (error: unknown): error is HelperError =>
  error instanceof HelperError && ['VerifierRejected', 'NotSupported'].includes(error.data.kind);

/** The program a load error is about, if it is about one. */
const programOf = (error: HelperError) =>
  error.data.kind === 'VerifierRejected' || error.data.kind === 'NotSupported' || error.data.kind === 'Internal'
    ? error.data.program
    : undefined;

/**
 * A verify-only load of `params.programs` answered as the helper would answer it, asking the helper only
 * about the programs without a known verdict. A load stops at the first program (in the object's order, the
 * order of `params.programs`) that is rejected or refused: the same first one is raised here, so the caller
 * sees the same sequence of answers as without reuse. A verdict depends on the program (its key) and the
 * load's options and the kernel's modules, not on which other programs are loaded with it.
 */
async function loadReusing(
  client: HelperRequester,
  params: LoadParams,
  keys: Map<string, ProgramKey>,
  verdicts: Map<string, Verdict>,
  modules: string,
  stats: VerifyCacheStats,
): Promise<LoadResult> {
  const names = params.programs!;
  const options = `${JSON.stringify({ ...params, programs: undefined })}\0${modules}`;
  // An accepted program's verdict does not depend on its line info; a rejection's log and the line it is
  // reported on do, and refusals are keyed the same way to be safe.
  const accepted = (name: string) => `${keys.get(name)!.verdict}\0${options}`;
  const raised = (name: string) => `${keys.get(name)!.lines}\0${options}`;
  const remember = (key: string, verdict: Verdict) => {
    verdicts.delete(key);
    verdicts.set(key, verdict);
    while (verdicts.size > MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value as string);
  };
  const known = new Map<string, Verdict>();
  for (const name of names) {
    const verdict = verdicts.get(accepted(name)) ?? verdicts.get(raised(name));
    if (verdict) known.set(name, verdict);
  }
  const unknown = names.filter((n) => !known.has(n));
  stats.programsReused += known.size;
  stats.programsLoaded += unknown.length;
  let asked: LoadResult | undefined;
  let failure: HelperError | undefined;
  if (unknown.length > 0) {
    try {
      asked = await client.request(Methods.load, { ...params, programs: unknown });
      for (const report of asked.programs)
        if (unknown.includes(report.name))
          remember(accepted(report.name), { report: structuredClone(report), result: structuredClone(asked) });
    } catch (error) {
      // Not about one program (the object's maps, the helper went away): the same for a full load.
      const program = error instanceof HelperError ? programOf(error) : undefined;
      if (!program || !unknown.includes(program)) throw error;
      // A program that failed for its own reason (not a verdict) is asked about again next time.
      if (isVerdict(error)) remember(raised(program), { error });
      failure = error as HelperError;
    }
  }
  for (const name of names) {
    const verdict = known.get(name);
    if (verdict && 'error' in verdict) throw verdict.error;
    if (failure && programOf(failure) === name) throw failure;
  }
  const template = asked ?? [...known.values()].map((v) => ('result' in v ? v.result : undefined)).find(Boolean);
  const programs = names.map((name) => {
    const verdict = known.get(name);
    return verdict && 'report' in verdict ? verdict.report : asked?.programs.find((p) => p.name === name);
  });
  // A helper that answered about fewer programs than asked: ask it about them all, as without reuse.
  if (!template || programs.some((p) => !p)) {
    stats.programsLoaded += known.size;
    return client.request(Methods.load, params);
  }
  return { ...structuredClone(template), programs: programs.map((p) => structuredClone(p!)) };
}

/**
 * The kernel modules loaded now: CO-RE relocations not satisfied by vmlinux are looked up in modules' BTF, so
 * a module loaded or unloaded can change a verdict. Read per request (a small file).
 */
function loadedModules(): string {
  try {
    return fs
      .readFileSync('/proc/modules', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[0])
      .join(',');
  } catch {
    return '';
  }
}

/** The cache verifyObject() uses unless told otherwise (the editor's and the CLI's verifications). */
export const defaultVerifyCache = new VerifyCache();
