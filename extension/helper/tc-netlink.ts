// Helper process: the netlink tc filters eBPF Studio added (kernels before 6.6, where tc programs attach as
// filters of a clsact qdisc rather than as tcx links). Such a filter is owned by no file descriptor: it
// stays attached when the helper dies. So each one is recorded under BPFFS_PREFIX/tc_netlink/ (a symbolic
// link whose target is the record, since bpffs holds no regular files), and a restarted helper finds it,
// lists it and removes it on Unload. The clsact qdisc is removed only by the last of our filters to leave a
// qdisc we created, and only when nothing else is on it (native/src/core/attach.cc).
import * as fs from 'fs';
import * as path from 'path';
import type { Attachment, NativeAddon, ProgramInfo, TcFilterRef } from '../../native/types';
import { BPFFS_PREFIX, LoadedSummary } from '../protocol/methods';
import { nameOfLoadId } from './sessions';

export const TC_RECORD_DIR = path.join(BPFFS_PREFIX, 'tc_netlink');

/** One netlink filter of a load, as recorded. */
export interface TcRecord extends TcFilterRef {
  loadId: string;
  program: string;
  type: string;
  ifname: string;
  /** The object file it was loaded from (for the list), and when. */
  path: string;
  loadedAt: number;
}

const RECORD_NAME = /^([a-z0-9_-]{1,64})__(\d+)_(ingress|egress)_(\d+)_(\d+)$/;

function recordName(r: TcFilterRef & { loadId: string }): string {
  return `${r.loadId}__${r.ifindex}_${r.direction}_${r.handle}_${r.priority}`;
}

function qdiscFile(ifindex: number): string {
  return path.join(TC_RECORD_DIR, `qdisc_${ifindex}`);
}

/** The interface's name while `ifindex` still names the interface the record was made for. */
function ifnameOf(ifindex: number): string | undefined {
  try {
    return fs
      .readdirSync('/sys/class/net')
      .find((name) => fs.readFileSync(path.join('/sys/class/net', name, 'ifindex'), 'utf8').trim() === String(ifindex));
  } catch {
    return undefined;
  }
}

function readLink(file: string): unknown {
  try {
    return JSON.parse(fs.readlinkSync(file));
  } catch {
    return undefined;
  }
}

/** Whether a record is there (existsSync would follow the link to its target, which is no path). */
function present(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

function remove(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Removes the record folder once it is empty, so the prefix can go when nothing is left. */
function tidy(): void {
  try {
    fs.rmdirSync(TC_RECORD_DIR);
  } catch {
    // Not empty, or not there.
  }
}

/** Every well-formed record (a malformed entry is not ours to interpret and is left alone). */
export function readRecords(): TcRecord[] {
  if (!fs.existsSync(TC_RECORD_DIR)) return [];
  const records: TcRecord[] = [];
  for (const entry of fs.readdirSync(TC_RECORD_DIR)) {
    const name = RECORD_NAME.exec(entry);
    if (!name) continue;
    const r = readLink(path.join(TC_RECORD_DIR, entry)) as Partial<TcRecord> | undefined;
    if (!r || typeof r.program !== 'string' || !Number.isInteger(r.progId)) continue;
    records.push({
      loadId: name[1],
      ifindex: Number(name[2]),
      direction: name[3] as 'ingress' | 'egress',
      handle: Number(name[4]),
      priority: Number(name[5]),
      progId: r.progId!,
      program: r.program,
      type: typeof r.type === 'string' ? r.type : 'sched_cls',
      ifname: typeof r.ifname === 'string' ? r.ifname : '',
      path: typeof r.path === 'string' ? r.path : '',
      loadedAt: typeof r.loadedAt === 'number' ? r.loadedAt : 0,
    });
  }
  return records;
}

/** Records the netlink filters among a new load's attachments (nothing for tcx links and the rest). */
export function recordAttachments(summary: LoadedSummary, attachments: Attachment[]): void {
  for (const attachment of attachments) {
    const tc = attachment.tc;
    if (!tc) continue;
    const program = summary.programs.find((p) => p.id === tc.progId);
    const ifname = ifnameOf(tc.ifindex) ?? '';
    fs.mkdirSync(TC_RECORD_DIR, { recursive: true, mode: 0o700 });
    if (tc.qdiscOurs && !present(qdiscFile(tc.ifindex)))
      fs.symlinkSync(JSON.stringify({ ifindex: tc.ifindex, ifname }), qdiscFile(tc.ifindex));
    const record = {
      progId: tc.progId,
      program: program?.name ?? '',
      type: program?.type ?? 'sched_cls',
      ifname,
      path: summary.path.slice(0, 1024),
      loadedAt: summary.loadedAt,
    };
    fs.symlinkSync(JSON.stringify(record), path.join(TC_RECORD_DIR, recordName({ ...tc, loadId: summary.loadId })));
  }
}

/** After a record goes: the qdisc record goes with the last record of its interface. */
function forgetQdiscIfLast(ifindex: number): void {
  if (!readRecords().some((r) => r.ifindex === ifindex)) remove(qdiscFile(ifindex));
  tidy();
}

/** A live load's attachments were detached (the addon removed the filters): their records go. */
export function forgetAttachments(loadId: string, attachments: Attachment[]): void {
  for (const attachment of attachments) {
    const tc = attachment.tc;
    if (!tc) continue;
    remove(path.join(TC_RECORD_DIR, recordName({ ...tc, loadId })));
    forgetQdiscIfLast(tc.ifindex);
  }
}

/** Whether `ifindex` still names the interface the qdisc record was made for. */
function qdiscIsOurs(ifindex: number): boolean {
  const q = readLink(qdiscFile(ifindex)) as { ifname?: string } | undefined;
  return q !== undefined && q.ifname === ifnameOf(ifindex);
}

/**
 * Removes recorded filters an earlier helper added (the filter only if it still runs the recorded program),
 * and their records. The clsact qdisc goes with the last recorded filter of its interface when an eBPF
 * Studio helper created it and nothing else is left on it.
 */
export function releaseRecords(native: NativeAddon, records: TcRecord[]): void {
  for (const record of records) {
    const last = !readRecords().some((r) => r.ifindex === record.ifindex && recordName(r) !== recordName(record));
    const sameInterface = record.ifname === '' || record.ifname === ifnameOf(record.ifindex);
    if (sameInterface) native.tcDetachFilter(record, last && qdiscIsOurs(record.ifindex));
    remove(path.join(TC_RECORD_DIR, recordName(record)));
    forgetQdiscIfLast(record.ifindex);
  }
}

/** Whether a record still describes a filter in the kernel: same interface, same place, same program. */
export function recordIsLive(native: NativeAddon, record: TcRecord): boolean {
  if (record.ifname && record.ifname !== ifnameOf(record.ifindex)) return false;
  try {
    const clsact = native.tcClsact(record.ifindex);
    return (
      clsact?.filters.some(
        (f) =>
          f.direction === record.direction &&
          f.handle === record.handle &&
          f.priority === record.priority &&
          f.progId === record.progId,
      ) ?? false
    );
  } catch {
    return false;
  }
}

/** A record whose filter is gone (its interface was deleted, or someone removed it): forgotten. */
export function forgetStale(record: TcRecord): void {
  remove(path.join(TC_RECORD_DIR, recordName(record)));
  forgetQdiscIfLast(record.ifindex);
}

export function netlinkDescription(record: TcRecord): string {
  return `${record.ifname || `ifindex ${record.ifindex}`} (tc ${record.direction}) [netlink filter]`;
}

/**
 * A load found only through its netlink filters: its helper died without unloading it, and the filters kept
 * its programs (and through them its maps) in the kernel, unpinned.
 */
export function summaryFromRecords(
  loadId: string,
  records: TcRecord[],
  programs: Map<number, ProgramInfo>,
  maps: Map<number, { id: number; name: string; type: string }>,
): LoadedSummary {
  const mapIds = new Set<number>();
  const summary: LoadedSummary = {
    loadId,
    name: nameOfLoadId(loadId),
    path: records[0]?.path ?? '',
    loadedAt: Math.max(0, ...records.map((r) => r.loadedAt)),
    pinned: false,
    programs: [],
    maps: [],
  };
  for (const record of records) {
    const info = programs.get(record.progId);
    for (const id of info?.mapIds ?? []) mapIds.add(id);
    summary.programs.push({
      name: record.program || info?.name || `prog ${record.progId}`,
      section: '',
      type: info?.type ?? record.type,
      loaded: true,
      id: record.progId,
      stats: info ? { insnsProcessed: info.verifiedInsns } : {},
      attachment: { kind: 'tc', linkId: 0, description: netlinkDescription(record) },
      attachNote:
        'still attached by a netlink tc filter after the helper that loaded it exited; Unload removes the filter',
    });
  }
  for (const id of mapIds) {
    const info = maps.get(id);
    if (info) summary.maps.push({ name: info.name, id, type: info.type, internal: info.name.includes('.') });
  }
  return summary;
}
