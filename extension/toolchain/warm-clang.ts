// A clang started ahead of the next save. Starting clang costs more than compiling a BPF source with the
// precompiled vmlinux.h (it maps and relocates libLLVM and libclang-cpp: ~120 ms of CPU here, ~0.25 s on a
// busy machine), so the language server keeps one clang per source waiting on its standard input with the
// exact flags of that source's build; a save hands it the text and only the compile is left to wait for.
// The source goes in behind `#line 1 "<source>"`, with -main-file-name, and clang runs in the source's folder
// (where it looks first for standard input's quoted includes, as for a file's), so the same headers are found
// and diagnostics and line info name the same lines as `clang -c <source>`. Only the spelling of a header the
// source includes differs ("./x.h" for "<dir>/x.h"); diagnostics are resolved against the source's folder.
// The object comes back on standard output (a clang whose parent died writes nothing anywhere).
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

interface Waiting {
  key: string;
  child: ChildProcess;
  exited: boolean;
  stdout: Buffer[];
  stderr: string[];
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface WarmResult {
  ok: boolean;
  object: Buffer;
  stderr: string;
  signal?: string | null;
}

/** At most this many clangs wait at once (one per recently built source); the oldest is stopped. */
const MAX_WAITING = 2;

/** The command a warm clang runs for `flags` (everything but the input and output) of `source`. */
export function warmArgs(flags: string[], source: string): string[] {
  return [...flags, '-Xclang', '-main-file-name', '-Xclang', path.basename(source), '-x', 'c', '-c', '-', '-o', '-'];
}

export class WarmClangs {
  private readonly waiting = new Map<string, Waiting>();

  /** Compiles `text` as `source` with a clang started earlier for these flags, or undefined when none waits. */
  async compile(clang: string, flags: string[], source: string, text: string): Promise<WarmResult | undefined> {
    const key = this.keyOf(clang, flags, source);
    const ready = this.waiting.get(source);
    this.waiting.delete(source);
    if (!ready || ready.key !== key || ready.exited) {
      if (ready) stop(ready);
      return undefined;
    }
    ready.child.stdin!.end(`#line 1 ${JSON.stringify(source)}\n${text}`);
    const { code, signal } = await ready.done;
    return {
      ok: code === 0,
      object: Buffer.concat(ready.stdout),
      stderr: ready.stderr.join(''),
      signal,
    };
  }

  /** Starts the clang the next build of `source` with these flags will use. */
  prepare(clang: string, flags: string[], source: string): void {
    const key = this.keyOf(clang, flags, source);
    const current = this.waiting.get(source);
    if (current && current.key === key && !current.exited) return;
    if (current) stop(current);
    this.waiting.delete(source);
    const child = spawn(clang, warmArgs(flags, source), {
      cwd: path.dirname(source),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const entry: Waiting = { key, child, exited: false, stdout: [], stderr: [], done: undefined! };
    entry.done = new Promise((resolve) => {
      child.once('error', () => ((entry.exited = true), resolve({ code: null, signal: null })));
      child.once('close', (code, signal) => ((entry.exited = true), resolve({ code, signal })));
    });
    child.stdout!.on('data', (d: Buffer) => entry.stdout.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => entry.stderr.push(d));
    // A clang stopped by dispose() must not fail the writes of a compile that will never come.
    child.stdin!.on('error', () => undefined);
    this.waiting.set(source, entry);
    while (this.waiting.size > MAX_WAITING) {
      const [oldest, waiting] = this.waiting.entries().next().value as [string, Waiting];
      stop(waiting);
      this.waiting.delete(oldest);
    }
  }

  /** Stops every waiting clang. */
  dispose(): void {
    for (const waiting of this.waiting.values()) stop(waiting);
    this.waiting.clear();
  }

  /** How many clangs wait (tests). */
  get size(): number {
    return this.waiting.size;
  }

  private keyOf(clang: string, flags: string[], source: string): string {
    return JSON.stringify([clang, flags, source]);
  }
}

function stop(waiting: Waiting): void {
  if (!waiting.exited) waiting.child.kill('SIGKILL');
}
