// Turns a verifier log (level 1 or 2) into the walk it records: one step per instruction the verifier
// processed, in order, with the frame depth, the C line and the register/stack state before and after.
//
// How the kernel prints it (kernel/bpf/verifier.c do_check, kernel/bpf/log.c print_verifier_state):
// - `N: (op) insn` for each instruction, and after it `; R0=... fp-8=...` with only the registers and
//   stack slots the instruction touched ("scratched"), or on a line of its own as `N: R0=...` when
//   something was logged in between (precision backtracking, a callee block);
// - a full state of the current frame at the start (`0: R1=ctx() R10=fp0`), when a branch is popped at
//   level 2 (`from X to Y: ...`), when entering or leaving a subprogram (`caller:`/`callee:`,
//   `returning from callee:`/`to caller at N:`); `frameN:` prefixes every state of frame N > 0;
// - at level 1 the kernel rewinds the log when it abandons a path, so the popped branch's full state
//   follows the branch instruction directly, often on its very line (`3: (2d) if r1 > r0 goto pc+3 7: R0=...`);
// - `; <code> @ <file>:<line>` before the first instruction of each source line;
// - registers it no longer prints (R1-R5 after a call) simply vanish from later states.
//
// A million-step log is 100 MB of text, so states are not materialised per step: the parser records, per
// step, a few integers (instruction, frame, line, offsets) and the range of its state operations (each an
// offset into the log); a state is where each register's text starts in the log. Every `checkpointEvery`
// steps it keeps the whole state, shared copy-on-write. A step's state is the nearest checkpoint plus at
// most that many steps of operations, turned into objects only when asked for. Pure: no I/O.
import { parseRejection, type SourceLocation } from './verifier-rejection';
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

export interface TraceStats {
  insnsProcessed?: number;
  insnsLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
  verificationTimeUsec?: number;
  stackDepth?: number[];
}

export interface TraceOptions {
  /** Steps between stored full states (default 128): memory against the cost of reaching a step. */
  checkpointEvery?: number;
  /** What the load said, when known; otherwise the log's tail decides whether there is a failure. */
  verdict?: 'accepted' | 'rejected';
}

// ---------------------------------------------------------------------------------------------------
// Raw states: where in the log each register's and slot's text starts (it ends at the next space outside
// parentheses), shared copy-on-write between checkpoints. No strings are cut while parsing.

interface RawFrame {
  /** Start offset of R0..R10's text in the log, -1 when the register holds nothing readable. */
  regs: number[];
  /** Slot offset (-8, -16, ...) and the start of its text, in pairs. */
  stack: number[];
  /** Start of the `refs=` list, -1 when none. */
  refs: number;
  flags?: string;
  /** Referenced by a checkpoint or a saved branch state: copy before changing. */
  shared: boolean;
}

function emptyFrame(): RawFrame {
  return { regs: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1], stack: [], refs: -1, shared: false };
}

function cloneFrame(f: RawFrame): RawFrame {
  return { regs: f.regs.slice(), stack: f.stack.slice(), refs: f.refs, flags: f.flags, shared: false };
}

function own(frames: RawFrame[], index: number): RawFrame {
  let f = frames[index];
  if (f.shared) {
    f = cloneFrame(f);
    frames[index] = f;
  }
  return f;
}

/** The text of a value starting at `start`: up to a space outside parentheses or the end of the line. */
function valueAt(s: string, start: number): string {
  let depth = 0;
  let i = start;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth--;
    else if (c === 10 || c === 13 || (c === 32 && depth <= 0)) break;
  }
  return s.slice(start, i);
}

const enum Op {
  /** Set what the text names in frame `frame` (deeper frames end: the walk returned). */
  Delta = 0,
  /** Replace frame `frame` with the text; outer frames from `aux` (a saved branch) or kept. */
  Full = 1,
  /** A call: R1-R5 of the current frame are no longer readable. */
  Clobber = 2,
  /** A new verification starts (a global subprogram): no frames. */
  Reset = 3,
}

/** Where the state text after a `frameN:` prefix starts; set by framePrefix. */
let prefixEnd = 0;

/** Reads an optional `frameN:` at `i`: returns N (0 when absent) and leaves the text's start in prefixEnd. */
function framePrefix(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === 32) i++;
  prefixEnd = i;
  if (s.startsWith('frame', i)) {
    let j = i + 5;
    let n = 0;
    while (j < end) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      j++;
    }
    if (j > i + 5 && s.charCodeAt(j) === 58 /* : */) {
      prefixEnd = j + 1;
      return n;
    }
  }
  return 0;
}

/**
 * Applies `R3=... fp-8=... refs=1 cb` from s[i, end) to a frame, recording where each value starts.
 * Values may hold spaces inside parentheses (`var_off=(0x0; 0xff)`).
 */
function applyStateText(f: RawFrame, s: string, i: number, end: number): void {
  while (i < end) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    let eq = -1;
    let depth = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c === 40) depth++;
      else if (c === 41) depth--;
      else if (c === 32 && depth <= 0) break;
      else if (c === 61 && eq < 0 && depth === 0) eq = i;
      i++;
    }
    const c0 = s.charCodeAt(start);
    if (eq < 0) {
      if (c0 === 99 /* c */ || c0 === 97 /* a */) {
        const flag = s.slice(start, i);
        if (flag === 'cb' || flag === 'async_cb') f.flags = f.flags ? `${f.flags} ${flag}` : flag;
      }
      continue;
    }
    if (c0 === 82 /* R */) {
      let n = 0;
      let j = start + 1;
      for (; j < eq; j++) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) break;
        n = n * 10 + (d - 48);
      }
      if (j > start + 1 && n <= 10) f.regs[n] = eq + 1;
    } else if (c0 === 102 /* f */ && s.charCodeAt(start + 1) === 112 /* p */) {
      let j = start + 2;
      const negative = s.charCodeAt(j) === 45;
      if (negative) j++;
      let n = 0;
      const digits = j;
      for (; j < eq; j++) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) break;
        n = n * 10 + (d - 48);
      }
      if (j > digits) {
        const off = negative ? -n : n;
        let k = 0;
        while (k < f.stack.length && f.stack[k] !== off) k += 2;
        f.stack[k] = off;
        f.stack[k + 1] = eq + 1;
      }
    } else if (eq === start + 4 && s.startsWith('refs', start)) {
      f.refs = eq + 1;
    }
  }
}

function applyFull(
  frames: RawFrame[],
  frame: number,
  s: string,
  start: number,
  end: number,
  outer: RawFrame[] | undefined,
): void {
  if (outer) {
    frames.length = 0;
    for (let k = 0; k < frame; k++) frames.push(outer[k] ?? emptyFrame());
  } else {
    if (frames.length > frame) frames.length = frame;
    while (frames.length < frame) frames.push(emptyFrame());
  }
  const f = emptyFrame();
  applyStateText(f, s, start, end);
  frames.push(f);
}

function applyDelta(frames: RawFrame[], frame: number, s: string, start: number, end: number): void {
  if (frames.length > frame + 1) frames.length = frame + 1;
  while (frames.length < frame + 1) frames.push(emptyFrame());
  applyStateText(own(frames, frame), s, start, end);
}

// ---------------------------------------------------------------------------------------------------
// Growable arrays of 32-bit integers.

class Column {
  data: Int32Array;
  length = 0;
  constructor(
    capacity = 1024,
    private readonly fill = 0,
  ) {
    this.data = new Int32Array(capacity);
    if (fill !== 0) this.data.fill(fill);
  }
  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }
  /** Sets data[index], growing (and filling) as needed. */
  put(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    if (index >= this.length) this.length = index + 1;
    this.data[index] = value;
  }
  get(index: number): number {
    return index < this.length ? this.data[index] : this.fill;
  }
  trim(): Int32Array {
    return this.data.subarray(0, this.length);
  }
  private grow(atLeast: number): void {
    const bigger = new Int32Array(Math.max(atLeast, this.data.length * 2));
    if (this.fill !== 0) bigger.fill(this.fill, this.data.length);
    bigger.set(this.data);
    this.data = bigger;
  }
}

/** Fixed-width records of 32-bit integers in one array: one growth check per record, not per field. */
class Table {
  data: Int32Array;
  count = 0;
  constructor(
    readonly width: number,
    capacity: number,
  ) {
    this.data = new Int32Array(width * Math.max(16, capacity));
  }
  /** Appends a zeroed record and returns the index of its first field. */
  add(): number {
    const base = this.count * this.width;
    if (base + this.width > this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.count++;
    return base;
  }
  trim(): Int32Array {
    return this.data.subarray(0, this.count * this.width);
  }
}

// Step record fields.
const S_INSN = 0;
const S_FRAME_FLAGS = 1; // depth | flags << 8
const S_LOC = 2;
const S_TEXT_START = 3;
const S_TEXT_END = 4;
const S_OP_BEFORE = 5;
const S_OP_AFTER = 6;
const S_RESUMED_FROM = 7; // the branch instruction a resumed path came from, -1 elsewhere
const STEP_WIDTH = 8;
// State operation record fields.
const O_KIND_FRAME = 0; // kind | frame << 8
const O_START = 1;
const O_END = 2;
const O_AUX = 3;
const OP_WIDTH = 4;

// ---------------------------------------------------------------------------------------------------
// The trace.

const enum StepFlag {
  Resumed = 1,
  Speculative = 2,
}

/** @internal What a trace is made of: step and state operation records, checkpoints, paths. */
interface Columns {
  every: number;
  steps: Int32Array;
  stepCount: number;
  ops: Int32Array;
  savedFrames: RawFrame[][];
  checkpoints: RawFrame[][];
  checkpointOp: Int32Array;
  segFirst: Int32Array;
  segParent: Int32Array;
  locations: SourceLocation[];
}

function applyOp(frames: RawFrame[], log: string, t: Columns, op: number): void {
  const o = op * OP_WIDTH;
  const kf = t.ops[o + O_KIND_FRAME];
  applyOpValues(frames, log, kf & 0xff, kf >> 8, t.ops[o + O_START], t.ops[o + O_END], t.ops[o + O_AUX], t.savedFrames);
}

function applyOpValues(
  frames: RawFrame[],
  log: string,
  kind: number,
  frame: number,
  start: number,
  end: number,
  aux: number,
  saved: RawFrame[][],
): void {
  switch (kind) {
    case Op.Delta:
      applyDelta(frames, frame, log, start, end);
      break;
    case Op.Full:
      applyFull(frames, frame, log, start, end, aux >= 0 ? saved[aux] : undefined);
      break;
    case Op.Clobber:
      if (frames.length > 0) {
        const f = own(frames, frames.length - 1);
        for (let r = 1; r <= 5; r++) f.regs[r] = -1;
      }
      break;
    case Op.Reset:
      frames.length = 0;
      break;
  }
}

export class VerifierTrace {
  /** Number of steps. */
  readonly length: number;
  readonly failure?: TraceFailure;
  readonly stats: TraceStats;
  /** The global subprograms verified on their own ("Validating f() func#2..."): their first step. */
  readonly sections: { name: string; firstStep: number }[];

  /** @internal Use parseVerifierTrace. */
  constructor(
    private readonly log: string,
    private readonly t: Columns,
    stats: TraceStats,
    sections: { name: string; firstStep: number }[],
  ) {
    this.length = t.stepCount;
    this.stats = stats;
    this.sections = sections;
  }

  step(index: number): TraceStep {
    this.check(index);
    const t = this.t;
    const b = index * STEP_WIDTH;
    const loc = t.steps[b + S_LOC];
    const ff = t.steps[b + S_FRAME_FLAGS];
    const step: TraceStep = {
      step: index,
      insn: t.steps[b + S_INSN],
      frame: ff & 0xff,
      instruction: this.log.slice(t.steps[b + S_TEXT_START], t.steps[b + S_TEXT_END]),
    };
    if (loc >= 0) {
      step.file = t.locations[loc].file;
      step.line = t.locations[loc].line;
      step.code = t.locations[loc].code;
    }
    if ((ff >> 8) & StepFlag.Resumed) step.resumedFrom = t.steps[b + S_RESUMED_FROM];
    if ((ff >> 8) & StepFlag.Speculative) step.speculative = true;
    return step;
  }

  /** The state when the verifier reached the step, before the instruction. */
  stateBefore(index: number): VerifierState {
    this.check(index);
    return materialise(this.log, this.replay(index, this.t.steps[index * STEP_WIDTH + S_OP_BEFORE]));
  }

  /** The state after the step's instruction (after a call into a subprogram: inside the callee). */
  stateAfter(index: number): VerifierState {
    this.check(index);
    return materialise(this.log, this.replay(index, this.t.steps[index * STEP_WIDTH + S_OP_AFTER]));
  }

  /** What the step's instruction changed, as the verifier printed it (a call also ends R1-R5). */
  changes(index: number): StateChange[] {
    this.check(index);
    const t = this.t;
    const seen = new Set<string>();
    const out: StateChange[] = [];
    const opBefore = t.steps[index * STEP_WIDTH + S_OP_BEFORE];
    const opAfter = t.steps[index * STEP_WIDTH + S_OP_AFTER];
    const frames = this.replay(index, opBefore);
    const add = (frame: number, name: string) => {
      const key = `${frame}:${name}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ frame, name });
    };
    for (let op = opBefore; op < opAfter; op++) {
      const o = op * OP_WIDTH;
      const kind = t.ops[o + O_KIND_FRAME] & 0xff;
      const frame = kind === Op.Clobber ? Math.max(0, frames.length - 1) : t.ops[o + O_KIND_FRAME] >> 8;
      if (kind === Op.Clobber) {
        for (let r = 1; r <= 5; r++) add(frame, `R${r}`);
      } else if (kind === Op.Delta || kind === Op.Full) {
        const f = emptyFrame();
        applyStateText(f, this.log, t.ops[o + O_START], t.ops[o + O_END]);
        f.regs.forEach((start, r) => start >= 0 && add(frame, `R${r}`));
        for (let k = 0; k < f.stack.length; k += 2) add(frame, `fp${f.stack[k]}`);
      }
      applyOp(frames, this.log, t, op);
    }
    return out;
  }

  /** The step whose branch this step's path resumed (the pushed branch instruction), or -1 on the first path. */
  parentStep(index: number): number {
    this.check(index);
    return this.t.segParent[this.segmentOf(index)];
  }

  /** The steps of the path that leads to this step, as [first, last] runs from the start of its verification. */
  pathTo(index: number): [number, number][] {
    this.check(index);
    const runs: [number, number][] = [];
    let last = index;
    while (last >= 0) {
      const seg = this.segmentOf(last);
      runs.push([this.t.segFirst[seg], last]);
      const parent = this.t.segParent[seg];
      last = parent < last ? parent : -1;
    }
    return runs.reverse();
  }

  /** Steps at a source line, in walk order (for breakpoints). A file matches by its path or its trailing part. */
  stepsAt(file: string, line: number): number[] {
    const t = this.t;
    const wanted = new Set<number>();
    t.locations.forEach((l, i) => {
      if (l.line === line && (l.file === file || l.file.endsWith(`/${file}`) || file.endsWith(`/${l.file}`)))
        wanted.add(i);
    });
    const out: number[] = [];
    if (wanted.size === 0) return out;
    for (let i = 0; i < this.length; i++) if (wanted.has(t.steps[i * STEP_WIDTH + S_LOC])) out.push(i);
    return out;
  }

  /** Distinct source lines of the log, in the order first met. */
  get sourceLocations(): readonly SourceLocation[] {
    return this.t.locations;
  }

  /** Index into sourceLocations of a step's line, or -1. */
  locationIndex(index: number): number {
    this.check(index);
    return this.t.steps[index * STEP_WIDTH + S_LOC];
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new RangeError(`no step ${index} (0..${this.length - 1})`);
  }

  private segmentOf(step: number): number {
    const first = this.t.segFirst;
    let lo = 0;
    let hi = first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (first[mid] <= step) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private replay(step: number, untilOp: number): RawFrame[] {
    const t = this.t;
    const c = Math.floor(step / t.every);
    const frames = t.checkpoints[c].slice();
    for (let op = t.checkpointOp[c]; op < untilOp; op++) applyOp(frames, this.log, t, op);
    return frames;
  }
}

// ---------------------------------------------------------------------------------------------------
// The pass over the log.

const enum Block {
  None,
  Caller,
  Callee,
  Returning,
  ToCaller,
}

const rewindOnLine = / (\d+): (?=R\d|frame\d|fp-?\d)/;
/** The N of `goto pc+N` / `goto pc-N` in s[from, to), or NaN. */
function gotoOffset(s: string, from: number, to: number): number {
  for (let k = from; k + 8 < to; k++) {
    if (s.charCodeAt(k) !== 103 /* g */ || !s.startsWith('goto pc', k)) continue;
    const sign = s.charCodeAt(k + 7);
    if (sign !== 43 && sign !== 45) return NaN;
    let n = 0;
    let j = k + 8;
    for (; j < to; j++) {
      const c = s.charCodeAt(j);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
    }
    return j > k + 8 ? (sign === 45 ? -n : n) : NaN;
  }
  return NaN;
}
const fromLine = /^from (\d+) to (\d+)( \(speculative execution\))?:/;
const processedLine =
  /^processed (\d+) insns \(limit (\d+)\) max_states_per_insn (\d+) total_states (\d+) peak_states (\d+) mark_read (\d+)/;

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses a verifier log into its walk. Never throws on odd text: lines it does not know are skipped. */
export function parseVerifierTrace(log: string, options: TraceOptions = {}): VerifierTrace {
  const every = Math.max(1, Math.floor(options.checkpointEvery ?? 128));
  // A million steps take ~100 MB of log; start the columns near the size they will reach.
  const guess = Math.max(1024, Math.min(1 << 22, Math.floor(log.length / 96)));
  const steps = new Table(STEP_WIDTH, guess);
  const ops = new Table(OP_WIDTH, guess * 2);
  const checkpointOp = new Column();
  const segFirst = new Column();
  const segParent = new Column();
  const checkpoints: RawFrame[][] = [];
  const savedFrames: RawFrame[][] = [];
  const locations: SourceLocation[] = [];
  /** Hash of an annotation line -> [its text, location index (-1 for line 0)], so repeats are parsed once. */
  const annotations = new Map<number, [string, number][]>();
  const locationByKey = new Map<string, number>();
  const sections: { name: string; firstStep: number }[] = [];
  const stats: TraceStats = {};

  /** Outer frames at the last visit of a branch or call instruction inside a subprogram, by insn. */
  const outerAt = new Map<number, RawFrame[]>();
  /** Last step at each instruction, to find the step a popped branch came from. */
  const lastVisit = new Column(4096, -1);

  const frames: RawFrame[] = [];
  let loc = -1;
  let afterOpen = false; // state operations now belong to the last step's after-state
  let expectFull = true; // the next `N: state` is a whole frame (the start, after a pop)
  let block = Block.None;
  let lastInsn = -1;
  let nextInsn = -1;
  let gotoTarget = -1;
  let lastWasCall = false;
  let pendingResume = -1; // insn X of the `from X to Y` whose path the next step starts
  let pendingSpeculative = false;
  let newSegmentParent = -2; // -2: no new path pending; else the step it branched from
  let lastStepLineStart = -1;

  const addOp = (kind: Op, frame: number, start: number, end: number, aux: number) => {
    const f = Math.min(255, Math.max(0, frame));
    const o = ops.add();
    const d = ops.data;
    d[o + O_KIND_FRAME] = kind | (f << 8);
    d[o + O_START] = start;
    d[o + O_END] = end;
    d[o + O_AUX] = aux;
    applyOpValues(frames, log, kind, f, start, end, aux, savedFrames);
    if (afterOpen && steps.count > 0) steps.data[(steps.count - 1) * STEP_WIDTH + S_OP_AFTER] = ops.count;
  };

  /** The walk abandoned the current path: what follows starts another, resumed at a branch of `fromInsn`. */
  const popped = (fromInsn: number) => {
    afterOpen = false;
    expectFull = true;
    newSegmentParent = fromInsn >= 0 ? lastVisit.get(fromInsn) : -1;
    pendingResume = fromInsn;
    lastInsn = -1;
    nextInsn = -1;
    gotoTarget = -1;
    lastWasCall = false;
  };

  const fullState = (frame: number, start: number, end: number, fromInsn: number) => {
    let aux = -1;
    if (frame > 0 && fromInsn >= 0) {
      const outer = outerAt.get(fromInsn);
      if (outer) aux = savedFrames.push(outer) - 1;
    }
    addOp(Op.Full, frame, start, end, aux);
  };

  const len = log.length;
  let pos = 0;
  while (pos < len) {
    let eol = log.indexOf('\n', pos);
    if (eol < 0) eol = len;
    let end = eol;
    if (end > pos && log.charCodeAt(end - 1) === 13) end--;
    const c0 = log.charCodeAt(pos);

    if (c0 >= 48 && c0 <= 57) {
      // `N: (op) insn`, `N: state`, `N: safe`.
      let i = pos;
      let n = 0;
      while (i < end) {
        const c = log.charCodeAt(i);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        i++;
      }
      const body = i + 2;
      if (log.charCodeAt(i) === 58 && log.charCodeAt(i + 1) === 32 && body < end) {
        const b0 = log.charCodeAt(body);
        const hi = hexDigit(log.charCodeAt(body + 1));
        const lo = hexDigit(log.charCodeAt(body + 2));
        if (b0 === 40 && hi >= 0 && lo >= 0 && log.charCodeAt(body + 3) === 41) {
          // An instruction; its changes follow after `;` (never part of an instruction's text).
          block = Block.None;
          const opcode = hi * 16 + lo;
          const isJumpClass = (opcode & 7) === 5 || (opcode & 7) === 6;
          const isCall = opcode === 0x85 || opcode === 0x8d;
          // Up to `;` (never part of an instruction's text) come the instruction and, after a level 1
          // rewind, the popped branch's state: `... goto pc+3 7: R0=...` (whose var_off may hold a `;`).
          let semi = -1;
          let colonSpace = false;
          for (let k = body + 4; k < end; k++) {
            const c = log.charCodeAt(k);
            if (c === 59) {
              semi = k;
              break;
            }
            if (c === 58 && log.charCodeAt(k + 1) === 32) colonSpace = true;
          }
          let textEnd = semi >= 0 ? semi : end;
          let rewindAt = -1;
          let rewindDigits = 0;
          if (isJumpClass && colonSpace) {
            const m = rewindOnLine.exec(log.slice(body, end));
            if (m) {
              rewindAt = body + m.index + 1;
              rewindDigits = m[1].length;
              textEnd = body + m.index;
              semi = -1;
            }
          }
          while (textEnd > body && log.charCodeAt(textEnd - 1) === 32) textEnd--;

          const step = steps.count;
          if (step % every === 0) {
            for (const f of frames) f.shared = true;
            checkpoints.push(frames.slice());
            checkpointOp.push(ops.count);
          }
          if (newSegmentParent !== -2 || step === 0) {
            segFirst.push(step);
            segParent.push(step === 0 ? -1 : newSegmentParent);
            newSegmentParent = -2;
          }
          let flags = 0;
          if (pendingResume >= 0) flags |= StepFlag.Resumed;
          if (pendingSpeculative) flags |= StepFlag.Speculative;
          const depth = Math.min(255, Math.max(0, frames.length - 1));
          const sb = steps.add();
          const sd = steps.data;
          sd[sb + S_INSN] = n;
          sd[sb + S_FRAME_FLAGS] = depth | (flags << 8);
          sd[sb + S_LOC] = loc;
          sd[sb + S_TEXT_START] = body;
          sd[sb + S_TEXT_END] = textEnd;
          sd[sb + S_OP_BEFORE] = ops.count;
          sd[sb + S_OP_AFTER] = ops.count;
          sd[sb + S_RESUMED_FROM] = pendingResume;
          pendingResume = -1;
          pendingSpeculative = false;
          lastVisit.put(n, step);
          lastStepLineStart = pos;
          afterOpen = true;
          expectFull = false;

          const jump = isJumpClass ? gotoOffset(log, body, textEnd) : NaN;
          const isJump = !Number.isNaN(jump);
          if (isCall) addOp(Op.Clobber, depth, 0, 0, -1);
          if (depth > 0 && (isCall || isJump)) {
            const outer = frames.slice(0, depth);
            for (const f of outer) f.shared = true;
            outerAt.set(n, outer);
          }
          if (semi >= 0) {
            const frame = framePrefix(log, semi + 1, end);
            addOp(Op.Delta, frame, prefixEnd, end, -1);
          }
          lastInsn = n;
          nextInsn = n + (opcode === 0x18 ? 2 : 1);
          gotoTarget = -1;
          lastWasCall = isCall;
          if (isJump) gotoTarget = n + 1 + jump;
          if (rewindAt >= 0) {
            popped(n);
            const frame = framePrefix(log, rewindAt + rewindDigits + 1, end);
            fullState(frame, prefixEnd, end, -1);
            expectFull = false;
          }
        } else if (b0 === 115 /* s */ && end - body === 4 && log.startsWith('safe', body)) {
          block = Block.None;
          popped(-1);
        } else if (b0 === 82 || b0 === 102 || b0 === 32) {
          // A state: the start, a popped branch, or what the last instruction changed.
          const frame = framePrefix(log, body, end);
          const afterBlock = block !== Block.None;
          block = Block.None;
          // At level 1 a popped branch's state may follow its branch on a line of its own.
          const rewind =
            !expectFull &&
            !afterBlock &&
            !lastWasCall &&
            lastInsn >= 0 &&
            n !== lastInsn &&
            n !== nextInsn &&
            n !== gotoTarget;
          if (rewind) popped(lastInsn);
          if (expectFull || rewind) {
            fullState(frame, prefixEnd, end, -1);
            expectFull = false;
          } else {
            addOp(Op.Delta, frame, prefixEnd, end, -1);
          }
        }
      }
    } else if (c0 === 59 /* ; */) {
      // The same few annotations repeat all through a long log: find them by a hash of the line
      // without cutting a string out of the log for each.
      let h = end - pos;
      for (let k = pos; k < end; k++) h = (Math.imul(h, 31) + log.charCodeAt(k)) | 0;
      const known = annotations.get(h);
      let index = -2;
      if (known) {
        for (const [text, at] of known) {
          if (text.length === end - pos && log.startsWith(text, pos)) {
            index = at;
            break;
          }
        }
      }
      if (index === -2) {
        const text = log.slice(pos, end);
        const at = sourceAnnotationAt(text, 0, text.length);
        index = -1;
        if (at) {
          const key = `${at.file}:${at.line}`;
          index = locationByKey.get(key) ?? -1;
          if (index < 0) {
            index = locations.push(at) - 1;
            locationByKey.set(key, index);
          }
        }
        if (known) known.push([text, index]);
        else annotations.set(h, [[text, index]]);
      }
      if (index >= 0) loc = index;
    } else if (c0 === 32 /* indented */) {
      if (block !== Block.None) {
        const frame = framePrefix(log, pos, end);
        // The callee's last state ("returning from callee:") is what its exit already showed.
        if (block !== Block.Returning) fullState(frame, prefixEnd, end, -1);
        block = Block.None;
      } else if (lastInsn >= 0) {
        // Kernels before 5.17 print the whole state after a branch on a line of its own: ` R0=... R1=...`.
        const frame = framePrefix(log, pos, end);
        const c = log.charCodeAt(prefixEnd);
        if (
          c === 82 /* R */ &&
          prefixEnd + 1 < end &&
          hexDigit(log.charCodeAt(prefixEnd + 1)) >= 0 &&
          hexDigit(log.charCodeAt(prefixEnd + 1)) <= 9
        ) {
          fullState(frame, prefixEnd, end, -1);
        }
      }
    } else if (c0 === 102 /* f */) {
      if (log.startsWith('from ', pos)) {
        const m = fromLine.exec(log.slice(pos, Math.min(end, pos + 80)));
        if (m) {
          const fromInsn = Number(m[1]);
          popped(fromInsn);
          const rest = pos + m[0].length;
          if (log.startsWith(' safe', rest)) {
            pendingResume = -1;
          } else {
            pendingSpeculative = m[3] !== undefined;
            const frame = framePrefix(log, rest, end);
            fullState(frame, prefixEnd, end, fromInsn);
            expectFull = false;
          }
        }
      }
    } else if (c0 === 99 /* c */) {
      if (log.startsWith('caller:', pos)) block = Block.Caller;
      else if (log.startsWith('callee:', pos)) block = Block.Callee;
    } else if (c0 === 114 /* r */) {
      if (log.startsWith('returning from callee:', pos)) block = Block.Returning;
    } else if (c0 === 116 /* t */) {
      if (log.startsWith('to caller at ', pos)) block = Block.ToCaller;
    } else if (c0 === 86 /* V */) {
      if (log.startsWith('Validating ', pos)) {
        const m = /^Validating (\S+?)(?:\(\))? func#(\d+)/.exec(log.slice(pos, end));
        afterOpen = false;
        expectFull = true;
        newSegmentParent = -1;
        lastInsn = -1;
        sections.push({ name: m ? m[1] : log.slice(pos + 11, end), firstStep: steps.count });
        addOp(Op.Reset, 0, 0, 0, -1);
      }
    } else if (c0 === 112 /* p */) {
      if (log.startsWith('processed ', pos)) {
        const m = processedLine.exec(log.slice(pos, end));
        if (m) {
          [
            stats.insnsProcessed,
            stats.insnsLimit,
            stats.maxStatesPerInsn,
            stats.totalStates,
            stats.peakStates,
            stats.markRead,
          ] = m.slice(1).map(Number);
        }
      }
    } else if (c0 === 118 /* v */) {
      if (log.startsWith('verification time ', pos)) {
        const m = /^verification time (\d+) usec/.exec(log.slice(pos, end));
        if (m) stats.verificationTimeUsec = Number(m[1]);
      }
    } else if (c0 === 115 /* s */) {
      if (log.startsWith('stack depth ', pos)) {
        const m = /^stack depth ([\d+]+)/.exec(log.slice(pos, end));
        if (m) stats.stackDepth = m[1].split('+').filter(Boolean).map(Number);
      }
    }
    pos = eol + 1;
  }

  if (segFirst.length === 0) {
    segFirst.push(0);
    segParent.push(-1);
  }
  if (checkpoints.length === 0) {
    checkpoints.push([]);
    checkpointOp.push(0);
  }

  const columns: Columns = {
    every,
    steps: steps.trim(),
    stepCount: steps.count,
    ops: ops.trim(),
    savedFrames,
    checkpoints,
    checkpointOp: checkpointOp.trim(),
    segFirst: segFirst.trim(),
    segParent: segParent.trim(),
    locations,
  };
  const trace = new VerifierTrace(log, columns, stats, sections);
  const failure = findFailure(log, trace, lastStepLineStart, options.verdict);
  if (failure) (trace as { failure?: TraceFailure }).failure = failure;
  return trace;
}

/**
 * Reads `; <code> @ <file>:<line>` from log[pos, end). Line 0 (code the compiler did not tie to a line)
 * gives undefined: such instructions stay with the line before them.
 */
export function sourceAnnotationAt(log: string, pos: number, end: number): SourceLocation | undefined {
  if (log.charCodeAt(pos) !== 59) return undefined;
  const text = pos === 0 && end === log.length ? log : log.slice(pos, end);
  const at = text.lastIndexOf(' @ ');
  if (at < 0) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= at) return undefined;
  const line = Number(text.slice(colon + 1));
  if (!Number.isInteger(line) || line <= 0) return undefined;
  return { file: text.slice(at + 3, colon), line, code: text.slice(Math.min(2, at), at).trim() };
}

/** Lines a verifier prints after an accepted program's last instruction: not a rejection. */
const benignTail = [
  /is safe for any args that match its prototype\.?$/,
  /^Func#\d+ .* is global and assumed valid\.?$/,
  /^\(\d+(,\d+)*\) frame \d+ insn \d+/,
  /live stack update done/,
  /^SCC (enter|exit)/,
  /^(\d+: |from \d+ to \d+( \(speculative execution\))?: )?safe$/,
  /^func#\d+ @\d+$/,
  /^Live regs before insn:$/,
  // With no message at all the classic reading falls back to the last line: an instruction or a state.
  /^\d+: /,
];

/** The rejection at the end of the walk: its message from the log's tail, its path from the walk. */
function findFailure(
  log: string,
  trace: VerifierTrace,
  lastStepLineStart: number,
  verdict: TraceOptions['verdict'],
): TraceFailure | undefined {
  if (verdict === 'accepted') return undefined;
  // Only the tail is read again: the last instruction, the message, a 7.3 report and the statistics.
  const tail = lastStepLineStart >= 0 ? log.slice(lastStepLineStart) : log;
  const rejection = parseRejection(tail);
  if (!rejection) return undefined;
  const said = rejection.message.split('\n').some((l) => l.trim() !== '' && !benignTail.some((b) => b.test(l.trim())));
  if (!said && !rejection.report && verdict !== 'rejected') return undefined;
  const last = trace.length - 1;
  const lastStep = last >= 0 ? trace.step(last) : undefined;
  if (!lastStep || rejection.insn !== lastStep.insn) {
    return {
      message: rejection.message,
      path: [],
      report: rejection.report,
      ...(rejection.location ? { location: rejection.location } : {}),
    };
  }
  const location =
    lastStep.file !== undefined
      ? { file: lastStep.file, line: lastStep.line!, code: lastStep.code ?? '' }
      : rejection.location;
  const path: SourceLocation[] = [];
  for (const [first, lastInRun] of trace.pathTo(last)) {
    for (let i = first; i <= lastInRun; i++) {
      const index = trace.locationIndex(i);
      if (index < 0) continue;
      const l = trace.sourceLocations[index];
      const prev = path[path.length - 1];
      if (!prev || prev.file !== l.file || prev.line !== l.line) path.push(l);
    }
  }
  return {
    message: rejection.message,
    step: last,
    insn: lastStep.insn,
    instruction: rejection.instruction,
    location,
    path: path.filter((p) => !location || p.file !== location.file || p.line !== location.line),
    report: rejection.report,
  };
}

// ---------------------------------------------------------------------------------------------------
// Register and slot texts into objects.

function stackPairs(flat: number[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let k = 0; k < flat.length; k += 2) pairs.push([flat[k], flat[k + 1]]);
  return pairs;
}

function materialise(log: string, frames: RawFrame[]): VerifierState {
  return {
    frames: frames.map((f, frame) => {
      const registers: (RegisterState | undefined)[] = new Array(11);
      f.regs.forEach((start, r) => {
        if (start >= 0) registers[r] = parseRegisterValue(valueAt(log, start));
      });
      const state: FrameState = {
        frame,
        registers,
        stack: stackPairs(f.stack)
          .sort((a, b) => b[0] - a[0])
          .map(([offset, start]) => parseStackSlot(offset, valueAt(log, start))),
      };
      if (f.refs >= 0)
        state.refs = valueAt(log, f.refs)
          .split(',')
          .map(Number)
          .filter((n) => Number.isFinite(n));
      if (f.flags) state.flags = f.flags.split(' ');
      return state;
    }),
  };
}

const slotBytes = /^[?rm0di]{8}$/;

export function parseStackSlot(offset: number, text: string): StackSlot {
  if (slotBytes.test(text)) return { offset, text, bytes: text };
  // A spilled unknown scalar prints as nothing after `=` on older kernels.
  return { offset, text, spilled: parseRegisterValue(text === '' ? 'scalar()' : text) };
}

const typePrefixes = ['rdonly_', 'ringbuf_', 'user_', 'percpu_', 'rcu_', 'untrusted_', 'trusted_'];
const oldBoundNames: Record<string, keyof ScalarBounds> = {
  smin_value: 'smin',
  smax_value: 'smax',
  umin_value: 'umin',
  umax_value: 'umax',
  s32_min_value: 'smin32',
  s32_max_value: 'smax32',
  u32_min_value: 'umin32',
  u32_max_value: 'umax32',
};
const bound64 = new Set(['smin', 'smax', 'umin', 'umax']);
const bound32 = new Set(['smin32', 'smax32', 'umin32', 'umax32']);

function toBigInt(text: string): bigint | undefined {
  const m = /^(-)?(0x[0-9a-f]+|\d+)$/i.exec(text.trim());
  if (!m) return undefined;
  const v = BigInt(m[2]);
  return m[1] ? -v : v;
}

function toNumber(text: string): number | undefined {
  const v = toBigInt(text);
  return v === undefined ? undefined : Number(v);
}

/** Parses one register value as the verifier prints it (6.x and the older `inv`/`_value` spellings). */
export function parseRegisterValue(text: string): RegisterState {
  let rest = text.trim();
  let precise = false;
  if (rest.startsWith('P')) {
    precise = true;
    rest = rest.slice(1);
  }
  const state: RegisterState = { text, type: 'scalar', kind: 'scalar', nullable: false, precise, bounds: {} };

  // A known constant: `5`, `0xffffffff`, `-255`.
  const constant = toBigInt(rest);
  if (constant !== undefined) {
    state.imm = constant;
    return state;
  }
  // A stack pointer at a constant offset: `fp0`, `fp-8`.
  const fp = /^fp(-?\d+)$/.exec(rest);
  if (fp) {
    state.type = 'fp';
    state.kind = 'fp';
    state.off = Number(fp[1]);
    state.imm = BigInt(fp[1]);
    return state;
  }
  // Older kernels: `inv`, `inv12`, `invP0`, `inv(id=0,...)`.
  const inv = /^inv(P?)(-?\d+)?(?=$|\()/.exec(rest);
  let name: string;
  let inner = '';
  if (inv) {
    if (inv[1]) state.precise = true;
    if (inv[2] !== undefined) state.imm = BigInt(inv[2]);
    name = 'scalar';
    const open = rest.indexOf('(');
    if (open >= 0) inner = rest.slice(open + 1, rest.lastIndexOf(')') > open ? rest.lastIndexOf(')') : undefined);
  } else {
    const open = rest.indexOf('(');
    name = open >= 0 ? rest.slice(0, open) : rest;
    if (open >= 0) {
      const close = rest.lastIndexOf(')');
      inner = rest.slice(open + 1, close > open ? close : undefined);
    }
  }
  state.type = name || 'scalar';
  describeType(state);
  if (inner) readAttributes(state, inner);
  return state;
}

function describeType(state: RegisterState): void {
  let kind = state.type;
  let stripped = true;
  while (stripped) {
    stripped = false;
    for (const prefix of typePrefixes) {
      if (kind.startsWith(prefix) && kind.length > prefix.length) {
        kind = kind.slice(prefix.length);
        stripped = true;
      }
    }
  }
  if (kind.startsWith('ptr_')) {
    // BTF-typed pointers print as ptr_<type> or, maybe NULL, ptr_or_null_<type>.
    state.kind = 'ptr';
    let btf = kind.slice(4);
    if (btf.startsWith('or_null_')) {
      state.nullable = true;
      btf = btf.slice(8);
    }
    if (btf) state.btfType = btf;
    return;
  }
  if (kind.endsWith('_or_null')) {
    state.nullable = true;
    kind = kind.slice(0, -8);
  }
  state.kind = kind === 'inv' ? 'scalar' : kind;
}

function readAttributes(state: RegisterState, inner: string): void {
  // Split at commas outside parentheses: `var_off=(0x0; 0xff)` holds none, but keep to the rule.
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) depth--;
    else if (c === 44 && depth === 0) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  for (const part of parts) {
    const eq = part.lastIndexOf('=');
    if (eq < 0) {
      if (part.trim()) (state.extra ??= {})[part.trim()] = '';
      continue;
    }
    // `smin=umin=umin32=101` names one value several times.
    const keys = part.slice(0, eq).split('=');
    const value = part.slice(eq + 1);
    for (const rawKey of keys) {
      const key: string = oldBoundNames[rawKey] ?? rawKey;
      if (bound64.has(key)) {
        const v = toBigInt(value);
        if (v !== undefined) state.bounds[key as 'smin'] = v;
      } else if (bound32.has(key)) {
        const v = toNumber(value);
        if (v !== undefined) state.bounds[key as 'smin32'] = v;
      } else if (key === 'var_off') {
        const m = /^\(\s*(0x[0-9a-f]+|\d+)\s*;\s*(0x[0-9a-f]+|\d+)\s*\)$/i.exec(value);
        if (m) state.varOff = { value: BigInt(m[1]), mask: BigInt(m[2]) };
      } else if (key === 'imm') {
        // Older kernels print imm in hex without 0x.
        const v = /^-?[0-9a-f]+$/i.test(value)
          ? BigInt(`${value.startsWith('-') ? '-' : ''}0x${value.replace('-', '')}`)
          : undefined;
        if (v !== undefined) state.imm = v;
      } else if (
        key === 'id' ||
        key === 'ref_obj_id' ||
        key === 'off' ||
        key === 'r' ||
        key === 'sz' ||
        key === 'ks' ||
        key === 'vs'
      ) {
        const v = toNumber(value);
        if (v === undefined) {
          (state.extra ??= {})[key] = value;
          continue;
        }
        if (key === 'id') state.id = v;
        else if (key === 'ref_obj_id') state.refObjId = v;
        else if (key === 'off') state.off = v;
        else if (key === 'r') state.range = v;
        else if (key === 'sz') state.size = v;
        else if (key === 'ks') (state.map ??= {}).keySize = v;
        else (state.map ??= {}).valueSize = v;
      } else if (key === 'map') {
        (state.map ??= {}).name = value;
      } else {
        (state.extra ??= {})[key] = value;
      }
    }
  }
}
