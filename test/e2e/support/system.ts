// What the e2e and integration tiers check outside VS Code: the kernel's programs and the pins under
// bpffs (every test ends with both as they were), the helper processes in /proc, and forks to make
// fork_trace count and print. Plain Node: used from the mocha process and from inside the extension host.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface BpftoolProgram {
  id: number;
  name?: string;
  type: string;
}

/** `bpftool -j prog list`. */
export function kernelPrograms(): BpftoolProgram[] {
  return JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' })) as BpftoolProgram[];
}

/** Every path under /sys/fs/bpf (pins and directories), sorted. */
export function bpffsPins(root = '/sys/fs/bpf'): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // Removed meanwhile, or bpffs not mounted.
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      out.push(full);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out.sort();
}

/** What a test must leave as it found it: the kernel's program ids and bpffs's pins. */
export interface KernelBaseline {
  programIds: number[];
  /** "id name (type)" of each program, for messages. */
  programs: Record<number, string>;
  /** Pinned objects (not directories: the helper keeps its prefix directory). */
  pins: string[];
}

export function kernelBaseline(): KernelBaseline {
  const programs = kernelPrograms();
  return {
    programIds: programs.map((p) => p.id).sort((a, b) => a - b),
    programs: Object.fromEntries(programs.map((p) => [p.id, `${p.id} ${p.name ?? '(no name)'} (${p.type})`])),
    pins: bpffsPins().filter((p) => !fs.statSync(p, { throwIfNoEntry: false })?.isDirectory()),
  };
}

/**
 * Throws unless the kernel holds the same programs (by id) and bpffs the same pins as in `before`.
 * The helper releases a load asynchronously after answering, so this waits up to `timeoutMs` for it.
 */
export async function expectKernelAsBefore(before: KernelBaseline, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = kernelBaseline();
    const extra = now.programIds.filter((id) => !before.programIds.includes(id));
    const gone = before.programIds.filter((id) => !now.programIds.includes(id));
    const newPins = now.pins.filter((p) => !before.pins.includes(p));
    if (extra.length === 0 && gone.length === 0 && newPins.length === 0) return;
    if (Date.now() > deadline) {
      const what = [
        extra.length ? `programs left in the kernel: ${extra.map((id) => now.programs[id]).join(', ')}` : '',
        gone.length ? `programs gone that were there before: ${gone.map((id) => before.programs[id]).join(', ')}` : '',
        newPins.length ? `pins left under /sys/fs/bpf: ${newPins.join(', ')}` : '',
      ].filter(Boolean);
      throw new Error(`the kernel is not as before the test: ${what.join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Runs /bin/true `n` times from this process, so sched_process_fork fires with this process as the
 * parent (fork_trace keys forks_by_parent by the forking thread: spawnSync forks on the main thread,
 * whose id is process.pid).
 */
export function forkChildren(n: number): void {
  for (let i = 0; i < n; i++) execFileSync('/bin/true');
}

export interface ProcessEntry {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** pid, ppid and command line of every process, from /proc. */
export function processes(): ProcessEntry[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        // The command name in parentheses may hold spaces; the fields after it do not.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
        return [{ pid: Number(name), ppid, cmdline }];
      } catch {
        return []; // Exited meanwhile.
      }
    });
}

/** Processes running the helper bundle of the extension installed at `extensionPath`. */
/** Helper processes started from `extensionPath`'s dist/helper.js, or from an installed copy under
 * `extensionPath` when it is an install root (<root>/<version>/helper.js). */
export function helperProcesses(extensionPath: string): ProcessEntry[] {
  const installed = fs.existsSync(path.join(extensionPath, 'dist')) ? undefined : extensionPath + '/';
  const script = installed ?? path.join(extensionPath, 'dist', 'helper.js');
  // The helper's own argv ends with the script; sudo's argv names it too, so match the runtime's argv0.
  return processes().filter(
    (p) =>
      p.cmdline.includes(script) &&
      (!installed || p.cmdline.includes('/helper.js')) &&
      !/^(\S*\/)?(sudo|pkexec|env|sh) /.test(p.cmdline),
  );
}

/** Polls `probe` until it returns something other than undefined; throws naming `what` after timeoutMs. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
