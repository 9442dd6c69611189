// Several VS Code windows mean several root helpers on one machine and one pin folder. Each helper serves a
// session (a window: the host passes its id and a label; a restart keeps the id), registered under RUN_DIR
// while the helper lives. Load ids carry the session's id, so two windows never pick the same one; a pinned
// load of a session whose helper is alive belongs to that window; one whose helper is gone is adopted. The
// destructive trace_pipe stream has one reader per machine, taken with an O_EXCL lock file that names it.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { LoadedSummary } from '../protocol/methods';

/** Root-only state of the running helpers (a tmpfs: a reboot forgets it, as it forgets the helpers). */
export const RUN_DIR = '/run/ebpf-studio';

export interface SessionRecord {
  pid: number;
  label: string;
}

/** A load parked by an explicit restart, as its helper described it. */
export interface HandoffRecord {
  summary: LoadedSummary;
  logs: Record<string, string>;
}

/** A session id as load ids carry it: six lower-case hex digits. */
export const SESSION_ID = /^[0-9a-f]{6}$/;

/** "fork_trace-a3f01c-2" -> "a3f01c"; undefined for load ids of older helpers (taken as the user's own). */
export function sessionOfLoadId(loadId: string): string | undefined {
  return /-([0-9a-f]{6})-\d+$/.exec(loadId)?.[1];
}

/** The object's name as it was before the session and counter were appended. */
export function nameOfLoadId(loadId: string): string {
  return loadId.replace(/-[0-9a-f]{6}-\d+$/, '').replace(/-\d+$/, '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRecord(file: string): SessionRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as SessionRecord;
    return Number.isInteger(record.pid) && record.pid > 0 && typeof record.label === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

export class Sessions {
  /** Random until initialize names the window. */
  id = crypto.randomBytes(3).toString('hex');
  label = 'eBPF Studio';
  private readonly sessionsDir: string;
  private readonly traceLock: string;
  private holdsTracePipe = false;

  constructor(
    private readonly runDir = RUN_DIR,
    private readonly pid = process.pid,
  ) {
    this.sessionsDir = path.join(runDir, 'sessions');
    this.traceLock = path.join(runDir, 'trace_pipe.lock');
  }

  /** Takes the window's session (or keeps the random one) and records this helper as serving it; a
   * restarted helper takes over its window's record. */
  register(session: { id: string; label: string } | undefined, fallbackLabel: string): void {
    if (session && SESSION_ID.test(session.id)) this.id = session.id;
    this.label = (session?.label || fallbackLabel).slice(0, 128);
    fs.mkdirSync(this.sessionsDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.runDir, 0o700);
    // Records of helpers killed with SIGKILL stay behind: forget them.
    for (const name of fs.readdirSync(this.sessionsDir)) {
      const record = readRecord(path.join(this.sessionsDir, name));
      if (!record || !alive(record.pid)) fs.rmSync(path.join(this.sessionsDir, name), { force: true });
    }
    fs.writeFileSync(this.recordFile(this.id), JSON.stringify({ pid: this.pid, label: this.label }), { mode: 0o600 });
  }

  /** Removes the record if it is still this helper's (a newer helper of the window may have taken it). */
  unregister(): void {
    this.releaseTracePipe();
    if (readRecord(this.recordFile(this.id))?.pid === this.pid) fs.rmSync(this.recordFile(this.id), { force: true });
  }

  /** The live helper of another session, or undefined when that window's helper is gone. */
  liveSession(id: string): SessionRecord | undefined {
    if (id === this.id) return undefined;
    const record = readRecord(this.recordFile(id));
    return record && alive(record.pid) ? record : undefined;
  }

  /**
   * Takes the machine's trace_pipe reader lock; returns the other reader when a live helper holds it. A lock
   * left by a dead helper is taken over.
   */
  acquireTracePipe(): SessionRecord | undefined {
    if (this.holdsTracePipe) return undefined;
    fs.mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(this.traceLock, 'wx', 0o600);
        fs.writeSync(fd, JSON.stringify({ pid: this.pid, label: this.label }));
        fs.closeSync(fd);
        this.holdsTracePipe = true;
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readRecord(this.traceLock);
      if (holder && holder.pid !== this.pid && alive(holder.pid)) return holder;
      // Stale (its helper died) or half-written: remove and try again.
      fs.rmSync(this.traceLock, { force: true });
    }
    return readRecord(this.traceLock);
  }

  releaseTracePipe(): void {
    if (!this.holdsTracePipe) return;
    this.holdsTracePipe = false;
    if (readRecord(this.traceLock)?.pid === this.pid) fs.rmSync(this.traceLock, { force: true });
  }

  /** Saves what the next helper of this window needs to show a parked load as it was (root-only). */
  saveHandoff(loadId: string, data: HandoffRecord): void {
    fs.mkdirSync(path.join(this.runDir, 'handoff'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(this.runDir, 'handoff', `${loadId}.json`), JSON.stringify(data), { mode: 0o600 });
  }

  /** Reads and removes a parked load's record. */
  takeHandoff(loadId: string): HandoffRecord | undefined {
    const file = path.join(this.runDir, 'handoff', `${loadId}.json`);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as HandoffRecord;
    } catch {
      return undefined;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  private recordFile(id: string): string {
    return path.join(this.sessionsDir, `${id}.json`);
  }
}
