// Helper process: one load eBPF Studio owns (OwnedLoad), its id, and attaching a freshly loaded object's
// programs as the load asked, with nothing half-done left in the kernel when one attach fails.
import type { Attachment, LoadedObject, NativeAddon, ObjectSpec, ProgramLoadReport } from '../../native/types';
import { parseVerifierStats } from '../formats/verifier-log';
import type { LoadedSummary, LoadParams, ProgramReport } from '../protocol/methods';
import { attachNeedWords, autoAttachable } from '../formats/attach-needs';
import { faultPoint } from './faults';
import { attachFailure } from './load-failures';
import { resolveTarget } from './load-requests';
import type { SessionRecord } from './sessions';
import type { TcRecord } from './tc-netlink';

export interface OwnedLoad {
  summary: LoadedSummary;
  /** Absent for loads found pinned by an earlier helper: the kernel holds them through their pins. */
  object?: LoadedObject;
  attachments: Attachment[];
  logs: Map<string, string>;
  /** Set for a pinned load of another window whose helper is alive: not the user's to change here. */
  foreign?: SessionRecord;
  /** Handed over by the previous helper of this window (explicit restart): pinned under HANDOFF_DIR only to
   * survive the restart, and released like any unpinned load when this helper exits or unloads it. */
  handedOff?: boolean;
  /** Netlink tc filters an earlier helper added for this load and recorded (see tc-netlink.ts): they hold
   * its programs in the kernel, and unloading removes them. */
  netlink?: TcRecord[];
}

/** "<name>-<session>-<n>": the session id keeps two windows' helpers from choosing the same id. */
export function loadIdFor(name: string, session: string, taken: (id: string) => boolean): string {
  const base =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_')
      .slice(0, 48) || 'object';
  for (let n = 1; ; n++) {
    const id = `${base}-${session}-${n}`;
    if (!taken(id)) return id;
  }
}

/**
 * Attaches the loaded programs as `params` asks (or as their sections say) and describes the load. The load
 * id is chosen with `newLoadId` unless it only verifies; a verify-only load is closed here, after the JIT
 * sizes are read. When an attach fails, what was attached is detached and the object closed.
 */
export function attachAll(
  native: NativeAddon,
  params: LoadParams,
  spec: ObjectSpec,
  object: LoadedObject,
  reports: ProgramLoadReport[],
  refused: Map<string, string>,
  newLoadId: (name: string) => string,
): OwnedLoad {
  const attachments: Attachment[] = [];
  const programs: ProgramReport[] = [];
  try {
    for (const loaded of object.programs()) {
      const report = reports.find((r) => r.name === loaded.name);
      const programReport: ProgramReport = {
        name: loaded.name,
        section: loaded.section,
        type: loaded.type,
        loaded: true,
        id: loaded.id,
        stats: parseVerifierStats(report?.log ?? ''),
      };
      const request =
        params.attach?.[loaded.name] ?? (autoAttachable(loaded.section) ? { kind: 'auto' as const } : undefined);
      if (request && request.kind !== 'none' && !params.verifyOnly) {
        const target = resolveTarget(request);
        let attachment: Attachment;
        try {
          attachment = object.attach(loaded.name, target);
        } catch (error) {
          throw attachFailure(loaded.name, request, error as Error & { errno?: number });
        }
        attachments.push(attachment);
        faultPoint('load:attached');
        programReport.attachment = {
          kind: attachment.kind,
          linkId: attachment.linkId,
          description: attachment.description,
        };
      } else if (!request) {
        programReport.attachNote = `loaded, not attached: needs ${attachNeedWords(loaded.section, loaded.type)}`;
      }
      programs.push(programReport);
    }
    for (const [name, reason] of refused) {
      const program = spec.programs.find((p) => p.name === name)!;
      programs.push({
        name,
        section: program.section,
        type: program.type,
        loaded: false,
        id: 0,
        stats: {},
        attachNote: reason,
      });
    }
  } catch (error) {
    // Nothing half-done stays in the kernel: detach what was attached and close the object.
    for (const attachment of attachments) attachment.detach();
    object.close();
    throw error;
  }
  const summary: LoadedSummary = {
    loadId: params.verifyOnly ? '' : newLoadId(object.name),
    name: object.name,
    path: params.path,
    source: params.source,
    loadedAt: Date.now(),
    pinned: false,
    programs,
    maps: object.maps().map((m) => ({ name: m.name, id: m.id, type: m.type, internal: m.internal })),
  };
  const logs = new Map(reports.map((r) => [r.name, r.log]));
  if (params.verifyOnly) {
    // What the JIT made of each program, for `check --stats` (read before the object is closed).
    const loadedIds = new Set(programs.filter((p) => p.loaded).map((p) => p.id));
    for (const info of native.listPrograms().filter((p) => loadedIds.has(p.id))) {
      const report = programs.find((p) => p.id === info.id);
      if (report) report.stats.jitedBytes = info.jitedBytes;
    }
    object.close();
  }
  return { summary, object, attachments, logs };
}
