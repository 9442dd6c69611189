// Helper process: describes a folder of pins left by an earlier helper from the kernel's lists, in the
// words the load reported it with, so a restarted helper shows what it found as it was.
import * as fs from 'fs';
import * as path from 'path';
import type { LinkInfo, NativeAddon } from '../../native/types';
import type { LoadedSummary } from '../protocol/methods';
import { nameOfLoadId } from './sessions';
import { tracefsRoot } from './system';
import { withTracepointCategory } from './tracepoints';

/** Converts CLOCK_BOOTTIME nanoseconds (what the kernel reports) into a wall-clock time. */
export function bootTimeToEpochMs(
  bootNs: number,
  uptimeSeconds = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]),
): number {
  return Math.round(Date.now() - (uptimeSeconds * 1e3 - bootNs / 1e6));
}

/**
 * An attach point as the kernel describes a link, in the words the load reported it with. A tracepoint
 * link names only the tracepoint: its category comes from tracefs (`eventsDir`), when tracefs is there.
 */
export function linkDescription(link: LinkInfo, eventsDir?: string): string {
  if (!link.target) return link.type;
  if (link.type !== 'perf_event') return `${link.type}/${link.target}`;
  return `tracepoint/${eventsDir ? withTracepointCategory(eventsDir, link.target) : link.target}`;
}

function tracefsEvents(): string | undefined {
  try {
    return path.join(tracefsRoot(), 'events');
  } catch {
    return undefined;
  }
}

export type KernelTables = ReturnType<typeof kernelTables>;

/** The kernel's programs, maps and links by id, read once per rediscovery. */
export function kernelTables(native: NativeAddon) {
  return {
    programs: new Map(native.listPrograms().map((p) => [p.id, p])),
    maps: new Map(native.listMaps().map((m) => [m.id, m])),
    links: new Map(native.listLinks().map((l) => [l.id, l])),
    events: tracefsEvents(),
  };
}

/** What a folder of pins holds, described from the kernel's lists. */
export function summaryFromPins(native: NativeAddon, dir: string, loadId: string, kernel: KernelTables): LoadedSummary {
  const summary: LoadedSummary = {
    loadId,
    name: nameOfLoadId(loadId),
    path: '',
    loadedAt: 0,
    pinned: true,
    programs: [],
    maps: [],
  };
  const linked = new Map<number, { linkId: number; description: string }>();
  for (const entry of fs.readdirSync(dir)) {
    let pinned: { kind: string; id: number };
    try {
      pinned = native.pinnedObjectInfo(path.join(dir, entry));
    } catch {
      continue;
    }
    if (pinned.kind === 'link') {
      const link = kernel.links.get(pinned.id);
      if (link) linked.set(link.progId, { linkId: link.id, description: linkDescription(link, kernel.events) });
    } else if (pinned.kind === 'prog') {
      const info = kernel.programs.get(pinned.id);
      if (info) {
        summary.programs.push({
          name: info.name,
          section: '',
          type: info.type,
          loaded: true,
          id: info.id,
          stats: { insnsProcessed: info.verifiedInsns },
        });
        summary.loadedAt = Math.max(summary.loadedAt, bootTimeToEpochMs(info.loadTimeNs));
      }
    } else if (pinned.kind === 'map') {
      const info = kernel.maps.get(pinned.id);
      if (info) summary.maps.push({ name: info.name, id: info.id, type: info.type, internal: info.name.includes('.') });
    }
  }
  for (const program of summary.programs) {
    const link = linked.get(program.id);
    if (link) program.attachment = { kind: 'link', ...link };
  }
  return summary;
}
