// Which processes hold which BPF programs and maps: every fd in /proc/*/fd that is a bpf-prog or
// bpf-map shows "prog_id:" or "map_id:" in its fdinfo (kernel 4.10 / 4.13). Read-only; processes that
// exit while we read are skipped.
import * as fs from 'fs';

export interface OwnerProcess {
  pid: number;
  comm: string;
}

export interface ObjectOwners {
  /** Program id -> processes with an fd on it. */
  programs: Record<number, OwnerProcess[]>;
  maps: Record<number, OwnerProcess[]>;
}

/** At most this many fds are inspected per scan: a host with millions of sockets must not stall the helper. */
const MAX_FDS = 200_000;

export function scanOwners(proc = '/proc'): ObjectOwners {
  const result: ObjectOwners = { programs: {}, maps: {} };
  let budget = MAX_FDS;
  for (const entry of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(entry) || budget <= 0) continue;
    const pid = Number(entry);
    let fds: string[];
    try {
      fds = fs.readdirSync(`${proc}/${entry}/fd`);
    } catch {
      continue;
    }
    let comm: string | undefined;
    const seen = new Set<string>();
    for (const fd of fds) {
      if (--budget <= 0) break;
      let target: string;
      try {
        target = fs.readlinkSync(`${proc}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      // Only anonymous bpf inodes: reading every socket's fdinfo would be wasted work.
      const kind = target === 'anon_inode:bpf-prog' ? 'prog' : target === 'anon_inode:bpf-map' ? 'map' : undefined;
      if (!kind) continue;
      let info: string;
      try {
        info = fs.readFileSync(`${proc}/${entry}/fdinfo/${fd}`, 'utf8');
      } catch {
        continue;
      }
      const id = Number(new RegExp(`^${kind}_id:\\s*(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      if (!id || seen.has(`${kind}:${id}`)) continue;
      seen.add(`${kind}:${id}`);
      try {
        comm ??= fs.readFileSync(`${proc}/${entry}/comm`, 'utf8').trim();
      } catch {
        comm = '?';
      }
      const table = kind === 'prog' ? result.programs : result.maps;
      (table[id] ??= []).push({ pid, comm });
    }
  }
  return result;
}

/** Processes with `file` open (fd links naming it), except `exceptPid`: who else reads trace_pipe. */
export function scanFileHolders(file: string, exceptPid = process.pid, proc = '/proc'): OwnerProcess[] {
  const holders: OwnerProcess[] = [];
  let budget = MAX_FDS;
  for (const entry of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(entry) || Number(entry) === exceptPid || budget <= 0) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`${proc}/${entry}/fd`);
    } catch {
      continue;
    }
    budget -= fds.length;
    const holds = fds.some((fd) => {
      try {
        return fs.readlinkSync(`${proc}/${entry}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let comm = '?';
    try {
      comm = fs.readFileSync(`${proc}/${entry}/comm`, 'utf8').trim();
    } catch {
      // Exited while we looked.
    }
    holders.push({ pid: Number(entry), comm });
  }
  return holders;
}
