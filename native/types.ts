// The JavaScript face of the native addon (native/src/js/). Only the helper process loads the addon.
// The data it returns has the wire's shapes (extension/protocol/types.ts); the handles, options and
// results declared here stay inside the helper.
import type {
  BtfType,
  LinkInfo,
  MapInfo,
  ObjectSpec,
  ProgramInfo,
  ProgramInstructions,
} from '../extension/protocol/types';

// The wire's shapes are re-exported, so the helper imports the addon's face from one module.
export type * from '../extension/protocol/types';

export interface LoadOptions {
  path: string;
  /** Programs to load; all programs with autoload on when omitted. */
  programs?: string[];
  /** Variable name -> new bytes (exact size of the variable). */
  variables?: Record<string, Buffer>;
  /** Map name -> max_entries; refused (BadInput) when the map would preallocate over NativeLimits.overridePreallocBytes. */
  maxEntries?: Record<string, number>;
  /** Kernel verifier log level (1, 2) or-ed with 4 for statistics. Default 4: stats only on success. */
  logLevel?: number;
  /** Initial verifier log buffer per program; it grows on ENOSPC up to NativeLimits.verifierLogBytes (64 MiB),
   *  where a longer log is cut and the load error says so. A larger logSize is refused (BadInput). */
  logSize?: number;
  /** Relocate CO-RE accesses against the kernel types they can reach (parsed once per helper) instead of the
   *  whole kernel BTF: the same relocations, without parsing the kernel BTF on every load. */
  minimalCoreBtf?: boolean;
}

export interface ProgramLoadReport {
  name: string;
  section: string;
  type: string;
  loaded: boolean;
  /** Kernel id when loaded, else 0. */
  id: number;
  /** The verifier log, complete: level 1 on failure, whatever was asked for on success. */
  log: string;
}

export interface LoadError {
  /** Positive errno (EPERM = 1, EACCES = 13, EINVAL = 22, ENOENT = 2, ...). */
  errno: number;
  message: string;
  /** The program whose load failed, when the failure was a program's. */
  program?: string;
  /** Set when the input was at fault (a damaged object file, an option over a limit); `field` names it. */
  kind?: 'BadInput';
  field?: string;
}

export interface LoadOutcome {
  /** Set when the load succeeded. */
  object?: LoadedObject;
  error?: LoadError;
  programs: ProgramLoadReport[];
  /** Everything libbpf printed during the load (warnings and errors), one message per line. */
  libbpfLog: string;
}

/** Minimum kernels: tracepoint 4.7, raw_tracepoint 4.17, uprobe 4.3 (as a link with an id: 5.15), xdp link 5.9,
 *  tc: tcx link 6.6 else netlink clsact filter 4.5, cgroup link 5.7, socket 3.19. */
export type AttachTarget =
  /** Let libbpf attach from the section name (tracepoint/, raw_tp/, tp_btf/, fentry/, lsm/, uprobe/p:f). */
  | { kind: 'auto' }
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'raw_tracepoint'; name: string }
  | { kind: 'uprobe'; binary: string; func?: string; offset?: number; pid?: number; retprobe: boolean }
  | { kind: 'xdp'; ifindex: number; mode?: 'skb' | 'drv' | 'hw' }
  | { kind: 'tc'; ifindex: number; direction: 'ingress' | 'egress' }
  | { kind: 'cgroup'; path: string }
  /** Opens an AF_PACKET socket on the interface (0 = all) and attaches the filter to it. */
  | { kind: 'socket'; ifindex: number };

export interface LoadedProgram {
  name: string;
  section: string;
  type: string;
  id: number;
  fd: number;
}

export interface LoadedMap {
  name: string;
  type: string;
  id: number;
  fd: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  internal: boolean;
}

/** An attachment. tc falls back to a netlink filter (not a bpf_link) on kernels without tcx. */
export interface Attachment {
  /** Kernel link id, or 0 when the attachment is not a bpf_link (legacy tc filter, socket filter). */
  linkId: number;
  kind: AttachTarget['kind'];
  /** Human-readable attach point: "sched/sched_process_fork", "veth0 (xdp)", "/bin/bash:readline". */
  description: string;
  pin(path: string): void;
  /** Detaches; idempotent. */
  detach(): void;
  /** Set for a netlink tc filter (kernels before 6.6, or EBPF_STUDIO_FORCE_TC_NETLINK=1 in tests). */
  tc?: TcNetlinkInfo;
}

/** Where a netlink tc filter eBPF Studio added sits, as the helper records it. */
export interface TcFilterRef {
  ifindex: number;
  direction: 'ingress' | 'egress';
  handle: number;
  priority: number;
  /** The program the filter runs: a filter found at the same place with another program is not ours. */
  progId: number;
}

/** A netlink tc filter (kernels before 6.6, or EBPF_STUDIO_FORCE_TC_NETLINK=1 in tests). */
export interface TcNetlinkInfo extends TcFilterRef {
  /** The clsact qdisc was created by this process: the last of its filters to leave removes it if empty. */
  qdiscOurs: boolean;
}

export interface TcFilter {
  direction: 'ingress' | 'egress';
  handle: number;
  priority: number;
  /** The classifier: "bpf", "matchall", "u32", ... */
  kind: string;
  /** bpf filters: the program's id (0 otherwise). */
  progId: number;
  name: string;
}

/** A loaded bpf_object: owns program, map and link fds until close(). */
export interface LoadedObject {
  readonly name: string;
  programs(): LoadedProgram[];
  maps(): LoadedMap[];
  attach(program: string, target: AttachTarget): Attachment;
  pinProgram(program: string, path: string): void;
  pinMap(map: string, path: string): void;
  /** Closes every fd: programs and maps stay in the kernel only if pinned or attached by a pinned link. */
  close(): void;
}

export interface BatchRead {
  /** Packed keys, count * keySize bytes. */
  keys: Buffer;
  /** Packed values, count * valueSize bytes (valueSize * nCPUs for per-CPU maps, rounded to 8). */
  values: Buffer;
  count: number;
  /** Opaque cursor for the next call; undefined when the map has been read to the end. */
  next?: Buffer;
}

/** An open fd on a kernel map, by id or by pin path. */
export interface MapHandle {
  readonly info: MapInfo;
  /** Value size as user space sees it: per-CPU maps hold round_up(valueSize, 8) * possible CPUs. */
  readonly userValueSize: number;
  lookup(key: Buffer): Buffer | null;
  /** flags: 0 any, 1 noexist, 2 exist (BPF_ANY, BPF_NOEXIST, BPF_EXIST). Throws with errno on failure. */
  update(key: Buffer, value: Buffer, flags: number): void;
  delete(key: Buffer): boolean;
  nextKey(key: Buffer | null): Buffer | null;
  /** Batch lookup of at most maxCount entries, fewer when a page would exceed NativeLimits.pageBytes or the map's
   *  maxEntries; falls back to get-next-key + lookup on kernels or map types without batch ops. */
  lookupBatch(maxCount: number, cursor?: Buffer): BatchRead;
  /** The key and value types from the map's BTF, when it has any. */
  btfTypes(): { key: BtfType | null; value: BtfType | null };
  close(): void;
}

/** A batch of events from a ring or perf buffer: records in the layout of extension/formats/records.ts. */
export interface EventBatch {
  data: Buffer;
  count: number;
  /** Perf buffer: samples the kernel reported lost. Ring buffer: 0 (the program must count its own). */
  lost: number;
  /** Records the addon could not pack (longer than 4 GiB); absent when none. */
  droppedInAddon?: number;
  /** Ring buffer: times the consumer found positions or record lengths it could not trust (a stale or hostile
   *  consumer position) and skipped to the producer's position, losing the records in between; absent when none. */
  resynced?: number;
}

export interface ConsumerOptions {
  /** Bytes of batches handed to JS and not yet released, beyond which the thread stops draining the
   * kernel's buffer (default 64 MiB). A perf buffer may overshoot by one poll (its pages on every CPU). */
  windowBytes?: number;
  /** Release batches with consumer.release(bytes) (end-to-end backpressure) instead of when they reach JS. */
  manualRelease?: boolean;
}

export interface EventConsumer {
  /** Gives back `bytes` of credit (the data length of batches the peer has taken). */
  release(bytes: number): void;
  /** Hands a batch's `data` back once nothing reads it any more (written out): later batches are copied into
   *  it rather than into fresh memory. Only a consumer that recycles gets pooled buffers. */
  recycle(data: Buffer): void;
  close(): void;
}

/** A batch of trace_pipe lines: records in the layout of extension/formats/records.ts, one per line. */
export interface TraceBatch {
  data: Buffer;
  count: number;
  /** Entries the kernel's trace ring overwrote unread (any writer's: per_cpu/cpuN/stats "overrun") since the
   *  previous batch. */
  overrun: number;
  /** Reading trace_pipe failed: the reader's thread has ended, this is its last batch. */
  error?: string;
}

export interface TracePipeStream {
  /** Lets the thread hand over batches while their bytes, counted since the start, stay below `totalBytes`;
   *  at the limit it stops reading and the lines wait in the kernel's trace ring. */
  allow(totalBytes: number): void;
  /** Wakes the thread, joins it and closes its descriptors; batches still queued are not delivered. */
  close(): void;
}

export interface TestRunResult {
  retval: number;
  dataOut: Buffer;
  durationNs: number;
}

/**
 * What the addon throws or rejects with: an Error whose `kind` is "BadInput" for malformed or over-limit input
 * (a hostile object file, an option over a limit; `field` names it) or "Internal" for any other C++ failure;
 * a failed system call has no kind and carries `errno`/`code`. Wrong argument types throw a TypeError.
 */
export interface NativeError extends Error {
  errno?: number;
  code?: string;
  kind?: 'BadInput' | 'Internal';
  field?: string;
}

/** The bounds the addon keeps (native/src/core/limits.h); each refusal's message names its limit. */
export interface NativeLimits {
  /** Bytes of keys and values in one map page (lookupBatch, lookupBatchAsync); a single bigger entry is read alone. */
  pageBytes: number;
  /** What a page may grow to to take one whole hash bucket. */
  bucketPageBytes: number;
  /** What a maxEntries override may make a map preallocate. */
  overridePreallocBytes: number;
  /** A verifier log's largest size. */
  verifierLogBytes: number;
  /** consumePerfBuffer pages per CPU. */
  perfPagesPerCpu: number;
  /** Nodes of one resolved BTF tree, and of all trees of one describe or struct types call. */
  btfTreeNodes: number;
  btfCallNodes: number;
  /** Structs objectStructTypes returns at most. */
  structTypes: number;
}

export interface NativeAddon {
  libbpfVersion(): string;
  /** The addon's bounds. */
  limits(): NativeLimits;
  // Minimum kernels are noted per method; this machine's libbpf is 1.1.
  /** Reads the object and its BTF with libbpf, without touching the kernel. Throws BadInput on a bad ELF or BTF. */
  describeObject(path: string): ObjectSpec;
  /** describeObject on a worker thread: the event loop stays free while a big object is read. */
  describeAsync(path: string): Promise<ObjectSpec>;
  /** Kernel 5.2 for global variables and log level 4 (stats); 5.8 for ring buffers. Never rejects for a kernel refusal. */
  loadObject(options: LoadOptions): Promise<LoadOutcome>;
  /** Kernel 4.13 (ids); run stats need enableStats (5.8), verifiedInsns 5.16. */
  listPrograms(): ProgramInfo[];
  /** Kernel 4.13. */
  listMaps(): MapInfo[];
  /** Kernel 5.8; tcx targets 6.6; perf_event (tracepoint/kprobe/uprobe) targets 6.6, "" before. */
  listLinks(): LinkInfo[];
  /** BPF_ENABLE_STATS(BPF_STATS_RUN_TIME), kernel 5.8: stats are collected while the returned fd is open. */
  enableStats(): { close(): void };
  /** Kernel 4.13; lookupBatch uses batch ops from 5.6 and walks keys before. */
  openMap(id: number): MapHandle;
  /** Kernel 4.4. */
  openPinnedMap(path: string): MapHandle;
  /** The kind and id of a pinned object: "prog", "map" or "link" (links: kernel 5.7). */
  pinnedObjectInfo(path: string): { kind: 'prog' | 'map' | 'link'; id: number };
  /** Detach and close a pinned link (unlinks the pin too). */
  unpin(path: string): void;
  /** Consumes a BPF_MAP_TYPE_RINGBUF map (kernel 5.8) on a thread of its own; batches reach onBatch on the JS thread. */
  consumeRingBuffer(mapId: number, onBatch: (batch: EventBatch) => void, options?: ConsumerOptions): EventConsumer;
  /** Consumes a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (kernel 4.4), one buffer per CPU of pageCount (power of two,
   *  at most NativeLimits.perfPagesPerCpu) pages. */
  consumePerfBuffer(
    mapId: number,
    pageCount: number,
    onBatch: (batch: EventBatch) => void,
    options?: ConsumerOptions,
  ): EventConsumer;
  /** Writes an entry of a map whose values are fds (prog_array: 'program', maps of maps: 'map'), opening the
   * object by kernel id for the write (prog_array 4.2, maps of maps 4.12). flags as MapHandle.update. */
  updateMapWithObject(mapId: number, key: Buffer, kind: 'program' | 'map', objectId: number, flags: number): void;
  /** BPF_PROG_TEST_RUN on a program by id (kernel 4.12; program types vary). */
  testRun(progId: number, dataIn: Buffer, repeat: number): TestRunResult;
  /** The named structs of a BPF object file's BTF (no kernel involved): name -> type. Throws BadInput on a bad ELF or BTF. */
  objectStructTypes(path: string): Record<string, BtfType>;
  /** objectStructTypes on a worker thread. */
  structTypesAsync(path: string): Promise<Record<string, BtfType>>;
  /** A batch lookup of map `mapId` on a worker thread (kernel 5.6); rejects with the kernel's errno for map
   *  types without batch ops (then use MapHandle.lookupBatch, which walks keys). */
  lookupBatchAsync(mapId: number, maxCount: number, cursor?: Buffer): Promise<BatchRead>;
  /** A loaded program's xlated and JITed instructions with line info (bpf_obj_get_info_by_fd; line info 5.0). */
  programInstructions(progId: number): ProgramInstructions;
  /**
   * Creates a map of this type ("hash", "ringbuf", "task_storage", ...) with libbpf's probe and frees it:
   * 1 supported, 0 unknown to this kernel, negative -errno of a refusal. Throws on an unknown type name.
   */
  probeMapType(type: string): number;
  /**
   * Loads a tiny program of `programType` ("kprobe", "xdp", ...) that calls `helper` ("ringbuf_output"):
   * 1 offered, 0 not offered to that type, negative -errno when the type itself cannot load.
   */
  probeHelper(programType: string, helper: string): number;
  /** The helpers probeHelper knows, without the bpf_ prefix. */
  probeHelperNames(): string[];
  /** The interface's clsact qdisc and its filters in both directions, or null when it has no clsact qdisc.
   * `empty` only when nothing at all is on it. Kernel 4.5 (clsact). */
  tcClsact(ifindex: number): { empty: boolean; filters: TcFilter[] } | null;
  /** Removes a filter if it is still there and still runs progId; with destroyQdiscIfEmpty, then removes
   * the clsact qdisc when nothing at all is left on it. */
  tcDetachFilter(filter: TcFilterRef, destroyQdiscIfEmpty: boolean): { removed: boolean; qdiscRemoved: boolean };
  /** Reads `${tracefs}/trace_pipe` on a thread of its own that sleeps in poll() until lines come; whole lines
   *  reach onBatch on the JS thread, within allowBytes (default 8 MiB) until the next allow(). Throws with the
   *  errno of a failed open. */
  readTracePipe(
    tracefs: string,
    onBatch: (batch: TraceBatch) => void,
    options?: { allowBytes?: number },
  ): TracePipeStream;
}
