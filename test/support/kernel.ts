// Shared by the kernel and security tiers: what the kernel holds before and after a test, the real
// capability checks behind a skip, and building samples with the product's own compiler.
import { strict as assert } from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileBpf } from '../../extension/toolchain/compile';

export const repoRoot = path.join(__dirname, '..', '..');
export const helperScript = path.join(repoRoot, 'dist', 'helper.js');
export const cliScript = path.join(repoRoot, 'dist', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `ebpf-studio` CLI as a user does; its exit code is returned, never thrown. */
export function runCli(args: string[], cwd = repoRoot): Promise<CliRun> {
  return new Promise((resolve) =>
    execFile(process.execPath, [cliScript, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

export interface KernelObjects {
  progs: number[];
  maps: number[];
  links: number[];
}

function ids(kind: 'prog' | 'map' | 'link'): number[] {
  const out = execFileSync('bpftool', ['-j', kind, 'list'], { encoding: 'utf8' });
  return (JSON.parse(out || '[]') as { id: number }[]).map((o) => o.id).sort((a, b) => a - b);
}

/** What `bpftool prog/map/link list` shows: a test must leave exactly this behind. */
export function kernelObjects(): KernelObjects {
  return { progs: ids('prog'), maps: ids('map'), links: ids('link') };
}

/**
 * Skips a test when the machine truly lacks what it needs, printing why; under
 * EBPF_STUDIO_REQUIRE_KERNEL=1 (CI) the missing capability fails the test instead.
 */
export function requireCapability(context: Mocha.Context, available: boolean, why: string): void {
  if (available) return;
  if (process.env.EBPF_STUDIO_REQUIRE_KERNEL === '1') throw new Error(`required kernel capability missing: ${why}`);
  console.log(`      skipped: ${why}`);
  context.skip();
}

export function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ebpf-studio-${prefix}-`));
}

/** Builds a sample (or any BPF C file) into a temporary directory with the product's compiler. */
export async function buildObject(source: string, outDir = tempDir('build')): Promise<string> {
  const result = await compileBpf(source, { outDir });
  if (!result.ok) throw new Error(`building ${source} failed:\n${result.stderr}`);
  return result.objectPath;
}

export function samplePath(name: string): string {
  return path.join(repoRoot, 'bpf-samples', name, `${name}.bpf.c`);
}

/** Polls until `check` returns a value (not undefined) or the time is up; the assertion follows. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Forks `n` children of this process (each runs /bin/true), so sched_process_fork fires n times. */
export function forkChildren(n: number): void {
  for (let i = 0; i < n; i++) execFileSync('/bin/true');
}

/**
 * Asserts that the kernel holds exactly `baseline` again. The kernel frees programs and maps after
 * their last reference goes (deferred work), so the comparison waits a moment for that to happen.
 */
export async function expectKernelAsBefore(
  baseline: KernelObjects,
  message = 'the kernel holds the same programs, maps and links as before',
): Promise<void> {
  const same = () => (JSON.stringify(kernelObjects()) === JSON.stringify(baseline) ? true : undefined);
  await eventually(same, 5000);
  assert.deepStrictEqual(kernelObjects(), baseline, message);
}
