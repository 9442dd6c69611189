// The shapes of a verifier walk (verifier-trace.ts parses it): steps, register and stack states, the
// failure at its end and the verifier's statistics. Pure types, used by the host and the verifier debug adapter.
import type { VerifierStats } from '../protocol/methods';
import type { SourceLocation } from './verifier-rejection';
import type { DiagnosticReport } from './verifier-report-7x';

export interface ScalarBounds {
  smin?: bigint;
  smax?: bigint;
  umin?: bigint;
  umax?: bigint;
  smin32?: number;
  smax32?: number;
  umin32?: number;
  umax32?: number;
}

/** A register (or a spilled register) as the verifier sees it. */
export interface RegisterState {
  /** The verifier's text: "map_value_or_null(id=2,map=counts,ks=4,vs=8)", "fp-4", "P0xdd86". */
  text: string;
  /** The type as printed, prefixes included: "scalar", "map_value_or_null", "trusted_ptr_task_struct", "fp". */
  type: string;
  /** The type without rdonly_/ringbuf_/user_/percpu_/rcu_/untrusted_/trusted_ and or_null: "map_value",
   *  "pkt", "ptr" (a BTF-typed kernel pointer, see btfType), "dynptr_ringbuf", ... */
  kind: string;
  /** The pointer may be NULL (the type says or_null). */
  nullable: boolean;
  /** The kernel type behind a `ptr_` pointer: "task_struct". */
  btfType?: string;
  /** The verifier tracks this scalar precisely (the P mark). */
  precise: boolean;
  /** A known value: the constant of a scalar, the offset of a frame pointer (fp-8 → -8), `imm=`. */
  imm?: bigint;
  id?: number;
  refObjId?: number;
  off?: number;
  /** Bytes proven readable past a packet pointer (`r=`). */
  range?: number;
  /** The map a map pointer or map value belongs to. */
  map?: { name?: string; keySize?: number; valueSize?: number };
  /** `sz=` of a memory pointer. */
  size?: number;
  bounds: ScalarBounds;
  /** Known bits: value and mask of unknown bits. */
  varOff?: { value: bigint; mask: bigint };
  /** Anything else inside the parentheses, as printed. */
  extra?: Record<string, string>;
}

export interface StackSlot {
  /** Offset from the frame pointer: -8, -16, ... */
  offset: number;
  /** The verifier's text: "mmmm????", "ctx()", "0". */
  text: string;
  /** Per byte, lowest address first as printed: m misc, 0 zero, ? invalid, r spilled, d dynptr, i iterator. */
  bytes?: string;
  /** The register spilled into the slot. */
  spilled?: RegisterState;
}

export interface FrameState {
  /** 0 for the program, 1.. for subprogram calls. */
  frame: number;
  /** R0..R10 by number; undefined where the register holds nothing readable. */
  registers: (RegisterState | undefined)[];
  /** Slots the verifier printed, fp-8 first. */
  stack: StackSlot[];
  /** Acquired reference ids (`refs=`). */
  refs?: number[];
  /** `cb` (in a callback), `async_cb`. */
  flags?: string[];
}

export interface VerifierState {
  /** Outermost first; the last is the frame the step runs in. */
  frames: FrameState[];
}

export interface TraceStep {
  step: number;
  /** The instruction index. */
  insn: number;
  /** Frame depth: 0 in the program, 1 in a subprogram it called, ... */
  frame: number;
  /** The instruction: "(79) r1 = *(u64 *)(r0 +0)". */
  instruction: string;
  /** The C line, from the nearest `; code @ file:line` before it (line 0 annotations are skipped). */
  file?: string;
  line?: number;
  code?: string;
  /** Set on the first step of a path the verifier resumed: the branch instruction it had pushed. */
  resumedFrom?: number;
  /** The resumed path is one the verifier explores for speculative execution. */
  speculative?: boolean;
}

/** A name the step changed: "R0", "fp-8" in frame `frame`. */
export interface StateChange {
  frame: number;
  name: string;
}

export interface TraceFailure {
  message: string;
  /** The step that failed (the last one), when the failure is at an instruction. */
  step?: number;
  insn?: number;
  instruction?: string;
  location?: SourceLocation;
  /** The source lines the verifier walked to get there, oldest first, without repeats or the failing line. */
  path: SourceLocation[];
  report?: DiagnosticReport;
}

/** The statistics line of a log: the helper's verifier statistics, which also carry the JITed size. */
export type TraceStats = Omit<VerifierStats, 'jitedBytes'>;

export interface TraceOptions {
  /** Steps between stored full states (default 128): memory against the cost of reaching a step. */
  checkpointEvery?: number;
  /** What the load said, when known; otherwise the log's tail decides whether there is a failure. */
  verdict?: 'accepted' | 'rejected';
}
