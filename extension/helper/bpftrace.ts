// bpftrace scripts as loads of the helper's own: `/usr/bin/bpftrace -B none -f json FILE` (unbuffered:
// into a pipe bpftrace otherwise holds its output until it exits), run by absolute path
// without a shell, its stdout/stderr forwarded as batched notifications, stopped with SIGINT (bpftrace
// then prints its maps), and killed when the helper exits so nothing outlives it. Also `--emit-elf`
// into a temporary file to check a script without loading it (0.17 has no --dry-run).
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type {
  BpftraceCheckResult,
  BpftraceOutputNotification,
  BpftraceRunInfo,
  BpftraceStopResult,
} from '../protocol/bpftrace';
import { HelperFailure } from './errors';
import { readObjectFile } from './system';

export const BPFTRACE = '/usr/bin/bpftrace';
/** Each run holds probes, maps and a perf buffer per CPU: a handful is plenty. */
const MAX_RUNS = 4;
const FLUSH_INTERVAL_MS = 50;
/** Past this much unsent output the client is too slow: keep the newest. */
const MAX_PENDING_CHARS = 16 * 1024 * 1024;
/** SIGINT lets bpftrace print its maps; it gets this long before SIGKILL, plus the time per probe below. */
const STOP_GRACE_MS = 10_000;
/**
 * bpftrace detaches every probe before it prints its maps, and each tracepoint's perf event waits for
 * an RCU grace period as it closes: syscalls.bt's 362 probes took 17 s on a 2-CPU VM (47 ms each), so a
 * fixed 10 s killed it before its maps were printed. Scaled, with room for a loaded machine.
 */
const STOP_GRACE_PER_PROBE_MS = 150;
/** bpftrace -f json says how many probes it attached, in its first line. */
const ATTACHED = /"type":\s*"attached_probes",\s*"data":\s*\{\s*"probes":\s*(\d+)/;

/** How long a stopped run may take to detach and print before it is killed, unless it shows progress. */
export function stopGraceMs(probes: number): number {
  return STOP_GRACE_MS + Math.max(0, probes) * STOP_GRACE_PER_PROBE_MS;
}
/**
 * Detaching slows down with the machine's load (RCU grace periods): the same 362 probes once took over 64 s
 * on a loaded 2-CPU VM where they take 19 s idle. So a run that is still closing descriptors (each probe's
 * perf event or link) keeps STOP_GRACE_MS from its last closed one, up to STOP_LIMIT_MS in all.
 */
const STOP_PROGRESS_POLL_MS = 1000;
const STOP_LIMIT_MS = 10 * 60_000;

/** When a stopping run is killed: `deadline` moved on while its open descriptors go down. */
export function stopDeadline(
  deadline: number,
  now: number,
  started: number,
  fdsBefore: number,
  fdsNow: number,
): number {
  const progressed = fdsNow >= 0 && fdsNow < fdsBefore;
  return Math.min(started + STOP_LIMIT_MS, progressed ? Math.max(deadline, now + STOP_GRACE_MS) : deadline);
}

/** Open descriptors of a process, or -1 when it is gone. */
function openFds(pid: number | undefined): number {
  try {
    return pid ? fs.readdirSync(`/proc/${pid}/fd`).length : -1;
  } catch {
    return -1;
  }
}
const CHECK_TIMEOUT_MS = 60_000;
/** A fixed, small environment: the helper runs as root and must not pass the caller's on. */
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

type Send = (n: BpftraceOutputNotification) => void;

interface Run {
  info: BpftraceRunInfo;
  child: ChildProcess;
  exited: Promise<BpftraceStopResult>;
  /** Probes bpftrace said it attached (0 until it has). */
  probes: number;
}

async function checkScript(file: string): Promise<void> {
  // Opened once, no final link followed, not a FIFO, a regular file: as object files are checked.
  if ((await readObjectFile(file)).length > 1024 * 1024) {
    throw new HelperFailure(
      { kind: 'BadInput', field: 'path', reason: 'larger than 1 MiB' },
      `${file} is larger than 1 MiB: not a bpftrace script.`,
    );
  }
}

function checkBpftrace(): void {
  try {
    fs.accessSync(BPFTRACE, fs.constants.X_OK);
  } catch {
    throw new HelperFailure(
      { kind: 'NotSupported', feature: 'bpftrace', reason: `${BPFTRACE} is not installed` },
      `${BPFTRACE} is not installed (Debian/Ubuntu: apt install bpftrace).`,
    );
  }
}

export class BpftraceRuns {
  private readonly runs = new Map<number, Run>();
  private nextId = 1;

  constructor(private readonly send: Send) {}

  list(): BpftraceRunInfo[] {
    return [...this.runs.values()].map((r) => r.info);
  }

  async run(script: string): Promise<BpftraceRunInfo> {
    checkBpftrace();
    await checkScript(script);
    if (this.runs.size >= MAX_RUNS) {
      throw new HelperFailure(
        { kind: 'BadInput', field: 'path', reason: `${MAX_RUNS} bpftrace scripts are already running` },
        `${MAX_RUNS} bpftrace scripts are already running: stop one first.`,
      );
    }
    const id = this.nextId++;
    const child = spawn(BPFTRACE, ['-B', 'none', '-f', 'json', script], {
      cwd: path.dirname(script),
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const info: BpftraceRunInfo = { run: id, pid: child.pid ?? -1, path: script, startedAt: Date.now() };
    let stdout = '';
    let stderr = '';
    const flush = () => {
      if (!stdout && !stderr) return;
      this.send({ run: id, ...(stdout && { stdout }), ...(stderr && { stderr }) });
      stdout = stderr = '';
    };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    let head = '';
    child.stdout!.on('data', (chunk: string) => {
      if (head.length < 4096 && !ATTACHED.test(head)) {
        head += chunk;
        const run = this.runs.get(id);
        if (run) run.probes = Number(ATTACHED.exec(head)?.[1] ?? 0);
      }
      stdout += chunk;
      // Cut at a line boundary so the client never sees half a JSON line first.
      if (stdout.length > MAX_PENDING_CHARS)
        stdout = stdout.slice(stdout.indexOf('\n', stdout.length - MAX_PENDING_CHARS) + 1);
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-MAX_PENDING_CHARS);
    });
    const timer = setInterval(flush, FLUSH_INTERVAL_MS);
    const exited = new Promise<BpftraceStopResult>((resolve) => {
      child.once('error', (error) => {
        stderr += `ERROR: could not run ${BPFTRACE}: ${error.message}\n`;
        child.emit('close', null, null);
      });
      // 'close' comes after the pipes are drained: the maps printed at exit are in.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        clearInterval(timer);
        flush();
        const result = { exitCode: code, signal };
        this.runs.delete(id);
        this.send({ run: id, exit: result });
        resolve(result);
      });
    });
    this.runs.set(id, { info, child, exited, probes: 0 });
    return info;
  }

  /** SIGINT, as Ctrl-C would: bpftrace detaches, prints its maps and exits. Resolves once it has. */
  async stop(id: number): Promise<BpftraceStopResult> {
    const run = this.runs.get(id);
    if (!run) throw new HelperFailure({ kind: 'NotFound', what: `bpftrace run ${id}` }, `No bpftrace run ${id}.`);
    run.child.kill('SIGINT');
    const started = Date.now();
    let deadline = started + stopGraceMs(run.probes);
    let fds = openFds(run.child.pid);
    let killed = false;
    const timer = setInterval(() => {
      const now = Date.now();
      const fdsNow = openFds(run.child.pid);
      deadline = stopDeadline(deadline, now, started, fds, fdsNow);
      fds = fdsNow;
      if (now < deadline || killed) return;
      killed = true;
      // Said where the user reads bpftrace's own errors: why its maps never came.
      this.send({
        run: id,
        stderr:
          `eBPF Studio: bpftrace had not exited ${Math.round((now - started) / 1000)} s after SIGINT and was ` +
          `no longer detaching probes: killed with SIGKILL, so its maps were not printed.\n`,
      });
      run.child.kill('SIGKILL');
    }, STOP_PROGRESS_POLL_MS);
    try {
      return await run.exited;
    } finally {
      clearInterval(timer);
    }
  }

  /** The helper is going away: its children go too (their probes and maps close with them). */
  killAll(): void {
    for (const run of this.runs.values()) run.child.kill('SIGKILL');
  }

  /** Parses, analyses and compiles the script into a temporary ELF file, which is then removed. */
  async check(script: string): Promise<BpftraceCheckResult> {
    checkBpftrace();
    await checkScript(script);
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ebpf-studio-bt-'));
    try {
      return await new Promise<BpftraceCheckResult>((resolve) => {
        execFile(
          BPFTRACE,
          ['--emit-elf', path.join(dir, 'script.o'), script],
          { cwd: path.dirname(script), env: ENV, timeout: CHECK_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
          (error, _stdout, stderr) => {
            const code = error ? ((error as { code?: number }).code ?? null) : 0;
            resolve({ ok: !error, exitCode: typeof code === 'number' ? code : null, stderr: String(stderr) });
          },
        );
      });
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }
}
