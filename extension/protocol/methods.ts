// The one place where the helper's JSON-RPC methods, their parameters and their results are defined.
// Parameter schemas (zod) are both the TypeScript types and the helper's validation: nothing reaches the
// addon unless it parsed here. Documented in docs/helper-protocol.md; bump PROTOCOL_VERSION on any change.
import { z } from 'zod';
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { BtfType, InsnLineInfo, ObjectSpec, ProgramInfo, MapInfo, LinkInfo } from './types';
import { absolutePath, cIdentifier, hexBytes, interfaceName, kernelId, loadId } from './fields';
import type {
  BpftraceCheckResult,
  BpftraceOutputNotification,
  BpftraceRunIdParams,
  BpftraceRunInfo,
  BpftraceScriptParams,
  BpftraceStopResult,
} from './bpftrace';

export const PROTOCOL_VERSION = 4;

/** Where the helper may pin; it touches nothing else under bpffs. */
export const BPFFS_PREFIX = '/sys/fs/bpf/ebpf-studio';

/** The user's permission to change one object eBPF Studio did not load: its kernel id, which must be the
 * id the request is about (the host asks in a modal that names the object's holders, then retries). */
const grant = kernelId.optional();

export const AttachRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('auto') }),
  z.object({ kind: z.literal('none') }),
  z.object({
    kind: z.literal('tracepoint'),
    category: z.string().regex(/^[A-Za-z0-9_]{1,64}$/),
    name: z.string().regex(/^[A-Za-z0-9_]{1,128}$/),
  }),
  z.object({ kind: z.literal('raw_tracepoint'), name: z.string().regex(/^[A-Za-z0-9_]{1,128}$/) }),
  z.object({
    kind: z.literal('uprobe'),
    binary: absolutePath,
    func: cIdentifier.optional(),
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** PID_MAX_LIMIT is 2^22: a larger number would be truncated into some other process's pid. */
    pid: z
      .number()
      .int()
      .min(1)
      .max(2 ** 22)
      .optional(),
    retprobe: z.boolean(),
  }),
  z.object({ kind: z.literal('xdp'), interface: interfaceName, mode: z.enum(['skb', 'drv', 'hw']).optional() }),
  z.object({ kind: z.literal('tc'), interface: interfaceName, direction: z.enum(['ingress', 'egress']) }),
  z.object({ kind: z.literal('cgroup'), path: absolutePath }),
  z.object({ kind: z.literal('socket'), interface: interfaceName.optional() }),
]);
export type AttachRequest = z.infer<typeof AttachRequest>;

export const InitializeParams = z.object({
  protocolVersion: z.number().int(),
  clientName: z.string().max(64),
  /** The window this helper serves; a restarted helper gets the same id and takes over its pins. Load ids
   * carry it, so two windows never choose the same one. Random when absent (CLI, tests). */
  session: z
    .object({ id: z.string().regex(/^[0-9a-f]{6}$/, 'must be six hex digits'), label: z.string().max(128) })
    .optional(),
  /** An explicit restart: take the loads the window's previous helper handed over (object/handoff). Without
   * it they leave the kernel, as unpinned loads of a crashed helper do. */
  adopt: z.boolean().optional(),
});
export type InitializeParams = z.infer<typeof InitializeParams>;

/** What this kernel accepts, probed once per helper by loading tiny programs. */
export interface Capability {
  supported: boolean;
  /** Why not, in words a user can act on. */
  reason?: string;
}

export interface InitializeResult {
  protocolVersion: number;
  pid: number;
  uid: number;
  kernelRelease: string;
  libbpfVersion: string;
  bpffsPrefix: string;
  /** Mounts the helper made or found: "/sys/fs/bpf" -> "mounted" | "present" | error text. */
  mounts: Record<string, string>;
  /** Loads handed over by a previous helper that were not adopted, and so left the kernel. */
  released?: string[];
}

export const DescribeParams = z.object({ path: absolutePath });
export type DescribeParams = z.infer<typeof DescribeParams>;
export type DescribeResult = ObjectSpec;

export const LoadParams = z.object({
  path: absolutePath,
  /** Programs to load; all when omitted. */
  programs: z.array(cIdentifier).max(256).optional(),
  /** `const volatile` globals: name -> hex bytes of exactly the variable's size. */
  variables: z.record(cIdentifier, hexBytes).optional(),
  maxEntries: z
    .record(
      cIdentifier,
      z
        .number()
        .int()
        .min(1)
        .max(1 << 28),
    )
    .optional(),
  /** Per program: how to attach it. Programs without an entry are attached with "auto" when their
   * section says where, else left loaded but unattached. */
  attach: z.record(cIdentifier, AttachRequest).optional(),
  /** Verify only: load, report, and close at once (nothing stays in the kernel). */
  verifyOnly: z.boolean().optional(),
  /** Verifier log level 0..2; statistics are always collected. */
  logLevel: z.number().int().min(0).max(2).optional(),
  /** When the kernel refuses a program's type (EPERM for fentry/lsm under some policies), load the
   * others and report the refused one instead of failing the whole load. */
  skipRefused: z.boolean().optional(),
  /** Source file the object was built from, remembered for "open source". */
  source: absolutePath.optional(),
});
export type LoadParams = z.infer<typeof LoadParams>;

export interface VerifierStats {
  insnsProcessed?: number;
  insnsLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
  verificationTimeUsec?: number;
  stackDepth?: number[];
  /** Size of the JITed image (bytes), from the kernel's program info; 0 where the JIT is off. */
  jitedBytes?: number;
}

export interface ProgramReport {
  name: string;
  section: string;
  type: string;
  loaded: boolean;
  id: number;
  stats: VerifierStats;
  /** Set when attached. */
  attachment?: AttachmentSummary;
  /** Why it was not attached (section names no target and none was given). */
  attachNote?: string;
}

export interface AttachmentSummary {
  kind: string;
  linkId: number;
  description: string;
}

export interface LoadedSummary {
  loadId: string;
  name: string;
  path: string;
  source?: string;
  loadedAt: number;
  pinned: boolean;
  programs: ProgramReport[];
  maps: { name: string; id: number; type: string; internal: boolean }[];
  /** Set when another eBPF Studio window loaded and pinned it: that window's helper (pid 0: closed). */
  owner?: { pid: number; label: string };
}

export type LoadResult = LoadedSummary;

export const LoadIdParams = z.object({
  loadId,
  /** object/unload of another window's load: the user agreed (the same load id). */
  grant: loadId.optional(),
});
export type LoadIdParams = z.infer<typeof LoadIdParams>;

export const VerifierLogParams = z.object({ loadId, program: cIdentifier });
export interface VerifierLogResult {
  log: string;
}

export const MapIdParams = z.object({ mapId: kernelId });
export type MapIdParams = z.infer<typeof MapIdParams>;

export const MapKeyParams = z.object({ mapId: kernelId, key: hexBytes, grant });
export type MapKeyParams = z.infer<typeof MapKeyParams>;

export const MapUpdateParams = z.object({
  mapId: kernelId,
  key: hexBytes,
  value: hexBytes,
  flags: z.enum(['any', 'noexist', 'exist']).default('any'),
  grant,
});
export type MapUpdateParams = z.infer<typeof MapUpdateParams>;

/** An entry's new value: bytes of one value (per-CPU maps: one slot, on `cpu` or on every CPU), or, for maps
 * whose values are descriptors (prog_array, maps of maps), the program or map to open by id. */
export const MapEditValue = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bytes'), bytes: hexBytes, cpu: z.number().int().min(0).max(8191).optional() }),
  z.object({ kind: z.literal('program'), id: kernelId }),
  z.object({ kind: z.literal('map'), id: kernelId }),
]);
export type MapEditValue = z.infer<typeof MapEditValue>;

/**
 * One edit of one entry, checked and written by the helper in one call: `add` refuses a key that exists
 * (Conflict "exists"); `edit` refuses an entry that is gone or no longer holds `expected`, the value the user
 * saw (Conflict "changed"). Per-CPU edits with `cpu` compare and replace that CPU's slot only and keep the
 * other CPUs' current values.
 */
export const MapEditParams = z.object({
  mapId: kernelId,
  key: hexBytes,
  mode: z.enum(['add', 'edit']),
  /** Edit: the value as the user saw it (per-CPU with `cpu`: that CPU's slot; else the whole value). */
  expected: hexBytes.optional(),
  value: MapEditValue,
  grant,
});
export type MapEditParams = z.infer<typeof MapEditParams>;
export interface MapEditResult {
  /** Something the user should know although the write succeeded (an LRU map may have evicted an entry). */
  warning?: string;
}

export const MapNextKeyParams = z.object({ mapId: kernelId, key: hexBytes.nullable() });

export const MapDumpParams = z.object({
  mapId: kernelId,
  /** Cursor returned by the previous page, base64. */
  cursor: z.string().max(4096).optional(),
  /** Entries wanted; the helper reads fewer when a page would exceed LIMITS.mapPageBytes or max_entries. */
  count: z.number().int().min(1).max(1_000_000),
});
export type MapDumpParams = z.infer<typeof MapDumpParams>;

export interface MapDumpResult {
  keySize: number;
  /** Size of one value as returned: per-CPU maps carry round_up(valueSize, 8) * cpus bytes. */
  valueSize: number;
  perCpu: number;
  count: number;
  /** The binary frame (docs/helper-protocol.md, "Binary frames") holding this page's keys and values; it is
   * written just before this answer. */
  frame: number;
  cursor?: string;
  /** First page only (no cursor): the map itself and its BTF types, so opening a map is one round trip. */
  map?: MapInfo;
  types?: MapTypesResult;
  /** Filled in by the client from the frame: packed keys and values, views into the frame's buffer. */
  page?: { keys: Buffer; values: Buffer };
}

export interface MapTypesResult {
  key: BtfType | null;
  value: BtfType | null;
}

/** Bytes of event frames the client lets the helper send before it acknowledges them (events/ack). */
const eventWindow = z
  .number()
  .int()
  .min(64 * 1024)
  .max(64 * 1024 * 1024);
export const SubscribeParams = z.discriminatedUnion('source', [
  z.object({ source: z.literal('trace_pipe'), window: eventWindow.optional() }),
  z.object({ source: z.literal('ringbuf'), mapId: kernelId, window: eventWindow.optional() }),
  z.object({
    source: z.literal('perf'),
    mapId: kernelId,
    pages: z.number().int().min(1).max(1024).default(8),
    window: eventWindow.optional(),
  }),
]);
export type SubscribeParams = z.infer<typeof SubscribeParams>;
export interface SubscribeResult {
  subscription: number;
}
export const UnsubscribeParams = z.object({ subscription: z.number().int().min(1).max(0x7fffffff) });

export const StatsParams = z.object({ enabled: z.boolean() });

export const StructTypesParams = z.object({ path: absolutePath });
/** The named structs of an object file's BTF: name -> type (event decoding, maps without BTF). */
export type StructTypesResult = Record<string, BtfType>;

/** Processes holding fds on programs and maps (from /proc/<pid>/fdinfo), by kernel id. */
export interface ObjectOwnersResult {
  programs: Record<number, { pid: number; comm: string }[]>;
  maps: Record<number, { pid: number; comm: string }[]>;
}

export const TestRunParams = z.object({
  progId: kernelId,
  data: hexBytes,
  repeat: z.number().int().min(1).max(1_000_000).default(1),
  grant,
});
export interface TestRunResult {
  retval: number;
  data: string;
  durationNs: number;
}

export const InstructionsParams = z.object({ progId: kernelId });
/** A loaded program's instructions: raw images base64, kernel addresses as hex strings. */
export interface InstructionsResult {
  name: string;
  tag: string;
  /** struct bpf_insn[] after the verifier's rewrites. */
  xlated: string;
  /** JITed machine code (empty when the JIT is off). */
  jited: string;
  lineInfo: InsnLineInfo[];
  jitedLineAddresses: string[];
  jitedFunctionAddresses: string[];
  jitedFunctionLengths: number[];
  /** Helper call imm -> kernel function name, from /proc/kallsyms. */
  callTargets: Record<string, string>;
  /** The machine the JIT wrote code for (process.arch of the helper). */
  arch: string;
}

/** Client -> helper: the client has taken `bytes` of a subscription's frames (the records' length), so the
 * helper may send that much more. Without acks a subscription stops after its window. */
export const EventsAckParams = z.object({
  subscription: z.number().int().min(1),
  bytes: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32),
});
export type EventsAckParams = z.infer<typeof EventsAckParams>;

/** Bounds the helper enforces; a request past one is refused with a BadInput naming it. */
export const LIMITS = {
  /** Open subscriptions per helper. */
  subscriptions: 16,
  /** Event frames in flight per subscription unless the client asks for another window. */
  defaultEventWindowBytes: 8 * 1024 * 1024,
  /** A perf buffer's pages on all CPUs together. */
  perfBufferBytes: 64 * 1024 * 1024,
  /** Keys and values of one map/dump page. */
  mapPageBytes: 4 * 1024 * 1024,
  /** ebpfStudio.trace.maxLines. */
  traceMaxLines: 1_000_000,
} as const;

export interface LogNotification {
  level: 'info' | 'warn' | 'error';
  message: string;
}

export const Methods = {
  initialize: new RequestType<InitializeParams, InitializeResult, void>('initialize'),
  capabilities: new RequestType0<Record<string, Capability>, void>('capabilities'),
  describe: new RequestType<DescribeParams, DescribeResult, void>('object/describe'),
  load: new RequestType<LoadParams, LoadResult, void>('object/load'),
  unload: new RequestType<LoadIdParams, void, void>('object/unload'),
  pin: new RequestType<LoadIdParams, LoadedSummary, void>('object/pin'),
  listLoaded: new RequestType0<LoadedSummary[], void>('object/list'),
  verifierLog: new RequestType<z.infer<typeof VerifierLogParams>, VerifierLogResult, void>('object/verifierLog'),
  programs: new RequestType0<ProgramInfo[], void>('kernel/programs'),
  maps: new RequestType0<MapInfo[], void>('kernel/maps'),
  links: new RequestType0<LinkInfo[], void>('kernel/links'),
  setStats: new RequestType<z.infer<typeof StatsParams>, { enabled: boolean }, void>('kernel/stats'),
  mapLookup: new RequestType<MapKeyParams, { value: string | null }, void>('map/lookup'),
  mapUpdate: new RequestType<z.input<typeof MapUpdateParams>, void, void>('map/update'),
  mapDelete: new RequestType<MapKeyParams, { deleted: boolean }, void>('map/delete'),
  mapNextKey: new RequestType<z.infer<typeof MapNextKeyParams>, { key: string | null }, void>('map/nextKey'),
  mapDump: new RequestType<MapDumpParams, MapDumpResult, void>('map/dump'),
  mapEdit: new RequestType<MapEditParams, MapEditResult, void>('map/edit'),
  mapTypes: new RequestType<MapIdParams, MapTypesResult, void>('map/types'),
  subscribe: new RequestType<z.input<typeof SubscribeParams>, SubscribeResult, void>('events/subscribe'),
  unsubscribe: new RequestType<z.infer<typeof UnsubscribeParams>, void, void>('events/unsubscribe'),
  testRun: new RequestType<z.input<typeof TestRunParams>, TestRunResult, void>('prog/testRun'),
  structTypes: new RequestType<z.infer<typeof StructTypesParams>, StructTypesResult, void>('object/structTypes'),
  owners: new RequestType0<ObjectOwnersResult, void>('kernel/owners'),
  instructions: new RequestType<z.infer<typeof InstructionsParams>, InstructionsResult, void>('prog/instructions'),
  bpftraceRun: new RequestType<BpftraceScriptParams, BpftraceRunInfo, void>('bpftrace/run'),
  bpftraceStop: new RequestType<BpftraceRunIdParams, BpftraceStopResult, void>('bpftrace/stop'),
  bpftraceList: new RequestType0<BpftraceRunInfo[], void>('bpftrace/list'),
  bpftraceCheck: new RequestType<BpftraceScriptParams, BpftraceCheckResult, void>('bpftrace/check'),
  shutdown: new RequestType0<void, void>('shutdown'),
  /** Before an explicit restart: parks the unpinned loads for the window's next helper; their load ids. */
  handoff: new RequestType0<{ loadIds: string[] }, void>('object/handoff'),
} as const;

export const Notifications = {
  log: new NotificationType<LogNotification>('helper/log'),
  eventsAck: new NotificationType<EventsAckParams>('events/ack'),
  bpftrace: new NotificationType<BpftraceOutputNotification>('bpftrace/output'),
} as const;
