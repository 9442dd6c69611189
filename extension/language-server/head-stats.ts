// The verifier's statistics of a source as committed (git HEAD), for the lens's "(+37 since HEAD)": the
// HEAD version is written to a temporary directory, built with the source's own directory on the include
// path (so its local headers resolve as before), verified like any check, and remembered per blob, so
// it is built once per commit. Only for files git tracks; nothing is written next to the source.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import type { CompileOptions } from '../toolchain/compile';
import { checkSource, type Verifier } from '../toolchain/verify';

const run = promisify(execFile);

/** Instructions processed per program at HEAD. */
export type HeadInsns = Map<string, number>;

const byBlob = new Map<string, Promise<HeadInsns | undefined>>();

async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    return (await run('git', ['-C', dir, ...args], { maxBuffer: 64 << 20 })).stdout;
  } catch {
    return undefined;
  }
}

/** The HEAD blob of a tracked file, or undefined (untracked, not a repository, no commits, no git). */
export async function headBlob(source: string): Promise<string | undefined> {
  const dir = path.dirname(source);
  const name = `HEAD:./${path.basename(source)}`;
  return (await git(dir, ['rev-parse', '--verify', '--quiet', name]))?.trim() || undefined;
}

/** Builds and verifies the HEAD version of `source`; undefined when there is none or it did not verify. */
export function headInsns(source: string, verifier: Verifier, options: CompileOptions): Promise<HeadInsns | undefined> {
  return headBlob(source).then((blob) => {
    if (!blob) return undefined;
    const key = `${source}\0${blob}`;
    let pending = byBlob.get(key);
    if (!pending) {
      pending = buildAtHead(source, blob, verifier, options).catch(() => undefined);
      byBlob.set(key, pending);
      // A failed attempt (no helper yet) is tried again on the next check.
      void pending.then((r) => r === undefined && byBlob.delete(key));
    }
    return pending;
  });
}

async function buildAtHead(
  source: string,
  blob: string,
  verifier: Verifier,
  options: CompileOptions,
): Promise<HeadInsns | undefined> {
  const text = await git(path.dirname(source), ['cat-file', 'blob', blob]);
  if (text === undefined) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpf-studio-head-'));
  try {
    const copy = path.join(dir, path.basename(source));
    fs.writeFileSync(copy, text);
    const result = await checkSource(verifier, copy, {
      ...options,
      outDir: dir,
      includeDirs: [path.dirname(source), ...(options.includeDirs ?? [])],
    });
    if (!result.built || result.unverified) return undefined;
    const insns: HeadInsns = new Map();
    for (const p of result.programs)
      if (p.status === 'verified' && p.stats.insnsProcessed !== undefined) insns.set(p.program, p.stats.insnsProcessed);
    return insns;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
