// The data that crosses the helper's wire: object specs, kernel listings, BTF type trees, instructions.
// The protocol owns these shapes; the addon (native/) produces them and the helper sends them as they are.
// Pure types: imports nothing of the project.

/**
 * A BTF type, resolved into a self-contained tree (typedefs kept by name, cycles cut at pointers). Trees are
 * bounded (NativeLimits.btfTreeNodes): a struct or union met again on its own path (cyclic BTF), or met again
 * once the budget is spent, is a `ref` to the node with the same `id` earlier in the tree (depth-first, members
 * in order); past the budget a struct not yet given is `unknown` with its size. A `ref` can be read as `size`
 * opaque bytes.
 */
export type BtfType =
  | { kind: 'void' }
  | { kind: 'int'; name: string; size: number; signed: boolean; char: boolean; bool: boolean; bits: number }
  | { kind: 'float'; name: string; size: number }
  | { kind: 'ptr'; size: number; target: string }
  | { kind: 'array'; size: number; elem: BtfType; length: number }
  | {
      kind: 'struct' | 'union';
      name: string;
      size: number;
      members: BtfMember[];
      /** BTF type id, what a `ref` names. */
      id?: number;
    }
  | { kind: 'enum'; name: string; size: number; signed: boolean; values: { name: string; value: number }[] }
  | { kind: 'typedef'; name: string; size: number; target: BtfType }
  | { kind: 'fwd' | 'func' | 'unknown'; name: string; size: number }
  | { kind: 'ref'; id: number; name: string; size: number };

export interface BtfMember {
  name: string;
  /** Offset from the start of the enclosing struct, in bits. */
  bitOffset: number;
  /** Non-zero for bitfields: the width in bits. */
  bitSize: number;
  type: BtfType;
}

/** One program of an object file, as libbpf sees it before load. */
export interface ProgramSpec {
  name: string;
  section: string;
  /** Kernel program type, lower case without prefix: "tracepoint", "xdp", "lsm", ... */
  type: string;
  /** Expected attach type, lower case without prefix ("trace_fentry", "lsm_mac", ...), or "" when none. */
  expectedAttachType: string;
  insnCount: number;
  autoload: boolean;
}

export interface MapSpec {
  name: string;
  /** Lower case without prefix: "hash", "percpu_array", "ringbuf", ... */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** Internal maps (.rodata, .data, .bss, .kconfig) that libbpf creates for globals. */
  internal: boolean;
}

/** A global variable in a data section: `const volatile` ones live in .rodata and can be set before load. */
export interface VariableSpec {
  name: string;
  /** ".rodata", ".data", ".bss" or a custom ".rodata.*"/".data.*" section. */
  section: string;
  offset: number;
  size: number;
  type: BtfType;
  /** The initial bytes from the object file (zeros for .bss); empty for a variable over 1 MiB. */
  initial: Buffer;
}

export interface ObjectSpec {
  path: string;
  /** The object's name as libbpf derives it (file name without .o / .bpf.o). */
  name: string;
  programs: ProgramSpec[];
  maps: MapSpec[];
  variables: VariableSpec[];
  /** BTF of the object describes structs that the event decoders may use; names of all structs. */
  structNames: string[];
}

export interface ProgramInfo {
  id: number;
  name: string;
  type: string;
  tag: string;
  mapIds: number[];
  /** Nanoseconds since boot (CLOCK_BOOTTIME) when loaded. */
  loadTimeNs: number;
  uid: number;
  runCount: number;
  runTimeNs: number;
  recursionMisses: number;
  verifiedInsns: number;
  xlatedBytes: number;
  jitedBytes: number;
  btfId: number;
  gplCompatible: boolean;
}

export interface MapInfo {
  id: number;
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

export interface LinkInfo {
  id: number;
  /** "raw_tracepoint", "tracing", "cgroup", "iter", "netns", "xdp", "perf_event", "kprobe_multi", "tcx", ... */
  type: string;
  progId: number;
  /** What it is attached to, as well as the kernel tells: tracepoint name, ifindex, cgroup id, ... */
  target: string;
  ifindex?: number;
  cgroupId?: number;
  attachType?: string;
}

/** One BTF line info record, resolved through the program's BTF. */
export interface InsnLineInfo {
  /** Index (in 8-byte instruction slots) of the first xlated instruction of this line. */
  insnOffset: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text as the compiler recorded it. */
  text: string;
}

export interface ProgramInstructions {
  name: string;
  tag: string;
  /** struct bpf_insn[] as the kernel runs it after the verifier's rewrites (empty without raw dump rights). */
  xlated: Buffer;
  /** Machine code of the JIT (empty when the JIT is off). */
  jited: Buffer;
  lineInfo: InsnLineInfo[];
  /** Kernel address (hex) where each lineInfo entry's JITed code starts, same order as lineInfo. */
  jitedLineAddresses: string[];
  /** Kernel address (hex) of each JITed function: the program first, then its subprograms. */
  jitedFunctionAddresses: string[];
  /** Byte length of each JITed function; the image holds them back to back. */
  jitedFunctionLengths: number[];
}
